"""The engine's result columns as the database driver receives them (``usecases.assess._values``):
the whole-column conversion gives what converting value by value gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.usecases.assess import NONE_BELOW, _values


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
