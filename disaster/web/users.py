"""Accounts: ``/api/v1/users`` (the city administrator) and one's own password
(``POST /api/v1/auth/password``). Through ``disaster.usecases.users``, audited; no answer holds
a password or its hash."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from disaster import access
from disaster.access import Role
from disaster.models import User
from disaster.usecases import users as usecase
from disaster.web import sessions as web_sessions
from disaster.web.deps import COOKIE, CurrentCaller, Now, Store
from disaster.web.schemas import ErrorOut

router = APIRouter(tags=["users"])
ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class UserOut(BaseModel):
    login: str
    role: str
    role_label: str
    districts: list[str]
    professional_name: str | None
    disabled: bool
    locked_until: dt.datetime | None = Field(description="ログインの失敗が続いてロックされている間は、その終わり")
    created_at: dt.datetime
    password_changed_at: dt.datetime


class UserIn(BaseModel):
    login: str = Field(max_length=80, description="ログインID（英数字・かな漢字と . @ + - _）")
    role: str = Field(max_length=40, description="city_admin / city_staff / leader / trainer / care_professional")
    password: str = Field(max_length=1000)
    districts: list[str] = Field(default=[], max_length=200, description="担当の校区（leader は 1 つ以上）")
    professional_name: str | None = Field(default=None, max_length=80, description="福祉専門職の氏名（名簿の関係専門職欄のとおり）")


class PasswordIn(BaseModel):
    password: str = Field(max_length=1000)


class OwnPasswordIn(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


def _out(user: User, at: dt.datetime) -> UserOut:
    locked = user.locked_until if user.locked_until is not None and user.locked_until > at else None
    return UserOut(login=user.login, role=user.role, role_label=access.ROLE_LABELS[Role(user.role)],
                   districts=list(user.districts), professional_name=user.professional_name, disabled=user.disabled,
                   locked_until=locked, created_at=user.created_at, password_changed_at=user.password_changed_at)


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(store: Store, caller: CurrentCaller, at: Now) -> list[UserOut]:
    """市町村の利用者の一覧（市の管理者のみ。パスワードは含みません）。"""
    return [_out(user, at) for user in usecase.list_users(store.sessions, caller.principal, caller.origin)]


@router.post("/users", status_code=201, response_model=UserOut, responses=ERRORS)
def add_user(body: UserIn, store: Store, caller: CurrentCaller, at: Now) -> UserOut:
    """利用者を登録します（市の管理者のみ。パスワードは Argon2id のハッシュだけを保存します）。"""
    user = usecase.add_user(store.sessions, caller.principal, body.login, body.role, body.password, body.districts,
                            body.professional_name, caller.origin)
    return _out(user, at)


@router.post("/users/{login}/password", status_code=204, responses=ERRORS)
def set_password(login: str, body: PasswordIn, store: Store, caller: CurrentCaller) -> None:
    """利用者のパスワードを設定し直します（市の管理者のみ。ロックも解除し、その利用者のセッションは終わります）。"""
    usecase.set_password(store.sessions, caller.principal, login, body.password, caller.origin)


@router.post("/users/{login}/disable", response_model=UserOut, responses=ERRORS)
def disable_user(login: str, store: Store, caller: CurrentCaller, at: Now) -> UserOut:
    """利用者を停止します（市の管理者のみ。ログイン中のセッションも終わります。記録は残ります）。"""
    return _out(usecase.disable_user(store.sessions, caller.principal, login, caller.origin), at)


@router.post("/auth/password", status_code=204, responses=ERRORS)
def change_own_password(body: OwnPasswordIn, request: Request, response: Response, store: Store, caller: CurrentCaller,
                        at: Now) -> None:
    """自分のパスワードを変えます（今のパスワードが必要です）。ほかのセッションはすべて終わり、
    このブラウザには新しいセッションの cookie を設定します（X-CSRF-Token は /auth/me で取り直してください）。"""
    settings = store.settings
    user = usecase.change_own_password(store.sessions, caller.principal, body.current_password, body.new_password, at,
                                       caller.origin, settings)
    with store.sessions() as session, session.begin():
        token, _ = web_sessions.start(session, settings, user, at, request.cookies.get(COOKIE))
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=settings.https_only, path="/")
