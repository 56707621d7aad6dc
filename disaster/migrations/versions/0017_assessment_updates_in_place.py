"""Let PostgreSQL update assessment results in place

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 23:00:00

A run that changes every result updates every row of ``assessment``, and each row names its
run. With an index on ``run_id`` every new row version needed new index entries; without it,
and with half of each page left free (PostgreSQL's ``fillfactor``), the new version goes on the
same page with no index entry at all (a "HOT" update). At 100,000 residents the server's upsert
took 1.0–1.1 s instead of 1.4–1.6 s. Nothing reads results by run: the index only served
deleting a run, which happens when its city is unregistered, and a city with residents (so
with results) cannot be. Rows stored before this migration move to half-filled pages as the
next run rewrites them. SQLite has no such setting; its index goes too.
"""

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_assessment_run_id', table_name='assessment')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE assessment SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE assessment RESET (fillfactor)')
    op.create_index('ix_assessment_run_id', 'assessment', ['run_id'])
