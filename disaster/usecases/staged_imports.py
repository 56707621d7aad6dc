"""Committing a validated import from the city's pages: the data and its audit entry in one
transaction (all of it or nothing, validated again against the data as it is then), the
re-assessment of the city afterwards as a background job with a progress bar (``assessment``,
``disaster.jobs.kinds``) rather than inside the request. Until that job has run, the dashboard
says the assessment is older than the data (``usecases.dashboard``) and offers to run it again.

The API's ``POST /imports/{id}/commit`` (``usecases.imports.commit_import``) re-assesses in the
same transaction instead; both write the same import with the CLI's rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import auditlog
from disaster.access import Principal
from disaster.models import Resident
from disaster.usecases import imports
from disaster.usecases.imports import ImportReport, ImportRequest

# the kinds whose data the assessment reads (a boundary or 位置参照情報 changes no assessment)
REASSESSED = frozenset({"districts", "shelters", "hazards", "residents", "supporters"})


def commit_data(sessions: sessionmaker[Session], principal: Principal, request: ImportRequest, origin: str,
                details: dict[str, Any] | None = None) -> ImportReport:
    """Write ``request`` with the CLI's rules and its audit entry in one transaction, without the
    re-assessment (``ImportRejected`` and nothing written when a problem is found now)."""
    facts = {"kind": request.kind, "files": [p.name for p in request.paths]} | (details or {})
    imports.require_import(sessions, principal, auditlog.Action.IMPORT_COMMIT, origin, facts)
    # follow_up runs the re-assessment, except for a boundary, where it only writes the starter
    # profile of a city registered without a name (as the CLI and the API do)
    with imports._one_transaction(sessions, commit=True) as joined:
        report = imports.run_import(joined, principal.city_code, request, follow_up=request.kind == "boundary")
        with joined() as session, session.begin():
            auditlog.record(session, principal, auditlog.Action.IMPORT_COMMIT, origin=origin, target_kind="import",
                            details=facts | {"created": report.created, "updated": report.updated,
                                             "assessment": "job" if needs_assessment(joined, principal, request.kind)
                                             else None})
    return report


def needs_assessment(sessions: sessionmaker[Session], principal: Principal, kind: str) -> bool:
    """Whether an import of ``kind`` calls for a re-assessment (the city has residents to assess)."""
    if kind not in REASSESSED:
        return False
    with sessions() as session:
        return session.scalar(select(Resident.id).where(Resident.city_code == principal.city_code).limit(1)) is not None
