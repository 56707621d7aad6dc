"""Residents as a principal may see them: a page of the list, one resident with the assessment.

Both load only what ``access.resident_filter`` and ``access.allowed_fields`` give the principal;
a resident outside the principal's view is ``errors.Forbidden`` (``errors.NotFound`` when the
名簿番号 is not on the city's 名簿), as for the plan PDF. The caller records the read.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from disaster import access, errors
from disaster.access import Action, Principal
from disaster.models import (
    Assessment,
    AssessmentRun,
    CareProfessional,
    District,
    EmergencyContact,
    PlanRecord,
    Resident,
    Shelter,
    Supporter,
    resident_supporter,
)
from disaster.plans.record import Status

LIST_FIELDS = ("resident_no", "name", "kana", "address", "phone", "care_level", "mobility", "consent_share", "consent_plan")
DETAIL_FIELDS = ("id", "resident_no", "name", "kana", "birth_date", "sex", "address", "phone", "care_level",
                 "disability_types", "medical_devices", "mobility", "communication_needs", "lives_alone",
                 "location_level", "consent_share", "consent_share_date", "consent_plan", "consent_plan_date")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class ResidentPage:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page)


PLAN_NONE = "none"  # the plan-status filter for residents without a plan record


@dataclass(frozen=True)
class ResidentFilters:
    """Narrowing the list: the assessment's plan-making priority (``priority_score`` at least
    ``min_priority``), the plan record's status (``PLAN_NONE``: no record yet), no supporter
    registered, review due (the next review date has passed, or the plan is 要見直し)."""

    min_priority: int | None = None
    plan_status: str | None = None
    no_supporter: bool = False
    review_due: bool = False

    def clauses(self, today: dt.date) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.min_priority is not None:
            found.append(Assessment.priority_score >= self.min_priority)
        if self.plan_status == PLAN_NONE:
            found.append(PlanRecord.id.is_(None))
        elif self.plan_status is not None:
            if self.plan_status not in {s.value for s in Status}:
                raise errors.Rejected(f"plan_status は {PLAN_NONE}・{'・'.join(s.value for s in Status)} のどれかです。")
            found.append(PlanRecord.status == self.plan_status)
        if self.no_supporter:
            found.append(~exists().where(resident_supporter.c.resident_id == Resident.id))
        if self.review_due:
            found.append(or_(PlanRecord.status == Status.REVIEW.value, PlanRecord.next_review_on < today))
        return found


def list_residents(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                   page: int = 1, per_page: int = 50, filters: ResidentFilters | None = None,
                   today: dt.date | None = None) -> ResidentPage:
    """The residents ``principal`` may see (in ``district``, narrowed by ``filters``), by 名簿番号, one page,
    with the assessment's priority and the plan record's status."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise errors.Rejected(f"page は 1 以上、per_page は 1〜{MAX_PER_PAGE} です。")
    access.require(principal, Action.READ_RESIDENTS, district)
    where = [access.resident_filter(principal, district), *(filters or ResidentFilters()).clauses(today or dt.date.today())]
    with sessions() as session:
        if district is not None and session.scalar(select(District.id).where(
                District.city_code == principal.city_code, District.name == district)) is None:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        total = session.scalar(select(func.count()).select_from(Resident)
                               .outerjoin(Assessment, Assessment.resident_id == Resident.id)
                               .outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id).where(*where)) or 0
        rows = session.execute(
            select(*access.resident_columns(principal, LIST_FIELDS), District.name.label("district"),
                   Assessment.priority_score, Assessment.decision, Assessment.supporter_count,
                   PlanRecord.status.label("plan_status"), PlanRecord.version.label("plan_version"),
                   PlanRecord.next_review_on)
            .join(District, Resident.district_id == District.id)
            .outerjoin(Assessment, Assessment.resident_id == Resident.id)
            .outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id)
            .where(*where).order_by(Resident.resident_no).limit(per_page).offset((page - 1) * per_page)
        ).mappings().all()
    return ResidentPage([dict(row) for row in rows], page, per_page, total)


def locate(session: Session, principal: Principal, resident_no: str) -> tuple[int, str]:
    """(id, 校区) of a resident ``principal`` may see; NotFound / Forbidden otherwise."""
    row = session.execute(select(Resident.id, District.name).join(District, Resident.district_id == District.id)
                          .where(access.resident_filter(principal), Resident.resident_no == resident_no)).first()
    if row is not None:
        return row.id, row.name
    if session.scalar(select(Resident.id).where(Resident.city_code == principal.city_code,
                                                Resident.resident_no == resident_no)) is None:
        raise errors.NotFound(f"名簿番号「{resident_no}」の方は名簿にいません。")
    raise errors.Forbidden(f"名簿番号「{resident_no}」の方は、{access.ROLE_LABELS[principal.role]}"
                           f"（{principal.login}）が見られる範囲にいません。")


def resident_detail(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> dict[str, Any]:
    """One resident ``principal`` may see: 名簿 fields, supporters, contacts, 関係専門職, the assessment."""
    with sessions() as session:
        resident_id, district = locate(session, principal, resident_no)
        access.require(principal, Action.READ_RESIDENTS, district)
        row = session.execute(select(*access.resident_columns(principal, DETAIL_FIELDS))
                              .where(Resident.id == resident_id)).mappings().one()
        detail = {key: value for key, value in row.items() if key != "id"} | {"district": district}
        detail["supporters"] = [
            {"name": s.name, "relation": s.relation, "consent": s.consent}
            for s in session.execute(
                select(access.supporter_name(principal).label("name"), Supporter.relation, Supporter.consent)
                .join(resident_supporter, resident_supporter.c.supporter_id == Supporter.id)
                .where(resident_supporter.c.resident_id == resident_id).order_by(Supporter.supporter_no))
        ]
        detail["emergency_contacts"] = [
            {"name": c.name, "relation": c.relation, "phone": c.phone}
            for c in session.scalars(select(EmergencyContact).where(EmergencyContact.resident_id == resident_id)
                                     .order_by(EmergencyContact.priority))
        ]
        detail["care_professionals"] = [
            {"role": c.role, "name": c.name, "organisation": c.organisation, "phone": c.phone}
            for c in session.scalars(select(CareProfessional).where(CareProfessional.resident_id == resident_id)
                                     .order_by(CareProfessional.id))
        ]
        detail["assessment"] = _assessment(session, resident_id)
    return detail


def _assessment(session: Session, resident_id: int) -> dict[str, Any] | None:
    destination, second, welfare = (aliased(Shelter) for _ in range(3))
    row = session.execute(
        select(Assessment, AssessmentRun.computed_at, destination.name, second.name, welfare.name)
        .join(AssessmentRun, Assessment.run_id == AssessmentRun.id)
        .outerjoin(destination, Assessment.destination_shelter_id == destination.id)
        .outerjoin(second, Assessment.second_shelter_id == second.id)
        .outerjoin(welfare, Assessment.welfare_shelter_id == welfare.id)
        .where(Assessment.resident_id == resident_id)).first()
    if row is None:
        return None
    a, computed_at, destination_name, second_name, welfare_name = row
    return {
        "computed_at": computed_at, "decision": a.decision, "decision_reasons": a.decision_reasons,
        "destination_kind": a.destination_kind, "destination": destination_name or a.destination_text,
        "second_shelter": second_name, "welfare_needed": a.welfare_needed, "welfare_shelter": welfare_name,
        "welfare_unplaced": a.welfare_unplaced, "travel_mode": a.travel_mode, "distance_m": a.distance_m,
        "travel_min": a.travel_min, "start_trigger": a.start_trigger, "crosses_deep_water": a.crosses_deep_water,
        "priority_score": a.priority_score, "priority_reasons": a.priority_reasons, "supporter_count": a.supporter_count,
        "supporter_issues": a.supporter_issues,
    }
