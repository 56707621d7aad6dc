"""The app factory: ``create_app(settings=None) -> FastAPI``."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disaster import auditlog, errors
from disaster.accounts import AuthFailed
from disaster.db import make_engine, require_current_schema, session_factory
from disaster.settings import DEFAULT_SECRET_KEY, Settings, get_settings
from disaster.usecases.demo import is_demo_store
from disaster.web import auth, city, exercises, imports, jobs, maps, mode, plans, residents, safety, users
from disaster.web import errors as web_errors
from disaster.web.deps import WebStore, csrf_protect, plan_render_processes, record_refusal
from disaster.web.pages import pages_router

API = "/api/v1"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # every answer is about someone's account or the city's personal data
}
HSTS = ("Strict-Transport-Security", "max-age=31536000")


ROUTE_MAY_SET = frozenset({"Cache-Control", "Content-Security-Policy"})  # e.g. the map pages: scripts by hash


class SecurityHeaders:
    """Add the security headers to every response (a route may set its own Cache-Control and CSP)."""

    def __init__(self, app: ASGIApp, https_only: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS) | (dict([HSTS]) if https_only else {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name in ROUTE_MAY_SET:
                        headers.setdefault(name, value)
                    else:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AllowedHosts:
    """Answer a request whose Host is not one of ``allowed`` with 400 in the one JSON error shape
    (patterns as Starlette's TrustedHostMiddleware: exact names, ``*.example.jp``, or ``*``)."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.any = "*" in allowed
        self.exact = frozenset(h for h in allowed if not h.startswith("*"))
        self.suffixes = tuple(h[1:] for h in allowed if h.startswith("*."))

    def allows(self, host: str) -> bool:
        return self.any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.allows(Headers(scope=scope).get("host", "").split(":")[0]):
            await web_errors.host_refused()(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RefusalWatch:
    """Each request collects the refusals recorded while it is answered (``auditlog.refusals_in``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with auditlog.refusals_in():
            await self.app(scope, receive, send)


async def _forbidden(request: Request, exc: Exception) -> Response:
    """A refusal: recorded unless the route did (a failed login is recorded by the login itself)."""
    assert isinstance(exc, errors.Forbidden)
    if not isinstance(exc, AuthFailed):
        await run_in_threadpool(record_refusal, request, str(exc))
    return await web_errors.disaster_error(request, exc)


def _check(store: WebStore) -> None:
    require_current_schema(store.engine)
    auditlog.require_log(store.engine)
    if store.settings.secret_key == DEFAULT_SECRET_KEY and not is_demo_store(store.sessions):
        raise errors.NotReady("秘密鍵が既定のままです。デモ以外のデータでサービスを動かすには、環境変数 DISASTER_SECRET_KEY に"
                              "推測できない長い値（例: `python -c \"import secrets; print(secrets.token_urlsafe(48))\"` の出力）を"
                              "設定してください。")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the processes for plan PDFs in the background (when the "pdf" extra is installed), so
    that the first plan asked for is not slowed by their start; stop them with the app."""
    if importlib.util.find_spec("weasyprint") is not None:
        processes = plan_render_processes(app)
        threading.Thread(target=processes.start, name="disaster-pdf-start", daemon=True).start()
    try:
        yield
    finally:
        if getattr(app.state, "plan_pdfs", None) is not None:
            await run_in_threadpool(app.state.plan_pdfs.close)


def api_router() -> APIRouter:
    """Every route of the API under /api/v1: login, and behind it (a session, CSRF) the rest."""
    api = APIRouter(prefix=API)
    api.include_router(auth.public)
    protected = APIRouter(dependencies=[Depends(csrf_protect)])
    protected.include_router(auth.router)
    for area in (residents, plans, city, maps, exercises, jobs, imports, mode, users, safety):
        protected.include_router(area.router)
    api.include_router(protected)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service on ``settings.db`` (NotReady when the store is not ready or the secret is the
    default outside the demo)."""
    settings = settings or get_settings()
    engine = make_engine(settings.db)
    store = WebStore(settings, engine, session_factory(engine))
    _check(store)
    app = FastAPI(title="防災・避難支援サービス", version="1", openapi_url=f"{API}/openapi.json", docs_url=None,
                  redoc_url=None, swagger_ui_oauth2_redirect_url=None, lifespan=lifespan)
    app.state.store = store
    web_errors.install(app)
    app.add_exception_handler(errors.Forbidden, _forbidden)
    app.include_router(api_router())
    app.include_router(pages_router())
    app.add_middleware(AllowedHosts, allowed=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders, https_only=settings.https_only)
    app.add_middleware(RefusalWatch)
    return app
