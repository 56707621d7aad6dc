"""名簿 as 住民基本台帳 systems and hand-kept Excel files export them: title lines, total rows,
two-row headers with merged cells, date forms, and re-imports that never blank stored values."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.cli import app
from disaster.importers.problems import ImportRejected
from disaster.importers.tabular import TableError
from disaster.models import EmergencyContact, Resident
from disaster.usecases.imports import import_boundary, import_districts, import_residents, import_supporters
from tests.conftest import BUNDLE
from tests.helpers import write_csv

TODAY = dt.date(2026, 4, 1)
HEADER = ["名簿番号", "氏名", "生年月日", "住所", "電話番号", "校区", "緯度", "経度", "要介護度"]
YASUTAKE = ("33.292000", "130.476000")


def _row(no: str, birth: str = "S15.3.2", care: str = "要介護1") -> list[str]:
    return [no, f"氏名{no}", birth, "久留米市安武町武島1", f"0942-00-{no}", "安武", *YASUTAKE, care]


def write_rows(path: Path, rows: list[list[object]], encoding: str = "cp932") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def kurume(store):
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


def _stored(store) -> dict[str, Resident]:
    with store.sessions() as session:
        return {r.resident_no: r for r in session.scalars(select(Resident))}


def test_title_lines_blank_lines_and_trailing_totals(kurume, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "meibo.csv", [
        [],
        ["避難行動要支援者名簿（令和8年4月1日現在）"],
        ["久留米市 地域福祉課", "", "", "出力日 2026/04/01"],
        HEADER,
        _row("001"),
        _row("002", birth="R5.2.30"),  # impossible date: the row number is the spreadsheet's
        _row("003"),
        [],
        ["合計", "3名"],
        ["総数：3"],
    ])
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert [(p.row, p.field) for p in caught.value.problems] == [(6, "生年月日")]
    path = write_rows(tmp_path / "meibo.csv", [[], ["避難行動要支援者名簿"], HEADER, _row("001"), _row("002"), ["合計", "2名"]])
    report = import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert report.created == 2
    assert report.notices == ["meibo.csv 6行目は合計の行（「合計」）とみなして読み飛ばしました。"]


def test_header_row_option_and_missing_columns_name_the_row_read(kurume, tmp_path: Path) -> None:
    rows = [["名簿番号", "氏名"], ["整理表"], HEADER, _row("001")]  # a first line that looks like a header
    path = write_rows(tmp_path / "m.csv", rows)
    assert import_residents(kurume.sessions, path, kurume.city_code, today=TODAY, header_row=3).created == 1
    with pytest.raises(TableError, match="1行目を見出しとして読みました: 名簿番号、氏名.*--header-row.*--mapping"):
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY, header_row=1)
    with pytest.raises(TableError, match="9行目"):
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY, header_row=9)
    result = CliRunner().invoke(app, ["import", "residents", str(path), "--header-row", "3"], env={"DISASTER_DB": kurume.url})
    assert result.exit_code == 0, result.output


def test_excel_with_merged_cells_two_row_headers_and_date_cells(kurume, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["避難行動要支援者名簿"])
    sheet.merge_cells("A1:J1")  # a title across the sheet
    sheet.append(["名簿番号", "氏名", "生年月日", "住所", "校区", "位置", None, "緊急連絡先1", None, "要介護度"])
    sheet.append([None, None, None, None, None, "緯度", "経度", "氏名", "電話", None])
    for column in "ABCDEJ":  # single headers merged over both header rows
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("F2:G2")
    sheet.merge_cells("H2:I2")
    sheet.append(["001", "筑後 花子", dt.datetime(1940, 3, 2), "久留米市安武町武島1", "安武", *map(float, YASUTAKE),
                  "筑後 一郎", "090-0000-0001", "要介護1"])
    sheet.append(["002", "筑後 太郎", 14672, "久留米市安武町武島2", None, *map(float, YASUTAKE), None, None, "要支援1"])
    sheet.append(["003", "筑後 次郎", "1940/03/02 0:00:00", "久留米市安武町武島3", None, *map(float, YASUTAKE), None, None, None])
    sheet.merge_cells("E4:E6")  # one 校区 cell for three residents
    path = tmp_path / "meibo.xlsx"
    workbook.save(path)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nlat = "位置 緯度"\nlon = "位置 経度"\n', encoding="utf-8")
    report = import_residents(kurume.sessions, path, kurume.city_code, mapping=mapping, today=TODAY)
    assert report.created == 3
    stored = _stored(kurume)
    assert {no: r.birth_date for no, r in stored.items()} == dict.fromkeys(("001", "002", "003"), dt.date(1940, 3, 2))
    with kurume.sessions() as session:
        districts = {r.resident_no: r.district.name for r in session.scalars(select(Resident))}
        contacts = session.execute(select(EmergencyContact.name, EmergencyContact.phone)).all()
    assert districts == dict.fromkeys(("001", "002", "003"), "安武")
    assert contacts == [("筑後 一郎", "090-0000-0001")]  # "緊急連絡先1 氏名" is 緊急連絡先1氏名


def test_csv_two_row_header_continues_the_group_over_blank_cells(kurume, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "m.csv", [
        ["名簿番号", "氏名", "生年月日", "住所", "緯度", "経度", "緊急連絡先1", "", "", "緊急連絡先2", ""],
        ["", "", "", "", "", "", "氏名", "続柄", "電話", "氏名", "電話"],
        ["001", "a", "S15.3.2", "久留米市安武町武島1", *YASUTAKE, "筑後 一郎", "長男", "090-1", "筑後 二郎", "090-2"],
    ])
    import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    with kurume.sessions() as session:
        contacts = session.execute(select(EmergencyContact.priority, EmergencyContact.name, EmergencyContact.relation,
                                          EmergencyContact.phone).order_by(EmergencyContact.priority)).all()
    assert contacts == [(1, "筑後 一郎", "長男", "090-1"), (2, "筑後 二郎", None, "090-2")]


def test_skip_bad_rows_never_blanks_stored_values_from_a_column_it_could_not_read(kurume, tmp_path: Path) -> None:
    full = write_csv(tmp_path / "full.csv", [*HEADER, "緊急連絡先1氏名"],
                     [[*_row("001"), "家族 一"], [*_row("002"), "家族 二"]], encoding="cp932")
    import_residents(kurume.sessions, full, kurume.city_code, today=TODAY)
    # a later export without the phone, care level and contact columns; row 002 has a bad date
    partial = write_csv(tmp_path / "partial.csv", ["名簿番号", "氏名", "生年月日", "住所", "緯度", "経度"], [
        ["001", "新しい 氏名", "S15.3.2", "久留米市安武町武島1", *YASUTAKE],
        ["002", "別の 氏名", "R5.2.30", "久留米市安武町武島1", *YASUTAKE],
    ], encoding="cp932")
    report = import_residents(kurume.sessions, partial, kurume.city_code, skip_bad_rows=True, today=TODAY)
    assert report.updated == 1 and [p.row for p in report.problems] == [3]
    stored = _stored(kurume)
    assert (stored["001"].name, stored["001"].phone, stored["001"].care_level) == ("新しい 氏名", "0942-00-001", "要介護1")
    assert (stored["002"].name, stored["002"].birth_date) == ("氏名002", dt.date(1940, 3, 2))  # the bad row: untouched
    with kurume.sessions() as session:
        assert sorted(session.scalars(select(EmergencyContact.name))) == ["家族 一", "家族 二"]


def test_supporter_list_with_a_title_line_and_a_total_row(kurume, tmp_path: Path) -> None:
    import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", HEADER, [_row("001")]), kurume.city_code, today=TODAY)
    path = write_rows(tmp_path / "s.csv", [["避難支援等実施者一覧"], ["支援者番号", "氏名", "支援対象者番号"],
                                           ["S1", "支援 一", "001"], ["計", "1"]])
    report = import_supporters(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert report.created == 1 and "4行目は合計の行" in report.notices[0]
