"""Static SVG maps for printed plans: hazards in the MLIT palette, home, destination and the
straight route, district boundary, scale bar and north arrow. Built from the stored geodata
only, so it needs no network (WeasyPrint runs no JavaScript and fetches no tiles)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import geopandas as gpd
import numpy as np
import shapely

from disaster.codes import DEPTH_COLOURS, DEPTH_RANKS, LANDSLIDE_COLOURS, LANDSLIDE_RED_CLASSES, HazardLayer
from disaster.geo import METRIC_CRS, WGS84

SIMPLIFY_M = 8.0
MAP_ASPECT = 92.0 / 66.0
PADDING_M = 350.0
INLAND_COLOUR = "#7FB2E5"
COLLAPSE_COLOUR = "#C00000"


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


class StaticMapPainter:
    """Paints many small maps over the same hazard data (prepared once per process)."""

    def __init__(self, zones: gpd.GeoDataFrame, districts: gpd.GeoDataFrame):
        metric = zones.to_crs(METRIC_CRS).reset_index(drop=True) if len(zones) else zones
        order = {HazardLayer.FLOOD_L2_DEPTH.value: 0, HazardLayer.INLAND_FLOOD.value: 1,
                 HazardLayer.COLLAPSE_FLOW.value: 2, HazardLayer.COLLAPSE_EROSION.value: 2,
                 HazardLayer.LANDSLIDE.value: 3}
        keep = metric[metric["layer"].isin(order)].copy() if len(metric) else metric
        if len(keep):
            keep["order"] = keep["layer"].map(order) * 10 + keep["rank"].fillna(0) + keep["landslide_class"].fillna(0)
            keep = keep.sort_values("order", kind="stable").reset_index(drop=True)
            keep["geometry"] = shapely.simplify(keep.geometry.values, SIMPLIFY_M)
        self.zones = keep
        self.zone_tree = shapely.STRtree(keep.geometry.values) if len(keep) else None
        self.districts = districts.to_crs(METRIC_CRS).reset_index(drop=True)
        self.district_tree = shapely.STRtree(self.districts.geometry.values)

    def _points(self, markers: list[Marker]) -> tuple[np.ndarray, np.ndarray]:
        points = gpd.GeoSeries.from_xy([m.lon for m in markers], [m.lat for m in markers], crs=WGS84).to_crs(METRIC_CRS)
        return points.x.to_numpy(), points.y.to_numpy()

    def _box(self, markers: list[Marker], aspect: float = MAP_ASPECT) -> tuple[float, float, float, float]:
        xs, ys = self._points(markers)
        minx, maxx = xs.min() - PADDING_M, xs.max() + PADDING_M
        miny, maxy = ys.min() - PADDING_M, ys.max() + PADDING_M
        width, height = _fit(maxx - minx, maxy - miny, aspect)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2

    def svg(self, markers: list[Marker], width_mm: float = 92.0, height_mm: float = 66.0, route: Route | None = None) -> str:
        xs, ys = self._points(markers)
        box = self._box(markers, width_mm / height_mm)
        width, height = box[2] - box[0], box[3] - box[1]
        unit = width / width_mm  # metres per millimetre on paper
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" class="plan-map">',
            f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#FFFFFF" stroke="#666666" stroke-width="{unit * 0.3:.1f}"/>',
        ]
        parts += self._zones(box, unit)
        parts += self._districts(box, unit)
        parts += _route(xs, ys, markers, box, unit)
        parts += _markers(xs, ys, markers, box, unit)
        parts += _scale_bar(width, height, unit)
        parts += _north_arrow(width, unit)
        parts.append("</svg>")
        return "".join(parts)

    def legend(self, markers: list[Marker]) -> list[tuple[str, str]]:
        """(colour, label) of the hazard classes drawn on the map of ``markers``, for the legend."""
        if self.zone_tree is None:
            return []
        shown = self.zones.iloc[np.sort(self.zone_tree.query(shapely.box(*self._box(markers))))]
        items = []
        for rank in sorted(shown.loc[shown["layer"] == HazardLayer.FLOOD_L2_DEPTH.value, "rank"].dropna().astype(int).unique()):
            items.append((DEPTH_COLOURS[rank], f"浸水{DEPTH_RANKS[rank][0]}"))
        layers = set(shown["layer"])
        if HazardLayer.INLAND_FLOOD.value in layers:
            items.append((INLAND_COLOUR, "内水"))
        if layers & {HazardLayer.COLLAPSE_FLOW.value, HazardLayer.COLLAPSE_EROSION.value}:
            items.append((COLLAPSE_COLOUR, "家屋倒壊等氾濫想定区域（斜線）"))
        classes = set(shown.loc[shown["layer"] == HazardLayer.LANDSLIDE.value, "landslide_class"].dropna().astype(int))
        if classes - LANDSLIDE_RED_CLASSES:
            items.append((LANDSLIDE_COLOURS["yellow"], "土砂災害警戒区域"))
        if classes & LANDSLIDE_RED_CLASSES:
            items.append((LANDSLIDE_COLOURS["red"], "土砂災害特別警戒区域"))
        return items

    def _zones(self, box: tuple[float, float, float, float], unit: float) -> list[str]:
        if self.zone_tree is None:
            return []
        hits = np.sort(self.zone_tree.query(shapely.box(*box)))
        out = ['<defs><pattern id="collapse" patternUnits="userSpaceOnUse" '
               f'width="{unit * 3:.0f}" height="{unit * 3:.0f}" patternTransform="rotate(45)">'
               f'<line x1="0" y1="0" x2="0" y2="{unit * 3:.0f}" stroke="{COLLAPSE_COLOUR}" stroke-width="{unit * 0.6:.1f}"/>'
               "</pattern></defs>"]
        for index in hits:
            zone = self.zones.iloc[index]
            geom = shapely.clip_by_rect(zone.geometry, *box)
            if geom.is_empty:
                continue
            layer = zone["layer"]
            if layer == HazardLayer.FLOOD_L2_DEPTH.value:
                style = f'fill="{DEPTH_COLOURS.get(int(zone["rank"] or 1), DEPTH_COLOURS[1])}" stroke="none"'
            elif layer == HazardLayer.INLAND_FLOOD.value:
                style = f'fill="{INLAND_COLOUR}" fill-opacity="0.7" stroke="none"'
            elif layer == HazardLayer.LANDSLIDE.value:
                red = int(zone["landslide_class"] or 0) in LANDSLIDE_RED_CLASSES
                colour = LANDSLIDE_COLOURS["red" if red else "yellow"]
                style = f'fill="{colour}" fill-opacity="0.85" stroke="{colour}" stroke-width="{unit * 0.2:.1f}"'
            else:
                style = f'fill="url(#collapse)" stroke="{COLLAPSE_COLOUR}" stroke-width="{unit * 0.2:.1f}"'
            out.append(f'<path d="{_path(geom, box)}" {style} fill-rule="evenodd"/>')
        return out

    def _districts(self, box: tuple[float, float, float, float], unit: float) -> list[str]:
        out = []
        for index in self.district_tree.query(shapely.box(*box)):
            outline = shapely.clip_by_rect(self.districts.geometry.iloc[index].boundary, *box)
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


def _path(geom: shapely.Geometry, box: tuple[float, float, float, float], closed: bool = True) -> str:
    commands = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
        elif part.geom_type in {"LineString", "LinearRing"}:
            rings = [part]
        else:
            continue
        for ring in rings:
            coords = np.asarray(ring.coords)
            if len(coords) < 2:
                continue
            xs, ys = coords[:, 0] - box[0], box[3] - coords[:, 1]
            points = " ".join(f"{x:.0f} {y:.0f}" for x, y in zip(xs, ys, strict=True))
            commands.append(f"M{points}" + ("Z" if closed and part.geom_type == "Polygon" else ""))
    return "".join(commands)


def _route(xs: np.ndarray, ys: np.ndarray, markers: list[Marker], box: tuple[float, float, float, float],
           unit: float) -> list[str]:
    out = []
    home = next((i for i, m in enumerate(markers) if m.kind == "home"), None)
    for i, marker in enumerate(markers):
        if home is None or marker.kind == "home":
            continue
        (x1, y1), (x2, y2) = _xy(xs[home], ys[home], box), _xy(xs[i], ys[i], box)
        dash = f"{unit * 2.5:.0f},{unit * 1.2:.0f}" if marker.kind == "destination" else f"{unit * 1:.0f},{unit * 1:.0f}"
        colour = "#1A1A1A" if marker.kind == "destination" else "#666666"
        out.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{colour}" '
                   f'stroke-width="{unit * 0.8:.1f}" stroke-dasharray="{dash}"/>')
    return out


def _markers(xs: np.ndarray, ys: np.ndarray, markers: list[Marker], box: tuple[float, float, float, float],
             unit: float) -> list[str]:
    out = []
    style = {"home": ("#D7263D", "circle"), "destination": ("#1B7F3B", "square"), "second": ("#1B5E9F", "square")}
    for x0, y0, marker in zip(xs, ys, markers, strict=True):
        x, y = _xy(x0, y0, box)
        colour, shape = style[marker.kind]
        r = unit * (2.6 if marker.kind != "second" else 2.0)
        if shape == "circle":
            out.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="{colour}" stroke="#FFFFFF" stroke-width="{unit * 0.6:.1f}"/>')
        else:
            out.append(f'<rect x="{x - r:.0f}" y="{y - r:.0f}" width="{2 * r:.0f}" height="{2 * r:.0f}" fill="{colour}" '
                       f'stroke="#FFFFFF" stroke-width="{unit * 0.6:.1f}"/>')
        label_y = y + r * 3.2 if marker.kind == "second" else y - r * 0.9  # keep the two shelter labels apart
        out.append(f'<text x="{x + r * 1.4:.0f}" y="{label_y:.0f}" font-size="{unit * 4:.0f}" fill="#000000" '
                   f'font-family="PlanGothic">{escape(marker.label)}</text>')
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
