"""Area files: the city boundary (国土数値情報 N03) and 校区 polygons (A27 or any polygon file
with a name column), plus the 校区 table of 圏域 and consultation centres."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely

from disaster.codes import CENTRE_KINDS
from disaster.geo import polygonal
from disaster.importers.geofile import GeoFileError, read_geodata
from disaster.importers.problems import Parsed, Problem, identifier_problem
from disaster.importers.tabular import Table, cell_text, header_key, read_table

NAME_COLUMNS = ("name", "校区名", "校区", "district")
# 国土数値情報 A27: 令和3年度 and later have 学校コード in A27_003, so the school name is A27_004
# (A27_005 is the address); earlier editions name the school in A27_003 (A27_004 is the address).
A27_NAME_NEW, A27_NAME_OLD = "A27_004", "A27_003"


SCHOOL_CODE = re.compile(r"^[A-Z]\d{5,}$")  # 学校コード, e.g. B140220000001


def name_column_of(frame: pd.DataFrame) -> str | None:
    """The column holding the 校区 (school) name."""
    if found := next((c for c in NAME_COLUMNS if c in frame.columns), None):
        return found
    if A27_NAME_OLD not in frame.columns:
        return None
    codes = frame[A27_NAME_OLD].astype(str)
    new_edition = "A27_005" in frame.columns or (len(codes) > 0 and codes.str.match(SCHOOL_CODE).all())
    return A27_NAME_NEW if new_edition and A27_NAME_NEW in frame.columns else A27_NAME_OLD
AREA_COLUMNS = ("area", "圏域")
# Any municipality's school prefix (〇〇市立 / 町立 / 村立 / 区立); a city profile may list its own.
GENERIC_SCHOOL_PREFIX = r"\S{1,10}?[市町村区]立"
SCHOOL_SUFFIXES = ("小学校", "校区コミュニティセンター", "校区")


@dataclass
class DistrictRecord:
    name: str
    geometry: shapely.Geometry
    area: str | None = None
    centres: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)  # kind, name, tel, fax


def read_city_boundary(path: Path, city_code: str, assume_epsg: int | None = None,
                       notices: list[str] | None = None) -> tuple[str, shapely.Geometry]:
    """Return (city name, boundary) from an N03 file (all features of the city merged). A
    feature without an area is an error; a repaired one is reported in ``notices``."""
    frame, problems = read_geodata(path, assume_epsg)
    if problems:
        raise GeoFileError("; ".join(str(p) for p in problems))
    if "N03_007" not in frame.columns:
        raise GeoFileError(f"{path.name}: 国土数値情報 N03 の「N03_007」（行政区域コード）列がありません。")
    city = frame[frame["N03_007"].astype(str) == city_code[:5]]
    if city.empty:
        raise GeoFileError(f"{path.name}: 行政区域コード {city_code[:5]} の地物がありません。")
    name = cell_text(city.iloc[0].get("N03_004")) or cell_text(city.iloc[0].get("N03_003"))
    parts = []
    for index, geom in city.geometry.items():
        part, repaired = polygonal(geom)
        feature = f"{path.name} 地物{int(index) + 1}"  # type: ignore[call-overload]
        if part is None:
            raise GeoFileError(f"{feature}: {not_polygon(geom)}")
        if repaired and notices is not None:
            notices.append(f"{feature}: {REPAIRED}")
        parts.append(part)
    return name, shapely.make_valid(shapely.union_all(parts))


def not_polygon(geom: shapely.Geometry | None) -> str:
    """Why a feature is no 校区/zone: not a polygon with an area (a point, a line, a "polygon" of two points)."""
    kind = geom.geom_type if geom is not None else "ジオメトリなし"
    return f"面積のある面（ポリゴン）ではありません（{kind}。点・線、2 点だけの面、空または面積 0 の面は使えません）。"
REPAIRED = "自己交差などの不正な形を修正して取り込みました（形を確かめてください）。"


def district_name_from(value: str, school_prefix: str = GENERIC_SCHOOL_PREFIX) -> str:
    """校区 name from a school or centre name: 〇〇市立△△小学校 -> △△ (``school_prefix``: a
    regular expression for the prefix, ``CityProfile.school_prefix_pattern``)."""
    value = re.sub(f"^(?:{school_prefix})", "", value)
    for suffix in SCHOOL_SUFFIXES:
        value = value.removesuffix(suffix)
    return value


def read_districts(
    path: Path,
    city_code: str,
    name_column: str | None = None,
    assume_epsg: int | None = None,
    school_prefix: str = GENERIC_SCHOOL_PREFIX,
) -> Parsed[DistrictRecord]:
    """Read 校区 polygons. Several features with one name (multipart 校区) are merged."""
    frame, problems = read_geodata(path, assume_epsg)
    parsed: Parsed[DistrictRecord] = Parsed(problems=problems)
    column = name_column or name_column_of(frame)
    if column is None or column not in frame.columns:
        raise GeoFileError(f"{path.name}: 校区名の列がありません（--name-column で列名を指定してください）。")
    if "A27_001" in frame.columns:  # national A27 files cover a whole prefecture
        frame = frame[frame["A27_001"].astype(str).str[:5] == city_code[:5]]
    area_column = next((c for c in AREA_COLUMNS if c in frame.columns), None)
    bad = {p.row for p in problems}
    by_name: dict[str, list[int]] = {}
    shapes: dict[int, shapely.Geometry] = {}
    for index, row in frame.iterrows():
        row_no = int(index) + 1  # type: ignore[call-overload]
        if row_no in bad:
            continue
        name = district_name_from(cell_text(row[column]), school_prefix)
        geom, repaired = polygonal(row.geometry)
        if not name:
            parsed.problems.append(Problem(path.name, row_no, column, "校区名が空です。"))
        elif reason := identifier_problem(name):
            parsed.problems.append(Problem(path.name, row_no, column, reason))
        elif geom is None:
            parsed.problems.append(Problem(path.name, row_no, "(feature)", not_polygon(row.geometry)))
        else:
            if repaired:
                parsed.notices.append(f"{path.name} 地物{row_no}（校区「{name}」）: {REPAIRED}")
            shapes[int(index)] = geom  # type: ignore[call-overload]
            by_name.setdefault(name, []).append(int(index))  # type: ignore[call-overload]
    for name, indexes in by_name.items():
        rows = frame.loc[indexes]
        geometry = shapely.make_valid(shapely.union_all([shapes[i] for i in indexes]))
        area = cell_text(rows.iloc[0][area_column]) or None if area_column else None
        parsed.add(DistrictRecord(name, geometry, area), indexes[0] + 1)
    return parsed


# 校区 table: field -> accepted headers (the project's own, then Japanese ones; compared
# without spaces, so a two-row header "地域包括支援センター 電話" works too)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "district": ("district", "校区", "校区名", "小学校区"),
    "area": ("area", "圏域", "日常生活圏域"),
}
for _kind, _label in CENTRE_KINDS.items():
    TABLE_COLUMNS |= {
        f"{_kind}_center": (f"{_kind}_center", _label, f"{_label}名"),
        f"{_kind}_tel": (f"{_kind}_tel", f"{_label}電話", f"{_label}電話番号", f"{_label}TEL"),
        f"{_kind}_fax": (f"{_kind}_fax", f"{_label}FAX", f"{_label}ファクス"),
    }

Centre = tuple[str, str, str | None, str | None]  # kind, name, tel, fax


def read_district_table(path: Path) -> dict[str, tuple[str | None, list[Centre]]]:
    """Read the 校区 table: name -> (圏域, centres). Only the 校区 column is required; 圏域 and
    each kind of consultation centre (name, 電話, FAX) are optional."""

    def columns_of(table: Table) -> dict[str, str | None]:
        present = {header_key(h): h for h in table.header if h}
        return {key: next((present[header_key(n)] for n in names if header_key(n) in present), None)
                for key, names in TABLE_COLUMNS.items()}

    def check(table: Table) -> None:  # before any data row is read
        if columns_of(table)["district"] is None:
            raise GeoFileError(f"{path.name}: 校区名の列（{'・'.join(TABLE_COLUMNS['district'])}）がありません"
                               f"（{table.header_label()}を見出しとして読みました）。")

    table = read_table(path, expected=[name for names in TABLE_COLUMNS.values() for name in names], check_header=check)
    columns = columns_of(table)

    def get(row: dict[str, object], key: str) -> str:
        column = columns[key]
        return cell_text(row.get(column)) if column else ""

    result: dict[str, tuple[str | None, list[Centre]]] = {}
    for offset, row in enumerate(table.rows):
        if not any(cell_text(v) for v in row.values()):
            continue
        name = district_name_from(get(row, "district"))
        if not name or (reason := identifier_problem(name)):
            raise GeoFileError(f"{path.name} {offset + table.first_row}行目「{columns['district']}」: "
                               f"{reason if name else '校区名が空です。'}")
        centres = [(kind, get(row, f"{kind}_center"), get(row, f"{kind}_tel") or None, get(row, f"{kind}_fax") or None)
                   for kind in CENTRE_KINDS if get(row, f"{kind}_center")]
        result[name] = (get(row, "area") or None, centres)
    return result


def attach_table(parsed: Parsed[DistrictRecord], table: dict, table_name: str) -> None:
    """Fill 圏域 and centres from the 校区 table; a table row without a polygon is a problem."""
    names = {record.name for record in parsed.records}
    for record in parsed.records:
        if record.name in table:
            area, centres = table[record.name]
            record.area = area or record.area
            record.centres = centres
    known = "、".join(sorted(names)[:30]) or "なし"
    for name in table:
        if name not in names:
            parsed.problems.append(Problem(table_name, None, "校区", f"校区「{name}」の区域（ポリゴン）が区域ファイルにありません"
                                                                   f"（区域ファイルの校区名: {known}。名前の列が違うときは --name-column）。"))

