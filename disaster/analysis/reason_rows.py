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


def reason_lists(n: int, entries: Iterable[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The reasons of each row 0..n-1, as an object array of lists in which rows with the same
    reasons share one list (so that they are serialised and hashed once when stored). Each entry
    is (rows, reasons): row indices and an object array of the reason for each; a row's reasons
    come in the order of the entries, and within an entry in the order of its rows."""
    parts = list(entries)
    rows = np.concatenate([np.empty(0, dtype=np.int64), *(rows for rows, _ in parts)])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    flat = np.concatenate([np.empty(0, dtype=object), *(said for _, said in parts)])[order].tolist()
    counts = np.bincount(rows, minlength=n)
    starts = np.cumsum(counts) - counts
    # a row's reasons as a row of codes (equal reasons are one object: ``reasons.reason``)
    code, _ = pd.factorize(np.fromiter(map(id, flat), dtype=np.int64, count=len(flat)))
    keys = np.full((int(counts.max(initial=0)), n), -1, dtype=np.int64)
    keys[np.arange(len(rows)) - starts[rows], rows] = code
    group, first = groups(*keys) if len(keys) else (np.zeros(n, dtype=np.int64), np.zeros(min(n, 1), dtype=np.int64))
    lists = [flat[start:start + count] for start, count in zip(starts[first].tolist(), counts[first].tolist(), strict=True)]
    return np.fromiter(lists, dtype=object, count=len(lists))[group]
