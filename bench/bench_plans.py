"""Benchmark: bulk マイプラン PDFs (200 plans, maps included), without a basemap and with a cached
tile basemap (tiles from a local server, tests/tile_server.py, pre-fetched into the disk cache and
then read offline), against a naive baseline measured in the same run: one plan at a time, the default system font (fontconfig's sans-serif for
Japanese), a new font configuration per document, WeasyPrint's full user-agent stylesheet.
The baseline is timed twice: with WeasyPrint's fontTools subsetting (what a machine without
Debian's libharfbuzz-subset0 does) and with HarfBuzz subsetting (which ./kurume installs).

It also prints the CPU time per plan of bulk rendering (every worker process included) against
WeasyPrint's own floor for the same documents (layout and paint of the plans' pre-built HTML, with
the same fonts, stylesheets and fetcher, in one warm process), and the throughput of bulk
rendering with 1, 2 … worker processes (linear: N workers give N× on N free cores).

    python -m bench.bench_plans [--plans 200] [--baseline 4] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.pdf import fonts as weasyprint_fonts
from weasyprint.text.fonts import FontConfiguration

from bench.demo_plans import demo_plans
from disaster.outputs import OutputFolder
from disaster.pdf.renderer import TemplateHTML, template_environment
from disaster.plans.render import MapData, PlanRenderer, plan_markers
from disaster.resources import templates_dir
from disaster.usecases.plans import PlanReport, render_plans
from tests.tile_server import TileServer


@contextmanager
def tile_environment(**values: str) -> Iterator[None]:
    """Set DISASTER_TILE_* for this block (bulk workers inherit it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def naive_plan(plan: dict, map_svg: str) -> bytes:
    """What a first attempt looks like: system font by name, fresh FontConfiguration, full UA."""
    html = template_environment().get_template("plan.html.j2").render(plan=plan, map_svg=map_svg)
    css = (templates_dir() / "plan.css").read_text(encoding="utf-8").replace('"PlanGothic", "PlanGothicFull"', "sans-serif")
    fonts = FontConfiguration()
    return HTML(string=html).write_pdf(stylesheets=[CSS(string=css, font_config=fonts)], font_config=fonts)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its waited-for children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bulk_scaling(plans: list[dict], data: MapData, out: Path, workers: list[int]) -> dict[int, tuple[float, float]]:
    """Bulk rendering (``render_plans``) with each number of worker processes: (wall s, CPU s per
    plan), the CPU of the workers (start-up, maps, templates, layout, PDF) and of this process."""
    result = {}
    for count in workers:
        cpu, start = cpu_seconds(), time.perf_counter()
        report = render_plans(plans, data, OutputFolder(out / f"workers-{count}"), workers=count)  # the pool is joined on return
        wall = time.perf_counter() - start
        if report.failed:
            raise SystemExit(f"{len(report.failed)} plans failed: {report.failed[:3]}")
        result[count] = (wall, (cpu_seconds() - cpu) / len(plans))
    return result


def weasyprint_floor(plans: list[dict], data: MapData) -> float:
    """CPU s per plan of WeasyPrint alone on the same documents: each plan's HTML (map included) is
    built first, untimed; then layout and paint (``render`` + ``write_pdf``) with the renderer's own
    fonts, stylesheets, user-agent stylesheet and fetcher, in this process, after a warm-up plan."""
    renderer = PlanRenderer(data)
    pdf = renderer.pdf
    pages = [pdf.html("plan.html.j2", renderer.context(plan)) for plan in plans]

    def layout_and_paint(html_text: str) -> None:
        html = TemplateHTML(string=html_text, url_fetcher=pdf.fetcher, base_url="asset:")
        html.ua_stylesheet = pdf.ua
        html.render(stylesheets=pdf.stylesheets, font_config=pdf.font_config).write_pdf()

    layout_and_paint(pages[0])  # warm-up: fonts loaded and cached as in a bulk worker
    start = time.process_time()
    for html_text in pages:
        layout_and_paint(html_text)
    return (time.process_time() - start) / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=4, help="plans rendered by the naive baseline")
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2],
                        help="worker processes for the throughput and CPU figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plans, data = demo_plans(Path(tmp), args.plans)

        bulk: dict[str, tuple[float, PlanReport]] = {}
        with TileServer(style="pale") as server:
            cache = Path(tmp) / "tiles"
            with tile_environment(DISASTER_TILE_URL=server.url, DISASTER_TILE_CACHE_DIR=str(cache), DISASTER_TILE_OFFLINE="0"):
                prefill = PlanRenderer(data)
                for plan in plans:
                    prefill.context(plan)  # draws each plan's map: fills the disk cache
            fetched = len(server.requests)
            variants = {"without a basemap": {"DISASTER_TILE_OFFLINE": "1", "DISASTER_TILE_CACHE_DIR": str(Path(tmp) / "none")},
                        "with a cached basemap": {"DISASTER_TILE_OFFLINE": "1", "DISASTER_TILE_CACHE_DIR": str(cache),
                                                  "DISASTER_TILE_URL": server.url}}
            for label, env in variants.items():
                with tile_environment(**env):
                    start = time.perf_counter()
                    report = render_plans(plans, data, OutputFolder(Path(tmp) / label))  # drafts included: same work per plan
                    bulk[label] = (time.perf_counter() - start, report)
        report = bulk["without a basemap"][1]
        sizes = [size for _, _, _, size in report.written]
        pages = [p for _, _, p, _ in report.written]

        renderer = PlanRenderer(data)
        start = time.perf_counter()
        renderer.render(plans[0])
        cold = time.perf_counter() - start
        latencies = []
        for plan in plans[1:21]:
            start = time.perf_counter()
            renderer.render(plan)
            latencies.append(time.perf_counter() - start)

        painter = data.painter()
        naive = {}
        harfbuzz = weasyprint_fonts.harfbuzz_subset
        for label, subsetter in (("fontTools subsetting", None), ("HarfBuzz subsetting", harfbuzz)):
            weasyprint_fonts.harfbuzz_subset = subsetter
            start = time.perf_counter()
            for plan in plans[: args.baseline]:
                naive_plan(plan, painter.svg(plan_markers(plan)))
            naive[label] = (time.perf_counter() - start) / args.baseline
        weasyprint_fonts.harfbuzz_subset = harfbuzz

        with tile_environment(DISASTER_TILE_OFFLINE="1", DISASTER_TILE_CACHE_DIR=str(Path(tmp) / "none")):
            scaling = bulk_scaling(plans, data, Path(tmp) / "scaling", args.workers)
            floor = weasyprint_floor(plans, data)

    font = subprocess.run(["fc-match", "sans-serif:lang=ja"], capture_output=True, text=True).stdout.strip()
    for label, (seconds, result) in bulk.items():
        print(f"bulk {label}: {len(result.written)} plans in {seconds:.1f} s on {os.cpu_count()} cores = "
              f"{len(result.written) / seconds:.1f} plans/s ({len(result.failed)} failed), mean PDF "
              f"{statistics.mean(size for *_, size in result.written) / 1024:.0f} KB")
    print(f"basemap: {fetched} tiles fetched from the local tile server into the cache, then read offline")
    rate = len(report.written) / bulk["without a basemap"][0]
    print(f"one plan (warm renderer): median {statistics.median(latencies):.3f} s, max {max(latencies):.3f} s; "
          f"first plan of a new renderer {cold:.3f} s")
    print(f"PDF size: mean {statistics.mean(sizes) / 1024:.0f} KB, max {max(sizes) / 1024:.0f} KB; "
          f"pages: {dict(sorted({p: pages.count(p) for p in set(pages)}.items()))}")
    for label, seconds in naive.items():
        print(f"naive baseline, {font}, {label}: {seconds:.2f} s per plan = {1 / seconds:.2f} plans/s "
              f"-> bulk speed-up {rate * seconds:.1f}x")
    print(f"WeasyPrint floor (layout + paint of the pre-built HTML, same fonts/stylesheets/fetcher, one warm "
          f"process): {floor:.3f} s CPU per plan")
    first = min(scaling)
    for count, (wall, cpu) in scaling.items():
        print(f"bulk without a basemap, {count} worker(s): {len(plans)} plans in {wall:.1f} s = {len(plans) / wall:.1f} plans/s "
              f"({scaling[first][0] / wall:.2f}× the {first}-worker rate); CPU {cpu:.3f} s per plan = "
              f"{(cpu / floor - 1) * 100:+.0f} % over the floor (goal ≤ +15 %)")


if __name__ == "__main__":
    main()
