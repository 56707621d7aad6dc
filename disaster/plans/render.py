"""Rendering plan contexts to PDF, in one process or in a pool of worker processes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import CRS
from weasyprint.document import Document

from disaster.pdf.renderer import PdfRenderer
from maps.static_svg import Marker, Route, StaticMapPainter

MAP_MM = (92.0, 66.0)
LARGE_MAP_MM = (194.0, 42.0)  # full width under the destination table
LARGE_MAP_TEXT = 1.33  # map labels and legend scale with the large-print body (16 pt / 12 pt)
# Large print: every size in plan.css is relative to the root font size, so this scales labels,
# warning names, legends and column widths together; the map and the level cells follow.
LARGE_PRINT_CSS = """
html { font-size: 16pt; line-height: 1.1; }
table.grid td, table.grid th { line-height: 1.1; }
@page { margin: 6mm 7mm 7mm 7mm; }
.dest-block { page-break-inside: auto; }
table.destination, .dest-block .map, .dest-block .map-blank { float: none; width: 100%; }
table.destination th { font-size: 0.83rem; }
table.grid th, table.grid td, table.timeline th, table.timeline td { padding: 0.05rem 0.25rem; }
table.timeline td, td.info, p.consent, p.notice { line-height: 1.1; }
table.meta { font-size: 0.77rem; }
col.k { width: 5.3rem; }
col.c-level { width: 2.7rem; } col.c-info { width: 6.6rem; } col.c-sup { width: 33%; }
.box, ul.reasons { font-size: 0.9rem; } .box-title { font-size: 0.95rem; }
td.info .warnings { font-size: 0.72rem; }  /* official names: small print, still 1.2x the normal size */
h2 { margin: 0.2rem 0 0.1rem 0; }
/* staff and signing parts: smaller relative sizes, still at least 1.2x their normal-print size */
ul.checklist { font-size: 0.86rem; }
p.notice { font-size: 0.77rem; } p.consent { font-size: 0.83rem; }
table.centres td, table.centres th { font-size: 0.83rem; } table.centres td.fax { font-size: 0.72rem; }
col.c-kind { width: 9rem; } col.c-tel { width: 8.6rem; } col.c-fax { width: 7.6rem; }
table.signatures th { font-size: 0.8rem; } table.signatures td { height: 1.35rem; }
table.signatures td.author .tiny { font-size: 0.65rem; }
"""


@dataclass
class MapData:
    """Hazard zones and districts for the maps, as plain data that pickles cheaply."""

    zone_wkb: list[bytes]
    zone_attrs: list[dict[str, Any]]
    district_wkb: list[bytes]
    district_names: list[str]
    metric_epsg: int  # the city's metric CRS (CityProfile.crs)

    def painter(self) -> StaticMapPainter:
        zones = gpd.GeoDataFrame(self.zone_attrs, geometry=shapely.from_wkb(self.zone_wkb) if self.zone_wkb else [],
                                 crs=4326)
        if zones.empty:
            zones = gpd.GeoDataFrame({"layer": [], "rank": [], "landslide_class": []}, geometry=[], crs=4326)
        districts = gpd.GeoDataFrame({"name": self.district_names}, geometry=shapely.from_wkb(self.district_wkb), crs=4326)
        return StaticMapPainter(zones, districts, CRS.from_epsg(self.metric_epsg))


class RendererPool:
    """A few plan PDF renderers shared by the threads of a service, each used by one thread at a
    time. WeasyPrint's font configuration is costly to make and its memory is not all given back
    (a renderer per document grew the server ~0.6 MB a plan); rendering is CPU-bound, so more
    renderers than cores would not help."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.free: queue.SimpleQueue[PdfRenderer] = queue.SimpleQueue()
        self.made = 0
        self.lock = threading.Lock()

    @contextmanager
    def renderer(self) -> Iterator[PdfRenderer]:
        try:
            renderer = self.free.get_nowait()
        except queue.Empty:
            with self.lock:
                make = self.made < self.size
                self.made += make
            renderer = PdfRenderer(["plan.css"]) if make else self.free.get()
        try:
            yield renderer
        finally:
            self.free.put(renderer)


plan_renderers = RendererPool()


class PlanRenderer:
    """Plan PDFs with their static maps; create one per process (or take a ``pdf`` renderer from
    ``plan_renderers``) and reuse it."""

    def __init__(self, map_data: MapData | None, pdf: PdfRenderer | None = None):
        self.pdf = pdf or PdfRenderer(["plan.css"])
        self.painter = map_data.painter() if map_data is not None else None
        self.large = self.pdf.css(LARGE_PRINT_CSS)

    def render(self, plan: dict[str, Any], large_print: bool = False) -> tuple[bytes, int]:
        return self.pdf.pdf("plan.html.j2", self.context(plan, large_print), self.large if large_print else None)

    def document(self, plan: dict[str, Any], large_print: bool = False) -> Document:
        """The laid-out plan (for checks on pages and boxes)."""
        return self.pdf.document("plan.html.j2", self.context(plan, large_print), self.large if large_print else None)

    def context(self, plan: dict[str, Any], large_print: bool = False) -> dict[str, Any]:
        size = LARGE_MAP_MM if large_print else MAP_MM
        return {"plan": plan, "map_svg": self.map_svg(plan, *size, text_scale=LARGE_MAP_TEXT if large_print else 1.0)}

    def map_svg(self, plan: dict[str, Any], width_mm: float = 92.0, height_mm: float = 66.0,
                text_scale: float = 1.0) -> str | None:
        """The plan's map with home, destination, second option and the stored route; the SVG
        carries its own coloured legend (drawn by the painter)."""
        if self.painter is None or not plan.get("home"):
            return None
        route = plan.get("route")
        return self.painter.svg(plan_markers(plan), width_mm, height_mm, text_scale=text_scale,
                                route=Route(list(route["coords"]), bool(route["is_road"])) if route else None)


def plan_markers(plan: dict[str, Any]) -> list[Marker]:
    """Home, destination and second option of a plan context, as map markers."""
    markers = [Marker(plan["home"]["lon"], plan["home"]["lat"], "自宅", "home")]
    destination = plan.get("destination")
    if destination and destination.get("lon") is not None:
        markers.append(Marker(destination["lon"], destination["lat"], "避難先", "destination"))
    if plan.get("second"):
        markers.append(Marker(plan["second"]["lon"], plan["second"]["lat"], "第2", "second"))
    return markers


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
