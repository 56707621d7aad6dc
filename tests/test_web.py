"""The web service's core: login, sessions, CSRF, throttling, errors, headers, `disaster serve`."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster import errors
from disaster.accounts import AuthFailed
from disaster.models import WebSession
from disaster.settings import Settings
from disaster.web import create_app
from disaster.web.deps import COOKIE, now
from tests.conftest import Store
from tests.helpers import descendants, processes_gone
from tests.web_fixtures import (
    PASSWORD,
    SECRET,
    Cast,
    app,  # noqa: F401  (fixture)
    audit_after,
    chosen,  # noqa: F401  (fixture)
    client,
    last_audit,
    last_audit_id,
    login,
    settings_for,
    web_store,  # noqa: F401  (fixture)
)

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:  # noqa: F811
    ticking = Clock()
    app.dependency_overrides[now] = ticking
    yield ticking
    app.dependency_overrides.pop(now)


def test_login_me_logout(app: FastAPI) -> None:  # noqa: F811
    c = client(app)
    assert c.get(ME).status_code == 401
    csrf = login(c, "leader")
    me = c.get(ME).json()
    assert (me["login"], me["role"], me["csrf_token"]) == ("leader", "leader", csrf)
    assert me["districts"] and me["view"] == "校区リーダー用（同意者のみ）"
    assert c.post(LOGOUT, headers={"X-CSRF-Token": csrf}).status_code == 204
    answer = c.get(ME)
    assert answer.status_code == 401
    assert answer.json() == {"error": {"code": "unauthorized", "message": "ログインしてください。"}}


def test_a_wrong_password_and_an_unknown_login_look_the_same(app: FastAPI) -> None:  # noqa: F811
    c = client(app, "10.0.0.2")
    wrong = c.post(LOGIN, json={"login": "city_staff", "password": "not the password"})
    unknown = c.post(LOGIN, json={"login": "nobody-at-all", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": {"code": "unauthorized", "message": AuthFailed.MESSAGE}}
    assert COOKIE not in wrong.headers.get("set-cookie", "")


def test_repeated_failures_lock_the_account(app: FastAPI, web_store: Store) -> None:  # noqa: F811
    c = client(app, "10.0.0.3")
    limit = Settings().login_max_failures
    for _ in range(limit):
        assert c.post(LOGIN, json={"login": "trainer", "password": "wrong password"}).status_code == 401
    locked = c.post(LOGIN, json={"login": "trainer", "password": PASSWORD})
    assert locked.status_code == 401 and locked.json()["error"]["message"] == AuthFailed.MESSAGE
    last = last_audit(web_store)
    assert (last.actor, last.allowed, last.origin, last.details) == ("trainer", False, "10.0.0.3", {"reason": "locked"})


def test_failed_logins_from_one_address_are_throttled(web_store: Store) -> None:  # noqa: F811
    service = create_app(settings_for(web_store, login_throttle_failures=3))
    attacker, other = client(service, "10.0.0.4"), client(service, "10.0.0.5")
    for name in ("x1", "x2", "x3"):
        assert attacker.post(LOGIN, json={"login": name, "password": "guess guess"}).status_code == 401
    refused = attacker.post(LOGIN, json={"login": "city_admin", "password": PASSWORD})  # even the right password
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) > 0
    assert "しばらくログインできません" in refused.json()["error"]["message"]
    login(other, "city_admin")  # another address is not affected


def test_session_cookie_flags(web_store: Store) -> None:  # noqa: F811
    plain = client(create_app(settings_for(web_store)))
    cookie = plain.post(LOGIN, json={"login": "city_staff", "password": PASSWORD}).headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in flags and flags["samesite"].strip().lower() == "samesite=lax" and "secure" not in flags
    assert flags["path"].strip() == "Path=/"
    secure_app = create_app(settings_for(web_store, https_only=True))
    answer = client(secure_app).post(LOGIN, json={"login": "city_staff", "password": PASSWORD})
    assert "secure" in answer.headers["set-cookie"].lower().split("; ")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_starts_a_new_session(app: FastAPI, web_store: Store) -> None:  # noqa: F811
    c = client(app)
    planted = "token-chosen-by-an-attacker"
    answer = c.post(LOGIN, json={"login": "city_staff", "password": PASSWORD}, headers={"Cookie": f"{COOKIE}={planted}"})
    first = c.cookies[COOKIE]
    assert answer.status_code == 200 and first not in ("", planted)
    login(c, "city_staff")  # again in the same browser: a new id, the old one ends
    second = c.cookies[COOKIE]
    assert second != first
    assert client(app).get(ME, headers={"Cookie": f"{COOKIE}={first}"}).status_code == 401
    assert client(app).get(ME, headers={"Cookie": f"{COOKIE}={planted}"}).status_code == 401
    assert c.get(ME).status_code == 200
    with web_store.sessions() as session:  # only keyed hashes are stored, never the token
        ids = set(session.scalars(select(WebSession.id)))
    assert first not in ids and second not in ids and all(len(i) == 64 for i in ids)


def test_idle_timeout(app: FastAPI, clock: Clock) -> None:  # noqa: F811
    c = client(app)
    login(c, "city_staff")
    idle = Settings().session_idle_minutes
    clock.at += dt.timedelta(minutes=idle - 1)
    assert c.get(ME).status_code == 200  # a request keeps the session alive
    clock.at += dt.timedelta(minutes=idle - 1)
    assert c.get(ME).status_code == 200
    clock.at += dt.timedelta(minutes=idle + 1)
    expired = c.get(ME)
    assert expired.status_code == 401 and "有効期限" in expired.json()["error"]["message"]
    clock.at -= dt.timedelta(minutes=idle + 1)  # an ended session stays ended
    assert c.get(ME).status_code == 401


def test_a_disabled_account_loses_its_session(app: FastAPI, web_store: Store) -> None:  # noqa: F811
    from disaster.access import Principal
    from disaster.usecases.users import add_user, disable_user
    from tests.conftest import KURUME

    add_user(web_store.sessions, Principal.cli(KURUME), "short-lived", "city_staff", PASSWORD)
    c = client(app)
    login(c, "short-lived")
    assert c.get(ME).status_code == 200
    disable_user(web_store.sessions, Principal.cli(KURUME), "short-lived")
    assert c.get(ME).status_code == 401


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_logout_needs_the_csrf_token(app: FastAPI, token: str | None) -> None:  # noqa: F811
    c = client(app)
    login(c, "city_admin")
    headers = {} if token is None else {"X-CSRF-Token": token}
    refused = c.post(LOGOUT, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert "X-CSRF-Token" in refused.json()["error"]["message"]
    assert c.get(ME).status_code == 200  # still logged in
    other = client(app)  # another session's token does not do either
    assert c.post(LOGOUT, headers={"X-CSRF-Token": login(other, "city_admin")}).status_code == 403


SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def test_security_headers_on_every_kind_of_response(app: FastAPI) -> None:  # noqa: F811
    c = client(app)
    answers = [c.get(ME), c.get("/api/v1/no-such-page"), c.post(LOGIN, json={"login": "x"}), c.delete(ME),
               c.get("/api/v1/openapi.json")]
    login(c, "city_admin")
    answers += [c.get(ME), c.get("/api/v1/residents"), c.get("/api/v1/residents/no-such-number")]
    for answer in answers:
        assert {k: answer.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS, answer.request.url
        assert answer.headers["content-type"].startswith("application/json")
        assert "Strict-Transport-Security" not in answer.headers  # only with https_only


def test_errors_share_one_json_shape_in_japanese(app: FastAPI) -> None:  # noqa: F811
    c = client(app)
    login(c, "city_admin")
    cases = {
        c.get("/api/v1/no-such-page"): (404, "not_found"),
        c.get("/api/v1/residents/no-such-number"): (404, "not_found"),
        c.get("/api/v1/residents", params={"district": "存在しない校区"}): (404, "not_found"),
        c.get("/api/v1/residents", params={"page": 0}): (422, "rejected"),
        c.delete(ME): (405, "rejected"),
        c.post(LOGIN, json={"login": "city_admin"}): (422, "rejected"),
    }
    for answer, (status, code) in cases.items():
        body = answer.json()
        assert answer.status_code == status and set(body) == {"error"} and body["error"]["code"] == code, answer.text
        message = body["error"]["message"]
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in message), message
        assert "Traceback" not in answer.text


def test_disaster_errors_map_to_status_codes_and_a_bug_shows_no_traceback(web_store: Store) -> None:  # noqa: F811
    service = create_app(settings_for(web_store))
    raised = {"not_found": errors.NotFound("見つかりません。"), "not_ready": errors.NotReady("準備ができていません。"),
              "rejected": errors.Rejected("入力が違います。"), "forbidden": errors.Forbidden("権限がありません。"),
              "conflict": errors.Conflict("ほかの人が先に変更しました。"), "bug": ValueError("secret internals")}
    def failing(exc: Exception) -> Callable[[], None]:
        def fail() -> None:
            raise exc
        return fail

    for name, exc in raised.items():
        service.add_api_route(f"/api/v1/boom/{name}", failing(exc))
        service.add_api_route(f"/boom/{name}", failing(exc))  # a page
    c = TestClient(service, raise_server_exceptions=False)
    expected = {"not_found": 404, "not_ready": 409, "rejected": 422, "forbidden": 403, "conflict": 409}
    for name, status in expected.items():
        answer = c.get(f"/api/v1/boom/{name}")
        assert (answer.status_code, answer.json()) == (status, {"error": {"code": name, "message": str(raised[name])}})
        page = c.get(f"/boom/{name}")
        assert page.status_code == status and "text/html" in page.headers["content-type"]
        assert str(raised[name]) in page.text
    for path in ("/api/v1/boom/bug", "/boom/bug"):
        bug = c.get(path)
        assert bug.status_code == 500 and "サーバーで問題が起きました" in bug.text
        assert "secret internals" not in bug.text and "Traceback" not in bug.text and "ValueError" not in bug.text
    assert c.get("/api/v1/boom/bug").json()["error"]["code"] == "internal"


def test_openapi_lists_the_api(app: FastAPI) -> None:  # noqa: F811
    schema = client(app).get("/api/v1/openapi.json").json()
    assert {"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/me", "/api/v1/residents",
            "/api/v1/residents/{resident_no}", "/api/v1/residents/{resident_no}/plan.pdf", "/api/v1/districts",
            "/api/v1/stats", "/api/v1/audit"} <= set(schema["paths"])
    listing = schema["paths"]["/api/v1/residents"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"$ref": "#/components/schemas/ResidentList"}


def test_the_default_secret_is_refused_outside_the_demo(store: Store, web_store: Store) -> None:  # noqa: F811
    with pytest.raises(errors.NotReady, match="DISASTER_SECRET_KEY"):
        create_app(Settings(db=store.url))
    create_app(Settings(db=web_store.url))  # the demo store may use it
    create_app(Settings(db=store.url, secret_key=SECRET))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _disaster() -> str:
    return str(Path(sys.executable).parent / "disaster")


def test_disaster_serve_refuses_the_default_secret_outside_the_demo(store: Store) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISASTER_SECRET_KEY"} | {"DISASTER_DB": store.url}
    result = subprocess.run([_disaster(), "serve", "--port", str(_free_port())], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "DISASTER_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_disaster_serve_answers_over_http(chosen: Cast, web_store: Store, workers: int) -> None:  # noqa: F811
    """The real server, with one process and with several: logins, reads, concurrent audited reads
    that all succeed (every read appends to the one audit chain), and a plan PDF, rendered in
    processes of the server's own that end with it. ``chosen`` made the accounts."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DISASTER_SECRET_KEY"}  # the demo store: default secret allowed
    process = subprocess.Popen([_disaster(), "--db", web_store.url, "serve", "--port", str(port), "--workers", str(workers)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 180  # two workers and their PDF processes, on a busy 2-core machine
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        with httpx.Client(base_url=base) as http:
            answer = http.post("/auth/login", json={"login": "leader", "password": PASSWORD})
            assert answer.status_code == 200 and "httponly" in answer.headers["set-cookie"].lower()
            assert http.get("/auth/me").json()["login"] == "leader"
            listing = http.get("/residents").json()
            assert listing["total"] > 0 and {item["district"] for item in listing["items"]} == {chosen.home}
            assert "server" not in answer.headers
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda _: http.get("/residents", params={"per_page": 5}).status_code, range(40)))
            assert statuses == [200] * 40
            plan = http.get(f"/residents/{listing['items'][0]['resident_no']}/plan.pdf", timeout=60)
            assert plan.status_code == 200 and plan.content.startswith(b"%PDF")
        family = descendants(process.pid)
        assert len(family) > workers, "plans render in processes of their own"
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    processes_gone(family)


def test_a_declared_disaster_mode_opens_the_leaders_view_until_it_ends(
        app: FastAPI, chosen: Cast, web_store: Store) -> None:  # noqa: F811
    """No stand-in: the city administrator declares 災害時モード for the leader's 校区 with the real
    use-case; over HTTP the leader then sees a resident who did not consent, and no longer once
    it has ended. The reads under the mode are audited with its number."""
    from disaster.access import Principal
    from disaster.usecases.disaster_mode import declare, end

    c = client(app)
    login(c, "leader")
    detail = f"/api/v1/residents/{chosen.inside_no.resident_no}"
    assert c.get(detail).status_code in (403, 404)
    admin = Principal.cli(web_store.city_code)
    mode = declare(web_store.sessions, admin, "川の氾濫のおそれ（試験）", [chosen.home],
                   dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    try:
        shown = c.get(detail)
        assert shown.status_code == 200 and shown.json()["name"] == chosen.inside_no.name
        assert c.get(f"/api/v1/residents/{chosen.outside_no.resident_no}").status_code in (403, 404)  # another 校区
        entry = last_audit(web_store)
        assert entry.details and mode.id in entry.details.get("disaster_mode", [])
    finally:
        end(web_store.sessions, admin, mode.id)
    assert c.get(detail).status_code in (403, 404)


def test_an_unreadable_body_is_rejected_input_in_japanese(app: FastAPI) -> None:  # noqa: F811
    """A body that is not UTF-8 or not JSON is bad input (422 in the one error shape), not a bug and
    not an undocumented 400; the message does not pass a character position off as a field."""
    c = client(app)
    for body in (b"\x86\x04\x87\xed", b'{"login": "lea'):
        answer = c.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "rejected"
        assert "読み取れませんでした" in answer.json()["error"]["message"]


def test_the_service_s_own_settings_govern_the_lockout(web_store: Store) -> None:  # noqa: F811
    """The lockout follows the settings the app was made with (not only the environment's)."""
    from disaster.access import Principal
    from disaster.usecases.users import add_user

    add_user(web_store.sessions, Principal.cli(web_store.city_code), "strict_staff", "city_staff", PASSWORD)
    c = client(create_app(settings_for(web_store, login_max_failures=2)))
    for _ in range(2):
        assert c.post("/api/v1/auth/login", json={"login": "strict_staff", "password": "wrong password!"}).status_code == 401
    assert c.post("/api/v1/auth/login", json={"login": "strict_staff", "password": PASSWORD}).status_code == 401  # locked


def test_every_refusal_is_in_the_audit_log_once(app: FastAPI, chosen: Cast, web_store: Store) -> None:  # noqa: F811
    """A refusal no route records itself (a role without the right to a page, a missing CSRF
    token) is recorded by the service; one a route records is not recorded twice."""
    from disaster.access import Principal
    from disaster.usecases.users import add_user

    admin = Principal.cli(web_store.city_code)
    add_user(web_store.sessions, admin, "refused_trainer", "trainer", PASSWORD)
    add_user(web_store.sessions, admin, "refused_leader", "leader", PASSWORD, districts=[chosen.home])
    trainer, leader = client(app), client(app)
    login(trainer, "refused_trainer")
    login(leader, "refused_leader")  # no X-CSRF-Token header set
    assert trainer.get("/api/v1/stats").status_code == 403
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.allowed, entry.details["path"]) == ("refused_trainer", "request.refused",
                                                                                 False, "/api/v1/stats")
    assert leader.post("/api/v1/auth/logout").status_code == 403
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.allowed, entry.details["method"]) == ("refused_leader", "request.refused",
                                                                                   False, "POST")
    before = last_audit_id(web_store)
    assert leader.get(f"/api/v1/residents/{chosen.outside_yes.resident_no}").status_code == 403
    assert [(e.action, e.allowed) for e in audit_after(web_store, before)] == [("resident.read", False)]
