"""Benchmark: building district maps and all 46 + the city map, HTML size, and the time to a
rendered map in headless Chromium (network cut), for the demo data and for a district with
3,000 residents. Baseline in the same run: the same district with one folium Marker (and
popup) per resident, the common first approach.

    python -m bench.bench_maps [--residents 3000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import folium
import numpy as np
import shapely

from disaster.access import Principal
from disaster.db import make_engine, session_factory
from disaster.resources import DEMO_DATA_DIR
from disaster.usecases.demo import load_demo
from disaster.usecases.maps import load_map_inputs, write_all_maps
from maps.assets import copy_assets
from maps.interactive import MapInputs, district_map, html

DISTRICT = "安武"


def crowded(inputs: MapInputs, n: int, seed: int = 3) -> MapInputs:
    """``inputs`` with ``n`` residents in DISTRICT (resampled from the real ones, moved inside it)."""
    rng = np.random.default_rng(seed)
    polygon = inputs.districts.set_index("name").geometry[DISTRICT]
    minx, miny, maxx, maxy = polygon.bounds
    xs, ys = [], []
    while len(xs) < n:
        x, y = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
        keep = shapely.contains_xy(polygon, x, y)
        xs += list(x[keep])
        ys += list(y[keep])
    sample = inputs.residents.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    sample["lon"], sample["lat"] = xs[:n], ys[:n]
    sample["district"] = DISTRICT
    sample["consent_share"] = True
    sample["id"] = np.arange(1, n + 1) + 10_000_000
    sample["resident_no"] = [f"B{i:06d}" for i in range(n)]
    return MapInputs(inputs.districts, inputs.zones, inputs.shelters, sample, inputs.supporters, inputs.counts, inputs.centres,
                     True)


def per_marker_baseline(inputs: MapInputs, city_code: str) -> str:
    m = district_map(inputs, DISTRICT, Principal.cli(city_code))
    for r in inputs.residents.itertuples():
        folium.Marker([r.lat, r.lon], popup=folium.Popup(f"{r.resident_no} {r.name} {r.needs}")).add_to(m)
    return html(m)


def time_to_render(browser, path: Path) -> float:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
    page = context.new_page()
    start = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_function("window.disasterLayers !== undefined && document.querySelectorAll('.leaflet-interactive').length > 0")
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=3000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        sessions = session_factory(engine)
        city_code = load_demo(engine, sessions, DEMO_DATA_DIR).city_code
        with sessions() as session:
            start = time.perf_counter()
            inputs = load_map_inputs(session, Principal.cli(city_code))
            loading = time.perf_counter() - start
        copy_assets(tmp)
        builds = []
        for _ in range(5):
            start = time.perf_counter()
            demo_html = html(district_map(inputs, DISTRICT, Principal.cli(city_code)))
            builds.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = write_all_maps(sessions, Principal.cli(city_code), tmp / "all")
        all_maps = time.perf_counter() - start
        sizes = [p.stat().st_size for p in report.files if p.name.startswith("district_")]
        big = crowded(inputs, args.residents)
        start = time.perf_counter()
        big_html = html(district_map(big, DISTRICT, Principal.cli(city_code)))
        big_build = time.perf_counter() - start
        start = time.perf_counter()
        naive_html = per_marker_baseline(big, city_code)
        naive_build = time.perf_counter() - start
        for name, content in (("demo.html", demo_html), ("big.html", big_html), ("naive.html", naive_html)):
            (tmp / name).write_text(content, encoding="utf-8")
        chromium = shutil.which("chromium")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
            render = {name: min(time_to_render(browser, tmp / name) for _ in range(3))
                      for name in ("demo.html", "big.html", "naive.html")}
            browser.close()
        engine.dispose()
    print(f"load map inputs from the store: {loading:.2f} s (once per run)")
    print(f"one district ({DISTRICT}, demo): build {statistics.median(builds):.3f} s, HTML {len(demo_html) / 1024:.0f} KB, "
          f"rendered in Chromium {render['demo.html']:.2f} s")
    print(f"all 46 districts + city + index: {all_maps:.1f} s; district HTML mean {statistics.mean(sizes) / 1024:.0f} KB, "
          f"max {max(sizes) / 1024:.0f} KB")
    print(f"{DISTRICT} with {args.residents:,} residents: build {big_build:.3f} s, HTML {len(big_html) / 1024:.0f} KB, "
          f"rendered in Chromium {render['big.html']:.2f} s")
    print(f"baseline, one folium Marker per resident: build {naive_build:.3f} s, HTML {len(naive_html) / 1024:.0f} KB "
          f"({len(naive_html) / len(big_html):.1f}x), rendered {render['naive.html']:.2f} s")


if __name__ == "__main__":
    main()
