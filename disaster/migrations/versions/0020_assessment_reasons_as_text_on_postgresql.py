"""Stored reasons in text columns on PostgreSQL

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 11:30:00

The four reason columns of ``assessment`` hold JSON text that only this code writes and reads
(``models.StoredReasons``). As ``json`` columns, PostgreSQL parsed every value it stored to
check it: copying 100,000 results into a table with them took 0.40–0.43 s, 0.29–0.30 s with
``text`` ones (4 each, in turns). The texts are kept as they are. SQLite stores JSON as text
already: nothing changes there.
"""

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

COLUMNS = ('decision_reasons', 'destination_reasons', 'priority_reasons', 'supporter_issues')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE assessment ' + ', '.join(f'ALTER COLUMN {c} TYPE text USING {c}::text' for c in COLUMNS))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE assessment ' + ', '.join(f'ALTER COLUMN {c} TYPE json USING {c}::json' for c in COLUMNS))
