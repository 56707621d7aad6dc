"""災害時モード (disaster.usecases.disaster_mode) on SQLite and PostgreSQL: a declaration lets the
leaders of its 校区 see the residents who did not consent, only while it is in force (not in
another 校区, not after its end time, not after an early end); only the city administrator
declares or ends it; every declaration, end and refused attempt is in the audit log, whose chain
stays whole; bad input is refused with a Japanese message and writes nothing.

The town (two 校区 北 and 南, a consenting and a non-consenting resident in each, and a second
city) is the one of tests/test_access.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import disaster.usecases.plans as plans_usecase
from disaster import access, auditlog, errors
from disaster.access import Action, Principal, Role, resident_filter
from disaster.models import AuditEntry, DisasterMode, Resident
from disaster.usecases.disaster_mode import MAX_DURATION, active, declare, end, list_modes, principal_in_mode
from disaster.usecases.maps import load_map_inputs
from disaster.usecases.plans import write_plan
from tests.conftest import KURUME
from tests.test_access import BY_NUMBER, OTHER, TODAY, _build, _leaks

NOW = dt.datetime(2026, 7, 8, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ADMIN = Principal("admin", Role.CITY_ADMIN, KURUME)
STAFF = Principal("staff", Role.CITY_STAFF, KURUME)
NORTH_LEADER = Principal("leader_n", Role.LEADER, KURUME, frozenset({"北"}))
SOUTH_LEADER = Principal("leader_s", Role.LEADER, KURUME, frozenset({"南"}))
OTHER_ADMIN = Principal("admin2", Role.CITY_ADMIN, OTHER)


@pytest.fixture
def town(store) -> Any:
    _build(store)
    return store


def _in_mode(store, principal: Principal, at: dt.datetime) -> Principal:
    with store.sessions() as session:
        return principal_in_mode(principal, active(session, principal.city_code, at))


def _seen(store, principal: Principal, at: dt.datetime) -> set[str]:
    """The residents the principal's map shows at ``at`` (map data: the policy's query)."""
    with store.sessions() as session:
        inputs = load_map_inputs(session, _in_mode(store, principal, at))
    return set(inputs.residents["resident_no"])


def _log(store, city_code: str = KURUME) -> list[dict[str, Any]]:
    with store.sessions() as session:
        return [auditlog.as_dict(e) for e in auditlog.entries(session, city_code)]


def _verified(store) -> auditlog.VerifyResult:
    with store.sessions() as session:
        return auditlog.verify(session)


def _modes(store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count(DisasterMode.id))) or 0


def test_a_leader_sees_the_non_consenting_residents_of_a_declared_district_only_while_it_is_on(town) -> None:
    assert _seen(town, NORTH_LEADER, NOW) == {"A0001"}  # before: consenting residents only
    mode = declare(town.sessions, ADMIN, "北川の氾濫のおそれ", ["北"], NOW + 6 * HOUR, now=NOW)
    assert (mode.districts, mode.declared_by, mode.starts_at, mode.ends_at) == (["北"], "admin", NOW, NOW + 6 * HOUR)
    assert _seen(town, NORTH_LEADER, NOW + HOUR) == {"A0001", "A0002"}
    assert _seen(town, SOUTH_LEADER, NOW + HOUR) == {"A0003"}  # another 校区: consent still needed
    assert _seen(town, NORTH_LEADER, NOW + 6 * HOUR) == {"A0001"}  # it ended by itself
    assert _seen(town, NORTH_LEADER, NOW - HOUR) == {"A0001"}  # not before it was declared
    with town.sessions() as session:  # the other city is untouched
        assert not active(session, OTHER, NOW + HOUR).on
    end(town.sessions, ADMIN, mode.id, now=NOW + 2 * HOUR)
    assert _seen(town, NORTH_LEADER, NOW + 2 * HOUR + dt.timedelta(seconds=1)) == {"A0001"}  # ended early
    assert _seen(town, NORTH_LEADER, NOW + 2 * HOUR - dt.timedelta(seconds=1)) == {"A0001", "A0002"}


def test_a_declaration_for_all_districts_covers_every_leader_of_the_city(town) -> None:
    declare(town.sessions, ADMIN, "震度6強の地震", [], NOW + HOUR, now=NOW)
    with town.sessions() as session:
        emergency = active(session, KURUME, NOW)
    assert emergency.all and emergency.on
    assert _seen(town, NORTH_LEADER, NOW) == {"A0001", "A0002"}
    assert _seen(town, SOUTH_LEADER, NOW) == {"A0003", "A0004"}
    with town.sessions() as session:  # the policy's filter for a leader never reaches another 校区 or city
        leader = _in_mode(town, SOUTH_LEADER, NOW)
        assert set(session.scalars(select(Resident.resident_no).where(resident_filter(leader)))) == {"A0003", "A0004"}


@pytest.fixture
def plans_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan PDF replaced by the plan's content as JSON (the content is what the policy decides)."""

    def as_json(data: Any, plan: dict[str, Any], large_print: bool) -> tuple[bytes, int]:
        return json.dumps(plan, default=str, ensure_ascii=False).encode(), 1

    monkeypatch.setattr(plans_usecase, "render_here", as_json)


def test_a_leader_gets_the_plan_of_a_non_consenting_resident_only_under_the_mode(town, tmp_path: Path,
                                                                                plans_as_json: None) -> None:
    out = tmp_path / "A0002.pdf"
    mode = declare(town.sessions, ADMIN, "避難指示の発令", ["北"], NOW + 3 * HOUR, now=NOW)
    leader = _in_mode(town, NORTH_LEADER, NOW + HOUR)
    assert access.can(leader, Action.DRAFT_PLAN, "北")
    write_plan(town.sessions, leader, "A0002", out, today=TODAY)
    text = out.read_text(encoding="utf-8")
    assert BY_NUMBER["A0002"].name in text and _leaks(text, {"A0002"}) == []
    with pytest.raises(errors.Forbidden):  # the 南 resident without consent: not this leader's 校区
        write_plan(town.sessions, leader, "A0004", tmp_path / "A0004.pdf", today=TODAY)
    end(town.sessions, ADMIN, mode.id, now=NOW + 2 * HOUR)
    for after in (_in_mode(town, NORTH_LEADER, NOW + 2 * HOUR), _in_mode(town, NORTH_LEADER, NOW + 4 * HOUR)):
        out.unlink(missing_ok=True)
        with pytest.raises(errors.Forbidden):
            write_plan(town.sessions, after, "A0002", out, today=TODAY)
        assert not out.exists()


@pytest.mark.parametrize("who", [STAFF, NORTH_LEADER, Principal("trainer", Role.TRAINER, KURUME),
                                 Principal("care", Role.CARE_PROFESSIONAL, KURUME, professional_name="介護 支子")])
def test_only_the_city_administrator_declares_or_ends_and_refusals_are_audited(town, who: Principal) -> None:
    assert not access.can(who, Action.DECLARE_DISASTER_MODE)
    with pytest.raises(errors.Forbidden, match="災害時モードの宣言・終了"):
        declare(town.sessions, who, "理由", ["北"], NOW + HOUR, now=NOW)
    assert _modes(town) == 0
    mode = declare(town.sessions, ADMIN, "理由", ["北"], NOW + HOUR, now=NOW)
    with pytest.raises(errors.Forbidden):
        end(town.sessions, who, mode.id, now=NOW)
    with town.sessions() as session:
        assert active(session, KURUME, NOW).modes[0].id == mode.id  # still on
    refused_declare, declared, refused_end = _log(town)
    assert (refused_declare["action"], refused_declare["allowed"], refused_declare["actor"]) == (
        "disaster_mode.declare", False, who.login)
    assert (declared["action"], declared["allowed"]) == ("disaster_mode.declare", True)
    assert (refused_end["action"], refused_end["allowed"], refused_end["details"]) == (
        "disaster_mode.end", False, {"disaster_mode": mode.id})
    assert _verified(town).ok


def test_declarations_and_ends_are_in_the_audit_log_and_the_chain_verifies(town) -> None:
    first = declare(town.sessions, ADMIN, "  大雨特別警報  ", ["北", "南", "北"], NOW + 2 * HOUR, now=NOW, origin="10.0.0.1")
    end(town.sessions, ADMIN, first.id, now=NOW + HOUR)
    second = declare(town.sessions, ADMIN, "再宣言", [], NOW + MAX_DURATION, now=NOW + HOUR)
    declared, ended, again = _log(town)
    assert declared == declared | {
        "actor": "admin", "role": "city_admin", "city_code": KURUME, "action": "disaster_mode.declare",
        "target_kind": "disaster_mode", "allowed": True, "origin": "10.0.0.1", "resident_ids": [],
        "details": {"disaster_mode": first.id, "reason": "大雨特別警報", "districts": ["北", "南"],
                    "ends_at": (NOW + 2 * HOUR).isoformat()}}
    assert dt.datetime.fromisoformat(declared["at"]) == NOW
    assert (ended["action"], ended["details"]["disaster_mode"], dt.datetime.fromisoformat(ended["at"])) == (
        "disaster_mode.end", first.id, NOW + HOUR)
    assert again["details"]["disaster_mode"] == second.id and again["details"]["districts"] == []
    assert _verified(town).ok and _verified(town).checked == 3
    with pytest.raises(errors.Conflict, match="すでに終了"):
        end(town.sessions, ADMIN, first.id, now=NOW + HOUR)
    with pytest.raises(errors.NotFound):  # another city's administrator cannot see it
        end(town.sessions, OTHER_ADMIN, second.id, now=NOW + HOUR)
    with pytest.raises(errors.NotFound):
        end(town.sessions, ADMIN, 999, now=NOW + HOUR)
    assert len(_log(town)) == 3  # failed ends write nothing


@pytest.mark.parametrize(("reason", "districts", "ends_at", "error", "message"), [
    ("", ["北"], NOW + HOUR, errors.Rejected, "理由を入力"),
    ("   ", ["北"], NOW + HOUR, errors.Rejected, "理由を入力"),
    ("理由", ["北"], NOW - HOUR, errors.Rejected, "過ぎています"),
    ("理由", ["北"], NOW, errors.Rejected, "過ぎています"),
    ("理由", ["北"], NOW + MAX_DURATION + dt.timedelta(minutes=1), errors.Rejected, "最長 7 日間"),
    ("理由", ["北"], dt.datetime(2026, 7, 8, 12, 0), errors.Rejected, "時差"),
    ("理由", ["北", "東"], NOW + HOUR, errors.NotFound, "校区「東」はこの市町村に登録されていません"),
    ("理由" * 300, ["北"], NOW + HOUR, errors.Rejected, "500 文字以内"),
])
def test_bad_input_is_refused_in_japanese_and_writes_nothing(town, reason: str, districts: list[str],
                                                             ends_at: dt.datetime, error: type[Exception],
                                                             message: str) -> None:
    with pytest.raises(error, match=message):
        declare(town.sessions, ADMIN, reason, districts, ends_at, now=NOW)
    assert _modes(town) == 0 and _log(town) == []


def test_a_city_without_districts_cannot_declare(store) -> None:
    with pytest.raises(errors.NotReady, match="校区が登録されていません"):
        declare(store.sessions, ADMIN, "理由", [], NOW + HOUR, now=NOW)
    assert _modes(store) == 0


def test_overlapping_declarations_and_the_listing(town) -> None:
    north = declare(town.sessions, ADMIN, "北の浸水", ["北"], NOW + 2 * HOUR, now=NOW)
    south = declare(town.sessions, ADMIN, "南の土砂災害", ["南"], NOW + 5 * HOUR, now=NOW + HOUR)
    with town.sessions() as session:
        both = active(session, KURUME, NOW + HOUR)
        later = active(session, KURUME, NOW + 3 * HOUR)
    assert (both.districts, both.all, [m.id for m in both.modes]) == (frozenset({"北", "南"}), False, [north.id, south.id])
    assert both.audit_details() == {"disaster_mode": [north.id, south.id]}
    assert later.audit_details() == {"disaster_mode": south.id}
    with town.sessions() as session:
        assert active(session, KURUME, NOW + 6 * HOUR).audit_details() == {}
    with town.sessions() as session, session.begin():  # reads under the modes, as a reader records them
        leader = principal_in_mode(NORTH_LEADER, both)
        auditlog.record(session, leader, auditlog.Action.MAP, residents=["A0002"], details=both.audit_details(),
                        at=NOW + HOUR)
        auditlog.record(session, SOUTH_LEADER, auditlog.Action.MAP, residents=["A0004"], details=later.audit_details(),
                        at=NOW + 3 * HOUR)
    end(town.sessions, ADMIN, south.id, now=NOW + 4 * HOUR)
    listing = list_modes(town.sessions, KURUME, now=NOW + 5 * HOUR)
    assert [(m.mode.id, m.status, m.on, m.reads) for m in listing] == [
        (south.id, "早期に終了", False, 2), (north.id, "期限で終了", False, 1)]
    # the state at a moment before the early end
    assert [m.status for m in list_modes(town.sessions, KURUME, now=NOW + HOUR)] == ["実施中", "実施中"]
    assert listing[0].as_dict()["ended_by"] == "admin" and listing[1].as_dict()["districts"] == ["北"]
    assert list_modes(town.sessions, OTHER) == []
    with town.sessions() as session:
        assert session.scalar(select(func.count(AuditEntry.id))) == 5 and _verified(town).ok
