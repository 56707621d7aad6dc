"""The resident's part in the 福祉避難所 planning, stored with the result

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 10:00:00

``assessment.welfare_candidates``: the 福祉避難所 places a seeking resident reaches in time, as
JSON ``[[shelter_id, cost], ...]`` (NULL: not seeking one); ``assessment.claimed_shelter_id``:
the shelter whose place the resident's own choice takes. With them an edit re-plans the places
from the stored requests instead of recomputing everyone who seeks one. Results stored before
have neither; the next run recomputes everyone (``usecases.assess.RESULT_FORMAT`` is part of
what every result depends on).
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('welfare_candidates', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('claimed_shelter_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessment_claimed_shelter_id_shelter'), 'shelter',
                                    ['claimed_shelter_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_claimed_shelter_id_shelter'), type_='foreignkey')
        batch_op.drop_column('claimed_shelter_id')
        batch_op.drop_column('welfare_candidates')
