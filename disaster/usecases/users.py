"""Account use-cases: add, list, disable, set a password, change one's own. Managing accounts is
the city administrator's (``access.Action.MANAGE_USERS``); every change, every listing and every
refused attempt is audited in the same transaction, naming the account (never the password)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, auditlog, errors
from disaster.access import Action, Principal, Role
from disaster.accounts import (
    AccountError,
    AuthFailed,
    authenticate,
    check_login,
    check_scope,
    hash_password,
    parse_role,
)
from disaster.models import User
from disaster.settings import Settings

WRONG_CURRENT = ("現在のパスワードを確かめられませんでした。入力し直してください"
                 "（続けて間違えると、しばらくログインできなくなります）。")


def _principal(actor: auditlog.PrincipalLike) -> Principal:
    return actor if isinstance(actor, Principal) else Principal(actor.login, Role(actor.role), actor.city_code)


def _require_admin(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, action: auditlog.Action,
                   origin: str, details: dict[str, Any]) -> None:
    """``MANAGE_USERS`` or Forbidden, the refused attempt audited."""
    try:
        access.require(_principal(actor), Action.MANAGE_USERS)
    except errors.Forbidden:
        with sessions() as session, session.begin():
            auditlog.record(session, actor, action, allowed=False, origin=origin, target_kind="user", details=details)
        raise


def add_user(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, role: str, password: str,
             districts: Iterable[str] = (), professional_name: str | None = None, origin: str = "cli") -> User:
    """A new account in the actor's city."""
    _require_admin(sessions, actor, auditlog.Action.USER_ADD, origin, {"login": login, "role": role})
    chosen = parse_role(role)
    check_login(login)
    password_hash = hash_password(password)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session, session.begin():
        if session.scalar(select(User.id).where(User.login == login)) is not None:
            raise AccountError(f"ログインID「{login}」はすでに使われています。")
        scope = check_scope(session, actor.city_code, chosen, districts, professional_name)
        user = User(login=login, role=chosen.value, city_code=actor.city_code, districts=list(scope.districts),
                    professional_name=scope.professional_name, password_hash=password_hash, disabled=False,
                    failed_logins=0, created_at=now, password_changed_at=now)
        session.add(user)
        auditlog.record(session, actor, auditlog.Action.USER_ADD, origin=origin, target_kind="user", at=now,
                        details={"login": login, "role": chosen.value, "districts": list(scope.districts),
                                 "professional_name": scope.professional_name})
    return user


def list_users(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, origin: str = "cli") -> list[User]:
    """The accounts of the actor's city, by login."""
    _require_admin(sessions, actor, auditlog.Action.USER_LIST, origin, {})
    with sessions() as session, session.begin():
        users = list(session.scalars(select(User).where(User.city_code == actor.city_code).order_by(User.login)))
        auditlog.record(session, actor, auditlog.Action.USER_LIST, origin=origin, target_kind="user",
                        details={"users": len(users)})
    return users


def disable_user(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, origin: str = "cli") -> User:
    """The account can no longer log in (it stays listed, and in the audit log)."""
    _require_admin(sessions, actor, auditlog.Action.USER_DISABLE, origin, {"login": login})
    with sessions() as session, session.begin():
        user = _city_user(session, actor.city_code, login)
        user.disabled = True
        auditlog.record(session, actor, auditlog.Action.USER_DISABLE, origin=origin, target_kind="user",
                        details={"login": login})
    return user


def set_password(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, password: str,
                 origin: str = "cli") -> User:
    """A new password; it also lifts a lockout (the failure count starts again)."""
    _require_admin(sessions, actor, auditlog.Action.USER_SET_PASSWORD, origin, {"login": login})
    password_hash = hash_password(password)
    with sessions() as session, session.begin():
        user = _city_user(session, actor.city_code, login)
        return _new_password(session, actor, user, password_hash, dt.datetime.now(dt.UTC), origin, {})


def change_own_password(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, current: str, password: str,
                        now: dt.datetime, origin: str = "cli", settings: Settings | None = None) -> User:
    """Any account's own new password, given its current one (checked as a login is: wrong
    guesses count toward the lockout). Every session of the account ends (``web.sessions``)."""
    hashed = hash_password(password)
    with sessions() as session:
        try:
            authenticate(session, actor.login, current, now, origin=origin, settings=settings)
        except AuthFailed as exc:
            raise errors.Forbidden(WRONG_CURRENT) from exc
    with sessions() as session, session.begin():
        user = _city_user(session, actor.city_code, actor.login)
        return _new_password(session, actor, user, hashed, now, origin, {"own": True})


def _new_password(session: Session, actor: auditlog.PrincipalLike, user: User, password_hash: str, now: dt.datetime,
                  origin: str, details: dict[str, Any]) -> User:
    user.password_hash = password_hash
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    auditlog.record(session, actor, auditlog.Action.USER_SET_PASSWORD, origin=origin, target_kind="user", at=now,
                    details={"login": user.login} | details)
    return user


def _city_user(session: Session, city_code: str, login: str) -> User:
    user = session.scalar(select(User).where(User.city_code == city_code, User.login == login))
    if user is None:
        raise AccountError(f"ログインID「{login}」の利用者は、この市町村にはいません（利用者の一覧で確かめられます）。")
    return user
