"""Accounts: Argon2id hashes (no plaintext anywhere), login with lockout and unlock by time,
disabled accounts, each role's scope (a leader's 校区 must exist), and every change audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from disaster import auditlog
from disaster.access import Role
from disaster.accounts import AccountError, AuthFailed, AuthFailure, authenticate
from disaster.models import AuditEntry, User
from disaster.settings import get_settings
from disaster.usecases.users import add_user, disable_user, list_users, set_password
from tests import plans_fixtures as F
from tests.conftest import KURUME
from tests.helpers import snapshot

PASSWORD = "kawa-no-hotori-2026"
ADMIN = auditlog.Actor("somu", Role.CITY_ADMIN, KURUME)
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def city(store) -> Any:
    """The store with a 校区 (手作り) and a 関係専門職 (医師 一郎) on a resident's record."""
    F.build(store.sessions)
    return store


def _login(store, login: str, password: str, now: dt.datetime = T0) -> User:
    with store.sessions() as session:
        return authenticate(session, login, password, now, origin="192.0.2.7")


def _refusal(store, login: str, password: str, now: dt.datetime = T0) -> AuthFailure:
    with pytest.raises(AuthFailed) as caught:
        _login(store, login, password, now)
    assert str(caught.value) == AuthFailed.MESSAGE  # the same words whatever the reason
    return caught.value.reason


def _entries(store) -> list[AuditEntry]:
    with store.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_the_password_is_stored_only_as_an_argon2id_hash(city) -> None:
    add_user(city.sessions, ADMIN, "tanaka", "leader", PASSWORD, ["手作り"])
    with city.sessions() as session:
        user = session.scalars(select(User)).one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert all(PASSWORD not in cell for rows in snapshot(city).values() for row in rows for cell in row)
    assert _login(city, "tanaka", PASSWORD).login == "tanaka"
    assert _refusal(city, "tanaka", PASSWORD.upper()) is AuthFailure.WRONG_PASSWORD


def test_a_weak_password_is_refused_and_nothing_is_written(city) -> None:
    before = snapshot(city)
    for weak in ("short", " " + PASSWORD):
        with pytest.raises(AccountError):
            add_user(city.sessions, ADMIN, "tanaka", "city_staff", weak)
    assert snapshot(city) == before


def test_lockout_after_repeated_failures_and_unlock_by_time(city, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISASTER_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("DISASTER_LOGIN_LOCKOUT_MINUTES", "10")
    get_settings.cache_clear()
    add_user(city.sessions, ADMIN, "suzuki", "city_staff", PASSWORD)
    for minute in range(3):
        assert _refusal(city, "suzuki", "wrong password!", T0 + dt.timedelta(minutes=minute)) is AuthFailure.WRONG_PASSWORD
    locked_at = T0 + dt.timedelta(minutes=2)
    with city.sessions() as session:
        user = session.scalars(select(User)).one()
    assert user.locked_until == locked_at + dt.timedelta(minutes=10)
    # while locked, even the right password is refused
    assert _refusal(city, "suzuki", PASSWORD, locked_at + dt.timedelta(minutes=9, seconds=59)) is AuthFailure.LOCKED
    # the lock ends by itself
    assert _login(city, "suzuki", PASSWORD, locked_at + dt.timedelta(minutes=10)).login == "suzuki"
    with city.sessions() as session:
        user = session.scalars(select(User)).one()
    assert user.locked_until is None and user.failed_logins == 0

    logins = [e for e in _entries(city) if e.action == auditlog.Action.LOGIN]
    assert [(e.allowed, e.details.get("reason")) for e in logins] == [
        (False, "wrong_password"), (False, "wrong_password"), (False, "wrong_password"), (False, "locked"), (True, None)]
    assert "locked_until" in logins[2].details and "locked_until" not in logins[1].details
    assert all(e.actor == "suzuki" and e.origin == "192.0.2.7" and e.role == "city_staff" for e in logins)


def test_a_success_resets_the_failure_count(city, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISASTER_LOGIN_MAX_FAILURES", "2")
    get_settings.cache_clear()
    add_user(city.sessions, ADMIN, "suzuki", "city_staff", PASSWORD)
    _refusal(city, "suzuki", "wrong password!")
    _login(city, "suzuki", PASSWORD)
    assert _refusal(city, "suzuki", "wrong password!") is AuthFailure.WRONG_PASSWORD
    assert _login(city, "suzuki", PASSWORD).locked_until is None  # two failures, but not in a row


def test_set_password_lifts_a_lockout(city, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISASTER_LOGIN_MAX_FAILURES", "1")
    get_settings.cache_clear()
    add_user(city.sessions, ADMIN, "suzuki", "city_staff", PASSWORD)
    _refusal(city, "suzuki", "wrong password!")
    assert _refusal(city, "suzuki", PASSWORD) is AuthFailure.LOCKED
    set_password(city.sessions, ADMIN, "suzuki", "a-new-password-2026")
    assert _login(city, "suzuki", "a-new-password-2026").login == "suzuki"
    assert _refusal(city, "suzuki", PASSWORD) is AuthFailure.WRONG_PASSWORD


def test_disabled_and_unknown_accounts_are_refused(city) -> None:
    add_user(city.sessions, ADMIN, "sato", "trainer", PASSWORD)
    disable_user(city.sessions, ADMIN, "sato")
    assert _refusal(city, "sato", PASSWORD) is AuthFailure.DISABLED
    assert _refusal(city, "nobody", PASSWORD) is AuthFailure.UNKNOWN_LOGIN
    refused = [e for e in _entries(city) if e.action == auditlog.Action.LOGIN]
    assert [(e.actor, e.allowed, e.details["reason"]) for e in refused] == [
        ("sato", False, "disabled"), ("nobody", False, "unknown_login")]


@pytest.mark.parametrize(("role", "districts", "name", "words"), [
    ("leader", ["手作り", "存在しない"], None, "校区「存在しない」はこの市町村に登録されていません"),
    ("leader", [], None, "--district で 1 つ以上"),
    ("trainer", ["手作り"], None, "leader）にだけ"),
    ("care_professional", [], None, "--professional-name"),
    ("care_professional", [], "知らない 人", "関係専門職「知らない 人」"),
    ("city_staff", [], "医師 一郎", "care_professional）にだけ"),
    ("public", [], None, "役割「public」はありません"),
    ("mayor", [], None, "役割「mayor」はありません"),
])
def test_an_account_outside_the_city_or_its_role_is_refused(city, role: str, districts: list[str], name: str | None,
                                                              words: str) -> None:
    before = snapshot(city)
    with pytest.raises(AccountError, match=words):
        add_user(city.sessions, ADMIN, "x", role, PASSWORD, districts, name)
    assert snapshot(city) == before  # no account, no audit entry


def test_each_role_gets_its_scope(city) -> None:
    add_user(city.sessions, ADMIN, "minsei", "leader", PASSWORD, ["手作り", "手作り"])
    add_user(city.sessions, ADMIN, "care", "care_professional", PASSWORD, professional_name="医師 一郎")
    add_user(city.sessions, ADMIN, "boss", "city_admin", PASSWORD)
    users = {u.login: u for u in list_users(city.sessions, ADMIN)}
    assert list(users) == ["boss", "care", "minsei"]
    assert users["minsei"].districts == ["手作り"] and users["minsei"].role == Role.LEADER
    assert users["care"].professional_name == "医師 一郎" and users["care"].districts == []
    assert users["boss"].city_code == KURUME and not users["boss"].disabled
    assert list_users(city.sessions, auditlog.Actor("somu", Role.CITY_ADMIN, "401005")) == []


def test_a_login_is_unique_and_well_formed(city) -> None:
    add_user(city.sessions, ADMIN, "tanaka", "city_staff", PASSWORD)
    with pytest.raises(AccountError, match="すでに使われています"):
        add_user(city.sessions, ADMIN, "tanaka", "trainer", PASSWORD)
    with pytest.raises(AccountError, match="使えません"):
        add_user(city.sessions, ADMIN, "two words", "trainer", PASSWORD)
    with pytest.raises(AccountError, match="この市町村にはいません"):
        disable_user(city.sessions, ADMIN, "nobody")
    with city.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_every_account_change_is_audited_without_the_password(city) -> None:
    add_user(city.sessions, ADMIN, "minsei", "leader", PASSWORD, ["手作り"])
    set_password(city.sessions, ADMIN, "minsei", "a-new-password-2026")
    disable_user(city.sessions, ADMIN, "minsei")
    changes = _entries(city)
    assert [(e.action, e.actor, e.role, e.city_code, e.details["login"]) for e in changes] == [
        ("user.add", "somu", "city_admin", KURUME, "minsei"),
        ("user.set_password", "somu", "city_admin", KURUME, "minsei"),
        ("user.disable", "somu", "city_admin", KURUME, "minsei"),
    ]
    assert changes[0].details["districts"] == ["手作り"] and changes[0].details["role"] == "leader"
    assert not any("password" in key for e in changes for key in e.details)
    with city.sessions() as session:
        assert auditlog.verify(session).ok
