"""Index residents by city and district

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 11:00:00

Per-district figures of a city (the summary after every run) group the city's results by
district. Without this index SQLite read the city's residents in the order of their numbers and
sorted every row with its figures' columns by district: at 100,000 residents the counts took
0.15 s; read district by district from this index, with no sort, 0.08 s.
"""

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_resident_city_code_district_id', 'resident', ['city_code', 'district_id'])


def downgrade() -> None:
    op.drop_index('ix_resident_city_code_district_id', table_name='resident')
