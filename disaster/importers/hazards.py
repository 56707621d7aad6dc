"""Hazard files in 国土数値情報 schemas.

- A31a (洪水浸水想定区域, 令和5年度以降): layers 10 (A31a_101…105 計画規模 浸水深), 20 (A31a_201…205
  想定最大規模 浸水深), 30 (A31a_301…305 浸水継続時間), 41/42 (A31a_401…405 家屋倒壊等氾濫想定区域
  氾濫流/河岸侵食). Attribute x01 river code, x02 river name, x04 manager, x05 rank/class.
- A31 (令和2・3年度): the same layout with the ``A31_`` prefix; 平成24年度 A31_001 depth codes
  11–15 / 21–27 are converted to A31a ranks (``codes.OLD_A31_DEPTH_CODES``).
- A33 (土砂災害警戒区域): A33_001 phenomenon, A33_002 区域区分, A33_004 区域番号, A33_005 区域名.
- 内水浸水想定区域 has no national schema: a depth-rank file in the A31a layout imported with
  ``layer=inland_flood``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import shapely

from disaster.codes import (
    DEPTH_RANKS,
    DURATION_RANKS,
    LANDSLIDE_CLASSES,
    LANDSLIDE_KINDS,
    OLD_A31_DEPTH_CODES,
    HazardLayer,
)
from disaster.geo import polygonal
from disaster.importers.areas import REPAIRED, not_polygon
from disaster.importers.geofile import GeoFileError, read_geodata
from disaster.importers.problems import Parsed, Problem
from disaster.importers.tabular import cell_text

DEPTH_LAYERS = {HazardLayer.FLOOD_L1_DEPTH, HazardLayer.FLOOD_L2_DEPTH, HazardLayer.INLAND_FLOOD}
COLLAPSE_LAYERS = {HazardLayer.COLLAPSE_FLOW, HazardLayer.COLLAPSE_EROSION}
# attribute group -> layer
GROUP_LAYERS = {
    "1": HazardLayer.FLOOD_L1_DEPTH,
    "2": HazardLayer.FLOOD_L2_DEPTH,
    "3": HazardLayer.FLOOD_DURATION,
    "4": HazardLayer.COLLAPSE_FLOW,
}
_A31_ATTR = re.compile(r"^(A31a?)_([1-4])0[1-5]$")


@dataclass
class HazardRecord:
    layer: HazardLayer
    geometry: shapely.Geometry
    river_name: str | None
    rank: int | None
    landslide_kind: int | None
    landslide_class: int | None
    source_feature: str


def detect_schema(columns: list[str], file_name: str) -> tuple[str, str, HazardLayer]:
    """(schema, attribute prefix, layer) from the attribute names (and the A31a file name)."""
    if "A33_001" in columns and "A33_002" in columns:
        return "A33", "A33", HazardLayer.LANDSLIDE
    if "A31_001" in columns:
        return "A31-H24", "A31", HazardLayer.FLOOD_L1_DEPTH
    groups = {(m[1], m[2]) for c in columns if (m := _A31_ATTR.match(c))}
    if len(groups) != 1:
        raise GeoFileError(
            f"{file_name}: 国土数値情報 A31a/A31（洪水浸水想定区域）または A33（土砂災害警戒区域）の属性が見つかりません。"
        )
    prefix, group = groups.pop()
    layer = GROUP_LAYERS[group]
    if group == "4" and re.search(r"[-_]42[-_]", file_name):
        layer = HazardLayer.COLLAPSE_EROSION
    return prefix, prefix, layer


def read_hazards(
    path: Path,
    layer: HazardLayer | None = None,
    river_name: str | None = None,
    assume_epsg: int | None = None,
) -> tuple[Parsed[HazardRecord], HazardLayer]:
    """Read one hazard file. ``layer`` overrides the detected layer (needed for 内水)."""
    frame, problems = read_geodata(path, assume_epsg)
    schema, prefix, detected = detect_schema(list(frame.columns), path.name)
    layer = layer or detected
    if schema == "A33" and layer != HazardLayer.LANDSLIDE or schema != "A33" and layer == HazardLayer.LANDSLIDE:
        raise GeoFileError(f"{path.name}: {schema} 形式のファイルを {layer.value} として取り込むことはできません。")
    group = {v: k for k, v in GROUP_LAYERS.items()}.get(detected, "4")
    parsed: Parsed[HazardRecord] = Parsed(problems=problems)
    bad = {p.row for p in problems}
    name = path.name
    for index, row in enumerate(frame.drop(columns="geometry").to_dict("records")):
        row_no = index + 1
        if row_no in bad:
            continue
        geom, repaired = polygonal(frame.geometry.iloc[index])
        errors: list[Problem] = []
        if geom is None:
            errors.append(Problem(name, row_no, "(feature)", not_polygon(frame.geometry.iloc[index])))
        rank = kind = klass = None
        river = river_name
        feature_id = str(row_no)
        if schema == "A33":
            kind = _code(row, "A33_001", LANDSLIDE_KINDS, name, row_no, errors)
            klass = _code(row, "A33_002", LANDSLIDE_CLASSES, name, row_no, errors)
            river = river or cell_text(row.get("A33_005")) or None
            feature_id = cell_text(row.get("A33_004")) or feature_id
        elif schema == "A31-H24":
            code = _int(row, "A31_001", name, row_no, errors)
            if code is not None and code not in OLD_A31_DEPTH_CODES:
                errors.append(Problem(name, row_no, "A31_001", f"浸水深コード {code} は 11〜15 または 21〜27 ではありません。"))
            rank = OLD_A31_DEPTH_CODES.get(code) if code is not None else None
        else:
            river = river or cell_text(row.get(f"{prefix}_{group}02")) or None
            if layer in COLLAPSE_LAYERS:
                rank = None
            else:
                valid = DURATION_RANKS if layer == HazardLayer.FLOOD_DURATION else DEPTH_RANKS
                rank = _code(row, f"{prefix}_{group}05", valid, name, row_no, errors)
        if errors:
            parsed.reject(errors, row_no, row)
            continue
        if repaired:
            parsed.notices.append(f"{name} 地物{row_no}: {REPAIRED}")
        parsed.add(HazardRecord(layer, geom, river, rank, kind, klass, feature_id), row_no)
    return parsed, layer


def _int(row: dict, column: str, file: str, row_no: int, errors: list[Problem]) -> int | None:
    text = cell_text(row.get(column))
    try:
        return int(float(text))
    except ValueError:
        errors.append(Problem(file, row_no, column, f"「{text}」は整数のコードではありません。"))
        return None


def _code(row: dict, column: str, valid: dict, file: str, row_no: int, errors: list[Problem]) -> int | None:
    value = _int(row, column, file, row_no, errors)
    if value is not None and value not in valid:
        allowed = "、".join(str(k) for k in valid)
        errors.append(Problem(file, row_no, column, f"コード {value} は定義されていません（{allowed}）。"))
        return None
    return value
