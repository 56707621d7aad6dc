"""Who sees what through the API: an authorisation matrix generated from the app's own route table
× every role (and no login) × a resident inside/outside the caller's view × consent yes/no ×
災害時モード off/on; the audit entries of reads; a resident named like a script.

The expectations come from the test's own reading of the rules (the tables, not disaster.access):
city roles see everyone; a leader the residents of their 校区 who consented (everyone of a 校区
under 災害時モード); a 福祉専門職 the residents naming them; a trainer and no login nobody.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from disaster.models import District, Resident
from disaster.usecases.disaster_mode import Emergency
from disaster.web import deps as web_deps
from tests import (
    access_cases_api,
    access_cases_jobs,
    access_cases_pages,
    access_cases_pages_city,
    access_cases_pages_leader,
    access_cases_pages_safety,
    access_cases_pages_trainer,
    access_cases_plans,
)
from tests.access_matrix import ANONYMOUS, CITY, MODE_ID, UNSAFE, Case, CaseMaker, World, may_plan, sees
from tests.conftest import Store
from tests.web_fixtures import (
    ROLES,
    Cast,
    Person,
    app,  # noqa: F401  (fixture)
    audit_after,
    chosen,  # noqa: F401  (fixture)
    client,
    clients,  # noqa: F401  (fixture)
    last_audit_id,
    login,
    signed_in,
    web_store,  # noqa: F401  (fixture)
)

# statuses of the routes that take no 名簿番号, per role (anonymous: 401 from the API, the login
# page from a page but the public ones); a route missing
# here is still checked: no server error, no personal data outside the caller's view. Each area of
# the API adds its own statuses and request cases in tests/access_cases_*.py.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/v1/auth/me"): dict.fromkeys(ROLES, 200),
    ("POST", "/api/v1/auth/logout"): dict.fromkeys(ROLES, 204),
    ("GET", "/api/v1/districts"): dict.fromkeys(ROLES, 200),
    ("GET", "/api/v1/stats"): {role: 200 if role in CITY else 403 for role in ROLES},
    ("GET", "/api/v1/audit"): {role: 200 if role == "city_admin" else 403 for role in ROLES},
    ("GET", "/api/v1/residents"): {role: 403 if role == "trainer" else 200 for role in ROLES},
}
AREAS = (access_cases_api, access_cases_jobs, access_cases_plans, access_cases_pages, access_cases_pages_leader,
         access_cases_pages_trainer, access_cases_pages_city, access_cases_pages_safety)
for _area in AREAS:
    EXPECTED |= _area.EXPECTED
CASES: dict[tuple[str, str], CaseMaker] = {key: maker for area in AREAS for key, maker in area.CASES.items()}


@pytest.fixture(scope="module")
def world(app: FastAPI, chosen: Cast, web_store: Store, clients: dict[str, TestClient]) -> World:  # noqa: F811
    return World(app, chosen, web_store, clients | {ANONYMOUS: client(app)})


@pytest.fixture(params=[False, True], ids=["normal", "disaster_mode"])
def emergency(request: pytest.FixtureRequest, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    if request.param:
        declared = Emergency(frozenset({world.chosen.home}), False, [SimpleNamespace(id=MODE_ID)])
        monkeypatch.setattr(web_deps, "active", lambda session, city_code, at: declared)
    yield request.param


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:  # noqa: F811
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found += [(method, str(context.path), route) for method in sorted(context.methods or ())]
    return found


def _text(answer: httpx.Response) -> str:
    """The body as text, whitespace removed (a PDF's text through pdftotext)."""
    if answer.headers.get("content-type", "").startswith("application/pdf"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            Path(handle.name).write_bytes(answer.content)
            text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, text=True, check=True).stdout
    else:
        text = answer.text
    return "".join(text.split())


def _leaks(answer: httpx.Response, hidden: list[Person]) -> list[str]:
    body = _text(answer)
    return [f"{person.resident_no} {label}" for person in hidden
            for label, value in (("name", person.name), ("phone", person.phone), ("address", person.address))
            if value and "".join(value.split()) in body]


def _call(world: World, role: str, method: str, path: str, request: dict[str, Any]) -> httpx.Response:
    c = world.clients[role]
    if method in UNSAFE and role != ANONYMOUS:  # e.g. logout: a session of its own
        c = signed_in(world.app, role)
    return c.request(method, path, follow_redirects=False, **request)


@pytest.mark.parametrize("role", [*ROLES, ANONYMOUS])
def test_authorisation_matrix(world: World, role: str, emergency: bool) -> None:
    chosen = world.chosen  # noqa: F811
    hidden = [p for p in chosen.four if not sees(role, p, chosen, emergency)]
    visible_numbers = {p.resident_no for p in chosen.everyone if sees(role, p, chosen, emergency)}
    problems: list[str] = []
    routes = api_routes(world.app)
    assert routes, "no routes found"
    for method, path, route in routes:
        if method == "POST" and path in ("/api/v1/auth/login", "/login"):
            continue  # the way in (tests/test_web.py, tests/test_pages.py)
        cases: list[Case] = []
        if (method, path) in CASES:
            cases = CASES[(method, path)](world, role, emergency)
        elif "{resident_no}" in path:
            allowed = may_plan if path.endswith(".pdf") else sees
            for person in chosen.four:
                status = 200 if allowed(role, person, chosen, emergency) else 403
                cases.append((path.replace("{resident_no}", person.resident_no), {}, status))
        else:
            assert "{" not in path, f"{path}: the matrix does not know this path parameter; add its cases to CASES"
            status = EXPECTED.get((method, path), {}).get(role)
            cases.append((path, {}, status))
            if any(param.name == "district" for param in route.dependant.query_params):
                for district in (chosen.home, chosen.away):
                    in_scope = role in CITY or role == "care_professional" or (role == "leader" and district == chosen.home)
                    cases.append((path, {"params": {"district": district}}, status if in_scope or status != 200 else 403))
        for url, request, expected in cases:
            if role == ANONYMOUS and path.startswith("/api/"):
                expected = 401
            elif role == ANONYMOUS and path not in access_cases_pages.PUBLIC:
                expected = 303  # a page leads to the login page
            answer = _call(world, role, method, url, request)
            where = f"{method} {url} {request}"
            if expected is None:
                if answer.status_code not in (200, 204, 403):
                    problems.append(f"{where}: {answer.status_code}")
            elif answer.status_code != expected:
                problems.append(f"{where}: expected {expected}, got {answer.status_code} {answer.text[:200]}")
            if answer.status_code >= 500:
                problems.append(f"{where}: server error")
            problems += [f"{where}: leaks {leak}" for leak in _leaks(answer, hidden)]
            if answer.headers.get("content-type", "").startswith("application/json") and answer.content:
                body = answer.json()
                items = body.get("items", []) if isinstance(body, dict) else []
                outside = [i["resident_no"] for i in items if "resident_no" in i and i["resident_no"] not in visible_numbers]
                if outside:
                    problems.append(f"{where}: lists residents outside the view: {outside[:5]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["city_staff", "leader", "care_professional"])
def test_the_list_holds_exactly_the_residents_in_view(world: World, role: str, emergency: bool) -> None:
    chosen = world.chosen  # noqa: F811
    c = world.clients[role]
    expected = sorted(p.resident_no for p in chosen.everyone if sees(role, p, chosen, emergency))
    listed: list[str] = []
    page = 1
    while True:
        body = c.get("/api/v1/residents", params={"page": page, "per_page": 200}).json()
        listed += [item["resident_no"] for item in body["items"]]
        assert body["total"] == len(expected)
        if page >= body["pages"]:
            break
        page += 1
    assert listed == expected


def test_reads_and_refusals_are_audited_with_the_address(world: World, emergency: bool) -> None:
    chosen, store = world.chosen, world.store  # noqa: F811
    leader = client(world.app, "192.0.2.10")
    login(leader, "leader")
    start = last_audit_id(store)
    assert leader.get(f"/api/v1/residents/{chosen.inside_yes.resident_no}").status_code == 200
    assert leader.get(f"/api/v1/residents/{chosen.outside_yes.resident_no}").status_code == 403
    listing = leader.get("/api/v1/residents", params={"per_page": 5}).json()
    assert leader.get(f"/api/v1/residents/{chosen.inside_yes.resident_no}/plan.pdf").status_code == 200
    mode = {"disaster_mode": [MODE_ID]} if emergency else {}
    got = [(e.actor, e.action, e.resident_ids, e.allowed, e.origin, e.details) for e in audit_after(store, start)]
    assert [g[:5] for g in got] == [
        ("leader", "resident.read", [chosen.inside_yes.resident_no], True, "192.0.2.10"),
        ("leader", "resident.read", [chosen.outside_yes.resident_no], False, "192.0.2.10"),
        ("leader", "residents.list", [i["resident_no"] for i in listing["items"]], True, "192.0.2.10"),
        ("leader", "plan.pdf", [chosen.inside_yes.resident_no], True, "192.0.2.10"),
    ]
    assert all(mode.items() <= g[5].items() for g in got)  # reads under 災害時モード name it
    assert got[2][5]["total"] == listing["total"] and got[3][5]["draft"] is False


def test_the_audit_log_is_for_the_city_administrator(world: World) -> None:
    start = last_audit_id(world.store)
    body = world.clients["city_admin"].get("/api/v1/audit", params={"per_page": 3}).json()
    assert len(body["items"]) == 3 and body["items"][0]["id"] == start  # newest first
    assert world.clients["city_staff"].get("/api/v1/audit").status_code == 403
    entries = audit_after(world.store, start)
    assert [(e.actor, e.action, e.allowed) for e in entries] == [
        ("city_admin", "audit.read", True), ("city_staff", "audit.read", False)]


SCRIPT = "<script>alert(1)</script>"


def test_a_resident_named_like_a_script_stays_a_json_string(world: World) -> None:
    chosen, store = world.chosen, world.store  # noqa: F811
    target = next(p for p in chosen.everyone if p.district == chosen.home and p.consent_share and p not in chosen.four)
    with store.sessions() as session, session.begin():
        session.execute(update(Resident).where(Resident.resident_no == target.resident_no).values(name=SCRIPT))
    try:
        c = world.clients["leader"]
        answers = [c.get("/api/v1/residents", params={"district": chosen.home, "per_page": 200}),
                   c.get(f"/api/v1/residents/{target.resident_no}"),
                   c.get(f"/api/v1/residents/{SCRIPT}"), c.get("/api/v1/residents", params={"district": SCRIPT})]
        listed = {i["resident_no"]: i["name"] for i in answers[0].json()["items"]}
        assert listed[target.resident_no] == SCRIPT and answers[1].json()["name"] == SCRIPT
        assert f'"name":"{SCRIPT}"' in answers[0].text  # a JSON string, served as JSON only
        for answer in answers:
            assert answer.headers["content-type"] == "application/json"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert "script-src" not in answer.headers["content-security-policy"]
        assert answers[2].status_code == 404 and answers[3].status_code in (403, 404)
    finally:
        with store.sessions() as session, session.begin():
            session.execute(update(Resident).where(Resident.resident_no == target.resident_no).values(name=target.name))


def test_another_city_s_residents_are_out_of_view(world: World) -> None:
    """The 名簿番号 of the city's resident asked by an account of another city: not found there."""
    with world.store.sessions() as session:
        assert session.scalar(select(District.city_code).limit(1)) == "402036"
    assert world.clients["city_admin"].get("/api/v1/residents/D999999").status_code == 404
