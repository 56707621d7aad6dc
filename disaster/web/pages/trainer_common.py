"""What the trainer's pages share: the form's fields and their problems (in Japanese, next to
each field), dates as people write them (令和8年6月14日（日）), the hazards in words, and the
area's access check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from disaster import access, errors
from disaster.access import Principal
from disaster.wareki import parse_date, to_wareki
from disaster.web.deps import Caller

HAZARD_WORDS = {"flood": "洪水（川の氾濫）", "inland": "内水（まちなかの浸水）", "landslide": "土砂災害", "earthquake": "地震"}
HAZARD_SHORT = {"flood": "洪水", "inland": "内水", "landslide": "土砂災害", "earthquake": "地震"}
WEEKDAYS = "月火水木金土日"


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (the form was already read for its CSRF token)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]


def require_area(caller: Caller) -> Principal:
    """The pages of 図上訓練 records: city roles and trainers (any 校区), leaders (their own)."""
    access.require(caller.principal, access.Action.EXERCISE_RECORDS)
    return caller.principal


def day(value: dt.date | None) -> str:
    """令和8年6月14日（日）; empty for no date."""
    if value is None:
        return ""
    return f"{to_wareki(value)}（{WEEKDAYS[value.weekday()]}）"


def short_day(value: dt.date) -> str:
    """令和8年6月14日 (for tables)."""
    return to_wareki(value)


def number(text: str | None) -> int | None:
    """An integer as typed (full-width digits too), or None."""
    if text is None:
        return None
    cleaned = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789")).replace(",", "")
    if not cleaned.isascii() or not cleaned.isdigit():
        return None
    return int(cleaned)


def safe_back(target: str | None, default: str) -> str:
    """Where a form goes back to: a page of this area only."""
    if target and target.startswith("/trainer") and "//" not in target and "\\" not in target:
        return target
    return default


@dataclass
class FormState:
    """What the user typed (kept on a problem) and the problems, by field name."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)
    notice: str | None = None

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def problem(self, name: str, message: str) -> None:
        self.problems.setdefault(name, message)

    def text(self, name: str, label: str, limit: int, required: bool = False) -> str | None:
        value = self.values.get(name, "").strip()
        if not value:
            if required:
                self.problem(name, f"{label}を入力してください。")
            return None
        if len(value) > limit:
            self.problem(name, f"{label}は {limit:,} 文字以内にしてください（いま {len(value):,} 文字）。")
        return value

    def date(self, name: str, label: str, required: bool = False) -> dt.date | None:
        value = self.values.get(name, "").strip()
        if not value:
            if required:
                self.problem(name, f"{label}を入力してください。")
            return None
        try:
            return parse_date(value)
        except errors.Rejected as exc:
            self.problem(name, f"{label}: {exc}")
            return None
