"""Reading CSV (UTF-8, UTF-8 with BOM, CP932/Shift_JIS) and Excel files into rows of text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from disaster.errors import Rejected
from disaster.settings import get_settings

ENCODINGS = ("utf-8-sig", "cp932")


class TableError(Rejected):
    """The file cannot be read as a table."""


@dataclass
class Table:
    """Rows of a spreadsheet; ``first_row`` is the spreadsheet row number of ``rows[0]``.

    ``header_rows`` are the spreadsheet rows read as the header (two for a two-row header,
    whose columns are named "上段 下段"); ``notices`` say what was left out (total rows)."""

    path: Path
    header: list[str]
    rows: list[dict[str, object]]
    encoding: str | None
    first_row: int = 2
    header_rows: tuple[int, int] = (1, 1)
    notices: list[str] = field(default_factory=list)

    def header_label(self) -> str:
        """Where the header was read, e.g. "3行目" or "3〜4行目"."""
        first, last = self.header_rows
        return f"{first}行目" if first == last else f"{first}〜{last}行目"


HEADER_SCAN = 20  # rows searched for the header
TOTAL_ROW = re.compile(r"^(?:合計|総計|総数|小計|計)(?:[:：(（\d人名件]|$)")


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or CP932; return text and encoding."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise TableError(f"{path.name}: 文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。")


def normalise_header(name: object) -> str:
    """NFKC-normalise a header cell (full-width letters/digits, stray spaces)."""
    return unicodedata.normalize("NFKC", str(name or "")).strip()


def header_key(name: object) -> str:
    """A header as compared with the expected names: NFKC, without any whitespace, so that a
    two-row header "緊急連絡先1 氏名" matches 緊急連絡先1氏名."""
    return "".join(normalise_header(name).split())


HeaderCheck = Callable[[Table], None]


def read_table(
    path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    expected: Collection[str] = (),
    drop_totals: bool = False,
    check_header: HeaderCheck | None = None,
) -> Table:
    """Read a CSV or Excel (.xlsx) file. Empty rows are skipped but keep their row numbers.

    The header is the row ``header_row`` (1-based, as a spreadsheet shows it) or, without it,
    the row among the first ones holding most of the ``expected`` headers (title lines and
    blank lines above it are skipped). The row below joins it as a second header row when
    that matches more expected headers ("上段 下段"; merged cells count for every column they
    span). With ``drop_totals`` trailing total rows (合計/計/総数 …) are left out with a notice.

    Bounded (``Settings.import_max_*``): a file larger than the byte limit (a workbook counted
    uncompressed) or with more rows than the row limit is refused before it is loaded; a cell
    longer than the cell limit is refused naming its row and column. ``check_header`` (e.g.
    the required columns) runs on the header before any data row is read; a file with a
    header and no data row is refused.
    """
    limits = get_settings()
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        rows: Iterator[list[object]] = _excel_rows(path, sheet)
        encoding, merged = None, True
    elif suffix in {".csv", ".txt", ".tsv"}:
        check_size(path, path.stat().st_size, limits.import_max_bytes)
        text, encoding = decode(path.read_bytes(), path)
        rows, merged = _csv_rows(path, text, "excel-tab" if suffix == ".tsv" else "excel", limits.import_max_cell_chars), False
    else:
        raise TableError(f"{path.name}: CSV（.csv）または Excel（.xlsx）ファイルを指定してください。")
    scan = HEADER_SCAN if header_row is None else max(header_row, 1)
    cells = list(itertools.islice(rows, scan + 1))
    wanted = {header_key(name) for name in expected}
    first, last = _header_rows(path, cells, header_row, wanted, merged)
    header = _header(cells[first], cells[last] if last > first else None, merged)
    _check_header(path, header)
    table = Table(path, header, [], encoding, last + 2, (first + 1, last + 1))
    _check_cells(table, first + 1, cells[first : last + 1], limits.import_max_cell_chars)
    if check_header is not None:
        check_header(table)
    body = cells[last + 1 :]
    while len(body) <= limits.import_max_rows and (values := next(rows, None)) is not None:
        body.append(values)
    if len(body) > limits.import_max_rows:
        raise TableError(f"{path.name}: データの行が上限（{limits.import_max_rows:,} 行）を超えています"
                         "（上限は DISASTER_IMPORT_MAX_ROWS で変えられます）。")
    _check_cells(table, table.first_row, body, limits.import_max_cell_chars)
    if drop_totals:
        body = _drop_totals(table, body)
    for values in body:
        table.rows.append({h: _cell(v) for h, v in zip(header, values, strict=False) if h})
    if all(_blank(values) for values in body):
        raise TableError(f"{path.name}: 見出しの行（{table.header_label()}）だけで、データの行がありません。")
    return table


def check_size(path: Path, size: int, limit: int, what: str = "ファイルの大きさ") -> None:
    if size > limit:
        raise TableError(f"{path.name}: {what}（{size / 2**20:,.0f} MB）が上限（{limit / 2**20:,.0f} MB）を超えています"
                         "（上限は DISASTER_IMPORT_MAX_BYTES で変えられます）。")


def _csv_rows(path: Path, text: str, dialect: str, cell_chars: int) -> Iterator[list[object]]:
    """The CSV's rows, one at a time; a field beyond ``cell_chars`` characters is refused by the
    parser itself (``csv.field_size_limit``) before it is held whole."""
    previous = csv.field_size_limit(cell_chars + 1)
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise TableError(f"{path.name} {reader.line_num}行目: CSV として読めないか、1 つのセルの文字数が上限"
                                 f"（{cell_chars:,} 文字）を超えています。") from exc
            yield list(values)
    finally:
        csv.field_size_limit(previous)


def _check_cells(table: Table, first_row: int, rows: list[list[object]], cell_chars: int) -> None:
    """Refuse a cell longer than ``cell_chars`` characters, naming its row and column."""
    for offset, values in enumerate(rows):
        for index, value in enumerate(values):
            if isinstance(value, str) and len(value) > cell_chars:
                column = table.header[index] if index < len(table.header) and table.header[index] else f"{index + 1}列目"
                raise TableError(f"{table.path.name} {first_row + offset}行目「{column}」: 1 つのセルの文字数が上限"
                                 f"（{cell_chars:,} 文字）を超えています（上限は DISASTER_IMPORT_MAX_CELL_CHARS で変えられます）。")


def _excel_rows(path: Path, sheet: str | None) -> Iterator[list[object]]:
    """The sheet's rows, streamed (openpyxl read-only mode: memory stays small and the header
    is checked before the data rows are parsed); a merged range's value is copied into each
    cell it spans. The workbook's size and row counts are checked from its zip first."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    check_workbook(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a corrupt file
        raise TableError(f"{path.name}: Excel ファイルとして読めません（{type(exc).__name__}）。") from exc
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    except KeyError as exc:
        workbook.close()
        raise TableError(f"{path.name}: シート「{sheet}」がありません。") from exc
    if not isinstance(worksheet, ReadOnlyWorksheet):
        workbook.close()
        raise TableError(f"{path.name}: シート「{worksheet.title}」は表ではありません。")
    with workbook._archive.open(worksheet._worksheet_path) as stream:  # the sheet's XML (openpyxl's own handle)
        merged = _merged_ranges(stream)
    worksheet.reset_dimensions()  # a stale <dimension> must not cut rows off
    return _with_merged_values(path, worksheet.iter_rows(values_only=True), merged, workbook.close)


MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
Merged = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based)


def _merged_ranges(stream: IO[bytes]) -> list[Merged]:
    """The sheet's merged ranges (<mergeCell>, after the rows), found by scanning its bytes."""
    from openpyxl.utils import column_index_from_string

    found: list[Merged] = []
    tail = b""
    while chunk := stream.read(CHUNK):
        data = tail + chunk
        last = 0
        for match in MERGE_CELL.finditer(data):
            found.append((int(match[2]), column_index_from_string(match[1].decode()),
                          int(match[4]), column_index_from_string(match[3].decode())))
            last = match.end()
        tail = data[max(last, len(data) - 128):]
    return found


def _with_merged_values(path: Path, rows: Iterator[tuple[object, ...]], merged: list[Merged],
                        close: Callable[[], None]) -> Iterator[list[object]]:
    """Each row with the value of a merged range's first cell copied into every cell it spans;
    a row openpyxl cannot parse is a TableError naming it."""
    starting: dict[int, list[Merged]] = {}
    for cell_range in merged:
        starting.setdefault(cell_range[0], []).append(cell_range)
    active: list[tuple[Merged, object]] = []
    number = 0
    try:
        while True:
            number += 1
            try:
                values = next(rows, None)
            except Exception as exc:  # openpyxl raises many kinds on a corrupt cell
                raise TableError(f"{path.name}: {number}行目以降に Excel のセルとして読めないものがあります（{type(exc).__name__}）。") from exc
            if values is None:
                return
            row = list(values)
            for cell_range in starting.get(number, []):
                active.append((cell_range, row[cell_range[1] - 1] if cell_range[1] <= len(row) else None))
            for (_, first_col, _, last_col), value in active:
                row += [None] * (last_col - len(row))
                row[first_col - 1 : last_col] = [value] * (last_col - first_col + 1)
            active = [(r, v) for r, v in active if r[2] > number]
            yield row
    finally:
        close()


DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*(\d*)(?::[A-Z]+(\d+))?\"")
DIMENSION_SCAN = 65_536  # bytes of a sheet's XML searched for its <dimension>
CHUNK = 1 << 20


def check_workbook(path: Path) -> None:
    """Refuse a workbook (a zip) whose members add up to more than ``import_max_bytes`` once
    uncompressed, or one of whose sheets has more rows than ``import_max_rows`` (its
    ``<dimension>``, else its ``<row>`` elements counted while streaming), without loading it."""
    limits = get_settings()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            check_size(path, sum(m.file_size for m in members), limits.import_max_bytes, "展開後の大きさ")
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    rows = _sheet_rows(archive, member, limits.import_max_rows + HEADER_SCAN)
                    if rows > limits.import_max_rows + HEADER_SCAN:
                        raise TableError(f"{path.name}: シートの行数（{rows:,} 行）が上限（{limits.import_max_rows:,} 行）を"
                                         "超えています（上限は DISASTER_IMPORT_MAX_ROWS で変えられます）。")
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(f"{path.name}: Excel ファイルとして読めません（xlsx 形式ではありません）。") from exc


def _sheet_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> int:
    """The sheet's last row as its <dimension> says, else its <row> elements (counting stops
    past ``limit``)."""
    with archive.open(member) as stream:
        head = stream.read(DIMENSION_SCAN)
        found = DIMENSION.search(head)
        if found:
            return int(found[2] or found[1] or 0)
        count, tail, chunk = 0, b"", head
        while chunk and count <= limit:
            data = tail + chunk
            count += data.count(b"<row ") + data.count(b"<row>") - tail.count(b"<row ") - tail.count(b"<row>")
            tail, chunk = data[-5:], stream.read(CHUNK)
        return count


def _blank(values: list[object]) -> bool:
    return not any(cell_text(v) for v in values)


def _header_rows(path: Path, cells: list[list[object]], header_row: int | None, wanted: set[str],
                 merged: bool) -> tuple[int, int]:
    """0-based (first, last) rows of the header."""
    if header_row is not None:
        if not 1 <= header_row <= len(cells) or _blank(cells[header_row - 1]):
            raise TableError(f"{path.name}: 見出しの行として指定された {header_row}行目 が空か、ファイルにありません。")
        single = header_row - 1
    else:
        candidates = [i for i in range(min(HEADER_SCAN, len(cells))) if not _blank(cells[i])]
        if not candidates:
            raise TableError(f"{path.name}: ファイルが空です（見出しの行がありません）。")
        single = max(candidates, key=lambda i: (_score(cells[i], wanted), -i))
    best, score = (single, single), _score(cells[single], wanted)
    pairs = [(single, single + 1)] if header_row is not None else [(single - 1, single), (single, single + 1)]
    for first, last in pairs:
        if first >= 0 and last < len(cells) and not _blank(cells[first]) and not _blank(cells[last]):
            joined = _score(_header(cells[first], cells[last], merged), wanted)
            if joined > score:
                best, score = (first, last), joined
    return best


def _score(names: list[object] | list[str], wanted: set[str]) -> int:
    return len({header_key(n) for n in names} & wanted)


def _header(upper: list[object], lower: list[object] | None, merged: bool) -> list[str]:
    """Column names: one header row, or two joined as "上段 下段". In a CSV (no merge
    information) a blank upper cell continues the group on its left while the lower row
    goes on (緊急連絡先1 over 氏名・続柄・電話)."""
    if lower is None:
        return [normalise_header(h) for h in upper]
    names: list[str] = []
    group, previous_lower = "", ""
    for index in range(max(len(upper), len(lower))):
        top = normalise_header(upper[index] if index < len(upper) else None)
        bottom = normalise_header(lower[index] if index < len(lower) else None)
        if not top and bottom and previous_lower and not merged:
            top = group
        group, previous_lower = top, bottom
        names.append(f"{top} {bottom}" if top and bottom and top != bottom else top or bottom)
    return names


def _drop_totals(table: Table, body: list[list[object]]) -> list[list[object]]:
    """Leave out total rows at the end (合計/計/総数/小計 …), each with a notice."""
    end = len(body)
    while end > 0:
        values = body[end - 1]
        if _blank(values):
            end -= 1
            continue
        marker = next((t for t in (header_key(cell_text(v)) for v in values) if TOTAL_ROW.match(t)), None)
        if marker is None:
            break
        table.notices.append(f"{table.path.name} {table.first_row + end - 1}行目は合計の行（「{marker}」）とみなして読み飛ばしました。")
        end -= 1
    table.notices.reverse()
    return body[:end]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, (dt.date, str)) else str(value)


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise TableError(f"{path.name}: 見出し「{name}」が重複しています。")
        seen.add(name)


def cell_text(value: object) -> str:
    """A cell as NFKC-normalised, stripped text ('' for empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()
