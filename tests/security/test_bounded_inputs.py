"""Issue 14, class 6: bounded inputs. Tables are refused by size and row count before they are
loaded (a workbook by its zip directory), cells and CSV fields by length with a named error,
the header is checked before any row is read, a header-only file is an error; coordinates are
finite and in Japan for residents and supporters; polygons have an area and repairs are
reported; a 名簿番号 given to someone else is refused unless ``replace``.

Big files (a 2.6 MB zip bomb of 1 GB of rows, a sheet of 1,048,576 rows) are made here in tmp_path
from repeated deflate blocks, in well under a second and a few MB of memory. That a refusal
happens before loading is shown by the error itself: it comes from the zip directory or the
sheet's first bytes, which the readers check before openpyxl opens the workbook."""

from __future__ import annotations

import csv
import datetime as dt
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from disaster.importers.areas import read_districts
from disaster.importers.geofile import GeoFileError, read_geodata
from disaster.importers.hazards import read_hazards
from disaster.importers.problems import ImportRejected
from disaster.importers.tabular import Table, TableError, check_workbook, read_table
from disaster.models import Resident
from disaster.settings import get_settings
from disaster.usecases.imports import (
    import_boundary,
    import_districts,
    import_hazards,
    import_residents,
    import_supporters,
)
from tests.conftest import BUNDLE
from tests.helpers import snapshot, square, write_csv, write_geojson

PROBES = Path(__file__).parent / "probes" / "inputs"
HEADER = ["名簿番号", "氏名", "生年月日", "住所", "校区", "緯度", "経度"]
YASUTAKE = ["33.292000", "130.476000"]
TODAY = dt.date(2026, 4, 1)
SHEET_XML_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
ROW = b"<row><c><v>1</v></c></row>"


def _resident(number: str, name: str = "久留米 花子", birth: str = "昭和15年3月2日",
              where: list[str] = YASUTAKE) -> list[str]:
    return [number, name, birth, "福岡県久留米市安武町武島1-1", "安武", *where]


@pytest.fixture
def kurume(store):
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set DISASTER_IMPORT_* limits for one test (the settings are re-read)."""
    yield monkeypatch
    get_settings.cache_clear()


def _set(monkeypatch: pytest.MonkeyPatch, **values: int) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"DISASTER_IMPORT_{name.upper()}", str(value))
    get_settings.cache_clear()


# --- workbooks: refused from the zip directory, before loading ---

def _deflated(parts: list[tuple[bytes, int]]) -> tuple[bytes, int]:
    """Raw deflate of each (bytes, repeat) part: every part is compressed once and its
    independent block (Z_FULL_FLUSH) repeated, so gigabytes cost milliseconds. Returns the
    data and the uncompressed size."""
    out, size = [], 0
    for data, repeat in parts:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        out.append((compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)) * repeat)
        size += len(data) * repeat
    out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())
    return b"".join(out), size


def _xlsx_with_sheet(path: Path, sheet_parts: list[tuple[bytes, int]]) -> Path:
    """A real workbook (openpyxl's own parts) whose first sheet is replaced by ``sheet_parts``.
    The sheet's CRC is not computed (it would cost a pass over gigabytes): a reader must
    refuse the file before decompressing it."""
    template = path.with_suffix(".template.xlsx")
    Workbook().save(template)
    import zipfile

    members: list[tuple[bytes, bytes, int, int]] = []  # name, deflated, crc, size
    with zipfile.ZipFile(template) as archive:
        for info in archive.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                data, size = _deflated(sheet_parts)
                members.append((info.filename.encode(), data, 0, size))
            else:
                raw = archive.read(info)
                data, size = _deflated([(raw, 1)])
                members.append((info.filename.encode(), data, zlib.crc32(raw), size))
    local, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0) + name + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def test_a_zip_bomb_is_refused_from_its_zip_directory(tmp_path: Path) -> None:
    rows_per_block = (1 << 20) // len(ROW)
    bomb = _xlsx_with_sheet(tmp_path / "bomb.xlsx", [(SHEET_XML_HEAD + b"<sheetData>", 1),
                                                      (ROW * rows_per_block, 1_000),
                                                      (b"</sheetData></worksheet>", 1)])
    assert bomb.stat().st_size < 3 * 2**20  # 2.6 MB on disk, 1 GB (38 million rows) inside
    with pytest.raises(TableError, match="展開後の大きさ（1,000 MB）が上限（512 MB）を超えています"):
        check_workbook(bomb)
    with pytest.raises(TableError, match="展開後の大きさ"):
        read_table(bomb)


def test_a_sheet_of_1048576_rows_is_refused_from_its_dimension_or_row_count(tmp_path: Path) -> None:
    rows = 1_048_576
    declared = _xlsx_with_sheet(tmp_path / "declared.xlsx", [
        (SHEET_XML_HEAD + f'<dimension ref="A1:A{rows}"/><sheetData>'.encode(), 1), (ROW, rows),
        (b"</sheetData></worksheet>", 1)])
    with pytest.raises(TableError, match="シートの行数（1,048,576 行）が上限（500,000 行）"):
        read_table(declared)
    undeclared = _xlsx_with_sheet(tmp_path / "undeclared.xlsx", [
        (SHEET_XML_HEAD + b"<sheetData>", 1), (ROW, rows), (b"</sheetData></worksheet>", 1)])
    with pytest.raises(TableError, match="シートの行数（[0-9,]+ 行）が上限（500,000 行）"):  # counting stops past the limit
        check_workbook(undeclared)


def test_a_file_that_is_not_a_workbook_is_a_named_error(tmp_path: Path) -> None:
    fake = tmp_path / "meibo.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TableError, match="meibo.xlsx: Excel ファイルとして読めません"):
        read_table(fake)


def test_a_long_excel_cell_is_a_named_error(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(_resident("001"))
    sheet.append(["002", "x" * 1_001, "S15.3.2", "住所", "安武", *YASUTAKE])
    book.save(tmp_path / "meibo.xlsx")
    with pytest.raises(TableError, match="meibo.xlsx 3行目「氏名」: 1 つのセルの文字数が上限（1,000 文字）"):
        read_table(tmp_path / "meibo.xlsx")


# --- CSV ---

def test_csv_size_rows_and_fields_are_bounded(tmp_path: Path, limits: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "m.csv", HEADER, [_resident(f"{n:03d}") for n in range(1, 12)])
    _set(limits, max_rows=10)
    with pytest.raises(TableError, match="データの行が上限（10 行）を超えています"):
        read_table(path)
    _set(limits, max_rows=11, max_bytes=100)
    with pytest.raises(TableError, match="m.csv: ファイルの大きさ"):
        read_table(path)
    limits.delenv("DISASTER_IMPORT_MAX_BYTES")
    _set(limits, max_rows=11)
    assert len(read_table(path).rows) == 11
    long = write_csv(tmp_path / "long.csv", HEADER, [_resident("001"), ["002", "x" * 1_001, "S15.3.2", "住所", "安武"]])
    with pytest.raises(TableError, match="long.csv 3行目「氏名」: 1 つのセルの文字数が上限"):
        read_table(long)
    huge = write_csv(tmp_path / "huge.csv", HEADER, [_resident("001"), ["002", "x" * 200_000]])  # beyond csv's own 131,072
    with pytest.raises(TableError, match="huge.csv 3行目: CSV として読めないか、1 つのセルの文字数が上限"):
        read_table(huge)


def test_the_header_is_checked_before_any_row_is_read(kurume, tmp_path: Path) -> None:
    """A file without the required columns fails on its header: a broken field further down
    (which reading it would report) is never reached."""
    path = tmp_path / "wrong.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["番号", "なまえ", "住所"])
        writer.writerows([[str(n), "x", "y"] for n in range(50)])
        writer.writerow(["51", "x" * 200_000, "y"])
    with pytest.raises(TableError, match="必須の列 名簿番号、氏名、生年月日 がありません"):
        import_residents(kurume.sessions, path, kurume.city_code)


def test_an_excel_header_is_checked_before_its_rows_are_parsed(tmp_path: Path) -> None:
    """The sheet streams: a wrong header is reported before a broken cell further down (which
    loading the whole workbook first would trip on) is parsed."""
    book = Workbook()
    book.active.append(["番号", "なまえ", "住所"])
    for n in range(50):
        book.active.append([n, "x", "y"])
    book.save(tmp_path / "template.xlsx")
    broken = b'<row r="99"><c r="A99" t="n"><v>not a number</v></c></row></sheetData>'
    _rewrite_sheet(tmp_path / "template.xlsx", tmp_path / "wrong.xlsx", lambda xml: xml.replace(b"</sheetData>", broken))
    with pytest.raises(TableError, match="必須の列 名簿番号 がありません"):
        read_table(tmp_path / "wrong.xlsx", check_header=_require("名簿番号"))
    with pytest.raises(TableError, match="wrong.xlsx: 52行目以降に Excel のセルとして読めないもの"):  # named, not a traceback
        read_table(tmp_path / "wrong.xlsx")


def _require(name: str) -> Callable[[Table], None]:
    def check(table: Table) -> None:
        if name not in table.header:
            raise TableError(f"必須の列 {name} がありません")
    return check


def _rewrite_sheet(source: Path, target: Path, change: Callable[[bytes], bytes]) -> None:
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)


def test_a_stale_excel_dimension_does_not_cut_rows_off(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(HEADER)
    for n in range(1, 6):
        book.active.append(_resident(f"{n:03d}"))
    book.save(tmp_path / "full.xlsx")
    stale = b'<dimension ref="A1:G2" />'
    _rewrite_sheet(tmp_path / "full.xlsx", tmp_path / "stale.xlsx", lambda xml: xml.replace(b'<dimension ref="A1:G6" />', stale))
    assert [row["名簿番号"] for row in read_table(tmp_path / "stale.xlsx").rows] == ["001", "002", "003", "004", "005"]


def test_a_header_only_file_is_an_error_not_zero_rows(kurume, tmp_path: Path) -> None:
    before = snapshot(kurume)
    with pytest.raises(TableError, match="header_only.csv: 見出しの行（1行目）だけで、データの行がありません"):
        import_residents(kurume.sessions, PROBES / "header_only.csv", kurume.city_code)
    book = Workbook()
    book.active.append(["支援者番号", "氏名", "支援対象者番号"])
    book.save(tmp_path / "s.xlsx")
    with pytest.raises(TableError, match="データの行がありません"):
        import_supporters(kurume.sessions, tmp_path / "s.xlsx", kurume.city_code)
    assert snapshot(kurume) == before


# --- coordinates ---

def _coordinate_probes() -> list[list[str]]:
    with (PROBES / "coordinates.csv").open(encoding="utf-8") as handle:
        return [[row["緯度"], row["経度"]] for row in csv.DictReader(handle)]


def test_non_finite_or_out_of_range_resident_coordinates_are_refused(kurume, tmp_path: Path) -> None:
    probes = _coordinate_probes()
    rows = [_resident("001")] + [_resident(f"{n:03d}", where=where) for n, where in enumerate(probes, start=2)]
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", HEADER, rows), kurume.city_code, today=TODAY)
    assert {p.row for p in caught.value.problems} == set(range(3, 3 + len(probes)))
    assert all(p.field in {"緯度", "経度"} for p in caught.value.problems)
    assert not any(v in p.message for p in caught.value.problems for v in ("999", "1e309", "33.292", "130.476"))
    assert snapshot(kurume) == before


def test_non_finite_or_out_of_range_supporter_coordinates_are_refused(kurume, tmp_path: Path) -> None:
    import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", HEADER, [_resident("001")]), kurume.city_code)
    probes = _coordinate_probes()
    header = ["支援者番号", "氏名", "緯度", "経度", "支援対象者番号"]
    rows = [["S-0", "支援 一郎", *YASUTAKE, "001"]] + [[f"S-{n}", "支援 二郎", *where, "001"]
                                                       for n, where in enumerate(probes, start=1)]
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_supporters(kurume.sessions, write_csv(tmp_path / "s.csv", header, rows), kurume.city_code)
    assert {p.row for p in caught.value.problems} == set(range(3, 3 + len(probes)))
    assert snapshot(kurume) == before


# --- polygons and geodata ---

def test_polygons_without_an_area_are_refused_and_repairs_reported(tmp_path: Path) -> None:
    parsed = read_districts(PROBES / "polygons.geojson", "402036")
    assert sorted(p.row for p in parsed.problems) == [1, 2, 3, 4]
    assert [r.name for r in parsed.records] == ["蝶ネクタイ"]
    assert parsed.records[0].geometry.geom_type in {"Polygon", "MultiPolygon"} and parsed.records[0].geometry.area > 0
    assert any("地物5" in n and "蝶ネクタイ" in n and "修正" in n for n in parsed.notices)


def test_hazard_zones_without_an_area_are_refused_and_repairs_reported(tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[130.5, 33.3], [130.51, 33.31], [130.51, 33.3], [130.5, 33.31],
                                                  [130.5, 33.3]]]}
    two_points = {"type": "Polygon", "coordinates": [[[130.5, 33.3], [130.51, 33.3], [130.5, 33.3]]]}
    path = write_geojson(tmp_path / "A31a-10-40_x.geojson", [
        (square(130.5, 33.3, 0.01), {"A31a_101": "1", "A31a_102": "川", "A31a_105": "2"}),
        (bowtie, {"A31a_101": "1", "A31a_102": "川", "A31a_105": "2"}),
        (two_points, {"A31a_101": "1", "A31a_102": "川", "A31a_105": "2"})])
    parsed, _ = read_hazards(path)
    assert [(p.row, p.field) for p in parsed.problems] == [(3, "(feature)")]
    assert [r.geometry.geom_type in {"Polygon", "MultiPolygon"} for r in parsed.records] == [True, True]
    assert any("地物2" in n and "修正" in n for n in parsed.notices)


def test_geodata_is_bounded_by_size_and_features_and_needs_one(tmp_path: Path, limits: pytest.MonkeyPatch) -> None:
    path = write_geojson(tmp_path / "d.geojson", [(square(130.47 + i / 100, 33.28, 0.01), {"name": f"区{i}"}) for i in range(3)])
    _set(limits, max_features=2)
    with pytest.raises(GeoFileError, match="地物の数（3）が上限（2）"):
        read_geodata(path)
    _set(limits, max_features=3, max_geo_bytes=100)
    with pytest.raises(GeoFileError, match="d.geojson: ファイルの大きさ"):
        read_geodata(path)
    empty = write_geojson(tmp_path / "empty.geojson", [])
    with pytest.raises(GeoFileError, match="empty.geojson: 地物がありません"):
        read_geodata(empty)


# --- 名簿番号 reuse (storage: SQLite and PostgreSQL) ---

def test_a_resident_number_reused_for_another_person_needs_replace(kurume, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", HEADER, [_resident("001"), _resident("002", "筑後 太郎", "S5.1.20")])
    import_residents(kurume.sessions, first, kurume.city_code, today=TODAY)
    moved = _resident("001", "久留米 花子", "昭和15年3月2日")
    moved[3] = "福岡県久留米市安武町武島2-2"  # same person, new address: an update
    renamed = _resident("002", "筑後 太郎次", "S5.1.20")  # same birth date: the same person, name corrected
    other = _resident("003")
    second = write_csv(tmp_path / "b.csv", HEADER, [moved, renamed, other])
    assert import_residents(kurume.sessions, second, kurume.city_code, today=TODAY).updated == 2
    reused = write_csv(tmp_path / "c.csv", HEADER, [_resident("001"), _resident("002", "明治 次郎", "S20.8.15")])
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, reused, kurume.city_code, today=TODAY)
    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [("c.csv", 3, "名簿番号")]
    assert "--replace" in caught.value.problems[0].message and "明治" not in caught.value.problems[0].message
    assert snapshot(kurume) == before
    with kurume.sessions() as session:
        before_id = session.query(Resident.id).filter_by(resident_no="002").scalar()
    report = import_residents(kurume.sessions, reused, kurume.city_code, today=TODAY, replace=True)
    assert (report.created, report.updated) == (1, 1)  # 002 is someone new; 001 the same person
    assert any("002" in notice and "別の方" in notice for notice in report.notices)
    with kurume.sessions() as session:
        name, new_id = session.query(Resident.name, Resident.id).filter_by(resident_no="002").one()
        assert name == "明治 次郎" and new_id != before_id


def test_repairs_reach_the_import_report_of_boundary_districts_and_hazards(store, tmp_path: Path) -> None:
    x, y = 130.45, 33.25
    bowtie = {"type": "Polygon", "coordinates": [[[x, y], [x + 0.1, y + 0.1], [x + 0.1, y], [x, y + 0.1], [x, y]]]}
    boundary = write_geojson(tmp_path / "n03.geojson", [(square(x, y, 0.1), {"N03_004": "久留米市", "N03_007": "40203"}),
                                                        (bowtie, {"N03_004": "久留米市", "N03_007": "40203"})])
    assert any("n03.geojson 地物2" in n and "修正" in n for n in import_boundary(store.sessions, boundary, store.city_code).notices)
    districts = write_geojson(tmp_path / "d.geojson", [(square(x, y, 0.05), {"name": "安武"}), (bowtie, {"name": "荒木"})])
    report = import_districts(store.sessions, districts, store.city_code)
    assert report.created == 2 and any("d.geojson 地物2（校区「荒木」）" in n for n in report.notices)
    zones = write_geojson(tmp_path / "A31a-10-40_x.geojson", [(bowtie, {"A31a_101": "1", "A31a_102": "川", "A31a_105": "2"})])
    report = import_hazards(store.sessions, [zones], city_code=store.city_code)
    assert report.created == 1 and any("A31a-10-40_x.geojson 地物1" in n for n in report.notices)
