"""図上訓練 materials: the DIG base map (whole 校区 on the sheet, legend, grid shared with the cards,
optional basemap) and the new sheets (person stickers, クロノロジー, role cards, materials list,
feedback form matching what `exercise record` stores), all without personal data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pypdf import PdfReader

from disaster.access import Principal
from disaster.exercises.materials import RATINGS, ROLES
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import ExerciseSession
from disaster.usecases.exercises import new_pack
from maps.dig import DigShelter, dig_sheet, dig_svg, exercise_grid
from tests.test_exercises import _district_residents

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = gpd.read_file(ROOT / "data" / "demo_bundle" / "districts.geojson")
START = dt.datetime(2026, 7, 8, 18, 0)
EMPTY_ZONES = gpd.GeoDataFrame({"layer": [], "rank": [], "landslide_class": []}, geometry=[], crs=4326)
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="


def _district_path(svg: str) -> np.ndarray:
    path = re.search(r'<path id="district" d="([^"]+)"', svg)
    assert path is not None
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.group(1))]
    return np.array(numbers).reshape(-1, 2)


@pytest.mark.parametrize("size", [(811, 562), (1169, 809)])  # A1 and A0 sheets inside the margins
def test_every_district_fits_whole_on_the_sheet_at_a_round_scale(size) -> None:
    for name, geometry in zip(DISTRICTS["name"], DISTRICTS.geometry, strict=True):
        sheet = dig_sheet(geometry, *size)
        xs, ys = sheet.to_sheet(*np.asarray(geometry.exterior.coords if geometry.geom_type == "Polygon"
                                            else np.vstack([p.exterior.coords for p in geometry.geoms])).T)
        assert xs.min() > 0 and ys.min() > 0, name
        assert xs.max() < sheet.map_width_mm and ys.max() < sheet.map_height_mm, name
        assert sheet.scale in (1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000)
        grid = sheet.grid
        assert grid.cols <= 10 and grid.rows <= 10
        minx, miny, maxx, maxy = geometry.bounds  # the grid covers the whole district
        west, south, east, north = grid.bounds_wgs84()
        assert west < minx and south < miny and east > maxx and north > maxy, name


def test_dig_map_has_a_legend_the_grid_and_the_whole_district() -> None:
    geometry = DISTRICTS.set_index("name").geometry["安武"]
    zones = gpd.GeoDataFrame({"layer": ["flood_l2_depth", "landslide"], "rank": [3, None], "landslide_class": [0, 2]},
                             geometry=[geometry.centroid.buffer(0.004), geometry.centroid.buffer(0.001)], crs=4326)
    centre = geometry.representative_point()
    shelters = [DigShelter("高台小学校", centre.x, centre.y, True), DigShelter("川沿い公民館", centre.x + 0.002, centre.y, False),
                DigShelter("福祉の里", centre.x, centre.y + 0.002, True, True)]
    svg = dig_svg(geometry, zones, shelters, 811, 562, name="安武")
    sheet = dig_sheet(geometry, 811, 562)
    points = _district_path(svg)
    assert (points[:, 0] > 0).all() and (points[:, 0] < sheet.map_width_mm).all()
    assert (points[:, 1] > 0).all() and (points[:, 1] < sheet.map_height_mm).all()
    for text in ("凡例", "洪水 浸水3.0m以上5.0m未満", "土砂災害特別警戒区域", "避難所（大雨のときも使える場所）",
                 "大雨のときは使わない", "福祉避難所", "安武校区の境界", f"1:{sheet.scale:,}", "状況付与カード", "高台小学校"):
        assert text in svg, text
    grid = exercise_grid(geometry)
    labels = set(re.findall(r">([A-P])</text>", svg)) - {"N"}  # N: the north arrow
    assert labels == set("ABCDEFGHIJKLMNOP"[:grid.cols])
    assert str(grid.rows) in re.findall(r">(\d+)</text>", svg) and str(grid.rows + 1) not in re.findall(r">(\d+)</text>", svg)
    assert "背景地図：" not in svg and "<image" not in svg and "背景地図なし" in svg


def test_dig_map_takes_a_basemap_for_its_own_frame() -> None:
    geometry = DISTRICTS.set_index("name").geometry["城島"]
    sheet = dig_sheet(geometry, 811, 562)
    calls = []

    def provider(bounds, width, height):
        calls.append((bounds, width, height))
        return SimpleNamespace(data_uri=PNG, attribution="出典：国土地理院（淡色地図）")

    image = provider(sheet.map_bounds_wgs84, *sheet.map_px())
    svg = dig_svg(geometry, EMPTY_ZONES, [], 811, 562, name="城島", basemap_uri=image.data_uri, attribution=image.attribution)
    assert PNG in svg and "出典：国土地理院（淡色地図）" in svg and "背景地図：" in svg
    west, south, east, north = calls[0][0]
    assert west < geometry.bounds[0] and east > geometry.bounds[2] and calls[0][1] > calls[0][2] > 1000


def test_monochrome_dig_map_has_no_hazard_colours() -> None:
    geometry = DISTRICTS.set_index("name").geometry["安武"]
    zones = gpd.GeoDataFrame({"layer": ["flood_l2_depth"], "rank": [2], "landslide_class": [0]},
                             geometry=[geometry.centroid.buffer(0.003)], crs=4326)
    centre = geometry.representative_point()
    shelters = [DigShelter("川沿い公民館", centre.x, centre.y, False), DigShelter("高台小学校", centre.x + 0.003, centre.y, True)]
    svg = dig_svg(geometry, zones, shelters, 811, 562, monochrome=True, name="安武")
    assert "#FFD8C0" not in svg and "#D8D8D8" in svg
    assert not re.search(r"#(C00000|1B7F3B|1B5E9F|7A7A7A)", svg)  # symbols in black and white too


def test_pack_has_every_material_with_its_fields_and_no_personal_data(demo_store, tmp_path: Path) -> None:
    calls = []

    def provider(bounds, width, height):
        calls.append(bounds)
        return SimpleNamespace(data_uri=PNG, attribution="出典：テスト地図")

    pack = new_pack(demo_store.sessions, Principal.cli(demo_store.city_code), "安武", ExerciseHazard.FLOOD, tmp_path, START, seed=3,
                    basemap=provider)
    names = {p.name for p in pack.files}
    assert {"role_cards.pdf", "person_sheet.pdf", "chronology.pdf", "materials_list.pdf", "feedback_form.pdf"} <= names
    text = {p.name: "".join(page.extract_text() for page in PdfReader(p).pages).replace(" ", "").replace("\n", "")
            for p in pack.files if p.suffix == ".pdf"}
    feedback = text["feedback_form.pdf"]
    for label, field, _ in RATINGS:  # the form asks what `exercise record` stores
        assert label in feedback and hasattr(ExerciseSession, field)
    assert all(role in feedback for role in ROLES)
    assert all(word in feedback for word in ("よかった点", "改善点", "課題", "対応", "担当", "期限"))
    assert all(str(v) in feedback for v in range(1, 6))
    chronology = text["chronology.pdf"]
    assert all(word in chronology for word in ("想定時刻", "経過", "判断・指示・行動", "担当"))
    roles = text["role_cards.pdf"]
    assert all(word in roles for word in ("進行役", "状況付与係", "記録係", "評価者", "情報班", "要支援者班", "避難所班"))
    materials = text["materials_list.pdf"]
    assert all(word in materials for word in ("DIG基図", "透明シート", "人物シート", "状況付与カード", "アンケート"))
    people = text["person_sheet.pdf"]
    assert "Aさん" in people and "地図：" in people and "支援者" in people
    cards = text["inject_cards.pdf"]
    assert "想定時刻" in cards and "訓練開始から" in cards
    guide = text["facilitator_guide.pdf"]
    assert "瀬ノ下観測所" in guide and "避難判断水位" in guide and "訓練用の値" in guide and "状況付与" in guide
    assert "YESの言い分" in text["dilemma_cards.pdf"] and "NOの言い分" in text["dilemma_cards.pdf"]
    assert "出典：テスト地図" in text["dig_map.pdf"] and calls
    assert len(PdfReader(tmp_path / "dig_map.pdf").pages[0].images) == 1  # the basemap is printed
    for resident in _district_residents(demo_store, "安武"):
        for name, body in text.items():
            assert resident.name.replace(" ", "") not in body, (name, resident.resident_no)
            assert resident.address.replace(" ", "") not in body and (resident.phone or "@@") not in body
            assert resident.resident_no not in body
    assert shapely.Point(*calls[0][:2]).is_valid
    for path in pack.files:  # demo data: every page of every printed material says so
        if path.suffix == ".pdf":
            for page in PdfReader(path).pages:
                assert "デモデータ" in page.extract_text().replace(" ", ""), path.name


def test_usable_shelters_beyond_the_sheet_are_listed_with_direction_and_distance() -> None:
    geometry = DISTRICTS.set_index("name").geometry["安武"]
    centre = geometry.centroid
    far_west = DigShelter("遠くの小学校", centre.x - 0.04, centre.y, safe=True)  # ~3.7 km west, off the sheet
    flooded = DigShelter("水の中の公民館", centre.x + 0.04, centre.y, safe=False)
    empty = gpd.GeoDataFrame({"layer": [], "rank": [], "landslide_class": []}, geometry=[], crs=4326)
    svg = dig_svg(geometry, empty, [far_west, flooded], 811, 562, name="安武")
    assert "遠くの小学校（西へ約3.7km）" in svg
    assert "水の中の公民館（" not in svg  # an unusable place is not offered as somewhere to go
