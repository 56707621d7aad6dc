"""Two cities in one store never see each other's data (issue 11, scope 3), on SQLite and PostgreSQL.

Both hand-built cities use the same names and numbers everywhere (校区 中央, 名簿番号 0001,
支援者番号 S1, shelter code S1, the same hazard file and 相談窓口), so any query or delete that
ignores the city shows up as a wrong count, a wrong name or a lost row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from pypdf import PdfReader
from sqlalchemy import func, select, text

import disaster.profile as profile_module
from disaster import errors, repo
from disaster.access import Principal
from disaster.db import alembic_config, make_engine, migrate, session_factory
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import Assessment, ConsultationCentre, Dataset, District, HazardZone, Resident, Shelter, Supporter
from disaster.settings import get_settings
from disaster.usecases.assess import run_assessment, summary
from disaster.usecases.audit import audit_plans
from disaster.usecases.exercises import SessionInput, district_facts, record_session, report
from disaster.usecases.imports import (
    import_boundary,
    import_districts,
    import_hazards,
    import_residents,
    import_supporters,
)
from disaster.usecases.maps import load_map_inputs
from disaster.usecases.plans import map_data, write_plan
from disaster.usecases.setup import init_store
from disaster.usecases.stats import store_stats
from tests.conftest import KURUME, ROOT
from tests.helpers import square, write_csv, write_geojson

OTHER = "402052"  # a second 団体コード with a valid check digit (40205 + 2)
TODAY = dt.date(2026, 4, 1)
RESIDENT_HEADER = ["名簿番号", "氏名", "生年月日", "住所", "校区", "緯度", "経度", "移動"]
SUPPORTER_HEADER = ["支援者番号", "氏名", "住所", "電話番号", "関係", "緯度", "経度", "同意", "同意日", "支援対象者番号"]
TABLE_HEADER = ["district", "area", "houkatsu_center", "houkatsu_tel", "houkatsu_fax", "kikan_center", "kikan_tel",
                "kikan_fax", "seikatsu_center", "seikatsu_tel", "seikatsu_fax"]
HAZARD_FILE = "A31a-20-23_0000000001.geojson"


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    lon: float  # south-west corner of the city square (0.04° a side)
    residents: dict[str, str]  # 名簿番号 -> 氏名
    supporters_of_s1: str  # 支援対象者番号 of supporter S1
    participants: int  # 図上訓練 participants recorded for the city

    def at(self, dx: float, dy: float) -> tuple[float, float]:
        return self.lon + dx, 33.30 + dy


CITY_A = Town(KURUME, "甲市", 130.40, {"0001": "青木太郎", "0002": "青木次郎"}, "0001", 12)
CITY_B = Town(OTHER, "乙市", 130.50, {"0001": "赤井花子", "0003": "赤井三郎"}, "0001、0003", 30)


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Profiles of both test cities in a temporary profiles folder: the packaged example with
    the city's code and name."""
    folder = tmp_path / "cities"
    folder.mkdir()
    template = (ROOT / "data" / "cities" / f"{KURUME}.toml").read_text(encoding="utf-8")
    for city in (CITY_A, CITY_B):
        profile = re.sub(r'^code = ".*"$', f'code = "{city.code}"', template, count=1, flags=re.M)
        profile = re.sub(r'^name = ".*"$', f'name = "{city.name}"', profile, count=1, flags=re.M)
        (folder / f"{city.code}.toml").write_text(profile, encoding="utf-8")
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(folder))
    get_settings.cache_clear()
    profile_module.load_profile.cache_clear()
    yield folder
    get_settings.cache_clear()
    profile_module.load_profile.cache_clear()


def _hazard_file(folder: Path) -> Path:
    """One prefecture-wide A31a-20 file: a rank-3 zone in each city and one far from both."""
    corners = [CITY_A.at(0.005, 0.005), CITY_B.at(0.005, 0.005), (130.90, 33.60)]
    return write_geojson(folder / HAZARD_FILE, [
        (square(lon, lat, 0.01), {"A31a_201": "0000000001", "A31a_202": "試験川", "A31a_203": "1",
                                  "A31a_204": "国土交通省", "A31a_205": 3})
        for lon, lat in corners
    ])


def _build(store, city: Town, folder: Path, boundary: Path, hazards: Path) -> None:
    folder.mkdir()
    init_store(store.engine, store.sessions, city.code, city.name)
    import_boundary(store.sessions, boundary, city.code)
    districts = write_geojson(folder / "districts.geojson", [(square(*city.at(0, 0), 0.04), {"校区名": "中央"})])
    table = write_csv(folder / "table.csv", TABLE_HEADER,
                      [["中央", "中部", "中央包括", f"{city.code}-1", "", "", "", "", "", "", ""]])
    import_districts(store.sessions, districts, city.code, table=table)
    report = import_hazards(store.sessions, [hazards], city_code=city.code)
    assert report.created == 1 and "2 件の区域は取り込みませんでした" in report.notices[0]
    with store.sessions() as session, session.begin():
        lon, lat = city.at(0.03, 0.03)
        session.add(Shelter(code="S1", city_code=city.code, name=f"{city.name}中央公民館", lon=lon, lat=lat,
                            is_designated_shelter=True, is_emergency_site=True, hazard_flood=True, capacity=100,
                            source="test"))
    lon, lat = city.at(0.01, 0.01)
    roster = write_csv(folder / "meibo.csv", RESIDENT_HEADER, [
        [number, name, "昭和15年3月2日", f"{city.name}中央1-{i}", "中央", f"{lat + i * 0.001:.6f}", f"{lon:.6f}", "杖・歩行器"]
        for i, (number, name) in enumerate(city.residents.items())
    ])
    import_residents(store.sessions, roster, city.code, today=TODAY)
    supporters = write_csv(folder / "shien.csv", SUPPORTER_HEADER, [
        ["S1", f"{city.name}支援者", "", "", "近隣住民", f"{lat:.6f}", f"{lon + 0.002:.6f}", "はい", "R6.1.1",
         city.supporters_of_s1],
    ])
    import_supporters(store.sessions, supporters, city.code, today=TODAY)
    record_session(store.sessions, Principal.cli(city.code), _exercise(city))


def _exercise(city: Town) -> SessionInput:
    return SessionInput(dt.date(2025, 6, 1), "中央", ExerciseHazard.FLOOD, "進行 役", {"住民": city.participants})


@pytest.fixture
def two_cities(store, tmp_path: Path, profiles: Path):
    n03 = write_geojson(tmp_path / "n03.geojson", [
        (square(*city.at(0, 0), 0.04), {"N03_001": "試験県", "N03_003": None, "N03_004": city.name,
                                        "N03_007": city.code[:5]})
        for city in (CITY_A, CITY_B)
    ])
    hazards = _hazard_file(tmp_path)
    for city in (CITY_A, CITY_B):
        _build(store, city, tmp_path / city.code, n03, hazards)
    return store


def _assessments(store, city: Town) -> dict[str, tuple[int, str]]:
    with store.sessions() as session:
        return {number: (run_id, decision) for number, run_id, decision in session.execute(
            select(Resident.resident_no, Assessment.run_id, Assessment.decision)
            .join(Assessment, Assessment.resident_id == Resident.id).where(Resident.city_code == city.code))}


def test_imports_keep_each_city_to_its_own_rows(two_cities) -> None:
    store = two_cities
    with store.sessions() as session:
        for city in (CITY_A, CITY_B):
            assert session.scalar(repo.city_zones(city.code, func.count())) == 1
            (zone,) = session.execute(repo.city_zones(city.code, HazardZone.min_lon)).scalars()
            assert zone == pytest.approx(city.at(0.005, 0)[0])
            assert session.scalars(select(Dataset.source).where(Dataset.city_code == city.code, Dataset.kind == "hazards")
                                   ).all() == [HAZARD_FILE]
            residents = dict(session.execute(select(Resident.resident_no, Resident.name)
                                             .where(Resident.city_code == city.code)).all())
            assert residents == city.residents
            (supporter,) = session.scalars(select(Supporter).where(Supporter.city_code == city.code))
            assert sorted(r.resident_no for r in supporter.residents) == sorted(city.supporters_of_s1.split("、"))
            assert {r.city_code for r in supporter.residents} == {city.code}
            (district,) = session.scalars(select(District).where(District.city_code == city.code))
            assert [(c.city_code, c.name, c.tel) for c in district.centres] == [(city.code, "中央包括", f"{city.code}-1")]
        assert session.scalar(select(func.count()).select_from(ConsultationCentre)) == 2
        assert sorted(session.scalars(select(Shelter.city_code).where(Shelter.code == "S1"))) == sorted([KURUME, OTHER])


def test_assessing_one_city_leaves_the_other_alone(two_cities) -> None:
    store = two_cities  # every import re-assessed its own city
    before_b = _assessments(store, CITY_B)
    assert set(before_b) == set(CITY_B.residents)
    rerun = run_assessment(store.sessions, CITY_A.code, full=True, night=True)  # all of A's results change
    assert _assessments(store, CITY_B) == before_b
    assert summary(store.sessions, CITY_B.code)["run_id"] == next(iter(before_b.values()))[0] != rerun
    assert {run for run, _ in _assessments(store, CITY_A).values()} == {rerun}
    for city in (CITY_A, CITY_B):
        result = summary(store.sessions, city.code)
        assert result["totals"]["residents"] == len(city.residents)
        assert [d["name"] for d in result["districts"]] == ["中央"]
        assert result["districts"][0]["supporters"] == 1
        datasets = {key for key in result["data_versions"] if not key.startswith("inputs:")}  # + inputs digests
        assert datasets == {f"{kind}:{source}" for kind, source in (
            ("boundary", "n03.geojson"), ("districts", "districts.geojson"), ("hazards", HAZARD_FILE),
            ("residents", "meibo.csv"), ("supporters", "shien.csv"))}
        audit = audit_plans(store.sessions, Principal.cli(city.code), today=TODAY)
        assert audit.residents == len(city.residents)
        assert {v.resident_no for v in audit.violations} <= set(city.residents)
    assert summary(store.sessions, CITY_A.code)["run_id"] == rerun


def test_plans_maps_exercises_and_stats_show_only_the_chosen_city(two_cities, tmp_path: Path) -> None:
    store = two_cities
    with pytest.raises(errors.NotFound, match="0003"):
        write_plan(store.sessions, Principal.cli(CITY_A.code), "0003", tmp_path / "x.pdf", today=TODAY)
    assert not (tmp_path / "x.pdf").exists()
    write_plan(store.sessions, Principal.cli(CITY_B.code), "0001", tmp_path / "b.pdf", today=TODAY)
    plan = "".join(page.extract_text() for page in PdfReader(tmp_path / "b.pdf").pages).replace(" ", "")
    assert "赤井花子" in plan and "青木太郎" not in plan and "乙市中央公民館" in plan and "甲市" not in plan
    with store.sessions() as session:
        for city in (CITY_A, CITY_B):
            data = map_data(session, city.code, None)
            assert data.district_names == ["中央"] and len(data.zone_attrs) == 1
            inputs = load_map_inputs(session, Principal.cli(city.code))
            assert dict(zip(inputs.residents["resident_no"], inputs.residents["name"], strict=True)) == city.residents
            assert list(inputs.shelters["name"]) == [f"{city.name}中央公民館"]
            assert list(inputs.supporters["name"]) == [f"{city.name}支援者"]
            assert len(inputs.zones) == 1 and list(inputs.districts["name"]) == ["中央"]
            assert inputs.centres == {"中央": [("地域包括支援センター", "中央包括", f"{city.code}-1")]}
            assert inputs.exercise_participants == {"中央": city.participants}
            facts = district_facts(session, Principal.cli(city.code), "中央", ExerciseHazard.FLOOD, today=TODAY)
            assert facts.residents == len(city.residents)
            assert [p.name for p in facts.shelters] == [f"{city.name}中央公民館"]
    for city in (CITY_A, CITY_B):
        result = report(store.sessions, city.code, 2025, today=TODAY)
        assert result["participants"] == city.participants and result["sessions"] == 1
        stats = store_stats(store.sessions, Principal.cli(city.code))
        assert stats["city"] == {"code": city.code, "name": city.name, "has_boundary": True}
        counts = stats["counts"]
        assert (counts["districts"], counts["consultation_centres"], counts["shelters"], counts["hazard_zones"],
                counts["residents"], counts["supporters"], counts["datasets"], counts["resident_supporter_links"]) == (
            1, 1, 1, 1, len(city.residents), 1, 5, len(city.supporters_of_s1.split("、")))
        assert stats["shelter_kinds"]["designated_shelters"] == 1
        assert [(d["name"], d["residents"], d["shelters"]) for d in stats["districts"]] == [
            ("中央", len(city.residents), 1)]


def test_re_recording_and_re_importing_one_city_leaves_the_other_intact(two_cities, tmp_path: Path) -> None:
    store = two_cities
    before_b = _assessments(store, CITY_B)
    # the same exercise (same date, 校区 name, hazard, facilitator) is another city's own record
    assert record_session(store.sessions, Principal.cli(CITY_A.code), _exercise(CITY_A)).new is False
    assert report(store.sessions, CITY_B.code, 2025, today=TODAY)["participants"] == CITY_B.participants
    # a new version of the hazard file without city A's zone: A loses its zone, B keeps its own
    emptied = write_geojson(tmp_path / HAZARD_FILE, [
        (square(130.90, 33.60, 0.01), {"A31a_201": "0000000001", "A31a_202": "試験川", "A31a_203": "1",
                                       "A31a_204": "国土交通省", "A31a_205": 3})])
    report_a = import_hazards(store.sessions, [emptied], city_code=CITY_A.code)
    assert report_a.created == 0 and report_a.assessment_run is not None
    with store.sessions() as session:
        assert session.scalar(repo.city_zones(CITY_A.code, func.count())) == 0
        assert session.scalar(repo.city_zones(CITY_B.code, func.count())) == 1
    assert _assessments(store, CITY_B) == before_b
    assert {run for run, _ in _assessments(store, CITY_A).values()} == {report_a.assessment_run}


def test_migration_0006_gives_existing_rows_the_store_city(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO city (code, name) VALUES (:a, '甲市'), (:b, '乙市')"), {"a": KURUME, "b": OTHER})
        for i, city in enumerate((KURUME, KURUME, OTHER), start=1):
            conn.execute(text(
                "INSERT INTO district (id, city_code, name, source, is_demo, geom, min_lon, min_lat, max_lon, max_lat) "
                "VALUES (:i, :c, :n, 'test', false, :g, 0, 0, 1, 1)"), {"i": i, "c": city, "n": f"校区{i}", "g": b"x"})
        conn.execute(text("INSERT INTO consultation_centre (id, kind, name) VALUES (1, 'houkatsu', '甲包括'), "
                          "(2, 'houkatsu', '乙包括'), (3, 'kikan', '未使用')"))
        conn.execute(text("INSERT INTO district_centre (district_id, centre_id) VALUES (1, 1), (3, 2)"))
        conn.execute(text("INSERT INTO dataset (kind, source, sha256, feature_count, imported_at, is_demo) "
                          "VALUES ('hazards', 'a.geojson', 'x', 1, '2025-01-01 00:00:00+00', false)"))
        conn.execute(text("INSERT INTO assessment_run (computed_at, data_versions, parameters, resident_count) "
                          "VALUES ('2025-01-01 00:00:00+00', '{}', '{}', 0)"))
        conn.execute(text("INSERT INTO shelter (code, city_code, name, lon, lat, is_emergency_site, is_designated_shelter, "
                          "is_welfare_shelter, hazard_flood, hazard_landslide, hazard_storm_surge, hazard_earthquake, "
                          "hazard_tsunami, hazard_fire, hazard_inland_flood, hazard_volcano, source, is_demo) "
                          "VALUES ('S1', :c, 'x', 130, 33, true, false, false, false, false, false, false, false, false, "
                          "false, false, 'x', false)"), {"c": KURUME})
    migrate(engine)
    with engine.connect() as conn:
        centres = dict(conn.execute(text("SELECT name, city_code FROM consultation_centre")).all())
        assert centres == {"甲包括": KURUME, "乙包括": OTHER, "未使用": KURUME}  # the city with the most 校区
        assert conn.execute(text("SELECT city_code FROM dataset")).scalar_one() == KURUME
        assert conn.execute(text("SELECT city_code FROM assessment_run")).scalar_one() == KURUME
    with session_factory(engine)() as session, session.begin():  # shelter codes are unique per city now
        session.add(Shelter(code="S1", city_code=OTHER, name="y", lon=130.5, lat=33.0, source="x"))
    engine.dispose()
