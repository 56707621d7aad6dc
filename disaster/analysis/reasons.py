"""Reasons: a machine-readable code and plain Japanese text used verbatim in plans.

The engine says a reason as a message key with its parameters (``reason("DISTANCE.walk",
distance=350.0, minutes=6)``); that pair is what the store keeps (``[key, {params}]``, a few
dozen bytes). The text is built from ``MESSAGES`` — the one table of every reason's wording —
when the reason is read: ``said["text"]`` on the engine's output, or the ``{"code", "text"}``
dicts the stored columns give back (``models.StoredReasons``). The code is the key up to its
first dot (``DISTANCE.walk`` -> ``DISTANCE``); the part after it names the wording's variant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache, lru_cache
from typing import Any, TypedDict

from disaster.codes import (
    CARE_LEVELS,
    DEPTH_RANKS,
    DURATION_RANKS,
    HAZARD_LABELS,
    LANDSLIDE_CLASSES,
    LANDSLIDE_KINDS,
    Hazard,
)
from disaster.wareki import to_wareki


class Reason(TypedDict):
    """A reason as pages, plans, exports and the API show it."""

    code: str
    text: str


Param = str | int | float | bool

# Hazards a shelter may be designated for, as bits of a resident's hazards at home (eligibility).
HAZARD_BITS = {1: Hazard.FLOOD, 2: Hazard.INLAND_FLOOD, 4: Hazard.LANDSLIDE}
# Why a person travels by vehicle (transport), as the start of a sentence ("…ため").
VEHICLE_WHY = {"bedridden": "寝たきりの", "power": "電源が必要な医療機器を使っている",
               "wheelchair": "車いすを使っていて、避難先まで遠い", "far": "避難先まで遠い"}
# 福祉避難所 needs, as bits of ``need`` (4: care, 2: disability, 1: medical).
WELFARE_NEED_LABELS = {4: "介護が必要な方", 2: "障害のある方", 1: "医療的ケアが必要な方"}
UNSAFE_PLACE = "ご自宅の危険に対応した避難先ではない場所"

_LEVEL3 = "警戒レベル3（高齢者等避難）"
_EARLY_TAIL = f"{_LEVEL3}を待たず、警戒レベル2（注意報）や大雨の予報が出た段階で、明るいうちに出発します。"
_UNPLACED_FULL = "間に合う範囲の福祉避難所は、より支援の必要な方で受け入れ枠が埋まっています。"
_UNPLACED_NONE = "間に合う範囲に、{need}を受け入れる安全な福祉避難所がありません。"
_UNPLACED_FIRST = "まず{name}へ避難し、福祉スペースの利用と福祉避難所への移動を市と相談します。"
_UNPLACED_CITY = "市の担当課と受け入れ先を相談してください。"
_STAY_FLAT = "条件: 水・食料・薬・簡易トイレを3日分以上備え、停電でエレベーターが止まり孤立しても連絡できるようにしてください。"
_STAY_HOUSE = "条件: 早めに上の階へ移り、水・食料・薬・簡易トイレを3日分以上備え、孤立しても連絡できるようにしてください。"
_LONG = "浸水が{duration}続くおそれがあります。"
_WHO = "支援者（{relation}）"

# Every reason's wording, by message key. ``{name}``-style fields are the reason's parameters,
# formatted by ``FIELDS`` where a parameter is a code (a depth rank, a date, ...).
MESSAGES: dict[str, str] = {
    # leave or stay (decision)
    "LANDSLIDE_RED": "ご自宅は{klass}（{kind}）にあります。建物ごと被害を受けるおそれがあるため、区域の外へ早めに避難してください。",
    "LANDSLIDE_YELLOW": "ご自宅は{klass}（{kind}）にあります。土砂災害のおそれがあるときは、区域の外へ避難してください。",
    "COLLAPSE_FLOW": "ご自宅は家屋倒壊等氾濫想定区域（氾濫流）にあります。堤防が切れると家ごと流されるおそれがあるため、上の階ではなく区域の外へ避難してください。",
    "COLLAPSE_EROSION": "ご自宅は家屋倒壊等氾濫想定区域（河岸侵食）にあります。川岸が削られて家が倒れるおそれがあるため、区域の外へ避難してください。",
    "FLOORS_UNKNOWN": "建物の階数が分からないため、1階建てとして判定しました。",
    "DEPTH_NO_SAFE_FLOOR": "想定される浸水の深さ（{depth}）では、建物の上の階でも安全が確保できません。",
    "DEPTH_ABOVE_FLOOR.flat": "想定される浸水の深さ（{depth}）は、お住まい（集合住宅の{floor}階）の床より高くなるおそれがあります。",
    "DEPTH_ABOVE_FLOOR": "想定される浸水の深さ（{depth}）は、移動できる{floor}階の床より高くなるおそれがあります。",
    "DEPTH_ABOVE_FLOOR.no_stairs": "階段を使えないため、想定される浸水の深さ（{depth}）は、移動できる{floor}階の床より高くなるおそれがあります。",
    "LONG_DURATION_DEPENDENT": "浸水が{duration}続くおそれがあり、電気・水・介護が途切れると自宅で過ごし続けられないため、立退き避難が必要です。",
    "UPPER_FLOOR_POSSIBLE.flat": "お住まい（集合住宅の{floor}階）は、想定される浸水の深さ（{depth}）より高いため、自宅にとどまって安全を確保することもできます。",
    "UPPER_FLOOR_POSSIBLE": "想定される浸水の深さ（{depth}）より高い{floor}階に移動できるため、自宅の上の階で安全を確保することもできます。",
    "STAY_CONDITIONS.flat": _STAY_FLAT,
    "STAY_CONDITIONS.flat_long": _LONG + _STAY_FLAT,
    "STAY_CONDITIONS": _STAY_HOUSE,
    "STAY_CONDITIONS.long": _LONG + _STAY_HOUSE,
    "NO_HAZARD": "ご自宅は洪水・内水・土砂災害の想定区域の外です。想定を超える大雨や地震のときは、周りの状況を見て判断してください。",
    # destination
    "OWN_CHOICE": "ご本人が希望する避難先です（親戚・知人宅など）。その場所が浸水・土砂災害の想定区域の外にあるか、ハザードマップで一緒に確かめてください。",
    "OWN_CHOICE.shelter": "ご本人が希望する避難先（{name}）です。",
    "OWN_CHOICE.welfare": "ご本人は{name}（福祉避難所）を希望しています。",
    "OWN_CHOICE_UNSAFE": "【要注意】ご希望の{name}は{problem}にあり、大雨のときは安全ではありません。避難先の見直しを支援者・市と相談してください。",
    "OWN_CHOICE_UNSAFE.second": "【要注意】ご希望の{name}は{problem}にあり、大雨のときは安全ではありません。"
                                "安全な{second}を第2の避難先にしました。避難先の見直しを支援者・市と相談してください。",
    "OWN_CHOICE_UNSAFE.welfare": "【要注意】ご希望の{name}（福祉避難所）は{problem}にあり、"
                                 "大雨のときは安全ではないため、避難先にしていません。見直しを支援者・市と相談してください。",
    "NEAREST_SUITABLE": "{name}は、条件に合う避難所のうち、ご自宅からいちばん近い所で、{basis}",
    "NEAREST_SUITABLE.fallback": "行けないときは、近くの安全な避難所（{name}）へ避難します。",
    "NO_SHELTER": "大雨のときに安全で、条件に合う避難所が見つかりません。市の担当課に相談してください。",
    "WELFARE_DIRECT": "{name}（福祉避難所）とは、受け入れについて施設と合意しています{agreed}。"
                      "市または施設が開設を確認して知らせたら、直接{name}へ避難します。受入対象: {accepted}。",
    "WELFARE_TRANSFER": "まず{name}へ避難し、福祉スペースを使います。そのあと、市が調整して"
                        "{welfare}（福祉避難所）へ移ります（施設との受け入れの合意がまだないため、直接は避難しません）。",
    "WELFARE_UNPLACED.full": _UNPLACED_FULL + _UNPLACED_CITY,
    "WELFARE_UNPLACED.full_first": _UNPLACED_FULL + _UNPLACED_FIRST,
    "WELFARE_UNPLACED": _UNPLACED_NONE + _UNPLACED_CITY,
    "WELFARE_UNPLACED.first": _UNPLACED_NONE + _UNPLACED_FIRST,
    "ACCESS_UNCONFIRMED": "バリアフリーや非常用電源が確認できた避難所がないため、事前に設備を確認してください。",
    "DESTINATION_FLOOR": "{name}は浸水（{depth}）が想定される場所のため、{floor}階以上を使います。",
    "DISTANCE.walk": "距離は約{distance}、歩いて約{minutes}分です。",
    "DISTANCE.car": "距離は約{distance}、車で約{minutes}分です。",
    "TRANSPORT.welfare": "{who}ため、徒歩での避難はできません。福祉タクシー・介護タクシーなどの移動手段の確保が必要です。"
                         "ご家族・ケアマネジャーなどと、予約の仕方と連絡先を前もって決めておきましょう。",
    "TRANSPORT.car": "徒歩で避難できる道のり（約{limit}）を超えるため、車で避難します。移動手段の確保が必要です。"
                     "運転してくれる家族・支援者を前もって決めておきましょう。",
    "START.level3": "{leave}" + _LEVEL3 + "が出たらすぐ出発します。支度 約{prepare}分＋移動 約{travel}分＝約{total}分。",
    "START.early": "{leave}支度と移動に約{total}分かかるため、" + _EARLY_TAIL,
    "START.previous_day": "{leave}支度と移動に約{total}分かかるため、" + _LEVEL3 + "を待たず、大雨が予想される前の日の明るいうちに避難します。",
    "START.not_workable": "今の避難先と移動手段では、前の日に出発しても間に合わないおそれがあります。",
    "START.unknown_route": "避難先までの道のりと時間がまだ分からないため、" + _EARLY_TAIL,
    "NOT_WORKABLE": "この計画はまだ実行できません（要相談）。支援者・地域の方と市の担当課で、より近い安全な避難先や移動手段を相談してください。",
    "DEEP_WATER_ROUTE": "途中に0.5m以上浸水するおそれのある場所があります。水が出る前に移動するか、別の道を確認してください。",
    # fragments of NEAREST_SUITABLE's basis and of OWN_CHOICE_UNSAFE's problem
    "BASIS.host": "指定避難所です。",
    **{f"BASIS.{hazard.value}": f"{HAZARD_LABELS[hazard]}の指定緊急避難場所です。" for hazard in HAZARD_BITS.values()},
    "BASIS.floor": "浸水が想定される場所ですが、{floor}階以上を使えば安全です。",
    "BASIS.outside": "土砂災害・家屋倒壊等・深い浸水（0.5m以上）の想定区域の外にあります。",
    # plan-making priority
    "POWER_DEVICE": "電源が必要な医療機器を使っています。",
    "LANDSLIDE_RED.priority": "自宅が土砂災害特別警戒区域にあります。",
    "LANDSLIDE_YELLOW.priority": "自宅が土砂災害警戒区域にあります。",
    "COLLAPSE_ZONE": "自宅が家屋倒壊等氾濫想定区域にあります。",
    "CARE_LEVEL": "{care}です。",
    "SEVERE_DISABILITY": "重度の障害があります。",
    "DISABILITY": "障害があります。",
    "DEEP_FLOOD": "自宅が3m以上浸かるおそれがあります。",
    "FLOOD": "自宅が0.5m以上浸かるおそれがあります。",
    "SHALLOW_FLOOD": "自宅が浸水想定区域にあります。",
    "LIVES_ALONE": "ひとり暮らしです。",
    "NO_SUPPORTER.priority": "支援者が決まっていません。",
    # supporters
    "SUPPORTER_LOCATION_UNKNOWN": _WHO + "の自宅の位置が登録されていないため、支援者ご自身が避難の必要な場所に住んでいないか確かめられません。"
                                         "支援者の住所（または緯度・経度）を名簿に登録してください。",
    "SUPPORTER_AT_RISK": _WHO + "の自宅も危険な区域にあり、ご自身の避難で手が回らないおそれがあります。区域の外に住む2人目の支援者を探しましょう。",
    "SUPPORTER_OVERLOADED": _WHO + "は{load}人の支援を担当していて、災害時に全員を手伝えないおそれがあります。地域で話し合い、支援者を増やすか担当を分けましょう。",
    "SUPPORTER_NO_CONSENT": _WHO + "の同意（名簿情報の受け取り）が確認できていません。支援者に役割を説明し、同意書をいただきましょう。",
    "NO_SUPPORTER": "避難を手伝う支援者が決まっていません。家族・近所の方・民生委員などと相談して、支援者を決めましょう。",
    "NO_SHARE_CONSENT": "名簿情報の提供に同意がないため、災害の前に支援者へ情報を渡せません（災害時は同意なしで提供できます）。"
                        "ご本人に説明し、同意をいただけるか確かめましょう。",
}


def round_distance(metres: float) -> str:
    """A distance as plans print it: 10 m steps below 1 km, else 0.1 km."""
    if metres < 1000:
        return f"{int(round(metres, -1))}m"
    return f"{metres / 1000:.1f}km"


def basis_code(hazards: int, floor: int, host: bool) -> int:
    """Why a shelter suits the hazards at home, as one number (a reason's ``basis`` parameter):
    ``hazards`` the bits of the home's hazards the shelter is designated for, ``floor`` the floor
    to use there (0: any), ``host`` a 指定避難所 offered to a home without hazards."""
    return hazards | int(host) << 3 | floor << 4


def basis_words(code: int) -> str:
    """The text of a ``basis_code``."""
    hazards, host, floor = code & 7, code & 8, code >> 4
    parts = [MESSAGES["BASIS.host"]] if host else []
    parts += [MESSAGES[f"BASIS.{hazard.value}"] for bit, hazard in HAZARD_BITS.items() if hazards & bit]
    parts.append(MESSAGES["BASIS.floor"].format(floor=floor) if floor else MESSAGES["BASIS.outside"])
    return "".join(parts)


def problem_text(landslide: bool, collapse: bool, depth: int) -> str:
    """Why a site is unsafe in a rain event ("" when it is safe): the zones it lies in."""
    parts = ["土砂災害警戒区域"] if landslide else []
    if collapse:
        parts.append("家屋倒壊等氾濫想定区域")
    if depth:
        parts.append(f"浸水の深さ{DEPTH_RANKS[depth][0]}の想定区域")
    return "・".join(parts)


def problem_code(landslide: bool, collapse: bool, depth: int) -> int:
    """``problem_text``'s arguments as one number (a reason's ``problem`` parameter)."""
    return int(landslide) | int(collapse) << 1 | depth << 2


def _problem(code: int) -> str:
    return problem_text(bool(code & 1), bool(code & 2), code >> 2) or UNSAFE_PLACE


def _need(bits: int) -> str:
    return "・".join(label for bit, label in WELFARE_NEED_LABELS.items() if bits & bit) or "この方"


# Parameters stored as codes and how the text shows them.
FIELDS: dict[str, Callable[[Any], str]] = {
    "depth": lambda rank: DEPTH_RANKS[rank][0],
    "duration": DURATION_RANKS.__getitem__,
    "klass": LANDSLIDE_CLASSES.__getitem__,
    "kind": lambda kind: LANDSLIDE_KINDS.get(kind, "土砂災害"),
    "care": lambda index: CARE_LEVELS[index - 1],
    "who": VEHICLE_WHY.__getitem__,
    "need": _need,
    "limit": round_distance,
    "distance": round_distance,
    "agreed": lambda day: f"（{to_wareki(dt.date.fromisoformat(day))}）" if day else "",
    "problem": _problem,
    "basis": basis_words,
    "leave": lambda leave: "" if leave else "避難する場合は、",
}


def code_of(key: str) -> str:
    return key.split(".", 1)[0]


@lru_cache(maxsize=1 << 16)
def _render(key: str, params: tuple[tuple[str, Param], ...]) -> str:
    fields = {name: FIELDS[name](value) if name in FIELDS else value for name, value in params}
    return MESSAGES[key].format(**fields)


def render(key: str, params: Mapping[str, Param] | None = None) -> str:
    """The text of message ``key`` with its parameters."""
    return _render(key, tuple(sorted((params or {}).items())))


class Said(Mapping[str, str]):
    """A reason as the engine says it: message key and parameters. Reads like a ``Reason``
    (``said["code"]``, ``said["text"]``); ``stored()`` is what the store keeps."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, params: dict[str, Param]) -> None:
        if key not in MESSAGES:
            raise KeyError(key)
        self.key, self.params = key, params

    def __getitem__(self, name: str) -> str:
        if name == "code":
            return code_of(self.key)
        if name == "text":
            return render(self.key, self.params)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(("code", "text"))

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"Said({self.key!r}, {self.params!r})"

    def stored(self) -> list[Any]:
        return [self.key, self.params] if self.params else [self.key]


_SAID: dict[tuple[object, ...], Said] = {}
_SAID_LIMIT = 1 << 16  # distinct reasons kept; the table starts again when full


def reason(key: str, **params: Param) -> Said:
    """The reason ``key`` with ``params``. Equal reasons (same key, parameters in the same order
    and of the same types) are one shared object, so the store serialises each once; a ``Said``
    is never changed after it is made."""
    tag = (key, *params.items(), *map(type, params.values()))
    said = _SAID.get(tag)
    if said is None:
        if len(_SAID) >= _SAID_LIMIT:
            _SAID.clear()
        said = _SAID[tag] = Said(key, params)
    return said


def stored(reasons: list[Any] | None) -> list[Any] | None:
    """The stored form of a list of reasons: ``[key, {params}]`` for said ones; a
    ``{"code", "text"}`` record (written before reasons were stored as keys) is kept as it is."""
    if reasons is None:
        return None
    return [r.stored() if isinstance(r, Said) else {"code": r["code"], "text": r["text"]} for r in reasons]


def shown(reasons: list[Any] | None) -> list[Reason] | None:
    """Stored reasons as ``{"code", "text"}`` records, the text built from ``MESSAGES``."""
    if reasons is None:
        return None
    return [{"code": r["code"], "text": r["text"]} if isinstance(r, dict)
            else {"code": code_of(r[0]), "text": render(r[0], r[1] if len(r) > 1 else None)} for r in reasons]


# Reading a text back into its key and parameters (migration 0013 converts the texts stored
# before reasons were stored as keys): the values a coded parameter can take, and how a plain
# number reads.
_CODED: dict[str, Callable[[], list[Param]]] = {
    "depth": lambda: list(DEPTH_RANKS), "duration": lambda: list(DURATION_RANKS),
    "klass": lambda: list(LANDSLIDE_CLASSES), "kind": lambda: [0, *LANDSLIDE_KINDS], "care": lambda: list(range(1, 8)),
    "who": lambda: list(VEHICLE_WHY), "need": lambda: list(range(8)), "leave": lambda: [True, False],
    "problem": lambda: [problem_code(a, b, d) for a in (False, True) for b in (False, True) for d in (0, *DEPTH_RANKS)],
    "basis": lambda: [basis_code(h, f, host) for h in range(8) for f in range(0, 41) for host in (False, True)],
}
_NUMBERS = frozenset({"floor", "minutes", "prepare", "travel", "total", "load"})
_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _pattern(key: str) -> re.Pattern[str]:
    seen: set[str] = set()

    def group(name: str) -> str:
        if name in seen:
            return f"(?P={name})"
        seen.add(name)
        return f"(?P<{name}>.*?)"

    parts = _FIELD.split(MESSAGES[key])  # text, field, text, field, ...
    return re.compile("".join(re.escape(p) if k % 2 == 0 else group(p) for k, p in enumerate(parts)) + r"\Z", re.S)


@cache
def _inverse(name: str) -> dict[str, Param]:
    return {FIELDS[name](value): value for value in reversed(_CODED[name]())}


def _value(name: str, shown_as: str) -> Param | None:
    if name in _CODED:
        return _inverse(name).get(shown_as)
    if name in ("limit", "distance"):
        number = re.fullmatch(r"(\d+(?:\.\d)?)(k?m)", shown_as)
        return None if number is None else float(number[1]) * (1000 if number[2] == "km" else 1)
    if name == "agreed":
        match = re.fullmatch(r"（(.+)）", shown_as)
        return "" if not shown_as else None if match is None else _iso_date(match[1])
    if name in _NUMBERS:
        return int(shown_as) if shown_as.isdigit() else None
    return shown_as


def _iso_date(wareki: str) -> str | None:
    from disaster.wareki import parse_date

    try:
        return parse_date(wareki).isoformat()
    except ValueError:
        return None


def said_from_text(code: str, text: str) -> Said | None:
    """The message key and parameters that give exactly ``text`` for ``code`` (None: no message does)."""
    for key in MESSAGES:
        if code_of(key) != code or (match := _pattern(key).match(text)) is None:
            continue
        params = {name: _value(name, value) for name, value in match.groupdict().items()}
        if any(value is None for value in params.values()):
            continue
        said = Said(key, {name: value for name, value in params.items() if value is not None})
        if said["text"] == text:
            return said
    return None
