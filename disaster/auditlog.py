"""The audit log: who read or changed what, about which residents, allowed or refused, from where.

Entries are numbered 1, 2, … and each is chained to the one before by hash: ``hash`` is the
SHA-256 of the entry's canonical JSON (every column but ``hash``, including ``prev_hash``). The
log is append-only: the application has no update or delete, and the triggers of migration 0007
refuse them in the database. ``verify`` recomputes the chain and finds the first entry that was
changed, or whose predecessor was changed or deleted. (Deleting the newest entries leaves a
shorter chain that is still whole: keep the head hash ``verify`` reports to check that too.)

``record`` joins the caller's transaction, so a change and its audit entry commit together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from disaster.errors import NotReady
from disaster.models import AuditEntry

GENESIS = "0" * 64  # the prev_hash of entry 1
LOCK_KEY = 0x4155_4449  # PostgreSQL advisory lock serialising appends ("AUDI")
VERIFY_BATCH = 1000


class Action(StrEnum):
    """What an entry records (reads of personal data, account changes, logins)."""

    PLAN_PDF = "plan.pdf"  # one resident's マイプラン
    DISTRICT_PLANS = "plans.pdf"  # a 校区's マイプラン
    MAP = "map.html"  # a map showing residents (leader or city view)
    AUDIT_READ = "audit.read"  # the audit log itself
    DISASTER_MODE_DECLARE = "disaster_mode.declare"  # 災害時モード declared (or a refused attempt)
    DISASTER_MODE_END = "disaster_mode.end"  # 災害時モード ended early
    LOGIN = "auth.login"
    USER_ADD = "user.add"
    USER_DISABLE = "user.disable"
    USER_SET_PASSWORD = "user.set_password"
    # --- plan records (issue 12 §5) ---
    PLAN_READ = "plan.read"  # one resident's plan record with its options
    PLAN_SAVE = "plan.save"  # a new version of a plan record
    PLAN_ISSUE = "plan.issue"  # a plan record confirmed with the person (本人確認済)
    PLAN_HISTORY = "plan.history"  # the versions of a plan record
    PLAN_REVIEW = "plan.review"  # issued plans turned 要見直し after their data changed
    # --- the rest of the JSON API (issue 12 §7) ---
    AUDIT_EXPORT = "audit.export"  # the audit log as CSV
    USER_LIST = "user.list"  # the city's accounts
    IMPORT_UPLOAD = "import.upload"  # files uploaded and validated, kept pending
    IMPORT_READ = "import.read"  # a pending import's validation report
    IMPORT_COMMIT = "import.commit"  # a pending import written to the city's data
    IMPORT_DISCARD = "import.discard"  # a pending import thrown away
    EXERCISE_RECORD = "exercise.record"  # a 図上訓練 session recorded
    EXERCISE_FINDING = "exercise.finding"  # a finding added to a session
    EXERCISE_READ = "exercise.read"  # sessions and findings (naming the residents they concern)
    # --- background jobs (issue 12 §6) ---
    JOB_CREATE = "job.create"  # a background job asked for (or a refused attempt); rerun too
    JOB_CANCEL = "job.cancel"
    JOB_RESULT = "job.result"  # a job's result downloaded (names the residents whose data it holds)
    # --- any refused request that no route recorded itself (e.g. a missing CSRF token) ---
    REQUEST_REFUSED = "request.refused"


class PrincipalLike(Protocol):
    """Who acts: a disaster.access.Principal, a logged-in user, or the CLI's city administrator."""

    @property
    def login(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def city_code(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """A PrincipalLike without a Principal: e.g. a login attempt under an unknown name (no role, no city)."""

    login: str
    role: str
    city_code: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # entries read (up to and including the first broken one)
    first_broken_id: int | None
    reason: str | None  # Japanese, for the user
    head_hash: str | None = None  # hash of the newest entry when the chain is whole


# the refusals recorded while one request is answered (see ``refusals_in``); a list shared by the
# threads the request's work runs in
_refusals: ContextVar[list[int] | None] = ContextVar("disaster_refusals", default=None)


@contextmanager
def refusals_in() -> Iterator[list[int]]:
    """Collect the ids of the refusals recorded within (e.g. one web request), so that a refusal
    nobody recorded can be recorded once, by whoever answers it."""
    token = _refusals.set([])
    try:
        yield _refusals.get() or []
    finally:
        _refusals.reset(token)


def refusal_recorded() -> bool:
    """A refusal was recorded since ``refusals_in`` began (False outside one)."""
    return bool(_refusals.get())


def require_log(engine: Engine) -> None:
    """Refuse to read personal data from a store whose schema has no audit log yet."""
    if not inspect(engine).has_table(AuditEntry.__tablename__):
        raise NotReady("このデータベースには監査ログがまだありません（古い形式です）。"
                       "`disaster init` で更新してから、もう一度実行してください。")


def record(
    session: Session,
    principal: PrincipalLike,
    action: str,
    *,
    residents: Iterable[str] = (),
    allowed: bool = True,
    origin: str = "cli",
    target_kind: str | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one entry (``residents``: 名簿番号) in the caller's transaction. ``details`` must be
    JSON data (it is stored and hashed as JSON)."""
    _lock_the_chain(session)
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    entry = AuditEntry(
        id=last.id + 1 if last else 1,
        at=(at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
        actor=principal.login,
        role=str(principal.role),
        city_code=principal.city_code,
        action=str(action),
        target_kind=target_kind,
        resident_ids=list(dict.fromkeys(residents)),
        allowed=allowed,
        origin=origin,
        details=json.loads(json.dumps(details or {}, ensure_ascii=False)),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    watched = _refusals.get()
    if not allowed and watched is not None:
        watched.append(entry.id)
    return entry


def _lock_the_chain(session: Session) -> None:
    """Take the right to append before reading the last entry, so that concurrent appends queue
    instead of reading the same last entry (one of them would then fail on the primary key)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return
    # SQLite has one writer: take its write lock now. The driver starts a transaction only at the
    # first write, so without one in progress the reads below would run outside any transaction.
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def entry_hash(entry: AuditEntry) -> str:
    payload = {
        "id": entry.id,
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "city_code": entry.city_code,
        "action": entry.action,
        "target_kind": entry.target_kind,
        "resident_ids": entry.resident_ids,
        "allowed": entry.allowed,
        "origin": entry.origin,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify(session: Session) -> VerifyResult:
    """Walk the whole chain from entry 1; stop at the first entry that does not fit."""
    expected_id, prev_hash, checked = 1, GENESIS, 0
    for entry in _all_entries(session):
        checked += 1
        reason = None
        if entry.id != expected_id:
            missing = f"{expected_id}" if entry.id == expected_id + 1 else f"{expected_id}〜{entry.id - 1}"
            reason = f"直前の記録（#{missing}）が削除されています。"
        elif entry.prev_hash != prev_hash:
            reason = ("直前の記録とつながっていません（先頭の記録の前が書き換えられています）。" if entry.id == 1 else
                      f"直前の記録（#{entry.id - 1}）が書き換えられたか、差し替えられています。")
        elif entry_hash(entry) != entry.hash:
            reason = "この記録の内容が書き換えられています（ハッシュが一致しません）。"
        if reason is not None:
            return VerifyResult(False, checked, entry.id, reason)
        expected_id, prev_hash = entry.id + 1, entry.hash
    return VerifyResult(True, checked, None, None, None if checked == 0 else prev_hash)


def _all_entries(session: Session) -> Iterator[AuditEntry]:
    after = 0
    while True:
        batch = session.scalars(select(AuditEntry).where(AuditEntry.id > after)
                                .order_by(AuditEntry.id).limit(VERIFY_BATCH)).all()
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        after = batch[-1].id


def entries(session: Session, city_code: str, since: dt.datetime | None = None) -> list[AuditEntry]:
    """A city's entries, oldest first (``since``: at or after that time)."""
    query = select(AuditEntry).where(AuditEntry.city_code == city_code).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "role": entry.role,
        "city_code": entry.city_code, "action": entry.action, "target_kind": entry.target_kind,
        "resident_ids": entry.resident_ids, "allowed": entry.allowed, "origin": entry.origin,
        "details": entry.details, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }
