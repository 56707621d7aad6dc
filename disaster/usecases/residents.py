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

from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from disaster import access, errors
from disaster.access import Action, Principal
from disaster.codes import SUPPORTER_RELATIONS
from disaster.models import (
    Assessment,
    AssessmentRun,
    CareProfessional,
    District,
    EmergencyContact,
    ExerciseFinding,
    ExerciseSession,
    PlanRecord,
    Resident,
    Shelter,
    Supporter,
    resident_supporter,
)
from disaster.plans.record import Status
from disaster.usecases.transactions import one_transaction

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


def _in_view(principal: Principal, district: str | None, filters: ResidentFilters | None, today: dt.date | None,
             page: int, per_page: int) -> list[Any]:
    """The conditions of a list of the residents in ``principal``'s view (a page in range, the right to read them)."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise errors.Rejected(f"page は 1 以上、per_page は 1〜{MAX_PER_PAGE} です。")
    access.require(principal, Action.READ_RESIDENTS, district)
    return [access.resident_filter(principal, district), *(filters or ResidentFilters()).clauses(today or dt.date.today())]


def _count_in_view(session: Session, principal: Principal, district: str | None, where: list[Any]) -> int:
    """How many residents match ``where`` (NotFound for a 校区 the city does not have)."""
    if district is not None and session.scalar(select(District.id).where(
            District.city_code == principal.city_code, District.name == district)) is None:
        raise errors.NotFound(f"校区「{district}」は登録されていません。")
    return session.scalar(select(func.count()).select_from(Resident)
                          .outerjoin(Assessment, Assessment.resident_id == Resident.id)
                          .outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id).where(*where)) or 0


def list_residents(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                   page: int = 1, per_page: int = 50, filters: ResidentFilters | None = None,
                   today: dt.date | None = None) -> ResidentPage:
    """The residents ``principal`` may see (in ``district``, narrowed by ``filters``), by 名簿番号, one page,
    with the assessment's priority and the plan record's status."""
    where = _in_view(principal, district, filters, today, page, per_page)
    with sessions() as session:
        total = _count_in_view(session, principal, district, where)
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
        detail["assessment"] = _assessment(session, principal, resident_id)
    return detail


OVERLOADED = "SUPPORTER_OVERLOADED"


def shown_supporter_issues(session: Session, principal: Principal, resident_id: int,
                           issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The supporter issues of a resident's assessment as ``principal`` may read them: how many
    people a supporter helps (SUPPORTER_OVERLOADED) counts only the residents ``principal`` may
    see (``access.resident_filter``, in the query), and the warning stands only when those exceed
    the city's limit. A leader thus never learns how many residents without consent a supporter
    also helps; the city roles, who see everyone, read the issues as assessed (and so does
    everyone when the assessment found no supporter over the limit)."""
    if principal.is_city or not any(i["code"] == OVERLOADED for i in issues):
        return issues
    import numpy as np
    import pandas as pd

    from disaster.analysis.supporters import supporter_issues
    from disaster.profile import load_profile

    theirs = select(resident_supporter.c.supporter_id).where(resident_supporter.c.resident_id == resident_id)
    supporters = pd.DataFrame(session.execute(select(Supporter.id, Supporter.relation, Supporter.consent)
                                              .where(Supporter.id.in_(theirs)).order_by(Supporter.id)).all(),
                              columns=["id", "relation", "consent"])
    links = pd.DataFrame(session.execute(
        select(resident_supporter.c.resident_id, resident_supporter.c.supporter_id)
        .join(Resident, Resident.id == resident_supporter.c.resident_id)
        .where(resident_supporter.c.supporter_id.in_(theirs), access.resident_filter(principal))).all(),
        columns=["resident_id", "supporter_id"])
    supporters["load"] = supporters["id"].map(links["supporter_id"].value_counts()).fillna(0).astype(int)
    limit = load_profile(principal.city_code).evacuation.max_residents_per_supporter
    _, (scoped,) = supporter_issues(np.array([resident_id]), np.array([True]), supporters, links,
                                    np.zeros(len(supporters), dtype=bool), limit)
    return [i for i in issues if i["code"] != OVERLOADED] + [dict(i) for i in scoped if i["code"] == OVERLOADED]


def shown_plan_warnings(session: Session, principal: Principal, contexts: list[dict[str, Any]],
                        resident_ids: list[int]) -> None:
    """Set the supporter warnings of plan ``contexts`` (of ``resident_ids``, in order) to what
    ``principal`` may read (``shown_supporter_issues``)."""
    from disaster.plans.content import supporter_warnings

    stored: dict[int, list[dict[str, Any]]] = dict(session.execute(select(Assessment.resident_id, Assessment.supporter_issues)
                                  .where(Assessment.resident_id.in_(resident_ids))).all())
    for context, resident_id in zip(contexts, resident_ids, strict=True):
        if resident_id in stored:
            issues = shown_supporter_issues(session, principal, resident_id, stored[resident_id] or [])
            context["supporter_warnings"] = supporter_warnings(issues)


def _assessment(session: Session, principal: Principal, resident_id: int) -> dict[str, Any] | None:
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
        "supporter_issues": shown_supporter_issues(session, principal, resident_id, a.supporter_issues or []),
    }


# --- the leader's pages: the list in priority order, its counts, a new supporter, open findings ---

ORDER_FIELDS = ("resident_no", "name", "kana", "care_level", "mobility", "consent_share", "consent_plan")
SEARCH_MAX = 40


def _supporter_count() -> Any:
    """The supporters registered for each resident (the 名簿 as it is now, not as last assessed)."""
    return (select(func.count()).select_from(resident_supporter)
            .where(resident_supporter.c.resident_id == Resident.id).correlate(Resident).scalar_subquery())


def _search_clause(text: str) -> ColumnElement[bool]:
    """名簿番号, 氏名 or ふりがな containing ``text`` (spaces ignored on both sides)."""
    words = "".join(text.split())[:SEARCH_MAX]
    if not words:
        raise errors.Rejected("探す名前か名簿番号を入れてください。")
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def squeezed(column: Any) -> Any:
        return func.replace(func.replace(func.coalesce(column, ""), " ", ""), "　", "")

    return or_(Resident.resident_no.like(pattern, escape="\\"), squeezed(Resident.name).like(pattern, escape="\\"),
               squeezed(Resident.kana).like(pattern, escape="\\"))


def priority_list(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                  filters: ResidentFilters | None = None, decision: str | None = None, search: str | None = None,
                  page: int = 1, per_page: int = 50, today: dt.date | None = None) -> ResidentPage:
    """The residents ``principal`` may see, the most urgent plan first (the assessment's priority,
    then 名簿番号), with the plan record's status, the supporters registered now and the review
    date; narrowed like ``list_residents``, by the assessment's ``decision`` and by ``search``
    (名簿番号, 氏名 or ふりがな: the caller must not put it in a URL)."""
    where = _in_view(principal, district, filters, today, page, per_page)
    if decision is not None:
        where.append(Assessment.decision == decision)
    if search is not None:
        where.append(_search_clause(search))
    with sessions() as session:
        total = _count_in_view(session, principal, district, where)
        rows = session.execute(
            select(*access.resident_columns(principal, ORDER_FIELDS), District.name.label("district"),
                   Assessment.priority_score, Assessment.decision, Assessment.travel_mode,
                   _supporter_count().label("supporters"),
                   PlanRecord.status.label("plan_status"), PlanRecord.version.label("plan_version"),
                   PlanRecord.next_review_on)
            .join(District, Resident.district_id == District.id)
            .outerjoin(Assessment, Assessment.resident_id == Resident.id)
            .outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id)
            .where(*where)
            .order_by(func.coalesce(Assessment.priority_score, -1).desc(), Resident.resident_no)
            .limit(per_page).offset((page - 1) * per_page)
        ).mappings().all()
    return ResidentPage([dict(row) for row in rows], page, per_page, total)


@dataclass(frozen=True)
class ViewCounts:
    """How many residents of the view are in each state (SQL aggregates over the whole view)."""

    total: int
    no_plan: int
    draft: int
    issued: int
    review: int
    no_supporter: int
    review_due: int
    without_consent: int  # shown only under 災害時モード (no 名簿情報提供の同意)


def view_counts(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                today: dt.date | None = None) -> ViewCounts:
    """The counts at the top of the leader's list, over every resident ``principal`` may see."""
    access.require(principal, Action.READ_RESIDENTS, district)
    today = today or dt.date.today()

    def counted(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    no_supporter = ~exists().where(resident_supporter.c.resident_id == Resident.id)
    with sessions() as session:
        row = session.execute(
            select(func.count(), counted(PlanRecord.id.is_(None)), counted(PlanRecord.status == Status.DRAFT.value),
                   counted(PlanRecord.status == Status.ISSUED.value), counted(PlanRecord.status == Status.REVIEW.value),
                   counted(no_supporter),
                   counted(or_(PlanRecord.status == Status.REVIEW.value, PlanRecord.next_review_on < today)),
                   counted(Resident.consent_share.is_not(True)))
            .select_from(Resident).outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id)
            .where(access.resident_filter(principal, district))).one()
    return ViewCounts(*(int(value or 0) for value in row))


def districts_in_view(sessions: sessionmaker[Session], principal: Principal) -> list[str]:
    """The 校区 where ``principal`` sees residents (a leader's own 校区 even when empty)."""
    access.require(principal, Action.READ_RESIDENTS)
    with sessions() as session:
        names = set(session.scalars(select(District.name).join(Resident, Resident.district_id == District.id)
                                    .where(access.resident_filter(principal)).distinct()))
    return sorted(names | set(principal.districts))


@dataclass(frozen=True)
class NewSupporter:
    """A 避難支援等実施者 found while making the plan, who agreed to receive the 名簿 data."""

    name: str
    relation: str | None
    phone: str | None
    address: str | None
    consent: bool
    consent_date: dt.date | None


SUPPORTER_SOURCE = "画面から登録"
SUPPORTER_PREFIX = "W"  # numbers of supporters registered on the pages (the city's own 支援者番号 differ)


def supporter_problems(new: NewSupporter) -> dict[str, str]:
    """What is wrong with ``new``, per field (empty: it can be registered)."""
    problems = {}
    if not new.name.strip():
        problems["name"] = "支援者の氏名を入れてください。"
    elif len(new.name) > 80:
        problems["name"] = "氏名は80文字までです。"
    if new.relation is not None and new.relation not in SUPPORTER_RELATIONS:
        problems["relation"] = f"続柄は{'・'.join(SUPPORTER_RELATIONS)}から選んでください。"
    if new.phone is not None and len(new.phone) > 40:
        problems["phone"] = "電話番号は40文字までです。"
    if new.address is not None and len(new.address) > 200:
        problems["address"] = "住所は200文字までです。"
    if not new.consent:
        problems["consent"] = ("支援者本人が、名簿の情報を受け取ることに同意していないと登録できません"
                               "（同意をもらってから登録してください）。")
    if new.consent and new.consent_date is None:
        problems["consent_date"] = "同意をもらった日を入れてください。"
    return problems


def add_supporter(sessions: sessionmaker[Session], principal: Principal, resident_no: str, new: NewSupporter,
                  at: dt.datetime) -> str:
    """Register ``new`` as a supporter of the resident (who must be in view, and whose plan
    ``principal`` may make) and re-assess in the same transaction (incrementally: the resident,
    and whoever the re-planned 福祉避難所 places move); returns the new 支援者番号. The caller
    records it in the audit log.
    The supporter is linked to this resident only; an import of the city's 支援者 file keeps it
    (imports update the numbers they hold)."""
    problems = supporter_problems(new)
    if problems:
        raise errors.Rejected(" ".join(problems.values()))
    from disaster.usecases.assess import run_assessment  # the engine only when it is needed (start-up time)

    with one_transaction(sessions, commit=True) as joined:
        number = _added_supporter(joined, principal, resident_no, new)
        run_assessment(joined, principal.city_code)  # the resident's stored result counts the new supporter at once
    return number


def _added_supporter(sessions: sessionmaker[Session], principal: Principal, resident_no: str, new: NewSupporter) -> str:
    with sessions() as session, session.begin():
        resident_id, district = locate(session, principal, resident_no)
        consent_plan = session.scalar(select(Resident.consent_plan).where(Resident.id == resident_id))
        access.require(principal, Action.ISSUE_PLAN if consent_plan else Action.DRAFT_PLAN, district)
        taken = session.scalars(select(Supporter.supporter_no).where(
            Supporter.city_code == principal.city_code, Supporter.supporter_no.like(f"{SUPPORTER_PREFIX}%")))
        highest = max((int(n[len(SUPPORTER_PREFIX):]) for n in taken if n[len(SUPPORTER_PREFIX):].isdigit()), default=0)
        number = f"{SUPPORTER_PREFIX}{highest + 1:05d}"
        supporter = Supporter(city_code=principal.city_code, supporter_no=number, name=new.name.strip(),
                              relation=new.relation, phone=(new.phone or "").strip() or None,
                              address=(new.address or "").strip() or None, consent=True,
                              consent_date=new.consent_date, source=SUPPORTER_SOURCE, is_demo=False)
        session.add(supporter)
        try:
            session.flush()
        except IntegrityError as exc:  # another page registered the same number at the same moment
            raise errors.Conflict("同時に別の支援者が登録されました。もう一度保存してください。") from exc
        session.execute(resident_supporter.insert().values(resident_id=resident_id, supporter_id=supporter.id))
    return number


def open_findings(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> list[dict[str, Any]]:
    """The 図上訓練 findings about the resident that are not 完了, oldest session first."""
    with sessions() as session:
        resident_id, district = locate(session, principal, resident_no)
        access.require(principal, Action.READ_RESIDENTS, district)
        rows = session.execute(
            select(ExerciseFinding, ExerciseSession.held_on, ExerciseSession.hazard)
            .join(ExerciseSession, ExerciseFinding.session_id == ExerciseSession.id)
            .where(ExerciseFinding.resident_id == resident_id, ExerciseFinding.status != "完了")
            .order_by(ExerciseSession.held_on, ExerciseFinding.id)).all()
    return [{"issue": f.issue, "action": f.action, "owner": f.owner, "due": f.due, "status": f.status,
             "held_on": held_on, "hazard": hazard} for f, held_on, hazard in rows]
