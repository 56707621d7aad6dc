"""A local XYZ tile server for tests (no internet): generated PNG tiles, one flat colour per tile
(so crops and mosaics can be checked), optional red dots at known lon/lat (so alignment can be
checked to the pixel), a request counter, and switches for slow or failing responses.

Use the ``tile_server`` fixture (tests/conftest.py imports nothing from here; import the fixture
in your test module: ``from tests.tile_server import tile_server  # noqa: F401``) or
``TileServer()`` as a context manager; ``source(tmp_path)`` gives a ``maps.tiles.TileSource``
pointed at it with a fresh cache.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from maps.tiles import TileSource

DOT = (230, 0, 0)
DOT_RADIUS = 2  # the dot is (2r+1) px square in every tile at every zoom


def tile_colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    """A distinct, light colour per tile (neighbours always differ; never close to the red dots)."""
    return (140 + (x % 4) * 25, 140 + (y % 4) * 25, 160 + (z % 3) * 40)


def global_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web Mercator pixel position of lon/lat at zoom z (256 px tiles)."""
    n = 256 * 2**z
    x = (lon + 180.0) / 360.0 * n
    lat_r = math.radians(lat)
    y = (1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n
    return x, y


class TileServer:
    def __init__(self, dots: list[tuple[float, float]] | None = None, style: str = "flat"):
        self.dots = dots or []
        self.style = style  # "flat": one colour per tile; "pale": a light map-like look (for looking at)
        self.requests: list[str] = []
        self.delay = 0.0  # seconds before answering (timeouts)
        self.status = 200  # e.g. 500 to fail every request
        self.missing: set[tuple[int, int, int]] = set()  # answered with 404
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                with server._lock:
                    server.requests.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                parts = self.path.strip("/").split("/")
                try:
                    z, x, y = int(parts[-3]), int(parts[-2]), int(parts[-1].split(".")[0])
                except (ValueError, IndexError):
                    self.send_error(400)
                    return
                if server.status != 200:
                    self.send_error(server.status)
                    return
                if (z, x, y) in server.missing:
                    self.send_error(404)
                    return
                body = server.png(z, x, y)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/xyz/test/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def png(self, z: int, x: int, y: int) -> bytes:
        image = Image.new("RGB", (256, 256), tile_colour(z, x, y) if self.style == "flat" else (242, 241, 236))
        if self.style == "pale":
            draw = ImageDraw.Draw(image)
            for k in range(0, 256, 64):  # a street grid, a main road and a name per tile
                draw.line([(k, 0), (k, 255)], fill=(255, 255, 255), width=4)
                draw.line([(0, k), (255, k)], fill=(255, 255, 255), width=4)
            draw.line([(0, 200), (255, 140)], fill=(250, 225, 160), width=7)
            draw.text((90, 100), f"Town {x % 100}-{y % 100}", fill=(90, 90, 90))
        for lon, lat in self.dots:
            gx, gy = global_pixel(lon, lat, z)
            px, py = math.floor(gx) - x * 256, math.floor(gy) - y * 256
            for dx in range(-DOT_RADIUS, DOT_RADIUS + 1):
                for dy in range(-DOT_RADIUS, DOT_RADIUS + 1):
                    if 0 <= px + dx < 256 and 0 <= py + dy < 256:
                        image.putpixel((px + dx, py + dy), DOT)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()

    def source(self, cache: Path, **options: object) -> TileSource:
        settings: dict[str, object] = {"zoom_min": 10, "zoom_max": 17, "timeout": 2.0, "max_tiles": 36, "offline": False}
        settings.update(options)
        return TileSource(self.url, "出典：国土地理院（淡色地図）", cache, **settings)  # type: ignore[arg-type]

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server
