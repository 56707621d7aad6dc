"""address points (MLIT 位置参照情報) and the geocoding level of residents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('town', sa.String(length=120), nullable=False),
    sa.Column('block', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_address_point_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_point')),
    sa.UniqueConstraint('city_code', 'level', 'town', 'block', name=op.f('uq_address_point_city_code'))
    )
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_level', sa.String(length=12), nullable=False,
                                      server_default='coordinates'))


def downgrade() -> None:
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_column('location_level')
    op.drop_table('address_point')
