"""Items made ahead (``disaster.ahead``), in a worker thread and in a forked child process: they
come in order, a failure while making them reaches the caller, and a caller that stops early
stops their making (the child process is gone)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from disaster.ahead import ChildFailed, in_child, in_thread

MAKERS = [in_thread, in_child]


@pytest.mark.parametrize("ahead", MAKERS)
def test_items_come_in_order_as_they_were_made(ahead: Callable[[Iterator[object]], Iterator[object]]) -> None:
    rng = np.random.default_rng(4)
    items = [rng.integers(0, 1000, size) for size in rng.integers(0, 300_000, 12)]  # some fill the pipe
    items += [None, b"e", object, [], "", {"k": (1, 2.5, "三")}]  # (b"e": the child's end message)
    got = list(ahead(iter(items)))
    assert len(got) == len(items)
    for made, item in zip(got, items, strict=True):
        if isinstance(item, np.ndarray):
            np.testing.assert_array_equal(made, item)
        else:
            assert made == item


class _Unpicklable(Exception):
    def __init__(self, message: str, handle: object) -> None:
        super().__init__(message)
        self.handle = handle

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("not picklable")


@pytest.mark.parametrize("ahead", MAKERS)
def test_a_failure_while_making_the_items_reaches_the_caller(ahead: Callable[[Iterator[int]], Iterator[int]]) -> None:
    def failing(error: Exception) -> Iterator[int]:
        yield 1
        raise error

    got = []
    with pytest.raises(ValueError, match="conversion failed"):
        for item in ahead(failing(ValueError("conversion failed"))):
            got.append(item)
    assert got == [1]
    # an exception that cannot be sent back from a child arrives as its type and message
    with pytest.raises((_Unpicklable, RuntimeError), match="_Unpicklable: no handle") as raised:
        list(ahead(failing(_Unpicklable("_Unpicklable: no handle" if ahead is in_thread else "no handle",
                                        handle=lambda: None))))
    assert isinstance(raised.value, _Unpicklable if ahead is in_thread else RuntimeError)


@pytest.mark.parametrize("ahead", MAKERS)
def test_a_caller_that_stops_early_stops_the_making(ahead: Callable[[Iterator[bytes]], Iterator[bytes]],
                                                    tmp_path: Path) -> None:
    """Items are large (a full pipe holds none whole): the child stops at the one after the one
    the caller stopped at, at most. The made items are counted in a file (the child's memory is
    its own)."""
    made = tmp_path / "made"

    def counted() -> Iterator[bytes]:
        for k in range(100):
            with made.open("a") as out:
                out.write(f"{k} {os.getpid()}\n")
            yield bytes(2_000_000)

    with pytest.raises(RuntimeError, match="insert failed"):
        for k, _item in enumerate(ahead(counted())):
            if k == 3:
                raise RuntimeError("insert failed")
    lines = made.read_text().split()
    assert 4 <= len(lines) // 2 <= 6
    makers = set(lines[1::2])
    assert len(makers) == 1
    if ahead is in_child:
        pid = int(makers.pop())
        assert pid != os.getpid()
        assert not Path(f"/proc/{pid}").exists()  # ended and reaped


def test_a_child_that_dies_is_reported_with_its_signal() -> None:
    def dying() -> Iterator[int]:
        yield 1
        os.kill(os.getpid(), signal.SIGKILL)  # e.g. the out-of-memory killer
        yield 2

    got = []
    with pytest.raises(ChildFailed, match="SIGKILL"):
        for item in in_child(dying()):
            got.append(item)
    assert got == [1]


def test_without_fork_the_items_are_made_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork")
    parent = os.getpid()
    assert list(in_child(os.getpid() for _ in range(3))) == [parent] * 3
