"""時間のかかる処理（ジョブ）: ``/api/v1/jobs…`` and the routes that start one — a 校区's マイプラン
(``POST /districts/{district}/plans``), a 図上訓練 pack (``POST /exercises/packs``), a re-assessment
(``POST /assessments``). They answer 202 with the job at once; the job runs in a worker
(disaster.jobs) as its creator. Asking for a job (allowed or refused), cancelling it and
downloading its result are audited; a download names the residents whose data the result holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from disaster import auditlog, errors
from disaster.jobs import STATE_LABELS, JobState
from disaster.jobs.kinds import KINDS
from disaster.models import Job
from disaster.usecases import jobs as usecase
from disaster.web.deps import Caller, CurrentCaller, PageNumber, Store
from disaster.web.schemas import ErrorOut


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the embedded job workers with the service (or make sure procrastinate's tables exist)."""
    from disaster.jobs.embedded import EmbeddedWorkers
    from disaster.jobs.processes import isolate_child_processes
    from disaster.jobs.runner import require_jobs

    store = app.state.store
    require_jobs(store.engine)
    settings = store.settings
    workers = None
    if settings.job_queue == "procrastinate":
        from disaster.jobs import queue

        queue.ensure_schema(store.engine, settings.db)
    elif settings.job_workers > 0:
        isolate_child_processes()
        workers = EmbeddedWorkers(store.sessions, settings, settings.job_workers)
        workers.start()
    app.state.job_workers = workers
    try:
        yield
    finally:
        if workers is not None:
            workers.stop()


router = APIRouter(tags=["jobs"], lifespan=lifespan)
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    422: {"model": ErrorOut}}


JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="ジョブ番号")]
DistrictName = Annotated[str, Path(min_length=1, max_length=80, description="校区名")]


class JobResultInfo(BaseModel):
    filename: str
    media_type: str
    size: int
    personal_data: bool = Field(description="住民の個人情報を含むか（取り出しは監査ログに残ります）")


class JobOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    parameters: dict[str, Any]
    state: JobState
    state_label: str
    progress: int = Field(ge=0, le=100)
    message: str = Field(description="進み具合の説明")
    error: str | None = Field(description="失敗・中断の理由")
    cancel_requested: bool
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rerun_of: int | None
    result: JobResultInfo | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        kind = KINDS.get(job.kind)
        result = (JobResultInfo(filename=job.result_name, media_type=job.result_type or "", size=job.result_size or 0,
                                personal_data=bool(job.result_residents))
                  if job.state == JobState.SUCCEEDED and job.result_name else None)
        return cls(id=job.id, kind=job.kind, kind_label=kind.label if kind else job.kind, parameters=job.parameters,
                   state=JobState(job.state), state_label=STATE_LABELS[JobState(job.state)], progress=job.progress,
                   message=job.message, error=job.error, cancel_requested=job.cancel_requested,
                   created_by=job.created_by, created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, rerun_of=job.rerun_of, result=result)


class JobList(BaseModel):
    items: list[JobOut]
    page: int
    per_page: int
    total: int
    pages: int


class DistrictPlansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    large_print: bool = Field(False, description="大きな文字（16pt）")
    include_drafts: bool = Field(False, description="計画作成の同意がない人の下書き（市職員用・透かし入り）も作る")


class ExercisePackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district: str = Field(min_length=1, max_length=80, description="校区名")
    hazard: Literal["flood", "inland", "landslide", "earthquake"] = "flood"
    start: dt.datetime = Field(dt.datetime(2026, 7, 8, 18, 0), description="想定の開始日時")
    duration: int = Field(2, ge=1, le=12, description="訓練の時間（時間）")
    difficulty: int = Field(2, ge=1, le=3)
    seed: int = Field(1, ge=0, le=2**31 - 1, description="乱数の種（同じ種なら同じシナリオ）")
    closed_session: bool = Field(False, description="非公開の訓練：同意を得た名簿の氏名を使う")
    monochrome: bool = False
    dig_size: Literal["A1", "A0"] = "A1"


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


@contextmanager
def _refusals_audited(store: Store, caller: Caller, action: str, details: dict[str, Any]) -> Iterator[None]:
    try:
        yield
    except (errors.Forbidden, errors.NotFound):
        with store.sessions() as session, session.begin():
            caller.audit(session, action, allowed=False, target_kind="job", details=details)
        raise


def _dispatch(request: Request, store: Store, job: Job) -> None:
    """Hand the new job to the queue (procrastinate) or wake the embedded workers."""
    usecase.hand_over(store.sessions, store.settings.job_queue, store.settings.db, job.id)
    workers = getattr(request.app.state, "job_workers", None)
    if workers is not None:
        workers.wake()


def start_job(request: Request, store: Store, caller: Caller, kind: str = "", parameters: dict[str, Any] | None = None,
              rerun_of: int | None = None) -> JobOut:
    """Create (or rerun) a job as ``caller``, audited, and hand it to a worker (the API and the pages)."""
    details: dict[str, Any] = {"kind": kind, "parameters": parameters} if rerun_of is None else {"rerun_of": rerun_of}
    with _refusals_audited(store, caller, auditlog.Action.JOB_CREATE, details):
        if rerun_of is None:
            job = usecase.create(store.sessions, caller.principal, kind, parameters or {})
        else:
            job = usecase.rerun(store.sessions, caller.principal, rerun_of)
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.JOB_CREATE, target_kind="job",
                     details={"job": job.id, "kind": job.kind, "parameters": job.parameters} | details)
    _dispatch(request, store, job)
    return JobOut.of(job)


@router.get("/jobs", response_model=JobList, responses=ERRORS)
def list_jobs(
    store: Store, caller: CurrentCaller,
    state: Annotated[JobState | None, Query(description="状態で絞り込む")] = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=usecase.MAX_PER_PAGE)] = 50,
) -> JobList:
    """自分のジョブ（市の管理者は市の全員のジョブ）、新しい順。"""
    found = usecase.list_jobs(store.sessions, caller.principal, state, page, per_page)
    return JobList(items=[JobOut.of(job) for job in found.items], page=found.page, per_page=found.per_page,
                   total=found.total, pages=found.pages)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=ERRORS)
def job(job_id: JobId, store: Store, caller: CurrentCaller) -> JobOut:
    """ジョブの状態と進み具合。"""
    return JobOut.of(usecase.read(store.sessions, caller.principal, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, responses=ERRORS)
def cancel(job_id: JobId, store: Store, caller: CurrentCaller) -> JobOut:
    """ジョブを取り消します（待機中はすぐ、実行中は次の区切りで止まり、結果は残りません）。終わったジョブは 409。"""
    details = {"job": job_id}
    with _refusals_audited(store, caller, auditlog.Action.JOB_CANCEL, details):
        cancelled = usecase.cancel(store.sessions, caller.principal, job_id)
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.JOB_CANCEL, target_kind="job", details=details)
    return JobOut.of(cancelled)


@router.post("/jobs/{job_id}/rerun", response_model=JobOut, status_code=202, responses=ERRORS)
def rerun(job_id: JobId, request: Request, store: Store, caller: CurrentCaller) -> JobOut:
    """終わったジョブ（失敗・取り消し・中断・完了）を同じ条件で新しいジョブとしてやり直します。"""
    return start_job(request, store, caller, rerun_of=job_id)


@router.get("/jobs/{job_id}/result", response_class=Response, responses=ERRORS | {
    200: {"content": {"application/zip": {}, "application/json": {}}, "description": "ジョブの結果のファイル"}})
def result(job_id: JobId, store: Store, caller: CurrentCaller) -> Response:
    """完了したジョブの結果（ZIP・JSON）。取り出す時点の権限で確かめ直します。まだ結果がなければ 409。"""
    with _refusals_audited(store, caller, auditlog.Action.JOB_RESULT, {"job": job_id}):
        found = usecase.result(store.sessions, caller.principal, job_id)
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.JOB_RESULT, residents=found.residents, target_kind="job",
                     details={"job": job_id, "file": found.filename, "bytes": len(found.data)})
    return Response(found.data, media_type=found.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"job-{job_id}\"; filename*=UTF-8''{quote(found.filename)}"})


@router.post("/districts/{district}/plans", response_model=JobOut, status_code=202, responses=ERRORS)
def district_plans(district: DistrictName, body: DistrictPlansIn, request: Request, store: Store, caller: CurrentCaller) -> JobOut:
    """校区の全員のマイプラン（見られる範囲、同意のない人は下書きを頼んだときだけ）を ZIP にまとめるジョブを始めます。"""
    return start_job(request, store, caller, "district_plans", {"district": district} | body.model_dump())


@router.post("/exercises/packs", response_model=JobOut, status_code=202, responses=ERRORS)
def exercise_pack(body: ExercisePackIn, request: Request, store: Store, caller: CurrentCaller) -> JobOut:
    """図上訓練の教材一式（手引き・カード・ワークシート・地図）を ZIP にまとめるジョブを始めます。"""
    return start_job(request, store, caller, "exercise_pack", body.model_dump(mode="json"))


@router.post("/assessments", response_model=JobOut, status_code=202, responses=ERRORS)
def assessment(request: Request, store: Store, caller: CurrentCaller, body: AssessmentIn | None = None) -> JobOut:
    """全員の避難判定をやり直すジョブを始めます（市職員・市の管理者。取り込みの後など）。結果は集計の JSON。"""
    return start_job(request, store, caller, "assessment", {})
