"""MLIT 位置参照情報 (CP932 CSV as published, both levels) and 名簿 rows located from their address."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.access import Principal
from disaster.cli import app
from disaster.importers.problems import ImportRejected
from disaster.importers.tabular import TableError
from disaster.models import AddressPoint, Assessment, Resident, Supporter
from disaster.plans.context import plan_contexts
from disaster.usecases.imports import (
    import_address_points,
    import_boundary,
    import_districts,
    import_residents,
    import_supporters,
)
from disaster.usecases.maps import load_map_inputs
from maps.interactive import resident_rows
from tests.conftest import BUNDLE
from tests.helpers import snapshot, write_csv

TODAY = dt.date(2026, 4, 1)
# published headers (街区レベル 22.0a, 大字・町丁目レベル 17.0b)
BLOCK_HEADER = ["都道府県名", "市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番", "座標系番号", "Ｘ座標", "Ｙ座標",
                "緯度", "経度", "住居表示フラグ", "代表フラグ", "更新前履歴フラグ", "更新後履歴フラグ"]
TOWN_HEADER = ["都道府県コード", "都道府県名", "市区町村コード", "市区町村名", "大字町丁目コード", "大字町丁目名", "緯度", "経度",
               "原典資料コード", "大字・字・丁目区分コード"]
# inside the demo 校区 安武 and 荒木
TAKESHIMA_12 = (33.292000, 130.476000)
TAKESHIMA_TOWN = (33.291500, 130.475500)
ARAKI_TOWN = (33.270249, 130.501258)
ZONE_II = Transformer.from_crs(4326, 6670, always_xy=True)  # JGD2011 平面直角座標系 II系


def _xy(lat: float, lon: float) -> tuple[str, str]:
    easting, northing = ZONE_II.transform(lon, lat)
    return f"{northing:.1f}", f"{easting:.1f}"


def block_row(town: str, block: str, where: tuple[float, float] | None, city: str = "久留米市",
              representative: str = "1", history: str = "0") -> list[str]:
    x, y = _xy(*where) if where else ("", "")
    lat, lon = (f"{where[0]:.6f}", f"{where[1]:.6f}") if where else ("", "")
    return ["福岡県", city, town, "", block, "2", x, y, lat, lon, "0", representative, history, "0"]


def write_isj(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """As MLIT publishes them: CP932, every field quoted."""
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def block_file(tmp_path: Path) -> Path:
    return write_isj(tmp_path / "40_2023.csv", BLOCK_HEADER, [
        block_row("安武町武島", "12", TAKESHIMA_12),
        block_row("安武町武島", "12", (33.3, 130.48), representative="0"),  # not the representative point
        block_row("安武町武島", "99", (33.2921, 130.4761), history="3"),  # flagged as deleted
        block_row("酒見", "123", (33.21, 130.36), city="大川市"),  # another city in the prefecture file
    ])


def town_file(tmp_path: Path) -> Path:
    return write_isj(tmp_path / "40000-17.0b.csv", TOWN_HEADER, [
        ["40", "福岡県", "40203", "久留米市", "402030123000", "安武町武島", f"{TAKESHIMA_TOWN[0]}", f"{TAKESHIMA_TOWN[1]}", "1", "1"],
        ["40", "福岡県", "40203", "久留米市", "402030456000", "荒木町荒木", f"{ARAKI_TOWN[0]}", f"{ARAKI_TOWN[1]}", "1", "1"],
        ["40", "福岡県", "40212", "大川市", "402120001000", "大字酒見", "33.21", "130.36", "1", "1"],
    ])


@pytest.fixture
def kurume(store):
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


def _points(store) -> list[tuple[str, str, str, float, float]]:
    with store.sessions() as session:
        return [(p.level, p.town, p.block, round(p.lat, 6), round(p.lon, 6))
                for p in session.scalars(select(AddressPoint).order_by(AddressPoint.level, AddressPoint.town))]


def test_both_levels_import_the_citys_representative_points_only(kurume, tmp_path: Path) -> None:
    report = import_address_points(kurume.sessions, [block_file(tmp_path), town_file(tmp_path)], kurume.city_code)
    assert report.created == 3
    assert _points(kurume) == [
        ("block", "安武町武島", "12", *TAKESHIMA_12),
        ("town", "安武町武島", "", *TAKESHIMA_TOWN),
        ("town", "荒木町荒木", "", *ARAKI_TOWN),
    ]
    assert "街区 1 地点" in report.notices[0] and "大字・町丁目 2 地点" in report.notices[0]
    # importing a level again replaces the city's points of that level, and only those
    again = write_isj(tmp_path / "b2.csv", BLOCK_HEADER, [block_row("安武町武島", "13", TAKESHIMA_12)])
    import_address_points(kurume.sessions, [again], kurume.city_code)
    assert [p[:3] for p in _points(kurume)] == [("block", "安武町武島", "13"), ("town", "安武町武島", ""), ("town", "荒木町荒木", "")]


def test_points_given_only_in_the_plane_rectangular_system_are_converted(kurume, tmp_path: Path) -> None:
    row = block_row("安武町武島", "12", TAKESHIMA_12)
    row[8] = row[9] = ""  # 緯度・経度 empty: Ｘ/Ｙ of 座標系 II
    import_address_points(kurume.sessions, [write_isj(tmp_path / "xy.csv", BLOCK_HEADER, [row])], kurume.city_code)
    ((_, _, _, lat, lon),) = _points(kurume)
    assert abs(lat - TAKESHIMA_12[0]) < 1e-6 and abs(lon - TAKESHIMA_12[1]) < 1e-6


def test_the_downloaded_zip_is_read_as_is(kurume, tmp_path: Path) -> None:
    archive = tmp_path / "40000-17.0b.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(town_file(tmp_path), "40000-17.0b/40_2023.csv")
    assert import_address_points(kurume.sessions, [archive], kurume.city_code).created == 2


def test_bad_points_name_file_row_and_field_and_write_nothing(kurume, tmp_path: Path) -> None:
    rows = [block_row("安武町武島", "12", TAKESHIMA_12), block_row("安武町武島", "13", (10.0, 100.0)),
            block_row("安武町武島", "14", None)]
    path = write_isj(tmp_path / "bad.csv", BLOCK_HEADER, rows)
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_address_points(kurume.sessions, [path], kurume.city_code)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("bad.csv 3行目「緯度」") and "日本の範囲外" in m for m in messages)
    assert any(m.startswith("bad.csv 4行目「緯度」") and "空です" in m for m in messages)
    assert snapshot(kurume) == before


def test_a_file_of_another_format_or_without_the_city_says_so(kurume, tmp_path: Path) -> None:
    other = write_csv(tmp_path / "x.csv", ["住所", "緯度", "経度"], [["安武町", "33.29", "130.47"]])
    with pytest.raises(TableError, match="位置参照情報.*形式ではありません"):
        import_address_points(kurume.sessions, [other], kurume.city_code)
    okawa = write_isj(tmp_path / "okawa.csv", BLOCK_HEADER, [block_row("酒見", "1", (33.21, 130.36), city="大川市")])
    with pytest.raises(TableError, match="久留米市（402036）の地点がありません.*大川市"):
        import_address_points(kurume.sessions, [okawa], kurume.city_code)


MEIBO_HEADER = ["名簿番号", "氏名", "生年月日", "住所", "緯度", "経度", "要介護度"]


def _meibo(tmp_path: Path, rows: list[list[str]], name: str = "meibo.csv") -> Path:
    return write_csv(tmp_path / name, MEIBO_HEADER, rows, encoding="cp932")


def _residents(store) -> dict[str, tuple[float, float, str]]:
    with store.sessions() as session:
        return {r.resident_no: (round(r.lat, 6), round(r.lon, 6), r.location_level) for r in session.scalars(select(Resident))}


def test_rows_without_coordinates_are_located_by_block_then_town(kurume, tmp_path: Path) -> None:
    import_address_points(kurume.sessions, [block_file(tmp_path), town_file(tmp_path)], kurume.city_code)
    path = _meibo(tmp_path, [
        ["001", "a", "S.15.3.2", "福岡県久留米市安武町武島１２番地の３", "", "", ""],
        ["002", "b", "昭15.3.2", "安武町武島 五百番地", "", "", ""],  # 街区 unknown: 町丁目の代表点
        ["003", "c", "19400302", "久留米市荒木町荒木1-1", "", "", ""],
        ["004", "d", "14672", "どこか", "33.291", "130.477", ""],  # given coordinates win
    ])
    report = import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert report.created == 4
    assert _residents(kurume) == {
        "001": (*TAKESHIMA_12, "block"), "002": (*TAKESHIMA_TOWN, "town"),
        "003": (*ARAKI_TOWN, "town"), "004": (33.291, 130.477, "coordinates"),
    }
    with kurume.sessions() as session:
        districts = {r.resident_no: r.district.name for r in session.scalars(select(Resident))}
    assert districts["001"] == "安武" and districts["003"] == "荒木"  # 校区 from the located point
    assert any("街区 1 人" in n and "町丁目の代表点 2 人" in n for n in report.notices)


def test_unmatched_addresses_are_errors_naming_the_row_or_rejects(kurume, tmp_path: Path) -> None:
    import_address_points(kurume.sessions, [town_file(tmp_path)], kurume.city_code)
    path = _meibo(tmp_path, [
        ["001", "a", "S15.3.2", "久留米市荒木町荒木1-1", "", "", ""],
        ["002", "b", "S15.3.2", "久留米市見知らぬ町9", "", "", ""],
        ["003", "c", "S15.3.2", "荒木町荒木2", "33.27", "", ""],  # one of the pair only
    ])
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("meibo.csv 3行目「住所」") and "位置参照情報" in m for m in messages)
    assert not any("見知らぬ町9" in m for m in messages)  # the address is not echoed
    assert any(m.startswith("meibo.csv 4行目「緯度」") and "片方だけ" in m for m in messages)
    assert snapshot(kurume) == before
    rejects = tmp_path / "rejects.csv"
    report = import_residents(kurume.sessions, path, kurume.city_code, skip_bad_rows=True, rejects=rejects, today=TODAY)
    assert report.created == 1 and sorted(p.row for p in report.problems) == [3, 4]
    assert "見知らぬ町9" in rejects.read_text(encoding="utf-8-sig")


def test_supporters_without_coordinates_are_located_by_address_or_said_to_be_unknown(kurume, tmp_path: Path) -> None:
    """Whether a supporter must flee their own home is part of every plan they appear on: a
    supporter given by address only is located like a resident; one that cannot be located is
    imported without a position and the plan says the check could not be made."""
    import_address_points(kurume.sessions, [block_file(tmp_path), town_file(tmp_path)], kurume.city_code)
    import_residents(kurume.sessions, _meibo(tmp_path, [["001", "a", "S15.3.2", "安武町武島12", "", "", ""]]),
                     kurume.city_code, today=TODAY)
    path = write_csv(tmp_path / "shien.csv", ["支援者番号", "氏名", "住所", "緯度", "経度", "支援対象者番号"], [
        ["S1", "近所 一郎", "久留米市安武町武島12番地", "", "", "001"],
        ["S2", "遠方 二郎", "どこか遠くの町1", "", "", "001"],
    ], encoding="cp932")
    report = import_supporters(kurume.sessions, path, kurume.city_code, today=TODAY)
    with kurume.sessions() as session:
        where = {s.supporter_no: (s.lat and round(s.lat, 6), s.lon and round(s.lon, 6)) for s in session.scalars(select(Supporter))}
        issues = {i["code"] for a in session.scalars(select(Assessment)) for i in a.supporter_issues}
    assert where == {"S1": TAKESHIMA_12, "S2": (None, None)}
    assert any("3 行目" in n or "3行目" in n for n in report.notices), report.notices
    assert "SUPPORTER_LOCATION_UNKNOWN" in issues


def test_without_address_points_a_row_without_coordinates_says_what_to_import(kurume, tmp_path: Path) -> None:
    path = _meibo(tmp_path, [["001", "a", "S15.3.2", "久留米市荒木町荒木1-1", "", "", ""]])
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert "disaster import address-points" in str(caught.value.problems[0])


def test_a_file_without_coordinates_keeps_the_stored_coordinates_of_an_unchanged_address(kurume, tmp_path: Path) -> None:
    import_address_points(kurume.sessions, [town_file(tmp_path)], kurume.city_code)
    first = _meibo(tmp_path, [["001", "a", "S15.3.2", "久留米市荒木町荒木1-1", "33.2705", "130.5015", "要介護3"],
                              ["002", "b", "S15.3.2", "久留米市荒木町荒木2-2", "33.2706", "130.5016", ""]], "first.csv")
    import_residents(kurume.sessions, first, kurume.city_code, today=TODAY)
    later = write_csv(tmp_path / "later.csv", ["名簿番号", "氏名", "生年月日", "住所"],
                      [["001", "a", "S15.3.2", "荒木町荒木１－１"], ["002", "b", "S15.3.2", "久留米市安武町武島3"]],
                      encoding="cp932")
    import_residents(kurume.sessions, later, kurume.city_code, today=TODAY)
    located = _residents(kurume)
    assert located["001"] == (33.2705, 130.5015, "coordinates")  # same address: the precise point stays
    assert located["002"] == (*TAKESHIMA_TOWN, "town")  # moved: located from the new address
    with kurume.sessions() as session:
        care = dict(session.execute(select(Resident.resident_no, Resident.care_level)).all())
    assert care["001"] == "要介護3"  # no 要介護度 column in the later file: the stored value stays


def test_plan_and_leader_map_say_the_point_is_the_towns(kurume, tmp_path: Path) -> None:
    from disaster.usecases.assess import run_assessment

    import_address_points(kurume.sessions, [block_file(tmp_path), town_file(tmp_path)], kurume.city_code)
    path = _meibo(tmp_path, [["001", "a", "S15.3.2", "安武町武島12", "", "", ""],
                             ["002", "b", "S15.3.2", "荒木町荒木1-1", "", "", ""]])
    import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    run_assessment(kurume.sessions, kurume.city_code)
    with kurume.sessions() as session:
        residents = list(session.scalars(select(Resident).order_by(Resident.resident_no)))
        notes = {r.resident_no: c["person"]["location_note"] for r, c in zip(residents, plan_contexts(session, residents, TODAY),
                                                                            strict=True)}
        inputs = load_map_inputs(session, Principal.cli(kurume.city_code))
    assert notes == {"001": None, "002": "位置は町丁目の代表点です"}
    rows = resident_rows(inputs.residents, Principal.cli(kurume.city_code))
    column = rows["columns"].index("location")
    by_no = {row[rows["columns"].index("resident_no")]: row[column] for row in rows["rows"]}
    assert by_no == {"001": None, "002": "位置は町丁目の代表点です"} and "location" in rows["popupColumns"]


def test_cli_imports_address_points(kurume, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "address-points", str(town_file(tmp_path))],
                                env={"DISASTER_DB": kurume.url})
    assert result.exit_code == 0, result.output
    assert "大字・町丁目 2 地点" in result.stdout
