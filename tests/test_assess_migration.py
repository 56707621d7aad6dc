"""Migration 0013 converts the reasons stored as whole texts (revision 0012) into message keys
with parameters; afterwards every plan, page and export reads exactly the same texts, also
after migration 0020 (on PostgreSQL the columns become text, their values kept). Migration
0014 adds each resident's stored part in the 福祉避難所 planning; results stored before it are
recomputed by the next run."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from disaster.db import alembic_config
from disaster.models import AssessmentRun
from disaster.usecases.assess import SHARED, load_inputs, run_assessment, shared_digest
from disaster.usecases.demo import load_demo
from tests.assess_fixtures import REASON_FIELDS, golden_texts, result_rows, stored_texts
from tests.conftest import BUNDLE, KURUME

OLD_WORDING = "以前の版の文言で、いまの文例にはない理由です。"


def _as_at_0012(engine: sa.Engine, texts: dict[str, dict[str, list[list[str]]]]) -> None:
    """Store the reasons the way revision 0012 held them: ``{"code", "text"}`` records."""
    assessment = sa.table("assessment", sa.column("resident_id", sa.Integer), *(sa.column(f, sa.JSON) for f in REASON_FIELDS))
    resident = sa.table("resident", sa.column("id", sa.Integer), sa.column("resident_no", sa.String))
    with engine.begin() as connection:
        ids = dict(connection.execute(sa.select(resident.c.resident_no, resident.c.id)).all())
        connection.execute(
            sa.update(assessment).where(assessment.c.resident_id == sa.bindparam("rid"))
            .values({f: sa.bindparam(f"v_{f}", type_=sa.JSON) for f in REASON_FIELDS}),
            [{"rid": ids[no], **{f"v_{f}": [{"code": c, "text": t} for c, t in fields[f]] for f in REASON_FIELDS}}
             for no, fields in texts.items()])


def test_stored_results_of_revision_0012_read_the_same_after_the_upgrade(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    config = alembic_config(store.engine)
    command.downgrade(config, "0012")
    texts = golden_texts()
    first = sorted(texts)[0]
    texts[first]["decision_reasons"][0][1] = OLD_WORDING  # a text no message of this version gives
    _as_at_0012(store.engine, texts)
    with store.engine.connect() as connection:
        assert "inputs_digest" not in {c["name"] for c in sa.inspect(connection).get_columns("assessment")}

    command.upgrade(config, "head")

    assert stored_texts(store.sessions, KURUME) == texts
    with store.engine.connect() as connection:
        raw = connection.execute(sa.text(f"SELECT {', '.join(REASON_FIELDS)} FROM assessment")).all()
    entries = [entry for row in raw for value in row for entry in (json.loads(value) if isinstance(value, str) else value)]
    kept = [entry for entry in entries if isinstance(entry, dict)]
    assert kept == [{"code": texts[first]["decision_reasons"][0][0], "text": OLD_WORDING}]
    assert len(entries) > 20_000 and all(isinstance(entry, list) for entry in entries if entry not in kept)


def test_results_stored_before_revision_0014_are_all_recomputed_by_the_next_run(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    expected = result_rows(store.engine, KURUME)
    config = alembic_config(store.engine)
    command.downgrade(config, "0013")
    with store.sessions() as session, session.begin():  # the run as revision 0013's code recorded it
        run = session.scalars(sa.select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()
        assert run is not None
        before = {k: v for k, v in run.parameters.items() if k not in ("result_format", "reassessed")}
        run.data_versions = run.data_versions | {SHARED: shared_digest(load_inputs(session, KURUME), before)}
        run.parameters = before | {"reassessed": run.resident_count}
    command.upgrade(config, "head")
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM assessment WHERE welfare_candidates IS NOT NULL")
                                  ).scalar() == 0

    run_assessment(store.sessions, KURUME)  # not asked for a full run: results of an older format make it one

    with store.sessions() as session:
        run = session.scalars(sa.select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()
    assert run is not None and run.parameters["reassessed"] == run.resident_count and run.parameters["result_format"] == 14
    assert result_rows(store.engine, KURUME) == expected
