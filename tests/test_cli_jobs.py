"""`disaster jobs`: the command line asks for a city's bulk plans as one job per 校区 and a
re-assessment as a job, under an account's rights; `disaster worker` processes (on SQLite from the
job table, on PostgreSQL through procrastinate) share the 校区 between them; results are taken out
with the download audited."""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from disaster.models import AuditEntry, Job
from disaster.usecases.plans import plan_file
from tests.conftest import Store
from tests.jobs_fixtures import (
    DISASTER,
    FINISHED,
    ROOT,
    Workers,
    plans_for_leader,
    queue_of,
    small_district,
    stored,
    workers,  # noqa: F401  (fixture)
)
from tests.web_fixtures import (
    Cast,
    chosen,  # noqa: F401  (fixture)
    web_store,  # noqa: F401  (fixture)
)


def cli(store: Store, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DISASTER_DB": store.url, "DISASTER_JOB_QUEUE": queue_of(store), "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(DISASTER), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def job_count(store: Store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def finished(store: Store, ids: list[int], started: Workers, timeout: float = 300.0) -> list[Job]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [stored(store, job_id) for job_id in ids]
        if all(job.state in FINISHED for job in jobs):
            return jobs
        time.sleep(0.2)
    raise AssertionError(f"jobs {ids} did not finish: {started.output()}")


def queued_ids(answer: subprocess.CompletedProcess[str], store: Store, before: int) -> list[int]:
    assert answer.returncode == 0, answer.stdout + answer.stderr
    with store.sessions() as session:
        return list(session.scalars(select(Job.id).order_by(Job.id).offset(before)))




def test_bulk_plans_go_out_one_job_per_district_and_two_workers_share_them(
        web_store: Store, chosen: Cast, workers: Workers, tmp_path: Path) -> None:  # noqa: F811
    small = small_district(chosen)
    others = sorted({p.district for p in chosen.everyone if p.consent_share and p.consent_plan} - {small, chosen.home})
    second = min(others, key=lambda name: (len(plans_for_leader(chosen, name)), name))
    before = job_count(web_store)
    answer = cli(web_store, tmp_path, "jobs", "plans", "--as", "city_admin", "--district", small, "--district", second)
    ids = queued_ids(answer, web_store, before)
    assert len(ids) == 2 and "2 件" in answer.stdout
    assert [stored(web_store, i).parameters["district"] for i in ids] == [small, second]
    assert {stored(web_store, i).created_by for i in ids} == {"city_admin"}

    workers.start()
    workers.start()
    jobs = finished(web_store, ids, workers)
    assert [job.state for job in jobs] == ["succeeded", "succeeded"], workers.output()
    assert len({job.worker for job in jobs}) == 2  # each worker took a 校区 (both were queued before either started)

    saved = tmp_path / "small.zip"
    answer = cli(web_store, tmp_path, "jobs", "result", str(ids[0]), "--out", str(saved))
    assert answer.returncode == 0, answer.stderr
    assert saved.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    with zipfile.ZipFile(saved) as archive:
        pdfs = {name for name in archive.namelist() if name.endswith(".pdf")}
    consenting = {p.resident_no for p in chosen.everyone if p.district == small and p.consent_plan}
    assert pdfs == {plan_file(number) for number in consenting}  # the city's plans: all who consented to plan-making
    again = cli(web_store, tmp_path, "jobs", "result", str(ids[0]), "--out", str(saved))
    assert again.returncode == 1 and "すでにあります" in again.stderr and "Traceback" not in again.stderr
    assert cli(web_store, tmp_path, "jobs", "result", str(ids[0]), "--out", str(saved), "--force").returncode == 0

    with web_store.sessions() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["job.create", "job.result"]))
                                       .order_by(AuditEntry.id)))
    created = [e for e in entries if e.action == "job.create" and e.details["job"] in ids]
    results = [e for e in entries if e.action == "job.result" and e.details["job"] == ids[0]]
    assert {e.actor for e in created} == {"city_admin"} and len(created) == 2
    assert len(results) == 2  # the refused second download wrote no file and no entry; the forced one did
    assert all(set(e.resident_ids) == consenting for e in results)

    listing = cli(web_store, tmp_path, "jobs", "list")
    assert listing.returncode == 0 and small in listing.stdout and "完了" in listing.stdout


def test_an_account_asks_only_for_the_districts_it_may_and_nothing_is_queued_otherwise(
        web_store: Store, chosen: Cast, tmp_path: Path) -> None:  # noqa: F811
    before = job_count(web_store)
    refused = cli(web_store, tmp_path, "jobs", "plans", "--as", "leader", "--district", chosen.away)
    assert refused.returncode == 1 and "権限がありません" in refused.stderr and "Traceback" not in refused.stderr
    unknown = cli(web_store, tmp_path, "jobs", "assess", "--as", "nobody")
    assert unknown.returncode == 1 and "nobody" in unknown.stderr and "Traceback" not in unknown.stderr
    assert job_count(web_store) == before

    own = cli(web_store, tmp_path, "jobs", "plans", "--as", "leader")  # no 校区 named: every one the leader may
    ids = queued_ids(own, web_store, before)
    assert [stored(web_store, i).parameters["district"] for i in ids] == [chosen.home]
    assessment = cli(web_store, tmp_path, "jobs", "assess", "--as", "city_admin")
    (assess_id,) = queued_ids(assessment, web_store, before + len(ids))
    assert stored(web_store, assess_id).kind == "assessment"
    refused_assessment = cli(web_store, tmp_path, "jobs", "assess", "--as", "leader")
    assert refused_assessment.returncode == 1 and job_count(web_store) == before + 2
