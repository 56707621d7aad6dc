"""安否確認 for the 災害対策本部: the list as CSV (UTF-8 with BOM, which Excel opens as such) and as
an Excel workbook (集計 per 校区, the list, the shelters).

Text from the data is never run as a formula by a spreadsheet (``disaster.exports``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from disaster import exports
from disaster.analysis.decision import DECISION_LABELS, Decision
from disaster.usecases.safety import PRIORITY, DistrictSummary, Listing, Round, ShelterState, needs_label

TIMEZONE = ZoneInfo("Asia/Tokyo")
XLSX_TYPE = exports.XLSX_TYPE

COLUMNS = ("状態", "校区", "名簿番号", "氏名", "ふりがな", "住所", "電話番号", "避難先", "メモ", "記録した人", "記録日時",
           "配慮が必要なこと", "避難判定", "作成の優先度", "支援者の数")
SHELTER_COLUMNS = ("避難所", "種別", "校区", "収容人数", "避難者数（報告）", "収容人数に対する割合（%）", "報告日時",
                   "名簿の方の避難", "福祉避難所の受け入れ予定")


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment as Japanese time without an offset (what a spreadsheet shows)."""
    return moment.astimezone(TIMEZONE).replace(tzinfo=None) if moment is not None else None


def round_label(rnd: Round) -> str:
    since = local(rnd.since)
    start = f"{since.month}/{since.day} {since:%H:%M} から" if since is not None and rnd.since.year > 2000 else ""
    if rnd.kind == "disaster":
        where = "全校区" if not rnd.districts else "・".join(sorted(rnd.districts))
        return f"災害時モード（{where}）" + (f"・{start}" if start else "")
    if rnd.kind == "training":
        return "訓練（デモデータ）" + (f"・{start}" if start else "")
    if rnd.kind == "ended":
        until = local(rnd.until)
        return f"終了した災害時モード（{start}{f' {until.month}/{until.day} {until:%H:%M} まで' if until else ''}）"
    return "安否確認は行われていません"


def row_of(item: dict[str, Any]) -> list[Any]:
    decision = item.get("decision")
    try:
        decision_label = DECISION_LABELS[Decision(decision)] if decision else ""
    except ValueError:
        decision_label = str(decision)
    return [item["status"], item["district"], item["resident_no"], item["name"], item.get("kana") or "",
            item.get("address") or "", item.get("phone") or "", item.get("place") or "", item.get("note") or "",
            item.get("recorded_by") or "", local(item.get("recorded_at")), needs_label(item), decision_label,
            item.get("priority_score"), item.get("supporter_count")]


def shelter_row(state: ShelterState) -> list[Any]:
    return [state.name, state.kinds, state.district or "", state.capacity, state.people, state.load,
            local(state.reported_at), state.checked_in, state.planned if state.welfare else None]


def to_csv(listing: Listing) -> bytes:
    return exports.csv_bytes(COLUMNS, (row_of(item) for item in listing.items))


def _sheet(book: Any, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int],
           start_row: int = 1) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = exports.sheet(book, title)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    for column, name in enumerate(header, start=1):
        cell = exports.set_cell(sheet, start_row, column, name)
        cell.font, cell.fill = bold, fill
    count = 0
    for number, row in enumerate(rows, start=start_row + 1):
        count += 1
        for column, value in enumerate(row, start=1):
            cell = exports.set_cell(sheet, number, column, value)
            if isinstance(value, str):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=start_row, column=column).column_letter].width = width
    sheet.freeze_panes = sheet.cell(row=start_row + 1, column=1)
    if count:
        sheet.auto_filter.ref = f"A{start_row}:{sheet.cell(row=start_row + count, column=len(header)).coordinate}"
    return sheet


def to_xlsx(listing: Listing, districts: list[DistrictSummary], shelters: list[ShelterState], exported_by: str,
            at: dt.datetime) -> bytes:
    """The workbook: 集計 (per 校区, what the export holds), 安否確認 (the list), 避難所."""
    from openpyxl.styles import Font

    book = exports.workbook()
    summary_rows = [[d.district, *(d.counts[s.value] for s in PRIORITY), d.total] for d in districts]
    summary = _sheet(book, "集計", ["校区", *(s.value for s in PRIORITY), "計"], summary_rows,
                     [14, *([10] * len(PRIORITY)), 8], start_row=4)
    for row, text in enumerate((f"安否確認　{round_label(listing.round)}",
                                f"出力 {local(at):%Y-%m-%d %H:%M}（{exported_by}）　一覧 {listing.total} 人"), start=1):
        cell = exports.set_cell(summary, row, 1, text)
        cell.font = Font(bold=row == 1, size=14 if row == 1 else 11)
    _sheet(book, "安否確認", COLUMNS, (row_of(item) for item in listing.items),
           [10, 10, 12, 16, 16, 32, 16, 24, 32, 14, 17, 28, 22, 8, 8])
    _sheet(book, "避難所", SHELTER_COLUMNS, (shelter_row(s) for s in shelters), [28, 22, 10, 10, 12, 12, 17, 12, 14])
    return exports.workbook_bytes(book)
