"""The map of statuses (安否確認): a 校区's boundary, its shelters and the residents in view as
symbols by status, drawn as an inline SVG on the server (no tiles, no script: it works on a LAN
without internet and prints). Each status has its own colour *and* shape, so the map reads
without colour too; those who need someone are drawn last (on top) and larger."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from markupsafe import Markup, escape

from disaster.usecases.safety import PRIORITY, MapData, Status

WIDTH = 720.0
PADDING = 16.0


@dataclass(frozen=True)
class Symbol:
    css: str  # the class (colours in templates/static/safety.css)
    shape: str  # triangle / circle / diamond / square
    size: float  # radius in px of the map's 720-px width


SYMBOLS = {
    Status.RESCUE: Symbol("rescue", "triangle", 11.0),
    Status.UNCONFIRMED: Symbol("unconfirmed", "circle", 8.0),
    Status.UNREACHABLE: Symbol("unreachable", "diamond", 9.0),
    Status.ABSENT: Symbol("absent", "square", 7.5),
    Status.EVACUATED: Symbol("evacuated", "circle", 5.5),
    Status.SAFE: Symbol("safe", "circle", 5.5),
}
CSS_OF = {status.value: symbol.css for status, symbol in SYMBOLS.items()}


def shape(kind: str, x: float, y: float, r: float, css: str) -> str:
    """One symbol centred on (x, y)."""
    if kind == "circle":
        return f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"/>'
    if kind == "square":
        return f'<rect class="{css}" x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}"/>'
    if kind == "diamond":
        points = [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)]
    else:  # triangle, pointing up
        points = [(x, y - r * 1.25), (x + r * 1.1, y + r * 0.75), (x - r * 1.1, y + r * 0.75)]
    return f'<polygon class="{css}" points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}"/>'


def legend_symbol(status: str) -> Markup:
    """A small SVG of a status's symbol for the legend (decorative: the text says the status)."""
    symbol = SYMBOLS[Status(status)]
    return Markup('<svg class="symbol" viewBox="0 0 28 28" width="28" height="28" aria-hidden="true" focusable="false">'
                  f'{shape(symbol.shape, 14, 14, min(symbol.size, 10.0), "sym " + symbol.css)}</svg>')


def shelter_symbol(x: float, y: float, welfare: bool, number: int | None = None, size: float = 1.0) -> str:
    """A shelter: a house (a 福祉避難所 with a cross on it), with its number in the list below the map."""
    css = "shelter welfare" if welfare else "shelter"
    w, h, roof = 9 * size, 8 * size, 10 * size
    house = (f'<polygon class="{css}" points="{x - w:.1f},{y + h:.1f} {x - w:.1f},{y - 2 * size:.1f} {x:.1f},{y - roof:.1f} '
             f'{x + w:.1f},{y - 2 * size:.1f} {x + w:.1f},{y + h:.1f}"/>')
    if number is not None:
        house += f'<text class="shelter-number" x="{x:.1f}" y="{y + 6.5 * size:.1f}">{number}</text>'
    elif welfare:
        house += (f'<path class="cross" d="M{x:.1f},{y - 4:.1f} V{y + 6:.1f} M{x - 5:.1f},{y + 1:.1f} H{x + 5:.1f}"/>')
    return house


def legend_shelter(welfare: bool) -> Markup:
    return Markup('<svg class="symbol" viewBox="0 0 28 28" width="28" height="28" aria-hidden="true" focusable="false">'
                  f"{shelter_symbol(14, 15, welfare)}</svg>")


def _rings(geometry: Any) -> list[Any]:
    polygons = list(geometry.geoms) if hasattr(geometry, "geoms") else [geometry]
    return [ring for polygon in polygons if polygon.geom_type == "Polygon"
            for ring in (polygon.exterior, *polygon.interiors)]


def status_svg(data: MapData, description: str) -> Markup:
    """The map as an ``<svg>`` element: north up, the 校区 filling the width (``description``: its accessible name)."""
    min_lon, min_lat, max_lon, max_lat = data.boundary.bounds
    for p in data.points:  # a resident just outside the boundary (geocoded to the town) still shows
        min_lon, max_lon = min(min_lon, p["lon"]), max(max_lon, p["lon"])
        min_lat, max_lat = min(min_lat, p["lat"]), max(max_lat, p["lat"])
    squash = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * squash, 1e-6)
    span_y = max(max_lat - min_lat, 1e-6)
    scale = (WIDTH - 2 * PADDING) / span_x
    height = min(span_y * scale + 2 * PADDING, WIDTH * 1.4)
    scale = min(scale, (height - 2 * PADDING) / span_y)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return PADDING + (lon - min_lon) * squash * scale, PADDING + (max_lat - lat) * scale

    parts = [f'<svg class="status-map" viewBox="0 0 {WIDTH:.0f} {height:.0f}" role="img" '
             f'aria-label="{escape(description)}" preserveAspectRatio="xMidYMid meet">',
             f'<rect class="paper" x="0" y="0" width="{WIDTH:.0f}" height="{height:.0f}"/>']
    simplified = shapely.simplify(data.boundary, 0.00005)
    for ring in _rings(simplified):
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in
                        enumerate(xy(lon, lat) for lon, lat in ring.coords))
        parts.append(f'<path class="boundary" d="{path} Z"/>')
    for number, shelter in enumerate(data.shelters, start=1):
        parts.append(shelter_symbol(*xy(shelter["lon"], shelter["lat"]), shelter["welfare"], number, size=1.5))
    order = {status.value: rank for rank, status in enumerate(PRIORITY)}
    for point in sorted(data.points, key=lambda p: -order.get(p["status"], 0)):  # who needs someone on top
        symbol = SYMBOLS[Status(point["status"])]
        parts.append(shape(symbol.shape, *xy(point["lon"], point["lat"]), symbol.size, symbol.css))
    parts.append("</svg>")
    return Markup("".join(parts))
