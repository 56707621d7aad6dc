"""Rendering plan contexts to PDF, in one process or in a pool of worker processes."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely
from pyproj import CRS
from weasyprint import CSS
from weasyprint.document import Document

from disaster.jobs.processes import child_context
from disaster.outputs import OutputFolder
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


class PlanRenderer:
    """Plan PDFs with their static maps on the hazards and 校区 of ``map_data``; made with a
    ``pdf`` renderer of its own unless given one (a process keeps one: ``RenderProcesses``)."""

    def __init__(self, map_data: MapData | None, pdf: PdfRenderer | None = None):
        self.pdf = pdf or PdfRenderer(["plan.css"])
        self.painter = map_data.painter() if map_data is not None else None

    def render(self, plan: dict[str, Any], large_print: bool = False) -> tuple[bytes, int]:
        return self.pdf.pdf("plan.html.j2", self.context(plan, large_print), self._extra_css(large_print))

    def document(self, plan: dict[str, Any], large_print: bool = False) -> Document:
        """The laid-out plan (for checks on pages and boxes)."""
        return self.pdf.document("plan.html.j2", self.context(plan, large_print), self._extra_css(large_print))

    def _extra_css(self, large_print: bool) -> CSS | None:
        return self.pdf.css(LARGE_PRINT_CSS) if large_print else None

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


def render_here(data: MapData | None, plan: dict[str, Any], large_print: bool) -> tuple[bytes, int]:
    """One plan rendered in this process with a renderer of its own (the command line: one plan, then exit)."""
    return PlanRenderer(data).render(plan, large_print)


RenderPlan = Callable[[MapData | None, dict[str, Any], bool], tuple[bytes, int]]  # render_here or RenderProcesses.render


# --- the service: plans rendered in a few processes of its own ---

_process_renderer: PdfRenderer | None = None  # in a render process: made once, used for every plan
NICENESS = 10  # added to a render process's niceness: interactive answers come first


def _renderer_of_this_process() -> PdfRenderer:
    global _process_renderer
    if _process_renderer is None:
        _process_renderer = PdfRenderer(["plan.css"])
    return _process_renderer


def _render_in_process(data: MapData | None, plan: dict[str, Any], large_print: bool) -> tuple[bytes, int]:
    return PlanRenderer(data, _renderer_of_this_process()).render(plan, large_print)


def _ready() -> int:
    _renderer_of_this_process()
    return os.getpid()


class RenderProcesses:
    """Plan PDFs of one service process, rendered in ``size`` processes of its own, each replaced
    after ``recycle_after`` tasks.

    Rendering is CPU-bound Python: in the server's own threads, the PDFs asked of one server
    process would share one core (the GIL) while another core idles, and slow down every other
    answer of that process. The render processes run at a lower priority (``NICENESS``), so that a
    plan being printed does not slow the pages and lists others are waiting for. WeasyPrint also
    keeps some memory of every document; a fresh process now and then gives it back. The processes start from the fork server that
    ``disaster.jobs.processes.child_context`` prepares (modules already loaded; they end with the server)."""

    def __init__(self, size: int, recycle_after: int) -> None:
        self.size, self.recycle_after = size, recycle_after
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def render(self, data: MapData | None, plan: dict[str, Any], large_print: bool) -> tuple[bytes, int]:
        """(PDF, pages); a pool whose process died (e.g. killed for memory) is replaced and the plan tried again once."""
        pool = self._current()
        try:
            return pool.submit(_render_in_process, data, plan, large_print).result()
        except BrokenProcessPool:
            self._discard(pool)
            return self._current().submit(_render_in_process, data, plan, large_print).result()

    def start(self) -> list[int]:
        """Start the processes (each with its renderer ready); returns their process ids. Each
        start counts as one task of the process that ran it."""
        pool = self._current()
        return sorted({future.result() for future in [pool.submit(_ready) for _ in range(self.size)]})

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.size, mp_context=child_context(), initializer=os.nice,
                                                 initargs=(NICENESS,), max_tasks_per_child=self.recycle_after)
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


# --- worker processes (bulk rendering) ---

_worker: PlanRenderer | None = None


def init_worker(map_data: MapData | None) -> None:
    global _worker
    _worker = PlanRenderer(map_data)


def render_to_file(plan: dict[str, Any], folder: OutputFolder, name: str, large_print: bool) -> tuple[str, int, int]:
    """Render in a worker to ``name`` in ``folder``; returns (file name, pages, bytes)."""
    assert _worker is not None, "init_worker was not called"
    data, pages = _worker.render(plan, large_print)
    folder.write_bytes(name, data)
    return name, pages, len(data)
