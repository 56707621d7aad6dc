"""Each audit check on hand-built frames: a violating row is caught, a clean row is not."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
import shapely

from disaster.audit import Kind, Rule, Violation, audit, check_assessments, check_plans, check_records
from disaster.audit.hazards import floor_needed
from disaster.codes import HazardLayer
from tests.audit_fixtures import (
    assessment,
    at,
    cell,
    context,
    inputs,
    resident,
    shelter,
    timeline,
    welfare_shelter,
    zone,
    zones,
)

LANDSLIDE = zone(HazardLayer.LANDSLIDE, cell(5), landslide_class=1, landslide_kind=2)
COLLAPSE = zone(HazardLayer.COLLAPSE_FLOW, cell(6))
DEEP_L2 = zone(HazardLayer.FLOOD_L2_DEPTH, cell(7), rank=3)  # 3-5 m
DEEP_INLAND = zone(HazardLayer.INLAND_FLOOD, cell(8), rank=2)
DEEP_L1_ONLY = zone(HazardLayer.FLOOD_L1_DEPTH, cell(9), rank=2)
SHALLOW = zone(HazardLayer.FLOOD_L2_DEPTH, cell(10), rank=1)
CITY = zones(LANDSLIDE, COLLAPSE, DEEP_L2, DEEP_INLAND, DEEP_L1_ONLY, SHALLOW)


def rules(found: list[Violation], kind: Kind | None = None) -> set[Rule]:
    return {v.rule for v in found if kind is None or v.kind is kind}


def assess_one(a: dict[str, Any], r: dict[str, Any] | None = None, shelters: list[dict[str, Any]] | None = None,
               **kw: Any) -> list[Violation]:
    return check_assessments(inputs([a], [r or resident(1, at(0))], shelters or [shelter(1, at(1))], CITY, **kw))


# --- (a) destination safety against every rain layer at the destination itself ---

def test_a_clean_trip_has_no_violation() -> None:
    assert assess_one(assessment(1)) == []


@pytest.mark.parametrize(("where", "words"), [
    (at(5), "土砂災害警戒区域"), (at(6), "家屋倒壊等氾濫想定区域"), (at(7), "3.0m以上5.0m未満"),
    (at(8), "0.5m以上3.0m未満"), (at(9), "0.5m以上3.0m未満"),
])
def test_a_destination_in_any_rain_hazard_is_a_toolkit_violation(where: tuple[float, float], words: str) -> None:
    found = assess_one(assessment(1), shelters=[shelter(1, where)])
    assert rules(found, Kind.TOOLKIT) == {Rule.DEST_UNSAFE}
    assert words in found[0].message and found[0].resident_no == "R0001" and found[0].district == "テスト校区"


def test_a_shallow_water_is_safe() -> None:
    assert assess_one(assessment(1), shelters=[shelter(1, at(10))]) == []


def test_a_a_point_on_the_zone_edge_counts_as_inside() -> None:
    edge = (cell(5).bounds[0], at(5)[1])
    assert rules(assess_one(assessment(1), shelters=[shelter(1, edge)])) == {Rule.DEST_UNSAFE}


def test_a_flood_designated_shelter_in_deep_water_needs_its_upper_floor_named() -> None:
    place = [shelter(1, at(7), hazard_flood=True, usable_floors=3)]  # 3-5 m: floor 3 and up
    assert floor_needed(3) == 3 and floor_needed(2) == 2 and floor_needed(1) == 1 and floor_needed(6) is None
    assert assess_one(assessment(1, destination_floor=3), shelters=place) == []
    assert rules(assess_one(assessment(1), shelters=place)) == {Rule.DEST_FLOOR}
    assert rules(assess_one(assessment(1, destination_floor=2), shelters=place)) == {Rule.DEST_FLOOR}
    low = [shelter(1, at(7), hazard_flood=True, usable_floors=2)]
    assert rules(assess_one(assessment(1, destination_floor=2), shelters=low)) == {Rule.DEST_UNSAFE}
    not_designated = [shelter(1, at(7), usable_floors=5)]
    assert rules(assess_one(assessment(1, destination_floor=3), shelters=not_designated)) == {Rule.DEST_UNSAFE}


def test_a_flood_designation_does_not_help_in_a_landslide_zone() -> None:
    place = [shelter(1, at(5), hazard_flood=True, hazard_landslide=True, usable_floors=5)]
    assert rules(assess_one(assessment(1, destination_floor=3), shelters=place)) == {Rule.DEST_UNSAFE}


def test_a_unsafe_own_choice_is_a_todo_only_when_flagged() -> None:
    own = [{"code": "OWN_CHOICE", "text": "ご本人が希望する避難先です。"}]
    places = [shelter(1, at(7)), shelter(2, at(1))]
    silent = assess_one(assessment(1, destination_reasons=own, second_shelter_id=2), shelters=places)
    assert rules(silent, Kind.TOOLKIT) == {Rule.DEST_UNSAFE}
    flagged = own + [{"code": "OWN_CHOICE_UNSAFE", "text": "危険な区域にあります。"}]
    found = assess_one(assessment(1, destination_reasons=flagged, second_shelter_id=2), shelters=places)
    assert rules(found, Kind.TOOLKIT) == set() and rules(found, Kind.DATA) == {Rule.OWN_CHOICE_UNSAFE}
    assert "避難所1" in found[0].message and found[0].action


def test_a_second_option_and_welfare_shelter_are_checked_too() -> None:
    places = [shelter(1, at(1)), shelter(2, at(6)), welfare_shelter(3, at(8))]
    found = assess_one(assessment(1, second_shelter_id=2, welfare_shelter_id=3), shelters=places)
    assert rules(found) == {Rule.SECOND_UNSAFE, Rule.WELFARE_UNSAFE}


def test_a_landslide_home_sent_to_a_welfare_shelter_in_deep_water_is_caught() -> None:
    """The issue's case: a landslide-zone home; the nearest 福祉避難所 stands in 3-5 m water."""
    home = resident(1, at(5), mobility="寝たきり", care_level="要介護5")
    deep_welfare = welfare_shelter(2, at(7))
    dry_welfare = welfare_shelter(3, at(3))
    sent = assessment(1, destination_kind="welfare", destination_shelter_id=2, welfare_shelter_id=2, welfare_direct=True,
                      travel_mode="welfare_transport", distance_m=2500.0, travel_min=12.0)
    found = assess_one(sent, home, [shelter(1, at(1)), deep_welfare, dry_welfare], agreements=[(1, 2)])
    assert rules(found, Kind.TOOLKIT) == {Rule.DEST_UNSAFE}
    transfer = assessment(1, destination_shelter_id=1, welfare_shelter_id=2, travel_mode="welfare_transport",
                          distance_m=900.0, reasons=[{"code": "WELFARE_TRANSFER", "text": "…"}])
    assert rules(assess_one(transfer, home, [shelter(1, at(1)), deep_welfare, dry_welfare])) == {Rule.WELFARE_UNSAFE}
    fine = assessment(1, destination_kind="welfare", destination_shelter_id=3, welfare_shelter_id=3, welfare_direct=True,
                      travel_mode="welfare_transport", distance_m=2000.0)
    assert assess_one(fine, home, [shelter(1, at(1)), deep_welfare, dry_welfare], agreements=[(1, 3)]) == []


def test_a_leaving_without_a_destination() -> None:
    none = assessment(1, destination_shelter_id=None, destination_kind=None, travel_mode=None, start_trigger=None,
                      distance_m=None, start_margin_min=None, destination_reasons=[])
    assert rules(assess_one(none), Kind.TOOLKIT) == {Rule.NO_DESTINATION}
    said = none | {"destination_reasons": [{"code": "NO_SHELTER", "text": "見つかりません。"}]}
    assert rules(assess_one(said), Kind.DATA) == {Rule.NO_DESTINATION} and not rules(assess_one(said), Kind.TOOLKIT)
    unworkable = none | {"start_trigger": "not_workable"}
    assert rules(assess_one(unworkable)) == {Rule.NOT_WORKABLE}
    own_text = none | {"destination_kind": "own_choice", "destination_text": "長女宅"}
    assert assess_one(own_text) == []


def test_a_engine_frames_use_minus_one_and_nan_for_none() -> None:
    row = assessment(1, second_shelter_id=-1, welfare_shelter_id=-1, destination_floor=math.nan)
    assert assess_one(row) == []


def test_a_wheelchair_or_power_needs_a_confirmed_place_or_a_warning() -> None:
    chair = resident(1, at(0), mobility="車いす")
    plain = [shelter(1, at(1), barrier_free=None, backup_power=False)]
    assert rules(assess_one(assessment(1, travel_mode="car"), chair, plain), Kind.TOOLKIT) == {Rule.ACCESS}
    warned = assessment(1, travel_mode="car", destination_reasons=[{"code": "ACCESS_UNCONFIRMED", "text": "設備を確認。"}])
    assert assess_one(warned, chair, plain) == []
    assert assess_one(assessment(1, travel_mode="car"), chair, [shelter(1, at(1))]) == []
    oxygen = resident(1, at(0), medical_devices=["在宅酸素"])
    assert rules(assess_one(assessment(1), oxygen, plain)) == {Rule.ACCESS}
    own = assessment(1, travel_mode="car", destination_reasons=[{"code": "OWN_CHOICE", "text": "希望です。"}])
    found = assess_one(own, chair, plain)
    assert rules(found, Kind.DATA) == {Rule.ACCESS} and not rules(found, Kind.TOOLKIT)


def test_a_welfare_only_facility_is_never_a_plain_shelter_trip() -> None:
    places = [shelter(1, at(1)), welfare_shelter(2, at(2))]
    found = assess_one(assessment(1, destination_shelter_id=2), shelters=places)
    assert rules(found) == {Rule.WELFARE_DIRECT}
    both = [shelter(1, at(1)), welfare_shelter(2, at(2), is_designated_shelter=True)]  # 指定避難所 with a 福祉スペース
    assert assess_one(assessment(1, destination_shelter_id=2), shelters=both) == []


def test_a_the_route_runs_from_home_to_the_destination() -> None:
    home, place = at(0), at(1)
    straight = shapely.to_wkb(shapely.LineString([home, place]))
    assert assess_one(assessment(1, route=straight)) == []
    wrong = shapely.to_wkb(shapely.LineString([home, at(3)]))
    assert rules(assess_one(assessment(1, route=wrong))) == {Rule.ROUTE}
    assert rules(assess_one(assessment(1, route=None))) == {Rule.ROUTE}
    stay = assessment(1, decision="stay", destination_shelter_id=None, travel_mode=None, start_trigger=None, route=None)
    assert assess_one(stay, resident(1, at(10))) == []


# --- (b) walking legs ---

@pytest.mark.parametrize(("mobility", "care", "metres", "ok"), [
    ("自立", None, 1990, True), ("自立", None, 2100, False),
    ("杖・歩行器", None, 480, True), ("杖・歩行器", None, 800, False),
    ("自立", "要支援1", 800, False), ("自立", "要介護2", 450, True),
    ("車いす", None, 450, True), ("車いす", None, 700, False),
    ("寝たきり", "要介護5", 50, False),
])
def test_b_walking_within_the_limit_of_the_mobility_class(mobility: str, care: str | None, metres: float, ok: bool) -> None:
    found = assess_one(assessment(1, distance_m=float(metres), walk_min=metres / 60, travel_min=metres / 60),
                       resident(1, at(0), mobility=mobility, care_level=care))
    assert rules(found) == (set() if ok else {Rule.WALK_TOO_FAR})


def test_b_a_car_may_go_far_but_a_walk_may_not_take_an_hour() -> None:
    assert assess_one(assessment(1, travel_mode="car", distance_m=6000.0, walk_min=100.0, travel_min=18.0)) == []
    assert rules(assess_one(assessment(1, distance_m=1900.0, walk_min=75.0, travel_min=75.0))) == {Rule.WALK_TOO_LONG}


def test_b_an_old_style_row_that_prints_a_walk_is_judged_as_a_walk() -> None:
    """Rows without travel_mode but with "歩いて約N分" (today's engine) are read as walks."""
    old = assessment(1, travel_mode=None, walk_min=None, start_trigger=None, distance_m=6400.0, travel_min=213.0,
                     destination_reasons=[{"code": "DISTANCE", "text": "距離は約6.4km、歩いて約213分です。"}])
    found = assess_one(old, resident(1, at(0), mobility="寝たきり"))
    assert {Rule.WALK_TOO_FAR, Rule.WALK_TOO_LONG, Rule.TRAVEL_MODE, Rule.START_TRIGGER} <= rules(found, Kind.TOOLKIT)


def test_b_unknown_travel_mode_is_a_violation() -> None:
    assert rules(assess_one(assessment(1, travel_mode="boat"))) == {Rule.TRAVEL_MODE}


# --- (c) timing ---

def test_c_negative_margin_needs_an_earlier_trigger() -> None:
    assert rules(assess_one(assessment(1, start_margin_min=-25.0))) == {Rule.NEGATIVE_MARGIN}
    assert assess_one(assessment(1, start_margin_min=-25.0, start_trigger="early")) == []
    assert assess_one(assessment(1, start_margin_min=-300.0, start_trigger="previous_day")) == []
    found = assess_one(assessment(1, start_margin_min=-900.0, start_trigger="not_workable"))
    assert rules(found, Kind.DATA) == {Rule.NOT_WORKABLE} and not rules(found, Kind.TOOLKIT)
    assert rules(assess_one(assessment(1, start_trigger=None))) == {Rule.START_TRIGGER}
    assert rules(assess_one(assessment(1, start_trigger="soon"))) == {Rule.START_TRIGGER}


@dataclasses.dataclass
class Evac:
    car_speed_kmh: float = 20.0
    car_arrange_min: float = 20.0
    early_window_min: float = 180.0
    previous_day_window_min: float = 720.0


def timed(a: dict[str, Any]) -> list[Violation]:
    data = inputs([a], [resident(1, at(0))], [shelter(1, at(1))], CITY)
    data.evacuation = Evac()
    return check_assessments(data)


def test_c_times_are_not_understated() -> None:
    assert timed(assessment(1, distance_m=900.0, travel_min=15.0)) == []
    assert rules(timed(assessment(1, distance_m=900.0, travel_min=5.0))) == {Rule.TRAVEL_TIME}  # 3 m/s on foot
    car = {"travel_mode": "car", "distance_m": 6000.0, "prepare_min": 35.0}
    assert timed(assessment(1, travel_min=18.0, **car)) == []
    assert rules(timed(assessment(1, travel_min=6.0, **car))) == {Rule.TRAVEL_TIME}  # 60 km/h in heavy rain
    assert rules(timed(assessment(1, travel_min=18.0, **car | {"prepare_min": 10.0}))) == {Rule.TRAVEL_TIME}


def test_c_an_early_start_must_fit_its_window() -> None:
    assert timed(assessment(1, start_trigger="early", start_margin_min=-150.0)) == []
    assert rules(timed(assessment(1, start_trigger="early", start_margin_min=-200.0))) == {Rule.NEGATIVE_MARGIN}
    assert timed(assessment(1, start_trigger="previous_day", start_margin_min=-600.0)) == []
    assert rules(timed(assessment(1, start_trigger="previous_day", start_margin_min=-900.0))) == {Rule.NEGATIVE_MARGIN}


# --- (d) 福祉避難所 direct evacuation only with an agreement ---

def test_d_direct_evacuation_needs_a_stored_agreement_for_that_person_and_place() -> None:
    places = [shelter(1, at(1)), welfare_shelter(2, at(2))]
    direct = assessment(1, destination_kind="welfare", destination_shelter_id=2, welfare_shelter_id=2, welfare_direct=True)
    assert assess_one(direct, shelters=places, agreements=[(1, 2)]) == []
    assert rules(assess_one(direct, shelters=places)) == {Rule.WELFARE_DIRECT}
    assert rules(assess_one(direct, shelters=places, agreements=[(9, 2)])) == {Rule.WELFARE_DIRECT}
    not_there = direct | {"destination_kind": "shelter", "destination_shelter_id": 1}
    assert rules(assess_one(not_there, shelters=places, agreements=[(1, 2)])) == {Rule.WELFARE_DIRECT}
    unagreed = direct | {"welfare_direct": False}
    assert rules(assess_one(unagreed, shelters=places)) == {Rule.WELFARE_DIRECT}
    transfer = assessment(1, welfare_shelter_id=2, destination_reasons=[{"code": "WELFARE_TRANSFER", "text": "…"}])
    assert assess_one(transfer, shelters=places) == []


def test_d_unplaced_person_is_a_todo() -> None:
    found = assess_one(assessment(1, welfare_needed=True, welfare_unplaced=True))
    assert rules(found, Kind.DATA) == {Rule.WELFARE_UNPLACED} and not rules(found, Kind.TOOLKIT)
    silent = assess_one(assessment(1, welfare_needed=True))
    assert rules(silent, Kind.TOOLKIT) == {Rule.WELFARE_UNPLACED}
    assert assess_one(assessment(1, welfare_needed=True, welfare_shelter_id=1)) == []


def test_d_no_welfare_shelter_is_planned_beyond_its_places() -> None:
    people = [resident(i, at(0)) for i in (1, 2, 3)]
    places = [shelter(1, at(1)), welfare_shelter(2, at(2), capacity=2)]
    planned = [assessment(i, welfare_needed=True, welfare_shelter_id=2) for i in (1, 2, 3)]
    found = check_assessments(inputs(planned, people, places, CITY))
    assert rules(found) == {Rule.WELFARE_CAPACITY} and {v.resident_no for v in found} == {"R0001", "R0002", "R0003"}
    assert "2人" in found[0].message and "3人" in found[0].message
    assert check_assessments(inputs(planned[:2], people[:2], places, CITY)) == []

    wishes = [resident(i, at(0), preferred_shelter_code="S2") for i in (1, 2, 3)]
    found = check_assessments(inputs(planned, wishes, places, CITY))
    assert rules(found, Kind.DATA) == {Rule.WELFARE_CAPACITY} and not rules(found, Kind.TOOLKIT)
    one_wish = [wishes[0], *people[1:]]  # one own choice and two assigned into the one place left
    found = check_assessments(inputs(planned, one_wish, places, CITY))
    assert {v.resident_no for v in found if v.kind is Kind.TOOLKIT} == {"R0002", "R0003"}


# --- texts of the reasons ---

def test_a_time_range_is_not_a_negative_time() -> None:
    row = assessment(1) | {"destination_reasons": [{"code": "X", "text": "車で10-20分、余裕は－15分。"}]}
    found = assess_one(row)
    assert rules(found) == {Rule.TEXT_NEGATIVE} and len(found) == 1
    assert assess_one(assessment(1) | {"destination_reasons": [{"code": "X", "text": "車で10-20分です。"}]}) == []


@pytest.mark.parametrize(("fields", "text", "rule"), [
    ({"travel_mode": "car"}, "距離は約6.4km、歩いて約80分です。", Rule.TEXT_WALK),
    ({}, "出発まで-35分の余裕です。", Rule.TEXT_NEGATIVE),
    ({}, "福祉避難所2に直接避難できます。", Rule.TEXT_DIRECT),
    ({}, "警戒レベル3を待たず、大雨の予報・警報の段階で早めに出発。", Rule.TIMELINE_START),
])
def test_reason_texts_that_contradict_the_decision(fields: dict[str, Any], text: str, rule: Rule) -> None:
    row = assessment(1, **fields) | {"destination_reasons": [{"code": "X", "text": text}]}
    assert rule in rules(assess_one(row))
    assert assess_one(assessment(1, **fields) | {"destination_reasons": [{"code": "X", "text": "近い避難所です。"}]}) == []


# --- staying at home must be safe at home ---

@pytest.mark.parametrize(("where", "fields", "safe"), [
    (at(10), {}, True),  # < 0.5 m
    (at(8), {"building_floors": 2}, True),  # 0.5-3 m, two storeys, stairs
    (at(8), {"building_floors": 1}, False),
    (at(8), {"building_floors": 5, "home_floor": 1}, False),  # ground-floor flat
    (at(8), {"building_floors": 5, "home_floor": 3}, True),
    (at(8), {"can_use_stairs": False, "bedroom_floor": 1}, False),
    (at(8), {"mobility": "車いす", "bedroom_floor": 2}, True),
    (at(7), {"building_floors": 2}, False),  # 3-5 m needs floor 3
    (at(5), {"building_floors": 3}, False),  # landslide
    (at(6), {"building_floors": 3}, False),  # 家屋倒壊等
])
def test_staying_is_checked_against_the_home_hazards(where: tuple[float, float], fields: dict[str, Any], safe: bool) -> None:
    stay = assessment(1, decision="stay_upstairs", destination_shelter_id=None, travel_mode=None, start_trigger=None,
                      distance_m=None, start_margin_min=None)
    found = assess_one(stay, resident(1, where, **fields))
    assert rules(found) == (set() if safe else {Rule.STAY_UNSAFE})


def test_staying_through_a_long_flood_with_a_ventilator_is_unsafe() -> None:
    long = zones(zone(HazardLayer.FLOOD_L2_DEPTH, cell(0), rank=1), zone(HazardLayer.FLOOD_DURATION, cell(0), rank=3))
    stay = assessment(1, decision="stay_upstairs", destination_shelter_id=None, travel_mode=None, start_trigger=None)
    found = check_assessments(inputs([stay], [resident(1, at(0), medical_devices=["人工呼吸器"])], [shelter(1, at(1))], long))
    assert rules(found) == {Rule.STAY_UNSAFE}
    found = check_assessments(inputs([stay], [resident(1, at(0))], [shelter(1, at(1))], long))
    assert found == []


# --- (e) timeline rows, (f) consent gate ---

def plans(a: dict[str, Any], r: dict[str, Any], ctx: dict[str, Any]) -> list[Violation]:
    return check_plans(inputs([a], [r], [shelter(1, at(1))], CITY, contexts=[ctx]))


STAY = assessment(1, decision="stay_upstairs", reachable_floor=2, destination_shelter_id=1)


def test_e_people_who_stay_are_never_told_they_have_finished_evacuating() -> None:
    assert rules(plans(STAY, resident(1, at(8)), context(1))) == {Rule.TIMELINE_DONE}
    assert plans(STAY, resident(1, at(8)), context(1, timeline(level4="上の階で過ごす。"))) == []
    assert plans(assessment(1), resident(1, at(0)), context(1)) == []


@pytest.mark.parametrize(("fields", "text", "ok"), [
    ({"building_floors": 2}, "2階へ移り、水・食料を運ぶ。", True),
    ({"building_floors": 2}, "３階へ移る。", False),  # full-width digits
    ({"building_floors": 6, "home_floor": 1}, "自宅の上の階（5階）へ移る。", False),
    ({"building_floors": 6, "home_floor": 4}, "4階の自宅で過ごす。", True),
    ({"building_floors": 3, "can_use_stairs": False, "bedroom_floor": 1}, "二階へ移る。", False),
    ({"building_floors": 1}, "避難所1の3階へ移る。", True),  # the destination's floor, not home
])
def test_e_no_floor_above_what_the_person_can_reach(fields: dict[str, Any], text: str, ok: bool) -> None:
    found = plans(STAY | {"reachable_floor": 9}, resident(1, at(8), **fields), context(1, timeline(level3=text, level4="")))
    assert rules(found) == (set() if ok else {Rule.TIMELINE_FLOOR})


def test_e_no_high_place_for_someone_who_cannot_use_stairs() -> None:
    high = context(1, timeline(level5="命を守る行動をとる（近くの高い建物や、家の高い所へ）。"))
    assert rules(plans(assessment(1), resident(1, at(0), mobility="車いす"), high)) == {Rule.TIMELINE_HIGH_PLACE}
    assert rules(plans(assessment(1), resident(1, at(0), can_use_stairs=False), high)) == {Rule.TIMELINE_HIGH_PLACE}
    assert plans(assessment(1), resident(1, at(0)), high) == []
    near = context(1, timeline(level5="命を守る行動をとる（近くの高い所へ）。"))
    assert plans(assessment(1), resident(1, at(0), mobility="車いす"), near) == []


def test_e_level3_row_agrees_with_an_early_start() -> None:
    early = assessment(1, start_trigger="early", start_margin_min=-20.0)
    assert rules(plans(early, resident(1, at(0)), context(1))) == {Rule.TIMELINE_START}
    done = context(1, timeline(level3="避難先に着いている。まだなら、すぐ出発する。", level2="大雨の予報が出たら出発する。"))
    assert plans(early, resident(1, at(0)), done) == []


def test_e_non_walkers_are_never_told_to_walk_in_the_plan() -> None:
    car = assessment(1, travel_mode="car", distance_m=4000.0)
    ctx = context(1, destination={"name": "避難所1", "reasons": ["距離は約4.0km、歩いて約67分です。"]})
    assert rules(plans(car, resident(1, at(0)), ctx)) == {Rule.TEXT_WALK}


def test_e_the_floor_to_use_at_the_destination_is_printed() -> None:
    upper = assessment(1, destination_floor=3)
    assert rules(plans(upper, resident(1, at(0)), context(1))) == {Rule.DEST_FLOOR}
    named = context(1, destination={"name": "避難所1", "reasons": ["避難所1では3階以上を使います。"]})
    assert plans(upper, resident(1, at(0)), named) == []


def test_e_engine_warnings_reach_the_plan() -> None:
    issue = {"code": "SUPPORTER_AT_RISK", "text": "支援者の自宅も危険な区域にあります。"}
    unsafe = {"code": "OWN_CHOICE_UNSAFE", "text": "希望の避難先は浸水する区域にあります。"}
    a = assessment(1, supporter_issues=[issue], destination_reasons=[{"code": "OWN_CHOICE", "text": "…"}, unsafe])
    found = plans(a, resident(1, at(0)), context(1))
    assert rules(found) == {Rule.WARNING_HIDDEN} and len(found) == 2
    shown = context(1, supporter_warnings=[{"text": issue["text"], "action": "2人目を探す。"}],
                    destination={"name": "避難所1", "warnings": [unsafe["text"]]})
    assert plans(a, resident(1, at(0)), shown) == []
    two = [{"code": "SUPPORTER_AT_RISK", "text": f"支援者（{who}）の自宅も危険な区域にあります。"} for who in ("民生委員", "近隣住民")]
    merged = context(1, supporter_warnings=[{"text": "支援者（民生委員・近隣住民）の自宅も危険な区域にあります。"}])
    assert plans(assessment(1, supporter_issues=two), resident(1, at(0)), merged) == []
    one = context(1, supporter_warnings=[{"text": "支援者（民生委員）の自宅も危険な区域にあります。"}])
    assert rules(plans(assessment(1, supporter_issues=two), resident(1, at(0)), one)) == {Rule.WARNING_HIDDEN}


def test_f_without_plan_consent_the_plan_is_a_draft() -> None:
    r = resident(1, at(0), consent_plan=False)
    assert rules(plans(assessment(1), r, context(1, consent_plan=False, draft=False))) == {Rule.CONSENT_GATE}
    assert rules(plans(assessment(1), r, context(1, consent_plan=False) | {"draft": None})) == {Rule.CONSENT_GATE}
    assert plans(assessment(1), r, context(1, consent_plan=False, draft=True)) == []


def test_f_a_plan_without_an_assessment_is_a_todo() -> None:
    found = check_plans(inputs([assessment(2)], [resident(1, at(0)), resident(2, at(0))], [shelter(1, at(1))],
                               contexts=[context(1)]))
    assert rules(found, Kind.DATA) == {Rule.PLAN_MISSING}


# --- (g) statutory fields as to-dos ---

COMPLETE = {
    "supporters": [{"name": "支援 一郎", "address": "テスト町2-2", "phone": "000-1111-2222"}],
    "contacts": [{"name": "家族 花子", "relation": "長女", "phone": "000-3333-4444"}],
    "professionals": [],
}


def records(**fields: Any) -> list[Violation]:
    return check_records(inputs([assessment(1)], [resident(1, at(0)) | COMPLETE | fields], [shelter(1, at(1))]))


def test_g_a_complete_record_has_no_todo() -> None:
    assert records() == []


@pytest.mark.parametrize(("fields", "rule"), [
    ({"supporters": []}, Rule.NO_SUPPORTER),
    ({"supporters": [{"name": "支援 一郎", "address": None, "phone": "000"}]}, Rule.SUPPORTER_FIELDS),
    ({"supporters": [{"name": "支援 一郎", "address": "町", "phone": ""}]}, Rule.SUPPORTER_FIELDS),
    ({"contacts": []}, Rule.NO_EMERGENCY_CONTACT),
    ({"contacts": [{"name": "家族", "relation": "長男", "phone": None}]}, Rule.NO_EMERGENCY_CONTACT),
    ({"contacts": [{"name": "住民1", "relation": "本人", "phone": "000-2222-3333"}]}, Rule.NO_EMERGENCY_CONTACT),
    ({"contacts": [{"name": "家族 一郎", "relation": "長男", "phone": "000 0000 0000"}]}, Rule.NO_EMERGENCY_CONTACT),
    ({"info_reception": []}, Rule.NO_INFO_RECEPTION),
    ({"medical_devices": ["人工呼吸器"]}, Rule.MEDICAL_CONTACTS),
    ({"consent_plan": False}, Rule.NO_PLAN_CONSENT),
    ({"address": ""}, Rule.RESIDENT_FIELDS),
])
def test_g_missing_statutory_fields_are_todos_for_the_leader(fields: dict[str, Any], rule: Rule) -> None:
    found = records(**fields)
    assert rules(found) == {rule}
    assert all(v.kind is Kind.DATA and v.action for v in found)


def test_g_doctor_and_device_supplier_satisfy_the_medical_contacts() -> None:
    devices = {"medical_devices": ["在宅酸素"]}
    doctor = {"role": "主治医", "name": "医師", "phone": "000"}
    supplier = {"role": "医療機器業者", "name": "業者", "phone": "000"}
    assert "医療機器の業者" in records(**devices, professionals=[doctor])[0].message
    assert records(**devices, professionals=[doctor, supplier]) == []


def test_g_supporter_warnings_from_the_engine_become_todos() -> None:
    issue = [{"code": "SUPPORTER_AT_RISK", "text": "支援者の自宅も危険な区域にあります。"}]
    found = check_records(inputs([assessment(1, supporter_issues=issue)], [resident(1, at(0)) | COMPLETE], [shelter(1, at(1))]))
    assert rules(found) == {Rule.SUPPORTER_ISSUE} and found[0].message == issue[0]["text"]


def test_audit_runs_every_check_and_keeps_one_violation_per_resident_rule_and_message() -> None:
    ctx = context(1, destination={"name": "避難所1", "reasons": ["福祉避難所に直接避難できます。"]})
    a = assessment(1, destination_reasons=[{"code": "X", "text": "福祉避難所に直接避難できます。"}])
    found = audit(inputs([a], [resident(1, at(0), consent_plan=False) | COMPLETE], [shelter(1, at(1))], CITY,
                         contexts=[ctx | {"consent_plan": False, "draft": True}]))
    assert sorted(v.rule.value for v in found) == ["NO_PLAN_CONSENT", "TEXT_DIRECT"]  # the reason and the plan say it once
    assert found[0].as_dict()["kind"] in ("toolkit", "data")


def test_e_nobody_is_told_to_stay_on_a_floor_that_will_be_under_water() -> None:
    stay_put = context(1, timeline(level5="命を守る行動をとる。外へ出るのが危ないときは、今いる階の窓から離れた安全な場所で。"))
    one_storey = resident(1, at(7), building_floors=1)  # 3-5 m of water reaches above its only floor
    assert rules(plans(assessment(1), one_storey, stay_put)) == {Rule.TIMELINE_UNDER_WATER}
    second_floor = context(1, timeline(level5="命を守る行動をとる。外へ出るのが危ないときは、家の高い所（2階）の部屋へ。"))
    assert rules(plans(assessment(1), resident(1, at(7), building_floors=2), second_floor)) == {Rule.TIMELINE_UNDER_WATER}
    assert plans(assessment(1), resident(1, at(10), building_floors=1), stay_put) == []  # under 0.5 m: the floor stays dry
    leave_first = context(1, timeline(level5="ここまでに必ず避難を終えておく。まだ家にいるときは、すぐに119番と支援者に助けを求める。"))
    assert plans(assessment(1), one_storey, leave_first) == []


def test_violations_come_by_resident_whatever_order_the_rows_arrive_in() -> None:
    """PostgreSQL returns rows in no fixed order: the same data must give the same list."""
    people = [resident(rid, at(0)) for rid in (1, 2, 3)]
    trips = [assessment(rid, destination_shelter_id=9) for rid in (1, 2, 3)]  # no such shelter: a violation each
    forward = audit(inputs(trips, people, [shelter(1, at(0))]))
    backward = audit(inputs(trips[::-1], people[::-1], [shelter(1, at(0))]))
    assert [v.resident_no for v in forward] == sorted(v.resident_no for v in forward) and len(forward) >= 3
    assert forward == backward


def test_a_printed_walk_beyond_the_person_s_limit_is_a_toolkit_violation() -> None:
    """A plan record may change the place or the way to go: the plan as printed is checked too."""
    far = {"name": "避難所1", "reasons": [], "distance_km": 3.5, "transport": {"mode": "walk", "label": "歩いて"}}
    near = far | {"distance_km": 0.4}
    for person, where, expected in ((resident(1, at(0), mobility="寝たきり"), near, True),
                                    (resident(1, at(0)), far, True), (resident(1, at(0)), near, False)):
        found = check_plans(inputs([assessment(1)], [person], [shelter(1, at(1))], contexts=[context(1, destination=where)]))
        assert (Rule.WALK_TOO_FAR in rules(found, Kind.TOOLKIT)) is expected, (person["mobility"], where)
