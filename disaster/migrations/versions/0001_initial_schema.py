"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:04:25.832412
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('city',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('boundary', sa.LargeBinary(), nullable=True),
    sa.Column('boundary_source', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_city'))
    )
    op.create_table('consultation_centre',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('tel', sa.String(length=20), nullable=True),
    sa.Column('fax', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_centre')),
    sa.UniqueConstraint('kind', 'name', name=op.f('uq_consultation_centre_kind'))
    )
    op.create_table('dataset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('feature_count', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset')),
    sa.UniqueConstraint('kind', 'source', name=op.f('uq_dataset_kind'))
    )
    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('geom', sa.LargeBinary(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_district_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('city_code', 'name', name=op.f('uq_district_city_code'))
    )
    op.create_table('hazard_zone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=30), nullable=False),
    sa.Column('river_name', sa.String(length=80), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('landslide_kind', sa.Integer(), nullable=True),
    sa.Column('landslide_class', sa.Integer(), nullable=True),
    sa.Column('source_feature', sa.String(length=80), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('geom', sa.LargeBinary(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_hazard_zone_dataset_id_dataset'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_zone'))
    )
    with op.batch_alter_table('hazard_zone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_zone_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_zone_layer'), ['layer'], unique=False)

    op.create_table('shelter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('gsi_shelter_id', sa.String(length=20), nullable=True),
    sa.Column('gsi_emergency_id', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('is_emergency_site', sa.Boolean(), nullable=False),
    sa.Column('is_designated_shelter', sa.Boolean(), nullable=False),
    sa.Column('is_welfare_shelter', sa.Boolean(), nullable=False),
    sa.Column('hazard_flood', sa.Boolean(), nullable=False),
    sa.Column('hazard_landslide', sa.Boolean(), nullable=False),
    sa.Column('hazard_storm_surge', sa.Boolean(), nullable=False),
    sa.Column('hazard_earthquake', sa.Boolean(), nullable=False),
    sa.Column('hazard_tsunami', sa.Boolean(), nullable=False),
    sa.Column('hazard_fire', sa.Boolean(), nullable=False),
    sa.Column('hazard_inland_flood', sa.Boolean(), nullable=False),
    sa.Column('hazard_volcano', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('accepted_groups', sa.Text(), nullable=True),
    sa.Column('barrier_free', sa.Boolean(), nullable=True),
    sa.Column('elevator', sa.Boolean(), nullable=True),
    sa.Column('backup_power', sa.Boolean(), nullable=True),
    sa.Column('usable_floors', sa.Integer(), nullable=True),
    sa.Column('accepts_direct', sa.Boolean(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_shelter_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter')),
    sa.UniqueConstraint('code', name=op.f('uq_shelter_code'))
    )
    op.create_table('supporter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('supporter_no', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('relation', sa.String(length=20), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_supporter_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter')),
    sa.UniqueConstraint('city_code', 'supporter_no', name=op.f('uq_supporter_city_code'))
    )
    op.create_table('district_centre',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['consultation_centre.id'], name=op.f('fk_district_centre_centre_id_consultation_centre'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_district_centre_district_id_district'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_id', 'centre_id', name=op.f('pk_district_centre'))
    )
    op.create_table('resident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('resident_no', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kana', sa.String(length=80), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=4), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('care_level', sa.String(length=10), nullable=True),
    sa.Column('disability_types', sa.JSON(), nullable=False),
    sa.Column('disability_grade', sa.String(length=20), nullable=True),
    sa.Column('intractable_disease', sa.String(length=120), nullable=True),
    sa.Column('medical_devices', sa.JSON(), nullable=False),
    sa.Column('mobility', sa.String(length=10), nullable=True),
    sa.Column('communication_needs', sa.JSON(), nullable=False),
    sa.Column('other_needs', sa.Text(), nullable=True),
    sa.Column('lives_alone', sa.Boolean(), nullable=True),
    sa.Column('building_floors', sa.Integer(), nullable=True),
    sa.Column('bedroom_floor', sa.Integer(), nullable=True),
    sa.Column('can_use_stairs', sa.Boolean(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('consent_share', sa.Boolean(), nullable=False),
    sa.Column('consent_share_date', sa.Date(), nullable=True),
    sa.Column('consent_plan', sa.Boolean(), nullable=False),
    sa.Column('consent_plan_date', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_resident_city_code_city')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_resident_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident')),
    sa.UniqueConstraint('city_code', 'resident_no', name=op.f('uq_resident_city_code'))
    )
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_district_id'), ['district_id'], unique=False)

    op.create_table('care_professional',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('organisation', sa.String(length=120), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_care_professional_resident_id_resident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_professional'))
    )
    with op.batch_alter_table('care_professional', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_professional_resident_id'), ['resident_id'], unique=False)

    op.create_table('emergency_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_emergency_contact_resident_id_resident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_contact'))
    )
    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_contact_resident_id'), ['resident_id'], unique=False)

    op.create_table('resident_supporter',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_resident_supporter_resident_id_resident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporter.id'], name=op.f('fk_resident_supporter_supporter_id_supporter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'supporter_id', name=op.f('pk_resident_supporter'))
    )


def downgrade() -> None:
    op.drop_table('resident_supporter')
    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_contact_resident_id'))

    op.drop_table('emergency_contact')
    with op.batch_alter_table('care_professional', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_professional_resident_id'))

    op.drop_table('care_professional')
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_district_id'))

    op.drop_table('resident')
    op.drop_table('district_centre')
    op.drop_table('supporter')
    op.drop_table('shelter')
    with op.batch_alter_table('hazard_zone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_zone_layer'))
        batch_op.drop_index(batch_op.f('ix_hazard_zone_dataset_id'))

    op.drop_table('hazard_zone')
    op.drop_table('district')
    op.drop_table('dataset')
    op.drop_table('consultation_centre')
    op.drop_table('city')
