"""Authorisation-matrix cases of the api routes (see tests/access_matrix.py): imports, 災害時モード,
users, maps, exercise sessions/findings/report, the audit export.

Cases that change state undo it within the same role's run, in route order: a declaration is
ended, a throwaway account is added then disabled, an exercise session recorded then deleted, an
upload of the city's own boundary committed (the same geometry) then its record discarded. A role
that may not act is asked with a real body, so the refusal comes from the access rule."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from sqlalchemy import select

from disaster.models import DisasterMode, ExerciseSession, User
from disaster.web import imports as web_imports
from tests.access_matrix import CITY, Case, CaseMaker, World
from tests.conftest import BUNDLE
from tests.web_fixtures import PASSWORD, ROLES

API = "/api/v1"
MARK = "行列試験"  # reason / facilitator / login of what the matrix creates
ABSENT_ID = 999_999
ADMIN = "city_admin"
RECORDERS = (*CITY, "leader", "trainer")  # 図上訓練 records (a leader: own 校区)


def _admin_only(status: int) -> dict[str, int]:
    return {role: status if role == ADMIN else 403 for role in ROLES}


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", f"{API}/users"): _admin_only(200),
    ("GET", f"{API}/imports"): _admin_only(200),
    ("GET", f"{API}/disaster-mode"): dict.fromkeys(ROLES, 200),
    ("GET", f"{API}/maps/city"): dict.fromkeys(ROLES, 200),
    ("GET", f"{API}/exercises/report"): {role: 200 if role in RECORDERS else 403 for role in ROLES},
    ("GET", f"{API}/audit/export.csv"): _admin_only(200),
}


# --- 災害時モード: the administrator declares for the home 校区, then ends it ---

def _declare(world: World, role: str, emergency: bool) -> list[Case]:
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    body = {"reason": f"{MARK}（{role}）", "districts": [world.chosen.home], "ends_at": ends}
    return [(f"{API}/disaster-mode", {"json": body}, 201 if role == ADMIN else 403)]


def _end(world: World, role: str, emergency: bool) -> list[Case]:
    with world.store.sessions() as session:
        open_ids = list(session.scalars(select(DisasterMode.id).where(DisasterMode.reason.startswith(MARK),
                                                                      DisasterMode.ended_at.is_(None))))
    if role != ADMIN:
        return [(f"{API}/disaster-mode/{open_ids[0] if open_ids else ABSENT_ID}/end", {}, 403)]
    assert open_ids, "the administrator's declaration (the case before) is not in force"
    return [(f"{API}/disaster-mode/{mode_id}/end", {}, 200) for mode_id in open_ids]


# --- users: the administrator adds a throwaway account, sets its password, disables it ---

def _matrix_users(world: World, enabled: bool) -> list[str]:
    with world.store.sessions() as session:
        return list(session.scalars(select(User.login).where(User.login.startswith("matrix-"),
                                                             User.disabled.is_(not enabled)).order_by(User.id)))


def _add_user(world: World, role: str, emergency: bool) -> list[Case]:
    body = {"login": f"matrix-{secrets.token_hex(4)}", "role": "trainer", "password": PASSWORD}
    return [(f"{API}/users", {"json": body}, 201 if role == ADMIN else 403)]


def _targets(world: World, role: str) -> list[str]:
    if role != ADMIN:
        return ["matrix-absent"]
    made = _matrix_users(world, enabled=True)
    assert made, "the administrator's throwaway account (the case before) is missing"
    return made


def _set_password(world: World, role: str, emergency: bool) -> list[Case]:
    targets = _targets(world, role)
    return [(f"{API}/users/{login}/password", {"json": {"password": PASSWORD + "!"}}, 204 if role == ADMIN else 403)
            for login in targets]


def _disable(world: World, role: str, emergency: bool) -> list[Case]:
    targets = _targets(world, role)
    return [(f"{API}/users/{login}/disable", {}, 200 if role == ADMIN else 403) for login in targets]


def _own_password(world: World, role: str, emergency: bool) -> list[Case]:
    """Every role may change its own password, given the current one: a wrong one is refused
    (changing it for real would end the matrix's own sessions; tests/test_web_users.py does that)."""
    body = {"current_password": "not the password", "new_password": PASSWORD + "?"}
    return [(f"{API}/auth/password", {"json": body}, 403)]


# --- maps: every role gets a map of any 校区 and the city; what it shows follows the view ---

def _district_maps(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"{API}/maps/districts/{district}", {}, 200) for district in (world.chosen.home, world.chosen.away)]


def _assets(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"{API}/maps/assets/leaflet.js", {}, 200), (f"{API}/maps/assets/images/marker-icon.png", {}, 200)]


# --- 図上訓練 records: a session recorded, a finding added, the session deleted ---

def _facilitator(role: str) -> str:
    return f"{MARK}-{role}"


def _sessions(world: World, role: str, emergency: bool) -> list[Case]:
    home, away = world.chosen.home, world.chosen.away
    everywhere = 200 if role in (*CITY, "trainer") else 403
    own = 200 if role in RECORDERS else 403
    return [(f"{API}/exercises/sessions", {}, own), (f"{API}/exercises/sessions", {"params": {"district": home}}, own),
            (f"{API}/exercises/sessions", {"params": {"district": away}}, everywhere)]


def _record(world: World, role: str, emergency: bool) -> list[Case]:
    body: dict[str, Any] = {"district": world.chosen.home, "held_on": "2026-06-14", "hazard": "flood",
                            "facilitator": _facilitator(role), "participants": {"住民": 10}}
    cases: list[Case] = [(f"{API}/exercises/sessions", {"json": body}, 201 if role in RECORDERS else 403)]
    if role == "leader":
        cases.append((f"{API}/exercises/sessions", {"json": body | {"district": world.chosen.away}}, 403))
    return cases


def _session_of(world: World, role: str) -> int:
    """The session this role's run recorded, or for a role that may not record, any session of the
    home 校区 (to be refused)."""
    with world.store.sessions() as session:
        mine = session.scalar(select(ExerciseSession.id).where(ExerciseSession.facilitator == _facilitator(role)))
        if role in RECORDERS:
            assert mine is not None, "the session recorded by the case before is missing"
            return mine
        other = session.scalar(select(ExerciseSession.id).where(ExerciseSession.district.has(name=world.chosen.home))
                               .order_by(ExerciseSession.id).limit(1))
    assert other is not None, "the demo has past sessions"
    return other


def _findings(world: World, role: str, emergency: bool) -> list[Case]:
    url = f"{API}/exercises/sessions/{_session_of(world, role)}/findings"
    plain = {"json": {"issue": "避難経路の冠水", "action": "別の経路を確かめる"}}
    named = {"json": {"issue": "夜間の支援者がいない", "resident_no": world.chosen.inside_yes.resident_no}}
    if role not in RECORDERS:
        return [(url, plain, 403), (url, named, 403)]
    return [(url, plain, 201), (url, named, 403 if role == "trainer" else 201)]  # a trainer sees no one


def _delete_session(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"{API}/exercises/sessions/{_session_of(world, role)}", {}, 204 if role in RECORDERS else 403)]


# --- imports: the administrator uploads the city's own boundary, reads, commits, discards ---

def _pending(world: World) -> list[str]:
    root = web_imports.pending_root(world.app.state.store)
    found = []
    for folder in sorted(root.iterdir()):
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest["files"] == ["city_boundary.geojson"] and manifest["uploaded_by"] == ADMIN:
            found.append(folder.name)
    return found


def _upload(world: World, role: str, emergency: bool) -> list[Case]:
    boundary = (BUNDLE / "city_boundary.geojson").read_bytes()
    request = {"data": {"kind": "boundary"}, "files": {"files": ("city_boundary.geojson", boundary, "application/geo+json")}}
    return [(f"{API}/imports", request, 201 if role == ADMIN else 403)]


def _on_pending(suffix: str, method_status: int) -> CaseMaker:
    def cases(world: World, role: str, emergency: bool) -> list[Case]:
        if role != ADMIN:
            return [(f"{API}/imports/{'x' * 22}{suffix}", {}, 403)]
        uploaded = _pending(world)
        assert uploaded, "the administrator's upload (the case before) is missing"
        return [(f"{API}/imports/{import_id}{suffix}", {}, method_status) for import_id in uploaded]
    return cases


CASES: dict[tuple[str, str], CaseMaker] = {
    ("POST", f"{API}/disaster-mode"): _declare,
    ("POST", f"{API}/disaster-mode/{{mode_id}}/end"): _end,
    ("POST", f"{API}/users"): _add_user,
    ("POST", f"{API}/users/{{login}}/password"): _set_password,
    ("POST", f"{API}/users/{{login}}/disable"): _disable,
    ("POST", f"{API}/auth/password"): _own_password,
    ("GET", f"{API}/maps/districts/{{district}}"): _district_maps,
    ("GET", f"{API}/maps/assets/{{name:path}}"): _assets,
    ("GET", f"{API}/exercises/sessions"): _sessions,
    ("POST", f"{API}/exercises/sessions"): _record,
    ("POST", f"{API}/exercises/sessions/{{session_id}}/findings"): _findings,
    ("DELETE", f"{API}/exercises/sessions/{{session_id}}"): _delete_session,
    ("POST", f"{API}/imports"): _upload,
    ("GET", f"{API}/imports/{{import_id}}"): _on_pending("", 200),
    ("POST", f"{API}/imports/{{import_id}}/commit"): _on_pending("/commit", 200),
    ("DELETE", f"{API}/imports/{{import_id}}"): _on_pending("", 204),
}
