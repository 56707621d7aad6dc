"""FastAPI dependencies: the store, the clock, the caller's address, the logged-in principal, CSRF.

Routes take them as ``Annotated`` aliases (``Now``, ``ClientAddress``, ``CurrentLogin``,
``CurrentPrincipal`` …). Every route of the API but login depends on ``csrf_protect``, which
requires a live session and, for a state-changing method, the session's CSRF token in the
``X-CSRF-Token`` header.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from disaster import auditlog, errors
from disaster.access import Principal
from disaster.settings import Settings
from disaster.usecases.disaster_mode import Emergency, active, principal_in_mode  # 災害時モード in force per request
from disaster.web import sessions as web_sessions

if TYPE_CHECKING:  # the optional extra "pdf"
    from disaster.plans.render import RenderPlan, RenderProcesses

COOKIE = "disaster_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebStore:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def get_store_of(app: FastAPI) -> WebStore:
    store: WebStore = app.state.store
    return store


def get_store(request: Request) -> WebStore:
    return get_store_of(request.app)


_render_lock = threading.Lock()


def plan_render_processes(app: FastAPI) -> RenderProcesses:
    """The app's processes for plan PDFs, made at the first use (the optional "pdf" extra is
    imported only then); the app's lifespan starts them early and stops them."""
    from disaster.plans.render import RenderProcesses

    with _render_lock:
        if getattr(app.state, "plan_pdfs", None) is None:
            settings = get_store_of(app).settings
            app.state.plan_pdfs = RenderProcesses(settings.pdf_processes, settings.pdf_recycle_after)
    processes: RenderProcesses = app.state.plan_pdfs
    return processes


def plan_renderer(request: Request) -> RenderPlan:
    return plan_render_processes(request.app).render


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


Store = Annotated[WebStore, Depends(get_store)]
# renders one plan PDF (disaster.plans.render.RenderPlan) in the app's render processes
PlanRender = Annotated[Callable[..., tuple[bytes, int]], Depends(plan_renderer)]
Now = Annotated[dt.datetime, Depends(now)]
ClientAddress = Annotated[str, Depends(client_address)]
# the page of a list (bounded: a page number past any list is refused, never a server error)
PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="ページ番号（1 から）")]


def current_login(request: Request, store: Store, at: Now) -> web_sessions.Login:
    with store.sessions() as session:
        try:
            login = web_sessions.resume(session, store.settings, request.cookies.get(COOKIE), at)
        finally:
            session.commit()  # last_seen_at, or the end of a timed-out session
    request.state.login = login  # who is refused, should the request be (``record_refusal``)
    return login


CurrentLogin = Annotated[web_sessions.Login, Depends(current_login)]


@dataclass(frozen=True)
class Caller:
    """The logged-in principal (with the 災害時モード in force in its city) and where it calls from."""

    principal: Principal
    emergency: Emergency
    origin: str

    def audit(self, session: Session, action: str, *, residents: list[str] | tuple[str, ...] = (),
              allowed: bool = True, target_kind: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Record a read (or a refusal) by this caller; reads under 災害時モード name the modes in force."""
        extra = {"disaster_mode": [mode.id for mode in self.emergency.modes]} if self.emergency.modes else {}
        auditlog.record(session, self.principal, action, residents=residents, allowed=allowed, origin=self.origin,
                        target_kind=target_kind, details=(details or {}) | extra)


def current_caller(login: CurrentLogin, store: Store, at: Now, origin: ClientAddress) -> Caller:
    principal = login.principal()
    with store.sessions() as session:
        emergency = active(session, principal.city_code, at)
    return Caller(principal_in_mode(principal, emergency), emergency, origin)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def current_principal(caller: CurrentCaller) -> Principal:
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

CSRF_MESSAGE = "操作の確認用の値（X-CSRF-Token）がないか、正しくありません。ページを読み込み直してから、もう一度お試しください。"


def csrf_protect(request: Request, login: CurrentLogin) -> None:
    """A live session for every request; the session's CSRF token for every state-changing one."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), login.csrf_token.encode("ascii")):
        raise errors.Forbidden(CSRF_MESSAGE)


def record_refusal(request: Request, reason: str) -> None:
    """Record a refused request of a logged-in user that no route recorded itself (e.g. a missing
    CSRF token, a role without the right to a page): every refusal is in the audit log."""
    login: web_sessions.Login | None = getattr(request.state, "login", None)
    if login is None or auditlog.refusal_recorded():
        return
    store = get_store(request)
    with store.sessions() as session, session.begin():
        auditlog.record(session, login.principal(), auditlog.Action.REQUEST_REFUSED, allowed=False,
                        origin=client_address(request), target_kind="request",
                        details={"method": request.method, "path": request.url.path, "reason": reason[:300]})
