"""Incremental assessment: residents whose inputs changed, and their part in the 福祉避難所 planning

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 10:00:00

``assessment_pending`` lists the residents whose assessment inputs changed since their city's
last run; triggers fill it on every write to resident, supporter (its residents),
resident_supporter (the resident and everyone of that supporter, whose load changed) and
welfare_agreement, whatever code writes. ``assessment.welfare_candidates``: the 福祉避難所 places
a seeking resident reaches in time, as JSON ``[[shelter_id, cost], ...]`` (NULL: not seeking
one); ``assessment.claimed_shelter_id``: the shelter whose place the resident's own choice takes.
With them an edit re-plans the places from the stored requests instead of recomputing everyone
who seeks one. Results stored before have neither; the next run recomputes everyone
(``usecases.assess.RESULT_FORMAT`` is part of what every result depends on).
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# (table, events, rows of resident (id, city_code) to list; NEW/OLD as the event has them)
_RESIDENT = "SELECT {row}.id, {row}.city_code"
_OF_LINK = ("SELECT id, city_code FROM resident WHERE id IN "
            "(SELECT {row}.resident_id UNION SELECT resident_id FROM resident_supporter WHERE supporter_id = {row}.supporter_id)")
_OF_SUPPORTER = ("SELECT resident.id, resident.city_code FROM resident JOIN resident_supporter "
                 "ON resident_supporter.resident_id = resident.id WHERE resident_supporter.supporter_id = {row}.id")
_OF_AGREEMENT = "SELECT id, city_code FROM resident WHERE id = {row}.resident_id"
TRIGGERS = {
    'resident': ({'INSERT': ['NEW'], 'UPDATE': ['NEW'], 'DELETE': ['OLD']}, _RESIDENT),
    'supporter': ({'UPDATE': ['NEW']}, _OF_SUPPORTER),
    'resident_supporter': ({'INSERT': ['NEW'], 'DELETE': ['OLD']}, _OF_LINK),
    'welfare_agreement': ({'INSERT': ['NEW'], 'UPDATE': ['OLD', 'NEW'], 'DELETE': ['OLD']}, _OF_AGREEMENT),
}


def _inserts(select: str, rows: list[str]) -> str:
    return " ".join(f"INSERT INTO assessment_pending (resident_id, city_code) {select.format(row=row)};" for row in rows)


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('welfare_candidates', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('claimed_shelter_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessment_claimed_shelter_id_shelter'), 'shelter',
                                    ['claimed_shelter_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('resident_supporter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_supporter_supporter_id'), ['supporter_id'], unique=False)
    op.create_table('assessment_pending',
                    sa.Column('resident_id', sa.Integer(), nullable=False),
                    sa.Column('city_code', sa.String(length=6), nullable=False))
    with op.batch_alter_table('assessment_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_pending_city_code'), ['city_code'], unique=False)
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, (events, select) in TRIGGERS.items():
        for event, rows in events.items():
            name = f'assessment_pending_{table}_{event.lower()}'
            if postgresql:
                op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                           f"{_inserts(select, rows)} RETURN NULL; END $$")
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
            else:
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {_inserts(select, rows)} END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, (events, _) in TRIGGERS.items():
        for event in events:
            name = f'assessment_pending_{table}_{event.lower()}'
            op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
            if postgresql:
                op.execute(f"DROP FUNCTION {name}()")
    op.drop_table('assessment_pending')
    with op.batch_alter_table('resident_supporter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_supporter_supporter_id'))
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_claimed_shelter_id_shelter'), type_='foreignkey')
        batch_op.drop_column('claimed_shelter_id')
        batch_op.drop_column('welfare_candidates')
