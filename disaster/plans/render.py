"""Rendering plan contexts to PDF, in one process or in a pool of worker processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from disaster.pdf.renderer import PdfRenderer
from maps.static_svg import Marker, StaticMapPainter

LARGE_PRINT_CSS = """
html { font-size: 16pt; line-height: 1.45; }
h1 { font-size: 26pt; } h1 small { font-size: 16pt; }
h2 { font-size: 18pt; }
td.name { font-size: 19pt; }
.small, table.meta, figure.map figcaption { font-size: 12pt; }
p.decision { font-size: 19pt; }
.destination strong { font-size: 18pt; }
p.notice { font-size: 14pt; }
"""


@dataclass
class MapData:
    """Hazard zones and districts for the maps, as plain data that pickles cheaply."""

    zone_wkb: list[bytes]
    zone_attrs: list[dict[str, Any]]
    district_wkb: list[bytes]
    district_names: list[str]

    def painter(self) -> StaticMapPainter:
        zones = gpd.GeoDataFrame(self.zone_attrs, geometry=shapely.from_wkb(self.zone_wkb) if self.zone_wkb else [],
                                 crs=4326)
        if zones.empty:
            zones = gpd.GeoDataFrame({"layer": [], "rank": [], "landslide_class": []}, geometry=[], crs=4326)
        districts = gpd.GeoDataFrame({"name": self.district_names}, geometry=shapely.from_wkb(self.district_wkb), crs=4326)
        return StaticMapPainter(zones, districts)


class PlanRenderer:
    """Plan PDFs with their static maps; create one per process and reuse it."""

    def __init__(self, map_data: MapData | None):
        self.pdf = PdfRenderer(["plan.css"])
        self.painter = map_data.painter() if map_data is not None else None
        self.large = self.pdf.css(LARGE_PRINT_CSS)

    def render(self, plan: dict[str, Any], large_print: bool = False) -> tuple[bytes, int]:
        map_svg, legend = None, []
        if self.painter is not None and plan.get("home"):
            markers = [Marker(plan["home"]["lon"], plan["home"]["lat"], "自宅", "home")]
            destination = plan.get("destination")
            if destination and destination.get("lon") is not None:
                markers.append(Marker(destination["lon"], destination["lat"], "避難先", "destination"))
            if plan.get("second"):
                markers.append(Marker(plan["second"]["lon"], plan["second"]["lat"], "第2", "second"))
            map_svg, legend = self.painter.svg(markers), self.painter.legend(markers)
        context = {"plan": plan, "map_svg": map_svg, "legend": legend}
        return self.pdf.pdf("plan.html.j2", context, self.large if large_print else None)


# --- worker processes (bulk rendering) ---

_worker: PlanRenderer | None = None


def init_worker(map_data: MapData | None) -> None:
    global _worker
    _worker = PlanRenderer(map_data)


def render_to_file(plan: dict[str, Any], path: Path, large_print: bool) -> tuple[str, int, int]:
    """Render in a worker; returns (file name, pages, bytes)."""
    assert _worker is not None, "init_worker was not called"
    data, pages = _worker.render(plan, large_print)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path.name, pages, len(data)
