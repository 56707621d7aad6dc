"""Participant tracking: 年度 (April–March, 令和N年度) and the city's target (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from disaster.errors import Rejected


def fiscal_year(day: dt.date) -> int:
    """The 年度 a date belongs to, as its starting calendar year (31 March 2025 -> 2024)."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_label(year: int) -> str:
    """2024 -> 令和6年度 (2019 -> 令和元年度)."""
    reiwa = year - 2018
    if reiwa < 1:
        return f"平成{year - 1988}年度"
    return f"令和{'元' if reiwa == 1 else reiwa}年度"


def parse_fiscal(text: str) -> int:
    """'R8', '令和8年度', '2026' -> 2026."""
    cleaned = text.strip().removesuffix("年度").removeprefix("令和").removeprefix("R").removeprefix("r")
    if cleaned != "元" and not (cleaned.isascii() and cleaned.isdigit()):
        raise Rejected(f"年度「{text}」は R8・令和8年度・2026 のように指定してください。")
    value = 1 if cleaned == "元" else int(cleaned)
    return value + 2018 if value < 100 else value


@dataclass(frozen=True)
class SessionRow:
    held_on: dt.date
    district: str
    area: str | None
    participants: int


def by_year(rows: Iterable[SessionRow]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for row in rows:
        year = fiscal_year(row.held_on)
        totals[year] = totals.get(year, 0) + row.participants
    return dict(sorted(totals.items()))


def progress_to_target(participants: int, baseline: int, target: int) -> float:
    """Share of the way from the baseline to the target number of participants, in % (the city's
    own figures, ``[exercise.participants]`` of its profile), clamped to 0–100: a year below the
    baseline is 0 %, not a negative share. A target not above the baseline is measured from 0."""
    start = baseline if target > baseline else 0
    return round(min(100.0, max(0.0, 100 * (participants - start) / (target - start))), 1)


def bar_chart_svg(values: dict[str, int], title: str, target: int | None = None, width: int = 640) -> str:
    """A small self-contained SVG bar chart (no plotting library needed)."""
    height, left, bar_gap = 40 + 28 * max(len(values), 1), 120, 6
    top = max([*values.values(), target or 0, 1])
    scale = (width - left - 60) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
             f'<text x="8" y="20" font-size="15">{escape(title)}</text>']
    for i, (label, value) in enumerate(values.items()):
        y = 32 + i * 28
        parts.append(f'<text x="8" y="{y + 16}">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="{28 - bar_gap}" fill="#1B5E9F"/>')
        parts.append(f'<text x="{left + value * scale + 4:.1f}" y="{y + 16}">{value:,}</text>')
    if target:
        x = left + target * scale
        parts.append(f'<line x1="{x:.1f}" y1="28" x2="{x:.1f}" y2="{height - 4}" stroke="#C00000" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x - 60:.1f}" y="{height - 6}" fill="#C00000">目標 {target:,}</text>')
    parts.append("</svg>")
    return "".join(parts)
