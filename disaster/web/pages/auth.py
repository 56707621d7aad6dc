"""The login page, logging out, and ``/`` (each role's home page)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from disaster import errors
from disaster.web import auth
from disaster.web.deps import ClientAddress, CurrentCaller, Now, Store
from disaster.web.errors import status_of
from disaster.web.pages.deps import same_origin
from disaster.web.pages.render import HOME, page

public = APIRouter()  # no session needed
router = APIRouter()  # behind the session and the form's CSRF token
CROSS_SITE = "このサービスのページ以外から送られたログインは受け付けません。"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this service only (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_url(path: str) -> str:
    return "/login" if path in ("/", "") else f"/login?next={quote(path, safe='/')}"


@public.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002  (the query parameter's name)
    return page(request, "login.html.j2", {"next": safe_next(next), "login": "", "error": None}, title="ログイン")


@public.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login_submit(request: Request, store: Store, at: Now, origin: ClientAddress,
                 login: Annotated[str, Form(max_length=80)] = "", password: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=500)] = "/") -> Response:  # noqa: A002
    if not same_origin(request):
        raise errors.Forbidden(CROSS_SITE)
    try:
        token, _ = auth.log_in(request, store, at, origin, login, password)
    except errors.DisasterError as exc:  # a wrong password, a locked account, too many tries: say so on the form
        return page(request, "login.html.j2", {"next": safe_next(next), "login": login, "error": str(exc)},
                    title="ログイン", status_code=status_of(exc)[0])
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.set_session_cookie(response, store, token)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, store: Store, at: Now) -> Response:
    response = RedirectResponse("/login", status_code=303)
    auth.log_out(request, response, store, at)
    return response


@router.get("/", include_in_schema=False)
def home(caller: CurrentCaller) -> Response:
    """The role's home page (without a session: the login page, which links the public pages)."""
    return RedirectResponse(HOME[caller.principal.role], status_code=303)
