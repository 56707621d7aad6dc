"""Writing the engine's result: its columns as the database driver receives them
(``usecases.assess._values``: the whole-column conversion gives what converting value by value
gives), the batches made ahead in a worker thread (``_prefetched``), and the stored rows, which
are the engine's result column by column on both databases (COPY and an upsert on PostgreSQL; on
SQLite, INSERTs that name only the columns a group of rows fills), also where a run writes over
stored results."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Text, cast, select, update

from disaster.analysis.engine import AssessmentParameters
from disaster.models import Assessment, HazardZone
from disaster.profile import load_profile
from disaster.usecases.assess import (
    COLUMNS,
    NONE_BELOW,
    REASON_COLUMNS,
    _assessed,
    _prefetched,
    _values,
    load_inputs,
    run_assessment,
)
from disaster.usecases.demo import load_demo
from tests.conftest import BUNDLE, KURUME

STORED = [c for c in COLUMNS if c != "run_id"]


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
    })
    for column in result.columns:
        values = result[column].tolist()
        if column in NONE_BELOW:
            expected = [int(v) if v >= NONE_BELOW[column] else None for v in values]
        else:
            expected = [None if v != v else v for v in values]
        got = _values(result, column, {})
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]


def test_prefetched_batches_come_in_order_and_failures_reach_the_caller() -> None:
    assert list(_prefetched(iter([[1], [2, 3], [4]]))) == [[1], [2, 3], [4]]

    def failing() -> Iterator[list[int]]:
        yield [1]
        raise ValueError("conversion failed")

    with pytest.raises(ValueError, match="conversion failed"):
        list(_prefetched(failing()))
    made = []

    def counted() -> Iterator[list[int]]:
        for k in range(100):
            made.append(k)
            yield [k]

    with pytest.raises(RuntimeError):  # the writer fails: no more batches are made
        for batch in _prefetched(counted()):
            if batch == [3]:
                raise RuntimeError("insert failed")
    assert made == [0, 1, 2, 3, 4]


def test_the_stored_rows_are_the_engines_result_column_by_column(demo_store) -> None:
    """The demo's stored results (written by its whole-city run) against the engine's result for
    the same inputs: every column, NULL where the engine gave none, in each of the row groups the
    SQLite writer makes (which columns hold a value differs between rows)."""
    stored = _stored_as_the_engine_computes(demo_store.sessions)
    nulls = {column: sum(row[k] is None for row in stored) for k, column in enumerate(STORED)}
    assert 0 < nulls["welfare_candidates"] < len(stored)  # rows of several groups were written
    assert 0 < nulls["flood_l1_rank"] < len(stored)


def test_a_run_over_stored_results_stores_every_column_anew(store) -> None:
    """Whole-city runs over stored results (PostgreSQL updates the rows in place, SQLite deletes
    and inserts them): with every hazard rank lowered to the lowest, then put back, each run's
    stored rows are the engine's result column by column, many values changed, some turned NULL and
    back."""
    load_demo(store.engine, store.sessions, BUNDLE)
    z = HazardZone.__table__.c
    with store.sessions() as session:
        ranks = dict(session.execute(select(z.id, z.rank).where(z.rank > 1)).all())
    before = _stored_as_the_engine_computes(store.sessions)
    _set_ranks(store.sessions, dict.fromkeys(ranks, 1))
    lowered = _stored_as_the_engine_computes(store.sessions)
    _set_ranks(store.sessions, ranks)
    assert _stored_as_the_engine_computes(store.sessions) == before
    pairs = list(zip(before, lowered, strict=True))
    changed = {column: sum(old[k] != new[k] for old, new in pairs) for k, column in enumerate(STORED)}
    emptied = {column: sum(old[k] is not None and new[k] is None for old, new in pairs) for k, column in enumerate(STORED)}
    assert min(changed["decision"], changed["destination_shelter_id"], changed["route"], changed["priority_score"]) > 100
    assert emptied["welfare_candidates"] > 100  # no longer seeking a 福祉避難所 place


def _set_ranks(sessions, ranks: dict[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Give hazard zones new ranks and run the assessment (a zone changed: the whole city)."""
    z = HazardZone.__table__.c
    with sessions() as session, session.begin():
        for zone_id, rank in ranks.items():
            session.execute(update(HazardZone).where(z.id == zone_id).values(rank=rank))
    run_assessment(sessions, KURUME)


def _stored_as_the_engine_computes(sessions) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The city's stored results, each column checked against the engine's result for the
    stored inputs; the stored rows, ordered by resident."""
    profile = load_profile(KURUME)
    with sessions() as session:
        result = _assessed(load_inputs(session, KURUME),
                           AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs), None)
        table = Assessment.__table__.c
        stored = session.execute(select(*(cast(table[c], Text) if c in REASON_COLUMNS else table[c] for c in STORED))
                                 .where(table.resident_id.in_(result["resident_id"].tolist()))
                                 .order_by(table.resident_id)).all()
    result = result.sort_values("resident_id", ignore_index=True)
    assert len(stored) == len(result) > 100
    memo: dict = {}
    for k, column in enumerate(STORED):
        assert [row[k] for row in stored] == _values(result, column, memo), column
    return [tuple(row) for row in stored]
