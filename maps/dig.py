"""The large DIG base map of a 校区 for 図上訓練 (Disaster Imagination Game) and the exercise
grid shared with the inject cards and the interactive exercise map.

The map is drawn in Web Mercator (EPSG:3857), so a GSI tile basemap cropped to
``DigSheet.map_bounds_wgs84`` lies exactly under it. Distances on the sheet are ground metres:
inside one 校区 the Mercator scale factor 1/cos(latitude) is constant to well under 1 %.

``exercise_grid`` is the one place the grid is computed: the cards' map references
(``DigGrid.ref``), the lines on the printed map and the cells on the interactive map all use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from disaster.codes import DEPTH_COLOURS, DEPTH_RANKS, LANDSLIDE_COLOURS, LANDSLIDE_RED_CLASSES, HazardLayer
from maps.static_svg import COLLAPSE_COLOUR, INLAND_COLOUR, rings

MERCATOR = "EPSG:3857"
CELL_SIZES_M = (100, 200, 250, 500, 1000, 2000, 5000)
MAX_CELLS = 10  # per side: few enough to read out loud, fine enough to find a house
MARGIN_M = 150.0  # ground metres of grid around the district's bounds
SCALES = (1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000, 50000, 100000)
LEGEND_MM = 165.0  # width of the legend panel on the right of the sheet
GAP_MM = 6.0
FONT = 'font-family="PlanGothic, PlanGothicFull"'
SAFE_COLOUR = "#1B7F3B"
CLOSED_LABEL = "非公開の訓練用・取扱注意（個人情報）"  # a closed session's map: never 公開用
UNSAFE_COLOUR = "#7A7A7A"
WELFARE_COLOUR = "#1B5E9F"
COLUMNS = "ABCDEFGHIJKLMNOP"

_TO_MERCATOR = Transformer.from_crs("EPSG:4326", MERCATOR, always_xy=True)
_TO_WGS84 = Transformer.from_crs(MERCATOR, "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class DigGrid:
    """Square cells of ``cell_m`` ground metres, columns A.. from west, rows 1.. from north.
    ``x0``/``y0`` is the north-west corner in Web Mercator; ``k`` Mercator units per ground metre."""

    x0: float
    y0: float
    cell_m: float
    cols: int
    rows: int
    k: float

    @property
    def cell(self) -> float:
        return self.cell_m * self.k

    def ref(self, lon: float, lat: float) -> str | None:
        """The cell label (e.g. "C4") of a WGS84 point, None outside the grid."""
        x, y = _TO_MERCATOR.transform(lon, lat)
        col, row = math.floor((x - self.x0) / self.cell), math.floor((self.y0 - y) / self.cell)
        if 0 <= col < self.cols and 0 <= row < self.rows:
            return f"{COLUMNS[col]}{row + 1}"
        return None

    def labels(self) -> list[str]:
        return [f"{COLUMNS[c]}{r + 1}" for r in range(self.rows) for c in range(self.cols)]

    def cell_bounds(self, ref: str) -> tuple[float, float, float, float]:
        """WGS84 (west, south, east, north) of a cell label."""
        col, row = COLUMNS.index(ref[0]), int(ref[1:]) - 1
        if not (0 <= col < self.cols and 0 <= row < self.rows):
            raise ValueError(f"{ref} is not on this grid")
        west, north = _TO_WGS84.transform(self.x0 + col * self.cell, self.y0 - row * self.cell)
        east, south = _TO_WGS84.transform(self.x0 + (col + 1) * self.cell, self.y0 - (row + 1) * self.cell)
        return west, south, east, north

    @property
    def mercator_box(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0 - self.rows * self.cell, self.x0 + self.cols * self.cell, self.y0

    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = self.mercator_box
        west, south = _TO_WGS84.transform(minx, miny)
        east, north = _TO_WGS84.transform(maxx, maxy)
        return west, south, east, north

    def lines_wgs84(self) -> list[list[tuple[float, float]]]:
        """Grid lines as WGS84 (lat, lon) pairs, for Leaflet."""
        minx, miny, maxx, maxy = self.mercator_box
        out = []
        for i in range(self.cols + 1):
            x = minx + i * self.cell
            out.append([_latlon(x, miny), _latlon(x, maxy)])
        for j in range(self.rows + 1):
            y = maxy - j * self.cell
            out.append([_latlon(minx, y), _latlon(maxx, y)])
        return out


def _latlon(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_WGS84.transform(x, y)
    return lat, lon


def _mercator(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_MERCATOR.transform(xy[:, 0], xy[:, 1])))


def exercise_grid(district: shapely.Geometry) -> DigGrid:
    """The exercise grid of a 校区 (WGS84 polygon): the district's bounds plus a margin, cut in
    square cells of the smallest round size that keeps at most ``MAX_CELLS`` per side."""
    lat0 = district.centroid.y
    k = 1.0 / math.cos(math.radians(lat0))
    minx, miny, maxx, maxy = _mercator(district).bounds
    width_m, height_m = (maxx - minx) / k + 2 * MARGIN_M, (maxy - miny) / k + 2 * MARGIN_M
    cell_m = next((c for c in CELL_SIZES_M if max(width_m, height_m) / c <= MAX_CELLS), CELL_SIZES_M[-1])
    cols, rows = max(1, math.ceil(width_m / cell_m)), max(1, math.ceil(height_m / cell_m))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return DigGrid(cx - cols * cell_m * k / 2, cy + rows * cell_m * k / 2, float(cell_m), cols, rows, k)


def exercise_grid_bounds(district: shapely.Geometry) -> tuple[float, float, float, float]:
    """WGS84 bounds of the exercise grid (as on the DIG map)."""
    return exercise_grid(district).bounds_wgs84()


@dataclass(frozen=True)
class DigShelter:
    """A shelter on the DIG map. ``safe``: usable in heavy rain at its own location."""

    name: str
    lon: float
    lat: float
    safe: bool = True
    welfare: bool = False


@dataclass(frozen=True)
class DigSheet:
    """Where the map sits on the sheet: map frame (mm, from the top-left), the scale and what
    the frame shows (Web Mercator box and its WGS84 bounds, for a tile basemap)."""

    width_mm: float
    height_mm: float
    map_width_mm: float
    map_height_mm: float
    scale: int  # 1:scale
    box: tuple[float, float, float, float]  # Web Mercator of the map frame
    grid: DigGrid = field(repr=False)

    @property
    def map_bounds_wgs84(self) -> tuple[float, float, float, float]:
        west, south = _TO_WGS84.transform(self.box[0], self.box[1])
        east, north = _TO_WGS84.transform(self.box[2], self.box[3])
        return west, south, east, north

    def map_px(self, dpi: int = 150) -> tuple[int, int]:
        """Pixel size of a basemap image for the map frame at ``dpi``."""
        return round(self.map_width_mm / 25.4 * dpi), round(self.map_height_mm / 25.4 * dpi)

    @property
    def mm_per_unit(self) -> float:
        return self.map_width_mm / (self.box[2] - self.box[0])

    def xy(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Web Mercator -> mm on the sheet."""
        f = self.mm_per_unit
        return (np.asarray(x) - self.box[0]) * f, (self.box[3] - np.asarray(y)) * f

    def to_sheet(self, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = _TO_MERCATOR.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        return self.xy(x, y)


def dig_sheet(district: shapely.Geometry, width_mm: float, height_mm: float) -> DigSheet:
    """Lay the whole exercise grid (and so the whole 校区) out on a sheet: the map frame left of
    the legend panel, at the largest round scale that fits the grid."""
    grid = exercise_grid(district)
    map_w, map_h = width_mm - LEGEND_MM - GAP_MM, height_mm
    grid_w_m, grid_h_m = grid.cols * grid.cell_m, grid.rows * grid.cell_m
    scale = next((s for s in SCALES if grid_w_m * 1000 / s <= map_w - 16 and grid_h_m * 1000 / s <= map_h - 16), SCALES[-1])
    half_w, half_h = map_w * scale / 1000 * grid.k / 2, map_h * scale / 1000 * grid.k / 2
    gx0, gy0, gx1, gy1 = grid.mercator_box
    cx, cy = (gx0 + gx1) / 2, (gy0 + gy1) / 2
    return DigSheet(width_mm, height_mm, map_w, map_h, scale, (cx - half_w, cy - half_h, cx + half_w, cy + half_h), grid)


def _path(geom: shapely.Geometry, sheet: DigSheet, closed: bool = True) -> str:
    commands = []
    for coords, polygon in rings(geom):
        xs, ys = sheet.xy(coords[:, 0], coords[:, 1])
        points = " ".join(f"{x:.1f} {y:.1f}" for x, y in zip(xs, ys, strict=True))
        commands.append(f"M{points}" + ("Z" if closed and polygon else ""))
    return "".join(commands)


def _text(x: float, y: float, text: str, size: float, fill: str = "#000000", anchor: str = "start",
          halo: bool = True, extra: str = "") -> str:
    base = f'x="{x:.1f}" y="{y:.1f}" font-size="{size:.1f}" {FONT} text-anchor="{anchor}" {extra}'
    out = ""
    if halo:
        out += (f'<text {base} fill="#FFFFFF" stroke="#FFFFFF" stroke-width="{size * 0.25:.2f}" '
                f'stroke-linejoin="round">{escape(text)}</text>')
    return out + f'<text {base} fill="{fill}">{escape(text)}</text>'


def _zone_style(zone: dict[str, object], opacity: float) -> tuple[str, str, str] | None:
    """(legend key, label, SVG style) of a hazard zone, None when not drawn."""
    layer = zone["layer"]
    if layer == HazardLayer.FLOOD_L2_DEPTH.value:
        rank = int(zone["rank"] or 1)  # type: ignore[call-overload]
        return (f"depth{rank}", f"洪水 浸水{DEPTH_RANKS[rank][0]}",
                f'fill="{DEPTH_COLOURS.get(rank, DEPTH_COLOURS[1])}" fill-opacity="{opacity}" stroke="none"')
    if layer == HazardLayer.INLAND_FLOOD.value:
        return "inland", "内水（大雨で水路・側溝があふれる）", f'fill="{INLAND_COLOUR}" fill-opacity="{opacity * 0.8:.2f}" stroke="none"'
    if layer in (HazardLayer.COLLAPSE_FLOW.value, HazardLayer.COLLAPSE_EROSION.value):
        return ("collapse", "家屋倒壊等氾濫想定区域（斜線）",
                f'fill="url(#collapse)" stroke="{COLLAPSE_COLOUR}" stroke-width="0.3"')
    if layer == HazardLayer.LANDSLIDE.value:
        red = int(zone["landslide_class"] or 0) in LANDSLIDE_RED_CLASSES  # type: ignore[call-overload]
        colour = LANDSLIDE_COLOURS["red" if red else "yellow"]
        return (("slide_red", "土砂災害特別警戒区域") if red else ("slide_yellow", "土砂災害警戒区域")) + (
            f'fill="{colour}" fill-opacity="{opacity:.2f}" stroke="{colour}" stroke-width="0.3"',)
    return None


LAYER_ORDER = {HazardLayer.FLOOD_L2_DEPTH.value: 0, HazardLayer.INLAND_FLOOD.value: 1, HazardLayer.COLLAPSE_FLOW.value: 2,
               HazardLayer.COLLAPSE_EROSION.value: 2, HazardLayer.LANDSLIDE.value: 3}


def _zones(zones: gpd.GeoDataFrame, sheet: DigSheet, opacity: float) -> tuple[list[str], dict[str, tuple[str, str]]]:
    if not len(zones):
        return [], {}
    keep = zones[zones["layer"].isin(list(LAYER_ORDER))].copy()
    keep["order"] = keep["layer"].map(LAYER_ORDER) * 10 + keep["rank"].fillna(0) + keep["landslide_class"].fillna(0)
    keep = keep.sort_values("order", kind="stable")
    frame = shapely.box(*sheet.box)
    tolerance = 0.25 / sheet.mm_per_unit  # a quarter millimetre on paper
    parts: list[str] = []
    legend: dict[str, tuple[str, str]] = {}
    for zone, geom in zip(keep.to_dict("records"), keep.geometry, strict=True):
        style = _zone_style(zone, opacity)
        if style is None or geom is None:
            continue
        shape = shapely.clip_by_rect(shapely.simplify(_mercator(geom), tolerance), *frame.bounds)
        if shape.is_empty:
            continue
        legend[style[0]] = (style[1], style[2])
        parts.append(f'<path d="{_path(shape, sheet)}" {style[2]} fill-rule="evenodd"/>')
    return parts, legend


def dig_svg(district: shapely.Geometry, zones: gpd.GeoDataFrame, shelters: list[DigShelter],
            width_mm: float, height_mm: float, monochrome: bool = False, *, name: str = "",
            neighbours: list[tuple[str, shapely.Geometry]] | None = None,
            basemap_uri: str | None = None, attribution: str | None = None, closed: bool = False) -> str:
    """A large DIG base map of a 校区: the whole district at a round scale, hazards, shelters
    (usable in heavy rain or not), neighbouring 校区 names, the exercise grid, a legend, scale and
    north arrow; no people. With ``basemap_uri`` (a PNG data URI covering
    ``dig_sheet(...).map_bounds_wgs84`` in Web Mercator) roads, waterways and place names show
    under the hazards, and ``attribution`` is printed.

    ``district`` and ``zones`` are WGS84. ``closed``: for a closed session (名簿 names on the
    stickers): the sheet says 取扱注意, never that it is for the public."""
    sheet = dig_sheet(district, width_mm, height_mm)
    mw, mh = sheet.map_width_mm, sheet.map_height_mm
    opacity = 0.4 if basemap_uri else 0.85  # let roads and names of the basemap show through
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             f'width="{width_mm}mm" height="{height_mm}mm" viewBox="0 0 {width_mm} {height_mm}" class="dig-map">',
             f'<defs><clipPath id="frame"><rect x="0" y="0" width="{mw:.1f}" height="{mh:.1f}"/></clipPath>',
             f'<pattern id="collapse" patternUnits="userSpaceOnUse" width="2.5" height="2.5" patternTransform="rotate(45)">'
             f'<line x1="0" y1="0" x2="0" y2="2.5" stroke="{"#404040" if monochrome else COLLAPSE_COLOUR}" '
             'stroke-width="0.5"/></pattern></defs>',
             f'<rect x="0" y="0" width="{width_mm}" height="{height_mm}" fill="#FFFFFF"/>',
             '<g clip-path="url(#frame)">']
    if basemap_uri:
        parts.append(f'<image x="0" y="0" width="{mw:.1f}" height="{mh:.1f}" preserveAspectRatio="none" '
                     f'xlink:href="{escape(basemap_uri)}" href="{escape(basemap_uri)}"/>')
    zone_parts, legend = _zones(zones, sheet, opacity)
    if monochrome:
        zone_parts = [_grey(p) for p in zone_parts]
    parts += zone_parts
    outline = _mercator(district)
    # the 校区 outside ours is dimmed so the district reads at a glance
    outside = shapely.difference(shapely.box(*sheet.box).buffer(10), outline)
    parts.append(f'<path d="{_path(outside, sheet)}" fill="#FFFFFF" fill-opacity="0.45" fill-rule="evenodd" stroke="none"/>')
    for other, geom in neighbours or []:
        point = shapely.clip_by_rect(_mercator(geom), *sheet.box)
        if point.is_empty or other == name:
            continue
        px, py = sheet.xy(*point.representative_point().coords[0])
        parts.append(_text(float(px), float(py), f"{other}校区", 7, "#666666", "middle"))
    parts.append(f'<path id="district" d="{_path(outline, sheet)}" fill="none" stroke="#000000" stroke-width="1.2" '
                 'stroke-dasharray="6,3" stroke-linejoin="round"/>')
    grid_parts, reserved = _grid(sheet)
    parts += grid_parts
    parts += _shelters(shelters, sheet, monochrome, reserved)
    parts.append("</g>")
    parts.append(f'<rect x="0" y="0" width="{mw:.1f}" height="{mh:.1f}" fill="none" stroke="#000000" stroke-width="0.6"/>')
    parts += _scale_bar(sheet)
    parts += _north_arrow(mw - 14, 10)
    if attribution:
        parts.append(_text(mw - 3, mh - 3, attribution, 4.2, "#333333", "end"))
    parts += _legend(sheet, name, legend, shelters, monochrome, attribution, off_sheet(district, shelters, sheet), closed)
    parts.append("</svg>")
    return "".join(parts)


def _grid(sheet: DigSheet) -> tuple[list[str], list[tuple[float, float, float, float]]]:
    """The grid lines and their labels, and the boxes the labels take (for placing names)."""
    grid = sheet.grid
    gx0, gy0, gx1, gy1 = grid.mercator_box
    (left, right), (top, bottom) = sheet.xy(np.array([gx0, gx1]), np.array([gy1, gy0]))
    step = (right - left) / grid.cols
    out = []
    boxes: list[tuple[float, float, float, float]] = []
    for i in range(grid.cols + 1):
        x = left + i * step
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#555555" stroke-width="0.35"/>')
    for j in range(grid.rows + 1):
        y = top + j * step
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="#555555" stroke-width="0.35"/>')
    size = min(9.0, step * 0.28)

    def label(x: float, y: float, text: str, anchor: str) -> None:
        width = size * 0.7 * len(text)
        x0 = x - width / 2 if anchor == "middle" else (x - width if anchor == "end" else x)
        boxes.append((x0 - 1, y - size, x0 + width + 1, y + 1))
        out.append(_text(x, y, text, size, "#333333", anchor))

    for i in range(grid.cols):
        x = left + (i + 0.5) * step
        label(x, top - 1.5 if top > size + 2 else top + size + 1, COLUMNS[i], "middle")
        label(x, bottom + size + 1 if bottom + size + 2 < sheet.map_height_mm else bottom - 1.5, COLUMNS[i], "middle")
    for j in range(grid.rows):
        y = top + (j + 0.5) * step + size * 0.35
        label(left - 1.5 if left > size + 2 else left + 1.5, y, str(j + 1), "end" if left > size + 2 else "start")
        label(right + 1.5, y, str(j + 1), "start")
    return out, boxes


def _shelter_symbol(x: float, y: float, shelter: DigShelter, monochrome: bool, r: float = 2.6) -> str:
    if shelter.welfare:
        colour = "#000000" if monochrome else WELFARE_COLOUR
        shape = f'<polygon points="{x:.1f},{y - r * 1.3:.1f} {x + r * 1.3:.1f},{y:.1f} {x:.1f},{y + r * 1.3:.1f} {x - r * 1.3:.1f},{y:.1f}"'
    else:
        colour = ("#000000" if monochrome else SAFE_COLOUR) if shelter.safe else ("#FFFFFF" if monochrome else UNSAFE_COLOUR)
        shape = f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}"'
    out = f'{shape} fill="{colour}" stroke="{"#000000" if monochrome else "#FFFFFF"}" stroke-width="0.5"/>'
    if not shelter.safe:  # a cross: not used in heavy rain
        out += (f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} {y + r:.1f}L{x + r:.1f} {y - r:.1f}" '
                f'stroke="{"#000000" if monochrome else "#C00000"}" stroke-width="0.9"/>')
    return out


def _shelters(shelters: list[DigShelter], sheet: DigSheet, monochrome: bool,
              reserved: list[tuple[float, float, float, float]] | None = None) -> list[str]:
    """Shelter symbols and names; each name goes right, left, below or above its symbol,
    wherever it overlaps no name placed before and stays inside the frame."""
    if not shelters:
        return []
    xs, ys = sheet.to_sheet(np.array([s.lon for s in shelters]), np.array([s.lat for s in shelters]))
    size = 5.2
    placed: list[tuple[float, float, float, float]] = list(reserved or [])
    symbols, labels = [], []
    for shelter, x, y in zip(shelters, xs, ys, strict=True):
        x, y = float(x), float(y)
        if not (3 <= x <= sheet.map_width_mm - 3 and 3 <= y <= sheet.map_height_mm - 3):
            continue
        symbols.append(_shelter_symbol(x, y, shelter, monochrome))
        placed.append((x - 3, y - 3, x + 3, y + 3))
    for shelter, x, y in zip(shelters, xs, ys, strict=True):
        x, y = float(x), float(y)
        if not (3 <= x <= sheet.map_width_mm - 3 and 3 <= y <= sheet.map_height_mm - 3):
            continue
        width = len(shelter.name) * size * 0.95  # CJK text: about one em per character
        options = [(x + 4, y + 1.8, "start"), (x - 4, y + 1.8, "end")]
        for dy in (8.5, -4.5, 14.5, -10.5):  # below / above: centred, then flush left, then flush right
            options += [(x - width / 2, y + dy, "start"), (x - 3, y + dy, "start"), (x + 3, y + dy, "end")]
        chosen = None
        for tx, ty, anchor in options:
            left = tx - width if anchor == "end" else tx
            box = (left, ty - size, left + width, ty + 1)
            inside = box[0] >= 1 and box[2] <= sheet.map_width_mm - 1 and box[1] >= 1 and box[3] <= sheet.map_height_mm - 1
            free = not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed
                           if not (b[0] <= x <= b[2] and b[1] <= y <= b[3]))
            if inside and free:
                chosen = (tx, ty, anchor, box)
                break
        if chosen is None:
            tx, ty, anchor = options[0] if x + 4 + width < sheet.map_width_mm - 1 else options[1]
            left = tx - width if anchor == "end" else tx
            chosen = (tx, ty, anchor, (left, ty - size, left + width, ty + 1))
        placed.append(chosen[3])
        labels.append(_text(chosen[0], chosen[1], shelter.name, size, anchor=chosen[2]))
    return symbols + labels


def _scale_bar(sheet: DigSheet) -> list[str]:
    metres_per_mm = sheet.scale / 1000
    length_m = max(v for v in (50, 100, 200, 250, 500, 1000, 2000, 5000) if v / metres_per_mm <= 70)
    length = length_m / metres_per_mm
    x, y = 6.0, sheet.map_height_mm - 8
    label = f"{length_m // 1000}km" if length_m >= 1000 else f"{length_m}m"
    return [
        f'<rect x="{x - 2:.1f}" y="{y - 7:.1f}" width="{length + 24:.1f}" height="11" fill="#FFFFFF" fill-opacity="0.85"/>',
        f'<rect x="{x:.1f}" y="{y - 1.2:.1f}" width="{length / 2:.1f}" height="1.6" fill="#000000"/>',
        f'<rect x="{x + length / 2:.1f}" y="{y - 1.2:.1f}" width="{length / 2:.1f}" height="1.6" fill="#FFFFFF" stroke="#000000" stroke-width="0.3"/>',
        _text(x, y - 2.5, "0", 4, halo=False),
        _text(x + length + 2, y + 0.5, label, 4.5, halo=False),
        _text(x + length / 2, y + 4.3, f"1:{sheet.scale:,}", 3.6, anchor="middle", halo=False),
    ]


def _north_arrow(x: float, y: float, s: float = 8.0) -> list[str]:
    return [
        f'<circle cx="{x:.1f}" cy="{y + s * 0.8:.1f}" r="{s * 1.1:.1f}" fill="#FFFFFF" fill-opacity="0.85"/>',
        f'<polygon points="{x:.1f},{y:.1f} {x - s / 2:.1f},{y + s * 1.4:.1f} {x:.1f},{y + s:.1f} {x + s / 2:.1f},{y + s * 1.4:.1f}" fill="#000000"/>',
        _text(x, y - 1.5, "N", 5, anchor="middle", halo=False),
    ]


COMPASS = ("北", "北東", "東", "南東", "南", "南西", "西", "北西")
OFF_SHEET_LISTED = 4


def off_sheet(district: shapely.Geometry, shelters: list[DigShelter], sheet: DigSheet) -> list[str]:
    """Usable shelters beyond the map frame, nearest first, as 「名前（南西へ約3.1km）」 from the
    district's centre: the places injects may send people to must be findable from the sheet."""
    minx, miny, maxx, maxy = sheet.map_bounds_wgs84
    centre = district.centroid
    found = []
    for s in shelters:
        if s.safe and not (minx <= s.lon <= maxx and miny <= s.lat <= maxy):
            east = (s.lon - centre.x) * 111_320 * math.cos(math.radians(centre.y))
            north = (s.lat - centre.y) * 110_574
            bearing = math.degrees(math.atan2(east, north)) % 360
            found.append((math.hypot(east, north), f"{s.name}（{COMPASS[round(bearing / 45) % 8]}へ約{math.hypot(east, north) / 1000:.1f}km）"))
    return [label for _, label in sorted(found)[:OFF_SHEET_LISTED]]


def _legend(sheet: DigSheet, name: str, zones: dict[str, tuple[str, str]], shelters: list[DigShelter],
            monochrome: bool, attribution: str | None, beyond: list[str], closed: bool = False) -> list[str]:
    x0 = sheet.map_width_mm + GAP_MM
    width = LEGEND_MM
    out = [f'<rect x="{x0:.1f}" y="0" width="{width:.1f}" height="{sheet.map_height_mm:.1f}" fill="#FFFFFF" '
           'stroke="#000000" stroke-width="0.6"/>']
    y = 14.0
    out.append(_text(x0 + 6, y, (f"{name}校区　DIG 基図" if name else "DIG 基図") + ("　" + CLOSED_LABEL if closed else ""), 9,
                     halo=False))
    y += 9
    out.append(_text(x0 + 6, y, f"縮尺 1:{sheet.scale:,}　1マス = {sheet.grid.cell_m:,.0f}m 四方", 5.5, halo=False))
    y += 12
    out.append(_text(x0 + 6, y, "凡例", 7, halo=False))
    y += 4
    order = [*(f"depth{r}" for r in sorted(DEPTH_RANKS)), "inland", "collapse", "slide_yellow", "slide_red"]
    for key in order:
        if key not in zones:
            continue
        label, style = zones[key]
        style = re.sub(r'fill-opacity="[0-9.]+"', 'fill-opacity="0.85"', style)
        swatch = f'<rect x="{x0 + 6:.1f}" y="{y:.1f}" width="12" height="7" {style}/>'
        out.append(_grey(swatch) if monochrome else swatch)
        out.append(f'<rect x="{x0 + 6:.1f}" y="{y:.1f}" width="12" height="7" fill="none" stroke="#666666" stroke-width="0.2"/>')
        out.append(_text(x0 + 22, y + 5.5, label, 5, halo=False))
        y += 10
    samples = [(DigShelter("", 0, 0, True, False), "避難所（大雨のときも使える場所）")]
    if any(not s.safe and not s.welfare for s in shelters):
        samples.append((DigShelter("", 0, 0, False, False), "避難所（×：想定区域の中。大雨のときは使わない）"))
    if any(s.welfare for s in shelters):
        samples.append((DigShelter("", 0, 0, True, True), "福祉避難所"))
    if any(s.welfare and not s.safe for s in shelters):
        samples.append((DigShelter("", 0, 0, False, True), "福祉避難所（×：大雨のときは使わない）"))
    for sample, label in samples:
        out.append(_shelter_symbol(x0 + 12, y + 3.5, sample, monochrome))
        out.append(_text(x0 + 22, y + 5.5, label, 5, halo=False))
        y += 10
    out.append(f'<line x1="{x0 + 6:.1f}" y1="{y + 3.5:.1f}" x2="{x0 + 18:.1f}" y2="{y + 3.5:.1f}" stroke="#000000" '
               'stroke-width="1.2" stroke-dasharray="6,3"/>')
    out.append(_text(x0 + 22, y + 5.5, f"{name}校区の境界" if name else "校区の境界", 5, halo=False))
    y += 10
    out.append(f'<rect x="{x0 + 6:.1f}" y="{y:.1f}" width="12" height="7" fill="none" stroke="#555555" stroke-width="0.35"/>')
    out.append(_text(x0 + 22, y + 5.5, "格子（A1 など）：状況付与カードの「地図」欄と同じ", 5, halo=False))
    y += 16
    notes = [
        "この地図に個人の名前・住所は載せていません。",
        *(("手助けが必要な人は、同意を得た人の氏名のシール", "　（人物シート）を地図づくり③のときに貼ります。",
           "訓練が終わったら回収して処分します。") if closed else
          ("手助けが必要な人は、仮名のシール（人物シート）で", "　地図づくり③のときに貼ります。")),
        "避難所の×は、洪水・内水・土砂災害の想定区域の",
        "　中にあり、大雨のときは使わないことを示します。",
        "浸水の色は想定最大規模（L2）の浸水の深さです。",
    ]
    if not attribution:
        notes.append("背景地図なし：道路・水路は透明シートに書き込みます。")
    if beyond:
        notes.append("地図の外の、大雨のときも使える避難所（校区の中心から）：")
        notes += [f"　{label}" for label in beyond]
    for line in notes:
        out.append(_text(x0 + 6, y, line, 4.6, "#333333", halo=False))
        y += 7
    if attribution:
        out.append(_text(x0 + 6, sheet.map_height_mm - 8, f"背景地図：{attribution}", 4.4, "#333333", halo=False))
    return out


def _grey(element: str) -> str:
    """Monochrome printing: hazard fills become grey levels."""
    for colour, grey in ((LANDSLIDE_COLOURS["red"], "#404040"), (LANDSLIDE_COLOURS["yellow"], "#A0A0A0"), (COLLAPSE_COLOUR, "#404040"),
                         (INLAND_COLOUR, "#C8C8C8"), *((c, g) for c, g in zip(DEPTH_COLOURS.values(),
                         ("#EEEEEE", "#D8D8D8", "#BEBEBE", "#A4A4A4", "#8A8A8A", "#707070"), strict=True))):
        element = element.replace(f'"{colour}"', f'"{grey}"')
    return element
