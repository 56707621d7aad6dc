"""災害時モード declarations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 22:45:00

``disaster_mode`` holds the city administrators' declarations of 災害時モード (災害対策基本法
49条の11③, 49条の15③): reason, 校区 (empty: all), start and end, and an early end.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disaster_mode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('declared_by', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('districts', sa.JSON(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_disaster_mode_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disaster_mode'))
    )
    with op.batch_alter_table('disaster_mode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disaster_mode_city_code'), ['city_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('disaster_mode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disaster_mode_city_code'))
    op.drop_table('disaster_mode')
