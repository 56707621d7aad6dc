"""On PostgreSQL: procrastinate carries job ids from the service to `disaster worker` processes
(on any machine using the same database). Procrastinate's own tables only say "run job N"; the
``job`` table stays the source of state, progress and result. Its schema is applied by
``ensure_schema`` — by `disaster worker` at start and by the service when it starts with
``job_queue = "procrastinate"`` — once, when its tables are missing."""

from __future__ import annotations

import logging
import threading
from functools import cache

import procrastinate
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors
from disaster.jobs import runner
from disaster.settings import Settings

log = logging.getLogger(__name__)
QUEUE = "disaster_jobs"
TASK = "disaster.run_job"


def conninfo(db_url: str) -> str:
    """The libpq URL of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise errors.NotReady("ジョブの待ち行列（DISASTER_JOB_QUEUE=procrastinate）は PostgreSQL のデータベースでだけ使えます。")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_task(app: procrastinate.App) -> procrastinate.App:
    """Register the one task: run job N (as `disaster worker` does it)."""

    @app.task(name=TASK, queue=QUEUE, pass_context=False)
    def run_job(job_id: int) -> None:
        from disaster.settings import get_settings

        settings = get_settings()
        if runner.run_one(_sessions(settings.db), settings, runner.worker_id(), job_id) is None:
            log.info("job %s was not queued any more (cancelled or taken)", job_id)

    return app


@cache
def app_for(db_url: str) -> procrastinate.App:
    """The procrastinate app of the database ``db_url`` for a worker (asynchronous connections)."""
    return _with_task(procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(db_url))))


_opened = threading.Lock()


@cache
def _deferring_app(db_url: str) -> procrastinate.App:
    """The service's app for deferring: one small pool of synchronous connections, open for the process's life."""
    app = _with_task(procrastinate.App(connector=procrastinate.SyncPsycopgConnector(
        conninfo=conninfo(db_url), min_size=1, max_size=4)))
    app.open()
    return app


@cache
def _sessions(db_url: str) -> sessionmaker[Session]:
    from disaster.db import make_engine, session_factory

    return session_factory(make_engine(db_url))


def ensure_schema(engine: Engine, db_url: str) -> None:
    """Create procrastinate's tables in the database unless they are there."""
    if inspect(engine).has_table("procrastinate_jobs"):
        return
    app = app_for(db_url)
    app.open()
    try:
        app.schema_manager.apply_schema()
    finally:
        app.close()
    log.info("procrastinate schema applied")


def defer(db_url: str, job_id: int) -> None:
    """Queue "run job ``job_id``" for the `disaster worker` processes."""
    with _opened:
        app = _deferring_app(db_url)
    app.configure_task(TASK, queue=QUEUE).defer(job_id=job_id)


def run_worker(settings: Settings, concurrency: int) -> None:
    """Run procrastinate workers (``concurrency`` jobs at a time) until interrupted."""
    sessions = _sessions(settings.db)
    heartbeat = runner.Heartbeat(sessions, settings, runner.worker_id())
    runner.sweep(sessions, settings)
    heartbeat.start()
    try:
        app_for(settings.db).run_worker(queues=[QUEUE], concurrency=concurrency, install_signal_handlers=True)
    finally:
        heartbeat.stopped.set()
        runner.interrupt_own(sessions, runner.worker_id())
