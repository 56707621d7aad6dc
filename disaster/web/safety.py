"""安否確認: ``/api/v1/safety…`` (issue 13 §4) — during 災害時モード, or a training on demo data.

Through ``disaster.usecases.safety``, on the access policy: a leader reports on and reads the
residents of her 校区 in view (under 災害時モード also those who did not consent), a 福祉専門職 the
residents assigned to them, city staff everyone. Reports are append-only: two people reporting at
once both stay on record and the later one is the current status; ``based_on`` (the newest
report the reporter had seen) lets the answer say what someone else reported meanwhile. Every
read and report (and every refusal) is audited, naming the residents; the exports too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from disaster import errors
from disaster.usecases import safety as usecase
from disaster.usecases import safety_export as export
from disaster.usecases.demo import is_demo_store
from disaster.web.deps import Caller, CurrentCaller, Now, PageNumber, Store
from disaster.web.residents import TIMEZONE
from disaster.web.schemas import ErrorOut, Instant

router = APIRouter(prefix="/safety", tags=["safety"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut},
                                           409: {"model": ErrorOut}, 422: {"model": ErrorOut}}
StatusName = Literal["要救助", "未確認", "連絡不通", "不在", "避難済", "無事・在宅"]
StatusFilter = Literal["要対応", "要救助", "未確認", "連絡不通", "不在", "避難済", "無事・在宅"]
DistrictQuery = Annotated[str | None, Query(max_length=80, description="校区名（省略時: 市職員は災害時モードの校区、ほかは見られる全員）")]
LeaderQuery = Annotated[str | None, Query(max_length=80, description="この校区リーダー・民生委員の担当の校区（市職員のみ）")]
ShelterCode = Annotated[str, Path(max_length=40, description="避難所のコード")]


def current_round(store: Store, caller: Caller, at: dt.datetime) -> usecase.Round:
    return usecase.round_now(store.sessions, caller.principal.city_code, caller.emergency, at, is_demo_store(store.sessions))


@contextmanager
def audited(store: Store, caller: Caller, action: str, residents: list[str], target_kind: str,
            details: dict[str, Any]) -> Iterator[None]:
    """Record a refusal (allowed=False) or a failed attempt (its error) before it reaches the caller."""
    try:
        yield
    except errors.DisasterError as exc:
        refused = isinstance(exc, errors.Forbidden)
        with store.sessions() as session, session.begin():
            caller.audit(session, action, residents=residents, allowed=not refused, target_kind=target_kind,
                         details=details | ({} if refused else {"outcome": type(exc).__name__}))
        raise


def record_read(store: Store, caller: Caller, action: str, residents: list[str], target_kind: str,
                details: dict[str, Any]) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, action, residents=residents, target_kind=target_kind, details=details)


class RoundOut(BaseModel):
    kind: Literal["disaster", "training", "ended", "off"] = Field(
        description="disaster: 災害時モード中 / training: 訓練（デモデータ） / ended: 終了した災害時モード（読むだけ） / off: なし")
    on: bool = Field(description="いま記録できるか")
    training: bool
    since: Instant | None = Field(description="この時刻からの記録が数えられる")
    until: Instant | None
    districts: list[str] = Field(description="災害時モードの校区（全校区のときは空）")
    all_districts: bool
    disaster_modes: list[int]
    label: str


def round_out(rnd: usecase.Round) -> RoundOut:
    return RoundOut.model_validate(rnd.as_dict() | {"label": export.round_label(rnd)})


class ReportOut(BaseModel):
    id: int
    status: StatusName
    place: str | None = Field(description="避難先（避難所の名前、またはほかの場所）")
    shelter_code: str | None
    note: str | None
    recorded_by: str
    recorded_role: str
    recorded_at: Instant
    training: bool


class SafetyItem(BaseModel):
    resident_no: str
    name: str
    kana: str | None
    district: str
    address: str
    phone: str | None
    needs: str = Field(description="配慮が必要なこと（要介護度、移動、医療機器、意思疎通、独居）")
    priority_score: int | None
    status: StatusName
    check_id: int | None = Field(description="いまの状態の記録（なければ null: 未確認）")
    place: str | None
    note: str | None
    recorded_by: str | None
    recorded_at: Instant | None


class SafetyList(BaseModel):
    round: RoundOut
    counts: dict[str, int] = Field(description="状態ごとの人数（状態で絞り込む前）")
    items: list[SafetyItem]
    page: int
    per_page: int
    total: int
    pages: int


class DistrictCounts(BaseModel):
    district: str
    in_mode: bool = Field(description="災害時モードの校区か（訓練ではすべて）")
    counts: dict[str, int]
    open: int = Field(description="要対応（要救助・未確認・連絡不通・不在）の人数")
    total: int


class SafetyOverview(BaseModel):
    round: RoundOut
    districts: list[DistrictCounts] = Field(description="見られる人がいる校区ごとの人数（災害時モードの校区が先）")


class ResidentSafetyOut(BaseModel):
    resident_no: str
    district: str
    status: StatusName
    seen: int = Field(description="記録するときに based_on として送る値（いまの最新の記録）")
    current: ReportOut | None
    history: list[ReportOut] = Field(description="この災害（訓練）での記録、新しい順")
    round: RoundOut


class ReportIn(BaseModel):
    status: StatusName
    shelter_code: str | None = Field(default=None, max_length=40, description="避難済: 避難所のコード")
    place: str | None = Field(default=None, max_length=usecase.MAX_PLACE, description="避難済: ほかの避難先（親戚の家など）")
    note: str | None = Field(default=None, max_length=usecase.MAX_NOTE)
    based_on: int | None = Field(default=None, ge=0, le=2_147_483_647,
                                 description="画面を開いたときの最新の記録（GET の seen）。その後の別の人の記録を答えに含めます")


class RecordedOut(BaseModel):
    report: ReportOut
    status: StatusName = Field(description="いまの状態（後から保存された記録）")
    current: ReportOut
    changed_since_seen: list[ReportOut] = Field(description="based_on の後に別の人がした記録（新しい順）")


class ShelterOut(BaseModel):
    code: str
    name: str
    kinds: str
    welfare: bool
    district: str | None
    capacity: int | None
    people: int | None = Field(description="報告された避難者数（報告がなければ null）")
    load_percent: int | None
    reported_at: Instant | None
    reported_by: str | None
    checked_in: int = Field(description="見られる範囲の名簿の方で、ここに避難済の人数")
    planned: int = Field(description="見られる範囲の名簿の方で、ここが福祉避難所の人数（避難判定）")


class ShelterList(BaseModel):
    round: RoundOut
    items: list[ShelterOut]


class CountIn(BaseModel):
    people: int = Field(ge=0, le=usecase.MAX_PEOPLE, description="いまの避難者数")


class CountOut(BaseModel):
    id: int
    shelter_code: str
    people: int


def _report(r: usecase.Report) -> ReportOut:
    return ReportOut.model_validate(r.as_dict())


def _item(item: dict[str, Any]) -> SafetyItem:
    return SafetyItem.model_validate(item | {"needs": usecase.needs_label(item)})


def _shelter(s: usecase.ShelterState) -> ShelterOut:
    return ShelterOut(code=s.code, name=s.name, kinds=s.kinds, welfare=s.welfare, district=s.district, capacity=s.capacity,
                      people=s.people, load_percent=s.load, reported_at=s.reported_at, reported_by=s.reported_by,
                      checked_in=s.checked_in, planned=s.planned)


@router.get("", response_model=SafetyOverview, responses=ERRORS)
def overview(store: Store, caller: CurrentCaller, at: Now) -> SafetyOverview:
    """安否確認がいま行われているか（災害時モード・訓練）と、校区ごとの状態別の人数。"""
    rnd = current_round(store, caller, at)
    summaries = usecase.district_summaries(store.sessions, caller.principal, rnd)
    return SafetyOverview(round=round_out(rnd), districts=[
        DistrictCounts(district=s.district, in_mode=s.in_mode, counts=s.counts, open=s.open, total=s.total) for s in summaries])


@router.get("/residents", response_model=SafetyList, responses=ERRORS)
def list_residents(store: Store, caller: CurrentCaller, at: Now, district: DistrictQuery = None,
                   status: Annotated[StatusFilter | None, Query(description="状態（要対応: 要救助・未確認・連絡不通・不在）")] = None,
                   leader: LeaderQuery = None, page: PageNumber = 1,
                   per_page: Annotated[int, Query(ge=1, le=usecase.MAX_PER_PAGE)] = 100) -> SafetyList:
    """見られる範囲の方の安否（要救助・未確認を先に、作成の優先度の高い順）。"""
    rnd = current_round(store, caller, at)
    details = {"district": district, "status": status, "leader": leader, "page": page, "round": rnd.kind}
    with audited(store, caller, usecase.LIST, [], "district" if district else "residents", details):
        listing = usecase.list_status(store.sessions, caller.principal, rnd, district=district, status=status,
                                      leader=leader, page=page, per_page=per_page)
    record_read(store, caller, usecase.LIST, [i["resident_no"] for i in listing.items],
                "district" if district else "residents", details | {"total": listing.total})
    return SafetyList(round=round_out(rnd), counts=listing.counts, items=[_item(i) for i in listing.items],
                      page=listing.page, per_page=listing.per_page, total=listing.total, pages=listing.pages)


@router.get("/residents/{resident_no}", response_model=ResidentSafetyOut, responses=ERRORS)
def resident(resident_no: str, store: Store, caller: CurrentCaller, at: Now) -> ResidentSafetyOut:
    """1 人の安否といまの災害（訓練）での記録のすべて（新しい順）。"""
    rnd = current_round(store, caller, at)
    with audited(store, caller, usecase.READ, [resident_no], "resident", {"round": rnd.kind}):
        found = usecase.resident_safety(store.sessions, caller.principal, rnd, resident_no)
    record_read(store, caller, usecase.READ, [resident_no], "resident", {"round": rnd.kind, "reports": len(found.history)})
    return ResidentSafetyOut(resident_no=resident_no, district=found.district, status=found.status, seen=found.seen,  # type: ignore[arg-type]
                             current=_report(found.current) if found.current else None,
                             history=[_report(r) for r in found.history], round=round_out(rnd))


def record(store: Store, caller: Caller, at: dt.datetime, rnd: usecase.Round, resident_no: str, *, status: str,
           shelter_code: str | None, place: str | None, note: str | None, based_on: int | None) -> usecase.Recorded:
    """Record a report with its audit entry in one transaction (a refusal or a failure is audited too)."""
    def audit(session: Any, residents: list[str], details: dict[str, Any]) -> None:
        caller.audit(session, usecase.RECORD, residents=residents, target_kind="resident", details=details)

    with audited(store, caller, usecase.RECORD, [resident_no], "resident", {"status": status, "round": rnd.kind}):
        return usecase.record_check(store.sessions, caller.principal, rnd, resident_no, status=status,
                                    shelter_code=shelter_code, place=place, note=note, based_on=based_on, at=at,
                                    audit=audit)


@router.post("/residents/{resident_no}", status_code=201, response_model=RecordedOut, responses=ERRORS)
def report(resident_no: str, body: ReportIn, store: Store, caller: CurrentCaller, at: Now) -> RecordedOut:
    """安否を記録します（前の記録は消えず、履歴に残ります）。based_on の後に別の人が記録していれば、それも返します。"""
    rnd = current_round(store, caller, at)
    recorded = record(store, caller, at, rnd, resident_no, status=body.status, shelter_code=body.shelter_code,
                      place=body.place, note=body.note, based_on=body.based_on)
    found = usecase.resident_safety(store.sessions, caller.principal, rnd, resident_no)
    mine = next(r for r in found.history if r.id == recorded.id)
    assert found.current is not None
    others = [r for r in found.history if r.id != recorded.id and r.id > (body.based_on or 0)]
    return RecordedOut(report=_report(mine), status=found.status, current=_report(found.current),  # type: ignore[arg-type]
                       changed_since_seen=[_report(r) for r in others])


@router.get("/shelters", response_model=ShelterList, responses=ERRORS)
def shelters(store: Store, caller: CurrentCaller, at: Now, district: DistrictQuery = None,
             all: Annotated[bool, Query(description="市内のすべての避難所")] = False) -> ShelterList:  # noqa: A002
    """避難所ごとの避難者数（報告）と収容人数、名簿の方の避難（福祉避難所を含む）。"""
    rnd = current_round(store, caller, at)
    states = usecase.shelter_states(store.sessions, caller.principal, rnd, district, everything=all)
    return ShelterList(round=round_out(rnd), items=[_shelter(s) for s in states])


def report_people(store: Store, caller: Caller, at: dt.datetime, rnd: usecase.Round, code: str, people: int) -> int:
    def audit(session: Any, details: dict[str, Any]) -> None:
        caller.audit(session, usecase.SHELTER_COUNT, target_kind="shelter", details=details)

    with audited(store, caller, usecase.SHELTER_COUNT, [], "shelter", {"shelter": code, "people": people}):
        return usecase.report_count(store.sessions, caller.principal, rnd, code, people, at, audit)


@router.post("/shelters/{code}/count", status_code=201, response_model=CountOut, responses=ERRORS)
def shelter_count(code: ShelterCode, body: CountIn, store: Store, caller: CurrentCaller, at: Now) -> CountOut:
    """避難所のいまの避難者数を報告します（市職員）。前の報告は履歴に残ります。"""
    rnd = current_round(store, caller, at)
    count_id = report_people(store, caller, at, rnd, code, body.people)
    return CountOut(id=count_id, shelter_code=code, people=body.people)


def export_listing(store: Store, caller: Caller, rnd: usecase.Round, district: str | None,
                   leader: str | None, kind: str) -> usecase.Listing:
    """Every resident of the list (no paging), audited as an export naming them."""
    details = {"district": district, "leader": leader, "format": kind, "round": rnd.kind}
    with audited(store, caller, usecase.EXPORT, [], "residents", details):
        listing = usecase.list_status(store.sessions, caller.principal, rnd, district=district, leader=leader,
                                      everyone=True)
    items = listing.items
    record_read(store, caller, usecase.EXPORT, [i["resident_no"] for i in items], "residents", details | {"total": len(items)})
    return listing


def download(content: bytes, media_type: str, name: str, at: dt.datetime) -> Response:
    filename = f"安否確認_{at.astimezone(TIMEZONE):%Y%m%d_%H%M}.{name}"
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"safety.{name}\"; filename*=UTF-8''{quote(filename)}"})


@router.get("/export.csv", response_class=Response, responses=ERRORS | {
    200: {"content": {"text/csv": {}}, "description": "安否確認の一覧（CSV、UTF-8 BOM つき、要救助・未確認が先）"}})
def export_csv(store: Store, caller: CurrentCaller, at: Now, district: DistrictQuery = None,
               leader: LeaderQuery = None) -> Response:
    """災害対策本部向けの一覧（CSV）。数式として動く文字で始まる欄には ' を付けます。"""
    rnd = current_round(store, caller, at)
    listing = export_listing(store, caller, rnd, district, leader, "csv")
    return download(export.to_csv(listing), "text/csv; charset=utf-8", "csv", at)


@router.get("/export.xlsx", response_class=Response, responses=ERRORS | {
    200: {"content": {export.XLSX_TYPE: {}}, "description": "安否確認（Excel: 集計・一覧・避難所）"}})
def export_xlsx(store: Store, caller: CurrentCaller, at: Now, district: DistrictQuery = None,
                leader: LeaderQuery = None) -> Response:
    """災害対策本部向けの Excel（集計・一覧・避難所）。文字はすべて文字として入れ、数式にはしません。"""
    rnd = current_round(store, caller, at)
    listing = export_listing(store, caller, rnd, district, leader, "xlsx")
    summaries = usecase.district_summaries(store.sessions, caller.principal, rnd)
    if district is not None:
        summaries = [s for s in summaries if s.district == district]
    states = usecase.shelter_states(store.sessions, caller.principal, rnd, district)
    return download(export.to_xlsx(listing, summaries, states, caller.principal.login, at), export.XLSX_TYPE, "xlsx", at)


class TrainingOut(BaseModel):
    round: RoundOut


@router.post("/training", status_code=201, response_model=TrainingOut, responses=ERRORS)
def start_training(store: Store, caller: CurrentCaller, at: Now) -> TrainingOut:
    """安否確認の訓練を始めます（市職員、デモデータのときだけ）。全員が未確認に戻ります（前の記録は残ります）。"""
    def audit(session: Any) -> None:
        caller.audit(session, usecase.TRAINING, target_kind="safety")

    with audited(store, caller, usecase.TRAINING, [], "safety", {}):
        usecase.start_training(store.sessions, caller.principal, caller.emergency, is_demo_store(store.sessions), at, audit)
    return TrainingOut(round=round_out(current_round(store, caller, at)))
