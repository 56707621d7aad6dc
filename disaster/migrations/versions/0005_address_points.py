"""address points (MLIT 位置参照情報) and the geocoding level of residents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:40:00
"""

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
