"""Demo hazard zones in the official schemas, plausible for the demo city (all fictional); the
river, the boundary stretches and the districts come from the demo spec (``data/demo/``):

- flooding along the river that forms part of the city's edge: depth bands (L1 計画規模,
  L2 想定最大規模), duration bands and a 家屋倒壊等氾濫想定区域 strip, wider in the low west than
  in the east;
- 内水 pockets in the low districts;
- 土砂災害警戒区域 (yellow with red cores) along the mountain edge of the boundary.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely import affinity
from shapely.ops import substring

from disaster.demodata.spec import HazardSpec
from disaster.geo import WGS84

# band widths (m at scale 1.0) per rank, deepest rank first
L2_BANDS = {4: 400, 3: 1_500, 2: 3_500, 1: 5_000}
L1_BANDS = {3: 150, 2: 1_200, 1: 2_500}
DURATION_BANDS = {4: 700, 3: 2_000, 2: 3_500, 1: 5_000}
COLLAPSE_FLOW_WIDTH = 250
COLLAPSE_EROSION_WIDTH = 60


def _ring_section(boundary: shapely.Polygon, start: tuple[float, float], end: tuple[float, float],
                  through_north: bool) -> shapely.LineString:
    """The part of the boundary ring from ``start`` to ``end`` (nearest vertices)."""
    coords = np.asarray(boundary.exterior.coords)[:-1]
    i = int(np.argmin(((coords - start) ** 2).sum(axis=1)))
    j = int(np.argmin(((coords - end) ** 2).sum(axis=1)))
    forward = np.concatenate([coords[i:], coords[:i]])[: (j - i) % len(coords) + 1]
    backward = np.concatenate([coords[j:], coords[:j]])[: (i - j) % len(coords) + 1][::-1]
    pick = max if through_north else min
    section = pick((forward, backward), key=lambda c: c[:, 1].mean())
    return shapely.LineString(section)


def _width_scale(lon: float, spec: HazardSpec) -> float:
    """1.0 in the low west (lon <= wide_west_lon) down to 0.45 in the east (lon >= narrow_east_lon)."""
    return float(np.interp(lon, [spec.wide_west_lon, spec.narrow_east_lon], [1.0, 0.45]))


def _variable_buffer(line_wgs: shapely.LineString, width: float, boundary_m: shapely.Geometry, crs: CRS,
                     spec: HazardSpec | None = None) -> shapely.Geometry:
    """Buffer of the line, ``width`` wide (scaled by longitude when ``spec`` is given)."""
    line_m = gpd.GeoSeries([line_wgs], crs=WGS84).to_crs(crs).iloc[0]
    pieces = []
    step = 500.0
    for start in np.arange(0, line_m.length, step):
        piece = substring(line_m, start, min(start + step, line_m.length))
        mid = gpd.GeoSeries([piece.interpolate(0.5, normalized=True)], crs=crs).to_crs(WGS84).iloc[0]
        pieces.append(piece.buffer(width * (_width_scale(mid.x, spec) if spec is not None else 1.0)))
    return shapely.union_all(pieces).intersection(boundary_m)


def _bands(line: shapely.LineString, bands: dict[int, int], boundary_m: shapely.Geometry,
           spec: HazardSpec, crs: CRS) -> list[tuple[int, Any]]:
    """Disjoint (rank, polygon) rings: the deepest rank nearest the river."""
    result, inner = [], shapely.Polygon()
    for rank, width in bands.items():
        outer = _variable_buffer(line, width, boundary_m, crs, spec)
        result.append((rank, outer.difference(inner)))
        inner = outer
    return result


def _to_wgs(geoms: list[shapely.Geometry], crs: CRS) -> list[shapely.Geometry]:
    return list(gpd.GeoSeries(geoms, crs=crs).to_crs(WGS84).make_valid())


def _a31a(group: int, items: list[tuple[int, shapely.Geometry]], spec: HazardSpec, crs: CRS) -> gpd.GeoDataFrame:
    prefix = f"A31a_{group}"
    rows = [
        {f"{prefix}01": spec.river_code, f"{prefix}02": spec.river, f"{prefix}03": "1",
         f"{prefix}04": "国土交通省（デモ）", f"{prefix}05": rank}
        for rank, _ in items
    ]
    return gpd.GeoDataFrame(rows, geometry=_to_wgs([g for _, g in items], crs), crs=WGS84)


def flood_stem(layer: int, spec: HazardSpec) -> str:
    """File stem of an A31a layer (10, 20, 30, 41, 42) of the demo river."""
    return f"A31a-{layer}_demo_{spec.river_file_stem}"


def flood_layers(boundary: shapely.Polygon, spec: HazardSpec, crs: CRS) -> dict[str, gpd.GeoDataFrame]:
    """A31a layers 10/20/30/41/42 for the river (file stem -> frame)."""
    boundary_m = gpd.GeoSeries([boundary], crs=WGS84).to_crs(crs).iloc[0]
    river = _ring_section(boundary, *spec.river_boundary_points, through_north=True)
    flow = _variable_buffer(river, COLLAPSE_FLOW_WIDTH, boundary_m, crs)
    erosion = _variable_buffer(river, COLLAPSE_EROSION_WIDTH, boundary_m, crs)
    return {
        flood_stem(10, spec): _a31a(1, _bands(river, L1_BANDS, boundary_m, spec, crs), spec, crs),
        flood_stem(20, spec): _a31a(2, _bands(river, L2_BANDS, boundary_m, spec, crs), spec, crs),
        flood_stem(30, spec): _a31a(3, _bands(river, DURATION_BANDS, boundary_m, spec, crs), spec, crs),
        flood_stem(41, spec): _a31a(4, [(1, flow)], spec, crs),
        flood_stem(42, spec): _a31a(4, [(2, erosion)], spec, crs),
    }


def _random_point_in(geom_m: shapely.Geometry, rng: np.random.Generator) -> shapely.Point:
    minx, miny, maxx, maxy = geom_m.bounds
    while True:
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom_m.contains(point):
            return point


def inland_pockets(districts: gpd.GeoDataFrame, rng: np.random.Generator, spec: HazardSpec, crs: CRS) -> gpd.GeoDataFrame:
    """内水 pockets (A31a-20 layout, rank 1 rim and rank 2 core) in the low districts."""
    metric = districts.to_crs(crs).set_index("name")
    items: list[tuple[int, shapely.Geometry]] = []
    names = []
    for name in spec.inland_districts:
        area = metric.geometry[name]
        for _ in range(int(rng.integers(2, 4))):
            centre = _random_point_in(area, rng)
            rx, ry = rng.uniform(250, 600), rng.uniform(200, 450)
            angle = rng.uniform(0, 180)
            rim = affinity.rotate(affinity.scale(centre.buffer(1.0, 32), rx, ry), angle)
            core = affinity.scale(rim, 0.45, 0.45)
            items += [(1, rim.difference(core).intersection(area)), (2, core.intersection(area))]
            names += [f"{name}地区内水（デモ）"] * 2
    frame = _a31a(2, items, spec, crs)
    frame["A31a_202"] = names
    return frame


def landslide_zones(boundary: shapely.Polygon, districts: gpd.GeoDataFrame, rng: np.random.Generator,
                    spec: HazardSpec, city: str, prefecture_code: str, crs: CRS) -> gpd.GeoDataFrame:
    """A33 zones on the mountain edge: yellow zones with red (特別警戒区域) cores."""
    edge = _ring_section(boundary, *spec.landslide_edge_points, through_north=False)
    edge_m = gpd.GeoSeries([edge], crs=WGS84).to_crs(crs).iloc[0]
    band = edge_m.buffer(1_200)
    metric = districts.to_crs(crs).set_index("name")
    rows, geoms = [], []
    number = 0
    for name in spec.landslide_districts:
        area = metric.geometry[name].intersection(band)
        if area.is_empty:
            continue
        for _ in range(int(rng.integers(5, 10))):
            number += 1
            kind = int(rng.choice([1, 2, 3], p=[0.55, 0.35, 0.10]))
            length, width = {1: (250, 70), 2: (700, 160), 3: (300, 220)}[kind]
            centre = _random_point_in(area, rng)
            shape = affinity.scale(shapely.box(-0.5, -0.5, 0.5, 0.5), width, length)
            shape = affinity.rotate(shape, rng.uniform(-25, 25))
            yellow = affinity.translate(shape, centre.x, centre.y).intersection(metric.geometry[name])
            red = affinity.scale(yellow, 0.5, 0.6)
            for klass, geom in ((1, yellow.difference(red)), (2, red)):
                if geom.is_empty:
                    continue
                rows.append({
                    "A33_001": kind, "A33_002": klass, "A33_003": prefecture_code,
                    "A33_004": f"DEMO-{number:03d}", "A33_005": f"{name}{number}（デモ）",
                    "A33_006": f"{city}{name}地区",
                })
                geoms.append(geom)
    return gpd.GeoDataFrame(rows, geometry=_to_wgs(geoms, crs), crs=WGS84)
