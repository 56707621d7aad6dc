"""Writing the engine's result: its columns as the database driver receives them
(``usecases.assess._values``: the whole-column conversion gives what converting value by value
gives), and the stored rows, which are the engine's result column by column on both databases
(COPY and an upsert on PostgreSQL; on SQLite, INSERTs that name only the columns a group of rows
fills, made in a child process when there are several batches), also where a run writes over
stored results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text, update

from disaster.ahead import in_child
from disaster.analysis.engine import AssessmentParameters
from disaster.models import Assessment, AssessmentRun, HazardZone
from disaster.profile import load_profile
from disaster.usecases import assess as assess_usecase
from disaster.usecases.assess import (
    DIGESTED,
    NONE_BELOW,
    _assessed,
    _values,
    load_inputs,
    result_digests,
    run_assessment,
    stored_form,
)
from disaster.usecases.demo import load_demo
from tests.assess_fixtures import STORED, stored_as_the_engine_computes
from tests.conftest import BUNDLE, KURUME


def test_whole_column_conversion_is_the_value_by_value_one() -> None:
    rng = np.random.default_rng(15)
    n = 1000
    floats = rng.normal(size=n)
    floats[rng.random(n) < 0.2] = np.nan
    result = pd.DataFrame({
        "flood_l1_rank": rng.integers(-1, 6, n),  # NONE_BELOW 1: 0 and -1 mean none
        "destination_shelter_id": rng.integers(-1, 50, n),  # NONE_BELOW 0: -1 means none
        "landslide_class": rng.integers(1, 5, n),  # every value present
        "distance_m": floats,
        "walk_speed_mps": np.abs(floats[~np.isnan(floats)][:1].repeat(n)),  # no NaN
        "destination_text": pd.Series(rng.choice(np.array(["公民館", None, np.nan], dtype=object), n), dtype=object),
        "route": pd.Series(rng.choice(np.array([b"\x01\x02", None], dtype=object), n), dtype=object),
        "destination_floor": pd.Series(rng.choice(np.array([np.int64(3), 2, None], dtype=object), n), dtype=object),
    })
    for column in result.columns:
        values = result[column].tolist()
        if column in NONE_BELOW:
            expected = [int(v) if v >= NONE_BELOW[column] else None for v in values]
        else:  # NaN and None are NULL; numpy's numbers are Python's
            expected = [None if v is None or v != v else v.item() if isinstance(v, np.generic) else v for v in values]
        got = _values(result, column)
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]


def test_the_stored_rows_are_the_engines_result_column_by_column(demo_store) -> None:
    """The demo's stored results (written by its whole-city run) against the engine's result for
    the same inputs: every column, NULL where the engine gave none, in each of the row groups the
    SQLite writer makes (which columns hold a value differs between rows)."""
    stored = stored_as_the_engine_computes(demo_store.sessions)
    nulls = {column: sum(row[k] is None for row in stored) for k, column in enumerate(STORED)}
    assert 0 < nulls["welfare_candidates"] < len(stored)  # rows of several groups were written
    assert 0 < nulls["flood_l1_rank"] < len(stored)


def test_a_results_digest_changes_with_any_stored_value(demo_store) -> None:
    """``result_digests``: one resident's value of any stored column set to another resident's
    different value (NULL included; a made-up one where all residents have the same) changes that
    resident's digest and no other's."""
    profile = load_profile(KURUME)
    with demo_store.sessions() as session:
        result = _assessed(load_inputs(session, KURUME),
                           AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs), None)
    result = stored_form(result).sort_values("resident_id", ignore_index=True)
    digests = result_digests(result)
    for column in DIGESTED:
        stored = _values(result, column)
        values = result[column].tolist()
        other = next((k for k, value in enumerate(stored) if value != stored[0]), None)
        values[0] = values[other] if other is not None else _another(values[0])
        edited = result.assign(**{column: pd.Series(values, dtype=result[column].dtype)})
        assert _values(edited, column)[0] != stored[0]
        again = result_digests(edited)
        assert again[0] != digests[0] and (again[1:] == digests[1:]).all(), column


def _another(value: object) -> object:
    """A value of the same column that is stored differently from ``value``."""
    if isinstance(value, bool):
        return not value
    if value is None:
        return "x"
    if isinstance(value, float) and np.isnan(value):
        return 1.5
    return value + 5 if isinstance(value, int | float) else None


def test_a_run_over_stored_results_rewrites_exactly_the_changed_ones(store, monkeypatch) -> None:
    """Whole-city runs over stored results (upserts): run again with nothing changed, everyone is
    computed and nothing written; with every hazard rank lowered to the lowest, then put back,
    each run's stored rows are the engine's result column by column (many values changed, some
    turned NULL and back), and each run rewrote exactly the rows whose result changed: those name
    it, the others keep the run that wrote them. The runs write in batches of 700 rows (3,000
    residents), so on SQLite the rows are made in a child process."""
    monkeypatch.setattr(assess_usecase, "BATCH", 700)
    children = []
    monkeypatch.setattr(assess_usecase, "in_child", lambda items: children.append(1) or in_child(items))
    load_demo(store.engine, store.sessions, BUNDLE)
    z = HazardZone.__table__.c
    with store.sessions() as session:
        ranks = dict(session.execute(select(z.id, z.rank).where(z.rank > 1)).all())
    before, runs = stored_as_the_engine_computes(store.sessions), _runs(store.sessions)
    run_assessment(store.sessions, KURUME, full=True)
    _assert_rewritten(store.sessions, before, before, runs)
    _set_ranks(store.sessions, dict.fromkeys(ranks, 1))
    lowered = stored_as_the_engine_computes(store.sessions)
    runs = _assert_rewritten(store.sessions, before, lowered, runs)
    _set_ranks(store.sessions, ranks)
    assert stored_as_the_engine_computes(store.sessions) == before
    _assert_rewritten(store.sessions, lowered, before, runs)
    pairs = list(zip(before, lowered, strict=True))
    changed = {column: sum(old[k] != new[k] for old, new in pairs) for k, column in enumerate(STORED)}
    emptied = {column: sum(old[k] is not None and new[k] is None for old, new in pairs) for k, column in enumerate(STORED)}
    assert min(changed["decision"], changed["destination_shelter_id"], changed["route"], changed["priority_score"]) > 100
    assert emptied["welfare_candidates"] > 100  # no longer seeking a 福祉避難所 place
    assert bool(children) == (store.engine.dialect.name == "sqlite")


def _runs(sessions) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Which run wrote each stored result."""
    with sessions() as session:
        return dict(session.execute(select(Assessment.resident_id, Assessment.run_id)).all())


def _assert_rewritten(sessions, old: list[tuple], new: list[tuple], runs: dict[int, int]) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """The latest run computed everyone and wrote exactly the rows that differ from ``old`` (and
    only those name it); returns which run wrote each row now."""
    with sessions() as session:
        latest = session.scalars(select(AssessmentRun).order_by(AssessmentRun.id.desc()).limit(1)).one()
    differ = {o[0] for o, n in zip(old, new, strict=True) if o != n}
    assert latest.parameters["reassessed"] == len(new) and latest.parameters["rewritten"] == len(differ)
    now = _runs(sessions)
    assert now == {rid: latest.id if rid in differ else run for rid, run in runs.items()}
    return now


def _set_ranks(sessions, ranks: dict[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Give hazard zones new ranks and run the assessment (a zone changed: the whole city)."""
    z = HazardZone.__table__.c
    with sessions() as session, session.begin():
        for zone_id, rank in ranks.items():
            session.execute(update(HazardZone).where(z.id == zone_id).values(rank=rank))
    run_assessment(sessions, KURUME)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_run_that_changes_every_result_updates_each_row_in_place_on_postgresql(store, monkeypatch) -> None:
    """PostgreSQL writes a row's new version on the page of the old one, with no new index entry
    (a "HOT" update), when the page has room and no indexed column changed: the results table
    leaves room on each page and has no index on the run (migration 0017). A run by night
    changes nearly every resident's result (walking speeds)."""
    load_demo(store.engine, store.sessions, BUNDLE)
    counts = []
    write = assess_usecase._write
    updates = text("SELECT pg_stat_get_xact_tuples_updated(oid), pg_stat_get_xact_tuples_hot_updated(oid) "
                   "FROM pg_class WHERE relname = 'assessment'")  # this connection's, not yet reported

    def counted(session, batches, apart: bool) -> int:  # type: ignore[no-untyped-def]
        before = session.execute(updates).one()
        written = write(session, batches, apart)
        counts.append([after - earlier for after, earlier in zip(session.execute(updates).one(), before, strict=True)])
        return written

    monkeypatch.setattr(assess_usecase, "_write", counted)
    run = run_assessment(store.sessions, KURUME, night=True)
    with store.sessions() as session:
        residents = session.scalar(select(func.count()).select_from(Assessment))
        rewritten = session.get_one(AssessmentRun, run).parameters["rewritten"]
    [(updated, in_place)] = counts
    assert updated == rewritten > 0.9 * residents
    assert in_place > 0.75 * updated  # (the new versions that grew past the room left move: 8 % here)
