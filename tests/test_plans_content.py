"""What a plan tells each built resident (context level, no PDF): one coherent timeline per
decision and trigger, warning names by hazard and date, honest transport and 福祉避難所 wording,
consent, statutory fields and supporter warnings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from disaster.db import make_engine, session_factory
from disaster.models import Assessment, Resident, Shelter
from disaster.plans.content import Exposure, hazard_sentences
from disaster.plans.context import resident_context
from disaster.plans.timeline import TimelineInput, build_rows, level_colours, start_advice, warning_edition
from disaster.profile import load_profile
from disaster.usecases.setup import init_store
from tests import plans_fixtures as F
from tests.conftest import KURUME


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("built") / "plans.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    init_store(engine, sessions, KURUME)
    F.build(sessions)
    yield sessions
    engine.dispose()


@pytest.fixture(scope="module")
def plans(built) -> dict[str, dict[str, Any]]:
    return F.contexts(built, *F.SCENARIOS)


def _row(plan: dict[str, Any], level: int) -> dict[str, Any]:
    return next(r for r in plan["timeline"] if r["level"] == level)


def _all_text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_all_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return " ".join(_all_text(v) for v in value)
    return str(value) if isinstance(value, str) else ""


def _advice(plan: dict[str, Any]) -> str:
    """Everything a plan advises (where an engine margin could leak), not names or phone numbers."""
    return _all_text([plan["start_text"] or "", plan["not_workable"] or {}, plan["destination"] or {},
                      [r["person"] + r["supporter"] for r in plan["timeline"]]])


def test_people_who_may_stay_are_never_told_they_have_evacuated(plans) -> None:
    for key in ("stay", "stay_upstairs", "flat", "flat_high"):
        plan = plans[key]
        assert plan["decision"]["code"] in ("stay", "stay_upstairs"), key
        rows = " ".join(r["person"] for r in plan["timeline"])
        assert "避難を終えている" not in rows, key
        assert "避難を始める" not in rows, key
    assert "避難を終えている" in _row(plans["leave_walk"], 4)["person"]


def test_stay_upstairs_names_the_floor_the_person_reaches(plans) -> None:
    house = plans["stay_upstairs"]
    assert "自宅の2階へ移る" in _row(house, 3)["person"]
    assert "2階" in house["decision"]["label"] and house["decision"]["official"] == "屋内安全確保"
    assert "家の中の水が来ない安全な所にとどまる" in house["decision"]["explain"]


def test_flat_residents_stay_on_their_own_floor_only(plans) -> None:
    low = plans["flat"]
    text = " ".join(r["person"] for r in low["timeline"]) + low["decision"]["label"]
    assert "自宅（1階）" in text
    assert not re.search(r"[2-9]階", text), text  # never a floor of the building above the own unit
    assert "家の高い所" not in text and "上の階" not in text
    high = plans["flat_high"]
    text = " ".join(r["person"] for r in high["timeline"]) + high["decision"]["label"]
    assert "自宅（5階）" in text and "6階" not in text and "8階" not in text


def test_no_stairs_means_no_higher_floor_at_level_5(plans) -> None:
    for key in ("no_stairs", "welfare_direct", "welfare_transfer", "not_workable"):
        text = " ".join(r["person"] for r in plans[key]["timeline"])
        assert "家の高い所" not in text and "階へ" not in text, key
    assert "家の高い所（2階）" in _row(plans["leave_walk"], 5)["person"]
    assert "がけから離れた" in _row(plans["leave_walk"], 5)["person"]


def test_level_3_row_agrees_with_the_start_advice(plans) -> None:
    walk = plans["leave_walk"]
    assert walk["start_text"].startswith("警戒レベル3（高齢者等避難）が出たら")
    assert _row(walk, 3)["person"].startswith("避難を始める")
    assert "避難を始める" not in _row(walk, 2)["person"]

    early = plans["no_stairs"]
    assert "警戒レベル3を待たずに" in early["start_text"] and "レベル2氾濫注意報" in early["start_text"]
    assert "警報" not in early["start_text"].replace("警戒", "")  # a 警報 is level 3: never "leave at the 警報"
    assert _row(early, 2)["person"].startswith("避難を始める") and "明るいうち" in _row(early, 2)["person"]
    assert "着いている" in _row(early, 3)["person"] and "避難を始める" not in _row(early, 3)["person"]

    day_before = plans["previous_day"]
    assert "前の日の明るいうちに" in day_before["start_text"]
    assert "前の日" in _row(day_before, 1)["person"] and "車で" in _row(day_before, 1)["person"]
    assert "着いている" in _row(day_before, 3)["person"]


def test_stay_with_an_early_option_moves_the_optional_trip_to_level_2(plans) -> None:
    high = plans["flat_high"]
    assert high["start_text"].startswith("避難先へ移る場合は、警戒レベル3を待たずに")
    assert "明るいうちに" in _row(high, 2)["person"] and "手作り小学校" in _row(high, 2)["person"]


def test_not_workable_is_a_box_for_the_leader_never_a_negative_number(plans) -> None:
    plan = plans["not_workable"]
    assert plan["not_workable"] is not None and plan["not_workable"]["actions"]
    assert plan["start_text"].startswith("この計画はまだ実行できません")
    assert not re.search(r"(?<!\d)[-−－]\s*\d", _advice(plan))
    assert "避難を始める" not in " ".join(r["person"] for r in plan["timeline"])
    for key in ("no_stairs", "previous_day"):  # negative margins with an earlier trigger
        assert plans[key]["not_workable"] is None
        assert not re.search(r"(?<!\d)[-−－]\s*\d", _advice(plans[key]))


def test_warning_names_follow_the_hazards_at_home_and_the_2026_system(plans) -> None:
    landslide = " ".join(" ".join(r["warnings"]) for r in plans["leave_walk"]["timeline"])
    assert {"レベル2土砂災害注意報", "レベル3土砂災害警報", "レベル4土砂災害危険警報", "レベル5土砂災害特別警報"} <= set(
        landslide.split())
    assert "氾濫" not in landslide and "大雨注意報" not in landslide
    river = [r["warnings"] for r in plans["no_stairs"]["timeline"]]
    assert river[1:] == [["レベル2氾濫注意報"], ["レベル3氾濫警報"], ["レベル4氾濫危険警報"], ["レベル5氾濫特別警報"]]
    outside = [w for r in plans["stay"]["timeline"] for w in r["warnings"]]
    assert "レベル4大雨危険警報" in outside and not any("氾濫" in w or "土砂" in w for w in outside)
    everything = _all_text([p["timeline"] for p in plans.values()])
    assert "洪水警報" not in everything and "洪水注意報" not in everything
    assert _row(plans["stay"], 1)["warnings"] == ["早期注意情報（警報級の可能性）"]


def test_warning_names_are_versioned_by_effective_date() -> None:
    assert warning_edition(dt.date(2026, 5, 27))["id"] == "jma-2019"
    assert warning_edition(dt.date(2026, 5, 28))["id"] == "jma-2026"
    t = TimelineInput(decision="leave", hazards=("river",), start_trigger="level3", travel_mode="walk", destination="A",
                      stay_floor=1, can_go_up=False, upper_floor=None, in_flat=False, under_water=False)
    old = [w for r in build_rows(t, dt.date(2025, 7, 1)) for w in r["warnings"]]
    assert "洪水警報" in old
    new = [w for r in build_rows(t, dt.date(2026, 7, 1)) for w in r["warnings"]]
    assert "洪水警報" not in new and "レベル3氾濫警報" in new


def test_official_level_colours_with_readable_text(plans) -> None:
    colours = {r["level"]: (r["colour"].upper(), r["text_colour"].upper()) for r in plans["leave_walk"]["timeline"]}
    assert colours[2] == ("#F2E700", "#000000")  # yellow
    assert colours[3] == ("#FF2800", "#FFFFFF")  # red
    assert colours[4] == ("#AA00AA", "#FFFFFF")  # purple
    assert colours[5] == ("#0C000C", "#FFFFFF")  # black
    assert set(level_colours()) == {1, 2, 3, 4, 5}


def test_transport_wording_is_honest(plans) -> None:
    walk = plans["leave_walk"]["destination"]["transport"]
    assert walk["label"] == "歩いて" and walk["arrange"] is None
    car = plans["no_stairs"]["destination"]
    assert car["transport"]["label"] == "車で" and "移動手段の確保が必要" in car["transport"]["arrange"]
    assert "遠方 次郎" in car["transport"]["arrange"]  # who drives
    assert car["floor"] == 2
    welfare = plans["welfare_direct"]["destination"]["transport"]
    assert "福祉タクシー" in welfare["label"] and "移動手段の確保が必要" in welfare["arrange"]
    for key in ("no_stairs", "welfare_direct", "welfare_transfer", "previous_day"):
        assert "歩いて" not in _all_text(plans[key]["destination"]) + _all_text(plans[key]["timeline"]), key


def test_welfare_direct_only_with_an_agreement(plans, built) -> None:
    direct = plans["welfare_direct"]["welfare"]
    assert direct["direct"] and direct["agreed_on"] == "令和8年6月1日"
    assert "開いたと確かめてから" in _row(plans["welfare_direct"], 3)["person"]
    assert "開いた" not in _all_text(plans["welfare_transfer"]["timeline"])
    assert direct["contact"] == load_profile("402036").welfare.confirmation_contact
    transfer = plans["welfare_transfer"]["welfare"]
    assert not transfer["direct"] and transfer["name"] == "福祉ホームてづくり"
    with built() as session:  # the engine's flag alone is not enough: the agreement must exist
        resident = session.scalars(select(Resident).where(Resident.resident_no == F.SCENARIOS["welfare_transfer"].number)).one()
        assessment = session.get(Assessment, resident.id)
        assessment.welfare_direct = True
        assessment.destination_kind = "welfare"
        shelters = {s.id: s for s in session.scalars(select(Shelter))}
        context = resident_context(resident, assessment, shelters, F.TODAY)
        session.rollback()
    assert not context["welfare"]["direct"]


def test_consent_statutory_fields_and_review_date(plans) -> None:
    assert plans["draft"]["draft"] and not plans["leave_walk"]["draft"]
    walk = plans["leave_walk"]
    assert walk["review"] == "令和9年11月25日"  # 12 months (profile) after the creation date
    assert walk["supporters"][0]["address"] == "手作り町 5-6"
    assert walk["situation"]["info"] == "防災行政無線、電話（支援者から）"
    assert walk["situation"]["daytime"] == "平日の日中はひとり"
    assert walk["route"]["is_road"] and len(walk["route"]["coords"]) == 3
    medical = {m["role"]: m for m in plans["welfare_direct"]["medical"]}
    assert medical["主治医"]["person"]["name"] == "医師 一郎"
    assert medical["訪問看護"]["missing"] and medical["医療機器の業者"]["missing"]
    assert "訪問看護" not in {m["role"] for m in walk["medical"]}  # only for power-dependent devices


def test_supporter_warnings_say_what_to_do(plans) -> None:
    (warning,) = plans["no_stairs"]["supporter_warnings"]
    assert "同意" in warning["text"] and "同意をもらって" in warning["action"]
    (none,) = plans["not_workable"]["supporter_warnings"]
    assert "支援者を決めて" in none["action"]


def test_start_advice_is_none_without_a_trip() -> None:
    t = TimelineInput(decision="stay", hazards=(), start_trigger=None, travel_mode=None, destination=None,
                      stay_floor=1, can_go_up=True, upper_floor=2, in_flat=False, under_water=False)
    assert start_advice(t, []) is None


def test_repeated_supporter_warnings_are_merged_into_one_line() -> None:
    from disaster.plans.content import supporter_warnings

    issues = [{"code": "SUPPORTER_AT_RISK", "text": "支援者（民生委員）の自宅も危険な区域にあります。"},
              {"code": "SUPPORTER_AT_RISK", "text": "支援者（近隣住民）の自宅も危険な区域にあります。"},
              {"code": "SUPPORTER_OVERLOADED", "text": "支援者（民生委員）は11人の支援を担当しています。"}]
    merged = supporter_warnings(issues)
    assert [w["text"] for w in merged] == ["支援者（民生委員・近隣住民）の自宅も危険な区域にあります。",
                                           "支援者（民生委員）は11人の支援を担当しています。"]
    assert all(w["action"] for w in merged)
    (told,) = supporter_warnings([{"code": "SUPPORTER_AT_RISK", "text": "2人目の支援者を決めてください。"}])
    assert told["action"] is None  # the engine already says what to do: not repeated


def test_without_a_supporter_the_rows_name_family_or_the_minsei_iin(plans) -> None:
    alone = plans["draft"]  # nobody assigned yet
    assert not alone["supporters"]
    text = " ".join(r["person"] for r in alone["timeline"])
    assert "家族や民生委員に連絡する" in text and "支援者に連絡" not in text and "支援者と" not in text


def test_a_hard_term_is_explained_once_even_when_two_hazards_use_it() -> None:
    both = hazard_sentences(Exposure(0, 4, 0, True, True, 0, 0, 0))  # 氾濫流 and 河岸侵食
    explained = [line for line in both if line["explain"]]
    assert [line["term"] for line in explained] == ["家屋倒壊等氾濫想定区域"]
    assert sum(line["term"] == "家屋倒壊等氾濫想定区域" for line in both) == 2


def test_level5_never_tells_someone_to_stay_on_a_floor_that_will_be_under_water() -> None:
    def level5(**changes: Any) -> str:
        base = {"decision": "leave", "hazards": ("river",), "start_trigger": "level3", "travel_mode": "car",
                "destination": "A小", "stay_floor": 1, "can_go_up": False, "upper_floor": None, "in_flat": False,
                "under_water": True}
        return build_rows(TimelineInput(**{**base, **changes}), F.TODAY)[4]["person"]

    flooded = level5()  # one storey, 3-5 m of water
    assert "今いる階" not in flooded and "119番" in flooded and "避難を終えておく" in flooded
    assert "家の高い所" not in level5(can_go_up=True, upper_floor=2)  # the second floor floods too
    assert "家の高い所（2階）" in level5(can_go_up=True, upper_floor=2, under_water=False)  # 0.5-3 m: upstairs is dry


def test_without_a_supporter_the_timeline_does_not_pretend_someone_will_drive() -> None:
    t = TimelineInput(decision="leave", hazards=("river",), start_trigger="level3", travel_mode="car", destination="A小",
                      stay_floor=1, can_go_up=False, upper_floor=None, in_flat=False, under_water=False,
                      has_supporter=False)
    rows = build_rows(t, F.TODAY)
    person = " ".join(r["person"] for r in rows)
    assert "運転する人に連絡する" not in person and "家族や民生委員と決めて" in person
    assert rows[0]["supporter"].startswith("支援者はまだ決まっていません")
    with_helper = build_rows(replace(t, has_supporter=True), F.TODAY)
    assert "まだ決まっていません" not in with_helper[0]["supporter"]


def test_car_transport_without_a_supporter_says_who_decides_the_driver() -> None:
    from disaster.plans.context import _transport

    alone = _transport("car", [])["arrange"]
    assert "家族や民生委員と前もって決めて" in alone and "（家族・支援者（" not in alone
    helped = _transport("car", [{"name": "遠方 次郎"}])["arrange"]
    assert "遠方 次郎さん" in helped and "まだ決まっていません" not in helped
