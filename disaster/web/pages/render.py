"""Rendering the pages: one Jinja2 environment (autoescaped), the layout's context (who is logged
in, the navigation of their role, the 災害時モード in force, the CSRF token of their forms) and the
pages' Content Security Policy (scripts and styles from ``/static/`` only, never inline)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from disaster import access
from disaster.access import Role
from disaster.csp import policy
from disaster.profile import load_profile
from disaster.resources import templates_dir
from disaster.usecases.demo import is_demo_store
from disaster.web.deps import Caller

PAGE_CSP = policy(connect=("'self'",), form_action="'self'")  # no inline script or style at all
SERVICE_NAME = "防災・避難支援"
CITY = (Role.CITY_ADMIN, Role.CITY_STAFF)
NEIGHBOURS = (Role.LEADER, Role.CARE_PROFESSIONAL)


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[Role, ...]
    disaster_mode_only: bool = False  # shown while 災害時モード (or the training mode) is on


# The pages of each role (the routes are in the page modules of disaster.web.pages).
NAVIGATION = (
    NavItem("わたしの名簿", "/leader", NEIGHBOURS),
    NavItem("校区の地図", "/leader/map", NEIGHBOURS),
    NavItem("図上訓練", "/trainer", (Role.TRAINER, *CITY)),
    NavItem("ダッシュボード", "/city", CITY),
    NavItem("取り込み", "/city/imports", (Role.CITY_ADMIN,)),
    NavItem("利用者", "/city/users", (Role.CITY_ADMIN,)),
    NavItem("監査ログ", "/city/audit", (Role.CITY_ADMIN,)),
    NavItem("災害時モード", "/city/mode", CITY),
    NavItem("安否確認", "/safety", (*NEIGHBOURS, *CITY)),
)

HOME = {Role.CITY_ADMIN: "/city", Role.CITY_STAFF: "/city", Role.LEADER: "/leader", Role.CARE_PROFESSIONAL: "/leader",
        Role.TRAINER: "/trainer", Role.PUBLIC: "/public"}


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(templates_dir() / "pages"), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["service_name"] = SERVICE_NAME
    return env


def navigation(principal: access.Principal) -> list[NavItem]:
    return [item for item in NAVIGATION if principal.role in item.roles]


def page(request: Request, template: str, context: dict[str, Any] | None = None, *, caller: Caller | None = None,
         status_code: int = 200, title: str) -> HTMLResponse:
    """The page ``template`` (under ``templates/pages/``) in the layout. ``title`` goes in <title>
    and <h1>: never a person's name (a tab title is seen over the shoulder and kept in histories)."""
    login = getattr(request.state, "login", None)  # set once the session was checked (an error page may have no caller)
    principal = caller.principal if caller is not None else login.principal() if login is not None else None
    layout = {
        "request": request, "title": title, "path": request.url.path,
        "user": None if principal is None else {
            "login": principal.login, "role_label": access.ROLE_LABELS[principal.role],
            "districts": sorted(principal.districts)},
        "city_name": load_profile(principal.city_code).name if principal is not None else None,
        "nav": navigation(principal) if principal is not None else [],
        "csrf_token": login.csrf_token if login is not None else "",
        "emergency": caller.emergency if caller is not None else None,
        "demo_store": is_demo_store(request.app.state.store.sessions),
    }
    html = environment().get_template(template).render(**layout, **(context or {}))
    return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": PAGE_CSP})
