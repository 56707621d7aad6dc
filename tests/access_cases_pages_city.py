"""Authorisation-matrix cases of the city staff's pages (see tests/access_matrix.py and tests/access_cases_pages.py).

The dashboard and 災害時モード's page are for both city roles; imports, accounts, the audit log
and declaring or ending 災害時モード for the city administrator only. The cases that change
something send input the page refuses (422 for the administrator, 403 for everyone else before
the input is looked at), or name what does not exist (404), so the world stays as it was; the
re-assessment job they start stays queued and is cancelled by the next case (``_tidy``)."""

from __future__ import annotations

from tests.access_cases_jobs import _tidy
from tests.access_matrix import CITY, Case, CaseMaker, World
from tests.web_fixtures import ROLES

ADMIN = "city_admin"
ABSENT_IMPORT = "x" * 22
ABSENT_MODE = 999_999


def _city(status: int) -> dict[str, int]:
    return {role: status if role in CITY else 403 for role in ROLES}


def _admin(status: int) -> dict[str, int]:
    return {role: status if role == ADMIN else 403 for role in ROLES}


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/city"): _city(200),
    ("GET", "/city/mode"): _city(200),
    ("GET", "/city/imports"): _admin(200),
    ("GET", "/city/users"): _admin(200),
    ("GET", "/city/audit"): _admin(200),
    ("GET", "/city/audit/export.csv"): _admin(200),
}


def _assessment(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [("/city/assessment", {}, _city(303).get(role))]


def _declare(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/mode", {"data": {"reason": "", "scope": "all", "ends_at": ""}}, _admin(422).get(role))]


def _end(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"/city/mode/{ABSENT_MODE}/end", {}, _admin(404).get(role))]


def _add_user(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/users", {"data": {"login": "matrix-page-user", "role": "city_staff", "password": "short"}},
             _admin(422).get(role))]


def _user(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/users/city_staff", {}, _admin(200).get(role)), ("/city/users/nobody-here", {}, _admin(404).get(role))]


def _set_password(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/users/city_staff/password", {"data": {"password": "short", "password_again": "short"}},
             _admin(422).get(role))]


def _disable(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/users/nobody-here/disable", {}, _admin(422).get(role)),
            ("/city/users/city_admin/disable", {}, _admin(422).get(role))]  # not one's own account


def _upload(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/city/imports", {"data": {"kind": "residents"}}, _admin(422).get(role))]  # no file chosen


def _on_import(suffix: str) -> CaseMaker:
    def cases(world: World, role: str, emergency: bool) -> list[Case]:
        return [(f"/city/imports/{ABSENT_IMPORT}{suffix}", {}, _admin(404).get(role))]
    return cases


CASES: dict[tuple[str, str], CaseMaker] = {
    ("POST", "/city/assessment"): _assessment,
    ("POST", "/city/mode"): _declare,
    ("POST", "/city/mode/{mode_id}/end"): _end,
    ("POST", "/city/users"): _add_user,
    ("GET", "/city/users/{login}"): _user,
    ("POST", "/city/users/{login}/password"): _set_password,
    ("POST", "/city/users/{login}/disable"): _disable,
    ("POST", "/city/imports"): _upload,
    ("GET", "/city/imports/{import_id}"): _on_import(""),
    ("POST", "/city/imports/{import_id}/commit"): _on_import("/commit"),
    ("POST", "/city/imports/{import_id}/discard"): _on_import("/discard"),
}
