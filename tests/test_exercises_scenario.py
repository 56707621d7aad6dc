"""図上訓練 scenarios a trainer can run as they are: the district's own gauge from the city
profile, level 3 only at 避難判断水位, scenario time apart from session time, no contradictory
places, grid references from the DIG grid, homes that fit the people, real dilemmas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select

from disaster import profile as profile_module
from disaster.access import Principal
from disaster.exercises.dilemmas import DILEMMAS
from disaster.exercises.scenario import (
    CitySetting,
    DistrictFacts,
    ExerciseHazard,
    GaugeInfo,
    Person,
    Place,
    Scenario,
    generate,
    recommendation_conflicts,
    session_plan,
)
from disaster.models import District, Resident, Shelter
from disaster.settings import get_settings
from disaster.usecases.exercises import city_setting, district_facts
from maps.dig import exercise_grid

START = dt.datetime(2026, 7, 8, 18, 0)
ROOT = Path(__file__).resolve().parent.parent
CITY_WORDS = ("久留米", "筑後川", "瀬ノ下", "片ノ瀬", "水縄", "耳納", "402036", "0942-")


def _facts(store, hazard: ExerciseHazard, district: str = "安武") -> DistrictFacts:
    with store.sessions() as session:
        return district_facts(session, Principal.cli(store.city_code), district, hazard, today=dt.date(2026, 4, 1))


def _text(scenario: Scenario) -> str:
    return json.dumps([dataclasses.asdict(i) for i in scenario.injects], ensure_ascii=False)


def _setting(river: str = "例川", gauge: str = "例橋") -> CitySetting:
    return CitySetting("例示市", GaugeInfo(gauge, river, "例示町", "例川河川事務所", 1.0, 2.0, 3.0, 3.5, True),
                       "例示断層", "6弱", "例示山地", "例水門")


def _person(no: int, **home) -> Person:
    return Person(no, f"{'ABCDEFGH'[no]}さん", "80代・独居", no == 1, cell="B2", **home)


def _hand_facts(shelters: list[Place], people: list[Person] | None = None) -> DistrictFacts:
    return DistrictFacts("例示", None, 10, people or [_person(0), _person(1), _person(2)], 3, shelters,
                         [Place("例福祉", "C3", True, welfare=True)], 2, ["例示沢"], _setting(),
                         {"例示沢": "A1"}, "B2")


# --- gauges per district, from the profile -------------------------------------------------

def test_each_district_gets_its_own_gauge_from_the_profile(demo_store) -> None:
    downstream = generate(_facts(demo_store, ExerciseHazard.FLOOD, "安武"), ExerciseHazard.FLOOD, START, seed=1)
    upstream = generate(_facts(demo_store, ExerciseHazard.FLOOD, "田主丸"), ExerciseHazard.FLOOD, START, seed=1)
    assert "瀬ノ下観測所" in _text(downstream) and "片ノ瀬" not in _text(downstream)
    assert "片ノ瀬観測所" in _text(upstream) and "瀬ノ下" not in _text(upstream)
    levels = profile_module.load_profile(demo_store.city_code).exercise.gauge_for("田主丸")
    assert f"{levels.evacuation_m:.2f}m" in _text(upstream)


def test_every_district_of_the_demo_city_is_assigned_a_gauge() -> None:
    import geopandas as gpd

    names = set(gpd.read_file(ROOT / "data" / "demo_bundle" / "districts.geojson")["name"])
    gauges = profile_module.load_profile("402036").exercise.gauges
    listed = [d for g in gauges for d in g.districts]
    assert set(listed) == names and len(listed) == len(names)  # each 校区 exactly once


def test_a_city_with_another_river_reads_its_own_profile(demo_store, tmp_path: Path, monkeypatch) -> None:
    source = (ROOT / "data" / "cities" / "402036.toml").read_text(encoding="utf-8")
    other = source.split("[exercise]")[0].replace('code = "402036"', 'code = "999999"').replace("久留米市", "例示市")
    other = re.sub(r'tel = "[^"]*"', 'tel = "000-0000-0000"', other)
    other = re.sub(r'fax = "[^"]*"', 'fax = "000-0000-0001"', other)
    other += """
[exercise]
earthquake_source = "例示断層帯"
landslide_area = "例示山地"
sluice = "例示水門"

[[exercise.gauges]]
name = "例橋"
river = "例川"
location = "例示町"
office = "例川河川事務所"
standby_m = 1.0
caution_m = 2.0
evacuation_m = 3.1
danger_m = 3.6
districts = ["安武"]
"""
    (tmp_path / "999999.toml").write_text(other, encoding="utf-8")
    kurume = _facts(demo_store, ExerciseHazard.FLOOD)
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(tmp_path))
    get_settings.cache_clear()
    profile_module.load_profile.cache_clear()
    try:
        setting = city_setting("999999", "安武")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        profile_module.load_profile.cache_clear()
    facts = dataclasses.replace(kurume, setting=setting)
    for hazard in ExerciseHazard:
        scenario = generate(facts, hazard, START, seed=2)
        text = _text(scenario) + scenario.title
        assert not [w for w in CITY_WORDS if w in text], hazard
    flood = _text(generate(facts, ExerciseHazard.FLOOD, START, seed=2))
    assert "例川" in flood and "例橋観測所" in flood and "3.10m" in flood and "例示市" in flood
    assert "例示断層帯" in _text(generate(facts, ExerciseHazard.EARTHQUAKE, START, seed=2))


def test_no_city_literal_in_exercise_code_and_templates() -> None:
    files = [*(ROOT / "disaster" / "exercises").glob("*.py"), ROOT / "disaster" / "usecases" / "exercises.py",
             ROOT / "maps" / "dig.py", *(ROOT / "templates").glob("exercise*")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not [w for w in CITY_WORDS if w in text], path.name


# --- level 3 and time ------------------------------------------------------------------------

@pytest.mark.parametrize("district", ["安武", "田主丸", "城島"])
@pytest.mark.parametrize("seed", [1, 7])
def test_level_3_only_once_the_gauge_reaches_the_evacuation_level(demo_store, district, seed) -> None:
    scenario = generate(_facts(demo_store, ExerciseHazard.FLOOD, district), ExerciseHazard.FLOOD, START, seed=seed)
    injects = scenario.injects
    reached = next(i for i in injects if i.refs["gauge_level"] == "evacuation")
    assert "避難判断水位" in reached.message and "達しました" in reached.message
    first3 = next(i for i in injects if (i.level or 0) >= 3)
    assert first3.number >= reached.number and first3.scenario_min >= reached.scenario_min
    order = [i for i in injects if "高齢者等避難（警戒レベル3）を発令" in i.message]
    assert order and all(i.scenario_min >= reached.scenario_min and "避難判断水位" in i.message for i in order)
    danger = next(i for i in injects if i.refs["gauge_level"] == "danger")
    assert danger.scenario_min > reached.scenario_min
    assert not any("洪水注意報" in i.message or "洪水警報" in i.message for i in injects)  # 2026 JMA names


def test_scenario_time_is_apart_from_a_two_hour_session(demo_store) -> None:
    plan = session_plan(2)
    assert sum(b.minutes for b in plan) == 120 and plan[0].start_min == 0
    block = next(b for b in plan if b.title == "状況付与")
    for hazard, district in ((ExerciseHazard.FLOOD, "安武"), (ExerciseHazard.INLAND, "城島"),
                             (ExerciseHazard.LANDSLIDE, "竹野"), (ExerciseHazard.EARTHQUAKE, "山本")):
        scenario = generate(_facts(demo_store, hazard, district), hazard, START, seed=3)
        session = [i.session_min for i in scenario.injects]
        assert session == sorted(session) and len(set(session)) == len(session)
        assert block.start_min <= session[0] and session[-1] <= block.start_min + block.minutes
        assert min(b - a for a, b in zip(session, session[1:], strict=False)) >= 3  # time to read and talk
        assert all(re.fullmatch(r"\d+月\d+日 \d\d:\d\d", i.time) for i in scenario.injects)
        if hazard == ExerciseHazard.FLOOD:
            level3 = next(i.scenario_min for i in scenario.injects if i.level == 3)
            flood = next(i.scenario_min for i in scenario.injects if i.refs["gauge_level"] == "flood")
            assert flood - level3 >= 180  # hours from 高齢者等避難 to 氾濫, not 86 minutes
            assert scenario.injects[-1].scenario_min >= 8 * 60 and "7月9日" in scenario.span
            assert scenario.injects[-1].scenario_min > scenario.injects[-1].session_min


# --- places never contradict each other --------------------------------------------------------

@pytest.mark.parametrize(("hazard", "district"), [(ExerciseHazard.FLOOD, "安武"), (ExerciseHazard.FLOOD, "田主丸"),
                                                   (ExerciseHazard.INLAND, "城島"), (ExerciseHazard.LANDSLIDE, "竹野"),
                                                   (ExerciseHazard.LANDSLIDE, "山本"), (ExerciseHazard.EARTHQUAKE, "山本")])
def test_closed_or_unsafe_places_are_never_recommended(demo_store, hazard, district) -> None:
    facts = _facts(demo_store, hazard, district)
    safe = {p.name for p in facts.shelters if p.safe} | {p.name for p in facts.welfare if p.safe}
    for seed in range(1, 6):
        scenario = generate(facts, hazard, START, difficulty=3, seed=seed)
        assert recommendation_conflicts(scenario) == []
        if hazard != ExerciseHazard.EARTHQUAKE:
            for inject in scenario.injects:
                assert set(inject.refs["recommended"]) <= safe, (seed, inject.number)


def test_conflict_check_is_not_vacuous() -> None:
    shelters = [Place("第一", "A1", True), Place("第二", "A2", True)]
    scenario = generate(_hand_facts(shelters), ExerciseHazard.FLOOD, START, difficulty=3, seed=1)
    full = next(i for i in scenario.injects if i.synopsis.endswith("が満員"))
    later = next(i for i in scenario.injects if i.number > full.number)
    later.refs["recommended"] = list(full.refs["closed"])
    assert recommendation_conflicts(scenario)


def test_when_no_safe_place_is_left_the_card_says_so_and_asks_the_group() -> None:
    shelters = [Place("高台小", "A1", True), Place("川沿い小", "B1", False, "浸水の想定（3.0m以上5.0m未満）の区域の中にある")]
    scenario = generate(_hand_facts(shelters), ExerciseHazard.FLOOD, START, difficulty=3, seed=1)
    texts = [(i, i.message + i.expected_actions) for i in scenario.injects]
    unsafe = next(i for i, _ in texts if i.refs["closed"] == ["川沿い小"])
    assert "開設しません" in unsafe.synopsis and "高台小" in unsafe.expected_actions
    full = next(i for i, _ in texts if i.refs["closed"] == ["高台小"])
    assert "残っていません" in full.message and "班で話し合って決める" in full.expected_actions
    for inject, text in texts:
        if inject.number > full.number:
            assert "高台小へ" not in text and "高台小（" not in text
    assert all("川沿い小" not in i.refs["recommended"] for i in scenario.injects)
    assert scenario.no_safe_place
    nothing = generate(_hand_facts([Place("川沿い小", "B1", False, "家屋倒壊等氾濫想定区域の中にある")]),
                       ExerciseHazard.FLOOD, START, seed=1)
    issued = next(i for i in nothing.injects if i.synopsis == "高齢者等避難の発令")
    assert "想定区域の中" in issued.message and "班で話し合って決める" in issued.expected_actions


# --- grid, homes, dilemmas ------------------------------------------------------------------------

def test_card_grid_references_are_the_dig_grid_cells(demo_store) -> None:
    facts = _facts(demo_store, ExerciseHazard.FLOOD)
    with demo_store.sessions() as session:
        geometry = shapely.from_wkb(session.scalars(select(District.geom).where(District.name == "安武")).one())
        homes = {r.id: (r.lon, r.lat) for r in session.scalars(select(Resident))}
        shelters = {s.name: (s.lon, s.lat) for s in session.scalars(select(Shelter))}
    grid = exercise_grid(geometry)
    ids = {p.label: p.resident_id for p in facts.at_risk}  # cards refer to people by their label only
    checked = 0
    for seed in range(1, 5):
        for inject in generate(facts, ExerciseHazard.FLOOD, START, difficulty=3, seed=seed).injects:
            if inject.map_ref in ("—", "格子の外（校区の外）"):
                continue
            assert inject.map_ref in grid.labels()
            cells = {grid.ref(*homes[ids[r]]) for r in inject.refs["residents"]}
            cells |= {grid.ref(*shelters[p]) for p in inject.refs["places"] if p in shelters}
            assert inject.map_ref in cells or inject.map_ref == facts.district_cell, inject
            checked += 1
    assert checked >= 8
    west, south, east, north = grid.cell_bounds(grid.ref(*homes[facts.at_risk[0].resident_id]) or "")
    lon, lat = homes[facts.at_risk[0].resident_id]
    assert west <= lon <= east and south <= lat <= north
    assert facts.at_risk[0].cell == grid.ref(lon, lat)


@pytest.mark.parametrize(("home", "forbidden", "expected"), [
    ({"building_floors": 1}, "2階", "平屋"),
    ({"building_floors": 2, "can_use_stairs": False}, "2階に上が", "階段を使えない"),
    ({"building_floors": 5, "home_floor": 1}, "5階", "1階"),
    ({"building_floors": 8, "home_floor": 3}, "8階", "3階の自宅"),
])
def test_what_a_card_says_about_home_fits_the_home(home, forbidden, expected) -> None:
    people = [_person(0, **home), _person(1, **home), _person(2, **home)]
    facts = _hand_facts([Place("高台小", "A1", True)], people)
    for hazard in (ExerciseHazard.FLOOD, ExerciseHazard.INLAND):
        text = _text(generate(facts, hazard, START, difficulty=3, seed=1))
        assert forbidden not in text, hazard
    flood = generate(facts, ExerciseHazard.FLOOD, START, difficulty=3, seed=1)
    assert expected in next(i.message for i in flood.injects if i.synopsis == "取り残された人")


def test_a_person_in_a_one_storey_house_is_never_sent_upstairs_in_the_demo(demo_store) -> None:
    with demo_store.sessions() as session:
        floors = {r.id: r.building_floors for r in session.scalars(select(Resident))}
    for district in ("安武", "城島", "大善寺"):
        facts = _facts(demo_store, ExerciseHazard.FLOOD, district)
        ids = {p.label: p.resident_id for p in facts.at_risk}
        for seed in range(1, 6):
            for inject in generate(facts, ExerciseHazard.FLOOD, START, difficulty=3, seed=seed).injects:
                if any(floors[ids[r]] == 1 for r in inject.refs["residents"]):
                    assert "2階" not in inject.message + inject.expected_actions, (district, seed, inject.message)


def test_dilemma_cards_are_real_dilemmas() -> None:
    questions = " ".join(d.question + d.situation for d in DILEMMAS)
    assert "一般の避難所で受け入れる" not in questions  # a 指定避難所 may not turn anyone away: a rule
    assert "名簿の情報を消防に伝える" not in questions  # answered by 49条の11③: a rule
    assert "車で迎えに行く" not in questions  # driving into a flooded road is never a defensible side
    assert len(DILEMMAS) >= 6 and len({d.question for d in DILEMMAS}) == len(DILEMMAS)
    for d in DILEMMAS:
        assert d.question.endswith("？") and d.yes and d.no and d.yes != d.no
        assert len(d.yes) >= 15 and len(d.no) >= 15  # each side has a reason worth defending
        assert not re.search(r"\d+条", d.points + d.yes + d.no)  # no card is settled by citing a rule


def test_evaluator_notes_are_sentences(demo_store) -> None:
    for hazard in ExerciseHazard:
        facts = _facts(demo_store, hazard, "竹野" if hazard == ExerciseHazard.LANDSLIDE else "安武")
        for inject in generate(facts, hazard, START, difficulty=3, seed=1).injects:
            note = inject.evaluator_notes
            assert note.endswith("。") and ("か。" in note) and "をできたか" not in note
            assert "{" not in note + inject.message + inject.expected_actions + inject.synopsis


def test_the_power_cut_card_is_only_about_someone_with_a_powered_device(demo_store) -> None:
    for hazard, district in ((ExerciseHazard.FLOOD, "安武"), (ExerciseHazard.FLOOD, "田主丸"), (ExerciseHazard.EARTHQUAKE, "山本")):
        facts = _facts(demo_store, hazard, district)
        powered = {p.label for p in facts.at_risk if p.power_device}
        for seed in range(1, 4):
            for inject in generate(facts, hazard, START, seed=seed).injects:
                if "医療機器" in inject.synopsis:
                    assert inject.refs["residents"] and set(inject.refs["residents"]) <= powered
    unpowered = [dataclasses.replace(_person(i), power_device=False) for i in range(3)]
    scenario = generate(_hand_facts([Place("高台小", "A1", True)], unpowered), ExerciseHazard.FLOOD, START, seed=1)
    assert not any("医療機器" in i.synopsis for i in scenario.injects)


def test_gauge_levels_must_rise_in_the_official_order() -> None:
    from pydantic import ValidationError

    from disaster.profile import Gauge

    fields = {"name": "例橋", "river": "例川", "office": "例川河川事務所", "standby_m": 1.0, "caution_m": 2.0}
    assert Gauge(**fields, evacuation_m=3.0, danger_m=3.5).evacuation_m == 3.0
    with pytest.raises(ValidationError):
        Gauge(**fields, evacuation_m=3.6, danger_m=3.5)  # 避難判断水位 above 氾濫危険水位


def test_participant_target_comes_from_the_profile() -> None:
    from disaster.exercises.tracking import progress_to_target

    goal = profile_module.load_profile("402036").exercise.participants
    assert goal is not None and (goal.baseline_year, goal.target_year) == (2024, 2030)
    assert progress_to_target(goal.baseline, goal.baseline, goal.target) == 0.0
    assert progress_to_target(150, 100, 200) == 50.0  # another city's figures
