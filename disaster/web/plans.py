"""マイプラン（計画の記録）: ``/api/v1/residents/{resident_no}/plan…`` (issue 12 §5).

GET gives the record with an ``ETag`` (its version) and what may be chosen; PUT saves a new
version only from the version the editor loaded (``If-Match`` or ``version`` in the body): a
stale save is 409 with the other change under ``error.current``. Reads, changes and refusals
are audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field

from disaster import errors
from disaster.auditlog import Action
from disaster.plans.record import PlanContent
from disaster.usecases import plan_records as usecase
from disaster.web.deps import Caller, CurrentCaller, Now, Store
from disaster.web.schemas import ErrorDetail, ErrorOut

router = APIRouter(prefix="/residents/{resident_no}/plan", tags=["plans"])


class ConflictDetail(ErrorDetail):
    current: dict[str, Any] | None = Field(default=None, description="保存されている版と、その変更（同時に編集したとき）")


class ConflictOut(BaseModel):
    error: ConflictDetail


ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut},
                                           409: {"model": ConflictOut}, 422: {"model": ErrorOut}}


class DestinationOption(BaseModel):
    code: str
    name: str
    kinds: str
    role: str | None = Field(description="assessed（避難判定の避難先） / second（第2の避難先） / agreed（受け入れの約束のある福祉避難所） / nearby（歩ける範囲）")
    why: list[str]
    distance_m: float | None = Field(description="道のりの目安（直線×迂回係数）")
    floor: int | None = Field(description="使う階（浸水する場所）")


class SupporterOption(BaseModel):
    supporter_no: str
    name: str | None = Field(description="同意のない支援者の氏名は市職員にだけ示します")
    relation: str | None
    consent: bool


class PlanOut(BaseModel):
    resident_no: str
    district: str
    version: int = Field(description="計画の記録の版（ETag と同じ。0: まだ記録がない）")
    status: str | None = Field(description="下書き / 本人確認済 / 要見直し（記録がなければ null）")
    content: PlanContent | None
    confirmed_on: dt.date | None
    review_reasons: list[str] = Field(description="要見直しになった理由（何が変わったか）")
    updated_at: dt.datetime | None
    updated_by: str | None
    suggestion: dict[str, Any] = Field(description="避難判定からの提案（記録がないときの初期値）")
    destinations: list[DestinationOption] = Field(description="選べる避難先（安全の基準を満たすものだけ）と、その理由")
    supporters: list[SupporterOption] = Field(description="主・予備の支援者として選べる人（この方の登録済みの支援者）")
    choices: dict[str, Any]
    warnings: list[str]
    can_edit: bool
    can_issue: bool


class PlanIn(PlanContent):
    version: int | None = Field(default=None, ge=0, description="読み込んだ版（If-Match ヘッダーの代わり）")


class IssueIn(BaseModel):
    version: int | None = Field(default=None, ge=0, description="読み込んだ版（If-Match ヘッダーの代わり）")
    confirmed_on: dt.date | None = Field(default=None, description="本人と確かめた日（省略時は今日）")


class SavedOut(BaseModel):
    version: int
    status: str
    changes: list[str] = Field(description="この保存で変わったこと（「避難先: 〇〇 → △△」）")


class VersionOut(BaseModel):
    version: int
    saved_at: dt.datetime
    author_login: str
    author_role: str
    made_with: list[str]
    status: str
    changes: list[str]
    note: str | None


class HistoryOut(BaseModel):
    resident_no: str
    items: list[VersionOut]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """The version the editor loaded: the If-Match ETag or the body's ``version``."""
    if if_match is not None:
        value = if_match.strip().removeprefix("W/").strip('"')
        if not value.isdigit():
            raise errors.Rejected("If-Match には読み込んだときの ETag（版の番号）を指定してください。")
        return int(value)
    if body_version is None:
        raise errors.Rejected("読み込んだ版がありません（If-Match ヘッダーか version を指定してください）。")
    return body_version


@contextmanager
def audited(store: Store, caller: Caller, action: Action, resident_no: str, details: dict[str, Any]) -> Iterator[None]:
    """Record a refusal (allowed=False) or a failed change (its error code) before it reaches the caller."""
    try:
        yield
    except errors.DisasterError as exc:
        refused = isinstance(exc, errors.Forbidden)
        outcome = {} if refused else {"outcome": type(exc).__name__}
        with store.sessions() as session, session.begin():
            caller.audit(session, action, residents=[resident_no], allowed=not refused, target_kind="plan",
                         details=details | outcome)
        raise


def _record(store: Store, caller: Caller, action: Action, resident_no: str, details: dict[str, Any]) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, action, residents=[resident_no], target_kind="plan", details=details)


@router.get("", response_model=PlanOut, responses=ERRORS)
def get_plan(resident_no: str, store: Store, caller: CurrentCaller, response: Response) -> PlanOut:
    """計画の記録（なければ避難判定からの提案）と、選べる避難先・支援者。ETag は記録の版。"""
    with audited(store, caller, Action.PLAN_READ, resident_no, {}):
        view = usecase.get_plan(store.sessions, caller.principal, resident_no)
    _record(store, caller, Action.PLAN_READ, resident_no, {"version": view.version})
    response.headers["ETag"] = etag(view.version)
    return PlanOut(
        resident_no=view.resident_no, district=view.district, version=view.version, status=view.status,
        content=PlanContent.model_validate(view.content) if view.content is not None else None,
        confirmed_on=view.confirmed_on, review_reasons=view.review_reasons, updated_at=view.updated_at,
        updated_by=view.updated_by, suggestion=view.suggestion,
        destinations=[DestinationOption(code=v.code, name=v.name, kinds=v.kinds, role=v.role, why=v.why,
                                        distance_m=v.distance_m, floor=v.floor) for v in view.destinations],
        supporters=[SupporterOption.model_validate(s) for s in view.supporters], choices=view.choices,
        warnings=view.warnings, can_edit=view.can_edit, can_issue=view.can_issue)


@router.put("", response_model=SavedOut, responses=ERRORS)
def save_plan(resident_no: str, body: PlanIn, store: Store, caller: CurrentCaller, at: Now, response: Response,
              if_match: Annotated[str | None, Header(max_length=40, description="GET の ETag")] = None) -> SavedOut:
    """計画を保存します（新しい版になり、下書きに戻ります）。読み込んだ後に別の人が保存していれば 409。"""
    content = PlanContent.model_validate(body.model_dump(exclude={"version"}))
    with audited(store, caller, Action.PLAN_SAVE, resident_no, {}):
        expected = expected_version(if_match, body.version)
        saved = usecase.save_plan(store.sessions, caller.principal, resident_no, content, expected, at)
    _record(store, caller, Action.PLAN_SAVE, resident_no, {"version": saved.version, "changes": len(saved.changes)})
    response.headers["ETag"] = etag(saved.version)
    return SavedOut(version=saved.version, status=saved.status, changes=saved.changes)


@router.post("/issue", response_model=SavedOut, responses=ERRORS)
def issue_plan(resident_no: str, store: Store, caller: CurrentCaller, at: Now, response: Response,
               if_match: Annotated[str | None, Header(max_length=40, description="GET の ETag")] = None,
               body: IssueIn | None = None) -> SavedOut:
    """本人と確かめた計画にします（本人確認済。計画作成の同意が必要）。もとのデータが変わると要見直しになります。
    本文は省略できます（If-Match ヘッダーがあれば）。"""
    body = body or IssueIn()
    with audited(store, caller, Action.PLAN_ISSUE, resident_no, {}):
        expected = expected_version(if_match, body.version)
        saved = usecase.issue_plan(store.sessions, caller.principal, resident_no, expected, at, body.confirmed_on)
    _record(store, caller, Action.PLAN_ISSUE, resident_no, {"version": saved.version})
    response.headers["ETag"] = etag(saved.version)
    return SavedOut(version=saved.version, status=saved.status, changes=saved.changes)


@router.get("/history", response_model=HistoryOut, responses=ERRORS)
def plan_history(resident_no: str, store: Store, caller: CurrentCaller) -> HistoryOut:
    """計画の記録のすべての版（新しい順）と、それぞれで変わったこと。"""
    with audited(store, caller, Action.PLAN_HISTORY, resident_no, {}):
        entries = usecase.history(store.sessions, caller.principal, resident_no)
    _record(store, caller, Action.PLAN_HISTORY, resident_no, {"versions": len(entries)})
    return HistoryOut(resident_no=resident_no, items=[VersionOut.model_validate(e, from_attributes=True) for e in entries])
