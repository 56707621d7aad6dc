"""Python's cyclic garbage collector paused for a batch computation."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The cyclic collector off while the block runs (nested blocks leave it to the outer one).
    An assessment allocates millions of small, acyclic lists and tuples that reference counting
    frees, and every collection walks them all: at 100,000 residents about 1 s of a 7 s run, for
    the same peak memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
