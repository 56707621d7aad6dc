"""Preloaded by the fork server of a server or job worker process
(``processes.isolate_child_processes``) and nowhere else: every process the fork server starts (a
render process of plan PDFs or of a 校区's plans) ends itself once that process is gone. A render
process would otherwise outlive a killed worker, waiting on its task queue for ever (it holds both
ends of the queue's pipe)."""

from __future__ import annotations

import os
import threading
import time

from disaster.jobs.processes import alive

WORKER = os.getppid()  # imported in the fork server, whose parent is the job worker's process
CHECK_SECONDS = 2.0


def _watch() -> None:
    while alive(WORKER):
        time.sleep(CHECK_SECONDS)
    os._exit(1)


def _start_watch() -> None:
    threading.Thread(target=_watch, name="disaster-worker-watch", daemon=True).start()


os.register_at_fork(after_in_child=_start_watch)
