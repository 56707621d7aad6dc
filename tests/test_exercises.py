"""図上訓練: scenarios from district data, materials without personal data, sessions and tracking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import shapely
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.access import Principal
from disaster.cli import app
from disaster.exercises.scenario import ExerciseHazard, generate, levels_consistent
from disaster.exercises.tracking import fiscal_label, fiscal_year, parse_fiscal, progress_to_target
from disaster.importers.problems import ImportRejected
from disaster.models import District, Resident, Shelter
from disaster.plans.context import load_residents, plan_contexts
from disaster.usecases.exercises import (
    SessionInput,
    district_facts,
    export_report,
    import_sessions,
    new_pack,
    record_session,
    report,
)
from disaster.usecases.imports import import_boundary, import_districts
from tests.conftest import BUNDLE
from tests.helpers import snapshot, write_csv

START = dt.datetime(2026, 7, 8, 18, 0)


def _facts(store, hazard: ExerciseHazard, district: str = "安武", closed: bool = False):
    with store.sessions() as session:
        return district_facts(session, Principal.cli(store.city_code), district, hazard, closed, today=dt.date(2026, 4, 1))


def _district_residents(store, district: str) -> list[Resident]:
    with store.sessions() as session:
        return list(session.scalars(select(Resident).join(District).where(District.name == district)))


def test_same_inputs_and_seed_give_the_same_scenario(demo_store) -> None:
    facts = _facts(demo_store, ExerciseHazard.FLOOD)
    first = generate(facts, ExerciseHazard.FLOOD, START, seed=5).as_dict()
    assert generate(facts, ExerciseHazard.FLOOD, START, seed=5).as_dict() == first
    assert generate(facts, ExerciseHazard.FLOOD, START, seed=6).as_dict() != first


@pytest.mark.parametrize("hazard", [ExerciseHazard.FLOOD, ExerciseHazard.EARTHQUAKE])
def test_a_place_designated_only_for_earthquakes_is_never_opened_in_a_flood(demo_store, hazard) -> None:
    """An open park that is only a 指定緊急避難場所 for 地震・大規模な火事 is no destination in a flood:
    the scenario must not open it or send people there, and the DIG map must not show it usable."""
    park = "テスト用中央公園"
    with demo_store.sessions() as session:
        district = session.scalars(select(District).where(District.name == "安武")).one()
        spot = shapely.from_wkb(district.geom).representative_point()
        session.add(Shelter(code="TEST-PARK", city_code=demo_store.city_code, name=park, lon=spot.x, lat=spot.y,
                            is_emergency_site=True, hazard_earthquake=True, hazard_fire=True, source="test"))
        session.flush()
        facts = district_facts(session, Principal.cli(demo_store.city_code), "安武", hazard, today=dt.date(2026, 4, 1))
        session.rollback()
    (place,) = [p for p in facts.shelters if p.name == park]
    if hazard == ExerciseHazard.FLOOD:
        assert not place.safe and place.reason == "洪水の指定がない避難場所"
        for seed in range(1, 9):
            cards = generate(facts, hazard, START, duration_h=3, difficulty=3, seed=seed).injects
            assert not [c.number for c in cards if park in c.synopsis and "開設しました" in c.synopsis], seed
            assert not [c.number for c in cards if park in c.synopsis and "へ案内" in c.synopsis], seed
    else:
        assert place.safe


@pytest.mark.parametrize(("hazard", "district"), [(ExerciseHazard.FLOOD, "安武"), (ExerciseHazard.INLAND, "城島"),
                                                   (ExerciseHazard.LANDSLIDE, "竹野"), (ExerciseHazard.EARTHQUAKE, "山本")])
def test_every_hazard_gives_a_coherent_timeline_from_the_districts_data(demo_store, hazard, district) -> None:
    facts = _facts(demo_store, hazard, district)
    scenario = generate(facts, hazard, START, duration_h=3, difficulty=3, seed=2)
    assert len(scenario.injects) >= 6 and levels_consistent(scenario)
    times = [i.session_min for i in scenario.injects]
    assert times == sorted(times) and times[-1] <= 3 * 60
    assert [i.scenario_min for i in scenario.injects] == sorted(i.scenario_min for i in scenario.injects)
    if hazard == ExerciseHazard.EARTHQUAKE:
        assert all(i.level is None for i in scenario.injects)
    else:
        assert max(i.level for i in scenario.injects if i.level) >= 4
    ids = {p.resident_id: p.label for p in facts.at_risk}
    assert set(ids) <= {r.id for r in _district_residents(demo_store, district)}
    places = {p.name for p in facts.shelters} | set(facts.welfare_shelters) | set(facts.landslide_zones)
    used = [i.refs for i in scenario.injects]
    assert any(r["residents"] for r in used)
    for refs in used:
        assert set(refs["residents"]) <= set(ids.values())  # labels, never internal ids
        assert set(refs["places"]) <= places
    text = json.dumps(scenario.as_dict(), ensure_ascii=False)
    for resident in _district_residents(demo_store, district):
        assert resident.name not in text and resident.address not in text and resident.resident_no not in text


def test_closed_session_names_only_consenting_residents(demo_store) -> None:
    facts = _facts(demo_store, ExerciseHazard.FLOOD, closed=True)
    residents = {r.id: r for r in _district_residents(demo_store, "安武")}
    named = [p for p in facts.at_risk if p.label.startswith(residents[p.resident_id].name)]
    assert named and all(residents[p.resident_id].consent_share for p in named)
    assert all(p.label.endswith("さん") for p in facts.at_risk if not residents[p.resident_id].consent_share)
    scenario = generate(facts, ExerciseHazard.FLOOD, START, seed=1, closed_session=True)
    assert scenario.closed_session


def test_level_rule_detects_a_drop_before_the_climax(demo_store) -> None:
    scenario = generate(_facts(demo_store, ExerciseHazard.FLOOD), ExerciseHazard.FLOOD, START, seed=1)
    broken = dataclasses.replace(scenario, injects=[dataclasses.replace(i) for i in scenario.injects])
    broken.injects[2].level, broken.injects[1].level = 2, 3
    assert not levels_consistent(broken)
    broken.injects[2].eased = True
    assert levels_consistent(broken)


def test_pack_materials_contain_no_personal_data(demo_store, tmp_path: Path) -> None:
    pack = new_pack(demo_store.sessions, Principal.cli(demo_store.city_code), "安武", ExerciseHazard.FLOOD, tmp_path, START, seed=3)
    names = {p.name for p in pack.files}
    assert {"facilitator_guide.pdf", "inject_cards.pdf", "worksheets.pdf", "dilemma_cards.pdf", "dig_map.pdf",
            "exercise_map.html", "msel.csv", "scenario.json"} <= names
    texts = {p.name: "".join(page.extract_text() for page in PdfReader(p).pages).replace(" ", "")
             for p in pack.files if p.suffix == ".pdf"}
    texts["exercise_map.html"] = (tmp_path / "exercise_map.html").read_text(encoding="utf-8")
    texts["msel.csv"] = (tmp_path / "msel.csv").read_text(encoding="utf-8-sig")
    residents = _district_residents(demo_store, "安武")
    for name, text in texts.items():
        for resident in residents:
            assert resident.name.replace(" ", "") not in text, (name, resident.resident_no)
            assert resident.address not in text and (resident.phone or "@@") not in text
    assert "安武" in texts["facilitator_guide.pdf"] and "MSEL" in texts["facilitator_guide.pdf"]
    assert round(PdfReader(tmp_path / "dig_map.pdf").pages[0].mediabox.width) == 2384  # A1 landscape, points
    assert len((tmp_path / "msel.csv").read_text(encoding="utf-8-sig").strip().splitlines()) == len(pack.scenario.injects) + 1


def test_fiscal_years_and_labels() -> None:
    assert fiscal_year(dt.date(2025, 3, 31)) == 2024 and fiscal_year(dt.date(2025, 4, 1)) == 2025
    assert fiscal_label(2024) == "令和6年度" and fiscal_label(2019) == "令和元年度" and fiscal_label(2030) == "令和12年度"
    assert parse_fiscal("R8") == parse_fiscal("令和8年度") == parse_fiscal("2026") == 2026
    assert progress_to_target(1039, 1039, 1100) == 0.0 and progress_to_target(1100, 1039, 1100) == 100.0
    assert progress_to_target(15, 150, 300) == 0.0  # a small first year: no negative share
    assert progress_to_target(1200, 1039, 1100) == 100.0
    assert progress_to_target(50, 150, 100) == 50.0  # a target below the baseline: measured from 0


@pytest.fixture
def city(store):
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


HEADER = ["実施日", "校区", "災害", "進行役", "自治会", "民生委員", "住民", "総合評価", "よかった点"]


def test_report_totals_year_boundaries_and_idempotent_import(city, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "past.csv", HEADER, [
        ["R7.3.31", "安武", "洪水", "社協 太郎", "5", "3", "12", "4", "地図が分かりやすい"],   # 令和6年度
        ["R7.4.1", "城島", "内水", "防災 花子", "4", "2", "20", "5", ""],                      # 令和7年度
        ["2025-11-02", "安武", "土砂災害", "社協 太郎", "", "", "30", "", ""],                  # 令和7年度
    ], encoding="cp932")
    assert import_sessions(city.sessions, city.city_code, path) == (3, 0)
    assert import_sessions(city.sessions, city.city_code, path) == (0, 3)  # not counted twice
    r7 = report(city.sessions, city.city_code, 2025, today=dt.date(2026, 1, 10))
    r6 = report(city.sessions, city.city_code, 2024, today=dt.date(2026, 1, 10))
    assert r6["participants"] == 20 and r7["participants"] == 26 + 30
    assert [y["participants"] for y in r7["by_year"]] == [20, 56]
    assert r7["by_district"] == {"城島": 26, "安武": 30} and r7["year_label"] == "令和7年度"
    assert "安武" not in r7["districts_without_session"] and "大善寺" in r7["districts_without_session"]
    files = export_report(r7, tmp_path / "out")
    assert all(p.exists() and p.stat().st_size > 0 for p in files)
    assert "<svg" in (tmp_path / "out" / "参加者数_年度別.svg").read_text(encoding="utf-8")


def test_bad_rows_reject_the_whole_import(city, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", HEADER, [
        ["R7.2.30", "安武", "洪水", "", "1", "", "", "", ""],
        ["R7.5.1", "どこか", "火山", "", "x", "", "", "9", ""],
    ])
    before = snapshot(city)
    with pytest.raises(ImportRejected) as caught:
        import_sessions(city.sessions, city.city_code, path)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert {(2, "実施日"), (3, "校区"), (3, "災害"), (3, "自治会"), (3, "総合評価")} <= found
    assert snapshot(city) == before


def test_findings_about_a_resident_show_on_their_plan(demo_store) -> None:
    resident = _district_residents(demo_store, "安武")[0]
    data = SessionInput(dt.date(2026, 6, 14), "安武", ExerciseHazard.FLOOD, "テスト進行役", {"住民": 10},
                        findings=[{"issue": "夜間の支援者がいない", "action": "近所の2人目を探す", "owner": "民生委員",
                                   "due": dt.date(2026, 9, 30), "resident_no": resident.resident_no}])
    record_session(demo_store.sessions, Principal.cli(demo_store.city_code), data)
    with demo_store.sessions() as session:
        (plan,) = plan_contexts(session, load_residents(session, [resident.id]), dt.date(2026, 7, 1))
    assert [item["issue"] for item in plan["open_items"]] == ["夜間の支援者がいない"]


def test_cli_exercise_commands(demo_store, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DISASTER_DB": demo_store.url}
    result = runner.invoke(app, ["exercise", "record", "--district", "城島", "--date", "R8.5.10", "--hazard", "inland",
                                 "--participants", "住民=15", "--participants", "民生委員=4", "--rating", "4"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["exercise", "report", "--year", "R8", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by_district"].get("城島", 0) >= 19
    result = runner.invoke(app, ["exercise", "record", "--district", "城島", "--date", "R8.5.10",
                                 "--participants", "市長=1"], env=env)
    assert result.exit_code == 1 and "役割" in result.stderr
