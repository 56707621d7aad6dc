"""安否確認: safety reports, shelter counts, trainings

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 04:00:00

``safety_check`` holds the reports of residents' safety (安否確認) during 災害時モード or a
training: status, where the person went, a note, who and when. ``shelter_count`` the reported
number of people at a shelter. ``safety_training`` the starts of a training on demo data. Reports
are append-only: triggers refuse changing one (only ``safety_check.shelter_id`` may still become
NULL, when the shelter is removed; the place's name stays in ``place``).
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REFUSAL = '安否確認の記録は追記のみです（変更はできません）'
# every column but safety_check.shelter_id (set to NULL by its foreign key when a shelter is removed)
FROZEN = {
    'safety_check': ('id', 'city_code', 'resident_id', 'training', 'status', 'place', 'note', 'recorded_by',
                     'recorded_role', 'recorded_at', 'disaster_modes', 'based_on'),
    'shelter_count': ('id', 'city_code', 'shelter_id', 'training', 'people', 'recorded_by', 'recorded_role',
                      'recorded_at', 'disaster_modes'),
}


def _sqlite_triggers() -> list[str]:
    return [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            for table, columns in FROZEN.items()]


def _postgresql_triggers() -> list[str]:
    return ["CREATE FUNCTION safety_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL} (%)', TG_OP; END $$",
            *(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(columns)} ON {table} "
              "FOR EACH ROW EXECUTE FUNCTION safety_append_only()" for table, columns in FROZEN.items())]


def upgrade() -> None:
    op.create_table('safety_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('training', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_role', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disaster_modes', sa.JSON(), nullable=False),
    sa.Column('based_on', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_safety_check_city_code_city')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_safety_check_resident_id_resident'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelter.id'], name=op.f('fk_safety_check_shelter_id_shelter'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_check'))
    )
    op.create_index(op.f('ix_safety_check_city_code'), 'safety_check', ['city_code'], unique=False)
    op.create_index(op.f('ix_safety_check_resident_id'), 'safety_check', ['resident_id'], unique=False)
    op.create_index(op.f('ix_safety_check_shelter_id'), 'safety_check', ['shelter_id'], unique=False)
    op.create_index(op.f('ix_safety_check_recorded_at'), 'safety_check', ['recorded_at'], unique=False)

    op.create_table('shelter_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('training', sa.Boolean(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_role', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disaster_modes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_shelter_count_city_code_city')),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelter.id'], name=op.f('fk_shelter_count_shelter_id_shelter'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_count'))
    )
    op.create_index(op.f('ix_shelter_count_city_code'), 'shelter_count', ['city_code'], unique=False)
    op.create_index(op.f('ix_shelter_count_shelter_id'), 'shelter_count', ['shelter_id'], unique=False)
    op.create_index(op.f('ix_shelter_count_recorded_at'), 'shelter_count', ['recorded_at'], unique=False)

    op.create_table('safety_training',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['city_code'], ['city.code'], name=op.f('fk_safety_training_city_code_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_training'))
    )
    op.create_index(op.f('ix_safety_training_city_code'), 'safety_training', ['city_code'], unique=False)

    triggers = _postgresql_triggers() if op.get_bind().dialect.name == 'postgresql' else _sqlite_triggers()
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f('ix_safety_training_city_code'), table_name='safety_training')
    op.drop_table('safety_training')
    op.drop_index(op.f('ix_shelter_count_recorded_at'), table_name='shelter_count')
    op.drop_index(op.f('ix_shelter_count_shelter_id'), table_name='shelter_count')
    op.drop_index(op.f('ix_shelter_count_city_code'), table_name='shelter_count')
    op.drop_table('shelter_count')  # drops its trigger with it
    op.drop_index(op.f('ix_safety_check_recorded_at'), table_name='safety_check')
    op.drop_index(op.f('ix_safety_check_shelter_id'), table_name='safety_check')
    op.drop_index(op.f('ix_safety_check_resident_id'), table_name='safety_check')
    op.drop_index(op.f('ix_safety_check_city_code'), table_name='safety_check')
    op.drop_table('safety_check')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION safety_append_only()')
