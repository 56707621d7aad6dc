"""Security properties of the service that tests/test_web.py and tests/test_web_access.py leave out
(issue 12 §8): CSRF on every state-changing route of the route table (a new route is covered
without editing this file), the security headers on every kind of answer the API gives (JSON, PDF,
HTML …) with a CSP that allows no inline script, a session that ends for good at logout and at a
new login, cookie details, and brute force spread over several addresses or waiting out a lockout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from disaster.settings import Settings
from disaster.web import create_app
from disaster.web.deps import COOKIE, CSRF_HEADER, now
from tests.access_matrix import UNSAFE
from tests.conftest import Store
from tests.test_web_access import api_routes
from tests.web_fixtures import (
    PASSWORD,
    Cast,
    app,  # noqa: F401  (fixture)
    audit_after,
    chosen,  # noqa: F401  (fixture)
    client,
    last_audit_id,
    login,
    settings_for,
    web_store,  # noqa: F401  (fixture)
)

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def _path(path: str, chosen: Cast) -> str:  # noqa: F811
    """A route's path with its parameters filled: a resident in view for 名簿番号, else a plain value."""
    path = path.replace("{resident_no}", chosen.inside_yes.resident_no).replace("{district}", chosen.home)
    return re.sub(r"\{[^}]+\}", "1", path)


# --- CSRF: every state-changing route ---


def test_every_state_changing_route_needs_the_session_s_csrf_token(
        app: FastAPI, chosen: Cast, web_store: Store) -> None:  # noqa: F811
    """Without the header, with a wrong one, with another session's or with the token sent another
    way (query, form field, cookie), every POST/PUT/PATCH/DELETE route but login is refused with
    403 before it does anything: no change; the audit log records the refusal and nothing else."""
    victim, other = client(app), client(app)
    token = login(victim, "city_admin")
    foreign = login(other, "city_admin")
    unsafe = [(method, path) for method, path, _ in api_routes(app)
              if method in UNSAFE and path != LOGIN and path.startswith("/api/")]
    assert (("POST", LOGOUT)) in unsafe
    problems = []
    for method, path in unsafe:
        url = _path(path, chosen)
        attempts = {
            "no header": {},
            "empty header": {"headers": {CSRF_HEADER: ""}},
            "wrong token": {"headers": {CSRF_HEADER: token[:-2] + "xx"}},
            "another session's token": {"headers": {CSRF_HEADER: foreign}},
            "token in the query": {"params": {"csrf_token": token, CSRF_HEADER: token}},
            "token in a form field": {"data": {"csrf_token": token, CSRF_HEADER: token}},
            "token as a cookie": {"cookies": {CSRF_HEADER: token, "csrf_token": token}},
        }
        for label, request in attempts.items():
            before = last_audit_id(web_store)
            if "cookies" in request:
                victim.cookies.update(request.pop("cookies"))
            answer = victim.request(method, url, **request)
            for name in (CSRF_HEADER, "csrf_token"):
                victim.cookies.delete(name)
            json_body = answer.content and answer.headers.get("content-type", "").startswith("application/json")
            body = answer.json() if json_body else {}
            if answer.status_code != 403 or body.get("error", {}).get("code") != "forbidden" or \
                    CSRF_HEADER not in body["error"]["message"]:
                problems.append(f"{method} {url} ({label}): {answer.status_code} {answer.text[:160]}")
            recorded = [(e.action, e.allowed) for e in audit_after(web_store, before)]
            if recorded != [("request.refused", False)]:
                problems.append(f"{method} {url} ({label}): the audit log holds {recorded}, not the one refusal")
    assert not problems, "\n".join(problems)
    assert victim.get(ME).status_code == 200  # the refused logout did not end the session


def test_every_page_form_needs_the_session_s_csrf_token(app: FastAPI, chosen: Cast,  # noqa: F811
                                                        web_store: Store) -> None:  # noqa: F811
    """The pages' forms carry the token in the field ``csrf_token``: without it, with a wrong one,
    with another session's, or with it in the query or a cookie, every state-changing page route
    (but the login form, which has no session yet) answers 403 before it does anything, and the
    audit log records the one refusal."""
    victim, other = client(app), client(app)
    token = login(victim, "city_admin")
    foreign = login(other, "city_admin")
    unsafe = [(method, path) for method, path, _ in api_routes(app)
              if method in UNSAFE and not path.startswith("/api/") and path != "/login"]
    assert ("POST", "/logout") in unsafe
    problems = []
    for method, path in unsafe:
        url = _path(path, chosen)
        attempts = {
            "no field": {"data": {}},
            "empty field": {"data": {"csrf_token": ""}},
            "wrong token": {"data": {"csrf_token": token[:-2] + "xx"}},
            "another session's token": {"data": {"csrf_token": foreign}},
            "token in the query": {"params": {"csrf_token": token}, "data": {}},
            "token as a cookie": {"cookies": {"csrf_token": token}, "data": {}},
        }
        for label, request in attempts.items():
            before = last_audit_id(web_store)
            if "cookies" in request:
                victim.cookies.update(request.pop("cookies"))
            answer = victim.request(method, url, follow_redirects=False, **request)
            victim.cookies.delete("csrf_token")
            if answer.status_code != 403 or "text/html" not in answer.headers.get("content-type", ""):
                problems.append(f"{method} {url} ({label}): {answer.status_code} {answer.text[:160]}")
            recorded = [(e.action, e.allowed) for e in audit_after(web_store, before)]
            if recorded != [("request.refused", False)]:
                problems.append(f"{method} {url} ({label}): the audit log holds {recorded}, not the one refusal")
    assert not problems, "\n".join(problems)
    assert victim.get(ME).status_code == 200  # the refused logout did not end the session


def test_the_csrf_token_belongs_to_one_session(app: FastAPI) -> None:  # noqa: F811
    """A new login gives a new token; the previous session's token no longer works."""
    c = client(app)
    first = login(c, "city_staff")
    second = login(c, "city_staff")
    assert first != second and len(second) >= 32
    assert c.post(LOGOUT, headers={CSRF_HEADER: first}).status_code == 403
    assert c.post(LOGOUT, headers={CSRF_HEADER: second}).status_code == 204


# --- headers on every kind of answer ---

NEEDED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store",
          "x-frame-options": "DENY"}


def _csp_problems(policy: str) -> list[str]:
    directives = {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}
    problems = []
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {directives.get('frame-ancestors')}")
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        problems.append("no script-src or default-src: any script may run")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"scripts allowed from {scripts}")
    if "default-src" not in directives:
        problems.append("no default-src")
    return problems


def test_every_get_route_answers_with_the_security_headers(app: FastAPI, chosen: Cast) -> None:  # noqa: F811
    """Every GET route of the route table, as the city administrator (who may see everything) and
    without a login: whatever the content type (JSON, PDF, HTML), the answer may not be framed,
    sniffed, cached or referred, and its CSP allows no inline script."""
    admin, nobody = client(app), client(app)
    login(admin, "city_admin")
    problems = []
    kinds = set()
    for method, path, _ in api_routes(app):
        if method != "GET":
            continue
        url = _path(path, chosen)
        for who, c in (("city_admin", admin), ("anonymous", nobody)):
            answer = c.get(url)
            kinds.add(answer.headers.get("content-type", "").split(";")[0])
            where = f"GET {url} as {who} ({answer.status_code} {answer.headers.get('content-type')})"
            problems += [f"{where}: {name} is {answer.headers.get(name)!r}" for name, value in NEEDED.items()
                         if answer.headers.get(name) != value]
            problems += [f"{where}: CSP {problem}" for problem in
                         _csp_problems(answer.headers.get("content-security-policy", ""))]
            if "server" in answer.headers:
                problems.append(f"{where}: names the server {answer.headers['server']!r}")
    assert {"application/json", "application/pdf"} <= kinds  # a resident's plan is served too
    assert not problems, "\n".join(problems)


def test_a_personal_pdf_is_not_stored_and_is_downloaded(app: FastAPI, chosen: Cast) -> None:  # noqa: F811
    c = client(app)
    login(c, "leader")
    answer = c.get(f"/api/v1/residents/{chosen.inside_yes.resident_no}/plan.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"].startswith("attachment;")  # never rendered in the app's origin


# --- sessions ---


def test_a_logged_out_session_stays_ended(app: FastAPI) -> None:  # noqa: F811
    """The browser forgets the cookie at logout, and the server ends the session: the same token
    replayed afterwards (e.g. copied from the machine) is refused."""
    c = client(app)
    csrf = login(c, "city_staff")
    token = c.cookies[COOKIE]
    answer = c.post(LOGOUT, headers={CSRF_HEADER: csrf})
    assert answer.status_code == 204
    removal = answer.headers["set-cookie"].lower()
    assert removal.startswith(f"{COOKIE}=") and ("max-age=0" in removal or "expires=thu, 01 jan 1970" in removal)
    assert "httponly" in removal and "samesite=lax" in removal
    replay = {"Cookie": f"{COOKIE}={token}"}
    assert client(app).get(ME, headers=replay).status_code == 401
    assert client(app).post(LOGOUT, headers=replay | {CSRF_HEADER: csrf}).status_code == 401


def test_a_login_ends_the_session_the_browser_had(app: FastAPI) -> None:  # noqa: F811
    """Session fixation with a real session: an attacker logs in, plants their cookie in the
    victim's browser; the victim's login gets a new session and the planted one ends."""
    attacker = client(app)
    login(attacker, "trainer")
    planted = attacker.cookies[COOKIE]
    victim = client(app)
    answer = victim.post(LOGIN, json={"login": "city_admin", "password": PASSWORD},
                         headers={"Cookie": f"{COOKIE}={planted}"})
    assert answer.status_code == 200
    assert victim.cookies[COOKIE] != planted
    assert victim.get(ME).json()["login"] == "city_admin"
    assert attacker.get(ME).status_code == 401  # the planted session can no longer be used by anyone


def test_the_session_cookie_is_a_host_only_session_cookie_with_a_long_random_value(app: FastAPI) -> None:  # noqa: F811
    answer = client(app).post(LOGIN, json={"login": "leader", "password": PASSWORD})
    cookie = answer.headers["set-cookie"]
    name, value = cookie.split(";")[0].split("=", 1)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert name == COOKIE and len(value) >= 43  # 32 random bytes
    assert not attributes & {"domain", "max-age", "expires"}  # this host only, gone with the browser
    tokens = {client(app).post(LOGIN, json={"login": "leader", "password": PASSWORD}).cookies[COOKIE] for _ in range(3)}
    assert len(tokens) == 3


@pytest.mark.parametrize("token", ["", "x" * 10_000, "é", "%00", '"quoted"', "a" * 43])
def test_a_forged_or_malformed_session_cookie_is_not_logged_in(app: FastAPI, token: str) -> None:  # noqa: F811
    """Cookies and headers are not in the OpenAPI schema, so the fuzz tests do not make them."""
    answer = client(app).get(ME, headers={"Cookie": f"{COOKIE}={token}".encode()})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
    c = client(app)
    login(c, "city_admin")
    refused = c.post(LOGOUT, headers={CSRF_HEADER: token.encode()})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_an_error_never_repeats_the_password(app: FastAPI) -> None:  # noqa: F811
    secret = "my-secret-password-1234"
    answers = [client(app).post(LOGIN, json={"login": ["x"], "password": secret}),
               client(app).post(LOGIN, json={"login": "leader", "password": [secret]}),
               client(app).post(LOGIN, json={"login": "leader", "password": secret + "x" * 1000})]
    for answer in answers:
        assert answer.status_code == 422 and secret not in answer.text


# --- brute force ---


@pytest.fixture
def clock(app: FastAPI) -> Iterator[list[dt.datetime]]:  # noqa: F811
    at = [dt.datetime.now(dt.UTC)]
    app.dependency_overrides[now] = lambda: at[0]
    yield at
    app.dependency_overrides.pop(now)


def _try(app: FastAPI, address: str, name: str, password: str) -> httpx.Response:  # noqa: F811
    return client(app, address).post(LOGIN, json={"login": name, "password": password})


def test_guessing_from_many_addresses_still_locks_the_account(app: FastAPI, clock: list[dt.datetime]) -> None:  # noqa: F811
    """The account's lockout counts failures from anywhere (the per-address throttle alone would
    let a botnet guess on)."""
    limit = Settings().login_max_failures
    for n in range(limit):
        assert _try(app, f"198.51.100.{n + 1}", "care_professional", f"guess number {n}").status_code == 401
    locked = _try(app, "198.51.100.200", "care_professional", PASSWORD)
    assert locked.status_code == 401 and COOKIE not in locked.headers.get("set-cookie", "")


def test_a_lockout_ends_after_its_time_and_a_success_resets_the_count(app: FastAPI, clock: list[dt.datetime]) -> None:  # noqa: F811
    settings = Settings()
    for n in range(settings.login_max_failures):
        _try(app, "203.0.113.1", "city_staff", f"wrong {n}")
    assert _try(app, "203.0.113.2", "city_staff", PASSWORD).status_code == 401  # locked
    clock[0] += dt.timedelta(minutes=settings.login_lockout_minutes - 1)
    assert _try(app, "203.0.113.2", "city_staff", PASSWORD).status_code == 401  # still locked
    clock[0] += dt.timedelta(minutes=2)
    assert _try(app, "203.0.113.2", "city_staff", PASSWORD).status_code == 200  # over
    for n in range(settings.login_max_failures - 1):  # a success started the count again
        _try(app, "203.0.113.3", "city_staff", f"again {n}")
    assert _try(app, "203.0.113.3", "city_staff", PASSWORD).status_code == 200


def test_the_address_throttle_ends_after_its_window(web_store: Store, chosen: Cast) -> None:  # noqa: F811
    throttled = create_app(settings_for(web_store, login_throttle_failures=2, login_throttle_minutes=10))
    at = [dt.datetime.now(dt.UTC)]
    throttled.dependency_overrides[now] = lambda: at[0]
    for name in ("nobody-1", "nobody-2"):
        assert _try(throttled, "198.18.0.1", name, "guess guess").status_code == 401
    refused = _try(throttled, "198.18.0.1", "leader", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 600
    at[0] += dt.timedelta(minutes=11)
    assert _try(throttled, "198.18.0.1", "leader", PASSWORD).status_code == 200
