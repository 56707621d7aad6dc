"""Stored assessment results name their run without a foreign key

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 08:00:00

A run that changes every result rewrites every row of ``assessment`` with the new run's id, and
a foreign key on ``run_id`` made the database look the run up again for each row: on
PostgreSQL 100,000 lookups, 0.3–0.6 s of the server's upsert, and a whole run at 100,000
residents took 4.65–4.90 s instead of 5.22–5.71 s (four runs each, in turns). The reference
still holds by construction: a run writes only its own id, in the transaction that inserts the
run, and runs are never deleted (a city with runs cannot be unregistered). The other keys of a
result (resident, shelters) keep their foreign keys: they are checked only when their value
changes, and deleting a resident or a shelter must reach its results.
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_constraint('fk_assessment_run_id_assessment_run', type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.create_foreign_key('fk_assessment_run_id_assessment_run', 'assessment_run', ['run_id'], ['id'],
                                 ondelete='CASCADE')
