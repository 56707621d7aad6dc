"""The city's 校区, counts and audit log: ``/api/v1/districts``, ``/api/v1/stats``, ``/api/v1/audit`` (and its CSV export)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator
from sqlalchemy import func, select

from disaster import access, auditlog, errors, exports
from disaster.access import Action
from disaster.models import AuditEntry, District, Resident
from disaster.usecases.stats import store_stats
from disaster.web.deps import Caller, CurrentCaller, CurrentPrincipal, PageNumber, Store
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


def _audit_readable(store: Store, caller: Caller, action: auditlog.Action, details: dict[str, Any]) -> None:
    """``access.Action.READ_AUDIT`` or Forbidden (the refusal audited)."""
    try:
        access.require(caller.principal, Action.READ_AUDIT)
    except errors.Forbidden:
        with store.sessions() as session, session.begin():
            caller.audit(session, action, allowed=False, target_kind="audit_log", details=details)
        raise


def _since(since: dt.datetime | None) -> list[Any]:
    return [] if since is None else [AuditEntry.at >= since]


DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")


def _iso_instant(value: object) -> object:
    """Only an ISO 8601 date and time with its offset (not a number of seconds, not a local time),
    or a date: from the start of that day in Japan (as `disaster audit log --since`)."""
    if isinstance(value, str):
        if DATE_ONLY.fullmatch(value):
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=JAPAN)
        try:
            instant = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("ISO 8601 の日時（例: 2026-11-26T09:00:00+09:00）ではありません") from None
        if instant.tzinfo is None:
            raise ValueError("時差（例: +09:00）がありません")
    return value


Since = Annotated[dt.datetime | None, Query(description="この日時以降（ISO 8601、時差つき。日付だけなら日本時間のその日の0時から）"),
                  BeforeValidator(_iso_instant)]


@router.get("/audit", response_model=AuditList, responses=ERRORS)
def audit(
    store: Store, caller: CurrentCaller,
    since: Since = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """市町村の監査ログ（新しい順。市の管理者のみ。この閲覧も記録されます）。"""
    details = {"since": since.isoformat() if since else None, "page": page}
    _audit_readable(store, caller, auditlog.Action.AUDIT_READ, details)
    where = [AuditEntry.city_code == caller.principal.city_code, *_since(since)]
    with store.sessions() as session, session.begin():
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
        entries = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
                                  .limit(per_page).offset((page - 1) * per_page)).all()
        items = [AuditEntryOut.model_validate(auditlog.as_dict(e)) for e in entries]
        caller.audit(session, auditlog.Action.AUDIT_READ, target_kind="audit_log", details=details | {"entries": len(items)})
    return AuditList(items=items, page=page, per_page=per_page, total=total, pages=math.ceil(total / per_page))


CSV_COLUMNS = ("id", "at", "actor", "role", "action", "target_kind", "resident_ids", "allowed", "origin", "details",
               "prev_hash", "hash")

@router.get("/audit/export.csv", response_class=Response, responses=ERRORS | {
    200: {"content": {"text/csv": {}}, "description": "監査ログ（CSV、UTF-8 BOM つき、古い順）"}})
def audit_export(store: Store, caller: CurrentCaller, since: Since = None) -> Response:
    """市町村の監査ログ全体を CSV で書き出します（古い順。市の管理者のみ。この書き出しも記録されます）。"""
    details: dict[str, Any] = {"since": since.isoformat() if since else None}
    _audit_readable(store, caller, auditlog.Action.AUDIT_EXPORT, details)
    moment = _since(since)  # rejected before anything is read
    with store.sessions() as session, session.begin():
        rows = [[auditlog.as_dict(entry)[column] for column in CSV_COLUMNS]
                for entry in session.scalars(select(AuditEntry).where(AuditEntry.city_code == caller.principal.city_code, *moment)
                                             .order_by(AuditEntry.id).execution_options(yield_per=1000))]
        caller.audit(session, auditlog.Action.AUDIT_EXPORT, target_kind="audit_log", details=details | {"entries": len(rows)})
    filename = f"audit_{caller.principal.city_code}.csv"
    return Response(exports.csv_bytes(CSV_COLUMNS, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
