"""The large DIG base map of a 校区 for 図上訓練 (Disaster Imagination Game) and the exercise
grid shared with the inject cards and the interactive exercise map."""

from __future__ import annotations

from html import escape

import geopandas as gpd
import shapely

from disaster.codes import DEPTH_COLOURS, LANDSLIDE_COLOURS
from disaster.geo import METRIC_CRS, WGS84
from maps.static_svg import INLAND_COLOUR, StaticMapPainter, _fit, _north_arrow, _path, _scale_bar, _xy


def dig_svg(district: shapely.Geometry, zones: gpd.GeoDataFrame, shelters: list[tuple[str, float, float]],
            width_mm: float, height_mm: float, monochrome: bool = False, grid: int = 6) -> str:
    """A large DIG base map of a 校区: hazards, shelters with names, a lettered grid; no people.

    ``district`` and ``zones`` are WGS84; ``shelters`` are (name, lon, lat)."""
    metric = gpd.GeoSeries([district], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    minx, miny, maxx, maxy = metric.buffer(200).bounds
    width, height = _fit(maxx - minx, maxy - miny, width_mm / height_mm)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    unit = width / width_mm
    painter = StaticMapPainter(zones, gpd.GeoDataFrame({"name": ["d"]}, geometry=[district], crs=WGS84))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
             f'viewBox="0 0 {width:.0f} {height:.0f}">',
             f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#FFFFFF"/>']
    zone_parts = painter._zones(box, unit)
    if monochrome:
        zone_parts = [_grey(p) for p in zone_parts]
    parts += zone_parts
    parts.append(f'<path d="{_path(metric.boundary, box, closed=False)}" fill="none" stroke="#000000" '
                 f'stroke-width="{unit * 1.2:.1f}" stroke-dasharray="{unit * 6:.0f},{unit * 3:.0f}"/>')
    # the exercise grid spans the district's bounds + 200 m (the same cells as the exercise map)
    gx0, gy0 = _xy(minx, maxy, box)
    gx1, gy1 = _xy(maxx, miny, box)
    for i in range(grid + 1):
        x, y = gx0 + (gx1 - gx0) * i / grid, gy0 + (gy1 - gy0) * i / grid
        parts.append(f'<line x1="{x:.0f}" y1="{gy0:.0f}" x2="{x:.0f}" y2="{gy1:.0f}" stroke="#888888" stroke-width="{unit * 0.4:.1f}"/>')
        parts.append(f'<line x1="{gx0:.0f}" y1="{y:.0f}" x2="{gx1:.0f}" y2="{y:.0f}" stroke="#888888" stroke-width="{unit * 0.4:.1f}"/>')
    for i in range(grid):
        parts.append(f'<text x="{gx0 + (gx1 - gx0) * (i + 0.45) / grid:.0f}" y="{gy0 + unit * 10:.0f}" font-size="{unit * 9:.0f}" '
                     f'font-family="PlanGothic" fill="#444444">{"ABCDEFGH"[i]}</text>')
        parts.append(f'<text x="{gx0 + unit * 2:.0f}" y="{gy0 + (gy1 - gy0) * (i + 0.55) / grid:.0f}" font-size="{unit * 9:.0f}" '
                     f'font-family="PlanGothic" fill="#444444">{i + 1}</text>')
    points = gpd.GeoSeries.from_xy([s[1] for s in shelters], [s[2] for s in shelters], crs=WGS84).to_crs(METRIC_CRS)
    for (name, _, _), x0, y0 in zip(shelters, points.x, points.y, strict=True):
        x, y = _xy(x0, y0, box)
        if not (0 <= x <= width and 0 <= y <= height):
            continue
        r = unit * 3
        parts.append(f'<rect x="{x - r:.0f}" y="{y - r:.0f}" width="{2 * r:.0f}" height="{2 * r:.0f}" fill="#000000"/>')
        parts.append(f'<text x="{x + r * 1.5:.0f}" y="{y + r:.0f}" font-size="{unit * 6:.0f}" font-family="PlanGothic">'
                     f'{escape(name)}</text>')
    parts += _scale_bar(width, height, unit * 3)
    parts += _north_arrow(width, unit * 3)
    parts.append("</svg>")
    return "".join(parts)


def _grey(element: str) -> str:
    """Monochrome printing: hazard fills become grey levels."""
    for colour, grey in ((LANDSLIDE_COLOURS["red"], "#404040"), (LANDSLIDE_COLOURS["yellow"], "#A0A0A0"),
                         (INLAND_COLOUR, "#C8C8C8"), *((c, g) for c, g in zip(DEPTH_COLOURS.values(),
                         ("#EEEEEE", "#D8D8D8", "#BEBEBE", "#A4A4A4", "#8A8A8A", "#707070"), strict=True))):
        element = element.replace(f'"{colour}"', f'"{grey}"')
    return element


def exercise_grid_bounds(district: shapely.Geometry) -> tuple[float, float, float, float]:
    """WGS84 bounds of the exercise grid: the district's bounds + 200 m (as on the DIG map)."""
    metric = gpd.GeoSeries([district], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    corners = gpd.GeoSeries([shapely.box(*metric.buffer(200).bounds)], crs=METRIC_CRS).to_crs(WGS84).iloc[0]
    return corners.bounds
