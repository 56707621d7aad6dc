"""The 校区 table as a city keeps it: Japanese headers, optional centres, any city's school names."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from disaster.importers.areas import district_name_from
from disaster.importers.geofile import GeoFileError
from disaster.models import District
from disaster.usecases.imports import import_districts
from tests.helpers import square, write_csv, write_geojson


def _polygons(tmp_path: Path) -> Path:
    return write_geojson(tmp_path / "d.geojson", [
        (square(130.47, 33.28, 0.01), {"校区名": "安武"}), (square(130.50, 33.28, 0.01), {"校区名": "荒木"})])


def test_japanese_headers_with_a_title_line_and_school_names(store, tmp_path: Path) -> None:
    table = write_csv(tmp_path / "校区表.csv", ["校区一覧（令和8年度）"], [
        [],
        ["校区", "圏域", "地域包括支援センター", "地域包括支援センター 電話", "地域包括支援センターFAX"],
        ["〇〇市立安武小学校", "西", "西包括", "0942-00-0001", "0942-00-0002"],
        ["荒木", "南", "", "", ""],  # no centre for this 校区
    ], encoding="cp932")
    import_districts(store.sessions, _polygons(tmp_path), store.city_code, table=table)
    with store.sessions() as session:
        districts = {d.name: d for d in session.scalars(select(District))}
        assert districts["安武"].area == "西"
        assert [(c.kind, c.name, c.tel, c.fax) for c in districts["安武"].centres] == [
            ("houkatsu", "西包括", "0942-00-0001", "0942-00-0002")]
        assert districts["荒木"].area == "南" and districts["荒木"].centres == []


def test_only_the_district_column_is_required(store, tmp_path: Path) -> None:
    table = write_csv(tmp_path / "t.csv", ["校区名"], [["安武"], ["荒木"]])
    assert import_districts(store.sessions, _polygons(tmp_path), store.city_code, table=table).created == 2
    missing = write_csv(tmp_path / "bad.csv", ["地区", "圏域"], [["安武", "西"]])
    with pytest.raises(GeoFileError, match="校区名の列.*1行目を見出し"):
        import_districts(store.sessions, _polygons(tmp_path), store.city_code, table=missing)


@pytest.mark.parametrize(("name", "district"), [
    ("久留米市立安武小学校", "安武"), ("大川市立川口小学校", "川口"), ("大刀洗町立大堰小学校", "大堰"),
    ("東峰村立東峰小学校", "東峰"), ("東京都港区立青山小学校", "青山"), ("荒木小学校", "荒木"),
    ("上村小学校", "上村"), ("安武校区コミュニティセンター", "安武"),
])
def test_school_founders_of_any_municipality_are_stripped(name: str, district: str) -> None:
    assert district_name_from(name) == district
