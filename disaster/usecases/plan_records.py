"""Plan records: the マイプラン made with the resident — read with its options, save a version,
issue it (本人確認済), its history, and turn issued plans 要見直し when their data changes.

Access: reading follows the resident detail (``access.resident_filter`` + READ_RESIDENTS);
changing needs the right to make that resident's plan (ISSUE_PLAN with 計画作成同意, DRAFT_PLAN
without: a 下書き). Every save is checked against the version the editor loaded (``expected``);
a stale one is ``errors.Conflict`` carrying the other change, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, auditlog, errors, repo
from disaster.access import Action, Principal, Role
from disaster.analysis.exposure import HazardIndex
from disaster.models import (
    Assessment,
    Dataset,
    EmergencyContact,
    HazardZone,
    PlanRecord,
    PlanVersion,
    Resident,
    Shelter,
    Supporter,
    User,
    WelfareAgreement,
    resident_supporter,
)
from disaster.plans.options import DestinationJudge, Suggestion, Verdict
from disaster.plans.record import (
    FINGERPRINT_LABELS,
    MADE_WITH,
    RECIPIENTS,
    TRANSPORT_LABELS,
    Change,
    PlanContent,
    Status,
    describe,
    diff,
    rejected_reasons,
    walking_problem,
    what_changed,
)
from disaster.profile import load_profile
from disaster.usecases.residents import locate

SHELTER_COLUMNS = tuple(c.name for c in Shelter.__table__.columns)
RESIDENT_COLUMNS = tuple(c.name for c in Resident.__table__.columns)  # what the engine reads of a resident, and more
SYSTEM = auditlog.Actor("自動点検", "system", "")  # who turns plans 要見直し (city set per run)


@dataclass(frozen=True)
class PlanView:
    """A plan record as the caller sees it, with what the assessment suggests and the choices."""

    resident_no: str
    district: str
    version: int  # 0: no record yet
    status: str | None
    content: dict[str, Any] | None
    confirmed_on: dt.date | None
    review_reasons: list[str]
    updated_at: dt.datetime | None
    updated_by: str | None
    suggestion: dict[str, Any]
    destinations: list[Verdict]
    supporters: list[dict[str, Any]]
    warnings: list[str]
    can_edit: bool
    can_issue: bool
    choices: dict[str, Any] = field(default_factory=lambda: {
        "made_with": list(MADE_WITH), "transport_modes": TRANSPORT_LABELS, "recipients": list(RECIPIENTS)})


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    saved_at: dt.datetime
    author_login: str
    author_role: str
    made_with: list[str]
    status: str
    changes: list[str]
    note: str | None


# --- loading ---


def judge_for(session: Session, city_code: str) -> DestinationJudge:
    """Today's hazards at the city's shelters, ready to judge residents. Made again only when the
    shelters, the hazard zones or the city profile changed (reading the shelters to know is cheap)."""
    profile = load_profile(city_code)
    shelters = tuple(tuple(row) for row in session.execute(
        select(*Shelter.__table__.columns).where(Shelter.city_code == city_code).order_by(Shelter.id)))
    zones, index = _hazard_index(session, city_code)
    state = (shelters, zones, profile)
    cached = _judges.get(city_code)
    if cached is not None and cached[0] == state:
        return cached[1]
    judge = DestinationJudge(pd.DataFrame(list(shelters), columns=list(SHELTER_COLUMNS)), index, profile.evacuation,
                             profile.crs)
    _judges[city_code] = (state, judge)
    return judge


# per city: the state a judge / hazard index was made from, and it (one process serves few cities)
_judges: dict[str, tuple[tuple[Any, ...], DestinationJudge]] = {}
_indexes: dict[str, tuple[tuple[Any, ...], HazardIndex]] = {}


def _hazard_index(session: Session, city_code: str) -> tuple[tuple[Any, ...], HazardIndex]:
    """The state of the city's hazard zones and their index, built again only when they changed:
    an import replaces a file's zones (new rows) and records the file's digest."""
    state = tuple(session.execute(repo.city_zones(city_code, func.count(HazardZone.id), func.max(HazardZone.id),
                                                  func.min(HazardZone.id))).one())
    state += tuple(tuple(row) for row in session.execute(
        select(Dataset.id, Dataset.sha256).where(Dataset.city_code == city_code).order_by(Dataset.id)))
    cached = _indexes.get(city_code)
    if cached is not None and cached[0] == state:
        return cached
    rows = session.execute(repo.city_zones(city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_kind,
                                           HazardZone.landslide_class, HazardZone.geom).order_by(HazardZone.id)).all()
    zones = gpd.GeoDataFrame(pd.DataFrame([r[:4] for r in rows], columns=["layer", "rank", "landslide_kind", "landslide_class"]),
                             geometry=shapely.from_wkb([r.geom for r in rows]) if rows else [], crs=4326)
    _indexes[city_code] = (state, HazardIndex(zones))
    return _indexes[city_code]


def _resident_frame(session: Session, resident_id: int) -> pd.DataFrame:
    row = session.execute(select(*(getattr(Resident, c) for c in RESIDENT_COLUMNS)).where(Resident.id == resident_id)).one()
    return pd.DataFrame([tuple(row)], columns=list(RESIDENT_COLUMNS))


def _assessment(session: Session, resident_id: int) -> Assessment | None:
    return session.get(Assessment, resident_id)


def _suggestion(a: Assessment | None) -> Suggestion:
    if a is None:
        return Suggestion(None, None, None)
    return Suggestion(a.destination_shelter_id, a.second_shelter_id, a.welfare_shelter_id)


def _agreements(session: Session, resident_id: int) -> dict[int, dt.date]:
    return dict(session.execute(select(WelfareAgreement.shelter_id, WelfareAgreement.agreed_on)
                                .where(WelfareAgreement.resident_id == resident_id)).all())


def _code_of(session: Session, shelter_id: int | None) -> str | None:
    return session.scalar(select(Shelter.code).where(Shelter.id == shelter_id)) if shelter_id else None


def _name_of(session: Session, shelter_id: int | None) -> str | None:
    return session.scalar(select(Shelter.name).where(Shelter.id == shelter_id)) if shelter_id else None


def _supporters(session: Session, principal: Principal, resident_id: int) -> list[dict[str, Any]]:
    return [dict(row) for row in session.execute(
        select(Supporter.supporter_no, access.supporter_name(principal).label("name"), Supporter.relation, Supporter.consent)
        .join(resident_supporter, resident_supporter.c.supporter_id == Supporter.id)
        .where(resident_supporter.c.resident_id == resident_id).order_by(Supporter.supporter_no)).mappings()]


def _record(session: Session, resident_id: int) -> PlanRecord | None:
    return session.scalar(select(PlanRecord).where(PlanRecord.resident_id == resident_id))


def _namer(session: Session, principal: Principal, city_code: str) -> Any:
    """Names for the raw values of changes: shelters by code, supporters as ``principal`` may see them."""
    shelters = dict(session.execute(select(Shelter.code, Shelter.name).where(Shelter.city_code == city_code)).all())
    supporters: dict[str, str | None] = dict(session.execute(select(Supporter.supporter_no, access.supporter_name(principal))
                                      .where(Supporter.city_code == city_code)).all())

    def name(key: str, value: Any) -> str | None:
        if key == "destination_code":
            return shelters.get(value, f"{value}（登録のない施設）")
        if key in ("supporter_primary", "supporter_backup"):
            return supporters.get(value) or f"支援者{value}（氏名非公開）"
        return None

    return name


def _right(principal: Principal, consent_plan: bool) -> Action:
    return Action.ISSUE_PLAN if consent_plan else Action.DRAFT_PLAN


def _target(session: Session, principal: Principal, resident_no: str) -> tuple[int, str, Resident]:
    resident_id, district = locate(session, principal, resident_no)
    access.require(principal, Action.READ_RESIDENTS, district)
    resident = session.get(Resident, resident_id)
    assert resident is not None
    return resident_id, district, resident


# --- fingerprint: the data a plan was issued on ---


def fingerprint(session: Session, judge: DestinationJudge, resident: Resident, content: dict[str, Any],
                assessment: Assessment | None) -> dict[str, Any]:
    frame = _resident_frame(session, resident.id)
    destination = content.get("destination_code") or _code_of(session, assessment.destination_shelter_id if assessment else None)
    supporters = sorted(session.scalars(select(Supporter.supporter_no).join(
        resident_supporter, resident_supporter.c.supporter_id == Supporter.id)
        .where(resident_supporter.c.resident_id == resident.id)))
    agreements = sorted(str(code) for code in session.scalars(
        select(Shelter.code).join(WelfareAgreement, WelfareAgreement.shelter_id == Shelter.id)
        .where(WelfareAgreement.resident_id == resident.id)))
    people = {"address": resident.address, "location": f"{resident.lon:.5f},{resident.lat:.5f}", "mobility": resident.mobility,
              "care_level": resident.care_level, "medical_devices": list(resident.medical_devices or []),
              "floors": f"{resident.building_floors}/{resident.bedroom_floor}/{resident.home_floor}",
              "stairs": resident.can_use_stairs, "consent_plan": resident.consent_plan, "consent_share": resident.consent_share,
              "supporters": supporters, "agreements": agreements}
    planned: dict[str, Any] = dict.fromkeys(FINGERPRINT_LABELS["assessment"])
    if assessment is not None:
        planned = {"decision": assessment.decision,
                   "destination": _name_of(session, assessment.destination_shelter_id) or assessment.destination_text,
                   "second": _name_of(session, assessment.second_shelter_id),
                   "welfare": _name_of(session, assessment.welfare_shelter_id),
                   "travel_mode": assessment.travel_mode, "start_trigger": assessment.start_trigger}
    return {"home": judge.home_part(frame), "shelter": judge.shelter_part(destination), "resident": people,
            "assessment": planned}


def destination_verdict(session: Session, judge: DestinationJudge, resident: Resident, code: str,
                        assessment: Assessment | None) -> Verdict | None:
    """Today's verdict on shelter ``code`` for ``resident`` (None: no such shelter)."""
    verdicts = judge.verdicts(_resident_frame(session, resident.id), _suggestion(assessment),
                              _agreements(session, resident.id))
    return next((v for v in verdicts if v.code == code), None)


def _problem(verdict: Verdict | None, code: str) -> str | None:
    if verdict is None:
        return f"施設コード「{code}」の施設は登録されていません。"
    return verdict.problem


# --- read ---


def get_plan(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> PlanView:
    """The plan record (or none yet) with the assessment's suggestion and the allowed choices."""
    with sessions() as session:
        resident_id, district, resident = _target(session, principal, resident_no)
        record = _record(session, resident_id)
        assessment = _assessment(session, resident_id)
        judge = judge_for(session, principal.city_code)
        verdicts = judge.verdicts(_resident_frame(session, resident_id), _suggestion(assessment),
                                  _agreements(session, resident_id))
        supporters = _supporters(session, principal, resident_id)
        contacts = [{"name": c.name, "relation": c.relation, "phone": c.phone} for c in session.scalars(
            select(EmergencyContact).where(EmergencyContact.resident_id == resident_id).order_by(EmergencyContact.priority))]
        assessed_code = _code_of(session, assessment.destination_shelter_id if assessment else None)
        suggestion = {
            "destination_code": assessed_code,
            "destination": assessment.destination_text if assessment and not assessed_code else None,
            "second_code": _code_of(session, assessment.second_shelter_id if assessment else None),
            "welfare_code": _code_of(session, assessment.welfare_shelter_id if assessment else None),
            "decision": assessment.decision if assessment else None,
            "transport_mode": assessment.travel_mode if assessment else None,
            "supporters": [s["supporter_no"] for s in supporters],
            "contacts": contacts, "info_reception": list(resident.info_reception or []),
            "consent_on": resident.consent_plan_date,
        }
        warnings = []
        chosen = (record.content or {}).get("destination_code") if record else None
        if chosen:
            problem = _problem(next((v for v in verdicts if v.code == chosen), None), chosen)
            if problem:
                warnings.append(f"記録の避難先は、いまのデータでは選べません：{problem}")
        if assessment is None:
            warnings.append("避難判定がまだありません。避難先は選べません（`disaster assess` を実行してください）。")
        last = session.scalar(select(PlanVersion).where(PlanVersion.record_id == record.id)
                              .order_by(PlanVersion.version.desc()).limit(1)) if record else None
        may_edit = access.can(principal, _right(principal, resident.consent_plan), district)
        return PlanView(
            resident_no=resident_no, district=district, version=record.version if record else 0,
            status=record.status if record else None, content=record.content if record else None,
            confirmed_on=record.confirmed_on if record else None,
            review_reasons=list(record.review_reasons or []) if record else [],
            updated_at=record.updated_at if record else None, updated_by=last.author_login if last else None,
            suggestion=suggestion, destinations=[v for v in verdicts if v.allowed] if assessment else [],
            supporters=supporters, warnings=warnings, can_edit=may_edit,
            can_issue=may_edit and resident.consent_plan and record is not None)


def history(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> list[HistoryEntry]:
    """Every version of the plan record, newest first, with its changes in words."""
    with sessions() as session:
        resident_id, _, _ = _target(session, principal, resident_no)
        record = _record(session, resident_id)
        if record is None:
            return []
        name = _namer(session, principal, principal.city_code)
        return [HistoryEntry(v.version, v.saved_at, v.author_login, v.author_role, list(v.made_with), v.status,
                             [describe(c, name) for c in v.changes], v.note)
                for v in session.scalars(select(PlanVersion).where(PlanVersion.record_id == record.id)
                                         .order_by(PlanVersion.version.desc()))]


# --- change ---


def _snapshot(content: dict[str, Any], status: str, confirmed_on: dt.date | None) -> dict[str, Any]:
    return content | {"status": status, "confirmed_on": confirmed_on.isoformat() if confirmed_on else None}


def _check_version(session: Session, principal: Principal, record: PlanRecord | None, expected: int) -> None:
    """``errors.Conflict`` with the other change unless ``expected`` is the stored version."""
    current = record.version if record else 0
    if expected == current:
        return
    name = _namer(session, principal, principal.city_code)
    other: dict[str, Any] = {"version": current, "changes": []}
    if record is not None:
        versions = list(session.scalars(select(PlanVersion).where(PlanVersion.record_id == record.id,
                                                                  PlanVersion.version.in_([expected, current]))))
        base = next((v.content for v in versions if v.version == expected), {})
        last = next(v for v in versions if v.version == current)
        other |= {"status": record.status, "saved_at": last.saved_at.isoformat(), "saved_by": last.author_login,
                  "changes": [describe(c, name) for c in diff(base, last.content)]}
    raise errors.Conflict(
        f"この計画は、読み込んだ後に別の人が保存しました（あなたが読み込んだのは第{expected}版、いまは第{current}版）。"
        "入力した内容は保存していません。最新の版を読み込んで、変更を確かめてからもう一度保存してください。", other)


def _write(session: Session, principal: auditlog.PrincipalLike, record: PlanRecord, expected: int, status: str,
           content: dict[str, Any], changes: list[Change], at: dt.datetime, note: str | None = None,
           **columns: Any) -> None:
    """The next version: the record moves on only from ``expected`` (a concurrent save loses the race)."""
    moved = session.execute(update(PlanRecord).where(PlanRecord.id == record.id, PlanRecord.version == expected)
                            .values(version=expected + 1, status=status, content=content, updated_at=at,
                                    next_review_on=_date(content.get("next_review_on")), **columns)
                            .execution_options(synchronize_session=False))
    if getattr(moved, "rowcount", 0) != 1:  # saved by someone else since this save read it: show theirs
        session.refresh(record)
        if isinstance(principal, Principal):
            _check_version(session, principal, record, expected)
        raise errors.Conflict("この計画は、同時に別の人が保存しました。最新の版を読み込んでからもう一度保存してください。")
    session.add(PlanVersion(record_id=record.id, version=expected + 1, saved_at=at, author_login=principal.login,
                            author_role=str(principal.role), made_with=list(content.get("made_with") or []), status=status,
                            content=_snapshot(content, status, columns.get("confirmed_on", record.confirmed_on)),
                            changes=[c.stored() for c in changes], note=note))
    try:
        session.flush()
    except IntegrityError as exc:
        raise errors.Conflict("この計画は、同時に別の人が保存しました。最新の版を読み込んでからもう一度保存してください。") from exc


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _validate(session: Session, principal: Principal, resident: Resident, content: PlanContent) -> None:
    assessment = _assessment(session, resident.id)
    assessed = _code_of(session, assessment.destination_shelter_id if assessment else None)
    problem = walking = None
    if content.destination_code is not None and assessment is None:
        problem = "避難判定がまだないため、避難先は選べません。"
    elif assessment is not None:
        judge = judge_for(session, principal.city_code)
        distance = assessment.distance_m
        if content.destination_code is not None:
            verdict = destination_verdict(session, judge, resident, content.destination_code, assessment)
            problem = _problem(verdict, content.destination_code)
            if verdict is not None and content.destination_code != assessed:
                distance = verdict.distance_m
        walking = walking_problem(content.transport_mode or assessment.travel_mode, distance,
                                  judge.walk_limit(_resident_frame(session, resident.id)))
    supporters = set(session.scalars(select(Supporter.supporter_no).join(
        resident_supporter, resident_supporter.c.supporter_id == Supporter.id)
        .where(resident_supporter.c.resident_id == resident.id)))
    problems = rejected_reasons(content, assessed_code=assessed, supporters=supporters,
                                consent_share=resident.consent_share, destination_problem=problem, walking=walking)
    if problems:
        raise errors.Rejected("保存できません。" + " ".join(problems))


@dataclass(frozen=True)
class Saved:
    version: int
    status: str
    changes: list[str]


def save_plan(sessions: sessionmaker[Session], principal: Principal, resident_no: str, content: PlanContent,
              expected: int, at: dt.datetime) -> Saved:
    """A new version of the plan record (a 下書き until issued again), if ``expected`` is the
    stored version and every field passes the rules; an unchanged save writes nothing."""
    with sessions() as session, session.begin():
        resident_id, district, resident = _target(session, principal, resident_no)
        access.require(principal, _right(principal, resident.consent_plan), district)
        record = _record(session, resident_id)
        _check_version(session, principal, record, expected)
        _validate(session, principal, resident, content)
        stored = content.stored()
        if record is None:
            record = PlanRecord(resident_id=resident_id, version=0, status=Status.DRAFT.value, content={},
                                review_reasons=[], updated_at=at)
            session.add(record)
            try:
                session.flush()
            except IntegrityError as exc:
                raise errors.Conflict("この計画は、同時に別の人が作りました。最新の版を読み込んでください。") from exc
        if record.version and not diff(record.content, stored):
            return Saved(record.version, record.status, [])  # nothing changed: no version, the status stays
        before = _snapshot(record.content, record.status, record.confirmed_on) if record.version else {}
        changes = diff(before, _snapshot(stored, Status.DRAFT.value, record.confirmed_on))
        _write(session, principal, record, expected, Status.DRAFT.value, stored, changes, at)
        name = _namer(session, principal, principal.city_code)
        return Saved(expected + 1, Status.DRAFT.value, [describe(c, name) for c in changes])


def issue_plan(sessions: sessionmaker[Session], principal: Principal, resident_no: str, expected: int,
               at: dt.datetime, confirmed_on: dt.date | None = None) -> Saved:
    """本人確認済: the person confirmed the plan (needs 計画作成同意); the data it rests on is
    fingerprinted so that a change turns it 要見直し."""
    with sessions() as session, session.begin():
        resident_id, district, resident = _target(session, principal, resident_no)
        access.require(principal, _right(principal, resident.consent_plan), district)
        if not resident.consent_plan:
            raise errors.Rejected("計画作成の同意がない方の計画は、本人確認済にできません（下書きのままです）。")
        record = _record(session, resident_id)
        if record is None:
            raise errors.NotReady("この方の計画はまだ保存されていません。先に内容を保存してください。")
        _check_version(session, principal, record, expected)
        content = PlanContent.model_validate(record.content)
        _validate(session, principal, resident, content)
        confirmed = confirmed_on or at.date()
        before = _snapshot(record.content, record.status, record.confirmed_on)
        after = _snapshot(record.content, Status.ISSUED.value, confirmed)
        assessment = _assessment(session, resident_id)
        judge = judge_for(session, principal.city_code)
        changes = diff(before, after)
        _write(session, principal, record, expected, Status.ISSUED.value, record.content, changes, at,
               confirmed_on=confirmed, review_reasons=[],
               fingerprint=fingerprint(session, judge, resident, record.content, assessment))
        name = _namer(session, principal, principal.city_code)
        return Saved(expected + 1, Status.ISSUED.value, [describe(c, name) for c in changes])


def review_issued(sessions: sessionmaker[Session], city_code: str, at: dt.datetime | None = None,
                  residents: Collection[int] | None = None) -> list[str]:
    """Turn the city's issued plans 要見直し where the data they were issued on changed, or their
    destination no longer passes the safety rules; returns the 名簿番号 turned. ``residents``:
    only the plans of these residents can have changed (ids; None: any)."""
    at = at or dt.datetime.now(dt.UTC)
    with sessions() as session, session.begin():
        records = [record for record in session.scalars(
            select(PlanRecord).join(Resident, PlanRecord.resident_id == Resident.id)
            .where(Resident.city_code == city_code, PlanRecord.status == Status.ISSUED.value).order_by(PlanRecord.id))
            if residents is None or record.resident_id in residents]
        if not records:
            return []
        judge = judge_for(session, city_code)
        system = auditlog.Actor(SYSTEM.login, SYSTEM.role, city_code)
        turned = []
        for record in records:
            resident = session.get(Resident, record.resident_id)
            assert resident is not None
            assessment = _assessment(session, resident.id)
            reasons = what_changed(record.fingerprint or {},
                                   fingerprint(session, judge, resident, record.content, assessment))
            chosen = record.content.get("destination_code")
            if chosen:
                problem = _problem(destination_verdict(session, judge, resident, chosen, assessment), chosen)
                if problem:
                    reasons.insert(0, f"安全：記録の避難先は、いまのデータでは選べません。{problem}")
            if not reasons:
                continue
            change = Change("status", Status.ISSUED.value, Status.REVIEW.value)
            _write(session, system, record, record.version, Status.REVIEW.value, record.content, [change], at,
                   note="\n".join(reasons), review_reasons=reasons)
            turned.append(resident.resident_no)
        if turned:
            auditlog.record(session, system, auditlog.Action.PLAN_REVIEW, residents=turned, origin="assessment",
                            target_kind="plan", details={"count": len(turned)})
        return turned


@dataclass(frozen=True)
class PrintedRecord:
    """What the PDF needs of a record: its fields, status and dates, and today's verdict on its destination."""

    version: int
    status: str
    content: dict[str, Any]
    confirmed_on: dt.date | None
    updated_at: dt.datetime
    author: str | None  # who made it, as the resident reads it (``_author``)
    review_reasons: list[str]
    destination: Verdict | None  # the recorded destination, judged today (None: none recorded)
    destination_address: str | None
    destination_lonlat: tuple[float, float] | None
    supporter_names: dict[str, str]
    walk_limit_m: float  # the longest walk a plan may ask of the person (0: none)


def printed_records(session: Session, principal: Principal, residents: list[Resident]) -> dict[int, PrintedRecord]:
    """The plan records of ``residents`` (whom ``principal`` may see) as the PDF prints them, by resident id."""
    records = {r.resident_id: r for r in session.scalars(
        select(PlanRecord).where(PlanRecord.resident_id.in_([r.id for r in residents])))}
    if not records:
        return {}
    judge = judge_for(session, principal.city_code)
    return {resident.id: _printed(session, principal, judge, resident, records[resident.id])
            for resident in residents if resident.id in records}


def _printed(session: Session, principal: Principal, judge: DestinationJudge, resident: Resident,
             record: PlanRecord) -> PrintedRecord:
    chosen = record.content.get("destination_code")
    verdict = address = lonlat = None
    if chosen:
        verdict = destination_verdict(session, judge, resident, chosen, _assessment(session, resident.id))
        shelter = session.scalar(select(Shelter).where(Shelter.city_code == principal.city_code, Shelter.code == chosen))
        if shelter is not None:
            address, lonlat = shelter.address, (shelter.lon, shelter.lat)
    names = {s["supporter_no"]: s["name"] for s in _supporters(session, principal, resident.id) if s["name"]}
    return PrintedRecord(record.version, record.status, record.content, record.confirmed_on, record.updated_at,
                         _author(session, record), list(record.review_reasons or []), verdict, address, lonlat, names,
                         judge.walk_limit(_resident_frame(session, resident.id)))


def _author(session: Session, record: PlanRecord) -> str | None:
    """Who made the plan, as the resident reads it: the role of the last person who saved or
    issued it (not the automatic review), and a 福祉専門職's name as the residents' records write
    it. Accounts have no display name, and a login ID means nothing to the resident."""
    last = session.execute(
        select(PlanVersion.author_role, User.professional_name)
        .outerjoin(User, User.login == PlanVersion.author_login)
        .where(PlanVersion.record_id == record.id, PlanVersion.author_role != SYSTEM.role)
        .order_by(PlanVersion.version.desc()).limit(1)).first()
    if last is None:
        return None
    role = Role(last.author_role)
    label = access.ROLE_LABELS[role]
    return f"{label}　{last.professional_name}" if role == Role.CARE_PROFESSIONAL and last.professional_name else label


# --- the leader's pages ---


def changes_from_stored(sessions: sessionmaker[Session], principal: Principal, resident_no: str,
                        content: PlanContent) -> list[str]:
    """What ``content`` (e.g. a form that lost a race) would change in the stored plan, in words."""
    with sessions() as session:
        resident_id, _, _ = _target(session, principal, resident_no)
        record = _record(session, resident_id)
        name = _namer(session, principal, principal.city_code)
        return [describe(c, name) for c in diff(record.content if record else {}, content.stored())]


@dataclass(frozen=True)
class Walking:
    """How far the plan may ask the person to walk, and the assessed trip it is measured against."""

    limit_m: float  # 0: no walk at all
    assessed_code: str | None
    assessed_distance_m: float | None

    def distance_to(self, verdict: Verdict) -> float | None:
        """The distance a walk to ``verdict``'s place is judged on (the assessed trip's own for its place)."""
        return self.assessed_distance_m if verdict.code == self.assessed_code else verdict.distance_m

    def problem(self, verdict: Verdict | None) -> str | None:
        """Why walking to ``verdict``'s place (None: the assessed destination) cannot be the plan."""
        distance = self.assessed_distance_m if verdict is None else self.distance_to(verdict)
        return walking_problem("walk", distance, self.limit_m)


def walking(sessions: sessionmaker[Session], principal: Principal, resident_no: str) -> Walking:
    """The person's walking limit (the rule ``save_plan`` applies) and the assessed trip."""
    with sessions() as session:
        resident_id, _, _ = _target(session, principal, resident_no)
        assessment = _assessment(session, resident_id)
        limit = judge_for(session, principal.city_code).walk_limit(_resident_frame(session, resident_id))
        return Walking(limit, _code_of(session, assessment.destination_shelter_id if assessment else None),
                       assessment.distance_m if assessment else None)


def version_content(sessions: sessionmaker[Session], principal: Principal, resident_no: str,
                    version: int) -> dict[str, Any]:
    """The plan's fields as saved in ``version`` (empty for version 0 or a version not stored):
    the common base when two people edited the same version."""
    with sessions() as session:
        resident_id, _, _ = _target(session, principal, resident_no)
        record = _record(session, resident_id)
        if record is None or version < 1:
            return {}
        stored = session.scalar(select(PlanVersion.content).where(PlanVersion.record_id == record.id,
                                                                  PlanVersion.version == version))
    return {key: value for key, value in (stored or {}).items() if key in PlanContent.model_fields}


def changes_between(sessions: sessionmaker[Session], principal: Principal, before: dict[str, Any],
                    after: dict[str, Any]) -> list[str]:
    """The changes from one plan's fields to another's, in words, with names as ``principal`` may see them."""
    with sessions() as session:
        name = _namer(session, principal, principal.city_code)
        return [describe(c, name) for c in diff(before, after)]
