"""Issue 10 defect classes on hand-built cities: every destination is safe against every rain
hazard layer, people are not asked to walk beyond their limit, 福祉避難所 advice is honest, start
triggers agree with the text, flats use their own floor, routes are stored, supporter warnings
say what to do. Each test checks what the person would be told or where they would be sent."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from disaster.analysis.eligibility import destination_safety
from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.exposure import HazardIndex
from disaster.analysis.travel import RoadNetwork, to_metric
from disaster.codes import HazardLayer
from disaster.profile import EvacuationProfile, load_profile
from tests.analysis_fixtures import METRIC_CRS, box, centre, frame, no_supporters, resident, shelter, zones

L1, L2, INLAND, FLOW, SLIDE = (HazardLayer.FLOOD_L1_DEPTH, HazardLayer.FLOOD_L2_DEPTH, HazardLayer.INLAND_FLOOD,
                               HazardLayer.COLLAPSE_FLOW, HazardLayer.LANDSLIDE)
YELLOW = {"landslide_kind": 1, "landslide_class": 1}
PROFILE = EvacuationProfile()


def _welfare(sid: int, at: tuple[float, float], capacity: int = 10, **fields) -> dict:
    defaults = {"accepted_groups": "高齢者（要介護）", "accepts_direct": True, "backup_power": True}
    return shelter(sid, at, is_designated_shelter=False, is_welfare_shelter=True, capacity=capacity,
                   **(defaults | fields))


def _run(residents: list[dict], shelters: list[dict], hazard, agreements: list[tuple[int, int]] | None = None,
         profile: EvacuationProfile = PROFILE, network: RoadNetwork | None = None,
         supporters: pd.DataFrame | None = None, links: pd.DataFrame | None = None) -> pd.DataFrame:
    default_supporters, default_links = no_supporters()
    agreed = pd.DataFrame([(r, s, pd.Timestamp("2026-04-01").date()) for r, s in agreements or []],
                          columns=["resident_id", "shelter_id", "agreed_on"])
    inputs = AssessmentInputs(frame(residents), frame(shelters), hazard,
                              default_supporters if supporters is None else supporters,
                              default_links if links is None else links, agreed)
    result = assess(inputs, AssessmentParameters(profile, METRIC_CRS), network).set_index("resident_id", drop=False)
    result["codes"] = result["destination_reasons"].map(lambda rs: [r["code"] for r in rs])
    return result


def _text(row: pd.Series, code: str) -> str:
    return next(r["text"] for r in row["destination_reasons"] if r["code"] == code)


def _all_text(row: pd.Series) -> str:
    return "".join(r["text"] for r in row["destination_reasons"])


# 1. Multi-hazard destinations ------------------------------------------------------------------

def test_landslide_home_is_never_sent_to_a_welfare_shelter_in_deep_water() -> None:
    """The reported case: a landslide-zone home whose nearest 福祉避難所 lies in 3-5 m water."""
    people = [resident(1, centre(0), care_level="要介護4", building_floors=1)]
    shelters = [_welfare(10, centre(1)),  # nearest 福祉避難所, 3-5 m of water
                _welfare(11, centre(3)),  # farther, dry
                shelter(20, centre(1, 1)), shelter(21, centre(3, 1))]
    hazard = zones((SLIDE, box(0), YELLOW), (L2, box(1), {"rank": 3}), (L2, box(1, 1), {"rank": 3}))
    row = _run(people, shelters, hazard, agreements=[(1, 10)]).loc[1]
    assert row["decision"] == "leave"
    assert row["welfare_shelter_id"] == 11  # not 10, even though an agreement exists with 10
    assert not row["welfare_direct"] and row["destination_kind"] == "shelter"
    assert row["destination_shelter_id"] == 21 and row["second_shelter_id"] not in (10, 20)
    assert "避難所10" not in _all_text(row)


def test_flood_home_is_never_sent_to_a_welfare_shelter_in_a_landslide_zone() -> None:
    hazard = zones((L2, box(0), {"rank": 3}), (SLIDE, box(1), YELLOW), (SLIDE, box(1, 1), YELLOW))
    people = [resident(1, centre(0), care_level="要介護5", building_floors=1)]
    shelters = [_welfare(10, centre(1)), _welfare(11, centre(4)), shelter(20, centre(1, 1)), shelter(21, centre(4, 1))]
    row = _run(people, shelters, hazard, agreements=[(1, 10), (1, 11)]).loc[1]
    assert row["welfare_shelter_id"] == 11 and row["welfare_direct"]
    assert row["destination_kind"] == "welfare" and row["destination_shelter_id"] == 11
    assert row["second_shelter_id"] == 21  # the 指定避難所 in the landslide zone is not the second option either


def test_second_option_is_safe_against_every_layer_too() -> None:
    """Home in a landslide zone; the second-nearest shelter is in 家屋倒壊等, the third in 内水 0.5 m+."""
    hazard = zones((SLIDE, box(0), YELLOW), (FLOW, box(2), {}), (INLAND, box(3), {"rank": 2}))
    shelters = [shelter(1, centre(1)), shelter(2, centre(2)), shelter(3, centre(3)), shelter(4, centre(6))]
    row = _run([resident(1, centre(0))], shelters, hazard).loc[1]
    assert (row["destination_shelter_id"], row["second_shelter_id"]) == (1, 4)


@pytest.mark.parametrize("layer", [L1, L2, INLAND])
def test_every_water_layer_disqualifies_regardless_of_the_home_hazard(layer: HazardLayer) -> None:
    hazard = zones((SLIDE, box(0), YELLOW), (layer, box(1), {"rank": 2}))
    row = _run([resident(1, centre(0))], [shelter(1, centre(1)), shelter(2, centre(5))], hazard).loc[1]
    assert row["destination_shelter_id"] == 2


def test_flood_designated_shelter_in_water_only_with_a_usable_floor_above_it() -> None:
    hazard = zones((SLIDE, box(0), YELLOW), (L2, box(1), {"rank": 2}))  # 0.5-3 m: floor 2 and up
    low = _run([resident(1, centre(0))], [shelter(1, centre(1), hazard_flood=True, usable_floors=1),
                                          shelter(2, centre(5))], hazard).loc[1]
    assert low["destination_shelter_id"] == 2 and pd.isna(low["destination_floor"])
    high = _run([resident(1, centre(0))], [shelter(1, centre(1), hazard_flood=True, usable_floors=3),
                                           shelter(2, centre(5))], hazard).loc[1]
    assert high["destination_shelter_id"] == 1 and high["destination_floor"] == 2
    assert "2階以上を使います" in _text(high, "DESTINATION_FLOOR")
    # not designated for floods: usable floors do not make it a flood shelter
    plain = _run([resident(1, centre(0))], [shelter(1, centre(1), usable_floors=3), shelter(2, centre(5))], hazard).loc[1]
    assert plain["destination_shelter_id"] == 2


def test_own_choice_in_a_landslide_zone_is_flagged_for_a_flood_home() -> None:
    hazard = zones((L2, box(0), {"rank": 2}), (SLIDE, box(1), YELLOW))
    people = [resident(1, centre(0), building_floors=1, preferred_shelter_code="S1")]
    row = _run(people, [shelter(1, centre(1)), shelter(2, centre(4))], hazard).loc[1]
    assert row["destination_shelter_id"] == 1  # kept
    assert "土砂災害警戒区域" in _text(row, "OWN_CHOICE_UNSAFE") and row["second_shelter_id"] == 2


# 2. Transport ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("person", "cell", "mode"),
    [
        ({}, 1, "walk"),  # 1 km x 1.3 within 2 km
        ({}, 3, "car"),  # 3.9 km
        ({"mobility": "杖・歩行器"}, 1, "car"),  # 1.3 km > 500 m
        ({"care_level": "要支援1"}, 1, "car"),
        ({"mobility": "車いす"}, 1, "welfare_transport"),
        ({"mobility": "寝たきり"}, 0, "welfare_transport"),  # even next door: never on foot
        ({"medical_devices": ["人工呼吸器"], "mobility": "寝たきり"}, 0, "welfare_transport"),
        ({"medical_devices": ["在宅酸素"]}, 0, "welfare_transport"),
    ],
)
def test_travel_mode_follows_the_walking_limit(person: dict, cell: int, mode: str) -> None:
    at = centre(cell) if cell else (centre(0)[0] + 0.002, centre(0)[1])  # cell 0: ~200 m away
    row = _run([resident(1, centre(0), **person)], [shelter(1, at)], zones()).loc[1]
    assert row["travel_mode"] == mode
    distance = _text(row, "DISTANCE")
    if mode == "walk":
        assert row["travel_min"] == pytest.approx(row["walk_min"]) and "歩いて" in distance
        assert "TRANSPORT" not in row["codes"]
    else:
        assert "歩いて" not in _all_text(row) and "車で" in distance
        assert "移動手段の確保が必要" in _text(row, "TRANSPORT")
        assert row["prepare_min"] >= PROFILE.car_arrange_min + PROFILE.prepare.base
        assert row["travel_min"] == pytest.approx(row["distance_m"] / (PROFILE.car_speed_kmh * 1000 / 60))
    if mode == "welfare_transport":
        assert "福祉タクシー" in _text(row, "TRANSPORT")


def test_no_multi_hour_walks_and_no_negative_minutes_in_any_text() -> None:
    """A 福祉避難所 or shelter 20 km away is never printed as a 6-hour walk."""
    people = [resident(i, centre(0), **f) for i, f in enumerate(
        [{}, {"mobility": "杖・歩行器"}, {"mobility": "寝たきり", "medical_devices": ["人工呼吸器"]},
         {"care_level": "要介護5"}], start=1)]
    result = _run(people, [shelter(1, centre(20)), _welfare(10, centre(25))], zones((L2, box(0), {"rank": 2})))
    for _, row in result.iterrows():
        assert row["travel_mode"] != "walk" or row["distance_m"] <= PROFILE.walk_limits.able_m
        assert row["travel_min"] < 120
        assert not re.search(r"歩いて約\d{3,}分", _all_text(row))
        assert not re.search(r"-\d", _all_text(row))


def test_road_graph_car_time_and_route() -> None:
    graph = nx.Graph()
    (x0, y0), (x3, y3) = centre(0), centre(3, 3)
    graph.add_node("a", x=x0, y=y0)
    graph.add_node("b", x=x3, y=y0)
    graph.add_node("c", x=x3, y=y3)
    metric = to_metric(np.array([x0, x3, x3]), np.array([y0, y0, y3]), METRIC_CRS)
    graph.add_edge("a", "b", length=float(np.linalg.norm(metric[1] - metric[0])))
    graph.add_edge("b", "c", length=float(np.linalg.norm(metric[2] - metric[1])))
    row = _run([resident(1, centre(0))], [shelter(1, centre(3, 3))], zones(), network=RoadNetwork(graph, METRIC_CRS)).loc[1]
    assert row["route_is_road"] and row["travel_mode"] == "car"
    assert row["travel_min"] == pytest.approx(row["distance_m"] / (PROFILE.car_speed_kmh * 1000 / 60))
    assert len(shapely.get_coordinates(shapely.from_wkb(row["route"]))) == 5  # home, 3 nodes, shelter


def test_without_a_graph_the_route_is_the_straight_line() -> None:
    row = _run([resident(1, centre(0))], [shelter(1, centre(1))], zones()).loc[1]
    line = shapely.from_wkb(row["route"])
    assert not row["route_is_road"]
    assert shapely.get_coordinates(line).tolist() == [list(centre(0)), list(centre(1))]


def test_parameters_come_from_the_city_profile() -> None:
    slow = EvacuationProfile(car_speed_kmh=10, car_arrange_min=45)
    row = _run([resident(1, centre(0))], [shelter(1, centre(3))], zones(), profile=slow).loc[1]
    assert row["travel_min"] == pytest.approx(row["distance_m"] / (10_000 / 60))
    assert row["prepare_min"] == slow.prepare.base + 45
    evacuation = load_profile("402036").evacuation
    assert evacuation.walk_limits.bedridden_m == 0 and evacuation.walk_limits.able_m > evacuation.walk_limits.supported_m


# 3./4. 福祉避難所 -------------------------------------------------------------------------------

def test_welfare_shelter_out_of_reach_leaves_the_person_unplaced_with_the_reason() -> None:
    """Never paired with a place across the city: 40 km by car is beyond the longest welfare trip."""
    people = [resident(1, centre(0), care_level="要介護5", building_floors=1)]
    row = _run(people, [_welfare(10, centre(40)), shelter(20, centre(2))], zones((L2, box(0), {"rank": 2}))).loc[1]
    assert row["welfare_shelter_id"] == -1 and row["welfare_unplaced"]
    assert row["destination_shelter_id"] == 20
    text = _text(row, "WELFARE_UNPLACED")
    assert "間に合う範囲" in text and "介護が必要な方" in text and "避難所20" in text


def test_welfare_assignment_prefers_the_nearest_place_in_reach() -> None:
    people = [resident(i, centre(0), care_level="要介護4", building_floors=1) for i in (1, 2)]
    shelters = [_welfare(10, centre(6), capacity=5), _welfare(11, centre(2), capacity=5), shelter(20, centre(1, 1))]
    result = _run(people, shelters, zones((L2, box(0), {"rank": 2})))
    assert result["welfare_shelter_id"].tolist() == [11, 11]


def test_direct_evacuation_only_with_an_agreement_and_the_opening_confirmed() -> None:
    people = [resident(1, centre(0), care_level="要介護5", building_floors=1),
              resident(2, centre(0), care_level="要介護5", building_floors=1)]
    shelters = [_welfare(10, centre(2)), shelter(20, centre(1, 1))]
    result = _run(people, shelters, zones((L2, box(0), {"rank": 2})), agreements=[(1, 10)])
    agreed, other = result.loc[1], result.loc[2]
    assert agreed["welfare_direct"] and agreed["destination_kind"] == "welfare" and agreed["destination_shelter_id"] == 10
    direct = _text(agreed, "WELFARE_DIRECT")
    assert "合意" in direct and "開設を確認" in direct and "令和8年4月1日" in direct
    assert agreed["second_shelter_id"] == 20
    assert not other["welfare_direct"] and other["destination_kind"] == "shelter"
    assert other["destination_shelter_id"] == 20 and other["welfare_shelter_id"] == 10
    assert "避難所10（福祉避難所）へ移ります" in _text(other, "WELFARE_TRANSFER")
    assert "WELFARE_DIRECT" not in other["codes"]


def test_welfare_assignment_without_agreements_table() -> None:
    """The demo bundle may carry no agreements (None): everyone is planned for transfer."""
    inputs = AssessmentInputs(frame([resident(1, centre(0), care_level="要介護5", building_floors=1)]),
                              frame([_welfare(10, centre(2)), shelter(20, centre(1, 1))]),
                              zones((L2, box(0), {"rank": 2})), *no_supporters())
    row = assess(inputs, AssessmentParameters(PROFILE, METRIC_CRS)).iloc[0]
    assert row["welfare_shelter_id"] == 10 and not row["welfare_direct"] and row["destination_shelter_id"] == 20


# 5. Start trigger -----------------------------------------------------------------------------

def test_start_trigger_agrees_with_the_start_text() -> None:
    tight = EvacuationProfile(lead_time_min=30, early_window_min=30, previous_day_window_min=60)
    x, y = centre(0)
    people = [
        resident(1, (x + 0.004, y)),  # ~480 m on foot + 10 min: 18 min -> level 3
        resident(2, centre(3)),  # ~3.9 km by car + 30 min -> early
        resident(3, centre(10)),  # ~13 km by car + 30 min -> the day before
        resident(4, centre(25)),  # ~32 km by car + 30 min -> not workable
        resident(5, (x + 0.004, y + 0.005)),  # like 1, but outside every zone: may stay
    ]
    slopes = zones((SLIDE, shapely.box(x + 0.002, y - 0.004, x + 0.3, y + 0.004), YELLOW))  # all but 5 must leave
    result = _run(people, [shelter(1, centre(0))], slopes, profile=tight)
    assert result["decision"].tolist() == ["leave"] * 4 + ["stay"]
    assert result["start_trigger"].tolist() == ["level3", "early", "previous_day", "not_workable", "level3"]
    starts = {i: _text(result.loc[i], "START") for i in (1, 2, 3, 4, 5)}
    assert starts[1].startswith("警戒レベル3（高齢者等避難）が出たらすぐ出発")
    assert starts[5].startswith("避難する場合は、警戒レベル3（高齢者等避難）が出たらすぐ出発")
    assert "警戒レベル3（高齢者等避難）を待たず" in starts[2] and "明るいうち" in starts[2]
    assert "前の日" in starts[3]
    assert "NOT_WORKABLE" in result.loc[4, "codes"] and "まだ実行できません" in _text(result.loc[4], "NOT_WORKABLE")
    for text in starts.values():
        assert "警報の段階" not in text  # a 警報 is level 3 under the 2026 names
    assert (result.loc[[2, 3, 4], "start_margin_min"] < 0).all()
    assert all(not re.search(r"-\d", _all_text(row)) for _, row in result.iterrows())


def test_no_trip_no_trigger_and_no_destination_is_not_workable() -> None:
    people = [resident(1, centre(0)), resident(2, centre(1), building_floors=1)]  # dry; flooded 0.5 m+
    no_shelters = frame([shelter(1, centre(0))]).iloc[0:0]
    inputs = AssessmentInputs(frame(people), no_shelters, zones((L2, box(1), {"rank": 2})), *no_supporters())
    result = assess(inputs, AssessmentParameters(PROFILE, METRIC_CRS))
    assert result.loc[0, "decision"] == "stay" and result.loc[0, "start_trigger"] is None
    assert result.loc[1, "decision"] == "leave" and result.loc[1, "start_trigger"] == "not_workable"


# 6. Flats -------------------------------------------------------------------------------------

def test_a_first_floor_flat_is_never_offered_an_upper_floor() -> None:
    hazard = zones((L2, box(0), {"rank": 2}))  # 0.5-3 m: needs floor 2
    people = [resident(1, centre(0), building_floors=5, home_floor=1),
              resident(2, centre(0), building_floors=5, home_floor=3),
              resident(3, centre(0), building_floors=5, home_floor=None)]  # a 5-storey house
    result = _run(people, [shelter(1, centre(4))], hazard)
    assert result.loc[1, "decision"] == "leave" and result.loc[1, "reachable_floor"] == 1
    assert "集合住宅の1階" in "".join(r["text"] for r in result.loc[1, "decision_reasons"])
    assert result.loc[2, "decision"] == "stay_upstairs" and result.loc[2, "reachable_floor"] == 3
    assert result.loc[3, "decision"] == "stay_upstairs" and result.loc[3, "reachable_floor"] == 5
    assert all("5階" not in r["text"] for r in result.loc[1, "decision_reasons"])


# 7. Supporter warnings ------------------------------------------------------------------------

def test_supporter_warnings_say_what_to_do() -> None:
    hazard = zones((L2, box(3), {"rank": 2}))
    people = [resident(1, centre(0)), resident(2, centre(0), consent_share=False)]
    supporters = pd.DataFrame([{"id": 10, "lon": centre(3)[0], "lat": centre(3)[1], "relation": "近隣住民",
                                "consent": False}])
    links = pd.DataFrame([(1, 10)], columns=["resident_id", "supporter_id"])
    result = _run(people, [shelter(1, centre(9))], hazard, supporters=supporters, links=links)
    one = {r["code"]: r["text"] for r in result.loc[1, "supporter_issues"]}
    two = {r["code"]: r["text"] for r in result.loc[2, "supporter_issues"]}
    assert "2人目の支援者を探しましょう" in one["SUPPORTER_AT_RISK"]
    assert "同意書" in one["SUPPORTER_NO_CONSENT"]
    assert "支援者を決めましょう" in two["NO_SUPPORTER"]
    assert "確かめましょう" in two["NO_SHARE_CONSENT"]


def test_a_supporter_without_a_known_home_is_never_taken_as_safe() -> None:
    """A supporter imported without 緯度/経度 (address not found) sits at no point; the old code
    read that as (0, 0) — outside every zone — and printed them as the driver without a warning."""
    hazard = zones((L2, box(3), {"rank": 4}))
    supporters = pd.DataFrame([{"id": 10, "lon": None, "lat": None, "relation": "近隣住民", "consent": True}])
    links = pd.DataFrame([(1, 10)], columns=["resident_id", "supporter_id"])
    result = _run([resident(1, centre(0))], [shelter(1, centre(9))], hazard, supporters=supporters, links=links)
    issues = {r["code"]: r["text"] for r in result.loc[1, "supporter_issues"]}
    assert "SUPPORTER_LOCATION_UNKNOWN" in issues and "確かめられません" in issues["SUPPORTER_LOCATION_UNKNOWN"]
    assert result.loc[1, "supporter_count"] == 1


def test_overloaded_supporter_limit_comes_from_the_profile() -> None:
    people = [resident(i, centre(0)) for i in (1, 2)]
    supporters = pd.DataFrame([{"id": 10, "lon": centre(0)[0], "lat": centre(0)[1], "relation": "民生委員",
                                "consent": True}])
    links = pd.DataFrame([(1, 10), (2, 10)], columns=["resident_id", "supporter_id"])
    result = _run(people, [shelter(1, centre(9))], zones(), profile=EvacuationProfile(max_residents_per_supporter=1),
                  supporters=supporters, links=links)
    text = next(r["text"] for r in result.loc[1, "supporter_issues"] if r["code"] == "SUPPORTER_OVERLOADED")
    assert "2人" in text and "担当を分けましょう" in text


def test_graphml_round_trip_keeps_the_road_path(tmp_path: Path) -> None:
    """GraphML round trip keeps the road path (from_graphml, as the CLI loads it)."""
    graph = nx.Graph()
    (x0, y0), (x1, y1) = centre(0), centre(1)
    graph.add_node("a", x=x0, y=y0)
    graph.add_node("b", x=x1, y=y1)
    graph.add_edge("a", "b", length=1000.0)
    path = tmp_path / "roads.graphml"
    nx.write_graphml(graph, path)
    row = _run([resident(1, centre(0))], [shelter(1, centre(1))], zones(), network=RoadNetwork.from_graphml(path, METRIC_CRS)).loc[1]
    assert row["route_is_road"] and row["distance_m"] == pytest.approx(1000.0)


# Property: random cities with overlapping hazards ----------------------------------------------

LAYERS = [(L1, {"rank": 2}), (L2, {"rank": 1}), (L2, {"rank": 2}), (L2, {"rank": 3}), (INLAND, {"rank": 2}),
          (FLOW, {}), (HazardLayer.COLLAPSE_EROSION, {}), (SLIDE, YELLOW),
          (SLIDE, {"landslide_kind": 2, "landslide_class": 2})]
MOBILITY = ["自立", "杖・歩行器", "車いす", "寝たきり"]


@st.composite
def cities(draw: st.DrawFn) -> tuple[list[dict], list[dict], gpd.GeoDataFrame, list[tuple[int, int]]]:
    cell = st.tuples(st.integers(0, 7), st.integers(0, 3))
    hazard = draw(st.lists(st.tuples(st.sampled_from(range(len(LAYERS))), cell), max_size=14))
    zone_items = [(LAYERS[k][0], box(i, j), LAYERS[k][1]) for k, (i, j) in hazard]
    shelters = []
    for sid, (i, j) in enumerate(draw(st.lists(cell, min_size=1, max_size=8)), start=1):
        welfare = draw(st.booleans())
        fields = {"hazard_flood": draw(st.booleans()), "usable_floors": draw(st.sampled_from([None, 1, 2, 3])),
                  "barrier_free": draw(st.sampled_from([True, None])), "capacity": draw(st.integers(0, 3))}
        if welfare:
            shelters.append(_welfare(sid, centre(i, j), **fields))
        else:
            shelters.append(shelter(sid, centre(i, j), **fields))
    people = []
    for rid, (i, j) in enumerate(draw(st.lists(cell, min_size=1, max_size=10)), start=1):
        people.append(resident(rid, (centre(i, j)[0] + 0.001 * draw(st.integers(-3, 3)), centre(i, j)[1]),
                               mobility=draw(st.sampled_from(MOBILITY)),
                               care_level=draw(st.sampled_from([None, "要支援1", "要介護3", "要介護5"])),
                               medical_devices=draw(st.sampled_from([[], ["人工呼吸器"]])),
                               building_floors=draw(st.integers(1, 3)),
                               home_floor=draw(st.sampled_from([None, None, 1, 2]))))
    agreements = draw(st.lists(st.tuples(st.integers(1, len(people)), st.integers(1, len(shelters))), max_size=3))
    return people, shelters, zones(*zone_items), agreements


@settings(max_examples=60, deadline=None)
@given(cities())
def test_invariants_hold_on_random_cities_with_overlapping_hazards(city) -> None:
    people, shelters, hazard, agreements = city
    result = _run(people, shelters, hazard, agreements=agreements)
    table = frame(shelters)
    safety = destination_safety(HazardIndex(hazard).exposure(table["lon"].to_numpy(), table["lat"].to_numpy()), table)
    position = {sid: k for k, sid in enumerate(table["id"])}
    agreed = set(agreements)
    for _, row in result.iterrows():
        for column in ("destination_shelter_id", "second_shelter_id", "welfare_shelter_id"):
            sid = row[column]
            if sid >= 0:
                assert safety.safe[position[sid]], (column, row["resident_id"])
        if row["destination_shelter_id"] >= 0:
            floor = safety.floor[position[row["destination_shelter_id"]]]
            assert (row["destination_floor"] or 0) == floor
        if row["travel_mode"] == "walk":
            person = people[row["resident_id"] - 1]
            assert person["mobility"] != "寝たきり" and not person["medical_devices"]
            assert row["distance_m"] <= PROFILE.walk_limits.able_m
        if row["start_margin_min"] < 0:
            assert row["start_trigger"] in {"early", "previous_day", "not_workable"}
        if row["welfare_direct"]:
            assert (row["resident_id"], row["welfare_shelter_id"]) in agreed
            assert row["destination_kind"] == "welfare"
        if row["decision"] == "leave" and row["destination_shelter_id"] < 0:
            assert row["start_trigger"] == "not_workable"
        texts = _all_text(row)
        assert "直接" not in texts or row["welfare_direct"] or "直接は避難しません" in texts
        assert row["travel_mode"] == "walk" or "歩いて" not in texts
    capacity = dict(zip(table["id"], table["capacity"], strict=True))
    for sid, used in result[result["welfare_shelter_id"] >= 0].groupby("welfare_shelter_id").size().items():
        assert used <= capacity[sid]


def test_welfare_reach_follows_the_road_graph_when_given() -> None:
    """2 km away in a straight line but 40 km by road (the river has no bridge): out of reach."""
    graph = nx.Graph()
    points = {"home": centre(0), "shelter": centre(0, 1), "far": centre(1, 20), "welfare": centre(2)}
    for name, (x, y) in points.items():
        graph.add_node(name, x=x, y=y)
    metric = {name: to_metric(np.array([x]), np.array([y]), METRIC_CRS)[0] for name, (x, y) in points.items()}
    for u, v in (("home", "shelter"), ("home", "far"), ("far", "welfare")):
        graph.add_edge(u, v, length=float(np.linalg.norm(metric[u] - metric[v])))
    people = [resident(1, centre(0), care_level="要介護5", building_floors=1)]
    shelters = [_welfare(10, centre(2)), shelter(20, centre(0, 1))]
    hazard = zones((L2, box(0), {"rank": 2}))
    straight = _run(people, shelters, hazard).loc[1]
    assert straight["welfare_shelter_id"] == 10
    by_road = _run(people, shelters, hazard, network=RoadNetwork(graph, METRIC_CRS)).loc[1]
    assert by_road["welfare_shelter_id"] == -1 and "WELFARE_UNPLACED" in by_road["codes"]
    assert by_road["destination_shelter_id"] == 20 and by_road["route_is_road"]


def test_own_choice_of_an_ordinary_shelter_is_kept_with_a_welfare_transfer_planned() -> None:
    people = [resident(1, centre(0), care_level="要介護5", building_floors=1, preferred_shelter_code="S21")]
    shelters = [_welfare(10, centre(2)), shelter(20, centre(1, 1)), shelter(21, centre(3, 1))]
    row = _run(people, shelters, zones((L2, box(0), {"rank": 2})), agreements=[(1, 10)]).loc[1]
    assert row["destination_shelter_id"] == 21 and row["destination_kind"] == "shelter"
    assert row["welfare_shelter_id"] == 10 and not row["welfare_direct"]
    assert "まず避難所21へ避難し" in _text(row, "WELFARE_TRANSFER") and row["second_shelter_id"] == 20


def test_the_second_option_is_another_place_not_the_same_schools_gym() -> None:
    school = centre(1)
    gym = (school[0] + 0.0005, school[1])  # ~50 m away: the same facility listed twice
    people = [resident(1, centre(0))]
    shelters = [shelter(10, school), shelter(11, gym), shelter(12, centre(3))]
    row = _run(people, shelters, zones()).loc[1]
    assert row["destination_shelter_id"] == 10
    assert row["second_shelter_id"] == 12  # not 11, the building next door
    alone = _run(people, [shelter(10, school), shelter(11, gym)], zones()).loc[1]
    assert alone["second_shelter_id"] == -1  # no real alternative: a line to fill in, not a duplicate
