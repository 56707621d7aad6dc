"""Processes of the service: whether one is still running, and how its child processes start."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def isolate_child_processes() -> None:
    """Start this process's child processes (the render processes of plan PDFs and of a 校区's
    plans) from a fork server rather than by forking the server (Python 3.14's default on Linux):
    they hold none of its sockets (a killed server's children would keep its port), and they end
    when it dies (``disaster.jobs.child``)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    multiprocessing.set_forkserver_preload(["disaster.jobs.child", "disaster.plans.render"])  # before it starts
    if multiprocessing.get_start_method(allow_none=True) is None:
        multiprocessing.set_start_method("forkserver")


def child_context() -> BaseContext:
    """The context to start a child process of the service with (``isolate_child_processes``)."""
    isolate_child_processes()
    return multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None)
