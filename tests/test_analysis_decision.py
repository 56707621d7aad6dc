"""Exposure and the leave-or-stay decision on hand-built geometries: every branch."""

from __future__ import annotations

import pandas as pd
import pytest

from disaster.analysis.decision import Decision, decide, required_floor
from disaster.analysis.exposure import HazardIndex
from disaster.analysis.needs import needs_frame
from disaster.codes import HazardLayer
from tests.analysis_fixtures import box, centre, frame, resident, zones

L2, DUR, FLOW, EROSION, INLAND, SLIDE = (
    HazardLayer.FLOOD_L2_DEPTH, HazardLayer.FLOOD_DURATION, HazardLayer.COLLAPSE_FLOW,
    HazardLayer.COLLAPSE_EROSION, HazardLayer.INLAND_FLOOD, HazardLayer.LANDSLIDE,
)
ZONES = zones(
    (L2, box(0), {"rank": 2}),  # cell 0: 0.5-3 m
    (L2, box(1), {"rank": 3}),  # cell 1: 3-5 m
    (L2, box(2), {"rank": 6}),  # cell 2: 20 m+
    (L2, box(3), {"rank": 2}), (DUR, box(3), {"rank": 3}),  # cell 3: 0.5-3 m for 1-3 days
    (L2, box(4), {"rank": 1}), (L2, box(4, size=0.005), {"rank": 2}),  # overlapping ranks
    (FLOW, box(5), {}), (EROSION, box(6), {}),
    (SLIDE, box(7), {"landslide_kind": 1, "landslide_class": 1}),
    (SLIDE, box(8), {"landslide_kind": 2, "landslide_class": 1}),
    (SLIDE, box(8, size=0.004), {"landslide_kind": 2, "landslide_class": 2}),  # red core
    (INLAND, box(9), {"rank": 2}),
)


def _decide(*people: dict) -> pd.DataFrame:
    residents = frame(list(people))
    exposure = HazardIndex(ZONES).exposure(residents["lon"].to_numpy(), residents["lat"].to_numpy())
    result = decide(residents, exposure, needs_frame(residents))
    result["codes"] = result["decision_reasons"].map(lambda rs: [r["code"] for r in rs])
    return pd.concat([exposure, result], axis=1)


def test_exposure_takes_the_deepest_overlap_and_the_red_landslide_core() -> None:
    r = _decide(resident(1, (130.5405, 33.3005)), resident(2, (130.5805, 33.3005)), resident(3, centre(8)))
    assert r["flood_l2_rank"].tolist()[:1] == [2]
    assert (r.loc[1, "landslide_class"], r.loc[1, "landslide_kind"]) == (2, 2)  # inside the red core
    assert (r.loc[2, "landslide_class"], r.loc[2, "landslide_kind"]) == (1, 2)  # yellow only


def test_a_plain_frame_of_zones_gives_the_same_index_as_a_geodataframe() -> None:
    """The assessment loads zones without geopandas: a ``geometry`` column of shapely objects."""
    plain = pd.DataFrame(ZONES.drop(columns="geometry"))
    plain["geometry"] = ZONES.geometry.to_numpy()
    lons, lats = zip(*(centre(i) for i in range(11)), strict=True)
    pd.testing.assert_frame_equal(HazardIndex(plain).exposure(lons, lats), HazardIndex(ZONES).exposure(lons, lats))
    assert HazardIndex(plain).deep_water().equals(HazardIndex(ZONES).deep_water())


def test_required_floor_per_depth_rank() -> None:
    assert [required_floor(r) for r in range(7)] == [1, 1, 2, 3, 5, 8, None]


@pytest.mark.parametrize(
    ("cell", "person", "decision", "code"),
    [
        (0, {"building_floors": 1}, Decision.LEAVE, "DEPTH_ABOVE_FLOOR"),
        (0, {"building_floors": 2}, Decision.STAY_UPSTAIRS, "UPPER_FLOOR_POSSIBLE"),
        (0, {"building_floors": 2, "can_use_stairs": False}, Decision.LEAVE, "DEPTH_ABOVE_FLOOR"),
        (0, {"building_floors": 2, "mobility": "車いす", "can_use_stairs": None}, Decision.LEAVE, "DEPTH_ABOVE_FLOOR"),
        (0, {"building_floors": 2, "bedroom_floor": 2, "can_use_stairs": False}, Decision.STAY_UPSTAIRS, "UPPER_FLOOR_POSSIBLE"),
        (1, {"building_floors": 2}, Decision.LEAVE, "DEPTH_ABOVE_FLOOR"),
        (1, {"building_floors": 3}, Decision.STAY_UPSTAIRS, "UPPER_FLOOR_POSSIBLE"),
        (2, {"building_floors": 10}, Decision.LEAVE, "DEPTH_NO_SAFE_FLOOR"),
        (3, {"building_floors": 2, "medical_devices": ["人工呼吸器"]}, Decision.LEAVE, "LONG_DURATION_DEPENDENT"),
        (3, {"building_floors": 2, "care_level": "要介護4"}, Decision.LEAVE, "LONG_DURATION_DEPENDENT"),
        (3, {"building_floors": 2}, Decision.STAY_UPSTAIRS, "STAY_CONDITIONS"),
        (5, {"building_floors": 3}, Decision.LEAVE, "COLLAPSE_FLOW"),
        (6, {"building_floors": 3}, Decision.LEAVE, "COLLAPSE_EROSION"),
        (7, {"building_floors": 2}, Decision.LEAVE, "LANDSLIDE_YELLOW"),
        (8, {"building_floors": 2}, Decision.LEAVE, "LANDSLIDE_RED"),
        (9, {"building_floors": 1}, Decision.LEAVE, "DEPTH_ABOVE_FLOOR"),  # 内水 counts as water too
        (12, {"building_floors": 1}, Decision.STAY, "NO_HAZARD"),
        (0, {"building_floors": None}, Decision.LEAVE, "FLOORS_UNKNOWN"),
    ],
)
def test_decision_branches(cell: int, person: dict, decision: Decision, code: str) -> None:
    at = (130.5805, 33.3005) if cell == 8 else centre(cell)  # cell 8: inside the red core
    r = _decide(resident(1, at, **person)).iloc[0]
    assert r["decision"] == decision.value
    assert code in r["codes"]
    assert all(reason["text"] for reason in r["decision_reasons"])


def test_reasons_are_plain_japanese_naming_the_depth_and_floor() -> None:
    r = _decide(resident(1, centre(0), building_floors=2, can_use_stairs=False)).iloc[0]
    (text,) = [x["text"] for x in r["decision_reasons"] if x["code"] == "DEPTH_ABOVE_FLOOR"]
    assert "階段を使えないため" in text and "0.5m以上3.0m未満" in text and "1階" in text


def test_long_duration_without_dependency_states_the_conditions() -> None:
    r = _decide(resident(1, centre(3), building_floors=2)).iloc[0]
    (text,) = [x["text"] for x in r["decision_reasons"] if x["code"] == "STAY_CONDITIONS"]
    assert "1日以上3日未満" in text and "3日分" in text
