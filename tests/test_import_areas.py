"""City boundary (N03) and 校区 polygons (A27 or any polygon file) with the 校区 table."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from sqlalchemy import select

from disaster.importers.geofile import GeoFileError
from disaster.importers.problems import ImportRejected
from disaster.models import City, District
from disaster.usecases.imports import import_boundary, import_districts
from tests.helpers import snapshot, square, write_csv, write_geojson

TABLE_HEADER = ["district", "area", "houkatsu_center", "houkatsu_tel", "houkatsu_fax", "kikan_center", "kikan_tel",
                "kikan_fax", "seikatsu_center", "seikatsu_tel", "seikatsu_fax"]


def test_n03_boundary_of_the_city_only(store, shared_data: Path) -> None:
    import_boundary(store.sessions, shared_data / "raw/n03_fukuoka_2021_s0010.geojson", store.city_code)
    with store.sessions() as session:
        city = session.get(City, store.city_code)
        boundary = shapely.from_wkb(city.boundary)
    assert boundary.contains(shapely.Point(130.476403, 33.292614))  # 安武小学校
    assert not boundary.contains(shapely.Point(130.4017, 33.5904))  # 福岡市役所


def test_a27_school_districts_filtered_to_the_city_and_named_without_suffix(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "A27.geojson", [
        (square(130.47, 33.28, 0.01), {"A27_001": "40203", "A27_002": "久留米市", "A27_003": "B140220000001", "A27_004": "久留米市立安武小学校"}),
        (square(130.50, 33.28, 0.01), {"A27_001": "40203", "A27_002": "久留米市", "A27_003": "B140220000002", "A27_004": "荒木小学校"}),
        (square(130.40, 33.50, 0.01), {"A27_001": "40130", "A27_002": "福岡市", "A27_003": "B140220000003", "A27_004": "博多小学校"}),
    ])
    report = import_districts(store.sessions, path, store.city_code)
    assert report.created == 2
    with store.sessions() as session:
        assert sorted(session.scalars(select(District.name))) == ["安武", "荒木"]


def test_an_older_a27_edition_names_the_school_in_a27_003(store, tmp_path: Path) -> None:
    """平成 editions: A27_003 名称, A27_004 所在地 — the address must not become the 校区 name."""
    path = write_geojson(tmp_path / "A27-16.geojson", [
        (square(130.47, 33.28, 0.01), {"A27_001": "40203", "A27_002": "久留米市", "A27_003": "久留米市立安武小学校",
                                        "A27_004": "久留米市安武町武島1"}),
        (square(130.50, 33.28, 0.01), {"A27_001": "40203", "A27_002": "久留米市", "A27_003": "荒木小学校",
                                        "A27_004": "久留米市荒木町荒木2"}),
    ])
    assert import_districts(store.sessions, path, store.city_code).created == 2
    with store.sessions() as session:
        assert sorted(session.scalars(select(District.name))) == ["安武", "荒木"]


def test_generic_polygons_with_table_attach_area_and_centres(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [
        (square(130.47, 33.28, 0.01), {"校区名": "安武"}),
        (square(130.49, 33.28, 0.005), {"校区名": "安武"}),  # multipart 校区
    ])
    table = write_csv(tmp_path / "t.csv", TABLE_HEADER, [
        ["安武", "西", "西包括", "0942-51-6100", "", "西部基幹", "0942-27-2038", "", "生活自立支援センター(西部)", "0942-30-9185", ""],
    ])
    import_districts(store.sessions, path, store.city_code, table=table)
    import_districts(store.sessions, path, store.city_code, table=table)  # idempotent
    with store.sessions() as session:
        (district,) = session.scalars(select(District)).all()
        assert district.area == "西"
        assert shapely.from_wkb(district.geom).geom_type == "MultiPolygon"
        assert {(c.kind, c.tel) for c in district.centres} == {
            ("houkatsu", "0942-51-6100"), ("kikan", "0942-27-2038"), ("seikatsu", "0942-30-9185")}


def test_table_row_without_polygon_and_bad_features_reject_everything(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [
        (square(130.47, 33.28, 0.01), {"name": "安武"}),
        ({"type": "Point", "coordinates": [130.5, 33.3]}, {"name": "点"}),
    ])
    table = write_csv(tmp_path / "t.csv", TABLE_HEADER, [["城島", "西", "西包括", "", "", "", "", "", "", "", ""]])
    before = snapshot(store)
    with pytest.raises(ImportRejected) as caught:
        import_districts(store.sessions, path, store.city_code, table=table)
    messages = [str(p) for p in caught.value.problems]
    assert any("d.geojson 地物2" in m and "Point" in m for m in messages)
    assert any("t.csv" in m and "城島" in m for m in messages)
    assert snapshot(store) == before


def test_polygon_file_without_a_name_column_says_how_to_fix(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [(square(130.47, 33.28, 0.01), {"label": "安武"})])
    with pytest.raises(GeoFileError, match="--name-column"):
        import_districts(store.sessions, path, store.city_code)
    import_districts(store.sessions, path, store.city_code, name_column="label")
