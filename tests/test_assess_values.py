"""Writing the engine's result: its columns as the database driver receives them
(``usecases.assess._values``: the whole-column conversion gives what converting value by value
gives), the batches made ahead in a worker thread (``_prefetched``), and the stored rows, which
are the engine's result column by column on both databases (COPY on PostgreSQL; on SQLite,
INSERTs that name only the columns a group of rows fills)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Text, cast, select

from disaster.analysis.engine import AssessmentParameters
from disaster.models import Assessment
from disaster.profile import load_profile
from disaster.usecases.assess import COLUMNS, NONE_BELOW, REASON_COLUMNS, _assessed, _prefetched, _values, load_inputs
from tests.conftest import KURUME


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
    profile = load_profile(KURUME)
    with demo_store.sessions() as session:
        result = _assessed(load_inputs(session, KURUME),
                           AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs), None)
        table = Assessment.__table__.c
        stored = session.execute(select(*(cast(table[c], Text) if c in REASON_COLUMNS else table[c]
                                          for c in COLUMNS if c != "run_id"))
                                 .where(table.resident_id.in_(result["resident_id"].tolist()))
                                 .order_by(table.resident_id)).all()
    result = result.sort_values("resident_id", ignore_index=True)
    assert len(stored) == len(result) > 100
    memo: dict = {}
    for k, column in enumerate(c for c in COLUMNS if c != "run_id"):
        expected = _values(result, column, memo)
        got = [row[k] for row in stored]
        assert got == expected, column
    nulls = {column: sum(row[k] is None for row in stored) for k, column in enumerate(c for c in COLUMNS if c != "run_id")}
    assert 0 < nulls["welfare_candidates"] < len(stored)  # rows of several groups were written
    assert 0 < nulls["flood_l1_rank"] < len(stored)
