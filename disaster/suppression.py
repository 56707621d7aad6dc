"""Small-number suppression: the one rule for every count of people that a reader could use to
single someone out (public pages and maps, open 図上訓練 packs). Pure functions, no database.

The rule:

1. A count of 1–4 people is withheld and shown as 「5未満」; 0 and 5 or more are shown.
2. A count that is part of a shown whole (at risk among the 校区's residents, the assigned places
   of a shelter's capacity) is also withheld when the rest (whole − part) is 1–4: it is then shown
   as the range it must lie in (「26〜29」), which says no more than 「the rest is 5未満」.
3. A total is shown only when no withheld cell can be recovered from it and the other cells:
   every printed cell is an interval (exact, 「5未満」 = 1–4, or a range), and the total is withheld
   (「—」) when the total and the other cells' intervals pin a withheld cell to one value (one
   withheld cell, or all withheld cells at 1 or all at 4).
4. A percentage is shown only when its whole is shown and neither the part nor the rest is 1–4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SMALL_NUMBER = 5
WITHHELD = f"{SMALL_NUMBER}未満"
HIDDEN_TOTAL = "—"
HIDDEN_SHARE = "非表示（人数が少ないため）"


def is_small(n: int) -> bool:
    """1–4 people: few enough to single someone out."""
    return 0 < n < SMALL_NUMBER


@dataclass(frozen=True)
class Cell:
    """A count as printed: ``label``, and the interval [lo, hi] a reader learns from it."""

    value: int
    label: str
    lo: int
    hi: int

    @property
    def exact(self) -> bool:
        return self.lo == self.hi

    def __str__(self) -> str:
        return self.label


def exact(n: int) -> Cell:
    """A count shown as it is (to someone who may see it)."""
    return Cell(n, str(n), n, n)


def count(n: int) -> Cell:
    """A count on its own (rule 1)."""
    if is_small(n):
        return Cell(n, WITHHELD, 1, SMALL_NUMBER - 1)
    return exact(n)


def part(n: int, whole: int) -> Cell:
    """A count that is part of a printed ``whole`` (rule 2; a withheld whole protects its rest)."""
    if is_small(n) or is_small(whole) or not is_small(whole - n):
        return count(n)
    lo, hi = whole - (SMALL_NUMBER - 1), whole - 1
    return Cell(n, f"{lo}〜{hi}", lo, hi)


def persons(cell: Cell) -> str:
    """A count in a sentence: 「12人」, 「5人未満」, 「26〜29人」."""
    return f"{SMALL_NUMBER}人未満" if cell.label == WITHHELD else f"{cell.label}人"


def pinned(cells: Sequence[Cell], total: int) -> list[int]:
    """The positions of the inexact ``cells`` whose value the exact ``total`` would give away."""
    found = []
    for i, cell in enumerate(cells):
        if cell.exact:
            continue
        others_lo = sum(c.lo for k, c in enumerate(cells) if k != i)
        others_hi = sum(c.hi for k, c in enumerate(cells) if k != i)
        if max(cell.lo, total - others_hi) >= min(cell.hi, total - others_lo):
            found.append(i)
    return found


def total(cells: Sequence[Cell]) -> Cell:
    """The total of a column of ``cells`` (rule 3): exact unless it would give a withheld cell away."""
    value = sum(c.value for c in cells)
    if pinned(cells, value):
        return Cell(value, HIDDEN_TOTAL, sum(c.lo for c in cells), sum(c.hi for c in cells))
    return count(value)


def share(n: int, whole: int) -> str:
    """``n`` of ``whole`` in % (rule 4); 「—」 for an empty whole."""
    if whole == 0:
        return "—"
    if is_small(whole) or is_small(n) or is_small(whole - n):
        return HIDDEN_SHARE
    return f"{round(100 * n / whole)}%"


def remaining(capacity: int, assigned: int) -> tuple[Cell, Cell]:
    """(assigned, places left) of a shown ``capacity``: the places left never give a withheld
    number of assigned people away (capacity − left = assigned)."""
    used = part(assigned, capacity)
    left = max(0, capacity - assigned)
    if used.exact:
        return used, exact(left)
    lo, hi = max(0, capacity - used.hi), max(0, capacity - used.lo)
    return used, Cell(left, f"{lo}〜{hi}", lo, hi)
