"""Reading CSV (UTF-8, UTF-8 with BOM, CP932/Shift_JIS) and Excel files into rows of text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ENCODINGS = ("utf-8-sig", "cp932")


class TableError(ValueError):
    """The file cannot be read as a table."""


@dataclass
class Table:
    """Rows of a spreadsheet; ``first_row`` is the spreadsheet row number of ``rows[0]``."""

    path: Path
    header: list[str]
    rows: list[dict[str, object]]
    encoding: str | None
    first_row: int = 2


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


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read a CSV or Excel (.xlsx) file. Empty rows are skipped but keep their row numbers."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_excel(path, sheet)
    if suffix not in {".csv", ".txt", ".tsv"}:
        raise TableError(f"{path.name}: CSV（.csv）または Excel（.xlsx）ファイルを指定してください。")
    text, encoding = decode(path.read_bytes(), path)
    dialect = "excel-tab" if suffix == ".tsv" else "excel"
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        raw_header = next(reader)
    except StopIteration as exc:
        raise TableError(f"{path.name}: ファイルが空です。") from exc
    header = [normalise_header(h) for h in raw_header]
    _check_header(path, header)
    rows: list[dict[str, object]] = []
    for values in reader:
        rows.append(dict(zip(header, values, strict=False)))
    return Table(path, header, rows, encoding)


def _read_excel(path: Path, sheet: str | None) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a corrupt file
        raise TableError(f"{path.name}: Excel ファイルとして読めません（{exc}）。") from exc
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    except KeyError as exc:
        raise TableError(f"{path.name}: シート「{sheet}」がありません。") from exc
    values = worksheet.iter_rows(values_only=True)
    try:
        header = [normalise_header(h) for h in next(values)]
    except StopIteration as exc:
        raise TableError(f"{path.name}: シートが空です。") from exc
    _check_header(path, header)
    rows: list[dict[str, object]] = []
    for cells in values:
        rows.append({h: _excel_cell(c) for h, c in zip(header, cells, strict=False) if h})
    workbook.close()
    return Table(path, header, rows, None)


def _excel_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, dt.date) else str(value)


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
