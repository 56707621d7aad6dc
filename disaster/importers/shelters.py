"""Shelter files: GSI 指定緊急避難場所 / 指定避難所 (GeoJSON or CSV) and the project's own format.

Each GSI row becomes a ``ShelterRecord`` that sets only the columns its file owns and carries a
``GsiEntry`` saying which file kind it came from; ``disaster.importers.shelter_merge`` decides
which 指定避難所 and 指定緊急避難場所 rows are one facility. A 指定避難所 row is a 福祉避難所 when
its 共通ID type digits say 指定福祉避難所 (``12x``) or its 受入対象者 names people needing care.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from disaster.codes import HAZARD_LABELS, Hazard
from disaster.geo import in_japan
from disaster.importers.flags import parse_flag, parse_optional_flag
from disaster.importers.geofile import GeoFileError, read_geodata
from disaster.importers.problems import Parsed, Problem, identifier_problem
from disaster.importers.tabular import cell_text, read_table

GSI_ID = re.compile(r"^[A-Z](\d{5})(\d{5})(\d{3})$")
WELFARE_TYPE = "12"  # 共通ID type digits 12x: 指定福祉避難所
CARE_WORDS = ("要配慮", "要援護", "要介護", "要支援", "高齢", "障害", "障がい", "障碍", "妊産婦", "妊婦",
              "乳幼児", "難病", "医療", "福祉")
SAME_ADDRESS_COLUMNS = ("指定避難所との住所同一", "指定緊急避難場所との住所同一")
LOCALITY_COLUMN = "都道府県名及び市町村名"
HAZARD_COLUMN = {label: f"hazard_{hazard.value}" for hazard, label in HAZARD_LABELS.items()}
NAME_COLUMNS = ("施設・場所名", "名称", "施設名")
ADDRESS_COLUMNS = ("住所", "所在地")
LAT_COLUMNS = ("緯度", "lat", "latitude")
LON_COLUMNS = ("経度", "lon", "longitude")

PROJECT_BOOL = (
    "is_emergency_site", "is_designated_shelter", "is_welfare_shelter",
    *(f"hazard_{h.value}" for h in Hazard),
)
PROJECT_OPTIONAL_BOOL = ("barrier_free", "elevator", "backup_power", "accepts_direct")
PROJECT_INT = ("capacity", "usable_floors")
PROJECT_TEXT = ("address", "accepted_groups", "remarks", "gsi_shelter_id", "gsi_emergency_id")


class GsiKind(StrEnum):
    SHELTER = "指定避難所"
    EMERGENCY = "指定緊急避難場所"


@dataclass(frozen=True)
class GsiEntry:
    """Where a GSI row came from and what pairs it with the other file's row."""

    kind: GsiKind
    gsi_id: str
    where: str  # file and row, as problems name them
    locality: str | None  # 都道府県名及び市町村名
    same_address: bool  # 指定(緊急)避難場所との住所同一 = 1


@dataclass
class ShelterRecord:
    """Columns of ``models.Shelter`` this row sets for facility ``code``; ``gsi`` for GSI rows."""

    code: str
    values: dict[str, Any]
    gsi: GsiEntry | None = None


def is_welfare(gsi_id: str, accepted_groups: str) -> bool:
    """A 指定福祉避難所 by its 共通ID type digits (``…12x``) or by its 受入対象者."""
    return gsi_id[-3:-1] == WELFARE_TYPE or any(word in accepted_groups for word in CARE_WORDS)


def read_shelters(path: Path, city_code: str, assume_epsg: int | None = None) -> Parsed[ShelterRecord]:
    """Read a GSI shelter file (GeoJSON/CSV) or a project-format shelter GeoJSON."""
    if path.suffix.lower() in {".csv", ".xlsx", ".tsv", ".txt"}:
        table = read_table(path)
        frame = pd.DataFrame(table.rows, columns=table.header)
        return _read_gsi(path, frame, None, city_code, problems=[], first_row=table.first_row)
    frame, problems = read_geodata(path, assume_epsg)
    if "共通ID" in frame.columns:
        return _read_gsi(path, frame, frame.geometry, city_code, problems, first_row=1)
    if "code" in frame.columns:
        return _read_project(path, frame, problems)
    raise GeoFileError(f"{path.name}: 「共通ID」列（国土地理院形式）も「code」列（本ツール形式）もありません。")


def _pick(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _read_gsi(
    path: Path,
    frame: pd.DataFrame,
    geometry: gpd.GeoSeries | None,
    city_code: str,
    problems: list[Problem],
    first_row: int,
) -> Parsed[ShelterRecord]:
    name = path.name
    columns = list(frame.columns)
    parsed: Parsed[ShelterRecord] = Parsed(problems=list(problems))
    is_emergency = any(label in columns for label in HAZARD_COLUMN)
    name_col, address_col = _pick(columns, NAME_COLUMNS), _pick(columns, ADDRESS_COLUMNS)
    lat_col, lon_col = _pick(columns, LAT_COLUMNS), _pick(columns, LON_COLUMNS)
    same_address_col = _pick(columns, SAME_ADDRESS_COLUMNS)
    if "共通ID" not in columns:
        parsed.problems.append(Problem(name, None, "共通ID", "「共通ID」列がありません（国土地理院形式のファイルを指定してください）。"))
        return parsed
    if name_col is None:
        parsed.problems.append(Problem(name, None, "施設・場所名", "名称の列がありません。"))
        return parsed
    if geometry is None and (lat_col is None or lon_col is None):
        parsed.problems.append(Problem(name, None, "緯度/経度", "CSV には「緯度」「経度」列が必要です。"))
        return parsed
    if foreign := _other_municipality(frame, city_code):
        parsed.problems.append(Problem(name, None, "共通ID", f"このファイルは他の市町村（{foreign}）のものです。取り込み先は"
                                                             f"団体コード {city_code} の市町村です（別の市町村へは --city で）。"))
        return parsed
    field_kind = "(feature)" if geometry is not None else None
    seen: dict[str, int] = {}
    bad_rows = {p.row for p in problems}
    for i, row in enumerate(frame.to_dict("records")):
        row_no = i + first_row
        if row_no in bad_rows:
            continue
        errors: list[Problem] = []
        gsi_id = cell_text(row.get("共通ID"))
        match = GSI_ID.match(gsi_id)
        if not match:
            errors.append(Problem(name, row_no, "共通ID", f"共通ID「{gsi_id}」の形式が正しくありません。"))
        elif match[1] != city_code[:5]:
            errors.append(Problem(name, row_no, "共通ID", f"共通ID「{gsi_id}」は他の市町村（{match[1]}）のものです。"))
        elif gsi_id in seen:
            errors.append(Problem(name, row_no, "共通ID", f"共通ID「{gsi_id}」が {seen[gsi_id]} 行目と重複しています。"))
        facility_name = cell_text(row.get(name_col))
        if not facility_name:
            errors.append(Problem(name, row_no, name_col, "名称が空です。"))
        if geometry is not None:
            point = geometry.iloc[i]
            if point.geom_type != "Point":
                errors.append(Problem(name, row_no, field_kind, f"点ではなく {point.geom_type} です。"))
                lon = lat = 0.0
            else:
                lon, lat = point.x, point.y
        else:
            lon, lat, coord_errors = _csv_point(name, row_no, row, lon_col, lat_col)  # type: ignore[arg-type]
            errors += coord_errors
        values: dict[str, Any] = {
            "name": facility_name,
            "address": cell_text(row.get(address_col)) or None if address_col else None,
            "lon": lon,
            "lat": lat,
            "source": path.name,
        }
        same_address = parse_flag(row.get(same_address_col, "")) if same_address_col else False
        if same_address is None:
            errors.append(Problem(name, row_no, same_address_col, f"「{row.get(same_address_col)}」は 1 または空欄で指定してください。"))
        if is_emergency:
            kind = GsiKind.EMERGENCY
            values |= {"is_emergency_site": True, "gsi_emergency_id": gsi_id}
            for label, column in HAZARD_COLUMN.items():
                flag = parse_flag(row.get(label, ""))
                if flag is None:
                    errors.append(Problem(name, row_no, label, f"「{row.get(label)}」は 1/○ または空欄で指定してください。"))
                values[column] = bool(flag)
        else:
            kind = GsiKind.SHELTER
            accepted = cell_text(row.get("受入対象者"))
            welfare = is_welfare(gsi_id, accepted)
            values |= {
                "is_designated_shelter": not welfare,  # a 福祉避難所 is not offered to everyone
                "is_welfare_shelter": welfare,
                "gsi_shelter_id": gsi_id,
                "accepted_groups": accepted or None,
            }
        remarks = cell_text(row.get("備考"))
        if remarks:
            values["remarks"] = remarks
        if errors:
            parsed.reject(errors, row_no, row)
            continue
        seen[gsi_id] = row_no
        where = f"{name} {row_no}行目" if geometry is None else f"{name} 地物{row_no}"
        entry = GsiEntry(kind, gsi_id, where, cell_text(row.get(LOCALITY_COLUMN)) or None, bool(same_address))
        parsed.add(ShelterRecord(gsi_id, values, entry), row_no)
    return parsed


def _other_municipality(frame: pd.DataFrame, city_code: str) -> str | None:
    """When no row of the file belongs to the city: the municipality it is of (name and code)."""
    codes = {m[1] for m in (GSI_ID.match(cell_text(v)) for v in frame["共通ID"]) if m}
    if not codes or city_code[:5] in codes:
        return None
    names = sorted({cell_text(v) for v in frame[LOCALITY_COLUMN]} - {""}) if LOCALITY_COLUMN in frame.columns else []
    return "、".join(names + [f"団体コード {c}" for c in sorted(codes)])


def _csv_point(
    name: str, row_no: int, row: dict[str, Any], lon_col: str, lat_col: str
) -> tuple[float, float, list[Problem]]:
    errors = []
    coords = []
    for column in (lon_col, lat_col):
        try:
            value = float(cell_text(row.get(column)))
        except ValueError:
            errors.append(Problem(name, row_no, column, "数値ではありません。"))
            value = 0.0
        coords.append(value)
    if not errors and not in_japan([coords[0]], [coords[1]])[0]:
        errors.append(Problem(name, row_no, lat_col, "緯度・経度が日本の範囲外か、有限の数値ではありません。"))
    return coords[0], coords[1], errors


def _read_project(path: Path, frame: gpd.GeoDataFrame, problems: list[Problem]) -> Parsed[ShelterRecord]:
    """The project's own shelter format: properties named like ``models.Shelter`` columns."""
    name = path.name
    parsed: Parsed[ShelterRecord] = Parsed(problems=list(problems))
    bad_rows = {p.row for p in problems}
    seen: set[str] = set()
    points = shapely.get_coordinates(frame.geometry.values)
    for i, row in enumerate(frame.drop(columns="geometry").to_dict("records")):
        row_no = i + 1
        if row_no in bad_rows:
            continue
        errors: list[Problem] = []
        code = cell_text(row.get("code"))
        if not code or code in seen:
            errors.append(Problem(name, row_no, "code", f"code「{code}」が空か重複しています。"))
        elif reason := identifier_problem(code):
            errors.append(Problem(name, row_no, "code", reason))
        values: dict[str, Any] = {
            "name": cell_text(row.get("name")),
            "lon": float(points[i][0]),
            "lat": float(points[i][1]),
            "source": cell_text(row.get("source")) or name,
            "is_demo": parse_flag(row.get("is_demo", "")) is True,
        }
        if not values["name"]:
            errors.append(Problem(name, row_no, "name", "名称が空です。"))
        for column in PROJECT_BOOL:
            flag = parse_flag(row.get(column, ""))
            if flag is None:
                errors.append(Problem(name, row_no, column, f"「{row.get(column)}」は真偽値ではありません。"))
            values[column] = bool(flag)
        for column in PROJECT_OPTIONAL_BOOL:
            flag, ok = parse_optional_flag(row.get(column, ""))
            if not ok:
                errors.append(Problem(name, row_no, column, f"「{row.get(column)}」は真偽値ではありません。"))
            values[column] = flag
        for column in PROJECT_INT:
            text = cell_text(row.get(column))
            if text and not text.isdigit():
                errors.append(Problem(name, row_no, column, f"「{text}」は 0 以上の整数ではありません。"))
            values[column] = int(text) if text.isdigit() else None
        for column in PROJECT_TEXT:
            values[column] = cell_text(row.get(column)) or None
        if errors:
            parsed.reject(errors, row_no, row)
            continue
        seen.add(code)
        parsed.add(ShelterRecord(code, values), row_no)
    return parsed
