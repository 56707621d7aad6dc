"""災害時モード (災害対策基本法 49条の11③, 49条の15③): a city administrator declares it with a
reason, the affected 校区 (or all) and an end time; while it is on, the 校区 leaders and 民生委員
of those 校区 see the 名簿 and plans of residents who did not consent (``disaster.access`` reads
``Principal.emergency_districts`` / ``emergency_all``, filled by ``principal_in_mode``).

It ends by itself: ``active`` compares ``ends_at`` with now, so no job is needed. It lasts at
most ``MAX_DURATION``; to go on longer, the administrator declares it again. Every declaration,
every early end and every refused attempt is in the audit log with ``details["disaster_mode"]``
= the declaration's id, and so is every read of personal data under the mode
(``Emergency.audit_details``, added by whoever records the read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, inspect, or_, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, auditlog, errors
from disaster.access import Action, Principal
from disaster.models import AuditEntry, DisasterMode, District

MAX_DURATION = dt.timedelta(days=7)  # the longest declaration; declare again to go on
MAX_REASON = 500  # characters
MODE_ACTIONS = frozenset({auditlog.Action.DISASTER_MODE_DECLARE, auditlog.Action.DISASTER_MODE_END})


@dataclass(frozen=True)
class Emergency:
    """The 災害時モード in force in a city at one moment: the 校区 it covers (every 校区 when
    ``all``) and the declarations in force (none: no 災害時モード)."""

    districts: frozenset[str] = frozenset()
    all: bool = False
    modes: list[DisasterMode] = field(default_factory=list)

    @property
    def on(self) -> bool:
        return bool(self.modes)

    def audit_details(self) -> dict[str, Any]:
        """What an audit entry of a read under this mode adds to its details: ``{"disaster_mode":
        id}`` (a list of ids when several declarations are in force), nothing when off."""
        ids = [mode.id for mode in self.modes]
        if not ids:
            return {}
        return {"disaster_mode": ids[0] if len(ids) == 1 else ids}


NO_EMERGENCY = Emergency()


@dataclass(frozen=True)
class ModeListing:
    """A declaration as ``disaster mode list`` shows it."""

    mode: DisasterMode
    status: str  # 実施中 / 期限で終了 / 早期に終了
    on: bool
    reads: int  # audited reads of personal data under it

    def as_dict(self) -> dict[str, Any]:
        m = self.mode
        return {"id": m.id, "city_code": m.city_code, "status": self.status, "on": self.on, "reason": m.reason,
                "districts": m.districts, "all_districts": not m.districts, "declared_by": m.declared_by,
                "starts_at": m.starts_at.isoformat(), "ends_at": m.ends_at.isoformat(),
                "ended_at": m.ended_at.isoformat() if m.ended_at else None, "ended_by": m.ended_by,
                "reads": self.reads}


def has_modes(engine: Engine) -> bool:
    """Whether the store's schema holds 災害時モード (migration 0009)."""
    return inspect(engine).has_table(DisasterMode.__tablename__)


def require_modes(engine: Engine) -> None:
    """Refuse to declare or list 災害時モード in a store from before migration 0009."""
    if not has_modes(engine):
        raise errors.NotReady("このデータベースには災害時モードの記録がまだありません（古い形式です）。"
                              "`disaster init` で更新してから、もう一度実行してください。")


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: give a timezone")
    return now.astimezone(dt.UTC)


def _in_force(city_code: str, now: dt.datetime) -> Any:
    return (DisasterMode.city_code == city_code, DisasterMode.starts_at <= now, DisasterMode.ends_at > now,
            or_(DisasterMode.ended_at.is_(None), DisasterMode.ended_at > now))


def active(session: Session, city_code: str, now: dt.datetime | None = None) -> Emergency:
    """The 災害時モード in force in the city at ``now`` (default: now)."""
    moment = _now(now)
    modes = list(session.scalars(select(DisasterMode).where(*_in_force(city_code, moment)).order_by(DisasterMode.id)))
    if not modes:
        return NO_EMERGENCY
    return Emergency(frozenset(d for m in modes for d in m.districts), any(not m.districts for m in modes), modes)


def principal_in_mode(principal: Principal, emergency: Emergency) -> Principal:
    """``principal`` with the 校区 under 災害時モード filled in (what a leader sees follows from it)."""
    return dataclasses.replace(principal, emergency_districts=emergency.districts, emergency_all=emergency.all)


def _require_admin(sessions: sessionmaker[Session], principal: Principal, action: auditlog.Action, origin: str,
            details: dict[str, Any]) -> None:
    """Unless ``principal`` is the city administrator: record the refused attempt and raise
    ``errors.Forbidden``."""
    try:
        access.require(principal, Action.DECLARE_DISASTER_MODE)
    except errors.Forbidden:
        with sessions() as session, session.begin():
            auditlog.record(session, principal, action, allowed=False, origin=origin, target_kind="disaster_mode",
                            details=details)
        raise


def declare(sessions: sessionmaker[Session], principal: Principal, reason: str, districts: Iterable[str],
            ends_at: dt.datetime, now: dt.datetime | None = None, origin: str = "cli",
            all_districts: bool | None = None) -> DisasterMode:
    """Declare 災害時モード in the principal's city for ``districts`` (all 校区 when empty) until
    ``ends_at`` (within ``MAX_DURATION``). City administrator only; audited. ``all_districts``,
    when given, must say the same as ``districts`` (all, or some named): an empty list by mistake
    does not open every 校区."""
    moment = _now(now)
    chosen = list(dict.fromkeys(d.strip() for d in districts if d.strip()))
    _require_admin(sessions, principal, auditlog.Action.DISASTER_MODE_DECLARE, origin, {"districts": chosen})
    if all_districts is not None and all_districts == bool(chosen):
        raise errors.Rejected("対象の校区を指定するか、全校区にするか、どちらか一方にしてください。")
    text = reason.strip()
    if not text:
        raise errors.Rejected("災害時モードの理由を入力してください（例: 〇〇川の氾濫のおそれ、避難指示の発令）。")
    if len(text) > MAX_REASON:
        raise errors.Rejected(f"災害時モードの理由は {MAX_REASON} 文字以内で入力してください（{len(text)} 文字あります）。")
    if ends_at.tzinfo is None:
        raise errors.Rejected("災害時モードの終了日時には時差（タイムゾーン）を含めてください。")
    until = ends_at.astimezone(dt.UTC)
    if until <= moment:
        raise errors.Rejected(f"災害時モードの終了日時（{until.astimezone():%Y-%m-%d %H:%M}）が過ぎています。"
                              "これから先の日時を指定してください。")
    if until > moment + MAX_DURATION:
        raise errors.Rejected(f"災害時モードは最長 {MAX_DURATION.days} 日間です（終了日時を "
                              f"{(moment + MAX_DURATION).astimezone():%Y-%m-%d %H:%M} までにしてください）。"
                              "続けるときは、期限の前にもう一度宣言してください。")
    with sessions() as session, session.begin():
        known = set(session.scalars(select(District.name).where(District.city_code == principal.city_code)))
        if not known:
            raise errors.NotReady("この市町村には校区が登録されていません（`disaster import districts` で取り込んでください）。")
        unknown = [d for d in chosen if d not in known]
        if unknown:
            raise errors.NotFound(f"校区「{'」「'.join(unknown)}」はこの市町村に登録されていません。"
                                  f"登録済みの校区: {'、'.join(sorted(known))}")
        mode = DisasterMode(city_code=principal.city_code, declared_by=principal.login, reason=text, districts=chosen,
                            starts_at=moment, ends_at=until, ended_at=None, ended_by=None, created_at=moment)
        session.add(mode)
        session.flush()
        auditlog.record(session, principal, auditlog.Action.DISASTER_MODE_DECLARE, origin=origin,
                        target_kind="disaster_mode", at=moment,
                        details={"disaster_mode": mode.id, "reason": text, "districts": chosen,
                                 "ends_at": until.isoformat()})
    return mode


def end(sessions: sessionmaker[Session], principal: Principal, mode_id: int, now: dt.datetime | None = None,
        origin: str = "cli") -> DisasterMode:
    """End a declaration before its end time. City administrator only; audited."""
    moment = _now(now)
    _require_admin(sessions, principal, auditlog.Action.DISASTER_MODE_END, origin, {"disaster_mode": mode_id})
    with sessions() as session, session.begin():
        mode = session.scalar(select(DisasterMode).where(DisasterMode.id == mode_id,
                                                         DisasterMode.city_code == principal.city_code))
        if mode is None:
            raise errors.NotFound(f"災害時モード #{mode_id} はこの市町村にはありません（`disaster mode list` で確かめられます）。")
        if not _on(mode, moment):
            raise errors.Conflict(f"災害時モード #{mode_id} はすでに終了しています（{_status(mode, moment)}）。")
        mode.ended_at = moment
        mode.ended_by = principal.login
        auditlog.record(session, principal, auditlog.Action.DISASTER_MODE_END, origin=origin,
                        target_kind="disaster_mode", at=moment,
                        details={"disaster_mode": mode.id, "ends_at": mode.ends_at.isoformat()})
    return mode


def _on(mode: DisasterMode, now: dt.datetime) -> bool:
    return mode.starts_at <= now < mode.ends_at and (mode.ended_at is None or mode.ended_at > now)


def _status(mode: DisasterMode, now: dt.datetime) -> str:
    if _on(mode, now):
        return "実施中"
    if mode.ended_at is not None and mode.ended_at < mode.ends_at:
        return "早期に終了"
    return "期限で終了"


def _marks(entry: AuditEntry, mode_id: int) -> bool:
    marked = entry.details.get("disaster_mode")
    return marked == mode_id or (isinstance(marked, list) and mode_id in marked)


def list_modes(sessions: sessionmaker[Session], city_code: str, now: dt.datetime | None = None,
               mode_id: int | None = None) -> list[ModeListing]:
    """The city's declarations (only ``mode_id`` when given), newest first, each with its state
    and the number of audited reads of personal data made under it."""
    moment = _now(now)
    with sessions() as session:
        modes = list(session.scalars(select(DisasterMode).where(DisasterMode.city_code == city_code,
                                                                *([DisasterMode.id == mode_id] if mode_id else []))
                                     .order_by(DisasterMode.id.desc())))
        if not modes:
            return []
        marked = list(session.scalars(
            select(AuditEntry).where(AuditEntry.city_code == city_code,
                                     AuditEntry.at >= min(m.starts_at for m in modes),
                                     AuditEntry.action.not_in([str(a) for a in MODE_ACTIONS]))
            .order_by(AuditEntry.id)))
    return [ModeListing(m, _status(m, moment), _on(m, moment), sum(1 for e in marked if _marks(e, m.id)))
            for m in modes]
