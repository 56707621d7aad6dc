"""Every CSV and Excel file the toolkit writes is made here, so that no text from the data is run
as a formula by a spreadsheet (OWASP "CSV injection").

- A text cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'`` in CSV
  (Excel and LibreOffice then show the text as written, ``=HYPERLINK(…)`` included).
- Numbers stay numbers: an ``int`` or ``float`` value (a count, a negative amount) is written as
  the number; only text is neutralised, so a 名簿番号 ``-2`` given as text becomes ``'-2``.
- In a workbook every text cell is stored as a string (``data_type "s"``, never a formula); a text
  starting like a formula also gets Excel's quote prefix, so editing the cell keeps it text.

CSV files are UTF-8 with a BOM (Excel opens them as such) and CRLF line ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as written: text neutralised, numbers as numbers, lists
    and dicts as compact JSON, booleans as ``true``/``false``, a time as ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, dt.datetime):
        text = f"{value:%Y-%m-%d %H:%M}"
    else:
        text = str(value)
    return "'" + text if is_formula_like(text) else text


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file: UTF-8 with BOM, CRLF, every cell through ``csv_cell``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def dict_rows(header: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    """Rows given as dicts, in the order of ``header`` (missing keys empty)."""
    return ([row.get(column) for column in header] for row in rows)


def workbook() -> Any:
    """An empty openpyxl workbook (no default sheet): fill it with ``sheet`` and ``set_cell``."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def sheet(book: Any, title: str, rows: Iterable[Sequence[Any]] = ()) -> Any:
    """A new sheet with ``rows`` from the first row on (through ``set_cell``)."""
    created = book.create_sheet(title)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            set_cell(created, number, column, value)
    return created


def set_cell(target: Any, row: int, column: int, value: Any) -> Any:
    """Put ``value`` in a cell: text as a string (never a formula), numbers and times as such."""
    cell = target.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        if is_formula_like(value):
            cell.quotePrefix = True
    elif value is None or isinstance(value, bool | int | float | dt.datetime | dt.date):
        cell.value = value
    else:
        cell.value = str(value)
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
    return cell


def workbook_bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
