"""Accounts: Argon2id password hashes, checking an account's scope, and logging in with lockout.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (Argon2id, the RFC 9106 low-memory
profile); the password itself is never stored, printed or logged. After
``settings.login_max_failures`` wrong passwords in a row an account is locked for
``settings.login_lockout_minutes``; a disabled or locked account is refused even with the right
password. Every login attempt is audited (allowed or refused, with the reason).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import auditlog, errors
from disaster.access import Role
from disaster.models import CareProfessional, District, Resident, User
from disaster.settings import Settings, get_settings

ACCOUNT_ROLES = tuple(role for role in Role if role is not Role.PUBLIC)  # public: no login
LOGIN_PATTERN = re.compile(r"[\w.@+-]{1,80}")

_hasher = PasswordHasher()


class AccountError(errors.Rejected):
    """An account command that cannot be done (the message, in Japanese, says why)."""


class AuthFailure(StrEnum):
    UNKNOWN_LOGIN = "unknown_login"
    WRONG_PASSWORD = "wrong_password"
    LOCKED = "locked"
    DISABLED = "disabled"


class AuthFailed(errors.Forbidden):
    """A refused login. The message is the same whatever the reason, so it does not tell
    whether an account exists; ``reason`` (and the audit log) says which."""

    MESSAGE = "ログインできませんでした。ログインIDとパスワードを確かめてください（続けて間違えると、しばらくログインできなくなります）。"

    def __init__(self, reason: AuthFailure) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


def hash_password(password: str) -> str:
    """The Argon2id hash of an acceptable password (AccountError for a weak one)."""
    minimum = get_settings().password_min_length
    if len(password) < minimum:
        raise AccountError(f"パスワードは {minimum} 文字以上にしてください。")
    if password.strip() != password:
        raise AccountError("パスワードの先頭と末尾に空白は使えません。")
    return _hasher.hash(password)


def check_login(login: str) -> str:
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountError(f"ログインID「{login}」は使えません（80 文字以内の英数字・かな漢字と . @ + - _）。")
    return login


def parse_role(value: str) -> Role:
    if value not in ACCOUNT_ROLES:
        raise AccountError(f"役割「{value}」はありません。{' / '.join(ACCOUNT_ROLES)} のいずれかです。")
    return Role(value)


@dataclass(frozen=True)
class Scope:
    """What an account covers besides its city: a leader's 校区, a 福祉専門職's name."""

    districts: tuple[str, ...] = ()
    professional_name: str | None = None


def check_scope(session: Session, city_code: str, role: Role, districts: Iterable[str],
                professional_name: str | None) -> Scope:
    """A leader needs one or more of the city's 校区; a 福祉専門職 the name the city's residents'
    関係専門職 rows give; no other role takes either."""
    chosen = tuple(dict.fromkeys(d.strip() for d in districts))
    if role is Role.LEADER:
        if not chosen:
            raise AccountError("校区リーダー・民生委員には、担当する校区を --district で 1 つ以上指定してください。")
        known = set(session.scalars(select(District.name).where(District.city_code == city_code)))
        unknown = [d for d in chosen if d not in known]
        if unknown:
            raise AccountError(f"校区「{'」「'.join(unknown)}」はこの市町村に登録されていません。"
                               f"登録済みの校区: {'、'.join(sorted(known)) or 'なし'}")
    elif chosen:
        raise AccountError(f"--district は校区リーダー・民生委員（leader）にだけ指定できます（{role.value} には指定できません）。")
    name = professional_name.strip() if professional_name else None
    if role is Role.CARE_PROFESSIONAL:
        if not name:
            raise AccountError("福祉専門職には --professional-name で、名簿の関係専門職欄の氏名を指定してください。")
        listed = session.scalar(select(CareProfessional.id).join(Resident)
                                .where(Resident.city_code == city_code, CareProfessional.name == name).limit(1))
        if listed is None:
            raise AccountError(f"関係専門職「{name}」は、この市町村の名簿のどの方にも登録されていません。")
    elif name:
        raise AccountError(f"--professional-name は福祉専門職（care_professional）にだけ指定できます（{role.value} には指定できません）。")
    return Scope(chosen, name)


def authenticate(session: Session, login: str, password: str, now: dt.datetime, *, origin: str = "cli",
                 settings: Settings | None = None) -> User:
    """The enabled, unlocked account whose password this is; else AuthFailed. The lockout follows
    ``settings`` (the service's; default: the environment's).

    Runs in its own transaction (give a session with none open), so that a failure's counter,
    lockout and audit entry are committed before AuthFailed is raised."""
    with session.begin():
        outcome = _attempt(session, login, password, now, origin, settings or get_settings())
    if isinstance(outcome, AuthFailure):
        raise AuthFailed(outcome)
    return outcome


def _attempt(session: Session, login: str, password: str, now: dt.datetime, origin: str,
             settings: Settings) -> User | AuthFailure:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        _verify(_dummy_hash(), password)  # the same work as for a real account
        _audit_login(session, auditlog.Actor(login[:80], "", ""), now, origin, AuthFailure.UNKNOWN_LOGIN)
        return AuthFailure.UNKNOWN_LOGIN
    failure: AuthFailure | None = None
    if user.disabled:
        failure = AuthFailure.DISABLED
    elif user.locked_until is not None and now < user.locked_until:
        failure = AuthFailure.LOCKED
    elif not _verify(user.password_hash, password):
        failure = AuthFailure.WRONG_PASSWORD
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + dt.timedelta(minutes=settings.login_lockout_minutes)
            user.failed_logins = 0
    else:
        user.failed_logins = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
    details = {"locked_until": user.locked_until.isoformat()} if failure is AuthFailure.WRONG_PASSWORD and user.locked_until else {}
    _audit_login(session, user, now, origin, failure, details)
    return failure or user


def _audit_login(session: Session, actor: auditlog.PrincipalLike, now: dt.datetime, origin: str,
                 failure: AuthFailure | None, details: dict[str, str] | None = None) -> None:
    reason = {} if failure is None else {"reason": failure.value}
    auditlog.record(session, actor, auditlog.Action.LOGIN, allowed=failure is None, origin=origin,
                    target_kind="user", details=reason | (details or {}), at=now)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")
