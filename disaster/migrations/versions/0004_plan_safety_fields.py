"""plan safety fields: welfare agreements, information and daytime situation, transport and route

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('welfare_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_welfare_agreement_resident_id_resident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelter.id'], name=op.f('fk_welfare_agreement_shelter_id_shelter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_welfare_agreement')),
    sa.UniqueConstraint('resident_id', 'shelter_id', name=op.f('uq_welfare_agreement_resident_id'))
    )
    with op.batch_alter_table('welfare_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_welfare_agreement_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_welfare_agreement_shelter_id'), ['shelter_id'], unique=False)

    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('info_reception', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('home_floor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('daytime_situation', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('night_situation', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('day_service', sa.String(length=200), nullable=True))

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('travel_mode', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('walk_min', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('start_trigger', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('destination_floor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('welfare_shelter_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('welfare_direct', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f('fk_assessment_welfare_shelter_id_shelter'), 'shelter', ['welfare_shelter_id'],
                                    ['id'], ondelete='SET NULL')
        batch_op.add_column(sa.Column('route', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('route_is_road', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_welfare_shelter_id_shelter'), type_='foreignkey')
        for column in ('route_is_road', 'route', 'welfare_direct', 'welfare_shelter_id', 'destination_floor', 'start_trigger', 'walk_min',
                       'travel_mode'):
            batch_op.drop_column(column)
    with op.batch_alter_table('resident', schema=None) as batch_op:
        for column in ('day_service', 'night_situation', 'daytime_situation', 'home_floor', 'info_reception'):
            batch_op.drop_column(column)
    with op.batch_alter_table('welfare_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_welfare_agreement_shelter_id'))
        batch_op.drop_index(batch_op.f('ix_welfare_agreement_resident_id'))
    op.drop_table('welfare_agreement')
