"""Python's cyclic garbage collector paused for a batch computation, and skipped at exit."""

from __future__ import annotations

import atexit
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


def no_final_collection() -> None:
    """Skip the cyclic collection of interpreter shutdown: after a 100,000-resident assessment
    it walked and freed the process's objects one by one for ~0.3 s, memory the operating system
    takes back at exit anyway. Objects are still freed by reference counting; only finalizers of
    objects in reference cycles are not run, so the caller has closed its resources itself (the
    command line, once a command's store is disposed). Calling it again changes nothing."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
