"""Background job use-cases: ask for a job, list and read jobs, cancel, rerun, the result.

Who may do what: a job is asked for under the access rule of its kind (``disaster.jobs.kinds``),
checked again when it runs (as its creator, from the account then) and when its result is
downloaded (as the caller). A caller sees and cancels their own jobs; the city administrator
every job of the city."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, errors
from disaster.access import Action, Principal, Role
from disaster.jobs import FINISHED, JobState
from disaster.jobs.kinds import KINDS
from disaster.models import District, Job

MAX_PER_PAGE = 200
NOT_QUEUED = ("ジョブを待ち行列（procrastinate）に入れられませんでした。管理者に連絡してください"
              "（`disaster worker` を一度起動すると待ち行列の表が作られます）。")
log = logging.getLogger(__name__)


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or dt.datetime.now(dt.UTC)


def _visible(principal: Principal) -> list[Any]:
    """The jobs ``principal`` may see: the city administrator's city, or their own."""
    clauses: list[Any] = [Job.city_code == principal.city_code]
    if principal.role != Role.CITY_ADMIN:
        clauses.append(Job.created_by == principal.login)
    return clauses


def create(sessions: sessionmaker[Session], principal: Principal, kind: str, parameters: dict[str, Any],
           at: dt.datetime | None = None, rerun_of: int | None = None) -> Job:
    """Queue a job of ``kind`` for ``principal`` after checking that they may ask for it now."""
    if kind not in KINDS:
        raise errors.Rejected(f"ジョブの種類「{kind}」はありません。")
    with sessions() as session, session.begin():
        KINDS[kind].check(session, principal, parameters)
        job = Job(city_code=principal.city_code, kind=kind, parameters=parameters, state=JobState.QUEUED, progress=0,
                  message="順番を待っています", created_by=principal.login, creator_role=principal.role,
                  rerun_of=rerun_of, created_at=_now(at), cancel_requested=False, result_residents=[])
        session.add(job)
        session.flush()
        session.expunge(job)
    return job


def hand_over(sessions: sessionmaker[Session], job_queue: str, db_url: str, job_id: int) -> None:
    """Give the new job ``job_id`` to the procrastinate queue in ``db_url`` when the store uses one
    (`disaster worker` processes on any machine take it). Otherwise the job table is the queue: the
    embedded workers and `disaster worker` find the job there. A job the queue refused fails (NotReady)."""
    if job_queue != "procrastinate":
        return
    from disaster.jobs import queue  # optional extra "postgres"

    try:
        queue.defer(db_url, job_id)
    except Exception as exc:  # the queue's database or tables: the job would wait forever
        log.exception("job %s could not be deferred", job_id)
        not_queued(sessions, job_id, NOT_QUEUED)
        raise errors.NotReady(NOT_QUEUED) from exc


def plan_districts(sessions: sessionmaker[Session], principal: Principal, districts: list[str] | None) -> list[str]:
    """The 校区 whose マイプラン ``principal`` asks for in one job each: the named ones (each checked
    as the job will be), or every 校区 of the city they may make plans for."""
    with sessions() as session:
        if districts:
            for name in districts:
                KINDS["district_plans"].check(session, principal, {"district": name})
            return list(dict.fromkeys(districts))
        names = session.scalars(select(District.name).where(District.city_code == principal.city_code)
                                .order_by(District.name))
        allowed = [name for name in names if access.can(principal, Action.DISTRICT_PLANS, name)]
    if not allowed:
        raise errors.Forbidden(f"{access.ROLE_LABELS[principal.role]}（{principal.login}）がマイプランを作れる校区はありません。")
    return allowed


def get(session: Session, principal: Principal, job_id: int) -> Job:
    """A job ``principal`` may see: NotFound when there is none in the city, Forbidden when it is someone else's."""
    job = session.scalars(select(Job).where(Job.id == job_id, Job.city_code == principal.city_code)).first()
    if job is None:
        raise errors.NotFound(f"ジョブ {job_id} はありません。")
    if principal.role != Role.CITY_ADMIN and job.created_by != principal.login:
        raise errors.Forbidden(f"ジョブ {job_id} は他の利用者のジョブです。")
    return job


def read(sessions: sessionmaker[Session], principal: Principal, job_id: int) -> Job:
    with sessions() as session:
        job = get(session, principal, job_id)
        session.expunge(job)
    return job


@dataclass(frozen=True)
class JobPage:
    items: list[Job]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_jobs(sessions: sessionmaker[Session], principal: Principal, state: JobState | None = None,
              page: int = 1, per_page: int = 50) -> JobPage:
    """The jobs ``principal`` may see, newest first."""
    clauses = _visible(principal) + ([Job.state == state] if state else [])
    with sessions() as session:
        total = session.scalar(select(func.count(Job.id)).where(*clauses)) or 0
        items = list(session.scalars(select(Job).where(*clauses).order_by(Job.id.desc())
                                     .offset((page - 1) * per_page).limit(per_page)))
        session.expunge_all()
    return JobPage(items, page, per_page, total)


def cancel(sessions: sessionmaker[Session], principal: Principal, job_id: int, at: dt.datetime | None = None) -> Job:
    """A queued job is cancelled at once; a running one is asked to stop (it stops at its next
    progress report, leaving no result). A finished job: Conflict."""
    with sessions() as session, session.begin():
        job = get(session, principal, job_id)
        if job.state in FINISHED:
            raise errors.Conflict(f"ジョブ {job_id} は終わっています（{job.state}）。取り消せません。")
        session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
                        .values(state=JobState.CANCELLED, cancel_requested=True, finished_at=_now(at), message="取り消しました"))
        session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING)
                        .values(cancel_requested=True, message="取り消しています"))
    return read(sessions, principal, job_id)


def not_queued(sessions: sessionmaker[Session], job_id: int, reason: str, at: dt.datetime | None = None) -> None:
    """The queue did not take the new job ``job_id``: it fails with ``reason`` (it can be rerun)."""
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
                        .values(state=JobState.FAILED, finished_at=_now(at), error=reason, message="失敗しました"))


def rerun(sessions: sessionmaker[Session], principal: Principal, job_id: int, at: dt.datetime | None = None) -> Job:
    """A new job with the same kind and parameters, as ``principal`` (checked again)."""
    with sessions() as session:
        job = get(session, principal, job_id)
        if job.state not in FINISHED:
            raise errors.Conflict(f"ジョブ {job_id} はまだ終わっていません。終わってから再実行してください。")
        kind, parameters = job.kind, dict(job.parameters)
    return create(sessions, principal, kind, parameters, at, rerun_of=job_id)


@dataclass(frozen=True)
class JobResult:
    data: bytes
    filename: str
    media_type: str
    residents: list[str]


def result(sessions: sessionmaker[Session], principal: Principal, job_id: int) -> JobResult:
    """The stored result of a succeeded job, if ``principal`` may still have it (its kind's rule, now)."""
    with sessions() as session:
        job = get(session, principal, job_id)
        if job.state != JobState.SUCCEEDED:
            raise errors.NotReady(f"ジョブ {job_id} の結果はありません（{job.state}）。完了したジョブの結果だけを取り出せます。")
        if job.result is None:
            raise errors.NotReady(f"ジョブ {job_id} の結果は保存期間を過ぎたため削除されました。「再実行」で作り直せます。")
        KINDS[job.kind].check(session, principal, dict(job.parameters))
        return JobResult(job.result, job.result_name or f"job-{job_id}", job.result_type or "application/octet-stream",
                         list(job.result_residents))

