"""MLIT 位置参照情報 (国土交通省 位置参照情報ダウンロードサービス) as published: CSV in CP932,
or the downloaded ZIP holding it.

- 街区レベル: 都道府県名, 市区町村名, 大字・町丁目名 (大字・丁目名 in the files), 小字・通称名,
  街区符号・地番, 座標系番号, Ｘ座標, Ｙ座標, 緯度, 経度, 住居表示フラグ, 代表フラグ,
  更新前履歴フラグ, 更新後履歴フラグ. Only representative points (代表フラグ 1) are kept;
  rows flagged as deleted (更新前履歴フラグ 3) are left out.
- 大字・町丁目レベル: 都道府県コード, 都道府県名, 市区町村コード, 市区町村名, 大字町丁目コード,
  大字町丁目名, 緯度, 経度, 原典資料コード, 大字・字・丁目区分コード.

A file may cover a whole prefecture: only the city's rows are kept (by 市区町村コード, else by
name; a 政令市 keeps its wards). Points come from 緯度/経度, or from Ｘ/Ｙ in the 平面直角座標系
of 座標系番号 (JGD2011) where those are empty (converted in one vectorised call per zone).
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import Transformer

from disaster import geocode
from disaster.codes import JAPAN_BOUNDS
from disaster.importers.problems import Parsed, Problem
from disaster.importers.tabular import Table, TableError, cell_text, check_size, header_key, read_table
from disaster.settings import get_settings

BLOCK_COLUMNS = ("都道府県名", "市区町村名", "大字・町丁目名", "小字・通称名", "街区符号・地番", "座標系番号",
                 "X座標", "Y座標", "緯度", "経度", "代表フラグ")
TOWN_COLUMNS = ("都道府県コード", "都道府県名", "市区町村コード", "市区町村名", "大字町丁目コード", "大字町丁目名",
                "緯度", "経度")
EXPECTED = frozenset(BLOCK_COLUMNS + TOWN_COLUMNS)
ALIASES = {"大字・丁目名": "大字・町丁目名"}  # the published 街区 files spell it so
DELETED = "3"  # 更新前履歴フラグ: 削除
JGD2011_ZONE_BASE = 6668  # EPSG:6669..6687 are 平面直角座標系 I..XIX (JGD2011)


@dataclass
class PointRecord:
    level: str  # geocode.LEVEL_BLOCK or geocode.LEVEL_TOWN
    town: str  # geocode.town_key
    block: str  # geocode.block_keys item; "" for a town point
    label: str  # as written in the file, e.g. 本町一丁目 2
    lon: float
    lat: float


Pending = tuple[int, dict[str, object], list[PointRecord], list[Problem]]  # row, raw, records, problems
Getter = Callable[[dict[str, object], str], str]


def read_address_points(path: Path, city_code: str, city_name: str) -> Parsed[PointRecord]:
    """Read one 位置参照情報 file (either level) and keep the city's points."""
    table = _table(path)
    columns = {header_key(ALIASES.get(h, h)): h for h in table.header}
    if all(header_key(c) in columns for c in BLOCK_COLUMNS):
        level = geocode.LEVEL_BLOCK
    elif all(header_key(c) in columns for c in TOWN_COLUMNS):
        level = geocode.LEVEL_TOWN
    else:
        missing = [c for c in BLOCK_COLUMNS if header_key(c) not in columns]
        raise TableError(
            f"{path.name}: 位置参照情報（街区レベル・大字・町丁目レベル）の形式ではありません"
            f"（{table.header_label()}に 街区の列 {'、'.join(missing)} も、大字町丁目名・市区町村コードもありません）。"
        )

    def get(raw: dict[str, object], name: str) -> str:
        return cell_text(raw.get(columns.get(header_key(name), ""), ""))

    parsed: Parsed[PointRecord] = Parsed()
    municipalities: set[str] = set()
    pending: list[Pending] = []
    for offset, raw in enumerate(table.rows):
        if not any(cell_text(v) for v in raw.values()):
            continue
        row_no = offset + table.first_row
        municipality = get(raw, "市区町村名")
        municipalities.add(municipality)
        ward = _city_part(level, get(raw, "市区町村コード"), municipality, city_code, city_name)
        if ward is None:
            continue
        if level == geocode.LEVEL_BLOCK and (get(raw, "代表フラグ") == "0" or get(raw, "更新前履歴フラグ") == DELETED):
            continue
        problems: list[Problem] = []
        if level == geocode.LEVEL_BLOCK:
            town_name = get(raw, "大字・町丁目名") + get(raw, "小字・通称名")
            blocks = geocode.block_keys(get(raw, "街区符号・地番"))
            label = f"{town_name} {get(raw, '街区符号・地番')}"
            if not blocks:
                problems.append(Problem(path.name, row_no, "街区符号・地番", "街区符号・地番が空です。"))
        else:
            town_name, blocks = get(raw, "大字町丁目名"), [""]
            label = town_name
        town = geocode.town_key(ward + town_name) if town_name else ""
        if not town:
            field = "大字・町丁目名" if level == geocode.LEVEL_BLOCK else "大字町丁目名"
            problems.append(Problem(path.name, row_no, field, "大字・町丁目名が空です。"))
        records = [PointRecord(level, town, block, label, np.nan, np.nan) for block in blocks]
        pending.append((row_no, raw, records, problems))
    if not pending:
        found = "、".join(sorted(m for m in municipalities if m)[:10]) or "なし"
        raise TableError(f"{path.name}: {city_name}（{city_code}）の地点がありません（ファイルの市区町村: {found}）。")
    _locate(path, pending, get, level)
    seen: set[tuple[str, str]] = set()
    for row_no, raw, records, problems in pending:
        if problems:
            parsed.reject(problems, row_no, raw)
            continue
        for record in records:
            if (record.town, record.block) not in seen:  # the first representative point wins
                seen.add((record.town, record.block))
                parsed.add(record, row_no)
    return parsed


def _table(path: Path) -> Table:
    """The CSV itself, or the CSV inside a downloaded ZIP."""
    if path.suffix.lower() != ".zip":
        return read_table(path, expected=EXPECTED)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(members) != 1:
                raise TableError(f"{path.name}: ZIP の中に CSV がちょうど 1 つ必要です（{len(members)} 個あります）。")
            check_size(path, archive.getinfo(members[0]).file_size, get_settings().import_max_bytes, "展開後の大きさ")
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / Path(members[0]).name
                target.write_bytes(archive.read(members[0]))
                table = read_table(target, expected=EXPECTED)
    except zipfile.BadZipFile as exc:
        raise TableError(f"{path.name}: ZIP ファイルとして読めません。") from exc
    table.path = path
    return table


def _city_part(level: str, code: str, municipality: str, city_code: str, city_name: str) -> str | None:
    """"" for a row of the city, its ward for a 政令市's ward, None for another municipality."""
    if level == geocode.LEVEL_TOWN and code.isdigit() and code.zfill(5) == city_code[:5]:
        return ""
    return geocode.city_part(municipality, city_name)


def _locate(path: Path, pending: list[Pending], get: Getter, level: str) -> None:
    """Fill lon/lat from 緯度/経度, else from Ｘ/Ｙ and 座標系番号 (vectorised per zone)."""
    by_zone: dict[int, list[tuple[list[PointRecord], float, float]]] = {}
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    for row_no, raw, records, problems in pending:
        lat_text, lon_text = get(raw, "緯度"), get(raw, "経度")
        if lat_text or lon_text:
            try:
                lat, lon = float(lat_text), float(lon_text)
            except ValueError:
                problems.append(Problem(path.name, row_no, "緯度", f"緯度・経度「{lat_text}, {lon_text}」が数値ではありません。"))
                continue
            if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
                problems.append(Problem(path.name, row_no, "緯度", f"位置（緯度 {lat_text}, 経度 {lon_text}）が日本の範囲外です。"))
                continue
            for record in records:
                record.lon, record.lat = lon, lat
            continue
        zone, x, y = get(raw, "座標系番号"), get(raw, "X座標"), get(raw, "Y座標")
        if level == geocode.LEVEL_TOWN or not (zone and x and y):
            problems.append(Problem(path.name, row_no, "緯度", "緯度・経度（または座標系番号とX・Y座標）が空です。"))
            continue
        try:
            number, northing, easting = int(zone), float(x), float(y)
        except ValueError:
            problems.append(Problem(path.name, row_no, "座標系番号", f"座標「{zone}系 X {x} Y {y}」が数値ではありません。"))
            continue
        if not 1 <= number <= 19:
            problems.append(Problem(path.name, row_no, "座標系番号", f"座標系番号「{zone}」は 1〜19 ではありません。"))
            continue
        by_zone.setdefault(number, []).append((records, northing, easting))
    for number, items in by_zone.items():
        transformer = Transformer.from_crs(JGD2011_ZONE_BASE + number, 4326, always_xy=True)
        lons, lats = transformer.transform(np.array([i[2] for i in items]), np.array([i[1] for i in items]))
        for (records, _, _), lon, lat in zip(items, lons, lats, strict=True):
            for record in records:
                record.lon, record.lat = float(lon), float(lat)
