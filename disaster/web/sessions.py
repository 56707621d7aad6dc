"""Server-side sessions of the web service (table ``web_session``) and the per-address login throttle.

The browser holds a random 32-byte token; the database holds only its HMAC-SHA256 keyed with
``settings.secret_key``. A login always starts a new session (the one the browser had, if any,
ends), so a session id planted before login is worthless. A session ends at logout, after
``session_idle_minutes`` without a request, ``session_max_hours`` after login, when the account
is disabled or when its password changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from disaster import auditlog
from disaster.access import Principal, Role
from disaster.models import AuditEntry, User, WebSession
from disaster.settings import Settings
from disaster.web.errors import Throttled, Unauthenticated

TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often (idle timeout ±1 min)
EXPIRED = "ログインの有効期限が切れました。もう一度ログインしてください。"
NOT_LOGGED_IN = "ログインしてください。"


@dataclass(frozen=True)
class Login:
    """A live session and its account."""

    session_id: str  # the keyed hash stored in the database
    csrf_token: str
    user_id: int
    login: str
    role: Role
    city_code: str
    districts: tuple[str, ...]
    professional_name: str | None
    expires_at: dt.datetime

    def principal(self) -> Principal:
        return Principal(self.login, self.role, self.city_code, frozenset(self.districts), self.professional_name)


def session_id(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode("utf-8"), token.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def start(session: Session, settings: Settings, user: User, now: dt.datetime, previous_token: str | None) -> tuple[str, Login]:
    """A new session for ``user`` (ending the browser's previous one); returns the cookie's token and the session."""
    if previous_token:
        end(session, settings, previous_token, now)
    token = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    web = WebSession(id=session_id(settings, token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, last_seen_at=now, expires_at=now + dt.timedelta(hours=settings.session_max_hours))
    session.add(web)
    return token, _login(web, user)


def end(session: Session, settings: Settings, token: str, now: dt.datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id(settings, token), WebSession.ended_at.is_(None))
                    .values(ended_at=now))


def resume(session: Session, settings: Settings, token: str | None, now: dt.datetime) -> Login:
    """The live session of the cookie's token (its last request now), else Unauthenticated."""
    if not token:
        raise Unauthenticated(NOT_LOGGED_IN)
    row = session.execute(select(WebSession, User).join(User, WebSession.user_id == User.id)
                          .where(WebSession.id == session_id(settings, token))).first()
    if row is None or row.WebSession.ended_at is not None:
        raise Unauthenticated(NOT_LOGGED_IN)
    web, user = row.WebSession, row.User
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    if (now >= web.expires_at or now - web.last_seen_at >= idle or user.disabled
            or user.password_changed_at > web.created_at):
        web.ended_at = now
        raise Unauthenticated(EXPIRED)
    if now - web.last_seen_at >= TOUCH_EVERY:
        web.last_seen_at = now
    return _login(web, user)


def _login(web: WebSession, user: User) -> Login:
    return Login(web.id, web.csrf_token, user.id, user.login, Role(user.role), user.city_code, tuple(user.districts),
                 user.professional_name, web.expires_at)


def throttle(session: Session, settings: Settings, origin: str, attempted: str, now: dt.datetime) -> None:
    """Refuse (Throttled, audited) a login from ``origin`` after too many recent failures from there.
    The failures are the refused logins the audit log already records with their address."""
    window = dt.timedelta(minutes=settings.login_throttle_minutes)
    failures = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == auditlog.Action.LOGIN.value, AuditEntry.allowed.is_(False),
        AuditEntry.origin == origin, AuditEntry.at >= now - window)) or 0
    if failures < settings.login_throttle_failures:
        return
    auditlog.record(session, auditlog.Actor(attempted[:80], "", ""), auditlog.Action.LOGIN, allowed=False, origin=origin,
                    target_kind="user", details={"reason": "throttled"}, at=now)
    raise Throttled(f"この場所からのログインの失敗が続いたため、しばらくログインできません。"
                    f"{settings.login_throttle_minutes} 分ほどおいてから、もう一度お試しください。",
                    retry_after=int(window.total_seconds()))
