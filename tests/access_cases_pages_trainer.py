"""Authorisation-matrix cases of the trainer's pages (see tests/access_matrix.py and tests/access_cases_pages.py).

Who: city roles and trainers in any 校区, a leader in their own (``EXERCISE_RECORDS``,
``EXERCISE_PACK``), a 福祉専門職 never; a closed session's pack only for the city and the 校区's
leader; a pack's page, map and rerun only for its creator and the city administrator. Each role's
run records a session of its own through the page (facilitator ``行列試験-頁-<role>``), reads it,
adds findings (one pointing at a pseudonymised person — allowed to a trainer too, who names no
one), corrects it, updates a finding, and removes the session last (the delete route is the last
of the area's routes), so the world is left as it was found."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from sqlalchemy import select

from disaster.access import Principal
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import ExerciseFinding, ExerciseSession
from disaster.usecases import exercises
from tests.access_cases_jobs import MISSING, _fixed, _insert, _tidy
from tests.access_matrix import CITY, Case, CaseMaker, World
from tests.conftest import KURUME
from tests.web_fixtures import ROLES

RECORDERS = (*CITY, "leader", "trainer")
PACKERS = RECORDERS
MARK = "行列試験-頁"
PACK = {"district": "", "hazard": "flood", "start": "2026-07-08T18:00:00", "duration": 2, "difficulty": 2, "seed": 1,
        "closed_session": False, "monochrome": False, "dig_size": "A1"}
_made: dict[tuple[int, str], int] = {}


def _own(role: str) -> str:
    return f"{MARK}-{role}"


def _may(role: str, allowed: tuple[str, ...], yes: int) -> int:
    return yes if role in allowed else 403


def _memo(world: World, name: str, make: Any) -> int:
    key = (id(world.store), name)
    if key not in _made:
        _made[key] = make()
    return _made[key]


def _pack_job(world: World, state: str) -> int:
    """A pack job of the trainer's for the home 校区: succeeded (its ZIP holds an exercise map) or failed."""
    def make() -> int:
        parameters = PACK | {"district": world.chosen.home}
        if state == "failed":
            return _insert(world, "trainer", "exercise_pack", parameters, "failed", error="テスト用の失敗")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("exercise_map.html", '<!doctype html><html lang="ja"><head><title>地図</title>'
                                                 '<script src="assets/leaflet.js"></script><script>var cards = 1;</script>'
                                                 '</head><body>状況付与の地図</body></html>')
        data = archive.getvalue()
        return _insert(world, "trainer", "exercise_pack", parameters, "succeeded", result=data,
                       result_name="pack.zip", result_type="application/zip", result_size=len(data))
    return _memo(world, f"pack_{state}", make)


def _away_finding(world: World) -> int:
    """A finding of a session of the other 校区 (none of the leader's), recorded by the city."""
    def make() -> int:
        data = exercises.SessionInput(dt.date(2026, 5, 10), world.chosen.away, ExerciseHazard.FLOOD, f"{MARK}-他校区",
                                      {"住民": 5}, findings=[{"issue": "集会所の鍵の保管場所"}])
        recorded = exercises.record_session(world.store.sessions, Principal.cli(KURUME), data)
        with world.store.sessions() as session:
            finding = session.scalar(select(ExerciseFinding.id).where(ExerciseFinding.session_id == recorded.id))
        assert finding is not None
        return finding
    return _memo(world, "away_finding", make)


def _away_session(world: World) -> int:
    _away_finding(world)
    with world.store.sessions() as session:
        found = session.scalar(select(ExerciseSession.id).where(ExerciseSession.facilitator == f"{MARK}-他校区"))
    assert found is not None
    return found


def _session_of(world: World, role: str) -> int:
    """The session this role's run recorded through the page; for a role that records none, the other 校区's."""
    if role not in RECORDERS:
        return _away_session(world)
    with world.store.sessions() as session:
        mine = session.scalar(select(ExerciseSession.id).where(ExerciseSession.facilitator == _own(role)))
    assert mine is not None, "the session recorded by the case before is missing"
    return mine


def _finding_of(world: World, role: str) -> int:
    if role not in RECORDERS:
        return _away_finding(world)
    with world.store.sessions() as session:
        found = session.scalar(select(ExerciseFinding.id).where(ExerciseFinding.session_id == _session_of(world, role))
                               .order_by(ExerciseFinding.id).limit(1))
    assert found is not None, "the finding added by the case before is missing"
    return found


def _person(world: World, district: str) -> int:
    """A person of the 校区's pseudonymised list (flood), by internal id."""
    people = exercises.pseudonymised_people(world.store.sessions, Principal.cli(KURUME), district, ExerciseHazard.FLOOD)
    assert people, f"no one at risk of a flood in {district}"
    return people[0].resident_id


# --- packs ---

def _pack_form(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/trainer/packs/new", {}, _may(role, PACKERS, 200)),
            ("/trainer/packs/new", {"params": {"district": world.chosen.away}}, _may(role, PACKERS, 200))]


def _pack_create(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    home, away = world.chosen.home, world.chosen.away
    form = {"hazard": "flood", "day": "2026-07-08", "time": "18:00", "duration": "2", "difficulty": "2", "seed": "3",
            "dig_size": "A1"}
    leader_or_city = role in (*CITY, "leader")
    return [("/trainer/packs", {"data": form | {"district": home}}, _may(role, PACKERS, 303)),
            ("/trainer/packs", {"data": form | {"district": away}}, _may(role, (*CITY, "trainer"), 303)),
            ("/trainer/packs", {"data": form | {"district": home, "closed_session": "1"}}, 303 if leader_or_city else 403),
            ("/trainer/packs", {"data": form | {"district": home, "seed": "たくさん"}}, _may(role, PACKERS, 422))]


def _owner_or_admin(role: str, yes: int) -> int:
    return yes if role in ("trainer", "city_admin") else 403


def _pack_page(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    other_kind = _fixed(world, "staff_failed")  # an assessment of city_staff's: not a pack
    return [(f"/trainer/packs/{_pack_job(world, 'succeeded')}", {}, _owner_or_admin(role, 200)),
            (f"/trainer/packs/{other_kind}", {}, 404 if role in CITY else 403),
            (f"/trainer/packs/{MISSING}", {}, 404)]


def _pack_map(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [(f"/trainer/packs/{_pack_job(world, 'succeeded')}/map", {}, _owner_or_admin(role, 200)),
            (f"/trainer/packs/{_pack_job(world, 'failed')}/map", {}, _owner_or_admin(role, 409)),
            (f"/trainer/packs/{MISSING}/map", {}, 404)]


def _pack_rerun(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [(f"/trainer/packs/{_pack_job(world, 'failed')}/rerun", {}, _owner_or_admin(role, 303)),
            (f"/trainer/packs/{MISSING}/rerun", {}, 404)]


# --- sessions and findings ---

def _sessions(world: World, role: str, emergency: bool) -> list[Case]:
    home, away = world.chosen.home, world.chosen.away
    return [("/trainer/sessions", {}, _may(role, RECORDERS, 200)),
            ("/trainer/sessions", {"params": {"district": home, "year": 2026}}, _may(role, RECORDERS, 200)),
            ("/trainer/sessions", {"params": {"district": away}}, _may(role, (*CITY, "trainer"), 200))]


def _session_form(world: World, role: str, emergency: bool) -> list[Case]:
    home, away = world.chosen.home, world.chosen.away
    return [("/trainer/sessions/new", {}, _may(role, RECORDERS, 200)),
            ("/trainer/sessions/new", {"params": {"district": home, "hazard": "flood"}}, _may(role, RECORDERS, 200)),
            ("/trainer/sessions/new", {"params": {"district": away, "hazard": "flood"}}, _may(role, (*CITY, "trainer"), 200))]


def _record(world: World, role: str, emergency: bool) -> list[Case]:
    home, away = world.chosen.home, world.chosen.away
    form = {"hazard": "flood", "held_on": "2026-06-14", "facilitator": _own(role), "p3": "10",
            "f0-issue": "夜間の連絡網", "f0-person": str(_person(world, home))}
    cases: list[Case] = [("/trainer/sessions", {"data": form | {"district": home}}, _may(role, RECORDERS, 303))]
    if role in RECORDERS:  # the same session again: refused on the page (it would lose the findings' progress)
        cases.append(("/trainer/sessions", {"data": form | {"district": home}}, 409))
    cases.append(("/trainer/sessions", {"data": form | {"district": away, "f0-person": ""}},
                  _may(role, (*CITY, "trainer"), 303) if role != "leader" else 403))
    return cases


def _tidy_away_records(world: World, role: str) -> None:
    """The session a role recorded in the other 校区 (by the case above) is not needed further."""
    with world.store.sessions() as session, session.begin():
        for record in session.scalars(select(ExerciseSession).where(ExerciseSession.facilitator == _own(role),
                                                                    ExerciseSession.district.has(name=world.chosen.away))):
            session.delete(record)


def _session_page(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy_away_records(world, role)
    mine = _session_of(world, role)
    return [(f"/trainer/sessions/{mine}", {}, _may(role, RECORDERS, 200)),
            (f"/trainer/sessions/{_away_session(world)}", {}, _may(role, (*CITY, "trainer"), 200)),
            (f"/trainer/sessions/{MISSING}", {}, 404 if role in RECORDERS else 403)]


def _add_finding(world: World, role: str, emergency: bool) -> list[Case]:
    url = f"/trainer/sessions/{_session_of(world, role)}/findings"
    plain = {"data": {"new-issue": "避難経路の冠水", "new-action": "別の経路を確かめる", "new-due": "R8.9.30"}}
    pointed = {"data": {"new-issue": "支援者が夜いない", "new-person": str(_person(world, world.chosen.home))}}
    elsewhere = {"data": {"new-issue": "ほかの校区の方", "new-person": str(_person(world, world.chosen.away))}}
    if role not in RECORDERS:
        return [(url, plain, 403), (url, pointed, 403)]
    return [(url, plain, 303), (url, pointed, 303), (url, elsewhere, 422), (url, {"data": {}}, 422)]


def _edit_form(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"/trainer/sessions/{_session_of(world, role)}/edit", {}, _may(role, RECORDERS, 200)),
            (f"/trainer/sessions/{_away_session(world)}/edit", {}, _may(role, (*CITY, "trainer"), 200))]


def _edit(world: World, role: str, emergency: bool) -> list[Case]:
    url = f"/trainer/sessions/{_session_of(world, role)}/edit"
    return [(url, {"data": {"p3": "12", "rating_overall": "4"}}, _may(role, RECORDERS, 303)),
            (url, {"data": {"p3": "-1"}}, _may(role, RECORDERS, 422))]


def _board(world: World, role: str, emergency: bool) -> list[Case]:
    home, away = world.chosen.home, world.chosen.away
    return [("/trainer/findings", {}, _may(role, RECORDERS, 200)),
            ("/trainer/findings", {"params": {"status": "all", "district": home}}, _may(role, RECORDERS, 200)),
            ("/trainer/findings", {"params": {"status": "完了", "district": away}}, _may(role, (*CITY, "trainer"), 200)),
            ("/trainer/findings", {"params": {"status": "どれでも"}}, _may(role, RECORDERS, 422))]


def _finding_page(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"/trainer/findings/{_finding_of(world, role)}", {}, _may(role, RECORDERS, 200)),
            (f"/trainer/findings/{_away_finding(world)}", {}, _may(role, (*CITY, "trainer"), 200)),
            (f"/trainer/findings/{MISSING}", {}, 404 if role in RECORDERS else 403)]


def _finding_update(world: World, role: str, emergency: bool) -> list[Case]:
    url = f"/trainer/findings/{_finding_of(world, role)}"
    away = f"/trainer/findings/{_away_finding(world)}"
    form = {"issue": "避難経路の冠水", "action": "市に確認する", "owner": "自治会長", "due": "2026-09-30", "status": "対応中"}
    return [(url, {"data": form}, _may(role, RECORDERS, 303)),
            (url, {"data": form | {"issue": ""}}, _may(role, RECORDERS, 422)),
            (url, {"data": form | {"version": "0000000000000000"}}, _may(role, RECORDERS, 409)),
            (away, {"data": form | {"issue": "集会所の鍵の保管場所"}}, _may(role, (*CITY, "trainer"), 303)),
            (f"/trainer/findings/{MISSING}", {"data": form}, 404 if role in RECORDERS else 403)]


def _finding_status(world: World, role: str, emergency: bool) -> list[Case]:
    url = f"/trainer/findings/{_finding_of(world, role)}/status"
    return [(url, {"data": {"status": "完了"}}, _may(role, RECORDERS, 303)),
            (url, {"data": {"status": "済み"}}, _may(role, RECORDERS, 422)),
            (f"/trainer/findings/{_away_finding(world)}/status", {"data": {"status": "未着手"}},
             _may(role, (*CITY, "trainer"), 303))]


def _delete(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"/trainer/sessions/{_session_of(world, role)}/delete", {}, _may(role, RECORDERS, 303))]


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/trainer"): {role: 403 if role == "care_professional" else 200 for role in ROLES},
}
CASES: dict[tuple[str, str], CaseMaker] = {
    ("GET", "/trainer/packs/new"): _pack_form,
    ("POST", "/trainer/packs"): _pack_create,
    ("GET", "/trainer/packs/{job_id}"): _pack_page,
    ("GET", "/trainer/packs/{job_id}/map"): _pack_map,
    ("POST", "/trainer/packs/{job_id}/rerun"): _pack_rerun,
    ("GET", "/trainer/sessions"): _sessions,
    ("GET", "/trainer/sessions/new"): _session_form,
    ("POST", "/trainer/sessions"): _record,
    ("GET", "/trainer/sessions/{session_id}"): _session_page,
    ("POST", "/trainer/sessions/{session_id}/findings"): _add_finding,
    ("GET", "/trainer/sessions/{session_id}/edit"): _edit_form,
    ("POST", "/trainer/sessions/{session_id}/edit"): _edit,
    ("GET", "/trainer/findings"): _board,
    ("GET", "/trainer/findings/{finding_id}"): _finding_page,
    ("POST", "/trainer/findings/{finding_id}"): _finding_update,
    ("POST", "/trainer/findings/{finding_id}/status"): _finding_status,
    ("POST", "/trainer/sessions/{session_id}/delete"): _delete,
}
