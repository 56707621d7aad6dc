"""Basemap tiles: fetching, caching, offline fallback, mosaic alignment, and `disaster tiles fetch`.
Every tile comes from a local HTTP server the test starts (tests/tile_server.py): no internet."""

from __future__ import annotations

import base64
import io
import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer
from scipy import ndimage
from typer.testing import CliRunner

from disaster.cli import app
from disaster.pdf.fetcher import decode_image_data_uri
from maps.tiles import TileSource, TooManyTiles, lonlat_to_mercator, tile_range
from tests.analysis_fixtures import METRIC_CRS
from tests.conftest import BUNDLE, KURUME
from tests.tile_server import (
    TileServer,
    global_pixel,
    tile_colour,
    tile_server,  # noqa: F401  (fixture)
)

HOME = (130.5301, 33.3102)
SHELTER = (130.5452, 33.3005)
BOUNDS = (130.52, 33.295, 130.555, 33.318)


def decode(data_uri: str) -> np.ndarray:
    header, payload = data_uri.split(",", 1)
    assert header.startswith("data:image/")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")).astype(int)


def red_dots(pixels: np.ndarray) -> list[tuple[float, float]]:
    """Centres (x, y in pixel units, pixel centres at +0.5) of the red dots in an image."""
    red = (pixels[:, :, 0] - (pixels[:, :, 1] + pixels[:, :, 2]) / 2) > 90
    labels, count = ndimage.label(red)
    centres = ndimage.center_of_mass(red, labels, range(1, count + 1))
    return sorted((c[1] + 0.5, c[0] + 0.5) for c in centres)


def dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"


def test_fetch_then_cache_hit_makes_no_requests(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    source = tile_server.source(tmp_path)
    first = source.basemap(BOUNDS, 400, 300)
    assert first is not None and first.attribution == "出典：国土地理院（淡色地図）"
    x0, y0, x1, y1 = tile_range(lonlat_to_mercator(BOUNDS), first.zoom)
    assert len(tile_server.requests) == (x1 - x0 + 1) * (y1 - y0 + 1)
    assert len(list(source.cache_dir.rglob("*.tile"))) == len(tile_server.requests)
    # the same source (memory) and a new process's source (disk) both answer without the server
    assert source.basemap(BOUNDS, 400, 300) == first
    again = tile_server.source(tmp_path).basemap(BOUNDS, 400, 300)
    assert again is not None and again.zoom == first.zoom
    assert len(tile_server.requests) == (x1 - x0 + 1) * (y1 - y0 + 1)


def test_lonlat_mosaic_is_cropped_to_the_bounds(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    tile_server.dots = [HOME, SHELTER]
    width, height = 400, 300
    result = tile_server.source(tmp_path).basemap(BOUNDS, width, height)
    assert result is not None and (result.width_px, result.height_px) == (width, height)
    pixels = decode(result.data_uri)
    assert pixels.shape == (height, width, 3)
    z = result.zoom
    left, top = global_pixel(BOUNDS[0], BOUNDS[3], z)
    right, bottom = global_pixel(BOUNDS[2], BOUNDS[1], z)
    # each corner shows the colour of the tile that contains that corner of the bounds
    for (px, py), (gx, gy) in (((2, 2), (left, top)), ((width - 3, height - 3), (right, bottom))):
        expected = tile_colour(z, int(gx // 256), int(gy // 256))
        assert np.abs(pixels[py, px] - np.array(expected)).max() < 12, (px, py)
    # the dots (drawn at their exact Web Mercator pixel on the tiles) land where the bounds say
    expected_dots = sorted(((gx - left) / (right - left) * width, (gy - top) / (bottom - top) * height)
                           for gx, gy in (global_pixel(*p, z) for p in (HOME, SHELTER)))
    found = red_dots(pixels)
    assert len(found) == 2
    for (fx, fy), (ex, ey) in zip(found, expected_dots, strict=True):
        assert abs(fx - ex) < 1.2 and abs(fy - ey) < 1.2, (found, expected_dots)


def test_metric_crs_mosaic_is_warped_so_points_land_on_their_pixel(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    """The plan map draws in METRIC_CRS (a transverse Mercator): the warped basemap puts a known
    lon/lat exactly where the map draws it, at both ends of the map."""
    far = (130.585, 33.335)
    tile_server.dots = [HOME, far]
    to_metric = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    points = [to_metric.transform(*p) for p in (HOME, far)]
    box = (points[0][0] - 600, points[0][1] - 900, points[1][0] + 600, points[1][1] + 700)
    width = 1200  # big enough that ignoring the grid convergence (~0.3°) would be off by pixels
    height = round(width * (box[3] - box[1]) / (box[2] - box[0]))
    result = tile_server.source(tmp_path, max_tiles=64).basemap(box, width, height, crs=METRIC_CRS)
    assert result is not None
    found = red_dots(decode(result.data_uri))
    expected = sorted(((x - box[0]) / (box[2] - box[0]) * width, (box[3] - y) / (box[3] - box[1]) * height)
                      for x, y in points)
    assert len(found) == 2
    for (fx, fy), (ex, ey) in zip(found, expected, strict=True):
        assert abs(fx - ex) < 1.0 and abs(fy - ey) < 1.0, (found, expected)


def test_unreachable_server_gives_none_fast_and_is_not_retried_per_map(tmp_path: Path) -> None:
    source = TileSource(dead_url(), "出典", tmp_path, timeout=2.0)
    started = time.monotonic()
    assert source.basemap(BOUNDS, 400, 300) is None
    assert source.basemap((130.4, 33.2, 130.43, 33.22), 400, 300) is None
    assert time.monotonic() - started < 3.0
    assert source.requests <= 4  # the first failure stops fetching; the second map uses the cache only


def test_timeout_gives_none_within_the_timeout(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    tile_server.delay = 3.0
    source = tile_server.source(tmp_path, timeout=0.3)
    started = time.monotonic()
    assert source.basemap(BOUNDS, 400, 300) is None
    assert time.monotonic() - started < 2.0
    count = len(tile_server.requests)
    assert source.basemap(BOUNDS, 300, 200) is None
    assert len(tile_server.requests) == count  # marked unreachable: no new attempts


def test_server_error_and_offline_setting_give_none(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    tile_server.status = 500
    assert tile_server.source(tmp_path / "a").basemap(BOUNDS, 400, 300) is None
    tile_server.status = 200
    before = len(tile_server.requests)
    assert tile_server.source(tmp_path / "b", offline=True).basemap(BOUNDS, 400, 300) is None
    assert len(tile_server.requests) == before  # offline never fetches


def test_offline_uses_the_prefilled_cache_and_lower_zooms(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    online = tile_server.source(tmp_path)
    ideal = online.zoom_for((lonlat_to_mercator(BOUNDS)[2] - lonlat_to_mercator(BOUNDS)[0]) / 400)
    report = online.prefill(BOUNDS, [ideal - 1])
    assert report.fetched == report.total > 0 and report.failed == 0
    before = len(tile_server.requests)
    offline = tile_server.source(tmp_path, offline=True)
    result = offline.basemap(BOUNDS, 400, 300)
    assert result is not None and result.zoom == ideal - 1  # the chosen zoom is not cached: one lower is
    assert len(tile_server.requests) == before


def test_tiles_the_server_does_not_have_are_blank_but_a_map_of_nothing_is_none(tile_server: TileServer,  # noqa: F811
                                                                             tmp_path: Path) -> None:
    source = tile_server.source(tmp_path)
    z = source.zoom_for((lonlat_to_mercator(BOUNDS)[2] - lonlat_to_mercator(BOUNDS)[0]) / 400)
    x0, y0, x1, y1 = tile_range(lonlat_to_mercator(BOUNDS), z)
    tile_server.missing = {(z, x0, y0)}
    assert source.basemap(BOUNDS, 400, 300) is not None
    tile_server.missing = {(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}
    assert tile_server.source(tmp_path / "other").basemap(BOUNDS, 400, 300) is None


def test_prefill_counts_and_refuses_huge_requests(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    source = tile_server.source(tmp_path)
    report = source.prefill(BOUNDS, [13, 14])
    assert report.total == sum(report.per_zoom.values()) == report.fetched
    again = source.prefill(BOUNDS, [13, 14])
    assert again.cached == report.total and again.fetched == 0
    with pytest.raises(TooManyTiles):
        source.prefill((129.0, 32.0, 132.0, 34.5), [16], max_tiles=1000)


def _store_with_districts(tmp_path: Path) -> dict[str, str]:
    env = {"DISASTER_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    for args in (["init", "--city", KURUME], ["import", "boundary", str(BUNDLE / "city_boundary.geojson")],
                 ["import", "districts", str(BUNDLE / "districts.geojson"), "--table", str(BUNDLE / "district_centres.csv")]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    return env


def test_tiles_fetch_command_fills_the_cache_for_a_district(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    env = _store_with_districts(tmp_path)
    env |= {"DISASTER_TILE_URL": tile_server.url, "DISASTER_TILE_CACHE_DIR": str(tmp_path / "tiles"),
            "DISASTER_TILE_OFFLINE": "0"}
    district = json.loads((BUNDLE / "districts.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    name = next(v for k, v in district.items() if "名" in k or k.lower() == "name")
    runner = CliRunner()
    result = runner.invoke(app, ["tiles", "fetch", "--district", name, "--zoom", "13-14"], env=env)
    assert result.exit_code == 0, result.output
    fetched = len(tile_server.requests)
    assert fetched > 0 and f"新たに取得 {fetched}、キャッシュ済み 0" in result.stdout
    assert "出典：国土地理院（淡色地図）" in result.stdout
    assert len(list((tmp_path / "tiles").rglob("*.tile"))) == fetched
    result = runner.invoke(app, ["tiles", "fetch", "--district", name, "--zoom", "13-14"], env=env)
    assert result.exit_code == 0 and f"新たに取得 0、キャッシュ済み {fetched}" in result.stdout
    assert len(tile_server.requests) == fetched  # the second run is served by the cache
    # unknown district, unreachable server, offline setting: a Japanese message and exit 1
    result = runner.invoke(app, ["tiles", "fetch", "--district", "存在しない校区"], env=env)
    assert result.exit_code == 1 and "登録されていません" in result.stderr
    result = runner.invoke(app, ["tiles", "fetch", "--district", name, "--zoom", "15"],
                           env=env | {"DISASTER_TILE_URL": dead_url()})
    assert result.exit_code == 1 and "取得できませんでした" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["tiles", "fetch", "--district", name], env=env | {"DISASTER_TILE_OFFLINE": "1"})
    assert result.exit_code == 1 and "オフライン" in result.stderr


def test_data_uri_helper_lets_only_base64_images_through(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    result = tile_server.source(tmp_path).basemap(BOUNDS, 100, 80)
    assert result is not None
    decoded = decode_image_data_uri(result.data_uri)
    assert decoded is not None and decoded[1] == "image/jpeg"
    assert Image.open(io.BytesIO(decoded[0])).size == (100, 80)
    for other in ("file:///etc/passwd", "data:text/html;base64,PHA+", "http://example.org/x.png", "data:image/png;base64,!!"):
        assert decode_image_data_uri(other) is None


def test_a_map_needing_more_tiles_than_allowed_uses_a_lower_zoom_or_the_override(tile_server: TileServer,  # noqa: F811
                                                                                tmp_path: Path) -> None:
    source = tile_server.source(tmp_path, zoom_min=10, max_tiles=4)
    small = source.basemap(BOUNDS, 1600, 1200)  # wants zoom 17: too many tiles, so fewer, coarser ones
    assert small is not None and small.zoom < source.zoom_for((lonlat_to_mercator(BOUNDS)[2] - lonlat_to_mercator(BOUNDS)[0]) / 1600)
    assert _count_tiles(small.zoom) <= 4
    big = source.basemap(BOUNDS, 1600, 1200, max_tiles=200)  # e.g. a DIG sheet
    assert big is not None and big.zoom > small.zoom


def _count_tiles(zoom: int) -> int:
    x0, y0, x1, y1 = tile_range(lonlat_to_mercator(BOUNDS), zoom)
    return (x1 - x0 + 1) * (y1 - y0 + 1)


def test_a_broken_cached_tile_is_fetched_again(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    assert tile_server.source(tmp_path).basemap(BOUNDS, 400, 300) is not None
    count = len(tile_server.requests)
    broken = sorted(tile_server.source(tmp_path).cache_dir.rglob("*.tile"))[0]
    broken.write_bytes(b"<html>proxy error</html>")
    assert tile_server.source(tmp_path).basemap(BOUNDS, 400, 300) is not None
    assert len(tile_server.requests) == count + 1
    assert broken.read_bytes().startswith(b"\x89PNG")
