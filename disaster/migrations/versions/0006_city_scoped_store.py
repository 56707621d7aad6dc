"""city-scoped store: every table reachable by city

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:40:00

Datasets, consultation centres and assessment runs get a ``city_code``; shelter codes and
exercise-session keys become unique per city (per district). Rows of an older store are given
the store's city: a centre the city of its 校区, a run the city of its residents, anything else
the city with the most 校区 (an older store held one city).
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NEW_CITY_COLUMNS = ('dataset', 'consultation_centre', 'assessment_run')


def _store_city(connection: sa.Connection) -> str | None:
    return connection.execute(sa.text(
        "SELECT c.code FROM city c ORDER BY (SELECT count(*) FROM district d WHERE d.city_code = c.code) DESC, c.code"
    )).scalars().first()


def upgrade() -> None:
    for table in NEW_CITY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('city_code', sa.String(length=6), nullable=True))

    connection = op.get_bind()
    city = _store_city(connection)
    rows = sum(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in NEW_CITY_COLUMNS)
    if rows and city is None:
        raise RuntimeError("市町村が登録されていないため、既存のデータをどの市町村のものにするか決められません。"
                           "0005 版のまま `disaster init` で市町村を登録してから、もう一度実行してください。")
    connection.execute(sa.text(
        "UPDATE consultation_centre SET city_code = COALESCE((SELECT d.city_code FROM district_centre dc "
        "JOIN district d ON d.id = dc.district_id WHERE dc.centre_id = consultation_centre.id "
        "ORDER BY d.id LIMIT 1), :city)"), {"city": city})
    connection.execute(sa.text(
        "UPDATE assessment_run SET city_code = COALESCE((SELECT r.city_code FROM assessment a "
        "JOIN resident r ON r.id = a.resident_id WHERE a.run_id = assessment_run.id "
        "ORDER BY r.id LIMIT 1), :city)"), {"city": city})
    connection.execute(sa.text("UPDATE dataset SET city_code = :city"), {"city": city})

    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.alter_column('city_code', existing_type=sa.String(length=6), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_dataset_city_code_city'), 'city', ['city_code'], ['code'])
        batch_op.drop_constraint(batch_op.f('uq_dataset_kind'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_dataset_city_code'), ['city_code', 'kind', 'source'])
    with op.batch_alter_table('consultation_centre', schema=None) as batch_op:
        batch_op.alter_column('city_code', existing_type=sa.String(length=6), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_consultation_centre_city_code_city'), 'city', ['city_code'], ['code'])
        batch_op.drop_constraint(batch_op.f('uq_consultation_centre_kind'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_consultation_centre_city_code'), ['city_code', 'kind', 'name'])
    with op.batch_alter_table('assessment_run', schema=None) as batch_op:
        batch_op.alter_column('city_code', existing_type=sa.String(length=6), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_assessment_run_city_code_city'), 'city', ['city_code'], ['code'])
        batch_op.create_index(batch_op.f('ix_assessment_run_city_code'), ['city_code'], unique=False)
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_shelter_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_shelter_city_code'), ['city_code', 'code'])
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_exercise_session_record_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_exercise_session_district_id'), ['district_id', 'record_key'])


def downgrade() -> None:
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_exercise_session_district_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_exercise_session_record_key'), ['record_key'])
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_shelter_city_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_shelter_code'), ['code'])
    with op.batch_alter_table('assessment_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_run_city_code'))
        batch_op.drop_constraint(batch_op.f('fk_assessment_run_city_code_city'), type_='foreignkey')
        batch_op.drop_column('city_code')
    with op.batch_alter_table('consultation_centre', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_consultation_centre_city_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_consultation_centre_kind'), ['kind', 'name'])
        batch_op.drop_constraint(batch_op.f('fk_consultation_centre_city_code_city'), type_='foreignkey')
        batch_op.drop_column('city_code')
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_dataset_city_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_dataset_kind'), ['kind', 'source'])
        batch_op.drop_constraint(batch_op.f('fk_dataset_city_code_city'), type_='foreignkey')
        batch_op.drop_column('city_code')
