"""The dashboard's chart of 図上訓練 participants per 年度 against the city plan's target: the
geometry of an inline SVG worked out here, drawn by ``templates/pages/city/_chart.html.j2``
(autoescaped; classes, no ``style=``). Bars: the participants recorded per 年度; a dashed line:
the plan's path from its baseline to its target 年度; gridlines at round numbers."""

from __future__ import annotations

from dataclasses import dataclass

from disaster.usecases.dashboard import Dashboard

WIDTH, HEIGHT = 720, 380
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 24, 56
STEPS = (1, 2, 5)  # gridline steps: 1, 2, 5 × 10^n


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: str
    value_y: float
    value_inside: bool  # the value is written inside the bar (else above it)
    current: bool  # this 年度 (still counting)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    future: bool


@dataclass(frozen=True)
class Grid:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    grid: list[Grid]
    path: tuple[float, float, float, float] | None  # baseline point → target point
    description: str


def _step(top: int) -> int:
    """A round gridline step giving 4–8 lines up to ``top``."""
    magnitude = 1
    while True:
        for step in STEPS:
            if top / (step * magnitude) <= 8:
                return step * magnitude
        magnitude *= 10


def short_year(year: int) -> str:
    """2024 → R6年度 (平成: H30年度)."""
    reiwa = year - 2018
    return f"R{'元' if reiwa == 1 else reiwa}年度" if reiwa >= 1 else f"H{year - 1988}年度"


def participants_chart(board: Dashboard) -> Chart:
    target = board.target
    first = board.years[0].year
    last = max(board.year, target.target_year if target else board.year)
    columns = last - first + 1
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    column = plot_w / columns
    values = [y.participants for y in board.years]
    top_value = max([*values, *( [target.target, target.baseline] if target else []), 1])
    step = _step(top_value)
    axis_top = step * (-(-int(top_value * 1.08) // step))
    scale = plot_h / axis_top
    base = TOP + plot_h

    def x_of(year: int) -> float:
        return LEFT + (year - first + 0.5) * column

    bars = []
    for item in board.years:
        height = item.participants * scale
        inside = height >= 30
        bars.append(Bar(round(x_of(item.year) - column * 0.32, 1), round(base - height, 1), round(column * 0.64, 1),
                        round(height, 1), f"{item.participants:,}",
                        round(base - height + 22 if inside else base - height - 6, 1), inside, item.year == board.year))
    label = short_year if columns <= 10 else (lambda y: short_year(y).removesuffix("年度"))
    ticks = [Tick(round(x_of(year), 1), label(year), year > board.year) for year in range(first, last + 1)]
    grid = [Grid(round(base - value * scale, 1), f"{value:,}") for value in range(0, axis_top + 1, step)]
    path = None
    if target:
        path = (round(x_of(target.baseline_year), 1), round(base - target.baseline * scale, 1),
                round(x_of(target.target_year), 1), round(base - target.target * scale, 1))
    recorded = "、".join(f"{y.label} {y.participants:,}人" for y in board.years)
    goal = (f"計画の目標は{target.target_label}に{target.target:,}人（基準は{target.baseline_label}の{target.baseline:,}人）。"
            if target else "参加者数の目標は市の設定ファイルにありません。")
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, base, bars, ticks, grid, path,
                 f"年度別の参加者数: {recorded}。{goal}")
