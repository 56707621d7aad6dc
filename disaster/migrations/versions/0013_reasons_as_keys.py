"""Assessment reasons stored as message keys with parameters; per-resident input digests

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 06:30:00

Each stored reason ``{"code": ..., "text": ...}`` becomes ``[key, {params}]``, the message key
and parameters that give exactly that text from the message table (``analysis.reasons``); a
text no message gives (wording of an older version) is kept as it is and still shown verbatim.
``assessment.inputs_digest``: what the resident's result was computed from, so that a
re-assessment recomputes only the residents whose inputs changed (NULL: recompute).
"""

import sqlalchemy as sa
from alembic import op

from disaster.analysis.reasons import said_from_text, shown

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = ('decision_reasons', 'destination_reasons', 'priority_reasons', 'supporter_issues')
BATCH = 2000


def _as_keys(reasons: list | None) -> list | None:
    if reasons is None:
        return None
    out = []
    for r in reasons:
        said = said_from_text(r['code'], r['text']) if isinstance(r, dict) else None
        out.append(said.stored() if said is not None else r)
    return out


def _as_texts(reasons: list | None) -> list | None:
    return shown(reasons)


def _convert(change) -> None:  # type: ignore[no-untyped-def]
    table = sa.table('assessment', sa.column('resident_id', sa.Integer), *(sa.column(c, sa.JSON) for c in COLUMNS))
    bind = op.get_bind()
    last = -1
    while True:
        rows = bind.execute(sa.select(table).where(table.c.resident_id > last)
                            .order_by(table.c.resident_id).limit(BATCH)).all()
        if not rows:
            return
        update = sa.update(table).where(table.c.resident_id == sa.bindparam('rid')) \
            .values({c: sa.bindparam(f'v_{c}', type_=sa.JSON) for c in COLUMNS})
        bind.execute(update, [{'rid': row.resident_id, **{f'v_{c}': change(getattr(row, c)) for c in COLUMNS}}
                              for row in rows])
        last = rows[-1].resident_id


def upgrade() -> None:
    _convert(_as_keys)
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_digest', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('inputs_digest')
    _convert(_as_texts)
