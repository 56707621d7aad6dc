"""Geometry work spread over the machine's cores in threads: shapely's vectorised calls (GEOS)
release the interpreter lock while they compute, so threads run them side by side. A GEOS
geometry, prepared or not, is used by one thread only (each thread gets its own pieces)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def balanced(weights: Sequence[float] | np.ndarray, minimum: float) -> list[slice]:
    """Consecutive slices of ``range(len(weights))`` of about equal total weight, one per core,
    each weighing at least ``minimum`` (so small inputs stay in one piece)."""
    weights = np.asarray(weights, dtype=float)
    total = float(weights.sum())
    parts = max(1, min(cores(), int(total // minimum) if minimum > 0 else cores(), len(weights)))
    if parts == 1:
        return [slice(0, len(weights))]
    cuts = np.searchsorted(np.cumsum(weights), total * np.arange(1, parts) / parts, side="right")
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(weights)}), len(weights)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def each_part(work: Callable[[slice], T], parts: list[slice]) -> list[T]:
    """``work`` of each part, in the parts' order: in threads when there are several."""
    if len(parts) == 1:
        return [work(parts[0])]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        return list(pool.map(work, parts))
