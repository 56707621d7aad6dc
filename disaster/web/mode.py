"""災害時モード: ``/api/v1/disaster-mode`` — whether it is on and where (every logged-in role),
declare and end it (the city administrator). Through ``disaster.usecases.disaster_mode``, which
audits every declaration, every early end and every refused attempt."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from disaster.usecases import disaster_mode as usecase
from disaster.web.deps import CurrentCaller, Now, Store
from disaster.web.schemas import ErrorOut

ModeId = Annotated[int, Path(ge=1, le=2_147_483_647, description="災害時モードの番号")]
router = APIRouter(prefix="/disaster-mode", tags=["disaster-mode"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    422: {"model": ErrorOut}}


class ModeOut(BaseModel):
    id: int
    status: str = Field(description="実施中 / 期限で終了 / 早期に終了")
    on: bool
    reason: str
    all_districts: bool
    districts: list[str] = Field(description="対象の校区（全校区のときは空）")
    declared_by: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    ended_at: dt.datetime | None
    ended_by: str | None
    reads: int = Field(description="この間に記録された個人情報の閲覧の件数")


class ModeList(BaseModel):
    on: bool = Field(description="いま災害時モードか")
    all_districts: bool
    districts: list[str] = Field(description="いま災害時モードの校区")
    items: list[ModeOut] = Field(description="宣言の一覧（実施中を先に、それぞれ新しい順）")


class DeclareIn(BaseModel):
    reason: str = Field(max_length=usecase.MAX_REASON, description="理由（例: 〇〇川の氾濫のおそれ、避難指示の発令）")
    districts: list[str] = Field(default=[], max_length=200, description="対象の校区（全校区なら空にして all_districts）")
    all_districts: bool = Field(default=False, description="全校区を対象にする")
    ends_at: dt.datetime = Field(description="終了日時（時差つき、最長 7 日先まで）")


def _out(item: usecase.ModeListing) -> ModeOut:
    return ModeOut.model_validate(item.as_dict())


def _one(store: Store, city_code: str, mode_id: int, at: dt.datetime) -> ModeOut:
    return _out(usecase.list_modes(store.sessions, city_code, at, mode_id)[0])


@router.get("", response_model=ModeList, responses=ERRORS)
def list_modes(store: Store, caller: CurrentCaller, at: Now) -> ModeList:
    """災害時モードがいま実施中か、どの校区か、これまでの宣言（ログインしている人はだれでも見られます）。"""
    usecase.require_modes(store.engine)
    listings = usecase.list_modes(store.sessions, caller.principal.city_code, at)
    emergency = caller.emergency
    return ModeList(on=emergency.on, all_districts=emergency.all, districts=sorted(emergency.districts),
                    items=[_out(item) for item in sorted(listings, key=lambda item: not item.on)])


@router.post("", status_code=201, response_model=ModeOut, responses=ERRORS)
def declare(body: DeclareIn, store: Store, caller: CurrentCaller, at: Now) -> ModeOut:
    """災害時モードを宣言します（市の管理者のみ）。対象の校区か全校区（all_districts）のどちらかを指定します。"""
    usecase.require_modes(store.engine)
    mode = usecase.declare(store.sessions, caller.principal, body.reason, body.districts, body.ends_at, at, caller.origin,
                           all_districts=body.all_districts)
    return _one(store, caller.principal.city_code, mode.id, at)


@router.post("/{mode_id}/end", response_model=ModeOut, responses=ERRORS)
def end(mode_id: ModeId, store: Store, caller: CurrentCaller, at: Now) -> ModeOut:
    """実施中の災害時モードを終了日時より前に終えます（市の管理者のみ）。"""
    usecase.require_modes(store.engine)
    usecase.end(store.sessions, caller.principal, mode_id, at, caller.origin)
    return _one(store, caller.principal.city_code, mode_id, at)
