"""The embedded job workers: threads inside the server process (`disaster serve`) or in a
`disaster worker` process without a queue, claiming queued jobs from the ``job`` table."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from disaster.jobs import runner
from disaster.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
STOP_WAIT_SECONDS = 5.0


class EmbeddedWorkers:
    """``count`` threads that run queued jobs one at a time each, plus the heartbeat."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, count: int) -> None:
        self.sessions, self.settings, self.count = sessions, settings, count
        self.worker = runner.worker_id()
        self.stopping = threading.Event()
        self.wakeup = threading.Event()
        self.threads: list[threading.Thread] = []
        self.heartbeat = runner.Heartbeat(sessions, settings, self.worker)

    def start(self) -> None:
        runner.sweep(self.sessions, self.settings)  # what a previous run left behind
        self.heartbeat.start()
        for number in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"disaster-job-{number + 1}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self.wakeup.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                if runner.run_one(self.sessions, self.settings, self.worker) is not None:
                    continue
            except Exception:  # the database went away for a moment: keep the worker alive
                log.exception("job worker loop")
            self.wakeup.wait(POLL_SECONDS)
            self.wakeup.clear()

    def stop(self) -> None:
        """Stop taking jobs; the jobs still running are marked interrupted (they stop at their next
        progress report and can be rerun)."""
        self.stopping.set()
        self.wakeup.set()
        runner.interrupt_own(self.sessions, self.worker)
        for thread in self.threads:
            thread.join(STOP_WAIT_SECONDS / max(len(self.threads), 1))
        self.heartbeat.stopped.set()

    def run_forever(self) -> None:
        """Run until interrupted (Ctrl-C / SIGTERM): `disaster worker` without a queue."""
        self.start()
        try:
            while any(thread.is_alive() for thread in self.threads):
                self.stopping.wait(1.0)
        finally:
            self.stop()
