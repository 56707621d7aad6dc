"""Benchmark: the static plan map with and without a tile basemap (tiles from a local server,
tests/tile_server.py, so no internet): time per map for the SVG alone (no basemap / first fetch /
disk cache / memory cache) and for a whole plan PDF with a warm renderer, without and with a
cached basemap.

    python -m bench.bench_static_map [--plans 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.demo_plans import demo_plans
from disaster.plans.render import PlanRenderer, plan_markers
from tests.tile_server import TileServer


def per_map(seconds: float, count: int) -> str:
    return f"{seconds / count * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plans, data = demo_plans(Path(tmp), args.plans)
        plans = [p for p in plans if p.get("home")]
        all_markers = [plan_markers(p) for p in plans]
        n = len(all_markers)
        with TileServer(style="pale") as server:
            cache = Path(tmp) / "tiles"
            painter = data.painter()
            painter.use_basemap = False
            start = time.perf_counter()
            plain = [painter.svg(m) for m in all_markers]
            no_basemap = time.perf_counter() - start
            painter.use_basemap, painter.tiles = True, server.source(cache)
            start = time.perf_counter()
            [painter.svg(m) for m in all_markers]
            fetching = time.perf_counter() - start
            requests = len(server.requests)
            painter.tiles = server.source(cache)  # a new process: tiles on disk, nothing in memory
            start = time.perf_counter()
            [painter.svg(m) for m in all_markers]
            disk = time.perf_counter() - start
            start = time.perf_counter()
            with_basemap = [painter.svg(m) for m in all_markers]
            memory = time.perf_counter() - start
            renderer = PlanRenderer(data)
            renderer.render(plans[0])
            timings: dict[str, list[float]] = {"without": [], "with": []}
            sizes: dict[str, list[int]] = {"without": [], "with": []}
            for label, tiles in (("without", False), ("with", True)):
                if renderer.painter is not None:
                    renderer.painter.use_basemap = tiles
                    renderer.painter.tiles = server.source(cache) if tiles else None
                for plan in plans[: min(20, n)]:
                    start = time.perf_counter()
                    pdf, _ = renderer.render(plan)
                    timings[label].append(time.perf_counter() - start)
                    sizes[label].append(len(pdf))
            after = len(server.requests)
    print(f"static map SVG, {n} maps: no basemap {per_map(no_basemap, n)}; with basemap, fetching "
          f"{per_map(fetching, n)} ({requests} tile requests), disk cache {per_map(disk, n)}, memory cache "
          f"{per_map(memory, n)}; SVG size {statistics.mean(map(len, plain)) / 1024:.0f} KB -> "
          f"{statistics.mean(map(len, with_basemap)) / 1024:.0f} KB")
    for label in ("without", "with"):
        print(f"plan PDF {label} a cached basemap (warm renderer, one process): median "
              f"{statistics.median(timings[label]) * 1000:.0f} ms, mean PDF {statistics.mean(sizes[label]) / 1024:.0f} KB")
    print(f"tile requests while rendering the cached plans: {after - requests}")


if __name__ == "__main__":
    main()
