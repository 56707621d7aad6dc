"""assessment results and resident destination choice

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:15:16.129445
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data_versions', sa.JSON(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('resident_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_run'))
    )
    op.create_table('assessment',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('flood_l1_rank', sa.Integer(), nullable=True),
    sa.Column('flood_l2_rank', sa.Integer(), nullable=True),
    sa.Column('duration_rank', sa.Integer(), nullable=True),
    sa.Column('collapse_flow', sa.Boolean(), nullable=False),
    sa.Column('collapse_erosion', sa.Boolean(), nullable=False),
    sa.Column('inland_rank', sa.Integer(), nullable=True),
    sa.Column('landslide_kind', sa.Integer(), nullable=True),
    sa.Column('landslide_class', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('decision_reasons', sa.JSON(), nullable=False),
    sa.Column('required_floor', sa.Integer(), nullable=True),
    sa.Column('reachable_floor', sa.Integer(), nullable=True),
    sa.Column('destination_kind', sa.String(length=20), nullable=True),
    sa.Column('destination_shelter_id', sa.Integer(), nullable=True),
    sa.Column('destination_text', sa.String(length=200), nullable=True),
    sa.Column('destination_reasons', sa.JSON(), nullable=False),
    sa.Column('second_shelter_id', sa.Integer(), nullable=True),
    sa.Column('welfare_needed', sa.Boolean(), nullable=False),
    sa.Column('welfare_unplaced', sa.Boolean(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('walk_speed_mps', sa.Float(), nullable=True),
    sa.Column('travel_min', sa.Float(), nullable=True),
    sa.Column('prepare_min', sa.Float(), nullable=True),
    sa.Column('start_margin_min', sa.Float(), nullable=True),
    sa.Column('crosses_deep_water', sa.Boolean(), nullable=False),
    sa.Column('priority_score', sa.Integer(), nullable=False),
    sa.Column('priority_reasons', sa.JSON(), nullable=False),
    sa.Column('supporter_count', sa.Integer(), nullable=False),
    sa.Column('supporter_issues', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['destination_shelter_id'], ['shelter.id'], name=op.f('fk_assessment_destination_shelter_id_shelter'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_assessment_resident_id_resident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['assessment_run.id'], name=op.f('fk_assessment_run_id_assessment_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_shelter_id'], ['shelter.id'], name=op.f('fk_assessment_second_shelter_id_shelter'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_priority_score'), ['priority_score'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_shelter_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('preferred_destination', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_column('preferred_destination')
        batch_op.drop_column('preferred_shelter_code')

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_run_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_priority_score'))

    op.drop_table('assessment')
    op.drop_table('assessment_run')
