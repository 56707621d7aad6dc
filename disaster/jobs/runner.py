"""Running a job: claim it, rebuild its creator's principal, run its kind with progress and a
cooperative cancel, store the result or the reason it failed. Every change of state is
conditional on the state (and worker) it comes from, so two workers never both run a job and a
job marked interrupted stays so.

A worker is ``host:pid``; while it runs jobs, a heartbeat thread refreshes their ``heartbeat_at``.
At the start of every worker and from time to time while it waits, ``sweep`` marks the running
jobs of a worker that is gone (a dead process on this host, or a heartbeat older than
``job_stale_seconds``) interrupted, and deletes results older than ``job_result_days``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors
from disaster.access import Principal, Role
from disaster.jobs import JobState
from disaster.jobs.kinds import KINDS, Cancelled, JobContext, Output
from disaster.jobs.processes import alive
from disaster.models import Job, User
from disaster.settings import Settings
from disaster.usecases.disaster_mode import active, principal_in_mode

log = logging.getLogger(__name__)
CANCEL_CHECK_SECONDS = 0.5
INTERRUPTED = "処理中にジョブを実行していたプロセスが止まりました（再起動・障害など）。「再実行」で同じ条件でやり直せます。"
BUG = "内部エラーで失敗しました（ジョブ番号 {id}）。管理者に連絡してください。"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def worker_id() -> str:
    """This process (after a fork the pid changes)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(sessions: sessionmaker[Session], worker: str, job_id: int | None = None) -> int | None:
    """Take ``job_id`` (or the oldest queued job) for ``worker``; None when it is not queued (any more)."""
    with sessions() as session, session.begin():
        if job_id is None:
            job_id = session.scalar(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id).limit(1))
            if job_id is None:
                return None
        at = now()
        taken = session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
                                .values(state=JobState.RUNNING, worker=worker, started_at=at, heartbeat_at=at,
                                        message="開始しました"))
        return job_id if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def _finish(sessions: sessionmaker[Session], job_id: int, worker: str, state: JobState, **values: Any) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING, Job.worker == worker)
                        .values(state=state, finished_at=now(), **values))


def run_as(session: Session, login: str, city_code: str) -> Principal:
    """The principal of account ``login`` now (with the 災害時モード in force); Forbidden when the
    account is gone or disabled."""
    user = session.scalars(select(User).where(User.login == login, User.city_code == city_code)).first()
    if user is None or user.disabled:
        raise errors.Forbidden(f"アカウント（{login}）がないか停止されているため、そのアカウントのジョブは実行できません。")
    principal = Principal(user.login, Role(user.role), user.city_code, frozenset(user.districts), user.professional_name)
    return principal_in_mode(principal, active(session, city_code))


class Reporter:
    """The progress callback of one run: records progress, and raises Cancelled once a cancel is asked."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int, worker: str) -> None:
        self.sessions, self.job_id, self.worker = sessions, job_id, worker
        self.last_percent = -1
        self.checked_at = 0.0

    def __call__(self, percent: int, message: str) -> None:
        percent = max(self.last_percent, min(99, percent))  # 100 only when the result is stored
        moment = time.monotonic()
        if percent == self.last_percent and moment - self.checked_at < CANCEL_CHECK_SECONDS:
            return
        self.last_percent, self.checked_at = percent, moment
        with self.sessions() as session, session.begin():
            session.execute(update(Job).where(Job.id == self.job_id, Job.state == JobState.RUNNING,
                                              Job.worker == self.worker)
                            .values(progress=percent, message=message, heartbeat_at=now()))
            row = session.execute(select(Job.cancel_requested, Job.state, Job.worker).where(Job.id == self.job_id)).one()
        if row.cancel_requested or row.state != JobState.RUNNING or row.worker != self.worker:
            raise Cancelled


def execute(sessions: sessionmaker[Session], settings: Settings, job_id: int, worker: str) -> None:
    """Run the claimed job ``job_id`` to its end state (never raises for the job's own failures)."""
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        kind, parameters, login, city_code = KINDS.get(job.kind), dict(job.parameters), job.created_by, job.city_code
    report = Reporter(sessions, job_id, worker)
    try:
        if kind is None:
            raise errors.Rejected(f"ジョブの種類「{job.kind}」はこのバージョンでは実行できません。")
        with sessions() as session:
            principal = run_as(session, login, city_code)
        report(0, f"{kind.label}を始めました")
        output: Output = kind.run(JobContext(sessions, principal, parameters, report, settings.job_render_processes))
        report(99, "結果を保存しています")
    except Cancelled:
        _finish(sessions, job_id, worker, JobState.CANCELLED, message="取り消しました")
        return
    except errors.DisasterError as exc:
        _finish(sessions, job_id, worker, JobState.FAILED, error=str(exc), message="失敗しました")
        return
    except Exception:  # a bug: the traceback goes to the log, the user gets the job number
        log.exception("job %s (%s) failed", job_id, kind.name if kind else "?")
        _finish(sessions, job_id, worker, JobState.FAILED, error=BUG.format(id=job_id), message="失敗しました")
        return
    _finish(sessions, job_id, worker, JobState.SUCCEEDED, progress=100, message="完了しました", result=output.data,
            result_name=output.filename, result_type=output.media_type, result_size=len(output.data),
            result_residents=output.residents)


def run_one(sessions: sessionmaker[Session], settings: Settings, worker: str, job_id: int | None = None) -> int | None:
    """Claim ``job_id`` (or the oldest queued job) and run it; the job's id, or None if none was taken."""
    taken = claim(sessions, worker, job_id)
    if taken is not None:
        execute(sessions, settings, taken, worker)
    return taken


def _gone(worker: str | None) -> bool:
    """A worker of this host whose process is not running any more."""
    host, _, pid = (worker or "").rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid))


def interrupt_dead(sessions: sessionmaker[Session], settings: Settings) -> list[int]:
    """Mark the running jobs of a worker that is gone interrupted; returns their ids."""
    stale = now() - dt.timedelta(seconds=settings.job_stale_seconds)
    with sessions() as session, session.begin():
        running = session.execute(select(Job.id, Job.worker, Job.heartbeat_at).where(Job.state == JobState.RUNNING)).all()
        dead = [row.id for row in running if _gone(row.worker) or row.heartbeat_at is None or row.heartbeat_at < stale]
        if dead:
            session.execute(update(Job).where(Job.id.in_(dead), Job.state == JobState.RUNNING)
                            .values(state=JobState.INTERRUPTED, finished_at=now(), error=INTERRUPTED, message="中断"))
    for job_id in dead:
        log.warning("job %s interrupted: its worker is gone", job_id)
    return dead


def expire_results(sessions: sessionmaker[Session], settings: Settings) -> list[int]:
    """Delete the results of jobs that ended more than ``job_result_days`` ago (they may hold
    personal data: a 校区's plans); the job stays, saying why its result is gone. Returns their ids."""
    cutoff = now() - dt.timedelta(days=settings.job_result_days)
    with sessions() as session, session.begin():
        expired = list(session.scalars(select(Job.id).where(Job.result_name.is_not(None), Job.finished_at < cutoff)))
        if expired:
            session.execute(update(Job).where(Job.id.in_(expired)).values(
                result=None, result_name=None, result_type=None, result_size=None, result_residents=[],
                message=f"結果は保存期間（{settings.job_result_days:g}日）を過ぎたため削除しました"))
    return expired


def sweep(sessions: sessionmaker[Session], settings: Settings) -> None:
    """What a worker does at start and now and then: interrupt the jobs of dead workers, delete old results."""
    interrupt_dead(sessions, settings)
    expire_results(sessions, settings)


def interrupt_own(sessions: sessionmaker[Session], worker: str) -> None:
    """At a clean stop: the jobs this worker still runs are interrupted (they can be rerun)."""
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.state == JobState.RUNNING, Job.worker == worker)
                        .values(state=JobState.INTERRUPTED, finished_at=now(), error=INTERRUPTED, message="中断"))


class Heartbeat(threading.Thread):
    """Refreshes ``heartbeat_at`` of this worker's running jobs every ``job_heartbeat_seconds``,
    and now and then marks the jobs of dead workers (e.g. on another machine) interrupted."""

    SWEEP_EVERY = 6  # beats

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, worker: str) -> None:
        super().__init__(name="disaster-job-heartbeat", daemon=True)
        self.sessions, self.settings, self.worker = sessions, settings, worker
        self.stopped = threading.Event()

    def run(self) -> None:
        beats = 0
        while not self.stopped.wait(self.settings.job_heartbeat_seconds):
            beats += 1
            try:
                with self.sessions() as session, session.begin():
                    session.execute(update(Job).where(Job.state == JobState.RUNNING, Job.worker == self.worker)
                                    .values(heartbeat_at=now()))
                if beats % self.SWEEP_EVERY == 0:
                    sweep(self.sessions, self.settings)
            except Exception:  # a database hiccup must not end the heartbeat
                log.exception("job heartbeat failed")


def require_jobs(engine: Engine) -> None:
    """NotReady for a store from before migration 0011 (no ``job`` table)."""
    if not inspect(engine).has_table(Job.__tablename__):
        raise errors.NotReady("このデータベースにはジョブの記録（job）がまだありません（古い形式です）。"
                              "`disaster init` で更新してから、もう一度実行してください。")
