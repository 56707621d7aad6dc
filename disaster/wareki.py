"""Parsing dates as written on Japanese forms: 和暦 (令和/平成/昭和/大正/明治) and 西暦.

Accepted: ``令和5年4月1日``, ``R5.4.1``, ``R05/04/01``, ``S.15.3.2``, ``昭15.3.2``, ``昭和15年3月2日``,
``令和元年5月1日``, ``H31.4.30``, ``S15-3-2``, ``1940-03-02``, ``1940/3/2``, ``1940年3月2日``, ``19400302``,
``1940/03/02 0:00:00`` (a midnight time as exported from Excel) and Excel serial dates (``14672``)
(full-width digits too). A date outside its era (``平成32年``, ``令和1年4月1日``) or one that does
not exist is an error.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from disaster.errors import Rejected

# era -> (first day, last day or None)
ERAS: dict[str, tuple[dt.date, dt.date | None]] = {
    "明治": (dt.date(1868, 1, 25), dt.date(1912, 7, 29)),  # 明治 in the Gregorian calendar (1873-)
    "大正": (dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    "昭和": (dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    "平成": (dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    "令和": (dt.date(2019, 5, 1), None),
}
ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和",
               "明": "明治", "大": "大正", "昭": "昭和", "平": "平成", "令": "令和"}
# Excel counts days from 1899-12-30 (serial 60 is the non-existent 1900-02-29)
EXCEL_EPOCH = dt.date(1899, 12, 30)
FIRST_EXCEL_SERIAL = 61  # 1900-03-01, the first serial that means the same day everywhere
YEAR_ONLY = (1800, 2199)  # a bare number in this range is a year, not a serial (1904-1906)

_WAREKI = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和|[MTSHR明大昭平令])\.?\s*(?P<year>元|\d{1,2})\s*[年.\-/]\s*"
    r"(?P<month>\d{1,2})\s*[月.\-/]\s*(?P<day>\d{1,2})\s*日?$"
)
_SEIREKI = re.compile(
    r"^(?P<year>\d{4})(?:\s*[年.\-/]\s*(?P<month>\d{1,2})\s*[月.\-/]\s*(?P<day>\d{1,2})\s*日?"
    r"|(?P<month8>\d{2})(?P<day8>\d{2}))$"
)
_MIDNIGHT = re.compile(r"\s+0{1,2}:00(?::00)?$")  # "1940/03/02 0:00:00"
_SERIAL = re.compile(r"^(?P<serial>\d{1,5})(?:\.0+)?$")


class DateFormatError(Rejected):
    """The text is not a valid date; the message is user-facing Japanese."""


def parse_date(text: str) -> dt.date:
    """Parse a 和暦 or 西暦 date. Raises DateFormatError with a Japanese message."""
    normalised = _MIDNIGHT.sub("", unicodedata.normalize("NFKC", text).strip().upper())
    if match := _WAREKI.match(normalised):
        era = ERA_LETTERS.get(match["era"], match["era"])
        era_year = 1 if match["year"] == "元" else int(match["year"])
        start, end = ERAS[era]
        year = start.year + era_year - 1
        date = _make(year, int(match["month"]), int(match["day"]), text)
        if era_year < 1 or date < start or (end is not None and date > end):
            raise DateFormatError(f"「{text}」は{era}の期間外の日付です。")
        return date
    if match := _SEIREKI.match(normalised):
        return _make(int(match["year"]), int(match["month"] or match["month8"]), int(match["day"] or match["day8"]), text)
    if match := _SERIAL.match(normalised):
        serial = int(match["serial"])
        if YEAR_ONLY[0] <= serial <= YEAR_ONLY[1]:
            raise DateFormatError(f"「{text}」は年だけです（月日も記入してください）。")
        if serial < FIRST_EXCEL_SERIAL:
            raise DateFormatError(f"「{text}」は Excel の日付（シリアル値）として古すぎます（1900年3月1日以降）。")
        return EXCEL_EPOCH + dt.timedelta(days=serial)
    raise DateFormatError(f"「{text}」を日付として読めません（例: 昭和15年3月2日、S.15.3.2、R5.4.1、1940-03-02、19400302）。")


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(f"「{text}」は存在しない日付です。") from exc


def to_wareki(date: dt.date) -> str:
    """Format a date as 和暦, e.g. 令和5年4月1日 (元年 for the first year)."""
    for era, (start, end) in reversed(ERAS.items()):
        if date >= start and (end is None or date <= end):
            year = date.year - start.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{era}{year_text}年{date.month}月{date.day}日"
    return f"{date.year}年{date.month}月{date.day}日"
