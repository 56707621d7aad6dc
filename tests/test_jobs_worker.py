"""`disaster worker` as a real process: on SQLite it takes queued jobs from the job table, on
PostgreSQL it runs the jobs the service deferred through procrastinate. A worker killed mid-job
leaves the job running with a dead worker; the next worker to start marks it interrupted, and a
rerun asked through the API runs to success."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import text

from disaster.usecases.plans import plan_file
from disaster.web import create_app
from tests.conftest import Store
from tests.helpers import descendants, processes_gone
from tests.jobs_fixtures import (
    Workers,
    add_leader,
    plans_for_leader,
    queue_of,
    small_district,
    stored,
    wait,
    workers,  # noqa: F401  (fixture)
)
from tests.web_fixtures import (
    Cast,
    chosen,  # noqa: F401  (fixture)
    client,
    login,
    settings_for,
    web_store,  # noqa: F401  (fixture)
)


def test_a_killed_worker_leaves_the_job_interrupted_and_a_rerun_succeeds(
        web_store: Store, chosen: Cast, workers: Workers) -> None:  # noqa: F811
    small = small_district(chosen)
    add_leader(web_store, "worker_leader", small)
    app = create_app(settings_for(web_store, job_queue=queue_of(web_store), job_workers=0))
    first = workers.start()
    with client(app) as c:  # the service only queues (SQLite) or defers through procrastinate (PostgreSQL)
        c.headers["X-CSRF-Token"] = login(c, "worker_leader")
        job_id = c.post(f"/api/v1/districts/{small}/plans", json={}).json()["id"]
        running = wait(c, job_id, lambda j: j["state"] == "running" and j["progress"] >= 2, timeout=120)[-1]
        children = descendants(first.pid)
        assert children, "the plans render in child processes"
        first.kill()  # SIGKILL: no chance to tidy up
        first.wait()
        processes_gone(children)  # its render processes do not outlive it
        assert c.get(f"/api/v1/jobs/{job_id}").json()["state"] == "running", workers.output()
        workers.start()  # the restart
        interrupted = wait(c, job_id, timeout=60)[-1]
        assert interrupted["state"] == "interrupted", (interrupted, workers.output())
        assert "再実行" in interrupted["error"] and interrupted["result"] is None
        answer = c.post(f"/api/v1/jobs/{job_id}/rerun")
        assert answer.status_code == 202, answer.text
        again = answer.json()
        assert (again["rerun_of"], again["kind"], again["parameters"]) == (job_id, "district_plans", running["parameters"])
        done = wait(c, again["id"], timeout=300)[-1]
        assert done["state"] == "succeeded", (done, workers.output())
        download = c.get(f"/api/v1/jobs/{again['id']}/result")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        pdfs = {name for name in archive.namelist() if name.endswith(".pdf")}
    assert pdfs == {plan_file(number) for number in plans_for_leader(chosen, small)}
    assert stored(web_store, job_id).result is None
    if web_store.engine.dialect.name == "postgresql":  # the rerun travelled through procrastinate
        with web_store.engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT (args->>'job_id')::int, status::text FROM procrastinate_jobs")).all())
        assert statuses[again["id"]] == "succeeded"
        assert statuses[job_id] == "doing"  # the killed worker never finished it; our job table says interrupted
