"""Plan-safety checks on stored assessments and plan contexts (pure: frames and dicts in,
violations out; no database).

The checks look at OUTCOMES — where a person is sent, how, when, and what the plan says — and
recompute the hazards at every place from the zones themselves. They do not reuse the engine's
eligibility rules, so a bug there cannot hide itself here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import shapely

from disaster.audit.hazards import SiteSafety, Zones, floor_needed, site_safety
from disaster.audit.rules import Rule, Violation, todo, toolkit
from disaster.codes import DEPTH_RANKS, POWER_DEPENDENT_DEVICES
from disaster.profile import WalkLimits

MAX_WALK_MIN = 60.0  # nobody is asked to walk longer than this in heavy rain
LONG_DURATION_RANK = 3  # 浸水継続時間 1日以上
TRAVEL_MODES = frozenset({"walk", "car", "welfare_transport"})
START_TRIGGERS = frozenset({"level3", "early", "previous_day", "not_workable"})
EARLY_TRIGGERS = frozenset({"early", "previous_day"})
STAY_DECISIONS = frozenset({"stay", "stay_upstairs"})
NO_STAIRS_MOBILITY = frozenset({"車いす", "寝たきり"})
TOLERANCE_M = 1.0

# Columns the assessment frame is read with (missing ones read as None: an engine that does not
# produce them fails the checks that need them).
ASSESSMENT_COLUMNS = (
    "resident_id", "decision", "decision_reasons", "required_floor", "reachable_floor", "destination_kind",
    "destination_shelter_id", "destination_text", "destination_reasons", "second_shelter_id", "welfare_needed",
    "welfare_unplaced", "distance_m", "travel_min", "prepare_min", "start_margin_min", "travel_mode", "walk_min",
    "start_trigger", "destination_floor", "welfare_shelter_id", "welfare_direct", "supporter_issues", "route",
)
RESIDENT_COLUMNS = (
    "id", "resident_no", "district", "lon", "lat", "mobility", "care_level", "medical_devices", "building_floors",
    "bedroom_floor", "home_floor", "can_use_stairs", "preferred_shelter_code",
)

WALK_TEXT = re.compile(r"歩いて(約|およそ|\d)")
NEGATIVE_TEXT = re.compile(r"(?<![\d.])[-−]\s*\d+(\.\d+)?\s*(分|時間)|マイナス\s*\d")  # not a range "10-20分" (after NFKC)
LEVEL3_BEFORE_WARNING = re.compile(r"レベル3を待たず[^。]*警報")
FLOOR_TEXT = re.compile(r"(\d+|[一二三四五六七八九十]+)階(?!建|段)")
# Warnings the engine writes that the plan must carry (in its own words the plan may add more).
LOUD_REASONS = frozenset({"OWN_CHOICE_UNSAFE", "NOT_WORKABLE", "DEEP_WATER_ROUTE"})
KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九", start=0)}


@dataclass
class AuditInputs:
    """Everything the checks read. ``assessments``: the Assessment columns (stored rows or the
    engine's frame); ``residents``: the Resident columns plus ``district`` (校区 name) and, for
    the statutory checks, ``supporters`` / ``contacts`` / ``professionals`` as lists of dicts;
    ``shelters``: the Shelter columns; ``zones``: layer, rank, landslide_class, geometry (WGS84);
    ``agreements``: resident_id, shelter_id (WelfareAgreement); ``contexts``: plan contexts
    (``plans.context.plan_contexts``) or None to skip the plan-text checks."""

    assessments: pd.DataFrame
    residents: pd.DataFrame
    shelters: pd.DataFrame
    zones: pd.DataFrame
    agreements: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["resident_id", "shelter_id"]))
    walk_limits: WalkLimits = field(default_factory=WalkLimits)
    contexts: list[dict[str, Any]] | None = None
    evacuation: Any = None  # the profile's EvacuationProfile: car speed, driver arrival, early windows

    def setting(self, name: str) -> float | None:
        value = getattr(self.evacuation, name, None)
        return None if value is None else float(value)


# --- small value helpers (frames from the engine hold NaN/-1, stored rows hold None) ---

def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT or (isinstance(value, str) and not value.strip())


def _id(value: Any) -> int | None:
    """A shelter id, or None for none (None, NaN, or the engine's -1)."""
    if _missing(value):
        return None
    number = int(value)
    return number if number >= 0 else None


def _num(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _codes(reasons: Any) -> set[str]:
    return {r.get("code", "") for r in reasons} if isinstance(reasons, list) else set()


def _texts(reasons: Any) -> list[str]:
    return [str(r.get("text", "")) for r in reasons] if isinstance(reasons, list) else []


def _flag(value: Any) -> bool:
    return value is True or (not isinstance(value, bool) and not _missing(value) and value == 1)


def _list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def walk_class(mobility: Any, care_level: Any) -> str:
    """Mobility class of the walk limits: bedridden / wheelchair / supported / able."""
    if mobility == "寝たきり":
        return "bedridden"
    if mobility == "車いす":
        return "wheelchair"
    if mobility == "杖・歩行器" or not _missing(care_level):
        return "supported"
    return "able"


def walk_limit_m(limits: WalkLimits, mobility: Any, care_level: Any) -> float:
    return float(getattr(limits, f"{walk_class(mobility, care_level)}_m"))


def can_use_stairs(resident: dict[str, Any]) -> bool:
    return resident.get("can_use_stairs") is not False and resident.get("mobility") not in NO_STAIRS_MOBILITY


def own_reach(resident: dict[str, Any]) -> int:
    """The highest floor of their own home the person can shelter on: their unit's floor in a
    flat; the top floor of a house with stairs; else the bedroom floor."""
    floors = _int(resident.get("building_floors")) or 1
    flat = _int(resident.get("home_floor"))
    if flat is not None and flat > 0:
        return flat
    if can_use_stairs(resident):
        return max(1, floors)
    return max(1, min(_int(resident.get("bedroom_floor")) or 1, floors))


def _power_dependent(resident: dict[str, Any]) -> bool:
    return bool(POWER_DEPENDENT_DEVICES.intersection(_list(resident.get("medical_devices"))))


# --- the rows the checks walk over ---

@dataclass
class _Row:
    a: dict[str, Any]  # assessment
    r: dict[str, Any]  # resident
    home: dict[str, Any]  # hazards at home (recomputed)

    @property
    def no(self) -> str:
        return str(self.r.get("resident_no") or self.a.get("resident_id"))

    @property
    def district(self) -> str | None:
        value = self.r.get("district")
        return None if _missing(value) else str(value)


def _rows(inputs: AuditInputs, zones: Zones | None) -> Iterator[_Row]:
    assessments = inputs.assessments.reindex(columns=list(ASSESSMENT_COLUMNS)).astype(object)
    residents = inputs.residents.reindex(columns=list(dict.fromkeys([*RESIDENT_COLUMNS, *inputs.residents.columns])))
    by_id = {int(r["id"]): r for r in residents.astype(object).to_dict("records")}
    assessed = assessments.to_dict("records")
    people = [by_id.get(int(a["resident_id"]), {"id": a["resident_id"]}) for a in assessed]
    if zones is None:
        homes: list[dict[str, Any]] = [{} for _ in people]
    else:
        homes = zones.at([_num(p.get("lon")) or 0.0 for p in people],
                         [_num(p.get("lat")) or 0.0 for p in people]).to_dict("records")
    for a, r, home in zip(assessed, people, homes, strict=True):
        yield _Row(a, r, home)


class _Sites:
    """Safety of every shelter, computed once."""

    def __init__(self, shelters: pd.DataFrame, zones: Zones):
        self.names: dict[int, str] = {}
        self.safety: dict[int, SiteSafety] = {}
        self.capacity: dict[int, int | None] = {}
        self.codes: dict[int, str] = {}
        self.welfare_only: dict[int, bool] = {}
        self.barrier_free: dict[int, bool] = {}
        self.backup_power: dict[int, bool] = {}
        self.points: dict[int, tuple[float, float]] = {}
        if len(shelters):
            hazards = zones.at(shelters["lon"].to_numpy(dtype=float), shelters["lat"].to_numpy(dtype=float))
            for (_, s), (_, h) in zip(shelters.iterrows(), hazards.iterrows(), strict=True):
                sid = int(s["id"])
                self.names[sid] = str(s.get("name"))
                self.capacity[sid] = _int(s.get("capacity"))
                self.codes[sid] = str(s.get("code") or "")
                self.welfare_only[sid] = _flag(s.get("is_welfare_shelter")) and not _flag(s.get("is_designated_shelter"))
                self.barrier_free[sid] = _flag(s.get("barrier_free"))
                self.backup_power[sid] = _flag(s.get("backup_power"))
                self.points[sid] = (float(s["lon"]), float(s["lat"]))
                self.safety[sid] = site_safety(h, bool(s.get("hazard_flood") is True or s.get("hazard_flood") == 1),
                                               _int(s.get("usable_floors")))

    def name(self, sid: int) -> str:
        return self.names.get(sid, f"避難所ID {sid}")


# --- (a) destinations, (b) walking, (c) timing, (d) 福祉避難所, and staying put ---

def check_assessments(inputs: AuditInputs) -> list[Violation]:
    zones = Zones.from_frame(inputs.zones)
    sites = _Sites(inputs.shelters, zones)
    agreements = {(int(a), int(s)) for a, s in zip(inputs.agreements.get("resident_id", []),
                                                   inputs.agreements.get("shelter_id", []), strict=True)}
    out: list[Violation] = []
    rows = list(_rows(inputs, zones))
    has_route = "route" in inputs.assessments.columns
    for row in rows:
        out += _destination(row, sites)
        out += _access(row, sites)
        if has_route:
            out += _route(row, sites)
        out += _travel(row, inputs.walk_limits)
        out += _timing(row, inputs)
        out += _welfare(row, sites, agreements)
        out += _stay(row)
        out += _reason_texts(row)
    out += _welfare_capacity(rows, sites)
    return out


def _welfare_capacity(rows: list[_Row], sites: _Sites) -> list[Violation]:
    """No 福祉避難所 is planned for more people than its places (direct and transfer alike)."""
    planned: dict[int, list[_Row]] = {}
    for row in rows:
        welfare = _id(row.a.get("welfare_shelter_id"))
        if welfare is None and row.a.get("destination_kind") == "welfare":
            welfare = _id(row.a.get("destination_shelter_id"))
        if welfare is not None:
            planned.setdefault(welfare, []).append(row)
    out: list[Violation] = []
    for sid, people in planned.items():
        places = sites.capacity.get(sid)
        if places is None or len(people) <= places:
            continue
        # the residents' own choices are kept as they are; the engine may only fill what is left
        chosen = [row for row in people if sites.codes.get(sid) and row.r.get("preferred_shelter_code") == sites.codes[sid]]
        assigned = [row for row in people if row not in chosen]
        name = sites.name(sid)
        if len(assigned) > max(0, places - len(chosen)):
            out += [toolkit(row.no, row.district, Rule.WELFARE_CAPACITY,
                            f"福祉避難所「{name}」の受け入れ枠は{places}人ですが、{len(people)}人が予定されています。")
                    for row in assigned]
        if len(chosen) > places:
            out += [todo(row.no, row.district, Rule.WELFARE_CAPACITY,
                         f"ご本人が希望する福祉避難所「{name}」は受け入れ枠{places}人に対し、{len(chosen)}人が希望しています。",
                         "施設・市（福祉担当）と受け入れを調整し、希望する方と避難先を話し合ってください。")
                    for row in chosen]
    return out


def _destination(row: _Row, sites: _Sites) -> list[Violation]:
    a, no, district = row.a, row.no, row.district
    out: list[Violation] = []
    codes = _codes(a.get("destination_reasons"))
    dest = _id(a.get("destination_shelter_id"))
    own = "OWN_CHOICE" in codes or "OWN_CHOICE_UNSAFE" in codes
    if dest is not None:
        safety = sites.safety.get(dest)
        if safety is None:
            out.append(toolkit(no, district, Rule.DEST_UNSAFE, f"避難先（ID {dest}）が避難所の一覧にありません。"))
        elif safety.problem:
            name = sites.name(dest)
            if "OWN_CHOICE_UNSAFE" in codes:
                second = _id(a.get("second_shelter_id"))
                extra = "" if second is not None else "安全な第2の避難先もありません。"
                out.append(todo(no, district, Rule.OWN_CHOICE_UNSAFE,
                                f"ご本人が希望する避難先「{name}」は{safety.problem}。{extra}",
                                "ご本人・家族と避難先の見直しを話し合い、大雨のときは安全な避難先を使うよう確認してください。"))
            else:
                whose = "ご本人の希望だが警告なしの" if own else ""
                out.append(toolkit(no, district, Rule.DEST_UNSAFE, f"{whose}避難先「{name}」は{safety.problem}。"))
        elif safety.floor is not None and safety.floor > 1:
            used = _int(a.get("destination_floor"))
            if used is None or used < safety.floor:
                have = f"{used}階" if used is not None else "使う階の指定なし"
                out.append(toolkit(no, district, Rule.DEST_FLOOR,
                                   f"避難先「{sites.name(dest)}」は浸水する区域にあり{safety.floor}階以上を使う必要がありますが、{have}です。"))
    elif a.get("decision") == "leave" and a.get("destination_kind") != "own_choice":
        if a.get("start_trigger") == "not_workable":
            pass  # reported by _travel as NOT_WORKABLE
        elif codes & {"NO_SHELTER", "NOT_WORKABLE", "WELFARE_UNPLACED"}:
            out.append(todo(no, district, Rule.NO_DESTINATION, "立退き避難が必要ですが、安全で行ける避難先が見つかっていません。",
                            "親戚・知人宅などの避難先や移動手段を本人・支援者と話し合い、市（福祉担当）に相談してください。"))
        else:
            out.append(toolkit(no, district, Rule.NO_DESTINATION, "立退き避難が必要ですが、避難先がなく、その理由も示されていません。"))
    second = _id(a.get("second_shelter_id"))
    if second is not None and second in sites.safety and sites.safety[second].problem:
        out.append(toolkit(no, district, Rule.SECOND_UNSAFE, f"第2の避難先「{sites.name(second)}」は{sites.safety[second].problem}。"))
    welfare = _id(a.get("welfare_shelter_id"))
    if welfare is not None and welfare != dest and welfare in sites.safety and sites.safety[welfare].problem:
        out.append(toolkit(no, district, Rule.WELFARE_UNSAFE,
                           f"予定の福祉避難所「{sites.name(welfare)}」は{sites.safety[welfare].problem}。"))
    return out


ROUTE_END_M = 300.0  # a route starts at home and ends at the destination (road snapping allowed)
OWN_CODES = frozenset({"OWN_CHOICE", "OWN_CHOICE_UNSAFE"})


def _access(row: _Row, sites: _Sites) -> list[Violation]:
    """Wheelchair users get a barrier-free place, power-dependent people backup power, or a
    warning that it is not confirmed; a 福祉避難所-only facility is never a plain shelter trip."""
    a, r, no, district = row.a, row.r, row.no, row.district
    dest = _id(a.get("destination_shelter_id"))
    if dest is None or dest not in sites.names:
        return []
    out: list[Violation] = []
    if a.get("destination_kind") == "shelter" and sites.welfare_only.get(dest):
        out.append(toolkit(no, district, Rule.WELFARE_DIRECT,
                           f"福祉避難所だけの施設「{sites.name(dest)}」へ、協定なしに直接避難させています。"))
    codes = _codes(a.get("destination_reasons"))
    gaps = []
    if r.get("mobility") in NO_STAIRS_MOBILITY and not sites.barrier_free.get(dest):
        gaps.append("バリアフリー")
    if _power_dependent(r) and not sites.backup_power.get(dest):
        gaps.append("非常用電源")
    if gaps and "ACCESS_UNCONFIRMED" not in codes:
        what = "・".join(gaps)
        if codes & OWN_CODES:
            out.append(todo(no, district, Rule.ACCESS, f"ご本人が希望する避難先「{sites.name(dest)}」の{what}が確認できていません。",
                            f"避難先の{what}を施設に確認し、ご本人と話し合ってください。"))
        else:
            out.append(toolkit(no, district, Rule.ACCESS,
                               f"避難先「{sites.name(dest)}」の{what}が確認できていないのに、その注意が書かれていません。"))
    return out


def _route(row: _Row, sites: _Sites) -> list[Violation]:
    """The route drawn on the map runs from home to the destination."""
    a, r = row.a, row.r
    dest = _id(a.get("destination_shelter_id"))
    if dest is None or dest not in sites.points or _missing(r.get("lon")):
        return []
    raw = a.get("route")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return [toolkit(row.no, row.district, Rule.ROUTE, "地図に描く経路がありません。")]
    line = shapely.from_wkb(bytes(raw))
    coords = shapely.get_coordinates(line)
    if len(coords) < 2:
        return [toolkit(row.no, row.district, Rule.ROUTE, "地図に描く経路が線になっていません。")]
    home = (float(r["lon"]), float(r["lat"]))
    far_start = _metres_between(tuple(coords[0]), home)
    far_end = _metres_between(tuple(coords[-1]), sites.points[dest])
    if far_start > ROUTE_END_M or far_end > ROUTE_END_M:
        return [toolkit(row.no, row.district, Rule.ROUTE,
                        f"地図の経路が自宅から避難先「{sites.name(dest)}」までになっていません（ずれ {_metres(max(far_start, far_end))}）。")]
    return []


def _metres_between(p: tuple[float, ...], q: tuple[float, ...]) -> float:
    """Short distances on the ground (equirectangular, good to a few metres over a city)."""
    mean_lat = math.radians((p[1] + q[1]) / 2)
    dx = math.radians(q[0] - p[0]) * math.cos(mean_lat) * 6_371_000
    dy = math.radians(q[1] - p[1]) * 6_371_000
    return math.hypot(dx, dy)


def _travel(row: _Row, limits: WalkLimits) -> list[Violation]:
    a, r, no, district = row.a, row.r, row.no, row.district
    out: list[Violation] = []
    mode = None if _missing(a.get("travel_mode")) else str(a.get("travel_mode"))
    trigger = None if _missing(a.get("start_trigger")) else str(a.get("start_trigger"))
    dest = _id(a.get("destination_shelter_id"))
    texts = _texts(a.get("destination_reasons"))
    trip = dest is not None and a.get("decision") == "leave"
    if trip and mode is None:
        out.append(toolkit(no, district, Rule.TRAVEL_MODE, "避難先までの移動手段（徒歩・車・福祉車両）が決まっていません。"))
    if mode is not None and mode not in TRAVEL_MODES:
        out.append(toolkit(no, district, Rule.TRAVEL_MODE, f"移動手段「{mode}」は決められた値ではありません。"))
    walking = mode == "walk" or (mode is None and any(WALK_TEXT.search(t) for t in texts))
    if walking and dest is not None:
        limit = walk_limit_m(limits, r.get("mobility"), r.get("care_level"))
        distance = _num(a.get("distance_m"))
        if distance is not None and distance > limit + TOLERANCE_M:
            out.append(toolkit(no, district, Rule.WALK_TOO_FAR,
                               f"{_metres(distance)}を歩く計画ですが、この方が歩ける道のりは{_metres(limit)}までです。"))
        minutes = _num(a.get("walk_min"))
        if minutes is None and mode is None:
            minutes = _num(a.get("travel_min"))
        if minutes is not None and minutes > MAX_WALK_MIN:
            out.append(toolkit(no, district, Rule.WALK_TOO_LONG, f"歩いて約{round(minutes)}分かかる計画です（上限{round(MAX_WALK_MIN)}分）。"))
    if trip and trigger is None:
        out.append(toolkit(no, district, Rule.START_TRIGGER, "いつ出発するか（警戒レベル3・それより前・前日）が決まっていません。"))
    if trigger is not None and trigger not in START_TRIGGERS:
        out.append(toolkit(no, district, Rule.START_TRIGGER, f"出発の目安「{trigger}」は決められた値ではありません。"))
    margin = _num(a.get("start_margin_min"))
    if margin is not None and margin < 0 and trigger in (None, "level3"):
        out.append(toolkit(no, district, Rule.NEGATIVE_MARGIN,
                           "警戒レベル3で出発すると間に合わないのに、早めの出発（前日・レベル2）も「成り立たない」との指摘もありません。"))
    if trigger == "not_workable":
        out.append(todo(no, district, Rule.NOT_WORKABLE, "前日に出発しても間に合う安全な避難先・移動手段がなく、計画が成り立っていません。",
                        "支援者・家族と前日の避難先（親戚宅など）や車の手配を話し合い、決まらなければ市（福祉担当）に相談してください。"))
    return out


MAX_WALK_SPEED_MPS = 1.5  # nobody in these plans walks faster: a quicker time is understated
TIME_SLACK = 0.98


def _timing(row: _Row, inputs: AuditInputs) -> list[Violation]:
    """Times are honest: no faster than walking or rain-time driving allows, a driver's arrival
    counted, and an early start that still fits its window."""
    a, no, district = row.a, row.no, row.district
    out: list[Violation] = []
    mode = None if _missing(a.get("travel_mode")) else str(a.get("travel_mode"))
    distance, minutes = _num(a.get("distance_m")), _num(a.get("travel_min"))
    if distance and minutes is not None and mode in TRAVEL_MODES:
        car = inputs.setting("car_speed_kmh")
        fastest = MAX_WALK_SPEED_MPS * 60 if mode == "walk" else (car * 1000 / 60 if car else None)
        if fastest and minutes < distance / fastest * TIME_SLACK:
            out.append(toolkit(no, district, Rule.TRAVEL_TIME,
                               f"{_metres(distance)}の移動が約{round(minutes)}分とされていて、短すぎます。"))
    arrive, prepare = inputs.setting("car_arrange_min"), _num(a.get("prepare_min"))
    if mode in ("car", "welfare_transport") and arrive and prepare is not None and prepare < arrive:
        out.append(toolkit(no, district, Rule.TRAVEL_TIME,
                           f"車で避難するのに、支度の時間（約{round(prepare)}分）に運転する人が来るまでの時間（{round(arrive)}分）が入っていません。"))
    margin = _num(a.get("start_margin_min"))
    trigger = None if _missing(a.get("start_trigger")) else str(a.get("start_trigger"))
    window = {"early": inputs.setting("early_window_min"), "previous_day": inputs.setting("previous_day_window_min")}
    extra = window.get(trigger or "")
    if margin is not None and extra is not None and margin + extra < 0:
        out.append(toolkit(no, district, Rule.NEGATIVE_MARGIN,
                           f"早めに出発しても約{round(-(margin + extra))}分足りませんが、「成り立たない」とされていません。"))
    return out


def _welfare(row: _Row, sites: _Sites, agreements: set[tuple[int, int]]) -> list[Violation]:
    a, no, district = row.a, row.no, row.district
    out: list[Violation] = []
    resident = _int(a.get("resident_id"))
    welfare = _id(a.get("welfare_shelter_id"))
    dest = _id(a.get("destination_shelter_id"))
    direct = a.get("welfare_direct") is True or a.get("welfare_direct") == 1
    if direct:
        if welfare is None or (resident, welfare) not in agreements:
            name = sites.name(welfare) if welfare is not None else "（未定）"
            out.append(toolkit(no, district, Rule.WELFARE_DIRECT, f"福祉避難所「{name}」への直接避難としていますが、その施設との受け入れの協定が登録されていません。"))
        elif dest != welfare or a.get("destination_kind") != "welfare":
            out.append(toolkit(no, district, Rule.WELFARE_DIRECT, "直接避難としていますが、避難先がその福祉避難所になっていません。"))
    elif a.get("destination_kind") == "welfare":
        name = sites.name(dest) if dest is not None else "（未定）"
        out.append(toolkit(no, district, Rule.WELFARE_DIRECT, f"協定による直接避難ではないのに、福祉避難所「{name}」を直接の避難先にしています。"))
    needed = a.get("welfare_needed") is True or a.get("welfare_needed") == 1
    unplaced = a.get("welfare_unplaced") is True or a.get("welfare_unplaced") == 1
    own = bool(_codes(a.get("destination_reasons")) & {"OWN_CHOICE", "OWN_CHOICE_UNSAFE"}) or a.get("destination_kind") == "own_choice"
    if (needed and a.get("decision") == "leave" and not unplaced and not own and welfare is None
            and a.get("destination_kind") != "welfare"):
        out.append(toolkit(no, district, Rule.WELFARE_UNPLACED, "福祉避難所が必要ですが、予定の福祉避難所も「受け入れ先がない」との報告もありません。"))
    if unplaced:
        out.append(todo(no, district, Rule.WELFARE_UNPLACED, "福祉避難所が必要ですが、間に合う範囲に受け入れ先がありません。",
                        "市（福祉担当）と受け入れ先を相談してください。それまでは指定避難所の福祉スペースを使う準備をしてください。"))
    return out


def _stay(row: _Row) -> list[Violation]:
    """Staying at home (upstairs or not) must be safe against what the zones say about home."""
    a, r, home = row.a, row.r, row.home
    if a.get("decision") not in STAY_DECISIONS or _missing(r.get("lon")):
        return []
    problem = None
    if home["landslide"]:
        problem = "ご自宅は土砂災害警戒区域にあります"
    elif home["collapse"]:
        problem = "ご自宅は家屋倒壊等氾濫想定区域にあります"
    else:
        depth = max(int(home["l2"]), int(home["inland"]))
        need = floor_needed(depth)
        reach = own_reach(r)
        if need is None or reach < need:
            problem = f"浸水の深さ{DEPTH_RANKS[depth][0]}に対し、この方が使える自宅の階は{reach}階までです"
        elif int(home["duration"]) >= LONG_DURATION_RANK and _power_dependent(r):
            problem = "電源が必要な医療機器を使う方で、浸水が1日以上続くおそれがあります"
    if problem is None:
        return []
    return [toolkit(row.no, row.district, Rule.STAY_UNSAFE, f"{problem}が、自宅にとどまる判定です。")]


def _reason_texts(row: _Row) -> list[Violation]:
    texts = _texts(row.a.get("decision_reasons")) + _texts(row.a.get("destination_reasons"))
    return _text_checks(row, texts)


def _text_checks(row: _Row, texts: Iterable[str]) -> list[Violation]:
    a = row.a
    mode = None if _missing(a.get("travel_mode")) else str(a.get("travel_mode"))
    direct = a.get("welfare_direct") is True or a.get("welfare_direct") == 1
    out: list[Violation] = []
    for text in texts:
        text = unicodedata.normalize("NFKC", text)
        if mode is not None and mode != "walk" and WALK_TEXT.search(text):
            out.append(toolkit(row.no, row.district, Rule.TEXT_WALK, "歩いて行かない計画なのに「歩いて」と書かれています。"))
        if NEGATIVE_TEXT.search(text):
            out.append(toolkit(row.no, row.district, Rule.TEXT_NEGATIVE, "マイナスの時間が数字で書かれています。"))
        if "直接避難できます" in text and not direct:
            out.append(toolkit(row.no, row.district, Rule.TEXT_DIRECT, "協定と開設確認の条件なしに「直接避難できます」と書かれています。"))
        if LEVEL3_BEFORE_WARNING.search(text):
            out.append(toolkit(row.no, row.district, Rule.TIMELINE_START, "「警戒レベル3を待たず…警報の段階で」と書かれています（警報は警戒レベル3に当たります）。"))
    return out


# --- (e) timeline and plan text, (f) consent gate ---

def check_plans(inputs: AuditInputs) -> list[Violation]:
    """The plan contexts agree with the decision and the person (needs ``inputs.contexts``)."""
    if inputs.contexts is None:
        return []
    rows = {row.no: row for row in _rows(inputs, Zones.from_frame(inputs.zones))}
    residents = {str(r["resident_no"]): r for r in inputs.residents.astype(object).to_dict("records")}
    out: list[Violation] = []
    for context in inputs.contexts:
        no = str(context.get("resident_no"))
        row = rows.get(no)
        resident = residents.get(no, {})
        district = None if _missing(resident.get("district")) else str(resident.get("district"))
        if not context.get("consent_plan") and context.get("draft") is not True:
            out.append(toolkit(no, district, Rule.CONSENT_GATE, "計画作成の同意がないのに、下書き（市の職員用）として扱われていません。"))
        if row is None:
            out.append(todo(no, district, Rule.PLAN_MISSING, "この方の避難判定がありません。", "disaster assess で判定をやり直してください。"))
            continue
        out += _timeline(row, context)
        out += _printed_walk(row, context, inputs.walk_limits)
        out += _text_checks(row, _strings(context))
        out += _warnings_shown(row, context)
        floor = _int(row.a.get("destination_floor"))
        if floor is not None and floor > 1 and not any(f"{floor}階" in unicodedata.normalize("NFKC", s) for s in _strings(context)):
            out.append(toolkit(no, district, Rule.DEST_FLOOR, f"避難先で使う階（{floor}階以上）が計画に書かれていません。"))
    return out


def _printed_walk(row: _Row, context: dict[str, Any], limits: WalkLimits) -> list[Violation]:
    """The printed destination is not a walk beyond what the person can walk (a plan record may
    have changed the place or the way to go since the assessment)."""
    destination = context.get("destination")
    if not isinstance(destination, dict) or (destination.get("transport") or {}).get("mode") != "walk":
        return []
    distance = _num(destination.get("distance_km"))
    limit = walk_limit_m(limits, row.r.get("mobility"), row.r.get("care_level"))
    if distance is None or distance * 1000 <= limit + TOLERANCE_M:
        return []
    return [toolkit(row.no, row.district, Rule.WALK_TOO_FAR,
                    f"計画に{_metres(distance * 1000)}を歩くと書かれていますが、この方が歩ける道のりは{_metres(limit)}までです。")]


def _timeline(row: _Row, context: dict[str, Any]) -> list[Violation]:
    a, r, no, district = row.a, row.r, row.no, row.district
    out: list[Violation] = []
    rows = [t for t in _list(context.get("timeline")) if isinstance(t, dict)]
    places = {str(d.get("name")) for d in (context.get("destination"), context.get("second")) if isinstance(d, dict) and d.get("name")}
    reach = own_reach(r)
    engine_reach = _int(a.get("reachable_floor"))
    allowed = min(reach, engine_reach) if engine_reach else reach
    stairs = can_use_stairs(r)
    trigger = None if _missing(a.get("start_trigger")) else str(a.get("start_trigger"))
    depth = max(int(row.home.get("l2") or 0), int(row.home.get("inland") or 0))  # recomputed from the zones
    need = floor_needed(depth) if depth > 0 else 1
    under_water = need is None or allowed < need  # no floor the person reaches stays dry
    for item in rows:
        for who in ("person", "supporter"):
            text = unicodedata.normalize("NFKC", str(item.get(who) or ""))
            if a.get("decision") in STAY_DECISIONS and "避難を終えている" in text:
                out.append(toolkit(no, district, Rule.TIMELINE_DONE, "自宅にとどまれる方のタイムラインに「避難を終えている」とあります。"))
            for sentence in text.split("。"):
                if any(p in sentence for p in places) or (("避難所" in sentence or "避難先" in sentence)
                                                          and "自宅" not in sentence and "家" not in sentence):
                    continue  # floors at the destination, not at home
                for match in FLOOR_TEXT.finditer(sentence):
                    floor = _floor_number(match.group(1))
                    if floor > allowed:
                        out.append(toolkit(no, district, Rule.TIMELINE_FLOOR,
                                           f"タイムラインで自宅の{floor}階へ移るよう書かれていますが、この方が使える階は{allowed}階までです。"))
            if not stairs:
                for match in re.finditer("高い所", text):
                    if "近くの" not in text[max(0, match.start() - 4):match.start()]:
                        out.append(toolkit(no, district, Rule.TIMELINE_HIGH_PLACE, "階段を使えない方に「高い所へ」と書かれています。"))
            if who == "person" and under_water and _stays_inside(text, need):
                out.append(toolkit(no, district, Rule.TIMELINE_UNDER_WATER,
                                   f"レベル{item.get('level')}の行で、水につかるおそれのある自宅の階にとどまるよう書かれています。"))
            if who == "person" and item.get("level") == 3 and trigger in EARLY_TRIGGERS and (
                    "避難を始める" in text or ("出発" in text and "まだ" not in text)):
                out.append(toolkit(no, district, Rule.TIMELINE_START,
                                   "レベル3より前に出発する計画なのに、レベル3の行で避難を始めるよう書かれています。"))
    return out


def _stays_inside(text: str, need: int | None) -> bool:
    """The text tells the person to shelter on a floor of the home below ``need`` (None: every floor)."""
    if "今いる階" in text:
        return True
    return any(need is None or int(match.group(1)) < need for match in re.finditer(r"家の高い所[（(](\d+)階", text))


def _warnings_shown(row: _Row, context: dict[str, Any]) -> list[Violation]:
    """Supporter warnings and the loud destination warnings reach the plan (verbatim)."""
    printed = "\n".join(_squash(s) for s in _strings(context))
    wanted = [r for r in _list(row.a.get("supporter_issues")) if isinstance(r, dict)]
    wanted += [r for r in _list(row.a.get("destination_reasons")) if isinstance(r, dict) and r.get("code") in LOUD_REASONS]
    return [toolkit(row.no, row.district, Rule.WARNING_HIDDEN, f"判定の注意「{r.get('text')}」が計画に載っていません。")
            for r in wanted if r.get("text") and not _shown(str(r["text"]), printed)]


WHO = re.compile(r"^支援者\(([^)]+)\)(.+)$")  # after NFKC: 支援者（民生委員）… -> 支援者(民生委員)…


def _shown(text: str, printed: str) -> bool:
    """The warning is in the plan: verbatim, or one line for several supporters of the same kind
    (支援者（民生委員・近隣住民）の…) that names this supporter and says the same."""
    wanted = _squash(text)
    if wanted in printed:
        return True
    match = WHO.match(wanted)
    if match is None:
        return False
    return match.group(2) in printed and all(who in printed for who in match.group(1).split("・"))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _floor_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + KANJI_DIGITS.get(token[1], 0)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return KANJI_DIGITS.get(tens, 1) * 10 + (KANJI_DIGITS.get(ones, 0) if ones else 0)
    return KANJI_DIGITS.get(token, 0)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


# --- (g) what the law and the guideline require on the plan ---

SUPPORTER_ACTIONS = {
    "SUPPORTER_AT_RISK": "支援者ご自身も避難が必要な場所に住んでいます。避難の途中で手伝えるか、別の支援者を探してください。",
    "SUPPORTER_LOCATION_UNKNOWN": "支援者の自宅の位置が分からず、支援者ご自身の危険を確かめられません。支援者の住所（または緯度・経度）を登録してください。",
    "SUPPORTER_OVERLOADED": "一人の支援者が多くの人を担当しています。担当を分けるか、支援者を増やしてください。",
    "SUPPORTER_NO_CONSENT": "支援者が名簿情報を受け取る同意をしていません。同意をいただくか、別の支援者を探してください。",
    "NO_SHARE_CONSENT": "平常時の名簿情報の提供に本人の同意がありません。同意をいただいてください（災害時は同意なしに提供できます）。",
}


def check_records(inputs: AuditInputs) -> list[Violation]:
    """Statutory and guideline fields present, else a to-do for the leader."""
    issues = {int(a["resident_id"]): a.get("supporter_issues")
              for a in inputs.assessments.reindex(columns=["resident_id", "supporter_issues"]).to_dict("records")}
    out: list[Violation] = []
    for r in inputs.residents.astype(object).to_dict("records"):
        no = str(r.get("resident_no"))
        district = None if _missing(r.get("district")) else str(r.get("district"))
        if "consent_plan" in r and not r.get("consent_plan"):
            out.append(todo(no, district, Rule.NO_PLAN_CONSENT, "計画作成の同意がありません（計画は市の職員用の下書きのみ）。",
                            "ご本人（または家族）に計画作成の同意をいただき、同意日を名簿に記入してください。"))
        missing = [label for key, label in (("address", "住所"), ("phone", "電話番号")) if key in r and _missing(r.get(key))]
        if missing:
            out.append(todo(no, district, Rule.RESIDENT_FIELDS, f"ご本人の{'・'.join(missing)}がありません。",
                            f"ご本人の{'・'.join(missing)}を確認して名簿に記入してください。"))
        if "supporters" in r:
            supporters = [s for s in _list(r.get("supporters")) if isinstance(s, dict)]
            if not supporters:
                out.append(todo(no, district, Rule.NO_SUPPORTER, "避難を手伝う人（避難支援等実施者）がいません。",
                                "民生委員・自治会・近所の方と相談して、避難を手伝う人を探してください。"))
            for s in supporters:
                gaps = [label for key, label in (("name", "氏名"), ("address", "住所"), ("phone", "電話番号")) if _missing(s.get(key))]
                if gaps:
                    who = s.get("name") or "（氏名なし）"
                    out.append(todo(no, district, Rule.SUPPORTER_FIELDS, f"支援者「{who}」の{'・'.join(gaps)}がありません。",
                                    f"支援者の{'・'.join(gaps)}を確認して記入してください（法49条の14）。"))
        if "contacts" in r:
            contacts = [c for c in _list(r.get("contacts")) if isinstance(c, dict) and not _missing(c.get("phone"))]
            others = [c for c in contacts if not _same_person(c, r)]
            if not others:
                message = "緊急連絡先がご本人自身になっています。" if contacts else "電話番号のある緊急連絡先がありません。"
                out.append(todo(no, district, Rule.NO_EMERGENCY_CONTACT, message,
                                "家族など、ご本人以外の緊急連絡先と電話番号を確認して記入してください。"))
        if "info_reception" in r and not _list(r.get("info_reception")):
            out.append(todo(no, district, Rule.NO_INFO_RECEPTION, "避難情報をどうやって受け取るかが決まっていません。",
                            "防災行政無線・電話・メール・支援者からの連絡など、ご本人に届く方法を決めて記入してください。"))
        if "professionals" in r and _power_dependent(r):
            roles = [p for p in _list(r.get("professionals")) if isinstance(p, dict) and not _missing(p.get("phone"))]
            gaps = []
            if not any("主治医" in str(p.get("role")) for p in roles):
                gaps.append("主治医")
            if not any(word in str(p.get("role")) for p in roles for word in ("機器", "業者")):
                gaps.append("医療機器の業者")
            if gaps:
                out.append(todo(no, district, Rule.MEDICAL_CONTACTS, f"電源が必要な医療機器を使っていますが、{'・'.join(gaps)}の連絡先がありません。",
                                f"{'・'.join(gaps)}の名前と電話番号を確認して記入してください（停電時の対応も確かめてください）。"))
        for issue in _list(issues.get(int(r["id"]))):
            code = issue.get("code") if isinstance(issue, dict) else None
            if code in SUPPORTER_ACTIONS:
                out.append(todo(no, district, Rule.SUPPORTER_ISSUE, str(issue.get("text") or code), SUPPORTER_ACTIONS[code]))
    return out


def _same_person(contact: dict[str, Any], resident: dict[str, Any]) -> bool:
    """A 緊急連絡先 that is the resident (same name, or the resident's own phone)."""
    def norm(value: Any) -> str:
        return "" if _missing(value) else re.sub(r"[\s\-‐－ー()（）]", "", unicodedata.normalize("NFKC", str(value)))
    name, phone = norm(resident.get("name")), norm(resident.get("phone"))
    return bool(name and norm(contact.get("name")) == name) or bool(phone and norm(contact.get("phone")) == phone)


def audit(inputs: AuditInputs) -> list[Violation]:
    """Every check; one violation per (resident, rule, message), by 名簿番号 (each resident's in
    the order of the checks), whatever order the rows came in."""
    found = check_assessments(inputs) + check_plans(inputs) + check_records(inputs)
    return sorted(dict.fromkeys(found), key=lambda v: v.resident_no)


def _metres(value: float) -> str:
    return f"{value / 1000:.1f}km" if value >= 1000 else f"{round(value)}m"
