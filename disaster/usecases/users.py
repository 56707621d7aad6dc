"""Account use-cases: add, list, disable, set a password. Every change is audited in the same
transaction, naming the account changed (never the password)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import auditlog
from disaster.accounts import AccountError, check_login, check_scope, hash_password, parse_role
from disaster.models import User


def add_user(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, role: str, password: str,
             districts: Iterable[str] = (), professional_name: str | None = None, origin: str = "cli") -> User:
    """A new account in the actor's city."""
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


def list_users(sessions: sessionmaker[Session], city_code: str) -> list[User]:
    with sessions() as session:
        return list(session.scalars(select(User).where(User.city_code == city_code).order_by(User.login)))


def disable_user(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, origin: str = "cli") -> User:
    """The account can no longer log in (it stays listed, and in the audit log)."""
    with sessions() as session, session.begin():
        user = _city_user(session, actor.city_code, login)
        user.disabled = True
        auditlog.record(session, actor, auditlog.Action.USER_DISABLE, origin=origin, target_kind="user",
                        details={"login": login})
    return user


def set_password(sessions: sessionmaker[Session], actor: auditlog.PrincipalLike, login: str, password: str,
                 origin: str = "cli") -> User:
    """A new password; it also lifts a lockout (the failure count starts again)."""
    password_hash = hash_password(password)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session, session.begin():
        user = _city_user(session, actor.city_code, login)
        user.password_hash = password_hash
        user.password_changed_at = now
        user.failed_logins = 0
        user.locked_until = None
        auditlog.record(session, actor, auditlog.Action.USER_SET_PASSWORD, origin=origin, target_kind="user", at=now,
                        details={"login": login})
    return user


def _city_user(session: Session, city_code: str, login: str) -> User:
    user = session.scalar(select(User).where(User.city_code == city_code, User.login == login))
    if user is None:
        raise AccountError(f"ログインID「{login}」の利用者は、この市町村にはいません（`disaster user list` で確かめられます）。")
    return user
