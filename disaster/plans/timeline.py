"""マイ・タイムライン: one coherent set of rows per decision, hazards at home, start trigger,
transport and abilities (pure).

Invariants (the audit checks them on the printed text, tests check them here and in PDFs):
- a person who may stay (屋内安全確保 / outside every zone) is never told "避難を終えている";
- nobody is told to go to a floor they cannot reach, and a person who cannot use stairs (or lives
  in a one-storey house, or in a flat where only the own unit counts) is never told "家の高い所へ";
- the level-3 row and the start advice agree; an "early" trigger moves leaving to level 2 and a
  "previous_day" trigger to the day before;
- warning names come from the versioned reference data, for the hazards at home only.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from disaster.resources import reference_dir

HAZARD_KEYS = ("rain", "landslide", "river")  # 大雨（浸水・内水）, 土砂災害, 河川の氾濫
HAZARD_LABELS = {"rain": "大雨", "landslide": "土砂災害", "river": "川の氾濫"}
START_TRIGGERS = ("level3", "early", "previous_day", "not_workable")
MODE_PHRASES = {
    "walk": "歩いて",
    "car": "車で",
    "welfare_transport": "福祉タクシー等で",
}


@lru_cache
def _reference() -> dict[str, Any]:
    return tomllib.loads((reference_dir() / "warning_levels.toml").read_text(encoding="utf-8"))


def level_colours() -> dict[int, dict[str, str]]:
    """Official 警戒レベル colours: {level: {"background", "text", "name"}}."""
    return {int(k): dict(v) for k, v in _reference()["colours"].items()}


def warning_edition(on: dt.date) -> dict[str, Any]:
    """The edition of warning names in force on ``on`` (the newest one whose effective date has come)."""
    editions = sorted(_reference()["edition"], key=lambda e: e["effective"])
    current = [e for e in editions if e["effective"] <= on]
    return current[-1] if current else editions[0]


def warnings_for(level: dict[str, Any], hazards: tuple[str, ...]) -> list[str]:
    """The warning names of one level row for the hazards at home (大雨 only when the home is
    outside every zone)."""
    keys = hazards or ("rain",)
    names = list(level.get("common", []))
    for key in HAZARD_KEYS:
        if key in keys:
            names += [n for n in level.get(key, []) if n not in names]
    return names


@dataclass(frozen=True)
class TimelineInput:
    decision: str  # leave / stay_upstairs / stay
    hazards: tuple[str, ...]  # keys of HAZARD_KEYS present at home (empty: outside every zone)
    start_trigger: str | None  # level3 / early / previous_day / not_workable / None (no trip)
    travel_mode: str | None  # walk / car / welfare_transport / None
    destination: str | None  # where the person goes (name), None: no destination
    stay_floor: int | None  # floor of the home to stay on (屋内安全確保), already within reach
    can_go_up: bool  # may be told to go to a higher floor of the home (stairs, a house of 2+ storeys)
    upper_floor: int | None  # the highest floor of the home the person can reach
    in_flat: bool  # lives in a flat: only the own unit counts
    under_water: bool  # no floor of the home the person can reach stays above the expected water
    prepare_min: float | None = None
    travel_min: float | None = None
    has_supporter: bool = True
    confirm_opening: bool = False  # direct to a 福祉避難所: only once its opening is confirmed
    blank: bool = False  # the paper form: generic rows with lines to fill in


def mode_phrase(mode: str | None) -> str:
    return MODE_PHRASES.get(mode or "", "")


def _timing(t: TimelineInput) -> str:
    if t.prepare_min is None or t.travel_min is None:
        return ""
    return f"（支度 約{round(t.prepare_min)}分・移動 約{round(t.travel_min)}分）"


def start_advice(t: TimelineInput, level2_names: list[str]) -> str | None:
    """出発の目安, the same wording the level rows use. None when no trip is planned."""
    if t.blank:
        return None
    trigger = t.start_trigger
    if trigger is None or t.destination is None and trigger != "not_workable":
        return None
    prefix = "避難先へ移る場合は、" if t.decision != "leave" else ""
    timing = _timing(t)
    if trigger == "level3":
        return f"{prefix}警戒レベル3（高齢者等避難）が出たら、すぐに出発します{timing}。"
    if trigger == "early":
        names = "・".join(level2_names) or "注意報"
        return (f"{prefix}警戒レベル3を待たずに出発します。レベル2の注意報（{names}）や大雨の予報が出た段階で、"
                f"明るいうちに出ます{timing}。")
    if trigger == "previous_day":
        return f"{prefix}大雨の予報が出たら、前の日の明るいうちに避難先へ移ります{timing}。"
    return "この計画はまだ実行できません（上の赤い囲み）。支援者・民生委員・市で避難の方法を決めます。"


def _level5(t: TimelineInput) -> str:
    """Level 5: only what the person can actually do."""
    if t.under_water:  # staying inside is no option: the plan relies on leaving before this
        return ("ここまでに必ず避難を終えておく（この家は、移れる階まで水につかるおそれがあります）。"
                "まだ家にいるときは、すぐに119番と支援者に助けを求める。近くの頑丈な建物へ移れるなら移る。")
    text = "命を守る行動をとる。外へ出るのが危ないときは、"
    away = "がけから離れた" if "landslide" in t.hazards else ""
    if t.can_go_up and t.upper_floor and t.upper_floor >= 2:
        return text + f"家の高い所（{t.upper_floor}階）の{away}部屋へ。"
    if t.in_flat and t.stay_floor:
        return text + f"自宅（{t.stay_floor}階）の中の{away or '窓から離れた'}安全な場所で救助を待つ。"
    return text + f"今いる階の{away or '窓から離れた'}安全な場所で、119番や支援者に助けを求める。"


def build_rows(t: TimelineInput, on: dt.date) -> list[dict[str, Any]]:
    """Rows ``{"level", "colour", "text_colour", "info", "issuer", "warnings", "person", "supporter"}``."""
    edition = warning_edition(on)
    colours = level_colours()
    hazards = t.hazards if not t.blank else HAZARD_KEYS
    person, supporter = _actions(t)
    if not t.blank and not t.has_supporter:
        supporter = {**supporter, 1: "支援者はまだ決まっていません（決まったら、この欄の行動をお願いします）。" + supporter[1]}
    rows = []
    for level in edition["level"]:
        n = level["level"]
        rows.append({
            "level": n,
            "colour": colours[n]["background"],
            "text_colour": colours[n]["text"],
            "info": level["evacuation"],
            "issuer": level["issuer"],
            "warnings": warnings_for(level, hazards),
            "person": person[n],
            "supporter": supporter[n],
        })
    return rows


def _actions(t: TimelineInput) -> tuple[dict[int, str], dict[int, str]]:
    if t.blank:
        line = "＿＿＿＿＿＿＿＿＿＿＿＿"
        person = {
            1: "天気予報と川の情報を確かめる。持ち出し品と薬をそろえる。",
            2: f"避難先・道順・移動手段を確かめる。早めに出るなら今：{line}",
            3: f"□避難を始める（避難先：{line}）　□自宅の＿階へ移る",
            4: "危険な場所からは、この段階までに必ず避難する。",
            5: "命を守る行動をとる。",
        }
        helper = {
            1: "連絡の方法を確かめる。", 2: "本人に声をかけ、避難の段取りを確かめる。",
            3: "自分と家族の安全を確かめたうえで、本人の避難を手伝う。",
            4: "自分も安全な所へ。本人の様子を確かめ、できないときは市や消防に伝える。",
            5: "自分の命を守ることを優先する。",
        }
        return person, helper
    if t.decision == "leave":
        return _leave(t)
    if t.decision == "stay_upstairs":
        return _stay_upstairs(t)
    return _stay(t)


def _who(t: TimelineInput) -> str:
    return "支援者と" if t.has_supporter else ""


def _keep_in_touch(t: TimelineInput) -> str:
    return "支援者と連絡を取り合う。" if t.has_supporter else "家族や民生委員と連絡を取り合う。"


def _transport_task(t: TimelineInput) -> str:
    if t.travel_mode == "car":
        return "運転する人に連絡する。" if t.has_supporter else "車を運転してくれる人を家族や民生委員と決めて、連絡する。"
    if t.travel_mode == "welfare_transport":
        return "福祉タクシー等を予約する。"
    return "支援者に連絡する。" if t.has_supporter else "家族や民生委員に連絡する。"


def _leave(t: TimelineInput) -> tuple[dict[int, str], dict[int, str]]:
    where = t.destination or "避難先"
    how = mode_phrase(t.travel_mode)
    go = f"{where}へ{how}向かう"
    if t.confirm_opening:
        go = f"{where}が開いたと確かめてから、{how}向かう（確かめられるまでは指定避難所へ）"
    trigger = t.start_trigger
    prepare = "天気予報と川の情報を確かめる。持ち出し品と薬をそろえる。"
    helper_3 = {"car": "本人を車で送る。", "welfare_transport": "福祉タクシー等に乗るのを手伝う。"}.get(
        t.travel_mode or "", "本人の避難を手伝う。")
    if trigger == "not_workable":
        person = {
            1: "大雨の予報が出たら、すぐに支援者・民生委員に連絡し、避難の方法を相談する。",
            2: "支援者・市に連絡し、避難の手助けを頼む。",
            3: "支援者・市に連絡し、避難の手助けを求める（この計画はまだ実行できません）。",
            4: "まだ避難できていなければ、すぐに119番や市に助けを求める。",
            5: _level5(t),
        }
        helper = {
            1: "本人と避難の方法を相談する。市（福祉の窓口）にも相談する。",
            2: "本人に連絡し、避難の手助けができるか確かめる。",
            3: "自分と家族の安全を確かめたうえで、本人の避難を手伝う。できないときは市や消防に伝える。",
            4: "自分も避難する。本人が避難できていないときは、市や消防に伝える。",
            5: "自分の命を守ることを優先する。",
        }
        return person, helper
    if trigger == "previous_day":
        person = {
            1: f"前の日のうちに：大雨の予報が出たら、明るいうちに{go}。{_transport_task(t)}",
            2: f"{where}に着いている。まだなら、すぐに避難を始める。",
            3: f"{where}に着いている。まだなら、すぐに避難する。",
            4: "この段階までに避難を終えている。まだなら、すぐに避難する。",
            5: _level5(t),
        }
        helper = {
            1: f"本人に連絡し、前の日の明るいうちに避難を手伝う。{helper_3}",
            2: "本人が避難先に着いたか確かめる。",
            3: "本人が避難先に着いたか確かめる。まだなら市や消防に伝える。",
            4: "自分も避難する。本人が避難できていなければ市や消防に伝える。",
            5: "自分の命を守ることを優先する。",
        }
        return person, helper
    if trigger == "early":
        person = {
            1: f"{prepare}{_transport_task(t)}",
            2: f"避難を始める：明るいうちに{go}。",
            3: f"{where}に着いている。まだなら、すぐに避難する。",
            4: "この段階までに避難を終えている。まだなら、すぐに避難する。",
            5: _level5(t),
        }
        helper = {
            1: "連絡の方法と、早めに出る段取りを確かめる。",
            2: f"自分と家族の安全を確かめたうえで、{helper_3}",
            3: "本人が避難先に着いたか確かめる。まだなら市や消防に伝える。",
            4: "自分も避難する。本人が避難できていなければ市や消防に伝える。",
            5: "自分の命を守ることを優先する。",
        }
        return person, helper
    person = {
        1: prepare,
        2: f"すぐ出られるように支度する。{_transport_task(t)}",
        3: f"避難を始める：{_who(t)}{go}。",
        4: "この段階までに避難を終えている。まだなら、すぐに避難する。",
        5: _level5(t),
    }
    helper = {
        1: "連絡の方法を確かめる。",
        2: "本人に声をかけ、避難の段取りと移動手段を確かめる。",
        3: f"自分と家族の安全を確かめたうえで、{helper_3}",
        4: "自分も避難する。本人が避難できていなければ市や消防に伝える。",
        5: "自分の命を守ることを優先する。",
    }
    return person, helper


def _option(t: TimelineInput) -> str:
    """The optional trip of a person who may stay, at the level its trigger names."""
    if t.destination is None:
        return ""
    return f"{t.destination}へ{mode_phrase(t.travel_mode)}"


def _stay_place(t: TimelineInput) -> tuple[str, str]:
    """(where the person stays, the move there) for 屋内安全確保."""
    floor = t.stay_floor or 1
    if t.in_flat:
        return f"自宅（{floor}階）", f"自宅（{floor}階）で過ごす。外や1階へ出ない"
    if t.can_go_up and floor >= 2:
        return f"自宅の{floor}階", f"自宅の{floor}階へ移る"
    return f"自宅（{floor}階）", f"自宅の{floor}階で過ごす"


def _stay_upstairs(t: TimelineInput) -> tuple[dict[int, str], dict[int, str]]:
    place, move = _stay_place(t)
    option = _option(t)
    trigger = t.start_trigger
    leave_at = {"early": 2, "previous_day": 1, "level3": 3}.get(trigger or "")
    person = {
        1: "天気予報と川の情報を確かめる。水・食料・薬・簡易トイレを3日分以上そろえる。",
        2: f"水・食料・薬・トイレを{place}に運ぶ。{_keep_in_touch(t)}",
        3: f"{move}（水・食料・薬・トイレも）。",
        4: f"{place}で過ごす。水の中を歩いて外に出ない。",
        5: _level5(t),
    }
    if option and leave_at:
        ask = f"不安なときは、{option}避難する。"
        if leave_at == 1:
            person[1] += f"家にとどまらないときは、前の日の明るいうちに{option}移る。"
        elif leave_at == 2:
            person[2] += f"家にとどまらないときは、明るいうちに{option}移る。"
        else:
            person[3] += ask
    helper = {
        1: "連絡の方法を確かめる。",
        2: f"本人に声をかけ、{place}で過ごす準備ができているか確かめる。",
        3: f"本人が{place}に移ったか、電話などで確かめる。",
        4: "自分も安全な所へ。本人と連絡が取れないときは、市や消防に伝える。",
        5: "自分の命を守ることを優先する。",
    }
    return person, helper


def _stay(t: TimelineInput) -> tuple[dict[int, str], dict[int, str]]:
    option = _option(t)
    person = {
        1: "天気予報と川の情報を確かめる。持ち出し品と薬をそろえる。",
        2: f"テレビ・ラジオ・防災メールで情報を確かめる。{_keep_in_touch(t)}",
        3: "ご自宅は想定区域の外です。自宅で過ごし、周りの様子と情報を確かめる。",
        4: "自宅で過ごす。外が危ないときは外に出ない。市の呼びかけに従う。",
        5: _level5(t),
    }
    if option and t.start_trigger in ("level3", "early", "previous_day"):
        level = {"level3": 3, "early": 2, "previous_day": 1}[t.start_trigger or "level3"]
        person[level] += f"不安なときは、{option}避難する。"
    helper = {
        1: "連絡の方法を確かめる。",
        2: "本人に声をかけ、様子を確かめる。",
        3: "本人の様子を電話などで確かめる。",
        4: "自分の安全を確かめ、本人と連絡を取り合う。",
        5: "自分の命を守ることを優先する。",
    }
    return person, helper
