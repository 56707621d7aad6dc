"""Geometry work spread over threads gives exactly what one thread gives, and what each point or
route tested on its own gives: home hazards and routes through deep water are safety-critical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from disaster.analysis import engine, exposure, parallel
from disaster.analysis.exposure import EXPOSURE_COLUMNS, HazardIndex
from disaster.codes import LANDSLIDE_RED_CLASSES, HazardLayer
from tests.analysis_fixtures import X0, Y0, zones

LAYERS = [HazardLayer.FLOOD_L1_DEPTH, HazardLayer.FLOOD_L2_DEPTH, HazardLayer.FLOOD_DURATION,
          HazardLayer.INLAND_FLOOD, HazardLayer.COLLAPSE_FLOW, HazardLayer.COLLAPSE_EROSION, HazardLayer.LANDSLIDE]
RANKED = {HazardLayer.FLOOD_L1_DEPTH: "flood_l1_rank", HazardLayer.FLOOD_L2_DEPTH: "flood_l2_rank",
          HazardLayer.FLOOD_DURATION: "duration_rank", HazardLayer.INLAND_FLOOD: "inland_rank"}


@pytest.fixture
def many_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four threads whatever the machine, for inputs of any size."""
    monkeypatch.setattr(parallel, "cores", lambda: 4)
    monkeypatch.setattr(exposure, "PARALLEL_MINIMUM", 1)
    monkeypatch.setattr(engine, "ROUTES_PER_THREAD", 1)


def _random_zones(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """Overlapping discs of every layer, landslide zones of both colours and kinds among them."""
    items = []
    for _ in range(count):
        layer = LAYERS[rng.integers(len(LAYERS))]
        disc = shapely.Point(X0 + rng.uniform(0, 0.05), Y0 + rng.uniform(0, 0.05)).buffer(rng.uniform(0.002, 0.01))
        fields = {"rank": int(rng.integers(1, 7))} if layer in RANKED else {}
        if layer == HazardLayer.LANDSLIDE:
            fields = {"landslide_kind": int(rng.integers(1, 4)), "landslide_class": int(rng.integers(1, 5))}
        items.append((layer, disc, fields))
    return zones(*items)


def _one_point_at_a_time(table: pd.DataFrame, lon: float, lat: float) -> dict[str, int]:
    """A point's exposure from every zone tested on its own: the deepest rank per layer; the most
    severe landslide zone, the last listed among equals."""
    point = shapely.Point(lon, lat)
    out = dict.fromkeys(EXPOSURE_COLUMNS, 0)
    severity = 0
    for row in table.itertuples():
        if not shapely.intersects(row.geometry, point):
            continue
        layer = HazardLayer(row.layer)
        if layer in RANKED:
            out[RANKED[layer]] = max(out[RANKED[layer]], int(row.rank))
        elif layer == HazardLayer.COLLAPSE_FLOW:
            out["collapse_flow"] = 1
        elif layer == HazardLayer.COLLAPSE_EROSION:
            out["collapse_erosion"] = 1
        else:
            level = 2 if row.landslide_class in LANDSLIDE_RED_CLASSES else 1
            if level >= severity:
                severity = level
                out["landslide_class"], out["landslide_kind"] = int(row.landslide_class), int(row.landslide_kind)
    return out


def test_exposure_in_threads_is_each_points_own_exposure(many_threads: None) -> None:
    rng = np.random.default_rng(7)
    table = _random_zones(rng, 60)
    lons, lats = X0 + rng.uniform(-0.005, 0.055, 400), Y0 + rng.uniform(-0.005, 0.055, 400)
    index = HazardIndex(table)
    assert len(parallel.balanced(np.ones(len(table)), 1)) == 4
    result = index.exposure(lons, lats)
    expected = pd.DataFrame([_one_point_at_a_time(table, x, y) for x, y in zip(lons, lats, strict=True)])
    assert (result.astype(int).to_numpy() == expected[list(EXPOSURE_COLUMNS)].to_numpy()).all()
    assert result[["flood_l2_rank", "landslide_class"]].to_numpy().any(axis=0).all()  # the test saw hazards


def test_routes_through_deep_water_in_threads_are_each_routes_own_answer(many_threads: None) -> None:
    rng = np.random.default_rng(11)
    table = _random_zones(rng, 40)
    index = HazardIndex(table)
    starts = np.column_stack([X0 + rng.uniform(0, 0.05, 300), Y0 + rng.uniform(0, 0.05, 300)])
    route = shapely.linestrings(np.stack([starts, starts + rng.uniform(-0.01, 0.01, (300, 2))], axis=1))
    has_route = rng.random(300) < 0.9
    home = index.exposure(starts[:, 0], starts[:, 1])
    crosses = engine._crosses_deep_water(index, home, route, has_route)
    deep = index.deep_water()
    home_depth = np.maximum(home["flood_l2_rank"], home["inland_rank"]).to_numpy()
    expected = [bool(ok and depth < 2 and shapely.intersects(line, deep))
                for line, ok, depth in zip(route, has_route, home_depth, strict=True)]
    assert crosses.tolist() == expected
    assert 0 < sum(expected) < 300 * 0.9 - 1  # routes of both kinds were checked


def test_balanced_parts_cover_everything_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 3)
    weights = np.array([5, 1, 1, 1, 3, 1, 1, 1, 1, 3])
    parts = parallel.balanced(weights, 2)
    assert [weights[part].sum() for part in parts] == [6, 6, 6]
    heavy = np.array([5, 1, 1, 1, 9, 1, 1, 1, 1, 3])  # an item is never split: fewer, uneven parts
    for case in (weights, heavy):
        assert [i for part in parallel.balanced(case, 2) for i in range(len(case))[part]] == list(range(len(case)))
    assert parallel.balanced(weights, 100) == [slice(0, 10)]  # too little to share
    assert parallel.balanced(np.ones(2), 0.1) == [slice(0, 1), slice(1, 2)]  # no more parts than items
    assert parallel.each_part(lambda part: list(range(10)[part]), parts) == [list(range(10)[p]) for p in parts]
