"""Background jobs in the service (embedded workers started with the app): a 校区's plans as one
job, progress, cancel, a creator who lost the right, a bug's traceback kept from the user."""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
import subprocess
import zipfile
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from disaster.access import Principal
from disaster.jobs import kinds, runner
from disaster.models import AuditEntry, Job, User
from disaster.plans.record import PlanContent
from disaster.usecases.plan_records import save_plan
from disaster.usecases.plans import index_file, plan_file
from disaster.usecases.users import disable_user
from disaster.web import create_app
from tests.conftest import KURUME, Store
from tests.helpers import pdf_text
from tests.jobs_fixtures import add_leader, plans_for_leader, small_district, stored, wait
from tests.web_fixtures import (
    Cast,
    audit_after,
    chosen,  # noqa: F401  (fixture)
    client,
    last_audit_id,
    login,
    settings_for,
    signed_in,
    web_store,  # noqa: F401  (fixture)
)


@dataclass(frozen=True)
class World:
    store: Store
    chosen: Cast
    small: str  # a 校区 with few plans


@pytest.fixture(scope="module")
def world(web_store: Store, chosen: Cast) -> World:  # noqa: F811
    small = small_district(chosen)
    for name in ("small_leader", "gone_leader", "moved_leader"):
        add_leader(web_store, name, small)
    return World(web_store, chosen, small)


def _service(world: World, workers: int = 1) -> FastAPI:
    return create_app(settings_for(world.store, job_workers=workers, job_heartbeat_seconds=0.5))


def _audit(store: Store, action: str, after: int) -> list[AuditEntry]:
    return [entry for entry in audit_after(store, after) if entry.action == action]


def test_a_district_s_plans_run_in_the_service_to_a_zip_of_exactly_the_plans_the_creator_may_see(world: World) -> None:
    start = last_audit_id(world.store)
    expected = plans_for_leader(world.chosen, world.small)
    hidden = {p.resident_no for p in world.chosen.everyone} - expected
    assert expected and hidden
    recorded = min(expected)  # a plan made with the person is printed as made, as by `disaster plans`
    save_plan(world.store.sessions, Principal.cli(KURUME), recorded, PlanContent(carry_items=["補聴器の電池"]), 0,
              dt.datetime.now(dt.UTC))
    with client(_service(world)) as c:  # the lifespan starts the embedded worker
        c.headers["X-CSRF-Token"] = login(c, "small_leader")
        answer = c.post(f"/api/v1/districts/{world.small}/plans", json={})
        assert answer.status_code == 202, answer.text
        created = answer.json()
        assert created["state"] in ("queued", "running") and created["kind"] == "district_plans"
        seen = wait(c, created["id"])
        final = seen[-1]
        assert final["state"] == "succeeded", final
        progress = [s["progress"] for s in seen]
        assert progress == sorted(progress) and progress[-1] == 100
        assert any(0 < p < 100 for p in progress), progress  # seen on the way, not only at the end
        assert final["result"]["personal_data"] is True
        download = c.get(f"/api/v1/jobs/{created['id']}/result")
        listed = c.get("/api/v1/jobs").json()
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        pdfs = {name for name in archive.namelist() if name.endswith(".pdf")}
        index = archive.read(index_file(world.small)).decode("utf-8-sig")
        assert "計画作成同意" in index.splitlines()[0]  # the CLI's index: consents and their dates
        assert archive.read(plan_file(min(expected))).startswith(b"%PDF")
        text = pdf_text(archive.read(plan_file(recorded)))
    assert "計画の記録第1版" in text and "□補聴器の電池" in text
    assert pdfs == {plan_file(number) for number in expected}
    assert not any(number in index for number in hidden - {p.resident_no for p in world.chosen.everyone
                                                          if p.district == world.small and p.consent_share})
    assert [item["id"] for item in listed["items"]] == [created["id"]]  # the caller's own jobs only
    made = _audit(world.store, "job.create", start)
    assert [(e.actor, e.allowed, e.details["job"]) for e in made] == [("small_leader", True, created["id"])]
    (read,) = _audit(world.store, "job.result", start)
    assert (read.actor, sorted(read.resident_ids), read.allowed) == ("small_leader", sorted(expected), True)


def test_cancel_stops_a_running_job_early_and_leaves_no_result(world: World) -> None:
    chosen = world.chosen  # noqa: F811
    biggest = max({p.district for p in chosen.everyone},
                  key=lambda d: sum(p.district == d and p.consent_plan for p in chosen.everyone))
    with client(_service(world)) as c:
        c.headers["X-CSRF-Token"] = login(c, "city_staff")
        job_id = c.post(f"/api/v1/districts/{biggest}/plans", json={}).json()["id"]
        wait(c, job_id, lambda j: j["state"] == "running" and j["progress"] >= 2)  # rendering
        answer = c.post(f"/api/v1/jobs/{job_id}/cancel")
        assert answer.status_code == 200 and answer.json()["cancel_requested"] is True
        final = wait(c, job_id, timeout=60)[-1]
        result = c.get(f"/api/v1/jobs/{job_id}/result")
        again = c.post(f"/api/v1/jobs/{job_id}/cancel")
    assert final["state"] == "cancelled" and final["result"] is None
    assert final["progress"] < 50, final  # stopped within a chunk of plans, long before the end
    assert result.status_code == 409 and again.status_code == 409
    assert stored(world.store, job_id).result is None


def test_a_queued_job_is_cancelled_at_once_and_never_runs(world: World) -> None:
    app = _service(world, workers=0)
    c = signed_in(app, "city_staff")
    job_id = c.post("/api/v1/assessments", json={}).json()["id"]
    assert c.post(f"/api/v1/jobs/{job_id}/cancel").json()["state"] == "cancelled"
    assert runner.run_one(world.store.sessions, app.state.store.settings, "test:1", job_id) is None
    assert stored(world.store, job_id).started_at is None


@pytest.mark.parametrize("change", ["disabled", "moved"])
def test_a_job_runs_as_its_creator_now_a_disabled_account_or_a_lost_right_fails_it(world: World, change: str) -> None:
    login_name = {"disabled": "gone_leader", "moved": "moved_leader"}[change]
    app = _service(world, workers=0)  # nothing runs it until the test does
    c = signed_in(app, login_name)
    job_id = c.post(f"/api/v1/districts/{world.small}/plans", json={}).json()["id"]
    if change == "disabled":
        disable_user(world.store.sessions, Principal.cli(KURUME), login_name)
    else:
        other = next(p.district for p in world.chosen.everyone if p.district != world.small)
        with world.store.sessions() as session, session.begin():
            session.execute(update(User).where(User.login == login_name).values(districts=[other]))
    assert runner.run_one(world.store.sessions, app.state.store.settings, "test:1") == job_id
    job = stored(world.store, job_id)
    assert (job.state, job.result, job.progress < 100) == ("failed", None, True)
    reason = {"disabled": f"アカウント（{login_name}）がないか停止", "moved": f"（{world.small}校区）の権限がありません"}[change]
    assert reason in (job.error or ""), job.error


def test_a_bug_fails_the_job_with_its_number_and_the_traceback_goes_to_the_log(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(ctx: kinds.JobContext) -> kinds.Output:
        raise ValueError("secret internals")

    monkeypatch.setitem(kinds.KINDS, "assessment", kinds.JobKind("assessment", "避難判定のやり直し",
                                                                 kinds.KINDS["assessment"].check, broken))
    app = _service(world, workers=0)
    c = signed_in(app, "city_staff")
    job_id = c.post("/api/v1/assessments", json={}).json()["id"]
    with caplog.at_level(logging.ERROR, logger="disaster.jobs.runner"):
        runner.run_one(world.store.sessions, app.state.store.settings, "test:1", job_id)
    body = c.get(f"/api/v1/jobs/{job_id}").json()
    assert body["state"] == "failed" and str(job_id) in body["error"] and "secret" not in body["error"]
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


def test_the_other_kinds_run_in_the_service_and_the_city_administrator_sees_every_job(world: World) -> None:
    start = last_audit_id(world.store)
    with client(_service(world)) as staff:
        staff.headers["X-CSRF-Token"] = login(staff, "city_staff")
        trainer = client(staff.app)
        trainer.headers["X-CSRF-Token"] = login(trainer, "trainer")
        assessment = staff.post("/api/v1/assessments", json={})
        pack = trainer.post("/api/v1/exercises/packs", json={"district": world.small, "hazard": "flood", "seed": 2})
        assert (assessment.status_code, pack.status_code) == (202, 202), (assessment.text, pack.text)
        assessed = wait(staff, assessment.json()["id"])[-1]
        packed = wait(trainer, pack.json()["id"])[-1]
        summary = staff.get(f"/api/v1/jobs/{assessed['id']}/result")
        materials = trainer.get(f"/api/v1/jobs/{packed['id']}/result")
        refused = trainer.get(f"/api/v1/jobs/{assessed['id']}")
        admin = client(staff.app)
        login(admin, "city_admin")
        everyone = {item["id"] for item in admin.get("/api/v1/jobs", params={"per_page": 200}).json()["items"]}
        own = {item["id"] for item in trainer.get("/api/v1/jobs").json()["items"]}
    assert (assessed["state"], packed["state"]) == ("succeeded", "succeeded"), (assessed, packed)
    assert assessed["result"]["personal_data"] is False and packed["result"]["personal_data"] is False
    assert {d["name"] for d in summary.json()["districts"]} >= {world.small}
    with zipfile.ZipFile(io.BytesIO(materials.content)) as archive:
        assert {"scenario.json", "facilitator_guide.pdf", "dig_map.pdf"} <= set(archive.namelist())
    assert refused.status_code == 403 and own == {packed["id"]} and {assessed["id"], packed["id"]} <= everyone
    reads = _audit(world.store, "job.result", start)
    assert [(e.actor, e.resident_ids) for e in reads] == [("city_staff", []), ("trainer", [])]


def test_running_jobs_of_a_dead_worker_are_interrupted_and_live_ones_are_not(world: World) -> None:
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    now = dt.datetime.now(dt.UTC)
    settings = settings_for(world.store, job_stale_seconds=60)
    workers = {"stale": ("elsewhere:1", now - dt.timedelta(minutes=5)), "live": ("elsewhere:2", now),
               "dead": (f"{socket.gethostname()}:{dead_pid.pid}", now)}
    ids = {}
    with world.store.sessions() as session, session.begin():
        for name, (worker, beat) in workers.items():
            job = Job(city_code=KURUME, kind="assessment", parameters={}, state="running", progress=10, message="",
                      created_by="city_staff", creator_role="city_staff", created_at=now, started_at=now,
                      heartbeat_at=beat, worker=worker, cancel_requested=False, result_residents=[])
            session.add(job)
            session.flush()
            ids[name] = job.id
    assert sorted(runner.interrupt_dead(world.store.sessions, settings)) == sorted([ids["stale"], ids["dead"]])
    states = {name: stored(world.store, job_id).state for name, job_id in ids.items()}
    assert states == {"stale": "interrupted", "live": "running", "dead": "interrupted"}
    with world.store.sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == ids["live"]).values(state="cancelled"))


def test_a_result_is_refused_to_its_creator_once_they_lost_the_right_and_the_refusal_is_audited(world: World) -> None:
    add_leader(world.store, "former_leader", world.small)
    now = dt.datetime.now(dt.UTC)
    numbers = sorted(plans_for_leader(world.chosen, world.small))[:2]
    with world.store.sessions() as session, session.begin():
        job = Job(city_code=KURUME, kind="district_plans", state="succeeded", progress=100, message="",
                  parameters={"district": world.small, "large_print": False, "include_drafts": False},
                  created_by="former_leader", creator_role="leader", created_at=now, cancel_requested=False,
                  result=b"PK\x05\x06" + bytes(18), result_name="plans.zip", result_type="application/zip",
                  result_size=22, result_residents=numbers)
        session.add(job)
        session.flush()
        job_id = job.id
    c = client(_service(world, workers=0))
    login(c, "former_leader")
    assert c.get(f"/api/v1/jobs/{job_id}/result").status_code == 200
    other = next(p.district for p in world.chosen.everyone if p.district != world.small)
    with world.store.sessions() as session, session.begin():
        session.execute(update(User).where(User.login == "former_leader").values(districts=[other]))
    start = last_audit_id(world.store)
    c = client(_service(world, workers=0))  # a new login: the account's rights as they are now
    login(c, "former_leader")
    refused = c.get(f"/api/v1/jobs/{job_id}/result")
    assert refused.status_code == 403 and refused.json()["error"]["code"]
    (entry,) = _audit(world.store, "job.result", start)
    assert (entry.actor, entry.allowed, entry.resident_ids, entry.details["job"]) == ("former_leader", False, [], job_id)


def test_results_are_deleted_after_the_retention_period_and_the_job_says_so(world: World) -> None:
    """A 校区's plans are personal data: a result is kept ``job_result_days`` after its job ended, then
    deleted by the workers' sweep; the job stays, and a download says why there is nothing."""
    add_leader(world.store, "keeper_leader", world.small)
    now = dt.datetime.now(dt.UTC)
    ids = {}
    with world.store.sessions() as session, session.begin():
        for name, ended in (("old", now - dt.timedelta(days=8)), ("recent", now - dt.timedelta(days=6))):
            job = Job(city_code=KURUME, kind="district_plans", state="succeeded", progress=100, message="完了",
                      parameters={"district": world.small, "large_print": False, "include_drafts": False},
                      created_by="keeper_leader", creator_role="leader", created_at=ended, finished_at=ended,
                      cancel_requested=False, result=b"PK\x05\x06" + bytes(18), result_name="plans.zip",
                      result_type="application/zip", result_size=22, result_residents=["D000001"])
            session.add(job)
            session.flush()
            ids[name] = job.id
    runner.sweep(world.store.sessions, settings_for(world.store, job_result_days=7))
    with world.store.sessions() as session:
        old, recent = (session.get(Job, ids[name]) for name in ("old", "recent"))
        assert (old.result, old.result_name, old.result_residents) == (None, None, [])
        assert old.state == "succeeded" and "保存期間（7日）" in old.message
        assert recent.result is not None and recent.result_name == "plans.zip"
    c = client(_service(world, workers=0))
    login(c, "keeper_leader")
    gone = c.get(f"/api/v1/jobs/{ids['old']}/result")
    assert gone.status_code == 409 and "保存期間" in gone.json()["error"]["message"]
    assert c.get(f"/api/v1/jobs/{ids['old']}").json()["result"] is None
    assert c.get(f"/api/v1/jobs/{ids['recent']}/result").status_code == 200
