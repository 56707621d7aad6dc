"""Searching the audit log (the city administrator's page): entries of the caller's city narrowed
by day (Japan time), account, action, allowed or refused and 名簿番号, newest first, one page at a
time; or all of them, oldest first, for the CSV export. Reading the log is itself audited by the
caller (the page), as the API's ``/audit`` does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access
from disaster.access import Principal
from disaster.models import AuditEntry

JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True)
class AuditFilters:
    since: dt.date | None = None  # from 0:00 that day in Japan
    until: dt.date | None = None  # to the end of that day in Japan
    actor: str | None = None  # login, exactly
    action: str | None = None  # e.g. plan.pdf
    allowed: bool | None = None  # True: allowed only, False: refusals only
    resident_no: str | None = None  # entries naming this 名簿番号

    def clauses(self, principal: Principal) -> list[Any]:
        found: list[Any] = [AuditEntry.city_code == principal.city_code]
        if self.since is not None:
            found.append(AuditEntry.at >= dt.datetime.combine(self.since, dt.time(), tzinfo=JAPAN))
        if self.until is not None:
            found.append(AuditEntry.at < dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), tzinfo=JAPAN))
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.action:
            found.append(AuditEntry.action == self.action)
        if self.allowed is not None:
            found.append(AuditEntry.allowed.is_(self.allowed))
        if self.resident_no:
            quoted = '"' + self.resident_no.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
            found.append(cast(AuditEntry.resident_ids, String).like(f"%{quoted}%", escape="\\"))
        return found

    def as_details(self) -> dict[str, Any]:
        """The filters as the audit entry of the read records them."""
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "actor": self.actor, "action": self.action,
                "allowed": self.allowed, "resident_no": self.resident_no}


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(sessions: sessionmaker[Session], principal: Principal, filters: AuditFilters, page: int = 1,
           per_page: int = 50) -> AuditPage:
    """One page of the matching entries, newest first (city administrator only)."""
    access.require(principal, access.Action.READ_AUDIT)
    where = filters.clauses(principal)
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
        items = list(session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
                                     .limit(per_page).offset((page - 1) * per_page)))
        session.expunge_all()
    return AuditPage(items, page, per_page, total)


def matching(session: Session, principal: Principal, filters: AuditFilters) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, read in batches (city administrator only)."""
    access.require(principal, access.Action.READ_AUDIT)
    yield from session.scalars(select(AuditEntry).where(*filters.clauses(principal)).order_by(AuditEntry.id)
                               .execution_options(yield_per=1000))


def actions(sessions: sessionmaker[Session], principal: Principal) -> list[str]:
    """The actions found in the city's log (the choices of the filter)."""
    access.require(principal, access.Action.READ_AUDIT)
    with sessions() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.city_code == principal.city_code)
                                    .distinct().order_by(AuditEntry.action)))
