"""図上訓練 records: ``/api/v1/exercises/sessions`` (list, record, findings, delete) and
``/api/v1/exercises/report`` (participants per 年度 against the city's target). Packs are made
by a job (``disaster.web.jobs``).

Who may: ``access.Action.EXERCISE_RECORDS`` (city roles and trainers for any 校区, a leader for
their own) and ``EXERCISE_REPORT``; a finding names only residents the caller may see, and a
listed finding shows its resident's 名簿番号 only to those who may see the resident. Changes are
audited by the use-cases, reads naming residents here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from disaster import access, auditlog, errors
from disaster.access import Action
from disaster.exercises.tracking import parse_fiscal
from disaster.usecases import exercises as usecase
from disaster.wareki import parse_date
from disaster.web.deps import CurrentCaller, PageNumber, Store
from disaster.web.residents import refusals_audited
from disaster.web.schemas import ErrorOut, Page

router = APIRouter(prefix="/exercises", tags=["exercises"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
TEXT = usecase.MAX_TEXT
SessionId = Annotated[int, Path(ge=1, le=2_147_483_647, description="実施記録の番号")]


class FindingIn(BaseModel):
    issue: str = Field(max_length=TEXT, description="課題")
    action: str | None = Field(default=None, max_length=TEXT, description="対応")
    owner: str | None = Field(default=None, max_length=80, description="担当")
    due: str | None = Field(default=None, max_length=40, description="期限（例: 2026-09-30 / R8.9.30）")
    status: str = Field(default="未着手", max_length=10, description="未着手 / 対応中 / 完了")
    resident_no: str | None = Field(default=None, max_length=40, description="課題が関わる方の名簿番号（見られる範囲の方だけ）")

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump() | {"due": parse_date(self.due) if self.due else None}


class SessionIn(BaseModel):
    district: str = Field(max_length=80, description="校区名")
    held_on: str = Field(max_length=40, description="実施日（例: 2026-06-14 / R8.6.14）")
    hazard: str = Field(default="flood", max_length=20, description="flood / inland / landslide / earthquake（洪水・内水・土砂災害・地震）")
    facilitator: str | None = Field(default=None, max_length=80, description="進行役")
    participants: dict[str, int] = Field(default={}, description=f"役割ごとの人数（{'・'.join(usecase.ROLES)}）")
    rating_overall: int | None = Field(default=None, description="総合評価 1〜5")
    rating_understanding: int | None = Field(default=None, description="理解度 1〜5")
    rating_usefulness: int | None = Field(default=None, description="役立ち度 1〜5")
    strengths: str | None = Field(default=None, max_length=TEXT, description="よかった点")
    improvements: str | None = Field(default=None, max_length=TEXT, description="改善点")
    findings: list[FindingIn] = Field(default=[], max_length=100, description="課題")


class FindingOut(BaseModel):
    id: int
    issue: str
    action: str | None
    owner: str | None
    due: dt.date | None
    status: str
    resident_no: str | None = Field(description="課題が関わる方の名簿番号（その方を見られる人にだけ）")
    names_resident: bool = Field(description="課題がだれかについてのものか（名簿番号が見えなくても）")


class SessionOut(BaseModel):
    id: int
    held_on: dt.date
    district: str
    hazard: str
    facilitator: str | None
    participants: dict[str, int]
    participants_total: int
    rating_overall: int | None
    rating_understanding: int | None
    rating_usefulness: int | None
    strengths: str | None
    improvements: str | None
    source: str
    findings: list[FindingOut]


class SessionList(Page):
    items: list[SessionOut]


class RecordedOut(BaseModel):
    id: int
    new: bool = Field(description="新しい記録か（同じ日・校区・災害・進行役の記録は置き換えます）")


class YearTotal(BaseModel):
    year: int
    label: str
    participants: int


class ReportOut(BaseModel):
    year: int
    year_label: str
    participants: int
    sessions: int
    target: int | None = Field(description="市町村の設定ファイルにある参加者数の目標")
    target_label: str | None
    progress_percent: float | None
    by_year: list[YearTotal]
    by_district: dict[str, int]
    by_area: dict[str, int]
    idle_years: int
    districts_without_session: list[str]


def _year(text: str | None) -> int | None:
    """A 年度 given as R8 / 令和8年度 / 2026 (None: this 年度)."""
    if text is None:
        return None
    year = parse_fiscal(text)
    if not 1989 <= year <= 2200:
        raise errors.Rejected(f"年度「{text}」は 1989〜2200 年度の範囲で指定してください。")
    return year


def _hazard(text: str) -> usecase.ExerciseHazard:
    hazard = usecase.HAZARD_NAMES.get(text.strip())
    if hazard is None:
        raise errors.Rejected(f"災害「{text}」は flood / inland / landslide / earthquake"
                              "（洪水・内水・土砂災害・地震）のいずれかです。")
    return hazard


def _out(view: usecase.SessionView) -> SessionOut:
    overall, understanding, usefulness = view.ratings
    return SessionOut(id=view.id, held_on=view.held_on, district=view.district, hazard=view.hazard,
                      facilitator=view.facilitator, participants=view.participants,
                      participants_total=sum(view.participants.values()), rating_overall=overall,
                      rating_understanding=understanding, rating_usefulness=usefulness, strengths=view.strengths,
                      improvements=view.improvements, source=view.source,
                      findings=[FindingOut(**vars(f)) for f in view.findings])


@router.get("/sessions", response_model=SessionList, responses=ERRORS)
def list_sessions(
    store: Store, caller: CurrentCaller,
    district: Annotated[str | None, Query(max_length=80, description="校区名（省略時は見られる全校区）")] = None,
    year: Annotated[str | None, Query(max_length=20, description="年度（例: R8 / 令和8年度 / 2026）")] = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionList:
    """図上訓練の実施記録（新しい順）。校区リーダーは担当の校区だけ、進行役と市職員は全校区。"""
    chosen = _year(year)
    details = {"district": district, "year": chosen, "page": page}
    with refusals_audited(store, caller, auditlog.Action.EXERCISE_READ, (), "exercise_session", details):
        found = usecase.list_sessions(store.sessions, caller.principal, district, chosen, page, per_page)
    items = [_out(view) for view in found.items]
    named = [f.resident_no for item in items for f in item.findings if f.resident_no]
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.EXERCISE_READ, residents=named, target_kind="exercise_session",
                     details=details | {"sessions": [item.id for item in items]})
    return SessionList(items=items, page=page, per_page=per_page, total=found.total,
                       pages=math.ceil(found.total / per_page))


@router.post("/sessions", status_code=201, response_model=RecordedOut, responses=ERRORS)
def record_session(body: SessionIn, store: Store, caller: CurrentCaller) -> RecordedOut:
    """図上訓練の実施記録（参加者数・感想・課題）を登録します（`disaster exercise record` と同じ）。
    同じ日・校区・災害・進行役の記録は置き換えます。"""
    data = usecase.SessionInput(parse_date(body.held_on), body.district.strip(), _hazard(body.hazard),
                                body.facilitator or None, body.participants,
                                (body.rating_overall, body.rating_understanding, body.rating_usefulness),
                                body.strengths or None, body.improvements or None,
                                [finding.as_dict() for finding in body.findings])
    recorded = usecase.record_session(store.sessions, caller.principal, data, origin=caller.origin)
    return RecordedOut(id=recorded.id, new=recorded.new)


@router.post("/sessions/{session_id}/findings", status_code=201, response_model=RecordedOut, responses=ERRORS)
def add_finding(session_id: SessionId, body: FindingIn, store: Store, caller: CurrentCaller) -> RecordedOut:
    """実施記録に課題を加えます（名簿番号は見られる範囲の方だけ）。"""
    recorded = usecase.add_finding(store.sessions, caller.principal, session_id, body.as_dict(), caller.origin)
    return RecordedOut(id=recorded.id, new=recorded.new)


@router.delete("/sessions/{session_id}", status_code=204, responses=ERRORS)
def delete_session(session_id: SessionId, store: Store, caller: CurrentCaller) -> None:
    """誤って登録した実施記録を、参加者数・課題ごと取り消します。"""
    usecase.delete_session(store.sessions, caller.principal, session_id, caller.origin)


@router.get("/report", response_model=ReportOut, responses=ERRORS)
def report(
    store: Store, caller: CurrentCaller,
    year: Annotated[str | None, Query(max_length=20, description="年度（例: R8 / 令和8年度 / 2026。省略時は今年度）")] = None,
    idle_years: Annotated[int, Query(ge=1, le=20, description="この年数、実施のない校区を示す")] = 3,
) -> ReportOut:
    """図上訓練の参加者数（年度別・校区別・圏域別）と、市町村の目標への進み具合（人数だけ。個人は含みません）。"""
    access.require(caller.principal, Action.EXERCISE_REPORT)
    chosen = _year(year)
    return ReportOut.model_validate(usecase.report(store.sessions, caller.principal.city_code, chosen, idle_years))
