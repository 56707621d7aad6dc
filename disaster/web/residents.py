"""Residents: the list, one resident, the マイプラン PDF — ``/api/v1/residents/…``.

Every read is audited with the caller's address, and so is every refusal (a resident outside the
caller's view, another 校区): allowed or not, the entry names the 名簿番号 asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response

from disaster import auditlog, errors
from disaster.usecases import residents as usecase
from disaster.web.deps import Caller, CurrentCaller, Now, PageNumber, PlanRender, Store
from disaster.web.schemas import ErrorOut, ResidentDetail, ResidentItem, ResidentList

router = APIRouter(prefix="/residents", tags=["residents"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}}
RESIDENTS_LIST = "residents.list"
RESIDENT_READ = "resident.read"
TIMEZONE = ZoneInfo("Asia/Tokyo")  # dates (review due, the plan's 作成日) are Japanese dates


@contextmanager
def refusals_audited(store: Store, caller: Caller, action: str, residents: tuple[str, ...], target_kind: str,
                     details: dict[str, Any]) -> Iterator[None]:
    """Record a refused read (Forbidden) before it reaches the caller."""
    try:
        yield
    except errors.Forbidden:
        with store.sessions() as session, session.begin():
            caller.audit(session, action, residents=residents, allowed=False, target_kind=target_kind, details=details)
        raise


PlanStatusFilter = Literal["none", "下書き", "本人確認済", "要見直し"]


@router.get("", response_model=ResidentList, responses=ERRORS | {422: {"model": ErrorOut}})
def list_residents(
    store: Store, caller: CurrentCaller, at: Now,
    district: Annotated[str | None, Query(description="校区名（省略時は見られる全員）", max_length=80)] = None,
    min_priority: Annotated[int | None, Query(ge=0, le=1000, description="作成の優先度（避難判定の priority_score）がこの値以上")] = None,
    plan_status: Annotated[PlanStatusFilter | None, Query(description="計画の記録の状態（none: まだ記録がない）")] = None,
    no_supporter: Annotated[bool, Query(description="支援者が登録されていない人だけ")] = False,
    review_due: Annotated[bool, Query(description="見直しの時期（次の見直し日を過ぎた、または要見直し）の人だけ")] = False,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=usecase.MAX_PER_PAGE)] = 50,
) -> ResidentList:
    """見られる範囲の名簿（名簿番号順、ページ単位）と計画の記録の状態。担当でない校区を指定すると 403。"""
    filters = usecase.ResidentFilters(min_priority, plan_status, no_supporter, review_due)
    details = {"district": district, "page": page, "per_page": per_page,
               "filters": {k: v for k, v in asdict(filters).items() if v not in (None, False)}}
    with refusals_audited(store, caller, RESIDENTS_LIST, (), "district" if district else "residents", details):
        result = usecase.list_residents(store.sessions, caller.principal, district, page, per_page, filters,
                                        at.astimezone(TIMEZONE).date())
    with store.sessions() as session, session.begin():
        caller.audit(session, RESIDENTS_LIST, residents=[item["resident_no"] for item in result.items],
                     target_kind="district" if district else "residents", details=details | {"total": result.total})
    return ResidentList(items=[ResidentItem.model_validate(item) for item in result.items], page=result.page,
                            per_page=result.per_page, total=result.total, pages=result.pages)


@router.get("/{resident_no}", response_model=ResidentDetail, responses=ERRORS)
def resident(resident_no: str, store: Store, caller: CurrentCaller) -> ResidentDetail:
    """1 人分の名簿の内容と避難判定（見られる範囲にいない方は 403）。"""
    with refusals_audited(store, caller, RESIDENT_READ, (resident_no,), "resident", {}):
        detail = usecase.resident_detail(store.sessions, caller.principal, resident_no)
    with store.sessions() as session, session.begin():
        caller.audit(session, RESIDENT_READ, residents=[resident_no], target_kind="resident")
    return ResidentDetail.model_validate(detail)


@router.get("/{resident_no}/plan.pdf", response_class=Response, responses=ERRORS | {
    200: {"content": {"application/pdf": {}}, "description": "マイプランの PDF"}})
def plan_pdf(resident_no: str, store: Store, caller: CurrentCaller, at: Now, renderer: PlanRender) -> Response:
    """1 人分のマイプラン（PDF）。計画作成の同意がない方は市職員用の下書き（災害時モードでは担当の校区リーダーも）。"""
    from disaster.usecases.plans import plan_pdf as build_pdf  # optional extra "pdf"

    with refusals_audited(store, caller, auditlog.Action.PLAN_PDF, (resident_no,), "resident", {}):
        result = build_pdf(store.sessions, caller.principal, resident_no, today=at.astimezone(TIMEZONE).date(),
                           render=renderer)
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.PLAN_PDF, residents=[resident_no], target_kind="resident",
                     details={"draft": result.draft, "pages": result.pages, "version": result.version})
    filename = quote(f"マイプラン_{resident_no}.pdf")
    return Response(result.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=\"plan.pdf\"; filename*=UTF-8''{filename}"})
