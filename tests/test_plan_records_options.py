"""The destinations a plan record may choose for one person (pure: hand-made frames): safe places
suited to the hazards at home; a 福祉避難所 only with an agreement; other places only within the
person's walking limit and, for a wheelchair, barrier-free."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from disaster.codes import HazardLayer
from disaster.models import Shelter
from disaster.plans.options import DestinationJudge, Suggestion
from disaster.profile import load_profile
from tests.conftest import KURUME

X0, Y0 = 130.55, 33.30
M = 1 / 92_000  # about a metre of longitude here


def _shelter(i: int, code: str, name: str, east_m: float, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(c.name for c in Shelter.__table__.columns)
    flags = {c.name: False for c in Shelter.__table__.columns if c.name.startswith(("is_", "hazard_"))}
    return row | flags | {"id": i, "code": code, "name": name, "lon": X0 + east_m * M, "lat": Y0,
                          "is_designated_shelter": True, "barrier_free": True} | fields


SHELTERS = pd.DataFrame([
    _shelter(1, "NEAR", "近い公民館", 300),
    _shelter(2, "FAR", "遠い小学校", 3000),
    _shelter(3, "WET", "低い集会所", 600),
    _shelter(4, "CARE", "福祉センター", 400, is_designated_shelter=False, is_welfare_shelter=True),
    _shelter(5, "STEP", "段差のある会館", 350, barrier_free=False),
    _shelter(6, "SITE", "河川敷の広場", 200, is_designated_shelter=False, is_emergency_site=True),
])
WET = shapely.box(X0 + 550 * M, Y0 - 0.001, X0 + 650 * M, Y0 + 0.001)
HOME_FLOOD = shapely.box(X0 - 0.001, Y0 - 0.001, X0 + 0.001, Y0 + 0.001)
ZONES = gpd.GeoDataFrame({"layer": [HazardLayer.FLOOD_L2_DEPTH.value] * 2, "rank": [3, 2], "landslide_kind": [None] * 2,
                          "landslide_class": [None] * 2}, geometry=[WET, HOME_FLOOD], crs=4326)


def _person(**fields: Any) -> pd.DataFrame:
    base = {"id": 1, "lon": X0, "lat": Y0, "care_level": None, "medical_devices": [], "mobility": "自立",
            "disability_types": [], "disability_grade": None, "communication_needs": [], "lives_alone": False}
    return pd.DataFrame([base | fields])


def _judge() -> DestinationJudge:
    profile = load_profile(KURUME)
    return DestinationJudge(SHELTERS, ZONES, profile.evacuation, profile.crs)


def test_safe_suited_places_within_walking_reach_are_offered_with_why() -> None:
    verdicts = {v.code: v for v in _judge().verdicts(_person(), Suggestion(None, None, None), {})}
    assert verdicts["NEAR"].allowed and verdicts["NEAR"].role == "nearby"
    assert verdicts["NEAR"].why[0].startswith("歩いて行ける範囲です（約0.4km")  # 300 m × detour 1.3
    assert not verdicts["WET"].allowed and "安全ではありません" in (verdicts["WET"].problem or "")
    assert not verdicts["FAR"].allowed and "歩ける上限（2.0km）" in (verdicts["FAR"].problem or "")
    assert not verdicts["SITE"].allowed and "洪水" in (verdicts["SITE"].problem or "")  # not designated for floods
    assert not verdicts["CARE"].allowed and "受け入れの約束" in (verdicts["CARE"].problem or "")


def test_the_assessment_s_choices_are_offered_beyond_walking_reach_and_an_agreement_opens_the_welfare_shelter() -> None:
    agreed = {4: dt.date(2026, 4, 1)}
    verdicts = {v.code: v for v in _judge().verdicts(_person(), Suggestion(2, None, 4), agreed)}
    assert verdicts["FAR"].allowed and verdicts["FAR"].why[0] == "避難判定の避難先です。"
    assert verdicts["CARE"].allowed and verdicts["CARE"].role == "agreed"
    assert "令和8年4月1日" in verdicts["CARE"].why[0] and "開設を確かめて" in verdicts["CARE"].why[0]
    order = [v.code for v in _judge().verdicts(_person(), Suggestion(2, None, 4), agreed) if v.allowed]
    assert order[:2] == ["FAR", "CARE"]


def test_a_wheelchair_user_gets_barrier_free_places_within_the_shorter_limit() -> None:
    verdicts = {v.code: v for v in _judge().verdicts(_person(mobility="車いす"), Suggestion(None, None, None), {})}
    assert verdicts["NEAR"].allowed  # 390 m of 500 m
    assert not verdicts["STEP"].allowed and "バリアフリー" in (verdicts["STEP"].problem or "")
    assert not verdicts["FAR"].allowed and "上限（0.5km）" in (verdicts["FAR"].problem or "")
