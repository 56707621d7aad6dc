"""Static SVG maps for printed plans: a tile basemap when available (maps/tiles.py; roads and
place names), hazards in the MLIT palette, home, destination and the route, district boundary,
scale bar, north arrow and a coloured legend that lists exactly what is drawn.

The map is drawn in the city's metric CRS (``CityProfile.crs``; viewBox units are metres; 1 mm on
paper = ``unit`` metres). The basemap is warped onto that CRS by ``TileSource.basemap(..., crs=...)``
so overlays line up with the tiles. Without tiles (offline, nothing cached) the map is drawn from
the stored geodata only, as before; WeasyPrint runs no JavaScript and the SVG fetches nothing
(the basemap is an inline data URI)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from disaster.codes import DEPTH_COLOURS, DEPTH_RANKS, LANDSLIDE_COLOURS, LANDSLIDE_RED_CLASSES, HazardLayer
from disaster.geo import WGS84

if TYPE_CHECKING:
    from maps.tiles import Basemap, TileSource

SIMPLIFY_M = 8.0
MAP_ASPECT = 92.0 / 66.0
PADDING_M = 350.0
INLAND_COLOUR = "#7FB2E5"
COLLAPSE_COLOUR = "#C00000"
BASEMAP_PX_PER_MM = 4.0  # ~100 dpi: the tiles' own labels print about their screen size (~3 mm)
ROUTE_COLOUR = "#111111"
STRAIGHT_LABEL = "直線（経路は要確認）"
ROAD_LABEL = "経路"
DISTRICT_LABEL = "校区の境界"
MARKER_STYLE = {"home": ("#D7263D", "circle", "自宅"), "destination": ("#1B7F3B", "square", "避難先"),
                "second": ("#1B5E9F", "square", "第2の避難先")}
# (fill opacity without / with a basemap under the hazards)
OPACITY = {"depth": (1.0, 0.6), "inland": (0.7, 0.55), "landslide": (0.85, 0.6)}
LABEL_MM, LEGEND_MM, NOTE_MM = 4.0, 3.2, 2.4  # text sizes on paper (times text_scale)
LEGEND_MAX_SHARE = 0.36  # of the SVG's height; beyond it the legend's type shrinks (to 70 % at most)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Marker:
    lon: float
    lat: float
    label: str
    kind: str  # home / destination / second


@dataclass(frozen=True)
class Route:
    """The way from home to the destination (WGS84 lon/lat pairs). ``is_road``: it follows the
    road graph; otherwise it is a straight line and the map says the route must be checked."""

    coords: list[tuple[float, float]]
    is_road: bool = False


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: ``kind`` is fill / hatch / line / dashed / outline / circle / square."""

    kind: str
    colour: str
    label: str
    opacity: float = 1.0


class StaticMapPainter:
    """Paints many small maps over the same hazard data (prepared once per process).

    ``crs``: the city's metric CRS, in which the maps are drawn. ``tiles``: the basemap tile source (default: ``maps.tiles.default_source()`` from the settings,
    resolved per map); ``basemap=False`` never draws one."""

    def __init__(self, zones: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, crs: CRS, tiles: TileSource | None = None,
                 basemap: bool = True):
        self.crs = crs
        self._to_metric = Transformer.from_crs(WGS84, crs, always_xy=True)
        metric = zones.to_crs(crs).reset_index(drop=True) if len(zones) else zones
        order = {HazardLayer.FLOOD_L2_DEPTH.value: 0, HazardLayer.INLAND_FLOOD.value: 1,
                 HazardLayer.COLLAPSE_FLOW.value: 2, HazardLayer.COLLAPSE_EROSION.value: 2,
                 HazardLayer.LANDSLIDE.value: 3}
        keep = metric[metric["layer"].isin(order)].copy() if len(metric) else metric
        if len(keep):
            keep["order"] = keep["layer"].map(order) * 10 + keep["rank"].fillna(0) + keep["landslide_class"].fillna(0)
            keep = keep.sort_values("order", kind="stable").reset_index(drop=True)
            keep["geometry"] = shapely.simplify(keep.geometry.values, SIMPLIFY_M)
        self.zones = keep
        self._geoms = np.asarray(keep.geometry.values, dtype=object) if len(keep) else np.empty(0, dtype=object)
        self._keys = [_hazard_key(layer, rank, cls) for layer, rank, cls in
                      zip(keep["layer"], keep["rank"], keep["landslide_class"], strict=True)] if len(keep) else []
        self.zone_tree = shapely.STRtree(keep.geometry.values) if len(keep) else None
        self.districts = districts.to_crs(crs).reset_index(drop=True)
        self.district_tree = shapely.STRtree(self.districts.geometry.values)
        self._outlines = shapely.boundary(np.asarray(self.districts.geometry.values, dtype=object))
        self.tiles = tiles
        self.use_basemap = basemap

    def _points(self, markers: list[Marker]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self._to_metric.transform([m.lon for m in markers], [m.lat for m in markers])
        return np.atleast_1d(np.asarray(xs, dtype=float)), np.atleast_1d(np.asarray(ys, dtype=float))

    def _box(self, markers: list[Marker], aspect: float = MAP_ASPECT, route: Route | None = None) -> Box:
        xs, ys = self._points(markers)
        if route is not None and len(route.coords) >= 2:
            rx, ry = self._to_metric.transform([c[0] for c in route.coords], [c[1] for c in route.coords])
            xs, ys = np.concatenate([xs, rx]), np.concatenate([ys, ry])
        # at least PADDING_M around the points, and ~9 % of the map on wide maps (markers and
        # their labels stay clear of the frame at any scale)
        pad = max(PADDING_M, 0.09 * max(xs.max() - xs.min(), (ys.max() - ys.min()) * aspect))
        minx, maxx = xs.min() - pad, xs.max() + pad
        miny, maxy = ys.min() - pad, ys.max() + pad
        width, height = _fit(maxx - minx, maxy - miny, aspect)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2

    def basemap(self, box: Box, width_mm: float, height_mm: float) -> Basemap | None:
        """The tile background for a metric ``box`` drawn ``width_mm`` × ``height_mm`` (or None)."""
        if not self.use_basemap:
            return None
        from maps.tiles import default_source

        source = self.tiles or default_source()
        return source.basemap(box, max(1, round(width_mm * BASEMAP_PX_PER_MM)),
                              max(1, round(height_mm * BASEMAP_PX_PER_MM)), crs=self.crs)

    def svg(self, markers: list[Marker], width_mm: float = 92.0, height_mm: float = 66.0, route: Route | None = None,
            text_scale: float = 1.0) -> str:
        """The map with its legend below it, ``width_mm`` × ``height_mm`` in all. ``route`` (WGS84):
        solid when it follows roads, else dashed and labelled 直線（経路は要確認）; without one, the
        straight line home → destination is drawn and labelled the same way. ``text_scale`` scales
        every text (large print)."""
        if route is not None and len(route.coords) < 2:
            route = None
        band_mm, legend_scale = 0.0, text_scale
        for _ in range(4):  # the legend's height depends on what the map shows, and vice versa
            map_h_mm = height_mm - band_mm
            box = self._box(markers, width_mm / map_h_mm, route)
            unit = (box[2] - box[0]) / width_mm
            _, hazard_items = self._hazards(box, unit, faded=False, paths=False)
            items = self._legend_items(markers, route, hazard_items, box)
            legend_scale = text_scale
            rows = _legend_rows(items, width_mm, legend_scale)
            # the map keeps at least ~60 % of the height: a long legend gets smaller type
            while _band_mm(len(rows), legend_scale) > LEGEND_MAX_SHARE * height_mm and legend_scale > 0.7 * text_scale:
                legend_scale *= 0.92
                rows = _legend_rows(items, width_mm, legend_scale)
            needed = _band_mm(len(rows), legend_scale)
            if abs(needed - band_mm) < 1e-6:
                break
            band_mm = needed
        else:  # no fixed point (rare): keep the larger band and fit the map to it
            band_mm = max(band_mm, needed)
            box = self._box(markers, width_mm / (height_mm - band_mm), route)
            unit = (box[2] - box[0]) / width_mm
        background = self.basemap(box, width_mm, height_mm - band_mm)
        hazard_parts, hazard_items = self._hazards(box, unit, faded=background is not None)
        rows = _legend_rows(self._legend_items(markers, route, hazard_items, box), width_mm, legend_scale)
        width, map_h = box[2] - box[0], box[3] - box[1]
        total_h = map_h + band_mm * unit
        xs, ys = self._points(markers)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
            f'viewBox="0 0 {width:.0f} {total_h:.0f}" class="plan-map">',
            f'<rect x="0" y="0" width="{width:.0f}" height="{total_h:.0f}" fill="#FFFFFF"/>',
        ]
        if background is not None:
            parts.append(f'<image class="basemap" x="0" y="0" width="{width:.0f}" height="{map_h:.0f}" '
                         f'preserveAspectRatio="none" href="{background.data_uri}"/>')
        parts += hazard_parts
        parts += self._districts(box, unit)
        placer = _Placer(width, map_h, unit)
        marker_xy = [_xy(x0, y0, box) for x0, y0 in zip(xs, ys, strict=True)]
        note_h = unit * NOTE_MM * text_scale * 1.6 if background is not None else 0.0
        if background is not None:
            note_w = _text_width(background.attribution, unit * NOTE_MM * text_scale) + unit * 2
            placer.block(width - note_w, map_h - note_h, width, map_h)
        # the north arrow and the scale bar go to corners where no marker is
        arrow_box = (width - unit * 12, unit * 2, width - unit * 4, unit * 14)
        arrow_shift = _corner(arrow_box, ("tr", "tl", "br", "bl"), marker_xy, placer, width, map_h, unit, note_h)
        bar_box = _scale_bar_box(width, map_h, unit)
        bar_shift = _corner(bar_box, ("bl", "tl", "br", "tr"), marker_xy, placer, width, map_h, unit, note_h)
        for x0, y0, marker in zip(xs, ys, markers, strict=True):
            x, y = _xy(x0, y0, box)
            r = unit * (2.6 if marker.kind != "second" else 2.0)
            placer.block(x - r, y - r, x + r, y + r)
        line, is_road = _route_line(markers, xs, ys, route, self._to_metric)
        if line is not None:  # labels try not to cover the route
            for d in np.arange(0, line.length, unit * 3):
                point = line.interpolate(d)
                px, py = _xy(point.x, point.y, box)
                placer.soft.append((px - unit, py - unit, px + unit, py + unit))
        symbols, labels = _markers(xs, ys, markers, box, unit, placer, text_scale)  # names first, then the note
        lines, route_label = _route_lines(line, is_road, box, unit, placer, text_scale)
        parts += lines + symbols
        parts += _moved(_scale_bar(width, map_h, unit), bar_shift)
        parts += _moved([f'<rect x="{arrow_box[0]:.0f}" y="{arrow_box[1]:.0f}" width="{unit * 8:.0f}" height="{unit * 12:.0f}" '
                         f'fill="#FFFFFF" fill-opacity="0.75" rx="{unit:.0f}"/>', *_north_arrow(width, unit)], arrow_shift)
        if background is not None:
            parts += _attribution(background.attribution, width, map_h, unit, text_scale)
        parts += route_label + labels  # on top of everything in the frame
        parts.append(f'<rect x="0" y="0" width="{width:.0f}" height="{map_h:.0f}" fill="none" stroke="#666666" '
                     f'stroke-width="{unit * 0.3:.1f}"/>')
        parts += _legend(rows, map_h, unit, legend_scale)
        parts.append("</svg>")
        return "".join(parts)

    def legend(self, markers: list[Marker]) -> list[tuple[str, str]]:
        """(colour, label) of the hazard classes drawn on the map of ``markers`` (the SVG carries its
        own legend; kept for callers that list them in text)."""
        box = self._box(markers)
        _, items = self._hazards(box, (box[2] - box[0]) / 92.0, faded=False, paths=False)
        full = {_depth_label(rank): f"浸水{DEPTH_RANKS[rank][0]}" for rank in DEPTH_RANKS}
        return [(item.colour, full.get(item.label, item.label)) for item in items]

    def _legend_items(self, markers: list[Marker], route: Route | None, hazards: list[LegendItem],
                      box: Box) -> list[LegendItem]:
        kinds = {m.kind for m in markers}
        # home and destination carry their names on the map; the second option's mark is explained
        items = [LegendItem(MARKER_STYLE[k][1], MARKER_STYLE[k][0], MARKER_STYLE[k][2]) for k in ("second",) if k in kinds]
        if route is not None and route.is_road:
            items.append(LegendItem("line", ROUTE_COLOUR, ROAD_LABEL))
        elif route is not None or {"home", "destination"} <= kinds:
            items.append(LegendItem("dashed", ROUTE_COLOUR, STRAIGHT_LABEL))
        if any(item.kind == "fill" and item.colour in DEPTH_COLOURS.values() for item in hazards):
            items.append(LegendItem("text", "#000000", "浸水の深さ："))
        items += hazards
        if len(self.district_tree.query(shapely.box(*box))):
            items.append(LegendItem("outline", "#555555", DISTRICT_LABEL))
        return items

    def _zones(self, box: Box, unit: float) -> list[str]:
        """Hazard paths (opaque palette, no basemap): used by the DIG map too."""
        return self._hazards(box, unit, faded=False)[0]

    def _hazards(self, box: Box, unit: float, faded: bool, paths: bool = True) -> tuple[list[str], list[LegendItem]]:
        """SVG paths of the hazard zones in ``box`` and the legend items of exactly those drawn
        (``paths=False``: only the legend items, for laying out)."""
        if self.zone_tree is None:
            return [], []
        hits = np.sort(self.zone_tree.query(shapely.box(*box)))
        clipped = shapely.clip_by_rect(self._geoms[hits], *box)
        shown = ~shapely.is_empty(clipped)
        hits, clipped = hits[shown], clipped[shown]
        out = ['<defs><pattern id="collapse" patternUnits="userSpaceOnUse" '
               f'width="{unit * 3:.0f}" height="{unit * 3:.0f}" patternTransform="rotate(45)">'
               f'<line x1="0" y1="0" x2="0" y2="{unit * 3:.0f}" stroke="{COLLAPSE_COLOUR}" stroke-width="{unit * 0.6:.1f}"/>'
               "</pattern></defs>"]
        drawn: dict[tuple[int, int], LegendItem] = {}
        styles: dict[tuple[int, int], str] = {}
        for index, geom in zip(hits, clipped, strict=True):
            key = self._keys[index]
            if key not in drawn:
                drawn[key], styles[key] = _hazard_style(key, unit, faded)
            if paths:
                out.append(f'<path class="zone" d="{_path(geom, box)}" {styles[key]} fill-rule="evenodd"/>')
        return (out if paths else []), [drawn[k] for k in sorted(drawn)]

    def _districts(self, box: tuple[float, float, float, float], unit: float) -> list[str]:
        out = []
        hits = self.district_tree.query(shapely.box(*box))
        for outline in shapely.clip_by_rect(self._outlines[hits], *box):
            if not outline.is_empty:
                out.append(f'<path d="{_path(outline, box, closed=False)}" fill="none" stroke="#555555" '
                           f'stroke-width="{unit * 0.35:.1f}" stroke-dasharray="{unit * 2:.0f},{unit * 1:.0f}"/>')
        return out


def _fit(width: float, height: float, aspect: float) -> tuple[float, float]:
    if width / height < aspect:
        return height * aspect, height
    return width, width / aspect


def _xy(x: float, y: float, box: tuple[float, float, float, float]) -> tuple[float, float]:
    return x - box[0], box[3] - y


def rings(geom: shapely.Geometry) -> Iterator[tuple[np.ndarray, bool]]:
    """(coordinates, is a polygon ring) of every ring and line of ``geom`` with two points or more."""
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            parts, polygon = [part.exterior, *part.interiors], True
        elif part.geom_type in {"LineString", "LinearRing"}:
            parts, polygon = [part], False
        else:
            continue
        for ring in parts:
            coords = np.asarray(ring.coords)
            if len(coords) >= 2:
                yield coords, polygon


def _path(geom: shapely.Geometry, box: tuple[float, float, float, float], closed: bool = True) -> str:
    commands = []
    for coords, polygon in rings(geom):
        flat = np.rint(np.column_stack([coords[:, 0] - box[0], box[3] - coords[:, 1]])).astype(np.int64).ravel()
        points = " ".join(map(str, flat.tolist()))
        commands.append(f"M{points}" + ("Z" if closed and polygon else ""))
    return "".join(commands)


def _hazard_key(layer: str, rank: object, landslide_class: object) -> tuple[int, int]:
    """(legend group, class): (0, depth rank), (1, 0) 内水, (2, 0) 家屋倒壊等, (3, 0/1) landslide yellow/red."""
    if layer == HazardLayer.FLOOD_L2_DEPTH.value:
        value = int(rank) if isinstance(rank, int | float | np.number) and rank == rank else 1
        return 0, value if value in DEPTH_COLOURS else 1
    if layer == HazardLayer.INLAND_FLOOD.value:
        return 1, 0
    if layer == HazardLayer.LANDSLIDE.value:
        value = int(landslide_class) if isinstance(landslide_class, int | float | np.number) and landslide_class == landslide_class else 0
        return 3, int(value in LANDSLIDE_RED_CLASSES)
    return 2, 0


def _hazard_style(key: tuple[int, int], unit: float, faded: bool) -> tuple[LegendItem, str]:
    """The legend item and the SVG paint of a hazard class (the legend swatch uses the same)."""
    group, value = key
    if group == 0:
        opacity = OPACITY["depth"][faded]
        item = LegendItem("fill", DEPTH_COLOURS[value], _depth_label(value), opacity)
        return item, f'fill="{item.colour}" fill-opacity="{opacity}" stroke="none"'
    if group == 1:
        opacity = OPACITY["inland"][faded]
        return (LegendItem("fill", INLAND_COLOUR, "内水の浸水", opacity),
                f'fill="{INLAND_COLOUR}" fill-opacity="{opacity}" stroke="none"')
    if group == 3:
        colour = LANDSLIDE_COLOURS["red" if value else "yellow"]
        opacity = OPACITY["landslide"][faded]
        return (LegendItem("fill", colour, "土砂災害特別警戒区域" if value else "土砂災害警戒区域", opacity),
                f'fill="{colour}" fill-opacity="{opacity}" stroke="{colour}" stroke-width="{unit * 0.2:.1f}"')
    return (LegendItem("hatch", COLLAPSE_COLOUR, "家屋倒壊等氾濫想定区域"),
            f'fill="url(#collapse)" stroke="{COLLAPSE_COLOUR}" stroke-width="{unit * 0.2:.1f}"')


def _depth_label(rank: int) -> str:
    """Short depth class for the legend (after the heading 浸水の深さ), e.g. 0.5〜3m."""
    _, low, high = DEPTH_RANKS[rank]
    if not low:
        return f"{high:g}m未満"
    return f"{low:g}m以上" if high is None else f"{low:g}〜{high:g}m"


def _text_width(text: str, size: float) -> float:
    """Estimated advance of ``text`` at font ``size`` (full-width characters 1 em, others ~0.6 em)."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


class _Placer:
    """Places labels inside the map frame, avoiding the markers, the scale bar, the north arrow,
    the attribution and each other."""

    def __init__(self, width: float, height: float, unit: float):
        self.width, self.height, self.margin = width, height, unit * 1.0
        self.taken: list[Box] = []
        self.soft: list[Box] = []  # better not covered (the route), but allowed

    def block(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.taken.append((x0, y0, x1, y1))

    def place(self, candidates: list[tuple[float, float]], w: float, h: float) -> tuple[float, float]:
        """Top-left corner of a ``w`` × ``h`` box: the first candidate (top-left corners, in order of
        preference) that is inside the frame and free; else the least crowded one, moved inside."""
        best, best_cost = candidates[0], float("inf")
        for x, y in candidates:
            cx, cy = self._inside(x, y, w, h)
            clash = sum(_overlap((cx, cy, cx + w, cy + h), t) for t in self.taken)
            crossing = sum(_overlap((cx, cy, cx + w, cy + h), t) for t in self.soft)
            # covering a label or a mark is worse than moving; crossing the route is a small cost
            cost = abs(cx - x) + abs(cy - y) + clash * self.width + crossing * self.width * 0.02
            if cost < best_cost:
                best, best_cost = (cx, cy), cost
            if cost == 0:
                break
        self.block(best[0], best[1], best[0] + w, best[1] + h)
        return best

    def _inside(self, x: float, y: float, w: float, h: float) -> tuple[float, float]:
        m = self.margin
        return min(max(x, m), self.width - m - w), min(max(y, m), self.height - m - h)


def _overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _wrap(text: str, size: float, max_width: float) -> tuple[list[str], float]:
    """(lines, size): ``text`` broken into at most 3 lines no wider than ``max_width`` (at spaces
    when possible), and the font made smaller only if 3 lines are still too wide."""
    if _text_width(text, size) <= max_width:
        return [text], size
    lines: list[str] = []
    rest = text
    while rest and len(lines) < 2:
        cut = 0
        while cut < len(rest) and _text_width(rest[:cut + 1], size) <= max_width:
            cut += 1
        if cut >= len(rest):
            break
        space = max(rest.rfind(" ", 0, cut), rest.rfind("　", 0, cut))
        cut = space + 1 if space > cut // 2 else max(cut, 1)
        lines.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        lines.append(rest)
    widest = max(_text_width(line, size) for line in lines)
    return lines, size * min(1.0, max_width / widest)


def _label(lines: list[str], x: float, y: float, size: float, unit: float, colour: str = "#000000") -> list[str]:
    """Text lines whose block's top-left is (x, y), on a white box so they read over any colour."""
    w, pad = max(_text_width(line, size) for line in lines), unit * 0.5
    out = [f'<rect x="{x - pad:.0f}" y="{y - pad * 0.6:.0f}" width="{w + 2 * pad:.0f}" '
           f'height="{size * 1.15 * len(lines) + pad * 1.2:.0f}" fill="#FFFFFF" fill-opacity="0.85" rx="{pad:.0f}"/>']
    for i, line in enumerate(lines):
        out.append(f'<text class="label" x="{x:.0f}" y="{y + size * (0.93 + 1.15 * i):.0f}" font-size="{size:.0f}" '
                   f'fill="{colour}" font-family="PlanGothic">{escape(line)}</text>')
    return out


def _route_line(markers: list[Marker], xs: np.ndarray, ys: np.ndarray, route: Route | None,
                to_metric: Transformer) -> tuple[shapely.LineString | None, bool]:
    """(metric line, is_road): the given route, else the straight line home → destination."""
    if route is not None:
        rx, ry = to_metric.transform([c[0] for c in route.coords], [c[1] for c in route.coords])
        return shapely.LineString(list(zip(rx, ry, strict=True))), route.is_road
    home = next((i for i, m in enumerate(markers) if m.kind == "home"), None)
    dest = next((i for i, m in enumerate(markers) if m.kind == "destination"), None)
    if home is None or dest is None:
        return None, False
    return shapely.LineString([(xs[home], ys[home]), (xs[dest], ys[dest])]), False


def _route_lines(line: shapely.LineString | None, is_road: bool, box: Box, unit: float, placer: _Placer,
                 text_scale: float) -> tuple[list[str], list[str]]:
    """(lines, label): the route (solid along roads), or the straight line, dashed and labelled."""
    if line is None:
        return [], []
    clipped = shapely.clip_by_rect(line, *box)
    if clipped.is_empty:
        return [], []
    d = _path(clipped, box, closed=False)
    width = unit * 0.9
    dash = "" if is_road else f' stroke-dasharray="{unit * 2.5:.0f},{unit * 1.5:.0f}"'
    kind = "road" if is_road else "straight"
    out = [f'<path d="{d}" fill="none" stroke="#FFFFFF" stroke-width="{width * 2.6:.1f}" stroke-linejoin="round" '
           'stroke-linecap="round" stroke-opacity="0.9"/>',
           f'<path class="route route-{kind}" d="{d}" fill="none" stroke="{ROUTE_COLOUR}" stroke-width="{width:.1f}" '
           f'stroke-linejoin="round"{dash}/>']
    label: list[str] = []
    if not is_road:  # say it on the map itself, beside the line's middle
        size = unit * LEGEND_MM * text_scale
        w, h = _text_width(STRAIGHT_LABEL, size), size * 1.15
        gap = unit * 1.5
        candidates = []
        for t in (0.5, 0.35, 0.65, 0.2, 0.8):  # beside the middle of the line, else along it
            point = line.interpolate(t, normalized=True)
            x, y = _xy(point.x, point.y, box)
            candidates += [(x + gap, y + gap), (x - w - gap, y - h - gap), (x + gap, y - h - gap),
                           (x - w - gap, y + gap), (x - w / 2, y + gap * 2), (x - w / 2, y - h - gap * 2),
                           (x - w / 2, y + gap * 3 + h), (x - w / 2, y - 2 * h - gap * 3)]
        lx, ly = placer.place(candidates, w, h)
        label = _label([STRAIGHT_LABEL], lx, ly, size, unit)
    return out, label


def _markers(xs: np.ndarray, ys: np.ndarray, markers: list[Marker], box: Box, unit: float, placer: _Placer,
             text_scale: float) -> tuple[list[str], list[str]]:
    out, labels = [], []
    for x0, y0, marker in zip(xs, ys, markers, strict=True):
        x, y = _xy(x0, y0, box)
        colour, shape, _ = MARKER_STYLE[marker.kind]
        r = unit * (2.6 if marker.kind != "second" else 2.0)
        if shape == "circle":
            out.append(f'<circle class="marker-{marker.kind}" cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="{colour}" '
                       f'stroke="#FFFFFF" stroke-width="{unit * 0.6:.1f}"/>')
        else:
            out.append(f'<rect class="marker-{marker.kind}" x="{x - r:.0f}" y="{y - r:.0f}" width="{2 * r:.0f}" '
                       f'height="{2 * r:.0f}" fill="{colour}" stroke="#FFFFFF" stroke-width="{unit * 0.6:.1f}"/>')
        lines, size = _wrap(marker.label, unit * LABEL_MM * text_scale, placer.width * 0.62)
        w = max(_text_width(line, size) for line in lines)
        h, gap = size * 1.15 * len(lines), r * 1.3
        candidates = []
        for d in (gap, gap + unit * 4, gap + unit * 9):  # beside the mark first, a little further if crowded
            ring = [(x + d, y - h / 2), (x - d - w, y - h / 2), (x - w / 2, y - d - h), (x - w / 2, y + d),
                    (x + d, y - d - h), (x - d - w, y - d - h), (x + d, y + d), (x - d - w, y + d)]
            if marker.kind == "second":  # keep the two shelter labels apart: try below first
                ring = ring[3:4] + ring[:3] + ring[4:]
            candidates += ring
        lx, ly = placer.place(candidates, w, h)
        labels += _label(lines, lx, ly, size, unit)
    return out, labels


def _scale_bar_box(width: float, height: float, unit: float) -> Box:
    """Where ``_scale_bar`` draws (bottom-left)."""
    target = width / 5
    length = max(v for v in (50, 100, 200, 250, 500, 1000, 2000, 5000) if v <= max(target, 50))
    x, y = unit * 5, height - unit * 6
    return x - unit, y - unit * 5, x + length + unit * 11, y + unit * 3


def _corner(default: Box, order: tuple[str, ...], points: list[tuple[float, float]], placer: _Placer, width: float,
            height: float, unit: float, note_h: float) -> tuple[float, float]:
    """Shift moving an element drawn at ``default`` to the first corner in ``order`` where no marker
    and nothing placed before is; the element's box is blocked for the labels."""
    w, h, m, near = default[2] - default[0], default[3] - default[1], unit * 1.0, unit * 3
    slots = {"tl": (m, m), "tr": (width - m - w, m), "bl": (m, height - m - h),
             "br": (width - m - w, height - m - h - note_h)}
    chosen = None
    for name in order:
        x, y = slots[name]
        free = not any(x - near <= px <= x + w + near and y - near <= py <= y + h + near for px, py in points)
        if free and not any(_overlap((x, y, x + w, y + h), t) for t in placer.taken):
            chosen = (x, y)
            break
    x, y = chosen or (default[0], default[1])
    placer.block(x, y, x + w, y + h)
    return x - default[0], y - default[1]


def _moved(parts: list[str], shift: tuple[float, float]) -> list[str]:
    if abs(shift[0]) < 1e-6 and abs(shift[1]) < 1e-6:
        return parts
    return [f'<g transform="translate({shift[0]:.0f} {shift[1]:.0f})">', *parts, "</g>"]


def _attribution(text: str, width: float, height: float, unit: float, text_scale: float) -> list[str]:
    size = unit * NOTE_MM * text_scale
    w = _text_width(text, size)
    x, y = width - w - unit * 1.2, height - size * 1.4
    return [f'<rect x="{x - unit * 0.6:.0f}" y="{y - size * 0.15:.0f}" width="{w + unit * 1.2:.0f}" '
            f'height="{size * 1.4:.0f}" fill="#FFFFFF" fill-opacity="0.85"/>',
            f'<text class="attribution" x="{x:.0f}" y="{y + size * 0.95:.0f}" font-size="{size:.0f}" fill="#333333" '
            f'font-family="PlanGothic">{escape(text)}</text>']


def _legend_rows(items: list[LegendItem], width_mm: float, text_scale: float) -> list[list[tuple[LegendItem, float]]]:
    """Items flowed into rows across the width: [(item, x in mm)]."""
    size = LEGEND_MM * text_scale
    rows: list[list[tuple[LegendItem, float]]] = [[]]
    x = 1.5
    for item in items:
        w = (0 if item.kind == "text" else size * 1.9) + _text_width(item.label, size) + size * 0.9
        if rows[-1] and x + w > width_mm - 1.0:
            rows.append([])
            x = 1.5
        rows[-1].append((item, x))
        x += w
    return rows if rows[0] else []


def _band_mm(rows: int, text_scale: float) -> float:
    return rows * LEGEND_MM * text_scale * 1.55 + 1.5 if rows else 0.0


def _legend(rows: list[list[tuple[LegendItem, float]]], top: float, unit: float, text_scale: float) -> list[str]:
    """The legend below the map: a swatch drawn exactly as on the map, then its label."""
    size = unit * LEGEND_MM * text_scale
    out = ['<g class="legend">']
    for r, row in enumerate(rows):
        y = top + unit * 1.0 + r * size * 1.55  # top of the row
        for item, x_mm in row:
            x, s = x_mm * unit, size
            if item.kind == "text":
                out.append(f'<text class="legend-heading" x="{x:.0f}" y="{y + s * 0.88:.0f}" font-size="{s:.0f}" '
                           f'font-family="PlanGothic">{escape(item.label)}</text>')
                continue
            if item.kind == "fill":
                out.append(f'<rect class="legend-swatch" x="{x:.0f}" y="{y:.0f}" width="{s * 1.4:.0f}" height="{s:.0f}" '
                           f'fill="{item.colour}" fill-opacity="{item.opacity}" stroke="#888888" stroke-width="{unit * 0.15:.1f}"/>')
            elif item.kind == "hatch":
                out.append(f'<rect class="legend-swatch" x="{x:.0f}" y="{y:.0f}" width="{s * 1.4:.0f}" height="{s:.0f}" '
                           f'fill="url(#collapse)" stroke="{item.colour}" stroke-width="{unit * 0.2:.1f}"/>')
            elif item.kind in {"line", "dashed"}:
                dash = f' stroke-dasharray="{unit * 1.6:.0f},{unit * 1.0:.0f}"' if item.kind == "dashed" else ""
                out.append(f'<line class="legend-route" x1="{x:.0f}" y1="{y + s / 2:.0f}" x2="{x + s * 1.4:.0f}" '
                           f'y2="{y + s / 2:.0f}" stroke="{item.colour}" stroke-width="{unit * 0.9:.1f}"{dash}/>')
            elif item.kind == "outline":
                out.append(f'<line x1="{x:.0f}" y1="{y + s / 2:.0f}" x2="{x + s * 1.4:.0f}" y2="{y + s / 2:.0f}" '
                           f'stroke="{item.colour}" stroke-width="{unit * 0.35:.1f}" stroke-dasharray="{unit * 2:.0f},{unit * 1:.0f}"/>')
            elif item.kind == "circle":
                out.append(f'<circle cx="{x + s * 0.7:.0f}" cy="{y + s / 2:.0f}" r="{s * 0.45:.0f}" fill="{item.colour}"/>')
            else:
                out.append(f'<rect x="{x + s * 0.25:.0f}" y="{y + s * 0.05:.0f}" width="{s * 0.9:.0f}" height="{s * 0.9:.0f}" '
                           f'fill="{item.colour}"/>')
            out.append(f'<text class="legend-label" x="{x + s * 1.9:.0f}" y="{y + s * 0.88:.0f}" font-size="{s:.0f}" '
                       f'font-family="PlanGothic">{escape(item.label)}</text>')
    out.append("</g>")
    return out


def _scale_bar(width: float, height: float, unit: float) -> list[str]:
    target = width / 5
    length = max(v for v in (50, 100, 200, 250, 500, 1000, 2000, 5000) if v <= max(target, 50))
    x, y = unit * 5, height - unit * 6
    label = f"{length // 1000}km" if length >= 1000 else f"{length}m"
    return [
        f'<rect x="{x - unit:.0f}" y="{y - unit * 5:.0f}" width="{length + unit * 12:.0f}" height="{unit * 8:.0f}" fill="#FFFFFF" fill-opacity="0.8"/>',
        f'<line x1="{x:.0f}" y1="{y:.0f}" x2="{x + length:.0f}" y2="{y:.0f}" stroke="#000000" stroke-width="{unit * 0.8:.1f}"/>',
        f'<line x1="{x:.0f}" y1="{y - unit * 1.5:.0f}" x2="{x:.0f}" y2="{y:.0f}" stroke="#000000" stroke-width="{unit * 0.6:.1f}"/>',
        f'<line x1="{x + length:.0f}" y1="{y - unit * 1.5:.0f}" x2="{x + length:.0f}" y2="{y:.0f}" stroke="#000000" stroke-width="{unit * 0.6:.1f}"/>',
        f'<text x="{x + length + unit * 1.5:.0f}" y="{y:.0f}" font-size="{unit * 3.5:.0f}" font-family="PlanGothic">{label}</text>',
    ]


def _north_arrow(width: float, unit: float) -> list[str]:
    x, y, s = width - unit * 8, unit * 4, unit * 5
    return [
        f'<polygon points="{x:.0f},{y:.0f} {x - s / 2:.0f},{y + s * 1.4:.0f} {x:.0f},{y + s:.0f} {x + s / 2:.0f},{y + s * 1.4:.0f}" fill="#000000"/>',
        f'<text x="{x - s / 3:.0f}" y="{y + s * 2.4:.0f}" font-size="{unit * 4:.0f}" font-family="PlanGothic">N</text>',
    ]
