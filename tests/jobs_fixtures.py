"""Shared pieces of the background-job tests: accounts, the small 校区, waiting for a job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster.access import Principal
from disaster.models import Job
from disaster.usecases.users import add_user
from tests.conftest import KURUME, Store
from tests.web_fixtures import PASSWORD, Cast, Person

FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}
ROOT = Path(__file__).resolve().parent.parent
DISASTER = Path(sys.executable).parent / "disaster"


def small_district(chosen: Cast) -> str:
    """The 校区 with the fewest residents who consented to sharing and to plan-making (but some)."""
    counts = Counter(p.district for p in chosen.everyone if p.consent_share and p.consent_plan)
    return min(counts, key=lambda name: (counts[name], name))


def plans_for_leader(chosen: Cast, district: str) -> set[str]:
    """The test's own reading: a leader's 校区 plans are those of its residents who consented to
    sharing (else the leader does not see them) and to plan-making (else only a 下書き)."""
    return {p.resident_no for p in chosen.everyone if p.district == district and p.consent_share and p.consent_plan}


def add_leader(store: Store, login: str, district: str) -> None:
    add_user(store.sessions, Principal.cli(KURUME), login, "leader", PASSWORD, districts=[district])


def wait(c: TestClient, job_id: int, until: Callable[[dict[str, Any]], bool] = lambda j: j["state"] in FINISHED,
         timeout: float = 180.0) -> list[dict[str, Any]]:
    """Poll the job until ``until``; every answer seen, the last one satisfying it."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = c.get(f"/api/v1/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if until(seen[-1]):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {seen[-1]}")


def stored(store: Store, job_id: int) -> Job:
    with store.sessions() as session:
        job = session.scalars(select(Job).where(Job.id == job_id)).one()
        _ = job.result  # deferred column
        session.expunge(job)
    return job


def people_named(chosen: Cast, numbers: set[str]) -> list[Person]:
    return [p for p in chosen.everyone if p.resident_no in numbers]


def queue_of(store: Store) -> str:
    return "procrastinate" if store.engine.dialect.name == "postgresql" else "embedded"


class Workers:
    """`disaster worker` processes started by a test (stopped at its end)."""

    def __init__(self, store: Store, logs: Path) -> None:
        self.store, self.logs, self.started = store, logs, list[subprocess.Popen[bytes]]()

    def start(self) -> subprocess.Popen[bytes]:
        env = os.environ | {"DISASTER_DB": self.store.url, "DISASTER_JOB_QUEUE": queue_of(self.store),
                            "DISASTER_JOB_HEARTBEAT_SECONDS": "0.5", "DISASTER_JOB_RENDER_PROCESSES": "1",
                            "PYTHONPATH": str(ROOT)}
        log = (self.logs / f"worker{len(self.started)}.log").open("wb")
        process = subprocess.Popen([str(DISASTER), "worker", "--concurrency", "1"], env=env, cwd=self.logs,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def output(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.logs.glob("worker*.log")))


@pytest.fixture
def workers(web_store: Store, tmp_path: Path) -> Iterator[Workers]:
    """`disaster worker` processes the test starts on the module's store (stopped at its end)."""
    started = Workers(web_store, tmp_path)
    try:
        yield started
    finally:
        started.stop()
