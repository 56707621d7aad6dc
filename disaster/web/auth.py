"""Login, logout and the logged-in account: ``/api/v1/auth/…``."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from disaster import access, accounts
from disaster.web import sessions as web_sessions
from disaster.web.deps import COOKIE, ClientAddress, CurrentCaller, CurrentLogin, Now, Store, WebStore
from disaster.web.schemas import EmergencyOut, ErrorOut, LoginIn, MeOut

public = APIRouter(prefix="/auth", tags=["auth"])  # login: no session yet
router = APIRouter(prefix="/auth", tags=["auth"])


def _me(store: WebStore, login: web_sessions.Login, p: access.Principal) -> MeOut:
    return MeOut(login=p.login, role=p.role.value, role_label=access.ROLE_LABELS[p.role], city_code=p.city_code,
                 districts=sorted(p.districts), professional_name=p.professional_name, csrf_token=login.csrf_token,
                 session_expires_at=login.expires_at, idle_timeout_minutes=store.settings.session_idle_minutes,
                 view=access.view_label(p),
                 disaster_mode=EmergencyOut(active=p.emergency_all or bool(p.emergency_districts),
                                            all_districts=p.emergency_all, districts=sorted(p.emergency_districts)))


def log_in(request: Request, store: WebStore, at: dt.datetime, origin: str, login_name: str,
           password: str) -> tuple[str, web_sessions.Login]:
    """Check the password (throttled per address, audited) and start a new session; returns the
    cookie's token and the session (the API's login and the login page)."""
    settings = store.settings
    with store.sessions() as session:
        try:
            web_sessions.throttle(session, settings, origin, login_name, at)
        finally:
            session.commit()
        user = accounts.authenticate(session, login_name, password, at, origin=origin, settings=settings)
        with session.begin():
            return web_sessions.start(session, settings, user, at, request.cookies.get(COOKIE))


def set_session_cookie(response: Response, store: WebStore, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=store.settings.https_only, path="/")


def log_out(request: Request, response: Response, store: WebStore, at: dt.datetime) -> None:
    with store.sessions() as session, session.begin():
        web_sessions.end(session, store.settings, request.cookies.get(COOKIE, ""), at)
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=store.settings.https_only, path="/")


@public.post("/login", response_model=MeOut, responses={401: {"model": ErrorOut}, 429: {"model": ErrorOut}})
def login(body: LoginIn, request: Request, response: Response, store: Store, at: Now, origin: ClientAddress) -> MeOut:
    """ログインします（セッションの cookie を設定し、X-CSRF-Token に使う値を返します）。"""
    token, logged_in = log_in(request, store, at, origin, body.login, body.password)
    set_session_cookie(response, store, token)
    return _me(store, logged_in, logged_in.principal())


@router.post("/logout", status_code=204, responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
def logout(request: Request, response: Response, store: Store, at: Now, _login: CurrentLogin) -> None:
    """ログアウトします（セッションを終え、cookie を消します）。"""
    log_out(request, response, store, at)


@router.get("/me", response_model=MeOut, responses={401: {"model": ErrorOut}})
def me(store: Store, login: CurrentLogin, caller: CurrentCaller) -> MeOut:
    """ログイン中の利用者（役割・担当・見える範囲・災害時モード）と、X-CSRF-Token に使う値。"""
    return _me(store, login, caller.principal)
