"""The static plan map (maps/static_svg.py): legend = what is drawn, in the same colours; labels
inside the frame; the route (road / straight, labelled); basemap under the hazards, aligned, with
its attribution; offline fallback. Tiles come from a local server (tests/tile_server.py)."""

from __future__ import annotations

import re
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from disaster.codes import DEPTH_COLOURS, LANDSLIDE_COLOURS, HazardLayer
from maps.static_svg import STRAIGHT_LABEL, Marker, Route, StaticMapPainter
from maps.tiles import TileSource
from tests.analysis_fixtures import METRIC_CRS
from tests.test_tiles import decode, red_dots
from tests.tile_server import (
    TileServer,
    tile_server,  # noqa: F401  (fixture)
)

NS = {"s": "http://www.w3.org/2000/svg"}
HOME = (130.530, 33.310)
SHELTER = (130.545, 33.300)
SECOND = (130.522, 33.301)


def _ring(lon: float, lat: float, d: float) -> shapely.Polygon:
    return shapely.box(lon - d, lat - d, lon + d, lat + d)


def painter(tiles: TileSource | None = None, basemap: bool = False) -> StaticMapPainter:
    zones = gpd.GeoDataFrame(
        {"layer": [HazardLayer.FLOOD_L2_DEPTH.value, HazardLayer.FLOOD_L2_DEPTH.value, HazardLayer.LANDSLIDE.value,
                   HazardLayer.INLAND_FLOOD.value],
         "rank": [2, 3, None, 2], "landslide_class": [None, None, 2, None]},
        geometry=[_ring(*HOME, 0.004), _ring(HOME[0] + 0.003, HOME[1], 0.001), _ring(*SHELTER, 0.002),
                  _ring(131.2, 33.9, 0.01)],  # the inland zone is far away: not on this map
        crs=4326)
    districts = gpd.GeoDataFrame({"name": ["a"]}, geometry=[_ring(130.535, 33.305, 0.02)], crs=4326)
    return StaticMapPainter(zones, districts, METRIC_CRS, tiles=tiles, basemap=basemap)


def markers(home: tuple[float, float] = HOME, shelter: tuple[float, float] = SHELTER,
            shelter_label: str = "避難先") -> list[Marker]:
    return [Marker(*home, "自宅", "home"), Marker(*shelter, shelter_label, "destination"),
            Marker(*SECOND, "第2", "second")]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def view_box(root: ET.Element) -> tuple[float, float]:
    _, _, w, h = (float(v) for v in root.get("viewBox", "").split())
    return w, h


def map_frame(root: ET.Element) -> tuple[float, float]:
    """Width and height of the map frame (the stroked rect; the legend is below it)."""
    frame = [r for r in root.findall("s:rect", NS) if r.get("fill") == "none"]
    return float(frame[0].get("width", 0)), float(frame[0].get("height", 0))


def text_boxes(root: ET.Element, cls: str) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, y0, x1, y1) of texts of a class; width counted generously (1 em a character)."""
    out = []
    for t in root.iter("{http://www.w3.org/2000/svg}text"):
        if t.get("class") == cls:
            size, x, y = float(t.get("font-size", 0)), float(t.get("x", 0)), float(t.get("y", 0))
            text = t.text or ""
            out.append((text, x, y - size * 0.88, x + size * len(text), y + size * 0.2))
    return out


def test_legend_lists_exactly_the_drawn_hazards_in_their_colours() -> None:
    root = parse(painter().svg(markers()))
    zones = {(p.get("fill"), p.get("fill-opacity")) for p in root.iter("{http://www.w3.org/2000/svg}path")
             if p.get("class") == "zone"}
    swatches = {(r.get("fill"), r.get("fill-opacity")) for r in root.iter("{http://www.w3.org/2000/svg}rect")
                if r.get("class") == "legend-swatch"}
    assert zones == swatches
    assert zones == {(DEPTH_COLOURS[2], "1.0"), (DEPTH_COLOURS[3], "1.0"), (LANDSLIDE_COLOURS["red"], "0.85")}
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "legend-label"]
    assert {"0.5〜3m", "3〜5m", "土砂災害特別警戒区域", "第2の避難先", STRAIGHT_LABEL, "校区の境界"} <= set(labels)
    assert "内水の浸水" not in labels and "土砂災害警戒区域" not in labels  # not on this map
    headings = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "legend-heading"]
    assert headings == ["浸水の深さ："]
    # the legend sits below the map frame, inside the SVG
    _, frame_h = map_frame(root)
    _, total_h = view_box(root)
    legend_tops = [b[2] for b in text_boxes(root, "legend-label")]
    assert min(legend_tops) >= frame_h - 1 and max(b[4] for b in text_boxes(root, "legend-label")) <= total_h
    # the text-list legend for older callers names the same classes with full depth labels
    assert ("#FFD8C0", "浸水0.5m以上3.0m未満") in painter().legend(markers())


def test_labels_stay_inside_the_frame_and_apart() -> None:
    long_name = "とても長い名前の地域コミュニティセンター体育館"
    for shelter in (SHELTER, (HOME[0] + 0.0005, HOME[1] + 0.0004), (HOME[0] + 0.03, HOME[1])):
        root = parse(painter().svg(markers(shelter=shelter, shelter_label=long_name), 92, 66))
        width, height = map_frame(root)
        boxes = text_boxes(root, "label")
        texts = [b[0] for b in boxes]
        assert {"自宅", "第2", STRAIGHT_LABEL} <= set(texts) and long_name in "".join(texts)
        assert 2 <= len([t for t in texts if t in long_name]) <= 3  # a long name is wrapped, not cut
        for text, x0, y0, x1, y1 in boxes:
            assert x0 >= 0 and x1 <= width * 1.0001 and y0 >= 0 and y1 <= height, (text, shelter)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                overlap = min(a[3], b[3]) - max(a[1], b[1]) > 0 and min(a[4], b[4]) - max(a[2], b[2]) > 0
                assert not overlap, (a[0], b[0], shelter)


def test_without_a_route_the_straight_line_is_dashed_and_says_so() -> None:
    for route in (None, Route([HOME, SHELTER], is_road=False)):
        root = parse(painter().svg(markers(), route=route))
        (line,) = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if "route" in (p.get("class") or "")]
        assert line.get("class") == "route route-straight" and line.get("stroke-dasharray")
        assert STRAIGHT_LABEL in [b[0] for b in text_boxes(root, "label")]


def test_road_route_is_solid_follows_its_vertices_and_is_not_called_straight() -> None:
    corner = (SHELTER[0], HOME[1])
    p = painter()
    svg = p.svg(markers(), route=Route([HOME, corner, SHELTER], is_road=True))
    root = parse(svg)
    (line,) = [e for e in root.iter("{http://www.w3.org/2000/svg}path") if "route" in (e.get("class") or "")]
    assert line.get("class") == "route route-road" and line.get("stroke-dasharray") is None
    assert STRAIGHT_LABEL not in svg
    assert "経路" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "legend-label"]
    # the drawn path passes through the corner (in map units: metres from the box's top-left)
    points = [tuple(map(float, pair)) for pair in re.findall(r"(-?\d+) (-?\d+)", line.get("d", ""))]
    box = p._box(markers(), 92 / (66 - _legend_height(root)), Route([HOME, corner, SHELTER], True))
    cx, cy = Transformer.from_crs(4326, METRIC_CRS, always_xy=True).transform(*corner)
    assert len(points) == 3
    assert abs(points[1][0] - (cx - box[0])) < 2 and abs(points[1][1] - (box[3] - cy)) < 2


def _legend_height(root: ET.Element) -> float:
    width, frame_h = map_frame(root)
    _, total_h = view_box(root)
    return (total_h - frame_h) / (width / 92)


def test_basemap_under_hazards_aligned_with_the_markers_and_attributed(tile_server: TileServer,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    tile_server.dots = [HOME]
    root = parse(painter(tile_server.source(tmp_path), basemap=True).svg(markers()))
    children = list(root)
    (image,) = [e for e in children if e.get("class") == "basemap"]
    first_zone = next(i for i, e in enumerate(children) if e.get("class") == "zone")
    assert children.index(image) < first_zone  # hazards over the tiles, semi-transparent
    zone_opacity = {p.get("fill-opacity") for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "zone"}
    assert all(float(o or 1) < 1 for o in zone_opacity)
    swatches = {r.get("fill-opacity") for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "legend-swatch"}
    assert swatches == zone_opacity
    attribution = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "attribution"]
    assert attribution == ["出典：国土地理院（淡色地図）"]
    # the home marker is drawn exactly over the dot the tiles have at the home's lon/lat
    pixels = decode(image.get("href", ""))
    (dot,) = red_dots(pixels)
    home = next(e for e in root.iter("{http://www.w3.org/2000/svg}circle") if e.get("class") == "marker-home")
    scale = pixels.shape[1] / float(image.get("width", 1))
    assert abs(float(home.get("cx", 0)) * scale - dot[0]) < 1.5
    assert abs(float(home.get("cy", 0)) * scale - dot[1]) < 1.5


def test_offline_or_unreachable_tiles_fall_back_to_the_plain_map(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for source in (TileSource(f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png", "出典", tmp_path / "a", timeout=1.0),
                   TileSource("http://127.0.0.1:9/{z}/{x}/{y}.png", "出典", tmp_path / "b", offline=True)):
        svg = painter(source, basemap=True).svg(markers())
        root = parse(svg)
        assert "<image" not in svg and "attribution" not in svg and "出典" not in svg
        assert [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "zone"]
        assert {p.get("fill-opacity") for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "zone"} == {"1.0", "0.85"}


def test_default_source_follows_the_settings_and_tests_stay_offline(tile_server: TileServer,  # noqa: F811
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    assert "<image" not in painter(basemap=True).svg(markers())  # conftest: DISASTER_TILE_OFFLINE=1
    monkeypatch.setenv("DISASTER_TILE_OFFLINE", "0")
    monkeypatch.setenv("DISASTER_TILE_URL", tile_server.url)
    monkeypatch.setenv("DISASTER_TILE_CACHE_DIR", str(tmp_path))
    assert "<image" in painter(basemap=True).svg(markers())
    assert tile_server.requests


def test_large_print_scales_the_map_texts() -> None:
    normal, large = (parse(painter().svg(markers(), text_scale=s)) for s in (1.0, 1.5))
    # map labels scale fully; the legend too, unless it would take more than ~1/3 of the height
    for cls, factor in (("label", 1.45), ("legend-label", 1.25)):
        a = {float(t.get("font-size", 0)) for t in normal.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == cls}
        b = {float(t.get("font-size", 0)) for t in large.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == cls}
        assert min(b) >= min(a) * factor


def test_weasyprint_draws_the_basemap_image(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    """The SVG as a PDF embeds it: the basemap becomes an image in the PDF (checked by rasterising
    and finding the tile colours)."""
    weasyprint = pytest.importorskip("weasyprint")
    from PIL import Image

    def bluish_pixels(svg: str, name: str) -> int:
        weasyprint.HTML(string=f"<html><body>{svg}</body></html>").write_pdf(tmp_path / f"{name}.pdf")
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(tmp_path / f"{name}.pdf"),
                        str(tmp_path / name)], check=True)
        pixels = np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB")).astype(int)
        return int(((pixels[:, :, 2] - pixels[:, :, 0] > 25) & (pixels[:, :, 2] > pixels[:, :, 1])).sum())

    # the test tiles are bluish; the map without them has only the small blue 第2 marker and swatch
    assert bluish_pixels(painter(tile_server.source(tmp_path), basemap=True).svg(markers()), "with") > 5000
    assert bluish_pixels(painter().svg(markers()), "without") < 500


def test_the_plan_pdf_fetcher_lets_the_basemap_through(tile_server: TileServer, tmp_path: Path) -> None:  # noqa: F811
    weasyprint = pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    from disaster.pdf.fetcher import AssetFetcher

    svg = painter(tile_server.source(tmp_path), basemap=True).svg(markers())
    weasyprint.HTML(string=f"<html><body>{svg}</body></html>", url_fetcher=AssetFetcher({}),
                    base_url="asset:").write_pdf(tmp_path / "p.pdf")
    assert len(pypdf.PdfReader(tmp_path / "p.pdf").pages[0].images) == 1


def test_map_and_legend_fill_exactly_the_requested_size() -> None:
    p = painter()
    for width, height, scale in ((92, 66, 1.0), (194, 58, 1.33), (60, 80, 1.0), (92, 40, 1.5)):
        for shelter in (SHELTER, (HOME[0] + 0.08, HOME[1] - 0.05)):
            root = parse(p.svg(markers(shelter=shelter), width, height, text_scale=scale))
            vb_w, vb_h = view_box(root)
            assert abs(vb_w / vb_h - width / height) < 0.01 * width / height, (width, height, scale)
            bottoms = [b[4] for b in text_boxes(root, "legend-label")]
            assert bottoms and max(bottoms) <= vb_h, (width, height, scale)
