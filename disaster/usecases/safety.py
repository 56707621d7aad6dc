"""安否確認 (issue 13 §4): during 災害時モード, or a training on demo data, the people who may see a
resident (``access.resident_filter``: a leader her 校区's residents in view, which under
災害時モード includes those who did not consent) report how the resident is: 未確認 / 無事・在宅 /
避難済（避難先） / 要救助 / 連絡不通 / 不在, with who and when.

**Rounds.** The reports that count are those of the disaster or training under way (a ``Round``):
- 災害時モード in force: the reports since the start of the declarations in force, declarations that
  follow one another (the next declared within ``SPAN_GAP`` of the end of the one before: a
  declaration lasts at most 7 days and is declared again to go on) counting as one disaster;
- no 災害時モード, on a store of demo data only: the training, since city staff last started one
  (``start_training``: everyone 未確認 again); its reports are marked ``training``;
- otherwise nothing may be reported; city staff still read (and export) the last disaster's reports.

**No lost update.** Reports are never changed (append-only; triggers of migration 0012): a
resident's current status is their newest report in the round (the highest id). Two people who
report at once both stay in the history and the later one is the status; each form carries the
newest report its reporter had seen (``based_on``), and ``changes_since`` tells them afterwards
what someone else reported meanwhile.

**Lists** are sorted by who needs someone first: 要救助, 未確認, 連絡不通, 不在, then 避難済 and
無事・在宅; within each, by the assessment's plan-making priority. Every read and report is audited
by the caller (the web layer), naming the residents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import shapely
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, errors
from disaster.access import Action, Principal, Role
from disaster.models import (
    Assessment,
    DisasterMode,
    District,
    Resident,
    SafetyCheck,
    SafetyTraining,
    Shelter,
    ShelterCount,
    User,
)
from disaster.usecases.disaster_mode import Emergency
from disaster.usecases.residents import locate

SPAN_GAP = dt.timedelta(hours=24)  # declarations closer than this are one disaster (declare again to go on)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_PLACE = 200
MAX_NOTE = 1000
MAX_PEOPLE = 100_000
MAX_PER_PAGE = 500

# audit actions (the web layer records them through Caller.audit)
LIST = "safety.list"  # a list of residents with their status (or an export of it)
READ = "safety.read"  # one resident's status and history
RECORD = "safety.record"  # a report
EXPORT = "safety.export"  # the list as CSV or Excel for the 災害対策本部
MAP = "safety.map"  # the map of statuses
SHELTERS = "safety.shelters"  # the shelters' check-ins (counts; names no one)
SHELTER_COUNT = "safety.shelter_count"  # a reported number of people at a shelter
TRAINING = "safety.training"  # a training started


class Status(StrEnum):
    RESCUE = "要救助"
    UNCONFIRMED = "未確認"
    UNREACHABLE = "連絡不通"
    ABSENT = "不在"
    EVACUATED = "避難済"
    SAFE = "無事・在宅"


# who needs someone first: the order of the lists
PRIORITY = (Status.RESCUE, Status.UNCONFIRMED, Status.UNREACHABLE, Status.ABSENT, Status.EVACUATED, Status.SAFE)
OPEN = frozenset({Status.RESCUE, Status.UNCONFIRMED, Status.UNREACHABLE, Status.ABSENT})  # someone must still act
OPEN_FILTER = "要対応"
HINTS = {
    Status.RESCUE: "助けが必要（取り残されている、けが、医療機器の電源がない など）",
    Status.UNCONFIRMED: "まだ確かめていない",
    Status.UNREACHABLE: "電話にも訪問にも応答がない",
    Status.ABSENT: "訪ねたが家にいない（行き先がわからない）",
    Status.EVACUATED: "避難所や親戚の家などに避難した（避難先を書いてください）",
    Status.SAFE: "無事で、自宅で過ごしている",
}
# the order of the form's choices (the usual answer first)
FORM_ORDER = (Status.SAFE, Status.EVACUATED, Status.RESCUE, Status.UNREACHABLE, Status.ABSENT, Status.UNCONFIRMED)

Kind = Literal["disaster", "training", "ended", "off"]


@dataclass(frozen=True)
class Round:
    """The disaster or training whose reports count (``kind`` "ended": the last disaster, read
    only; "off": none). ``districts``: the 校区 under 災害時モード (empty: all)."""

    kind: Kind
    since: dt.datetime
    until: dt.datetime | None = None
    districts: frozenset[str] = frozenset()
    modes: tuple[int, ...] = ()

    @property
    def training(self) -> bool:
        return self.kind == "training"

    @property
    def on(self) -> bool:
        """Whether reports may be made now."""
        return self.kind in ("disaster", "training")

    def clauses(self, column_training: Any, column_at: Any) -> list[ColumnElement[bool]]:
        found = [column_training.is_(self.training), column_at >= self.since]
        if self.until is not None:
            found.append(column_at <= self.until)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "on": self.on, "training": self.training, "since": self.since if self.since > EPOCH else None,
                "until": self.until, "districts": sorted(self.districts), "all_districts": not self.districts,
                "disaster_modes": list(self.modes)}


def _effective_end(mode: DisasterMode) -> dt.datetime:
    return min(mode.ends_at, mode.ended_at) if mode.ended_at is not None else mode.ends_at


def _spans(modes: list[DisasterMode]) -> list[tuple[dt.datetime, dt.datetime, list[DisasterMode]]]:
    """The declarations grouped into disasters: (start, end, declarations), oldest first."""
    spans: list[tuple[dt.datetime, dt.datetime, list[DisasterMode]]] = []
    for mode in sorted(modes, key=lambda m: (m.starts_at, m.id)):
        end = _effective_end(mode)
        if end <= mode.starts_at:
            continue  # ended before it began
        if spans and mode.starts_at <= spans[-1][1] + SPAN_GAP:
            start, last_end, members = spans[-1]
            spans[-1] = (start, max(last_end, end), [*members, mode])
        else:
            spans.append((mode.starts_at, end, [mode]))
    return spans


def current_round(session: Session, city_code: str, emergency: Emergency, now: dt.datetime, demo: bool) -> Round:
    """The round of reports in force at ``now`` (``emergency``: the 災害時モード in force; ``demo``:
    whether the store holds demo data only)."""
    modes = list(session.scalars(select(DisasterMode).where(DisasterMode.city_code == city_code,
                                                            DisasterMode.starts_at <= now)))
    spans = _spans(modes)
    if emergency.on:
        ids = tuple(int(m.id) for m in emergency.modes)
        start = next((s for s, _, members in spans if any(m.id in ids for m in members)), None)
        return Round("disaster", start or now - dt.timedelta(days=7), None,
                     frozenset() if emergency.all else frozenset(emergency.districts), ids)
    if demo:
        started = session.scalar(select(func.max(SafetyTraining.started_at)).where(SafetyTraining.city_code == city_code))
        return Round("training", started or EPOCH)
    ended = [span for span in spans if span[1] <= now]
    if ended:
        start, end, members = ended[-1]
        districts = frozenset() if any(not m.districts for m in members) else frozenset(d for m in members for d in m.districts)
        return Round("ended", start, end, districts, tuple(m.id for m in members))
    return Round("off", EPOCH)


def round_now(sessions: sessionmaker[Session], city_code: str, emergency: Emergency, now: dt.datetime,
              demo: bool) -> Round:
    with sessions() as session:
        return current_round(session, city_code, emergency, now, demo)


# --- who is in a list ---


def _district_ids(city_code: str, names: Iterable[str]) -> Select[Any]:
    return select(District.id).where(District.city_code == city_code, District.name.in_(sorted(names)))


def _leader_districts(session: Session, principal: Principal, leader: str) -> list[str]:
    if not principal.is_city:
        raise errors.Forbidden(f"{access.ROLE_LABELS[principal.role]}（{principal.login}）は、民生委員ごとの一覧を見られません。")
    districts = session.scalar(select(User.districts).where(User.login == leader, User.role == Role.LEADER.value,
                                                            User.city_code == principal.city_code))
    if districts is None:
        raise errors.NotFound(f"校区リーダー・民生委員「{leader}」は登録されていません。")
    return list(districts)


def _scope(session: Session, principal: Principal, rnd: Round, district: str | None,
           leader: str | None) -> list[ColumnElement[bool]]:
    """The residents of a list: in the principal's view, in ``district`` / the 校区 of ``leader``;
    by default city staff see the 校区 under 災害時モード, others everyone in their view."""
    access.require(principal, Action.SAFETY_CHECK, district)
    where: list[ColumnElement[bool]] = [access.resident_filter(principal, district)]
    if district is not None and session.scalar(select(District.id).where(
            District.city_code == principal.city_code, District.name == district)) is None:
        raise errors.NotFound(f"校区「{district}」は登録されていません。")
    if leader:
        where.append(Resident.district_id.in_(_district_ids(principal.city_code, _leader_districts(session, principal, leader))))
    elif district is None and principal.is_city and rnd.districts:
        where.append(Resident.district_id.in_(_district_ids(principal.city_code, rnd.districts)))
    return where


def _latest(rnd: Round, city_code: str) -> Any:
    """Each resident's newest report of the round: (resident_id, check_id)."""
    return (select(SafetyCheck.resident_id, func.max(SafetyCheck.id).label("check_id"))
            .where(SafetyCheck.city_code == city_code, *rnd.clauses(SafetyCheck.training, SafetyCheck.recorded_at))
            .group_by(SafetyCheck.resident_id).subquery("latest"))


current_status = func.coalesce(SafetyCheck.status, literal(Status.UNCONFIRMED.value))
status_rank = case(*((current_status == status.value, rank) for rank, status in enumerate(PRIORITY)), else_=len(PRIORITY))
LIST_FIELDS = ("resident_no", "name", "kana", "address", "phone", "care_level", "mobility", "medical_devices",
               "communication_needs", "lives_alone")


def _status_clause(status: str | None) -> list[ColumnElement[bool]]:
    if status in (None, ""):
        return []
    if status == OPEN_FILTER:
        return [current_status.in_(sorted(OPEN))]
    if status not in {s.value for s in Status}:
        raise errors.Rejected(f"状態は {OPEN_FILTER}・{'・'.join(s.value for s in PRIORITY)} のどれかです。")
    return [current_status == status]


@dataclass(frozen=True)
class Listing:
    round: Round
    items: list[dict[str, Any]]
    counts: dict[str, int]  # per status, over the list before the status filter
    total: int  # after the status filter
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def open(self) -> int:
        return sum(n for status, n in self.counts.items() if status in OPEN)


def list_status(sessions: sessionmaker[Session], principal: Principal, rnd: Round, *, district: str | None = None,
                status: str | None = None, leader: str | None = None, page: int = 1,
                per_page: int = 200, everyone: bool = False) -> Listing:
    """The residents in the principal's view (``_scope``) with their current status, who needs
    someone first (``PRIORITY``, then the plan-making priority, then 名簿番号), one page (all of
    them when ``everyone``: an export)."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise errors.Rejected(f"page は 1 以上、per_page は 1〜{MAX_PER_PAGE} です。")
    with sessions() as session:
        where = _scope(session, principal, rnd, district, leader)
        latest = _latest(rnd, principal.city_code)
        base = (select(Resident.id).select_from(Resident)
                .outerjoin(latest, latest.c.resident_id == Resident.id)
                .outerjoin(SafetyCheck, SafetyCheck.id == latest.c.check_id))
        counted: dict[str, int] = {}
        for reported, n in session.execute(
                select(SafetyCheck.status, func.count()).select_from(Resident)
                .outerjoin(latest, latest.c.resident_id == Resident.id)
                .outerjoin(SafetyCheck, SafetyCheck.id == latest.c.check_id)
                .where(*where).group_by(SafetyCheck.status)):
            key = reported or Status.UNCONFIRMED.value
            counted[key] = counted.get(key, 0) + int(n)
        chosen = [*where, *_status_clause(status)]
        total = session.scalar(select(func.count()).select_from(base.where(*chosen).subquery())) or 0
        rows = session.execute(
            select(*access.resident_columns(principal, LIST_FIELDS), District.name.label("district"),
                   Assessment.priority_score, Assessment.decision, Assessment.supporter_count,
                   current_status.label("status"), SafetyCheck.id.label("check_id"), SafetyCheck.place, SafetyCheck.note,
                   SafetyCheck.recorded_by, SafetyCheck.recorded_at)
            .select_from(Resident)
            .join(District, Resident.district_id == District.id)
            .outerjoin(Assessment, Assessment.resident_id == Resident.id)
            .outerjoin(latest, latest.c.resident_id == Resident.id)
            .outerjoin(SafetyCheck, SafetyCheck.id == latest.c.check_id)
            .where(*chosen)
            .order_by(status_rank, func.coalesce(Assessment.priority_score, -1).desc(), Resident.resident_no)
            .limit(None if everyone else per_page).offset(0 if everyone else (page - 1) * per_page)).mappings().all()
    counts = {s.value: int(counted.get(s.value, 0)) for s in PRIORITY}
    if everyone:
        return Listing(rnd, [dict(row) for row in rows], counts, total, 1, max(1, total))
    return Listing(rnd, [dict(row) for row in rows], counts, total, page, per_page)


def needs_label(item: dict[str, Any]) -> str:
    """What help the person needs, in a few words (要介護度, mobility, devices, communication)."""
    parts = [item.get("care_level"), item.get("mobility") if item.get("mobility") not in (None, "自立") else None,
             *(item.get("medical_devices") or []), *(item.get("communication_needs") or []),
             "独居" if item.get("lives_alone") else None]
    return "、".join(p for p in parts if p)


# --- summaries for city staff: per 校区, per 民生委員 ---


@dataclass(frozen=True)
class DistrictSummary:
    district: str
    counts: dict[str, int]
    in_mode: bool  # under 災害時モード (or the training)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return sum(n for status, n in self.counts.items() if status in OPEN)


def district_summaries(sessions: sessionmaker[Session], principal: Principal, rnd: Round) -> list[DistrictSummary]:
    """Counts per status in each 校区 the principal may see residents of (those under 災害時モード first)."""
    access.require(principal, Action.SAFETY_CHECK)
    with sessions() as session:
        latest = _latest(rnd, principal.city_code)
        rows = session.execute(
            select(District.name, SafetyCheck.status, func.count()).select_from(Resident)
            .join(District, Resident.district_id == District.id)
            .outerjoin(latest, latest.c.resident_id == Resident.id)
            .outerjoin(SafetyCheck, SafetyCheck.id == latest.c.check_id)
            .where(access.resident_filter(principal)).group_by(District.name, SafetyCheck.status)).all()
    found: dict[str, dict[str, int]] = {}
    for name, status, n in rows:
        counts = found.setdefault(name, {s.value: 0 for s in PRIORITY})
        counts[status or Status.UNCONFIRMED.value] += int(n)
    summaries = [DistrictSummary(name, counts, not rnd.districts or name in rnd.districts) for name, counts in found.items()]
    return sorted(summaries, key=lambda s: (not s.in_mode, -s.counts[Status.RESCUE], -s.open, s.district))


@dataclass(frozen=True)
class LeaderSummary:
    login: str
    districts: list[str]
    open: int  # residents of their 校区 still needing someone
    total: int
    reports: int  # reports they made in the round


def leader_summaries(sessions: sessionmaker[Session], principal: Principal, rnd: Round,
                     districts: list[DistrictSummary]) -> list[LeaderSummary]:
    """Each 校区 leader / 民生委員 of the city: the residents of their 校区 still to reach, and their reports."""
    if not principal.is_city:
        return []
    by_district = {d.district: d for d in districts}
    with sessions() as session:
        leaders = session.execute(select(User.login, User.districts).where(
            User.city_code == principal.city_code, User.role == Role.LEADER.value, User.disabled.is_(False))
            .order_by(User.login)).all()
        reports = dict(session.execute(
            select(SafetyCheck.recorded_by, func.count()).where(
                SafetyCheck.city_code == principal.city_code, *rnd.clauses(SafetyCheck.training, SafetyCheck.recorded_at))
            .group_by(SafetyCheck.recorded_by)).all())
    found = [LeaderSummary(login, sorted(names), sum(by_district[d].open for d in names if d in by_district),
                           sum(by_district[d].total for d in names if d in by_district), int(reports.get(login, 0)))
             for login, names in leaders]
    return sorted(found, key=lambda s: (-s.open, s.login))


def leader_logins(sessions: sessionmaker[Session], principal: Principal) -> list[str]:
    if not principal.is_city:
        return []
    with sessions() as session:
        return list(session.scalars(select(User.login).where(User.city_code == principal.city_code,
                                                              User.role == Role.LEADER.value).order_by(User.login)))


# --- one resident ---


@dataclass(frozen=True)
class Report:
    id: int
    status: str
    place: str | None
    shelter_code: str | None
    note: str | None
    recorded_by: str
    recorded_role: str
    recorded_at: dt.datetime
    training: bool
    based_on: int | None

    @property
    def role_label(self) -> str:
        try:
            return access.ROLE_LABELS[Role(self.recorded_role)]
        except ValueError:
            return self.recorded_role

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "place": self.place, "shelter_code": self.shelter_code,
                "note": self.note, "recorded_by": self.recorded_by, "recorded_role": self.recorded_role,
                "recorded_at": self.recorded_at, "training": self.training}


def _reports(session: Session, rnd: Round, resident_id: int) -> list[Report]:
    rows = session.execute(
        select(SafetyCheck, Shelter.code).outerjoin(Shelter, Shelter.id == SafetyCheck.shelter_id)
        .where(SafetyCheck.resident_id == resident_id, *rnd.clauses(SafetyCheck.training, SafetyCheck.recorded_at))
        .order_by(SafetyCheck.id.desc())).all()
    return [Report(c.id, c.status, c.place, code, c.note, c.recorded_by, c.recorded_role, c.recorded_at, c.training,
                   c.based_on) for c, code in rows]


@dataclass(frozen=True)
class ResidentSafety:
    resident_no: str
    district: str
    history: list[Report]  # newest first

    @property
    def current(self) -> Report | None:
        return self.history[0] if self.history else None

    @property
    def status(self) -> str:
        return self.history[0].status if self.history else Status.UNCONFIRMED.value

    @property
    def seen(self) -> int:
        """What a form opened now carries as ``based_on``."""
        return self.history[0].id if self.history else 0


def resident_safety(sessions: sessionmaker[Session], principal: Principal, rnd: Round, resident_no: str) -> ResidentSafety:
    """One resident's reports in the round, newest first (a resident outside the view: Forbidden)."""
    with sessions() as session:
        resident_id, district = locate(session, principal, resident_no)
        access.require(principal, Action.SAFETY_CHECK, district)
        return ResidentSafety(resident_no, district, _reports(session, rnd, resident_id))


def changes_since(sessions: sessionmaker[Session], principal: Principal, rnd: Round, resident_no: str, seen: int,
                  mine: int | None = None) -> list[Report]:
    """The reports of the resident that someone made after report ``seen`` (other than ``mine``),
    newest first: what a form opened on ``seen`` did not show."""
    return [r for r in resident_safety(sessions, principal, rnd, resident_no).history if r.id > seen and r.id != mine]


@dataclass(frozen=True)
class ShelterChoice:
    code: str
    name: str
    welfare: bool
    group: str  # how the form groups it


def shelter_choices(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> list[ShelterChoice]:
    """The shelters a report of 避難済 may name, the likely ones first: the person's assessed
    destinations, then the shelters of their 校区, then the others."""
    with sessions() as session:
        resident_id, district = locate(session, principal, resident_no)
        assessed = session.execute(select(Assessment.destination_shelter_id, Assessment.second_shelter_id,
                                          Assessment.welfare_shelter_id).where(Assessment.resident_id == resident_id)).first()
        geom = session.scalar(select(District.geom).where(District.city_code == principal.city_code, District.name == district))
        shelters = session.execute(select(Shelter.id, Shelter.code, Shelter.name, Shelter.is_welfare_shelter, Shelter.lon,
                                          Shelter.lat).where(Shelter.city_code == principal.city_code)
                                   .order_by(Shelter.name)).all()
    mine = [i for i in (assessed or ()) if i is not None]
    area = shapely.from_wkb(geom) if geom is not None else None
    inside = set()
    if area is not None and shelters:
        points = shapely.points([s.lon for s in shelters], [s.lat for s in shelters])
        inside = {s.id for s, hit in zip(shelters, shapely.contains(area, points), strict=True) if hit}

    def group(shelter: Any) -> tuple[int, str]:
        if shelter.id in mine:
            return 0, "この方の避難先（避難判定）"
        if shelter.id in inside:
            return 1, f"{district}校区の避難所"
        return 2, "そのほかの避難所"

    ordered = sorted(shelters, key=lambda s: (group(s)[0], mine.index(s.id) if s.id in mine else 0, s.name))
    return [ShelterChoice(s.code, s.name, bool(s.is_welfare_shelter), group(s)[1]) for s in ordered]


# --- reporting ---


class Invalid(errors.Rejected):
    """A report with problems: ``problems`` maps each form field to what to fix (in Japanese)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


Audit = Callable[[Session, list[str], dict[str, Any]], None]  # records the change in its transaction


@dataclass(frozen=True)
class Recorded:
    id: int
    resident_no: str
    status: str
    place: str | None


def _require_on(rnd: Round) -> None:
    if not rnd.on:
        raise errors.NotReady("いまは災害時モードではないため、安否確認は記録できません"
                              "（災害時モードは市の管理者が宣言します）。")


def _clean(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return stripped or None


def record_check(sessions: sessionmaker[Session], principal: Principal, rnd: Round, resident_no: str, *, status: str,
                 shelter_code: str | None = None, place: str | None = None, note: str | None = None,
                 based_on: int | None = None, at: dt.datetime, audit: Audit | None = None) -> Recorded:
    """Add a report of the resident's safety (a new row: nothing is overwritten) and its audit entry
    in one transaction. 避難済 needs the place (a shelter or another place)."""
    _require_on(rnd)
    with sessions() as session, session.begin():
        resident_id, district = locate(session, principal, resident_no)
        access.require(principal, Action.SAFETY_CHECK, district)
        problems: dict[str, str] = {}
        if status not in {s.value for s in Status}:
            problems["status"] = "状態を選んでください。"
        place, note, shelter_code = _clean(place), _clean(note), _clean(shelter_code)
        shelter = None
        if status == Status.EVACUATED:
            if shelter_code is not None:
                shelter = session.execute(select(Shelter.id, Shelter.name).where(
                    Shelter.city_code == principal.city_code, Shelter.code == shelter_code)).first()
                if shelter is None:
                    problems["shelter"] = "選んだ避難所が見つかりません。一覧から選び直してください。"
            if shelter_code is None and place is None:
                problems["place"] = "避難済のときは、避難先（避難所を選ぶか、親戚の家などの場所）を入れてください。"
        else:
            shelter_code = place = None  # only 避難済 has a place
        if place is not None and len(place) > MAX_PLACE:
            problems["place"] = f"避難先は {MAX_PLACE} 文字以内で書いてください（{len(place)} 文字あります）。"
        if note is not None and len(note) > MAX_NOTE:
            problems["note"] = f"メモは {MAX_NOTE} 文字以内で書いてください（{len(note)} 文字あります）。"
        if problems:
            raise Invalid(problems)
        check = SafetyCheck(city_code=principal.city_code, resident_id=resident_id, training=rnd.training, status=status,
                            shelter_id=shelter.id if shelter else None,
                            place=(shelter.name + (f"（{place}）" if place else "")) if shelter else place,
                            note=note, recorded_by=principal.login, recorded_role=principal.role.value, recorded_at=at,
                            disaster_modes=list(rnd.modes), based_on=based_on or None)
        session.add(check)
        session.flush()
        if audit is not None:
            audit(session, [resident_no], {"check": check.id, "status": status, "training": rnd.training,
                                           "district": district, "based_on": based_on or None})
        return Recorded(check.id, resident_no, status, check.place)


def start_training(sessions: sessionmaker[Session], principal: Principal, emergency: Emergency, demo: bool,
                   at: dt.datetime, audit: Callable[[Session], None] | None = None) -> None:
    """Start a new 安否確認 training (everyone 未確認 again); demo data only, never under 災害時モード."""
    access.require(principal, Action.SAFETY_TRAINING)
    if not demo:
        raise errors.NotReady("安否確認の訓練は、デモデータだけのデータベースで使えます（本物の名簿では使えません）。")
    if emergency.on:
        raise errors.Conflict("災害時モードの間は、訓練を始められません。")
    with sessions() as session, session.begin():
        session.add(SafetyTraining(city_code=principal.city_code, started_at=at, started_by=principal.login))
        if audit is not None:
            audit(session)


# --- shelters ---


@dataclass(frozen=True)
class ShelterState:
    code: str
    name: str
    kinds: str
    welfare: bool
    capacity: int | None
    district: str | None
    people: int | None  # reported number of people there (None: no report)
    reported_at: dt.datetime | None
    reported_by: str | None
    checked_in: int  # residents in the caller's view whose current status is 避難済 there
    planned: int  # residents in the caller's view whose 福祉避難所 it is (assessment)

    @property
    def load(self) -> int | None:
        """Reported people as a percentage of the capacity."""
        if self.people is None or not self.capacity:
            return None
        return round(100 * self.people / self.capacity)

    @property
    def level(self) -> str:
        load = self.load
        if load is None:
            return "unknown"
        return "full" if load >= 100 else "busy" if load >= 80 else "room"

    @property
    def level_label(self) -> str:
        return {"full": "満員", "busy": "残りわずか", "room": "空きあり", "unknown": "報告なし"}[self.level]


def _kinds(shelter: Any) -> str:
    return "・".join(label for flag, label in ((shelter.is_welfare_shelter, "福祉避難所"),
                                               (shelter.is_designated_shelter, "指定避難所"),
                                               (shelter.is_emergency_site, "指定緊急避難場所")) if flag)


def shelter_states(sessions: sessionmaker[Session], principal: Principal, rnd: Round, district: str | None = None,
                   everything: bool = False) -> list[ShelterState]:
    """The shelters with their reported number of people against capacity and the residents in the
    principal's view checked in there (福祉避難所 with those planned to go there): the shelters of
    ``district`` (default: the 校区 under 災害時モード for city staff, the caller's 校区 for a
    leader; ``everything``: the whole city), every 福祉避難所 (few, and serving more than one 校区)
    and any shelter with someone reported there."""
    access.require(principal, Action.SAFETY_CHECK, district)
    city = principal.city_code
    with sessions() as session:
        if district is not None and session.scalar(select(District.id).where(District.city_code == city,
                                                                             District.name == district)) is None:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        shelters = session.execute(select(Shelter).where(Shelter.city_code == city).order_by(Shelter.name)).scalars().all()
        districts = session.execute(select(District.name, District.geom).where(District.city_code == city)).all()
        last = (select(ShelterCount.shelter_id, func.max(ShelterCount.id).label("count_id"))
                .where(ShelterCount.city_code == city, *rnd.clauses(ShelterCount.training, ShelterCount.recorded_at))
                .group_by(ShelterCount.shelter_id).subquery())
        reported = {row.shelter_id: row for row in session.execute(
            select(ShelterCount.shelter_id, ShelterCount.people, ShelterCount.recorded_at, ShelterCount.recorded_by)
            .join(last, last.c.count_id == ShelterCount.id))}
        latest = _latest(rnd, city)
        visible = access.resident_filter(principal)
        checked = dict(session.execute(
            select(SafetyCheck.shelter_id, func.count()).select_from(Resident)
            .join(latest, latest.c.resident_id == Resident.id).join(SafetyCheck, SafetyCheck.id == latest.c.check_id)
            .where(visible, SafetyCheck.status == Status.EVACUATED.value, SafetyCheck.shelter_id.is_not(None))
            .group_by(SafetyCheck.shelter_id)).all())
        planned = dict(session.execute(
            select(Assessment.welfare_shelter_id, func.count()).join(Resident, Resident.id == Assessment.resident_id)
            .where(visible, Assessment.welfare_shelter_id.is_not(None)).group_by(Assessment.welfare_shelter_id)).all())
    where_of: dict[int, str] = {}
    if shelters:
        points = shapely.points([s.lon for s in shelters], [s.lat for s in shelters])
        for name, geom in districts:
            for shelter, hit in zip(shelters, shapely.contains(shapely.from_wkb(geom), points), strict=True):
                if hit:
                    where_of.setdefault(shelter.id, name)
    if everything:
        wanted: set[str] | None = None
    elif district is not None:
        wanted = {district}
    elif principal.is_city:
        wanted = set(rnd.districts) or None
    else:
        wanted = set(principal.districts) if principal.role == Role.LEADER else set()
    states = []
    for s in shelters:
        report = reported.get(s.id)
        state = ShelterState(s.code, s.name, _kinds(s), bool(s.is_welfare_shelter), s.capacity, where_of.get(s.id),
                             report.people if report else None, report.recorded_at if report else None,
                             report.recorded_by if report else None, int(checked.get(s.id, 0)), int(planned.get(s.id, 0)))
        if wanted is None or state.welfare or state.district in wanted or state.checked_in or report is not None:
            states.append(state)
    return sorted(states, key=lambda s: (not s.welfare, s.district or "～", s.name))


def report_count(sessions: sessionmaker[Session], principal: Principal, rnd: Round, shelter_code: str, people: int,
                 at: dt.datetime, audit: Callable[[Session, dict[str, Any]], None] | None = None) -> int:
    """Report the number of people at a shelter now (city staff); returns the report's id."""
    access.require(principal, Action.SHELTER_COUNT)
    _require_on(rnd)
    if not 0 <= people <= MAX_PEOPLE:
        raise Invalid({"people": f"避難者数は 0〜{MAX_PEOPLE} の数で入れてください。"})
    with sessions() as session, session.begin():
        shelter_id = session.scalar(select(Shelter.id).where(Shelter.city_code == principal.city_code,
                                                             Shelter.code == shelter_code))
        if shelter_id is None:
            raise errors.NotFound(f"避難所「{shelter_code[:40]}」は登録されていません。")
        count = ShelterCount(city_code=principal.city_code, shelter_id=shelter_id, training=rnd.training, people=people,
                             recorded_by=principal.login, recorded_role=principal.role.value, recorded_at=at,
                             disaster_modes=list(rnd.modes))
        session.add(count)
        session.flush()
        if audit is not None:
            audit(session, {"shelter": shelter_code, "people": people, "training": rnd.training, "count": count.id})
        return int(count.id)


# --- the map of statuses ---


@dataclass
class MapData:
    district: str
    boundary: Any  # shapely geometry of the 校区
    points: list[dict[str, Any]] = field(default_factory=list)  # residents: resident_no, lon, lat, status
    shelters: list[dict[str, Any]] = field(default_factory=list)  # name, lon, lat, welfare


def map_data(sessions: sessionmaker[Session], principal: Principal, rnd: Round, district: str) -> MapData:
    """The residents of ``district`` in the principal's view with their current status and where
    they live, the 校区's boundary and shelters."""
    access.require(principal, Action.SAFETY_CHECK, district)
    with sessions() as session:
        geom = session.scalar(select(District.geom).where(District.city_code == principal.city_code, District.name == district))
        if geom is None:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        latest = _latest(rnd, principal.city_code)
        rows = session.execute(
            select(Resident.resident_no, Resident.lon, Resident.lat, current_status.label("status"))
            .outerjoin(latest, latest.c.resident_id == Resident.id)
            .outerjoin(SafetyCheck, SafetyCheck.id == latest.c.check_id)
            .where(access.resident_filter(principal, district)).order_by(status_rank.desc(), Resident.resident_no)).all()
        shelters = session.execute(select(Shelter.name, Shelter.lon, Shelter.lat, Shelter.is_welfare_shelter)
                                   .where(Shelter.city_code == principal.city_code).order_by(Shelter.name)).all()
    boundary = shapely.from_wkb(geom)
    inside = [s for s in shelters if boundary.contains(shapely.Point(s.lon, s.lat))]
    return MapData(district, boundary,
                   [{"resident_no": r.resident_no, "lon": r.lon, "lat": r.lat, "status": r.status} for r in rows],
                   [{"name": s.name, "lon": s.lon, "lat": s.lat, "welfare": bool(s.is_welfare_shelter)} for s in inside])


def first_district(sessions: sessionmaker[Session], principal: Principal, rnd: Round) -> str | None:
    """The 校区 a page shows first: the caller's own (a leader), the first under 災害時モード, else
    the first in the caller's view."""
    if principal.role == Role.LEADER:
        mine = sorted(principal.districts)
        return next((d for d in mine if not rnd.districts or d in rnd.districts), mine[0] if mine else None)
    if rnd.districts:
        return sorted(rnd.districts)[0]
    with sessions() as session:
        return session.scalar(select(District.name).join(Resident, Resident.district_id == District.id)
                              .where(access.resident_filter(principal)).order_by(District.name).limit(1))


def district_names(sessions: sessionmaker[Session], principal: Principal) -> list[str]:
    """The 校区 whose residents the principal may see (for the pages' choices)."""
    with sessions() as session:
        if principal.is_city:
            return list(session.scalars(select(District.name).where(District.city_code == principal.city_code)
                                        .order_by(District.name)))
        return list(session.scalars(select(District.name).join(Resident, Resident.district_id == District.id)
                                    .where(access.resident_filter(principal)).distinct().order_by(District.name)))


def active_districts(rnd: Round, principal: Principal) -> frozenset[str]:
    """The 校区 of ``rnd`` (all the city's when empty) that the principal serves (a leader)."""
    if principal.role == Role.LEADER:
        return frozenset(d for d in principal.districts if not rnd.districts or d in rnd.districts)
    return rnd.districts

