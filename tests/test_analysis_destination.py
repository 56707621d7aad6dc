"""Destinations: disqualifying rules, access needs, 福祉避難所 capacity and priority, own choice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.codes import HazardLayer
from disaster.profile import EvacuationProfile
from tests.analysis_fixtures import METRIC_CRS, box, centre, frame, no_supporters, resident, shelter, zones

L2, SLIDE = HazardLayer.FLOOD_L2_DEPTH, HazardLayer.LANDSLIDE
FLOOD_ZONES = zones((L2, box(0, 0, size=0.03), {"rank": 2}))  # cells 0-2 flooded 0.5-3 m


def _run(residents: list[dict], shelters: list[dict], hazard=FLOOD_ZONES, supporters=None, links=None) -> pd.DataFrame:
    default_supporters, default_links = no_supporters()
    inputs = AssessmentInputs(frame(residents), frame(shelters), hazard,
                              supporters if supporters is not None else default_supporters,
                              links if links is not None else default_links)
    result = assess(inputs, AssessmentParameters(EvacuationProfile(), METRIC_CRS))
    result["codes"] = result["destination_reasons"].map(lambda rs: [r["code"] for r in rs])
    return result


def test_shelter_inside_deep_flood_zone_is_never_suggested_for_flood() -> None:
    home = centre(0)
    near_but_flooded = shelter(1, centre(1), hazard_flood=True)  # designated for flood, yet in 0.5 m+ water
    far_and_dry = shelter(2, centre(5))
    result = _run([resident(1, home, building_floors=1)], [near_but_flooded, far_and_dry])
    assert result.loc[0, "destination_shelter_id"] == 2
    assert result.loc[0, "second_shelter_id"] == -1  # the flooded one is not even a second option


def test_shallow_water_does_not_disqualify_and_designation_is_explained() -> None:
    hazard = zones((L2, box(0), {"rank": 2}), (L2, box(1), {"rank": 1}))
    result = _run([resident(1, centre(0), building_floors=1)],
                  [shelter(1, centre(1), hazard_flood=True), shelter(2, centre(5))], hazard=hazard)
    assert result.loc[0, "destination_shelter_id"] == 1
    text = result.loc[0, "destination_reasons"][0]["text"]
    assert "洪水の指定緊急避難場所です" in text


def test_wheelchair_user_is_never_sent_to_a_non_barrier_free_site() -> None:
    shelters = [shelter(1, centre(4), barrier_free=False), shelter(2, centre(5), barrier_free=None),
                shelter(3, centre(8), barrier_free=True)]
    result = _run([resident(1, centre(0), mobility="車いす"), resident(2, centre(0))], shelters)
    assert result.loc[0, "destination_shelter_id"] == 3
    assert result.loc[1, "destination_shelter_id"] == 1  # walkers take the nearest


def test_when_no_site_meets_access_needs_the_plan_says_so() -> None:
    result = _run([resident(1, centre(0), mobility="車いす")], [shelter(1, centre(4), barrier_free=None)])
    assert result.loc[0, "destination_shelter_id"] == 1
    assert "ACCESS_UNCONFIRMED" in result.loc[0, "codes"]


def test_power_dependent_devices_need_backup_power() -> None:
    shelters = [shelter(1, centre(4)), shelter(2, centre(7), backup_power=True)]
    result = _run([resident(1, centre(0), medical_devices=["在宅酸素"])], shelters)
    assert result.loc[0, "destination_shelter_id"] == 2


def test_landslide_resident_never_goes_to_a_site_in_a_landslide_zone() -> None:
    hazard = zones((SLIDE, box(10), {"landslide_kind": 1, "landslide_class": 1}),
                   (SLIDE, box(11), {"landslide_kind": 2, "landslide_class": 1}))
    shelters = [shelter(1, centre(11), hazard_landslide=True), shelter(2, centre(14))]
    result = _run([resident(1, centre(10))], shelters, hazard=hazard)
    assert result.loc[0, "destination_shelter_id"] == 2


def _welfare(sid: int, at, capacity: int, **fields) -> dict:
    defaults = {"accepted_groups": "高齢者（要介護）", "accepts_direct": True, "backup_power": True}
    return shelter(sid, at, is_designated_shelter=False, is_welfare_shelter=True, capacity=capacity,
                   **(defaults | fields))


def test_welfare_places_go_to_the_highest_need_first_and_never_exceed_capacity() -> None:
    people = [
        resident(1, centre(0), care_level="要介護3", building_floors=1),  # nearer, lower need
        resident(2, centre(2), care_level="要介護5", building_floors=1, lives_alone=True),
        resident(3, centre(1), care_level="要介護4", building_floors=1),
    ]
    shelters = [_welfare(10, centre(4), capacity=2), shelter(11, centre(5))]
    result = _run(people, shelters).set_index("resident_id")
    planned = result[result["welfare_shelter_id"] == 10]
    assert sorted(planned.index) == [2, 3]  # the two highest priorities
    assert result.loc[1, "welfare_unplaced"] and result.loc[1, "welfare_shelter_id"] == -1
    assert result.loc[1, "destination_shelter_id"] == 11 and "WELFARE_UNPLACED" in result.loc[1, "codes"]
    # no agreement with the facility: 指定避難所 first, then transfer (never "直接避難できます")
    assert (result.loc[[2, 3], "destination_kind"] == "shelter").all()
    assert (result.loc[[2, 3], "destination_shelter_id"] == 11).all()
    assert not result["welfare_direct"].any()
    assert all("WELFARE_TRANSFER" in result.loc[i, "codes"] for i in (2, 3))
    assert all("直接避難できます" not in r["text"] for rs in result["destination_reasons"] for r in rs)


def test_welfare_needs_matching_acceptance() -> None:
    people = [resident(1, centre(0), care_level="要介護4", building_floors=1)]
    shelters = [
        _welfare(10, centre(3), capacity=5, accepted_groups="障害者"),  # wrong group
        _welfare(11, centre(4), capacity=5),
        _welfare(12, centre(9), capacity=5),
        shelter(13, centre(5)),
    ]
    row = _run(people, shelters).iloc[0]
    assert row["welfare_shelter_id"] == 11  # the nearest that accepts 要介護
    assert row["destination_shelter_id"] == 13
    transfer = next(r["text"] for r in row["destination_reasons"] if r["code"] == "WELFARE_TRANSFER")
    assert "避難所11" in transfer and "避難所13" in transfer


def test_residents_own_choice_is_kept_and_flagged_when_unsafe() -> None:
    shelters = [shelter(1, centre(1), code="FAR-WET"), shelter(2, centre(5))]
    people = [
        resident(1, centre(0), preferred_shelter_code="FAR-WET", building_floors=1),
        resident(2, centre(0), preferred_destination="長女宅（小郡市）", building_floors=1),
    ]
    result = _run(people, shelters)
    assert result.loc[0, "destination_shelter_id"] == 1
    assert {"OWN_CHOICE", "OWN_CHOICE_UNSAFE"} <= set(result.loc[0, "codes"])
    assert result.loc[0, "second_shelter_id"] == 2  # a safe alternative
    unsafe = next(r["text"] for r in result.loc[0, "destination_reasons"] if r["code"] == "OWN_CHOICE_UNSAFE")
    assert "避難所2" in unsafe and "浸水" in unsafe
    assert result.loc[1, "destination_kind"] == "own_choice"
    assert result.loc[1, "destination_text"] == "長女宅（小郡市）"
    assert result.loc[1, "destination_shelter_id"] == -1 and np.isnan(result.loc[1, "distance_m"])
    assert result.loc[1, "second_shelter_id"] == 2
    assert result.loc[1, "start_trigger"] == "early"  # the way is unknown: leave early, never "level 3"


def test_own_choice_of_a_welfare_shelter_uses_up_a_place() -> None:
    people = [resident(1, centre(0), care_level="要介護5", preferred_shelter_code="S10", building_floors=1),
              resident(2, centre(0), care_level="要介護5", building_floors=1)]
    result = _run(people, [_welfare(10, centre(4), capacity=1), shelter(11, centre(5))])
    assert result.loc[0, "welfare_shelter_id"] == 10
    assert result.loc[0, "destination_kind"] == "shelter"  # no agreement yet: 指定避難所 first
    assert {"OWN_CHOICE", "WELFARE_TRANSFER"} <= set(result.loc[0, "codes"])
    assert result.loc[1, "welfare_unplaced"]


def test_route_through_deep_water_is_flagged_for_dry_homes() -> None:
    hazard = zones((L2, box(2), {"rank": 3}))
    result = _run([resident(1, centre(0)), resident(2, centre(2), building_floors=1)], [shelter(1, centre(4))], hazard=hazard)
    assert result.loc[0, "crosses_deep_water"] and "DEEP_WATER_ROUTE" in result.loc[0, "codes"]
    assert not result.loc[1, "crosses_deep_water"]  # already told to leave early


def test_every_resident_has_reasons_and_timing() -> None:
    result = _run([resident(i, centre(i % 6)) for i in range(1, 13)], [shelter(1, centre(7))])
    assert result["destination_reasons"].map(len).min() >= 3
    assert (result["travel_min"] > 0).all() and result["start_margin_min"].notna().all()


def test_no_shelter_at_all_is_said_plainly() -> None:
    no_shelters = frame([shelter(1, centre(0))]).iloc[0:0]
    inputs = AssessmentInputs(frame([resident(1, centre(0), building_floors=1)]), no_shelters, FLOOD_ZONES, *no_supporters())
    result = assess(inputs, AssessmentParameters(EvacuationProfile(), METRIC_CRS))
    assert result.loc[0, "destination_shelter_id"] == -1
    assert [r["code"] for r in result.loc[0, "destination_reasons"]] == ["NO_SHELTER", "NOT_WORKABLE"]
    assert result.loc[0, "start_trigger"] == "not_workable" and result.loc[0, "travel_mode"] is None
