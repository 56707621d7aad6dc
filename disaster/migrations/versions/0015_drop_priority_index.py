"""Drop the index on assessment.priority_score

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 17:00:00

Keeping it up to date cost every whole-city run: at 100,000 residents 0.4 s of PostgreSQL's
COPY and 0.1 s of SQLite's inserts. Lists reach a 校区's or a city's results by the resident's
own indexes and sort by ``coalesce(priority_score, -1)``, which the index does not give; only a
city-wide list filtered by a minimum priority used it, and reads the city's results instead
(SQLite, 100,000 residents, its first page: 35–50 ms instead of 20 ms).
"""

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_assessment_priority_score', table_name='assessment')


def downgrade() -> None:
    op.create_index('ix_assessment_priority_score', 'assessment', ['priority_score'])
