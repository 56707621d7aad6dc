"""Basemap tiles for the static (printed) maps: XYZ tiles (default GSI 淡色地図) fetched with
timeouts, cached on disk and in memory, mosaicked and cropped into one image per map.

Projection: tiles are Web Mercator (EPSG:3857). ``basemap(bounds, w, h)`` with WGS84 ``bounds``
returns the Web Mercator rectangle of those bounds (a lon/lat box is a rectangle in Web Mercator;
rows are linear in Mercator y, not in latitude). With ``crs=`` (e.g. the city's metric CRS, ``CityProfile.crs``,
what the plan map and the DIG map draw in) the bounds are in that CRS and the mosaic is *warped*
onto it (a mesh of Web Mercator positions, bilinear in between), so pixel (i, j) of the image is
exactly the point ``(minx + (i + 0.5) * dx, maxy - (j + 0.5) * dy)`` of the metric map and an
overlay drawn in that CRS lines up with the roads and names on the tiles.

Offline: ``tile_offline`` (``DISASTER_TILE_OFFLINE=1``) never fetches; a fetch that fails or
times out marks the server unreachable for a while (one timeout per process, not one per map).
A map whose tiles are not all available (after trying lower zooms from the cache) gets ``None``,
and the painter draws today's basemap-free map. ``disaster tiles fetch --district X`` fills the
cache beforehand for offline work.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image
from pyproj import CRS, Transformer

from disaster.errors import Rejected
from disaster.settings import Settings

TILE_SIZE = 256
EARTH_CIRCUMFERENCE = 2 * math.pi * 6378137.0
HALF = EARTH_CIRCUMFERENCE / 2
WEB_MERCATOR = CRS.from_epsg(3857)
USER_AGENT = "disaster-preparedness-toolkit/0.1 (static plan maps; tile cache)"
RETRY_AFTER_S = 120.0  # after a failed fetch, use only the cache for this long
MEMORY_TILES = 160  # decoded tiles kept per process (~30 MB)
MEMORY_MAPS = 32  # finished basemaps kept per process
FETCH_THREADS = 4
MESH_CELLS = 4  # warp mesh per side (the TM -> Web Mercator mapping is nearly affine at map scale)
JPEG_QUALITY = 82
LOWER_ZOOMS_TRIED = 3  # offline: lower zooms from the cache when the chosen one is incomplete
TILE_ENV = ("DISASTER_TILE_URL", "DISASTER_TILE_ATTRIBUTION", "DISASTER_TILE_ZOOM_MIN", "DISASTER_TILE_ZOOM_MAX",
            "DISASTER_TILE_TIMEOUT", "DISASTER_TILE_CACHE_DIR", "DISASTER_TILE_MAX_TILES", "DISASTER_TILE_OFFLINE",
            "XDG_CACHE_HOME")


@dataclass(frozen=True)
class Basemap:
    """One map's background image. ``data_uri`` is a JPEG data URI (smaller and faster to embed
    in PDFs than PNG for map imagery) covering exactly the requested bounds."""

    data_uri: str
    attribution: str
    zoom: int
    width_px: int
    height_px: int


@dataclass
class PrefillReport:
    zooms: list[int]
    total: int = 0
    fetched: int = 0
    cached: int = 0
    empty: int = 0  # the server has no tile there (404)
    failed: int = 0
    cache_dir: Path | None = None
    per_zoom: dict[int, int] = field(default_factory=dict)


class TooManyTiles(Rejected):
    """A pre-fill would fetch more tiles than allowed."""


def default_cache_dir() -> Path:
    """``<user cache>/<project>/tiles``, beside the PDF font cache."""
    from disaster.pdf.fonts import cache_dir  # stdlib only; the project's cache folder name lives there

    return cache_dir().parent / "tiles"


def tile_range(bounds_3857: tuple[float, float, float, float], zoom: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) inclusive tile indices covering Web Mercator ``bounds_3857``."""
    size = EARTH_CIRCUMFERENCE / 2**zoom
    last = 2**zoom - 1
    minx, miny, maxx, maxy = bounds_3857
    x0 = min(last, max(0, math.floor((minx + HALF) / size)))
    x1 = min(last, max(0, math.floor((maxx + HALF) / size - 1e-9)))
    y0 = min(last, max(0, math.floor((HALF - maxy) / size)))
    y1 = min(last, max(0, math.floor((HALF - miny) / size - 1e-9)))
    return x0, y0, x1, y1


@lru_cache(maxsize=16)
def _to_mercator(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, WEB_MERCATOR, always_xy=True)


def lonlat_to_mercator(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    (x0, x1), (y0, y1) = _to_mercator(CRS.from_epsg(4326)).transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    return x0, y0, x1, y1


class TileSource:
    """An XYZ tile server with a disk cache and an in-memory cache of decoded tiles."""

    def __init__(self, url: str, attribution: str, cache_dir: Path, zoom_min: int = 12, zoom_max: int = 16,
                 timeout: float = 5.0, max_tiles: int = 36, offline: bool = False):
        self.url = url
        self.attribution = attribution
        self.zoom_min, self.zoom_max = zoom_min, zoom_max
        self.timeout = timeout
        self.max_tiles = max_tiles
        self.offline = offline
        self.cache_dir = Path(cache_dir) / hashlib.sha256(url.encode()).hexdigest()[:12]
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._tiles: OrderedDict[tuple[int, int, int], Image.Image | None] = OrderedDict()
        self._maps: OrderedDict[tuple[Any, ...], Basemap | None] = OrderedDict()
        self.requests = 0  # HTTP requests made (for tests and reports)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> TileSource:
        s = settings or Settings()
        return cls(s.tile_url, s.tile_attribution, s.tile_cache_dir or default_cache_dir(), s.tile_zoom_min,
                   s.tile_zoom_max, s.tile_timeout, s.tile_max_tiles, s.tile_offline)

    # --- single tiles ---

    def _path(self, z: int, x: int, y: int) -> Path:
        return self.cache_dir / str(z) / str(x) / f"{y}.tile"

    def reachable(self) -> bool:
        return not self.offline and time.monotonic() >= self._down_until

    def _fetch(self, z: int, x: int, y: int) -> bytes | None:
        """Tile bytes from the server; b"" when it has no tile there (404); None on failure."""
        if not self.reachable():
            return None
        request = urllib.request.Request(self.url.format(z=z, x=x, y=y), headers={"User-Agent": USER_AGENT})
        with self._lock:
            self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: bytes = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return b""
            self._down_until = time.monotonic() + RETRY_AFTER_S
            return None
        except (OSError, ValueError):  # URLError, timeouts, refused connections, bad URLs
            self._down_until = time.monotonic() + RETRY_AFTER_S
            return None
        return data

    def _store(self, z: int, x: int, y: int, data: bytes) -> None:
        path = self._path(z, x, y)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: parallel workers never see half a tile

    def raw(self, z: int, x: int, y: int, fetch: bool = True) -> tuple[bytes | None, str]:
        """(bytes, where): where is "cache", "fetched", "empty" (b"") or "missing" (None)."""
        path = self._path(z, x, y)
        try:
            cached = path.read_bytes()
            return cached, ("empty" if not cached else "cache")
        except FileNotFoundError:
            pass
        if not fetch:
            return None, "missing"
        data = self._fetch(z, x, y)
        if data is None:
            return None, "missing"
        self._store(z, x, y, data)
        return data, ("empty" if not data else "fetched")

    def tile(self, z: int, x: int, y: int, fetch: bool = True) -> Image.Image | None | bool:
        """The decoded tile; None = the server has none there (blank); False = not available."""
        key = (z, x, y)
        with self._lock:
            if key in self._tiles:
                self._tiles.move_to_end(key)
                return self._tiles[key]
        data, _ = self.raw(z, x, y, fetch)
        if data is None:
            return False
        image: Image.Image | None = None
        if data:
            try:
                image = Image.open(io.BytesIO(data)).convert("RGB")
            except OSError:  # a broken file (not an image): drop it so it is fetched again
                self._path(z, x, y).unlink(missing_ok=True)
                return False
        with self._lock:
            self._tiles[key] = image
            while len(self._tiles) > MEMORY_TILES:
                self._tiles.popitem(last=False)
        return image

    # --- maps ---

    def zoom_for(self, mercator_per_px: float) -> int:
        """The zoom whose tile pixels are closest to the output pixels (labels stay readable)."""
        ideal = math.log2(EARTH_CIRCUMFERENCE / TILE_SIZE / mercator_per_px)
        return int(min(self.zoom_max, max(self.zoom_min, round(ideal))))

    def basemap(self, bounds: tuple[float, float, float, float], width_px: int, height_px: int,
                crs: CRS | None = None, max_tiles: int | None = None) -> Basemap | None:
        """The background image for ``bounds`` (WGS84 lon/lat, or in ``crs``), or None when its tiles
        are not available. See the module docstring for the projection. ``max_tiles`` overrides the
        setting (a large DIG sheet may use more tiles than a plan map)."""
        limit = max_tiles or self.max_tiles
        key = (tuple(bounds), width_px, height_px, crs.srs if crs is not None else None, limit)
        with self._lock:
            if key in self._maps:
                self._maps.move_to_end(key)
                return self._maps[key]
        result = self._basemap(bounds, width_px, height_px, crs, limit)
        if result is not None or not self.reachable():  # an offline miss may succeed once the cache is filled
            with self._lock:
                self._maps[key] = result
                while len(self._maps) > MEMORY_MAPS:
                    self._maps.popitem(last=False)
        return result

    def _basemap(self, bounds: tuple[float, float, float, float], width_px: int, height_px: int,
                 crs: CRS | None, max_tiles: int) -> Basemap | None:
        if width_px < 1 or height_px < 1:
            return None
        mesh_x, mesh_y, cells = _mesh(bounds, width_px, height_px, crs)
        merc_bounds = (min(map(min, mesh_x)), min(map(min, mesh_y)), max(map(max, mesh_x)), max(map(max, mesh_y)))
        zoom = self.zoom_for((merc_bounds[2] - merc_bounds[0]) / width_px)
        while zoom > self.zoom_min and _count(tile_range(merc_bounds, zoom)) > max_tiles:
            zoom -= 1
        if _count(tile_range(merc_bounds, zoom)) > max_tiles:
            return None
        mosaic = self._mosaic(merc_bounds, zoom, fetch=True)
        tried = 0
        while mosaic is None and tried < LOWER_ZOOMS_TRIED and zoom > self.zoom_min:
            zoom, tried = zoom - 1, tried + 1
            mosaic = self._mosaic(merc_bounds, zoom, fetch=False)
        if mosaic is None:
            return None
        image, origin_x, origin_y = mosaic
        resolution = EARTH_CIRCUMFERENCE / TILE_SIZE / 2**zoom

        def source(i: int, j: int) -> tuple[float, float]:
            return (mesh_x[j][i] - origin_x) / resolution, (origin_y - mesh_y[j][i]) / resolution

        data = []
        for (i0, j0, i1, j1), (px0, py0, px1, py1) in cells:
            quad = (*source(i0, j0), *source(i0, j1), *source(i1, j1), *source(i1, j0))
            data.append(((px0, py0, px1, py1), quad))
        warped = image.transform((width_px, height_px), Image.Transform.MESH, data, resample=Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        warped.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
        uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        return Basemap(uri, self.attribution, zoom, width_px, height_px)

    def _mosaic(self, merc_bounds: tuple[float, float, float, float], zoom: int,
                fetch: bool) -> tuple[Image.Image, float, float] | None:
        x0, y0, x1, y1 = tile_range(merc_bounds, zoom)
        keys = [(zoom, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
        tiles = self._tiles_for(keys, fetch)
        if any(t is False for t in tiles) or all(t is None for t in tiles):
            return None  # incomplete, or the server has nothing here (a wrong template): no basemap
        image = Image.new("RGB", ((x1 - x0 + 1) * TILE_SIZE, (y1 - y0 + 1) * TILE_SIZE), (255, 255, 255))
        for (_, x, y), tile in zip(keys, tiles, strict=True):
            if isinstance(tile, Image.Image):
                image.paste(tile.resize((TILE_SIZE, TILE_SIZE)) if tile.size != (TILE_SIZE, TILE_SIZE) else tile,
                            ((x - x0) * TILE_SIZE, (y - y0) * TILE_SIZE))
        size = EARTH_CIRCUMFERENCE / 2**zoom
        return image, x0 * size - HALF, HALF - y0 * size

    def _tiles_for(self, keys: list[tuple[int, int, int]], fetch: bool) -> list[Image.Image | None | bool]:
        first = [self.tile(*k, fetch=False) for k in keys]
        missing = [i for i, t in enumerate(first) if t is False]
        if not missing or not fetch or not self.reachable():
            return first
        with ThreadPoolExecutor(min(FETCH_THREADS, len(missing))) as pool:
            for i, tile in zip(missing, pool.map(lambda k: self.tile(*k), [keys[i] for i in missing]), strict=True):
                first[i] = tile
        return first

    # --- pre-filling the cache ---

    def prefill(self, bounds: tuple[float, float, float, float], zooms: Iterable[int], max_tiles: int = 5000,
                progress: Callable[[int, int], None] | None = None) -> PrefillReport:
        """Fetch every tile of WGS84 ``bounds`` at ``zooms`` that is not cached yet."""
        zooms = sorted(set(zooms))
        merc = lonlat_to_mercator(bounds)
        keys = []
        report = PrefillReport(zooms, cache_dir=self.cache_dir)
        for z in zooms:
            x0, y0, x1, y1 = tile_range(merc, z)
            report.per_zoom[z] = _count((x0, y0, x1, y1))
            keys += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        report.total = len(keys)
        if len(keys) > max_tiles:
            raise TooManyTiles(f"タイルが {len(keys)} 枚になります（上限 {max_tiles} 枚）。ズームの範囲を狭めてください。")
        done = 0

        def one(key: tuple[int, int, int]) -> str:
            return self.raw(*key, fetch=True)[1]

        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            for where in pool.map(one, keys):
                done += 1
                if where == "fetched":
                    report.fetched += 1
                elif where == "cache":
                    report.cached += 1
                elif where == "empty":
                    report.empty += 1
                else:
                    report.failed += 1
                if progress is not None:
                    progress(done, len(keys))
        return report


def _count(tiles: tuple[int, int, int, int]) -> int:
    return (tiles[2] - tiles[0] + 1) * (tiles[3] - tiles[1] + 1)


def _mesh(bounds: tuple[float, float, float, float], width_px: int, height_px: int, crs: CRS | None,
          ) -> tuple[list[list[float]], list[list[float]], list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]]:
    """Web Mercator positions of a mesh over the output image, and its cells as
    ((node i0, j0, i1, j1), (pixel box)). Nodes sit on pixel edges."""
    minx, miny, maxx, maxy = bounds
    if crs is None:  # a lon/lat box is a Web Mercator rectangle: one cell is exact
        crs, nx, ny = CRS.from_epsg(4326), 1, 1
    else:
        nx, ny = min(MESH_CELLS, width_px), min(MESH_CELLS, height_px)
    px = [round(i * width_px / nx) for i in range(nx + 1)]
    py = [round(j * height_px / ny) for j in range(ny + 1)]
    xs = [minx + (maxx - minx) * p / width_px for p in px]
    ys = [maxy - (maxy - miny) * p / height_px for p in py]
    transformer = _to_mercator(crs)
    mesh_x, mesh_y = [], []
    for y in ys:
        mx, my = transformer.transform(xs, [y] * len(xs))
        mesh_x.append(list(mx))
        mesh_y.append(list(my))
    cells = [((i, j, i + 1, j + 1), (px[i], py[j], px[i + 1], py[j + 1])) for j in range(ny) for i in range(nx)]
    return mesh_x, mesh_y, cells


_default: tuple[tuple[str | None, ...], TileSource] | None = None


def default_source() -> TileSource:
    """The process's tile source from the settings (rebuilt when the tile environment changes)."""
    global _default
    snapshot = tuple(os.environ.get(k) for k in TILE_ENV)
    if _default is None or _default[0] != snapshot:
        _default = (snapshot, TileSource.from_settings())
    return _default[1]


def basemap(bounds_wgs84: tuple[float, float, float, float], width_px: int, height_px: int,
            crs: CRS | None = None, max_tiles: int | None = None) -> Basemap | None:
    """The contract's entry point: ``default_source().basemap(...)``; None offline/unavailable.
    ``bounds_wgs84`` are lon/lat (the image is their Web Mercator rectangle) unless ``crs`` says
    they are in that projected CRS (the image is warped onto it)."""
    return default_source().basemap(bounds_wgs84, width_px, height_px, crs, max_tiles)


def parse_zooms(text: str | None, source: TileSource) -> list[int]:
    """"14" or "12-16" (None: the source's zoom range)."""
    if not text:
        return list(range(source.zoom_min, source.zoom_max + 1))
    low, _, high = text.partition("-")
    try:
        a, b = int(low), int(high or low)
    except ValueError:
        raise Rejected(f"--zoom は 14 や 12-16 の形で指定してください（{text}）。") from None
    if not 0 <= a <= b <= 20:
        raise Rejected(f"--zoom は 0〜20 の範囲で指定してください（{text}）。")
    return list(range(a, b + 1))
