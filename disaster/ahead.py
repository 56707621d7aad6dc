"""The items of an iterator made ahead: the next one is made while the caller uses the one before.

- ``in_thread``: in a worker thread of this process. It gains when the caller mostly waits with
  the interpreter free, e.g. for a database server.
- ``in_child``: in a child process forked from this one, so it has everything the items are made
  from without copying. It gains when the caller holds the interpreter too, e.g. an in-process
  database binding parameters row by row. The items come back pickled through a pipe.

In both, the items come in order; an exception raised while making them reaches the caller; when
the caller stops early, no more items are made.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, TypeVar

T = TypeVar("T")
_HEADER = struct.Struct("<cq")  # kind, payload length
_ITEM, _FAILED, _END = b"i", b"f", b"e"  # the child's messages
_DONE = object()  # what ``next`` gives the worker thread after the last item
_PIPE_BUFFER = 1 << 20


def in_thread(items: Iterator[T]) -> Iterator[T]:
    """``items`` in order, each one made in a worker thread while the caller uses the one before."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _DONE)
        while (item := pending.result()) is not _DONE:
            pending = pool.submit(next, items, _DONE)
            yield item  # type: ignore[misc]


class ChildFailed(RuntimeError):
    """The child process making the items ended before sending them all (e.g. it was killed)."""


def in_child(items: Iterator[T]) -> Iterator[T]:
    """``items`` in order, made in a forked child process while the caller uses the ones before.

    The child writes each pickled item into a pipe and waits while the pipe is full, so it runs
    at most about one item ahead. It keeps the cyclic garbage collector off: a collection would
    touch every object it shares with this process, making private copies of their pages. It
    ends with ``os._exit``: nothing of this process (open files, database connections, buffered
    output, exit handlers) is flushed, closed or run twice. Where the system cannot fork, the
    items are made in this process."""
    if not hasattr(os, "fork"):
        yield from items
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        _make(items, write_end)  # never returns
    os.close(write_end)
    finished = False
    try:
        with open(read_end, "rb", buffering=_PIPE_BUFFER) as pipe:
            while (received := _receive(pipe)) is not None:
                kind, payload = received
                if kind == _END:
                    finished = True
                    break
                if kind == _FAILED:
                    assert isinstance(payload, BaseException)
                    raise payload
                yield payload  # type: ignore[misc]
    finally:
        if not finished:  # stopped early, failed, or gone (a child that has exited is not reaped yet)
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if not finished:
        raise ChildFailed(f"the child process making the items ended early ({_described(status)})")


def _make(items: Iterator[object], write_end: int) -> None:
    """The child's work: send each item, then the end (or the exception raised), and exit."""
    status = 1
    try:
        gc.disable()
        with open(write_end, "wb", buffering=_PIPE_BUFFER) as pipe:
            try:
                for item in items:
                    _send(pipe, _ITEM, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
                _send(pipe, _END, b"")
            except Exception as error:  # the caller raises it
                try:
                    payload = pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL)
                    pickle.loads(payload)
                except Exception:
                    payload = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
                _send(pipe, _FAILED, payload)
        status = 0
    finally:
        os._exit(status)


def _send(pipe: BinaryIO, kind: bytes, payload: bytes) -> None:
    pipe.write(_HEADER.pack(kind, len(payload)))
    pipe.write(payload)
    pipe.flush()  # now: the caller may be waiting for it


def _receive(pipe: BinaryIO) -> tuple[bytes, object] | None:
    """The next message from the child (None: the pipe ended, the child has exited)."""
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    kind, size = _HEADER.unpack(header)
    payload = pipe.read(size)
    if len(payload) < size:
        return None
    return kind, pickle.loads(payload) if size else None


def _described(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
