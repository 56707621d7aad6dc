"""避難行動要支援者名簿 (CSV/Excel) and supporter lists.

Columns are matched by the canonical Japanese headers below, or by a column-mapping file
(TOML) for the city's own headers and codes::

    [columns]            # field = "header in your file"
    resident_no = "整理番号"
    birth_date = "生年月日（和暦）"

    [values.sex]         # optional: your codes -> canonical values
    "1" = "男"
    "2" = "女"
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from disaster.codes import (
    CARE_LEVELS,
    COMMUNICATION_NEEDS,
    DISABILITY_TYPES,
    MEDICAL_DEVICES,
    MOBILITY_LEVELS,
    SEX_VALUES,
    SUPPORTER_RELATIONS,
)
from disaster.errors import Rejected
from disaster.geo import in_japan
from disaster.geocode import LEVEL_COORDINATES, LEVEL_TOWN, AddressIndex
from disaster.importers.flags import parse_optional_flag
from disaster.importers.problems import Parsed, Problem, identifier_problem
from disaster.importers.tabular import Table, TableError, cell_text, header_key, normalise_header, read_table
from disaster.wareki import DateFormatError, parse_date

# field -> canonical header
RESIDENT_COLUMNS: dict[str, str] = {
    "resident_no": "名簿番号",
    "name": "氏名",
    "kana": "ふりがな",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "phone": "電話番号",
    "district": "校区",
    "lat": "緯度",
    "lon": "経度",
    "care_level": "要介護度",
    "disability_types": "障害種別",
    "disability_grade": "障害等級",
    "intractable_disease": "難病",
    "medical_devices": "医療機器",
    "mobility": "移動",
    "communication_needs": "意思疎通",
    "other_needs": "その他配慮事項",
    "lives_alone": "独居",
    "building_floors": "建物階数",
    "bedroom_floor": "寝室の階",
    "can_use_stairs": "階段昇降",
    "consent_share": "名簿情報提供同意",
    "consent_share_date": "名簿情報提供同意日",
    "consent_plan": "計画作成同意",
    "consent_plan_date": "計画作成同意日",
    "preferred_shelter": "希望避難所",  # a shelter's code or exact name
    "preferred_destination": "避難先の希望",  # e.g. 長女宅（小郡市）
    "info_reception": "避難情報の受け取り方",  # 、-separated, INFO_RECEPTION
    "daytime_situation": "日中の状況",  # e.g. 平日の日中はひとり
    "night_situation": "夜間の状況",  # e.g. 夜間は長男と同居
    "day_service": "通所サービス",  # e.g. 月・木 デイサービス
    "home_floor": "住戸の階",  # the floor of a flat (共同住宅); empty for a house
    "welfare_agreement": "福祉避難所受入合意",  # a 福祉避難所's code or exact name
    "welfare_agreement_date": "受入合意日",
}
MAX_CONTACTS = 3
for _n in range(1, MAX_CONTACTS + 1):
    RESIDENT_COLUMNS |= {
        f"contact{_n}_name": f"緊急連絡先{_n}氏名",
        f"contact{_n}_relation": f"緊急連絡先{_n}続柄",
        f"contact{_n}_phone": f"緊急連絡先{_n}電話",
    }
PROFESSIONAL_PREFIX = {"care_manager": "ケアマネジャー", "counsellor": "相談支援専門員", "doctor": "主治医",
                       "visiting_nurse": "訪問看護", "device_supplier": "医療機器業者"}
for _key, _label in PROFESSIONAL_PREFIX.items():
    RESIDENT_COLUMNS |= {
        f"{_key}_name": f"{_label}氏名",
        f"{_key}_organisation": f"{_label}所属",
        f"{_key}_phone": f"{_label}電話",
    }
REQUIRED_RESIDENT = ("resident_no", "name", "birth_date", "address")
# Written on every import; every other field only when the file has its column, so that a
# file without a column (or one the header could not name) never blanks stored values.
ALWAYS_WRITTEN = ("resident_no", "name", "birth_date", "address", "district", "lat", "lon", "location_level")
CONTACT_FIELDS = tuple(f"contact{n}_{part}" for n in range(1, MAX_CONTACTS + 1) for part in ("name", "relation", "phone"))
PROFESSIONAL_FIELDS = tuple(f"{key}_{part}" for key in PROFESSIONAL_PREFIX for part in ("name", "organisation", "phone"))

SUPPORTER_COLUMNS: dict[str, str] = {
    "supporter_no": "支援者番号",
    "name": "氏名",
    "address": "住所",
    "phone": "電話番号",
    "relation": "関係",
    "lat": "緯度",
    "lon": "経度",
    "consent": "同意",
    "consent_date": "同意日",
    "resident_nos": "支援対象者番号",
}
REQUIRED_SUPPORTER = ("supporter_no", "name", "resident_nos")
# How 避難情報 reaches a resident (取組指針 様式例「避難情報の入手方法」) and how it is perceived:
# "sound" (heard), "text" (read), "person" (someone comes and tells them in a way they understand:
# voice, 筆談 or 手話). A deaf resident needs a channel that is not sound, a blind one one that
# is not text.
INFO_RECEPTION: dict[str, str] = {
    "防災行政無線（屋外）": "sound",
    "防災ラジオ（戸別受信機）": "sound",
    "テレビ・ラジオ": "sound",
    "電話（支援者・家族から）": "sound",
    "防災メール": "text",
    "緊急速報メール": "text",
    "FAX": "text",
    "文字表示": "text",  # テレビの字幕・データ放送, 文字表示器
    "訪問（支援者が直接伝える）": "person",
}
INFO_RECEPTION_ALIASES: dict[str, str] = {
    "防災行政無線": "防災行政無線（屋外）", "屋外スピーカー": "防災行政無線（屋外）",
    "防災ラジオ": "防災ラジオ（戸別受信機）", "戸別受信機": "防災ラジオ（戸別受信機）",
    "テレビ": "テレビ・ラジオ", "ラジオ": "テレビ・ラジオ",
    "電話": "電話（支援者・家族から）", "メール": "防災メール", "エリアメール": "緊急速報メール",
    "ファクス": "FAX", "ファックス": "FAX", "字幕": "文字表示", "訪問": "訪問（支援者が直接伝える）",
}
LIST_SEPARATORS = re.compile(r"[、,;；/／\s]+")
MAX_AGE = 120


class MappingError(Rejected):
    """The column-mapping file is unusable."""


@dataclass
class ColumnMapping:
    """Which header holds each field, and optional value translations per field."""

    headers: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, defaults: dict[str, str]) -> ColumnMapping:
        if path is None:
            return cls(dict(defaults))
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path.name}: 列の対応表を読めません（{exc}）。") from exc
        unknown = set(data.get("columns", {})) - set(defaults)
        if unknown:
            raise MappingError(f"{path.name}: 未知の項目 {', '.join(sorted(unknown))}（使える項目: {', '.join(defaults)}）")
        # headers are compared in the NFKC form that read_table gives them
        headers = dict(defaults) | {k: normalise_header(v) for k, v in data.get("columns", {}).items()}
        values = {k: {cell_text(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()}
        return cls(headers, values)


@dataclass
class Columns:
    """Where each field is in one file: the mapping's header and the file's own spelling of it
    (headers match ignoring spaces, so a two-row "緊急連絡先1 氏名" is 緊急連絡先1氏名)."""

    mapping: ColumnMapping
    found: dict[str, str]  # field -> header in the file

    @classmethod
    def of(cls, mapping: ColumnMapping, table: Table) -> Columns:
        headers = {header_key(h): h for h in table.header if h}
        found = {key: headers[header_key(name)] for key, name in mapping.headers.items() if header_key(name) in headers}
        return cls(mapping, found)

    def header(self, key: str) -> str:
        return self.found.get(key, self.mapping.headers[key])

    def has(self, key: str) -> bool:
        return key in self.found


@dataclass
class ResidentRecord:
    values: dict[str, Any]  # models.Resident columns (district as name until resolved)
    # None when the file has none of their columns (the stored ones are then left as they are)
    contacts: list[dict[str, Any]] | None
    professionals: list[dict[str, Any]] | None
    # WelfareAgreement rows as {"shelter_code", "agreed_on"}; None when the file has no
    # 福祉避難所受入合意 column (then the stored agreements are left as they are)
    agreements: list[dict[str, Any]] | None = None
    # the 名簿番号 passes from the stored person to this different one (allowed by ``replace``):
    # the stored person and everything about them (plans, supporters' links, agreements, results)
    # are removed, never carried over to the new person
    takes_over: bool = False


@dataclass
class SupporterRecord:
    values: dict[str, Any]
    resident_nos: list[str]


@dataclass
class CityContext:
    """What validation needs to know about the city: its boundary, 校区 polygons and shelters
    (``shelters`` maps each shelter's code and name to its code; ``welfare_shelters`` holds the
    codes of the 福祉避難所 among them)."""

    boundary: shapely.Geometry
    district_names: list[str]
    district_geoms: list[shapely.Geometry]
    shelters: dict[str, str] = field(default_factory=dict)
    welfare_shelters: frozenset[str] = frozenset()
    # 位置参照情報 of the city for rows without 緯度/経度 (empty: none imported)
    addresses: AddressIndex = field(default_factory=lambda: AddressIndex("", [], []))
    # 名簿番号 -> (address, lon, lat) of stored residents whose coordinates came from a 名簿:
    # kept when a later file has no coordinates for the same address
    stored_coordinates: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    # 名簿番号 -> (氏名, 生年月日) of stored residents: a file that gives a stored number to a
    # different person (both differ) is refused unless the import says ``replace``
    stored_people: dict[str, tuple[str, dt.date | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapely.prepare(self.boundary)
        self._tree = shapely.STRtree(self.district_geoms)

    def districts_of(self, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
        """The 校区 containing each point (vectorised), None where no district contains it."""
        points = shapely.points(lons, lats)
        point_idx, district_idx = self._tree.query(points, predicate="within")
        found: list[str | None] = [None] * len(points)
        for p, d in zip(point_idx, district_idx, strict=True):
            found[p] = self.district_names[d]
        return found

    def in_city(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        return shapely.contains_xy(self.boundary, lons, lats)


class _Row:
    """Accessor for one table row through the mapping, collecting problems."""

    def __init__(self, file: str, row_no: int, raw: dict[str, object], columns: Columns):
        self.file, self.row_no, self.raw, self.columns = file, row_no, raw, columns
        self.problems: list[Problem] = []

    def header(self, key: str) -> str:
        return self.columns.header(key)

    def text(self, key: str) -> str:
        value = cell_text(self.raw.get(self.columns.found[key], "")) if self.columns.has(key) else ""
        return self.columns.mapping.values.get(key, {}).get(value, value)

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.row_no, self.header(key), message))

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            self.error(key, "必須項目が空です。")
        return value

    def identifier(self, key: str) -> str:
        """A required number or name used as a key (名簿番号, 支援者番号)."""
        value = self.required(key)
        if value and (reason := identifier_problem(value)):
            self.error(key, reason)
        return value

    def optional(self, key: str) -> str | None:
        return self.text(key) or None

    def date(self, key: str, today: dt.date) -> dt.date | None:
        text = self.text(key)
        if not text:
            return None
        try:
            value = parse_date(text)
        except DateFormatError:
            self.error(key, "日付として読めません（形式の例: 1940-03-02、昭和15年3月2日、S15.3.2。"
                            "存在しない日付や年だけの日付は使えません）。")
            return None
        if value > today:
            self.error(key, "未来の日付です。")
            return None
        return value

    def flag(self, key: str) -> bool | None:
        value, ok = parse_optional_flag(self.text(key))
        if not ok:
            self.error(key, "はい/いいえ（1/0, ○/空欄）で記入してください。")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        text = self.text(key).removesuffix("階")
        if not text:
            return None
        if not text.isdigit() or not low <= int(text) <= high:
            self.error(key, f"{low}〜{high} の整数で記入してください。")
            return None
        return int(text)

    def coordinate(self, key: str) -> float | None:
        """緯度 or 経度: a finite number; whether the point is in Japan is checked with both."""
        text = self.text(key)
        try:
            value = float(text)
        except ValueError:
            if text:
                self.error(key, "数値ではありません。")
            return None
        if not math.isfinite(value):
            self.error(key, "有限の数値ではありません（nan・inf は使えません）。")
            return None
        return value

    def point(self, values: dict[str, Any]) -> None:
        """Check 緯度/経度 together: both or neither, and inside Japan (else both are dropped)."""
        if (self.text("lat") == "") != (self.text("lon") == ""):
            self.error("lat", "緯度と経度の片方だけが空です（両方を記入するか、両方を空にして住所から求めてください）。")
        lat, lon = values.get("lat"), values.get("lon")
        if lat is not None and lon is not None and not in_japan([lon], [lat])[0]:
            self.error("lat", "緯度・経度が日本の範囲外です（緯度と経度の取り違え・桁の誤りを確かめてください）。")
            values["lat"] = values["lon"] = None

    def choice(self, key: str, allowed: tuple[str, ...] | dict[str, str]) -> str | None:
        text = self.text(key)
        if not text:
            return None
        canonical = _canonical(allowed)
        if text in canonical:
            return canonical[text]
        self.error(key, f"使えない値です（{'、'.join(dict.fromkeys(canonical.values()))} のいずれか）。")
        return None

    def choices(self, key: str, allowed: tuple[str, ...] | dict[str, str]) -> list[str]:
        canonical = _canonical(allowed)
        items = [item for item in LIST_SEPARATORS.split(self.text(key)) if item]
        unknown = [item for item in items if item not in canonical]
        if unknown:
            names = "、".join(dict.fromkeys(canonical.values()))
            self.error(key, f"使えない値が {len(unknown)} 個あります（{names} から選んでください）。")
        return list(dict.fromkeys(canonical[item] for item in items if item in canonical))


def _canonical(allowed: tuple[str, ...] | dict[str, str]) -> dict[str, str]:
    """Cell text is NFKC-normalised, so match against NFKC forms of the vocabulary."""
    pairs = allowed.items() if isinstance(allowed, dict) else ((v, v) for v in allowed)
    return {unicodedata.normalize("NFKC", k): v for k, v in pairs}


HEADERS_SHOWN = 8


def _open(path: Path, mapping: ColumnMapping, required: tuple[str, ...], sheet: str | None,
          header_row: int | None) -> tuple[Table, Columns]:

    def check(table: Table) -> None:  # before any data row is read
        columns = Columns.of(mapping, table)
        missing = [mapping.headers[k] for k in required if not columns.has(k)]
        if missing:
            read = [h for h in table.header if h]
            shown = "、".join(read[:HEADERS_SHOWN]) + ("…" if len(read) > HEADERS_SHOWN else "")
            raise TableError(
                f"{path.name}: 必須の列 {'、'.join(missing)} がありません（{table.header_label()}を見出しとして読みました: "
                f"{shown}）。見出しの行は --header-row で、列の対応は列の対応表 --mapping で指定できます。"
            )

    table = read_table(path, sheet, header_row, expected=list(mapping.headers.values()), drop_totals=True,
                       check_header=check)
    return table, Columns.of(mapping, table)


def read_residents(
    path: Path,
    context: CityContext,
    mapping_path: Path | None = None,
    sheet: str | None = None,
    today: dt.date | None = None,
    header_row: int | None = None,
    replace: bool = False,
) -> Parsed[ResidentRecord]:
    """Read and validate a 名簿. Duplicate 名簿番号, impossible dates, points outside the city,
    unknown 校区 and addresses without 緯度/経度 that the 位置参照情報 does not know are errors
    naming the row and column; so is a stored 名簿番号 given to a different person (氏名 and
    生年月日 both differ) unless ``replace``. Messages say what is wrong with a field without
    repeating its value."""
    today = today or dt.date.today()
    mapping = ColumnMapping.load(mapping_path, RESIDENT_COLUMNS)
    table, columns = _open(path, mapping, REQUIRED_RESIDENT, sheet, header_row)
    parsed: Parsed[ResidentRecord] = Parsed(notices=list(table.notices))
    seen: dict[str, int] = {}
    known = set(context.district_names)
    pending: list[tuple[_Row, ResidentRecord]] = []
    for offset, raw in enumerate(table.rows):
        if not any(cell_text(v) for v in raw.values()):
            continue
        row = _Row(path.name, offset + table.first_row, raw, columns)
        record = _resident(row, today)
        number = record.values["resident_no"]
        if number in seen:
            row.error("resident_no", f"名簿番号「{number}」が {seen[number]} 行目と重複しています。")
        elif number:
            seen[number] = row.row_no
        if _reused(number, record.values, context):
            if replace:
                record.takes_over = True
            else:
                row.error("resident_no", "この名簿番号は、氏名も生年月日も異なる別の方として登録済みです（番号の付け替えなら "
                                         "「名簿番号の付け替えを認める」、コマンドでは --replace を指定してください。"
                                         "前の方の計画・記録は削除されます）。")
        district = record.values["district"]
        if district and (reason := identifier_problem(district)):
            row.error("district", reason)
        elif district and district not in known:
            row.error("district", f"校区「{district}」は登録されていません。")
        wanted = record.values.pop("preferred_shelter")
        if wanted and wanted not in context.shelters:
            row.error("preferred_shelter", f"避難所「{wanted}」は登録されていません（コードまたは正式名称）。")
        if columns.has("preferred_shelter"):
            record.values["preferred_shelter_code"] = context.shelters.get(wanted) if wanted else None
        record.agreements = _agreements(row, context, today) if columns.has("welfare_agreement") else None
        pending.append((row, record))
    parsed.notices += _geocode(pending, context)
    _check_locations(pending, context)
    for row, record in pending:
        if row.problems:
            parsed.reject(row.problems, row.row_no, row.raw)
        else:
            parsed.add(record, row.row_no)
    taken = [r.values["resident_no"] for r in parsed.records if r.takes_over]
    if taken:
        parsed.notices.append(f"名簿番号 {'、'.join(taken)} は別の方の番号になります。前の方の計画・支援者の登録・"
                              "福祉避難所の合意・安否確認などの記録は残りません。")
    return parsed


def _reused(number: str, values: dict[str, Any], context: CityContext) -> bool:
    """Whether the stored resident with this 名簿番号 is someone else (氏名 and 生年月日 both differ)."""
    stored = context.stored_people.get(number)
    if stored is None or values["birth_date"] is None:
        return False
    name, birth = stored
    return _same_name(name) != _same_name(values["name"]) and birth != values["birth_date"]


def _same_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _resident(row: _Row, today: dt.date) -> ResidentRecord:
    birth = row.date("birth_date", today)
    if birth is None and row.text("birth_date") == "":
        row.error("birth_date", "必須項目が空です。")
    if birth is not None and (today.year - birth.year) > MAX_AGE:
        row.error("birth_date", f"年齢が {MAX_AGE} 歳を超えます。")
    floors = row.integer("building_floors", 1, 60)
    bedroom = row.integer("bedroom_floor", 1, 60)
    if floors is not None and bedroom is not None and bedroom > floors:
        row.error("bedroom_floor", f"寝室の階（{bedroom}）が建物階数（{floors}）を超えています。")
    home_floor = row.integer("home_floor", 1, 60)
    if floors is not None and home_floor is not None and home_floor > floors:
        row.error("home_floor", f"住戸の階（{home_floor}）が建物階数（{floors}）を超えています。")
    values: dict[str, Any] = {
        "resident_no": row.identifier("resident_no"),
        "name": row.required("name"),
        "kana": row.optional("kana"),
        "birth_date": birth,
        "sex": row.choice("sex", SEX_VALUES),
        "address": row.required("address"),
        "phone": row.optional("phone"),
        "district": row.optional("district"),
        "lat": row.coordinate("lat"),
        "lon": row.coordinate("lon"),
        "care_level": row.choice("care_level", CARE_LEVELS),
        "disability_types": row.choices("disability_types", DISABILITY_TYPES),
        "disability_grade": row.optional("disability_grade"),
        "intractable_disease": row.optional("intractable_disease"),
        "medical_devices": row.choices("medical_devices", MEDICAL_DEVICES),
        "mobility": row.choice("mobility", MOBILITY_LEVELS),
        "communication_needs": row.choices("communication_needs", COMMUNICATION_NEEDS),
        "other_needs": row.optional("other_needs"),
        "lives_alone": row.flag("lives_alone"),
        "building_floors": floors,
        "bedroom_floor": bedroom,
        "can_use_stairs": row.flag("can_use_stairs"),
        "consent_share": bool(row.flag("consent_share")),
        "consent_share_date": row.date("consent_share_date", today),
        "consent_plan": bool(row.flag("consent_plan")),
        "consent_plan_date": row.date("consent_plan_date", today),
        "preferred_shelter": row.optional("preferred_shelter"),
        "preferred_destination": row.optional("preferred_destination"),
        "info_reception": row.choices("info_reception", INFO_RECEPTION_ALIASES | {k: k for k in INFO_RECEPTION}),
        "daytime_situation": row.optional("daytime_situation"),
        "night_situation": row.optional("night_situation"),
        "day_service": row.optional("day_service"),
        "home_floor": home_floor,
    }
    row.point(values)
    values["location_level"] = LEVEL_COORDINATES if values["lat"] is not None and values["lon"] is not None else None
    for key in [k for k in values if k not in ALWAYS_WRITTEN and k != "preferred_shelter" and not row.columns.has(k)]:
        del values[key]
    contacts: list[dict[str, Any]] | None = [] if any(map(row.columns.has, CONTACT_FIELDS)) else None
    for n in range(1, MAX_CONTACTS + 1):
        name = row.optional(f"contact{n}_name")
        if name and contacts is not None:
            contacts.append({
                "priority": n,
                "name": name,
                "relation": row.optional(f"contact{n}_relation"),
                "phone": row.optional(f"contact{n}_phone"),
            })
    professionals: list[dict[str, Any]] | None = [] if any(map(row.columns.has, PROFESSIONAL_FIELDS)) else None
    for key, role in PROFESSIONAL_PREFIX.items():
        name, organisation = row.optional(f"{key}_name"), row.optional(f"{key}_organisation")
        if (name or organisation) and professionals is not None:
            professionals.append({"role": role, "name": name, "organisation": organisation,
                                  "phone": row.optional(f"{key}_phone")})
    return ResidentRecord(values, contacts, professionals)


def _agreements(row: _Row, context: CityContext, today: dt.date) -> list[dict[str, Any]]:
    """The 福祉避難所 that agreed to take this resident directly (code or exact name) and when."""
    wanted = row.optional("welfare_agreement")
    agreed_on = row.date("welfare_agreement_date", today)
    if not wanted:
        if agreed_on is not None:
            row.error("welfare_agreement", "受入合意日がありますが、合意した福祉避難所が空です。")
        return []
    code = context.shelters.get(wanted)
    if code is None:
        row.error("welfare_agreement", f"福祉避難所「{wanted}」は登録されていません（コードまたは正式名称）。")
        return []
    if code not in context.welfare_shelters:
        row.error("welfare_agreement", f"「{wanted}」は福祉避難所として登録されていません。")
        return []
    if agreed_on is None:
        if not row.text("welfare_agreement_date"):
            row.error("welfare_agreement_date", "福祉避難所の受入合意には合意日が必要です。")
        return []
    return [{"shelter_code": code, "agreed_on": agreed_on}]


def _geocode(pending: list[tuple[_Row, ResidentRecord]], context: CityContext) -> list[str]:
    """Locate rows without 緯度/経度 from their address: the stored coordinates when the
    address is unchanged, else the 位置参照情報 (街区, else 町丁目の代表点). Returns notices."""
    wanting: list[tuple[_Row, ResidentRecord]] = []
    for row, record in pending:
        values = record.values
        if values["location_level"] is not None or row.text("lat") or row.text("lon"):
            continue
        stored = context.stored_coordinates.get(values["resident_no"])
        if stored and context.addresses.same_address(stored[0], values["address"]):
            values["lon"], values["lat"], values["location_level"] = stored[1], stored[2], LEVEL_COORDINATES
        elif not context.addresses:
            row.error("lat", "緯度・経度が空です。住所から位置を求めるには、先に `disaster import address-points` で"
                             "位置参照情報（街区・大字・町丁目レベル）を取り込んでください。")
        else:
            wanting.append((row, record))
    if not wanting:
        return []
    levels: dict[str, int] = {}
    for (row, record), found in zip(wanting, context.addresses.locate([r.values["address"] for _, r in wanting]), strict=True):
        if found is None:
            row.error("address", "住所の位置が位置参照情報（街区・町丁目）に見つかりません"
                                 "（町名・丁目・番地の書き方を確かめるか、緯度・経度を記入してください）。")
            continue
        record.values |= {"lon": found.lon, "lat": found.lat, "location_level": found.level}
        levels[found.level] = levels.get(found.level, 0) + 1
    if not levels:
        return []
    town = f"、町丁目の代表点 {levels[LEVEL_TOWN]} 人（計画・地図に「位置は町丁目の代表点です」と示します）" if LEVEL_TOWN in levels else ""
    return [f"住所から位置を求めました: 街区 {levels.get('block', 0)} 人{town}。"]


def _check_locations(pending: list[tuple[_Row, ResidentRecord]], context: CityContext) -> None:
    """Vectorised: every point inside the city; 校区 derived from the point where not given."""
    located = [(row, rec) for row, rec in pending if rec.values["lat"] is not None and rec.values["lon"] is not None]
    if not located:
        return
    lons = np.array([rec.values["lon"] for _, rec in located])
    lats = np.array([rec.values["lat"] for _, rec in located])
    inside = context.in_city(lons, lats)
    districts = context.districts_of(lons, lats)
    for (row, rec), ok, district in zip(located, inside, districts, strict=True):
        if not ok:
            row.error("lat", "緯度・経度の位置が市の区域外です。")
        elif rec.values["district"] is None:
            if district is None:
                row.error("district", "校区が空で、位置からも校区を決められません。")
            rec.values["district"] = district


def read_supporters(
    path: Path,
    mapping_path: Path | None = None,
    sheet: str | None = None,
    today: dt.date | None = None,
    known_residents: Callable[[list[str]], set[str]] | None = None,
    header_row: int | None = None,
    addresses: AddressIndex | None = None,
) -> Parsed[SupporterRecord]:
    """Read 避難支援等実施者. ``known_residents`` returns which 名簿番号 exist; ``addresses``
    locates supporters given without 緯度/経度 (whether their own home is at risk is part of
    every plan they appear on)."""
    today = today or dt.date.today()
    mapping = ColumnMapping.load(mapping_path, SUPPORTER_COLUMNS)
    table, columns = _open(path, mapping, REQUIRED_SUPPORTER, sheet, header_row)
    parsed: Parsed[SupporterRecord] = Parsed(notices=list(table.notices))
    seen: dict[str, int] = {}
    pending: list[tuple[_Row, SupporterRecord]] = []
    for offset, raw in enumerate(table.rows):
        if not any(cell_text(v) for v in raw.values()):
            continue
        row = _Row(path.name, offset + table.first_row, raw, columns)
        number = row.identifier("supporter_no")
        if number in seen:
            row.error("supporter_no", f"支援者番号「{number}」が {seen[number]} 行目と重複しています。")
        elif number:
            seen[number] = row.row_no
        values = {
            "supporter_no": number,
            "name": row.required("name"),
            "address": row.optional("address"),
            "phone": row.optional("phone"),
            "relation": row.choice("relation", SUPPORTER_RELATIONS),
            "lat": row.coordinate("lat"),
            "lon": row.coordinate("lon"),
            "consent": bool(row.flag("consent")),
            "consent_date": row.date("consent_date", today),
        }
        row.point(values)
        for key in [k for k in values if k not in REQUIRED_SUPPORTER and not columns.has(k)]:
            del values[key]  # a column the file does not have leaves the stored value as it is
        numbers = [n for n in LIST_SEPARATORS.split(row.text("resident_nos")) if n]
        if any(identifier_problem(n) for n in numbers):
            row.error("resident_nos", next(r for n in numbers if (r := identifier_problem(n))))
            numbers = [n for n in numbers if not identifier_problem(n)]
        pending.append((row, SupporterRecord(values, numbers)))
    parsed.notices += _locate_supporters(pending, addresses)
    wanted = sorted({n for _, rec in pending for n in rec.resident_nos})
    known = known_residents(wanted) if known_residents else set(wanted)
    for row, record in pending:
        unknown = [n for n in record.resident_nos if n not in known]
        if unknown:
            row.error("resident_nos", f"名簿番号 {'、'.join(unknown)} は名簿にありません。")
        if row.problems:
            parsed.reject(row.problems, row.row_no, row.raw)
        else:
            parsed.add(record, row.row_no)
    return parsed


def _locate_supporters(pending: list[tuple[_Row, SupporterRecord]], addresses: AddressIndex | None) -> list[str]:
    """Supporters with an address but no 緯度/経度: the 位置参照情報 point (街区, else 町丁目).
    One not found is kept without a location; the plans then say it could not be checked."""
    wanting = [(row, rec) for row, rec in pending if rec.values.get("address") and not row.text("lat") and not row.text("lon")]
    if not wanting:
        return []
    found = addresses.locate([rec.values["address"] for _, rec in wanting]) if addresses else [None] * len(wanting)
    missing = []
    for (row, record), point in zip(wanting, found, strict=True):
        if point is None:
            missing.append(str(row.row_no))
        else:
            record.values |= {"lon": point.lon, "lat": point.lat}
    if not missing:
        return [f"支援者 {len(wanting)} 人の位置を住所から求めました。"]
    return [f"支援者の住所から位置を求められなかった行があります（{'、'.join(missing[:20])}{' ほか' if len(missing) > 20 else ''} 行目）。"
            "位置が分からない支援者は、自宅が危険な区域にあるか確かめられないため、計画にその旨を示します。"
            "緯度・経度を記入するか、位置参照情報を取り込んでください。"]
