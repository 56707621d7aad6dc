"""A digest of each stored assessment result

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 20:00:00

A run stores only the results that changed: each row keeps a digest of what is stored of it
(every column but the run and the digest itself, ``usecases.assess.result_digests``), and a run
rewrites the rows whose new digest differs. Rows stored before have none, so the first run
after this migration rewrites them all.
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.add_column(sa.Column('result_digest', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_column('result_digest')
