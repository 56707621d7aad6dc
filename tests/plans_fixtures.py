"""Hand-built residents with hand-built assessments (the new Assessment columns set directly,
independent of the engine), for plan content and PDF tests."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster.models import (
    Assessment,
    AssessmentRun,
    CareProfessional,
    District,
    Resident,
    Shelter,
    Supporter,
    WelfareAgreement,
)
from disaster.plans.context import load_residents, plan_contexts
from tests.conftest import KURUME

TODAY = dt.date(2026, 11, 25)
X0, Y0 = 130.55, 33.30
DISTRICT = "手作り"


def _bbox(geom: shapely.Geometry) -> dict[str, float]:
    minx, miny, maxx, maxy = geom.bounds
    return {"geom": shapely.to_wkb(geom), "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy}


def _shelter(code: str, name: str, lon: float, lat: float, **fields: Any) -> Shelter:
    return Shelter(code=code, city_code=KURUME, name=name, address=f"{name}の所在地 1-1", lon=lon, lat=lat,
                   source="test", **({"is_designated_shelter": True} | fields))


def _assessment(resident: Resident, run: AssessmentRun, **fields: Any) -> Assessment:
    base: dict[str, Any] = {
        "flood_l1_rank": None, "flood_l2_rank": None, "duration_rank": None, "collapse_flow": False,
        "collapse_erosion": False, "inland_rank": None, "landslide_kind": None, "landslide_class": None,
        "decision": "leave", "decision_reasons": [], "required_floor": None, "reachable_floor": 1,
        "destination_kind": "shelter", "destination_reasons": [], "welfare_needed": False, "welfare_unplaced": False,
        "distance_m": 800.0, "walk_speed_mps": 1.0, "travel_min": 14.0, "prepare_min": 30.0, "start_margin_min": 100.0,
        "crosses_deep_water": False, "travel_mode": "walk", "walk_min": 14.0, "start_trigger": "level3",
        "priority_score": 10, "priority_reasons": [], "supporter_count": 1, "supporter_issues": [],
    }
    base |= fields
    return Assessment(resident_id=resident.id, run_id=run.id, **base)


def _resident(number: str, name: str, district: District, **fields: Any) -> Resident:
    base: dict[str, Any] = {
        "kana": None, "birth_date": dt.date(1944, 5, 1), "sex": "女", "address": f"{name}の住所 2-3",
        "phone": "0900-000-0000", "mobility": "自立", "lives_alone": True, "building_floors": 2, "bedroom_floor": 1,
        "can_use_stairs": True, "lon": X0 + 0.002, "lat": Y0 + 0.002, "consent_share": True,
        "consent_share_date": dt.date(2026, 4, 1), "consent_plan": True, "consent_plan_date": dt.date(2026, 4, 1),
        "source": "test", "is_demo": True,
    }
    base |= fields
    return Resident(city_code=KURUME, resident_no=number, name=name, district_id=district.id, **base)


@dataclass
class Scenario:
    """One built resident: its number and what the tests expect to read."""

    number: str
    note: str


SCENARIOS = {
    "leave_walk": Scenario("P001", "landslide zone, walks to the nearby shelter at level 3"),
    "stay_upstairs": Scenario("P002", "house of 2 storeys, stairs, 0.5-3 m water: may stay on floor 2"),
    "stay": Scenario("P003", "outside every zone"),
    "no_stairs": Scenario("P004", "wheelchair, one storey, flood: leaves by car, early trigger"),
    "flat": Scenario("P005", "flat on the 1st floor of a 5-storey block, inland water rank 1: stays at home"),
    "welfare_direct": Scenario("P006", "ventilator user, agreement with the 福祉避難所: welfare transport, direct"),
    "welfare_transfer": Scenario("P007", "bedridden, no agreement: 指定避難所 (福祉スペース) first, transfer"),
    "not_workable": Scenario("P008", "bedridden in a red landslide zone, nothing fits even the day before"),
    "draft": Scenario("P009", "no 計画作成同意: draft for city staff only"),
    "previous_day": Scenario("P010", "flood and collapse zone, cane: leaves the day before by car"),
    "flat_high": Scenario("P011", "flat on the 5th floor, deep water: may stay in the flat"),
    "own_choice": Scenario("P012", "deaf; own choice (長女宅) in a hazard zone, kept but flagged, second option given"),
}


def build(sessions: sessionmaker[Session]) -> None:
    """Insert the district, shelters, residents, supporters and assessments of SCENARIOS."""
    with sessions() as session, session.begin():
        area = shapely.box(X0, Y0, X0 + 0.03, Y0 + 0.03)
        district = District(city_code=KURUME, name=DISTRICT, source="test", is_demo=True, **_bbox(area))
        session.add(district)
        school = _shelter("T-S1", "手作り小学校", X0 + 0.008, Y0 + 0.006, barrier_free=True, hazard_flood=True,
                          hazard_landslide=True, usable_floors=3)
        hall = _shelter("T-S2", "手作り公民館", X0 + 0.012, Y0 + 0.015, barrier_free=True)
        welfare = _shelter("T-W1", "福祉ホームてづくり", X0 + 0.02, Y0 + 0.02, is_welfare_shelter=True,
                           is_designated_shelter=False, accepted_groups="要介護者", backup_power=True)
        session.add_all([school, hall, welfare])
        run = AssessmentRun(city_code=KURUME, computed_at=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), data_versions={}, parameters={},
                            resident_count=len(SCENARIOS))
        session.add(run)
        session.flush()
        helper = Supporter(city_code=KURUME, supporter_no="T-H1", name="近所 花子", address="手作り町 5-6",
                           phone="0942-00-1111", relation="近所", consent=True, source="test")
        helper_no_address = Supporter(city_code=KURUME, supporter_no="T-H2", name="遠方 次郎", address=None,
                                      phone="0942-00-2222", relation="長男", consent=False, source="test")
        session.add_all([helper, helper_no_address])

        def person(key: str, name: str, **fields: Any) -> Resident:
            resident = _resident(SCENARIOS[key].number, name, district, **fields)
            session.add(resident)
            session.flush()
            return resident

        route = shapely.to_wkb(shapely.LineString([(X0 + 0.002, Y0 + 0.002), (X0 + 0.005, Y0 + 0.004),
                                                   (X0 + 0.008, Y0 + 0.006)]))
        r = person("leave_walk", "土砂 ハナ", supporters=[helper], info_reception=["防災行政無線", "電話（支援者から）"],
                   daytime_situation="平日の日中はひとり", night_situation="ひとり", day_service="月・木 デイサービスてづくり")
        session.add(_assessment(r, run, landslide_class=1, landslide_kind=1, route=route, route_is_road=True, reachable_floor=2,
                                destination_shelter_id=school.id,
                                destination_reasons=[{"code": "NEAREST_SUITABLE", "text": "手作り小学校は、ご自宅から近い避難所です。"},
                                                     {"code": "DISTANCE", "text": "距離は約0.8km、歩いて約14分です。"}]))
        r = person("stay_upstairs", "二階 タロウ", sex="男", supporters=[helper])
        session.add(_assessment(r, run, flood_l2_rank=2, flood_l1_rank=1, duration_rank=2, decision="stay_upstairs",
                                required_floor=2, reachable_floor=2, destination_shelter_id=hall.id,
                                destination_floor=None, start_trigger="level3", distance_m=1500.0, travel_min=25.0))
        r = person("stay", "区域外 サチ", supporters=[helper])
        session.add(_assessment(r, run, decision="stay", destination_kind=None, distance_m=None, travel_min=None,
                                prepare_min=None, start_margin_min=None, travel_mode=None, walk_min=None, start_trigger=None))
        r = person("no_stairs", "車椅 ミツ", mobility="車いす", building_floors=1, can_use_stairs=False,
                   care_level="要介護3", supporters=[helper_no_address])
        session.add(_assessment(r, run, flood_l2_rank=3, decision="leave", reachable_floor=1,
                                destination_shelter_id=school.id, destination_floor=2, distance_m=2600.0,
                                travel_min=16.0, walk_min=55.0, prepare_min=60.0, start_margin_min=-30.0,
                                travel_mode="car", start_trigger="early",
                                supporter_issues=[{"code": "SUPPORTER_NO_CONSENT", "text": "支援者（長男）の同意（名簿情報の受け取り）が確認できていません。"}]))
        r = person("flat", "一階 フミ", building_floors=5, home_floor=1, bedroom_floor=1, can_use_stairs=True)
        session.add(_assessment(r, run, inland_rank=1, decision="stay_upstairs", required_floor=1, reachable_floor=1,
                                destination_shelter_id=hall.id, start_trigger="level3"))
        r = person("welfare_direct", "呼吸 サトル", sex="男", mobility="寝たきり", can_use_stairs=False,
                   medical_devices=["人工呼吸器"], care_level="要介護5", supporters=[helper])
        session.add(CareProfessional(resident_id=r.id, role="主治医", name="医師 一郎", organisation="てづくり医院",
                                     phone="0942-00-3333"))
        session.add(WelfareAgreement(resident_id=r.id, shelter_id=welfare.id, agreed_on=dt.date(2026, 6, 1)))
        session.add(_assessment(r, run, flood_l2_rank=2, decision="leave", destination_kind="welfare",
                                destination_shelter_id=welfare.id, welfare_shelter_id=welfare.id, welfare_direct=True,
                                welfare_needed=True, distance_m=3200.0, travel_min=18.0, walk_min=60.0,
                                travel_mode="welfare_transport", start_trigger="level3",
                                destination_reasons=[{"code": "WELFARE_DIRECT", "text": "福祉ホームてづくり（福祉避難所）に直接避難できます。"}]))
        r = person("welfare_transfer", "寝床 キヨ", mobility="寝たきり", can_use_stairs=False, care_level="要介護4",
                   supporters=[helper])
        session.add(_assessment(r, run, flood_l2_rank=2, decision="leave", destination_kind="shelter",
                                destination_shelter_id=hall.id, welfare_shelter_id=welfare.id, welfare_direct=False,
                                welfare_needed=True, distance_m=1900.0, travel_min=12.0, walk_min=40.0,
                                travel_mode="welfare_transport", start_trigger="level3",
                                destination_reasons=[{"code": "WELFARE_TRANSFER", "text": "まず指定避難所へ。"}]))
        r = person("not_workable", "山際 トメ", mobility="寝たきり", can_use_stairs=False, care_level="要介護5")
        session.add(_assessment(r, run, landslide_class=2, landslide_kind=2, decision="leave",
                                destination_shelter_id=None, destination_kind=None, distance_m=None, travel_min=None,
                                travel_mode=None, walk_min=None, start_margin_min=-420.0, start_trigger="not_workable",
                                supporter_count=0,
                                destination_reasons=[{"code": "NO_SHELTER", "text": "条件に合う避難所が見つかりません。"}],
                                supporter_issues=[{"code": "NO_SUPPORTER", "text": "避難を手伝う支援者が決まっていません。"}]))
        r = person("draft", "未同意 ケン", sex="男", consent_plan=False, consent_plan_date=None, consent_share=False,
                   consent_share_date=None)
        session.add(_assessment(r, run, flood_l2_rank=2, decision="leave", destination_shelter_id=school.id))
        r = person("previous_day", "前日 シズ", mobility="杖・歩行器", care_level="要介護1", supporters=[helper])
        session.add(_assessment(r, run, flood_l2_rank=3, collapse_flow=True, decision="leave",
                                destination_shelter_id=hall.id, distance_m=4200.0, travel_min=25.0, walk_min=90.0,
                                prepare_min=50.0, start_margin_min=-200.0, travel_mode="car", start_trigger="previous_day"))
        r = person("own_choice", "耳遠 ヨシ", communication_needs=["聴覚障害（手話）"], supporters=[helper],
                   preferred_destination="長女宅")
        session.add(_assessment(r, run, flood_l2_rank=2, decision="leave", destination_kind="own_choice",
                                destination_shelter_id=None, destination_text="長女宅（手作り町 9-9）",
                                second_shelter_id=school.id, distance_m=None, travel_min=None, travel_mode=None,
                                walk_min=None, start_trigger="early",
                                destination_reasons=[
                                    {"code": "OWN_CHOICE", "text": "ご本人が希望する避難先です（親戚・知人宅など）。"},
                                    {"code": "OWN_CHOICE_UNSAFE", "text": "この避難先は大雨のとき浸水するおそれがあります。第2の避難先も考えてください。"}]))
        r = person("flat_high", "五階 マサ", sex="男", building_floors=8, home_floor=5, can_use_stairs=True,
                   supporters=[helper])
        session.add(_assessment(r, run, flood_l2_rank=3, decision="stay_upstairs", required_floor=3, reachable_floor=5,
                                destination_shelter_id=school.id, destination_floor=2, start_trigger="early",
                                travel_mode="walk", distance_m=900.0, travel_min=15.0))


def contexts(sessions: sessionmaker[Session], *keys: str, today: dt.date = TODAY) -> dict[str, dict[str, Any]]:
    numbers = {SCENARIOS[k].number: k for k in keys}
    with sessions() as session:
        ids = list(session.scalars(select(Resident.id).where(Resident.resident_no.in_(numbers))))
        plans = plan_contexts(session, load_residents(session, ids), today)
    return {numbers[p["resident_no"]]: p for p in plans}


def pdf_pages(path: Path) -> list[str]:
    """The text of each page (pdftotext, reading order), whitespace removed."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return ["".join(page.split()) for page in text.split("\f") if page.strip()]
