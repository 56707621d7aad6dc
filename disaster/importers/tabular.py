"""Reading CSV (UTF-8, UTF-8 with BOM, CP932/Shift_JIS) and Excel files into rows of text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from disaster.errors import Rejected

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


def read_table(
    path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    expected: Collection[str] = (),
    drop_totals: bool = False,
) -> Table:
    """Read a CSV or Excel (.xlsx) file. Empty rows are skipped but keep their row numbers.

    The header is the row ``header_row`` (1-based, as a spreadsheet shows it) or, without it,
    the row among the first ones holding most of the ``expected`` headers (title lines and
    blank lines above it are skipped). The row below joins it as a second header row when
    that matches more expected headers ("上段 下段"; merged cells count for every column they
    span). With ``drop_totals`` trailing total rows (合計/計/総数 …) are left out with a notice.
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        cells, encoding, merged = _excel_rows(path, sheet), None, True
    elif suffix in {".csv", ".txt", ".tsv"}:
        text, encoding = decode(path.read_bytes(), path)
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        cells, merged = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect=dialect)], False
    else:
        raise TableError(f"{path.name}: CSV（.csv）または Excel（.xlsx）ファイルを指定してください。")
    wanted = {header_key(name) for name in expected}
    first, last = _header_rows(path, cells, header_row, wanted, merged)
    header = _header(cells[first], cells[last] if last > first else None, merged)
    _check_header(path, header)
    body = cells[last + 1 :]
    table = Table(path, header, [], encoding, last + 2, (first + 1, last + 1))
    if drop_totals:
        body = _drop_totals(table, body)
    for values in body:
        table.rows.append({h: _cell(v) for h, v in zip(header, values, strict=False) if h})
    return table


def _excel_rows(path: Path, sheet: str | None) -> list[list[object]]:
    """Every row of the sheet; a merged range's value is copied into each cell it spans."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)  # not read-only: merged ranges are needed
    except Exception as exc:  # openpyxl raises many kinds on a corrupt file
        raise TableError(f"{path.name}: Excel ファイルとして読めません（{exc}）。") from exc
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    except KeyError as exc:
        raise TableError(f"{path.name}: シート「{sheet}」がありません。") from exc
    rows = [list(r) for r in worksheet.iter_rows(values_only=True)]
    for merged in worksheet.merged_cells.ranges:
        value = rows[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
            for c in range(merged.min_col - 1, merged.max_col):
                rows[r][c] = value
    workbook.close()
    return rows


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
