"""Shared pieces of the background-job tests: accounts, the small 校区, waiting for a job."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster.access import Principal
from disaster.models import Job
from disaster.usecases.users import add_user
from tests.conftest import KURUME, Store
from tests.web_fixtures import PASSWORD, Cast, Person

FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


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
