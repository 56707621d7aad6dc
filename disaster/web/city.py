"""The city's 校区, counts and audit log: ``/api/v1/districts``, ``/api/v1/stats``, ``/api/v1/audit``."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from disaster import access, auditlog, errors
from disaster.access import Role
from disaster.models import AuditEntry, District, Resident
from disaster.usecases.stats import store_stats
from disaster.web.deps import CurrentCaller, CurrentPrincipal, Store
from disaster.web.schemas import AuditEntryOut, AuditList, DistrictOut, ErrorOut, StatsOut

router = APIRouter(tags=["city"])
ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


@router.get("/districts", response_model=list[DistrictOut], responses=ERRORS)
def districts(store: Store, principal: CurrentPrincipal) -> list[DistrictOut]:
    """市町村の校区（人数は少数を伏せた形。担当の校区・災害時モードの校区の印つき）。"""
    with store.sessions() as session:
        counts = dict(session.execute(select(Resident.district_id, func.count())
                                      .where(access.counted_filter(principal)).group_by(Resident.district_id)).all())
        rows = session.execute(select(District.id, District.name, District.area)
                               .where(District.city_code == principal.city_code).order_by(District.name)).all()
    return [DistrictOut(name=row.name, area=row.area, residents=access.count_label(principal, counts.get(row.id, 0), row.name),
                        assigned=row.name in principal.districts, disaster_mode=principal.in_emergency(row.name))
            for row in rows]


@router.get("/stats", response_model=StatsOut, responses=ERRORS)
def stats(store: Store, principal: CurrentPrincipal) -> StatsOut:
    """市町村全体の件数（校区・名簿・支援者・避難所など。市職員のみ）。"""
    return StatsOut.model_validate(store_stats(store.sessions, principal))


@router.get("/audit", response_model=AuditList, responses=ERRORS)
def audit(
    store: Store, caller: CurrentCaller,
    since: Annotated[dt.datetime | None, Query(description="この日時以降（ISO 8601、時差つき）")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """市町村の監査ログ（新しい順。市の管理者のみ。この閲覧も記録されます）。"""
    principal = caller.principal
    details = {"since": since.isoformat() if since else None, "page": page}
    if principal.role is not Role.CITY_ADMIN:
        with store.sessions() as session, session.begin():
            caller.audit(session, auditlog.Action.AUDIT_READ, allowed=False, target_kind="audit_log", details=details)
        raise errors.Forbidden(f"監査ログを読めるのは市の管理者だけです（{access.ROLE_LABELS[principal.role]}"
                               f"（{principal.login}）には権限がありません）。")
    where = [AuditEntry.city_code == principal.city_code]
    if since is not None:
        if since.tzinfo is None:
            raise errors.Rejected("since には時差（例: +09:00）をつけてください。")
        where.append(AuditEntry.at >= since)
    with store.sessions() as session, session.begin():
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
        entries = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
                                  .limit(per_page).offset((page - 1) * per_page)).all()
        items = [AuditEntryOut.model_validate(auditlog.as_dict(e)) for e in entries]
        caller.audit(session, auditlog.Action.AUDIT_READ, target_kind="audit_log", details=details | {"entries": len(items)})
    return AuditList(items=items, page=page, per_page=per_page, total=total, pages=math.ceil(total / per_page))
