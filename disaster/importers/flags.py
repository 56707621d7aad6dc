"""Parsing yes/no cells as written in official and municipal files."""

from __future__ import annotations

from disaster.importers.tabular import cell_text

TRUE_VALUES = {"1", "○", "〇", "◯", "◎", "有", "あり", "可", "はい", "TRUE", "YES", "Y"}
FALSE_VALUES = {"", "0", "×", "✕", "-", "ー", "―", "無", "なし", "不可", "いいえ", "FALSE", "NO", "N"}


def parse_flag(value: object) -> bool | None:
    """True/False for a recognised cell, None if unrecognised (the caller reports it)."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).upper()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    return None


def parse_optional_flag(value: object) -> tuple[bool | None, bool]:
    """(value, ok) where an empty cell means unknown (None) rather than False."""
    if cell_text(value) == "":
        return None, True
    flag = parse_flag(value)
    return flag, flag is not None
