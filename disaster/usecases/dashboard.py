"""The city dashboard's figures (地域福祉課: the KPIs of the city's welfare plan), each one a SQL
aggregate — nothing loads every resident or every session:

- 図上訓練 participants per 年度 (April–March) against the target of the city profile
  (``[exercise.participants]``: baseline and target with their 年度);
- per 校区: residents on the 名簿, those who consented to plan-making (the plans that can be
  issued), plans 本人確認済 among them (coverage), 下書き, plans due for review (要見直し or the
  next review date passed, as the leader's list filters them), residents without a supporter,
  the last 図上訓練, and the 校区 without a session in the last N 年度;
- whether the stored assessment is older than the data it rests on (after an import, until the
  re-assessment job has run).

City roles only (``access.Action.STATS``); counts carry no one's identity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Integer, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access
from disaster.access import Principal
from disaster.exercises.tracking import fiscal_label, fiscal_year, progress_to_target
from disaster.jobs import JobState
from disaster.models import (
    DIGESTS,
    AssessmentRun,
    Dataset,
    District,
    ExerciseParticipants,
    ExerciseSession,
    Job,
    PlanRecord,
    Resident,
    resident_supporter,
)
from disaster.plans.record import Status
from disaster.profile import load_profile

NOT_ASSESSED_KINDS = ("boundary", "address_points")  # datasets the assessment does not read


@dataclass(frozen=True)
class YearTotal:
    year: int  # the 年度's starting calendar year
    label: str  # 令和6年度
    participants: int
    sessions: int


@dataclass(frozen=True)
class Target:
    """The city plan's figures for participants (from the profile)."""

    baseline_year: int
    baseline_label: str
    baseline: int
    target_year: int
    target_label: str
    target: int


@dataclass(frozen=True)
class DistrictFigures:
    name: str
    area: str | None
    residents: int = 0
    eligible: int = 0  # consented to plan-making: the plans that can be issued
    issued: int = 0  # 本人確認済, among the eligible
    drafts: int = 0
    review_due: int = 0  # 要見直し, or the next review date has passed
    without_supporter: int = 0
    last_session: dt.date | None = None

    @property
    def coverage_percent(self) -> float | None:
        """本人確認済 / eligible in % (None without eligible residents)."""
        return round(100 * self.issued / self.eligible, 1) if self.eligible else None


@dataclass(frozen=True)
class Dashboard:
    city_name: str
    today: dt.date
    year: int  # this 年度
    year_label: str
    years: list[YearTotal]  # every 年度 from the first session (or the baseline) to this one, zeros included
    target: Target | None
    progress_percent: float | None  # this 年度's participants between the baseline and the target
    districts: list[DistrictFigures]
    totals: DistrictFigures
    idle_years: int
    idle_since: dt.date  # a 校区 without a session since this day is idle
    idle_districts: list[DistrictFigures] = field(default_factory=list)
    assessment_stale: bool = False  # the data changed since the stored assessment was computed
    assessment_at: dt.datetime | None = None
    assessment_jobs: list[int] = field(default_factory=list)  # re-assessments queued or running now

    @property
    def this_year(self) -> YearTotal:
        return next(y for y in self.years if y.year == self.year)

    @property
    def last_year(self) -> YearTotal | None:
        return next((y for y in self.years if y.year == self.year - 1), None)


def participants_per_year(session: Session, city_code: str) -> dict[int, tuple[int, int]]:
    """{年度: (participants, sessions)} of the city's recorded sessions, summed in SQL."""
    held = ExerciseSession.held_on
    year = cast(extract("year", held), Integer)
    fiscal = case((cast(extract("month", held), Integer) >= 4, year), else_=year - 1)
    per_session = (select(ExerciseSession.id.label("id"), fiscal.label("fiscal"),
                          func.coalesce(func.sum(ExerciseParticipants.count), 0).label("participants"))
                   .join(District, ExerciseSession.district_id == District.id)
                   .outerjoin(ExerciseParticipants, ExerciseParticipants.session_id == ExerciseSession.id)
                   .where(District.city_code == city_code)
                   .group_by(ExerciseSession.id, ExerciseSession.held_on)).subquery()
    rows = session.execute(select(per_session.c.fiscal, func.sum(per_session.c.participants), func.count())
                           .group_by(per_session.c.fiscal)).all()
    return {int(fiscal_year_): (int(total or 0), int(count)) for fiscal_year_, total, count in rows}


COUNTED = ("residents", "eligible", "issued", "drafts", "review_due", "without_supporter")  # in _district_counts' order


def _figures(name: str, area: str | None, counts: tuple[int, ...], last: dt.date | None) -> DistrictFigures:
    return DistrictFigures(name, area, last_session=last, **dict(zip(COUNTED, counts, strict=True)))


def _district_counts(session: Session, principal: Principal, today: dt.date) -> dict[int, tuple[int, ...]]:
    supported = select(resident_supporter.c.resident_id).distinct().scalar_subquery()
    issued = and_(PlanRecord.status == Status.ISSUED.value, Resident.consent_plan.is_(True))
    due = or_(PlanRecord.status == Status.REVIEW.value, PlanRecord.next_review_on < today)
    rows = session.execute(
        select(Resident.district_id, func.count(), func.count().filter(Resident.consent_plan.is_(True)),
               func.count().filter(issued), func.count().filter(PlanRecord.status == Status.DRAFT.value),
               func.count().filter(due), func.count().filter(Resident.id.not_in(supported)))
        .outerjoin(PlanRecord, PlanRecord.resident_id == Resident.id)
        .where(access.counted_filter(principal)).group_by(Resident.district_id)).all()
    return {row[0]: tuple(int(n) for n in row[1:]) for row in rows}


def _assessment_state(session: Session, city_code: str) -> tuple[bool, dt.datetime | None]:
    """(stale, computed at): stale when a dataset the assessment reads changed since the latest
    run (or residents were never assessed)."""
    run = session.execute(select(AssessmentRun.data_versions, AssessmentRun.computed_at)
                          .where(AssessmentRun.city_code == city_code).order_by(AssessmentRun.id.desc()).limit(1)).first()
    current = {f"{kind}:{source}": sha for kind, source, sha in session.execute(
        select(Dataset.kind, Dataset.source, Dataset.sha256)
        .where(Dataset.city_code == city_code, Dataset.kind.not_in(NOT_ASSESSED_KINDS)))}
    if run is None:
        has_residents = session.scalar(select(Resident.id).where(Resident.city_code == city_code).limit(1)) is not None
        return has_residents, None
    used = {key: sha for key, sha in (run.data_versions or {}).items()
            if key.split(":", 1)[0] not in (*NOT_ASSESSED_KINDS, DIGESTS)}
    return used != current, run.computed_at


def dashboard(sessions: sessionmaker[Session], principal: Principal, idle_years: int = 3,
              today: dt.date | None = None) -> Dashboard:
    """The figures of the city of ``principal`` (a city role) on ``today``."""
    access.require(principal, access.Action.STATS)
    today = today or dt.date.today()
    city_code = principal.city_code
    profile = load_profile(city_code)
    year = fiscal_year(today)
    idle_since = dt.date(year - idle_years + 1, 4, 1)
    with sessions() as session:
        per_year = participants_per_year(session, city_code)
        counts = _district_counts(session, principal, today)
        rows = session.execute(select(District.id, District.name, District.area, func.max(ExerciseSession.held_on))
                               .outerjoin(ExerciseSession, ExerciseSession.district_id == District.id)
                               .where(District.city_code == city_code)
                               .group_by(District.id, District.name, District.area).order_by(District.name)).all()
        stale, assessed_at = _assessment_state(session, city_code)
        jobs = list(session.scalars(select(Job.id).where(Job.city_code == city_code, Job.kind == "assessment",
                                                         Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
                                    .order_by(Job.id)))
    districts = [_figures(name, area, counts.get(district_id, (0,) * len(COUNTED)), last)
                 for district_id, name, area, last in rows]
    totals = _figures("市全体", None, tuple(sum(getattr(d, f) for d in districts) for f in COUNTED), None)
    goal = profile.exercise.participants
    target = None if goal is None else Target(goal.baseline_year, fiscal_label(goal.baseline_year), goal.baseline,
                                              goal.target_year, fiscal_label(goal.target_year), goal.target)
    first = min([*per_year, year, *([goal.baseline_year] if goal else [])])
    years = [YearTotal(y, fiscal_label(y), *per_year.get(y, (0, 0))) for y in range(first, year + 1)]
    participants = per_year.get(year, (0, 0))[0]
    return Dashboard(
        city_name=profile.name, today=today, year=year, year_label=fiscal_label(year), years=years, target=target,
        progress_percent=progress_to_target(participants, goal.baseline, goal.target) if goal else None,
        districts=districts, totals=totals, idle_years=idle_years, idle_since=idle_since,
        idle_districts=[d for d in districts if d.last_session is None or d.last_session < idle_since],
        assessment_stale=stale, assessment_at=assessed_at, assessment_jobs=jobs)
