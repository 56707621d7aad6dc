"""Reasons over whole frames: one reason per distinct row of parameters, and the list of reasons
of each row built once from columns of them (instead of a Python loop over every row)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from disaster.analysis.reasons import Said


def groups(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group of each row, first row of each group) for rows of ``columns`` (equal-length arrays)
    with equal values in every column; groups are numbered in order of first appearance."""
    n = len(columns[0])
    group = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        group, _ = pd.factorize(group * len(uniques) + codes)
    return group, np.unique(group, return_index=True)[1]


def per_row(make: Callable[..., Said], *columns: np.ndarray) -> np.ndarray:
    """``make(*values)`` for each row of ``columns`` (equal-length arrays), as an object array;
    ``make`` is called once per distinct row, with the values as Python scalars."""
    group, first = groups(*columns)
    values = zip(*(np.asarray(column)[first].tolist() for column in columns), strict=True)
    table = np.fromiter((make(*row) for row in values), dtype=object, count=len(first))
    return table[group]


def same(said: Said, count: int) -> np.ndarray:
    """``said`` ``count`` times, as an object array (``np.full`` would read a ``Said`` as a sequence)."""
    out = np.empty(count, dtype=object)
    out.fill(said)
    return out


def reason_lists(n: int, entries: Iterable[tuple[np.ndarray, np.ndarray]]) -> list[list[Said]]:
    """The reasons of each row 0..n-1. Each entry is (rows, reasons): row indices and an object
    array of the reason for each; a row's reasons come in the order of the entries, and within an
    entry in the order of its rows."""
    parts = list(entries)
    rows = np.concatenate([np.empty(0, dtype=np.int64), *(rows for rows, _ in parts)])
    items = np.concatenate([np.empty(0, dtype=object), *(said for _, said in parts)])
    flat = items[np.argsort(rows, kind="stable")].tolist()
    ends = np.cumsum(np.bincount(rows, minlength=n)).tolist()
    return [flat[start:end] for start, end in zip([0, *ends][:-1], ends, strict=True)]
