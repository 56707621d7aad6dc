"""Accounts over HTTP: the city administrator lists, adds, disables accounts and sets passwords;
anyone changes their own password with the current one. Audited; no hash in any answer."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster.models import User
from disaster.web.deps import COOKIE
from tests.conftest import Store
from tests.web_fixtures import (
    PASSWORD,
    ROLES,
    Cast,
    admin,  # noqa: F401  (fixture)
    app,  # noqa: F401  (fixture)
    audit_after,
    chosen,  # noqa: F401  (fixture)
    client,
    last_audit_id,
    login,
    signed_in,
    web_store,  # noqa: F401  (fixture)
)

USERS = "/api/v1/users"
ME = "/api/v1/auth/me"


def test_add_list_disable_and_set_a_password(
        app: FastAPI, admin: TestClient, chosen: Cast, web_store: Store) -> None:  # noqa: F811
    start = last_audit_id(web_store)
    home = chosen.home
    made = admin.post(USERS, json={"login": "minsei.tanaka", "role": "leader", "password": PASSWORD, "districts": [home]})
    assert made.status_code == 201, made.text
    assert made.json()["districts"] == [home] and made.json()["role_label"] == "校区リーダー・民生委員"
    listing = admin.get(USERS)
    assert listing.status_code == 200
    logins = [u["login"] for u in listing.json()]
    assert logins == sorted(logins) and {"minsei.tanaka", *ROLES} <= set(logins)
    with web_store.sessions() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    for answer in (made, listing):
        assert "password" not in answer.text.replace("password_changed_at", "")
        assert not any(h in answer.text for h in hashes) and "$argon2" not in answer.text
    newcomer = client(app)
    login(newcomer, "minsei.tanaka")
    assert newcomer.get(ME).json()["districts"] == [home]
    assert admin.post(f"{USERS}/minsei.tanaka/password", json={"password": "another long password"}).status_code == 204
    assert newcomer.get(ME).status_code == 401  # a new password ends the account's sessions
    login(newcomer, "minsei.tanaka", "another long password")
    disabled = admin.post(f"{USERS}/minsei.tanaka/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert newcomer.get(ME).status_code == 401
    assert newcomer.post("/api/v1/auth/login", json={"login": "minsei.tanaka", "password": "another long password"}
                         ).status_code == 401
    got = [(e.actor, e.action, e.allowed, e.origin, e.details.get("login")) for e in audit_after(web_store, start)
           if e.action.startswith("user.")]
    assert got == [("city_admin", "user.add", True, "testclient", "minsei.tanaka"),
                   ("city_admin", "user.list", True, "testclient", None),
                   ("city_admin", "user.set_password", True, "testclient", "minsei.tanaka"),
                   ("city_admin", "user.disable", True, "testclient", "minsei.tanaka")]
    assert all(PASSWORD not in str(e.details) for e in audit_after(web_store, start))


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"login": "x y", "role": "city_staff", "password": PASSWORD}, 422, "使えません"),
    ({"login": "short", "role": "city_staff", "password": "short"}, 422, "文字以上"),
    ({"login": "nobody2", "role": "mayor", "password": PASSWORD}, 422, "役割「mayor」"),
    ({"login": "nobody3", "role": "leader", "password": PASSWORD}, 422, "校区"),
    ({"login": "nobody4", "role": "leader", "password": PASSWORD, "districts": ["無い校区"]}, 422, "登録されていません"),
    ({"login": "city_staff", "role": "city_staff", "password": PASSWORD}, 422, "すでに使われています"),
    ({"login": "nobody5", "role": "city_staff"}, 422, "password"),
])
def test_bad_accounts_are_refused_in_japanese(
        admin: TestClient, body: dict[str, object], status: int, words: str, web_store: Store) -> None:  # noqa: F811
    with web_store.sessions() as session:
        before = set(session.scalars(select(User.login)))
    answer = admin.post(USERS, json=body)
    assert answer.status_code == status and words in answer.json()["error"]["message"], answer.text
    with web_store.sessions() as session:
        assert set(session.scalars(select(User.login))) == before
    assert admin.post(f"{USERS}/no-such-user/disable").status_code == 422


@pytest.mark.parametrize("role", ["city_staff", "leader", "trainer", "care_professional"])
def test_only_the_city_administrator_manages_accounts(app: FastAPI, role: str, web_store: Store) -> None:  # noqa: F811
    c = signed_in(app, role)
    start = last_audit_id(web_store)
    answers = [c.get(USERS), c.post(USERS, json={"login": f"by-{role}", "role": "city_admin", "password": PASSWORD}),
               c.post(f"{USERS}/city_admin/disable"), c.post(f"{USERS}/city_admin/password", json={"password": PASSWORD * 2})]
    assert [a.status_code for a in answers] == [403] * 4
    assert [(e.actor, e.action, e.allowed) for e in audit_after(web_store, start)] == [
        (role, "user.list", False), (role, "user.add", False), (role, "user.disable", False),
        (role, "user.set_password", False)]
    login(client(app), "city_admin")  # untouched


def test_own_password_needs_the_current_one_and_renews_the_session(
        app: FastAPI, admin: TestClient, web_store: Store) -> None:  # noqa: F811
    assert admin.post(USERS, json={"login": "self.changer", "role": "trainer", "password": PASSWORD}).status_code == 201
    me, elsewhere = signed_in(app, "self.changer"), client(app)
    login(elsewhere, "self.changer")
    wrong = me.post("/api/v1/auth/password", json={"current_password": "not my password", "new_password": "a new long one"})
    assert wrong.status_code == 403 and "現在のパスワード" in wrong.json()["error"]["message"]
    weak = me.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422
    old_cookie = me.cookies[COOKIE]
    changed = me.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "a new long one"})
    assert changed.status_code == 204 and me.cookies[COOKIE] != old_cookie  # a new session in this browser
    assert me.get(ME).status_code == 200
    assert elsewhere.get(ME).status_code == 401  # every other session ended
    assert client(app).get(ME, headers={"Cookie": f"{COOKIE}={old_cookie}"}).status_code == 401
    login(client(app), "self.changer", "a new long one")
    entry = [e for e in audit_after(web_store, 0) if e.action == "user.set_password"][-1]
    assert (entry.actor, entry.details) == ("self.changer", {"login": "self.changer", "own": True})
