"""Authorisation-matrix cases of the pages' foundation (see tests/access_matrix.py): the login
page, logout, each role's home, the static files and a job's page. Without a session a page
leads to the login page (303), except the pages in ``PUBLIC``. Each area's pages add theirs in
``tests/access_cases_pages_<area>.py``."""

from __future__ import annotations

from tests import access_cases_pages_safety
from tests.access_cases_jobs import _cancel, _job_read
from tests.access_matrix import Case, CaseMaker, World
from tests.web_fixtures import ROLES

PUBLIC = frozenset({"/login", "/public", "/static/{name}"}) | access_cases_pages_safety.PUBLIC  # answered without a session

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): dict.fromkeys(ROLES, 303),
    ("GET", "/login"): dict.fromkeys(ROLES, 200),
    ("POST", "/logout"): dict.fromkeys(ROLES, 303),
}


def _static(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/static/pages.css", {}, 200), ("/static/pages.js", {}, 200), ("/static/nothing.css", {}, 404),
            ("/static/..%2Fpages%2Fbase.html.j2", {}, 404)]


def _job_page(world: World, role: str, emergency: bool) -> list[Case]:
    """The job's page answers as the API's job does (tests/access_cases_jobs.py)."""
    return [(url.removeprefix("/api/v1"), request, status) for url, request, status in _job_read(world, role, emergency)]


def _job_cancel(world: World, role: str, emergency: bool) -> list[Case]:
    """Cancel from the page: as the API's cancel, but a done cancel leads back to the page (303)."""
    return [(url.removeprefix("/api/v1"), request, 303 if status == 200 else status)
            for url, request, status in _cancel(world, role, emergency)]


CASES: dict[tuple[str, str], CaseMaker] = {
    ("GET", "/static/{name}"): _static,
    ("GET", "/jobs/{job_id}"): _job_page,
    ("POST", "/jobs/{job_id}/cancel"): _job_cancel,
}
