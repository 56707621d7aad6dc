"""Authorisation-matrix cases of the jobs routes (see tests/access_matrix.py).

The matrix's app runs no job worker (no lifespan), so a job it asks for stays queued; every case
maker first cancels the queued jobs earlier cases left (``_tidy``), so the world keeps no pending
work. The jobs the cases read, cancel, rerun or download are written straight into the table."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from sqlalchemy import update

from disaster.models import Job
from tests.access_matrix import CITY, Case, CaseMaker, World
from tests.conftest import KURUME
from tests.web_fixtures import ROLES

MISSING = 999_999
_made: dict[tuple[int, str], int] = {}


def _insert(world: World, owner: str, kind: str, parameters: dict[str, Any], state: str, **values: Any) -> int:
    now = dt.datetime.now(dt.UTC)
    with world.store.sessions() as session, session.begin():
        job = Job(city_code=KURUME, kind=kind, parameters=parameters,
                  state=state, progress=100 if state == "succeeded" else 0, message="", created_by=owner,
                  creator_role=owner, created_at=now, cancel_requested=False, **({"result_residents": []} | values))
        session.add(job)
        session.flush()
        return job.id


def _fixed(world: World, name: str) -> int:
    """The jobs the cases share, made once per world."""
    key = (id(world.store), name)
    if key not in _made:
        chosen = world.chosen
        plans = {"district": chosen.home, "large_print": False, "include_drafts": False}
        if name == "staff_failed":
            _made[key] = _insert(world, "city_staff", "assessment", {}, "failed", error="テスト用の失敗")
        elif name == "staff_running":
            _made[key] = _insert(world, "city_staff", "assessment", {}, "running", worker="elsewhere:1")
        elif name == "leader_failed":
            _made[key] = _insert(world, "leader", "district_plans", plans, "failed", error="テスト用の失敗")
        else:  # leader_result: a finished 校区 plans job holding one consenting resident of the leader's 校区
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w") as zipped:
                zipped.writestr("index.csv", f"名簿番号\n{chosen.inside_yes.resident_no}\n")
            data = archive.getvalue()
            _made[key] = _insert(world, "leader", "district_plans", plans, "succeeded", result=data,
                                 result_name="plans.zip", result_type="application/zip", result_size=len(data),
                                 result_residents=[chosen.inside_yes.resident_no])
    return _made[key]


def _tidy(world: World) -> None:
    with world.store.sessions() as session, session.begin():
        session.execute(update(Job).where(Job.state == "queued").values(state="cancelled", cancel_requested=True))


def _owner_or_admin(owner: str, yes: int) -> dict[str, int]:
    return {role: yes if role in (owner, "city_admin") else 403 for role in ROLES}


def _job_read(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [(f"/api/v1/jobs/{_fixed(world, 'staff_failed')}", {}, _owner_or_admin("city_staff", 200).get(role)),
            (f"/api/v1/jobs/{MISSING}", {}, 404)]


def _cancel(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    own = _insert(world, role, "assessment", {}, "queued")
    return [(f"/api/v1/jobs/{own}/cancel", {}, 200),
            (f"/api/v1/jobs/{_fixed(world, 'staff_failed')}/cancel", {}, _owner_or_admin("city_staff", 409).get(role))]


def _rerun(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [(f"/api/v1/jobs/{_fixed(world, 'staff_failed')}/rerun", {}, _owner_or_admin("city_staff", 202).get(role)),
            (f"/api/v1/jobs/{_fixed(world, 'leader_failed')}/rerun", {}, _owner_or_admin("leader", 202).get(role))]


def _result(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [(f"/api/v1/jobs/{_fixed(world, 'leader_result')}/result", {}, _owner_or_admin("leader", 200).get(role)),
            (f"/api/v1/jobs/{_fixed(world, 'staff_running')}/result", {}, _owner_or_admin("city_staff", 409).get(role))]


def _district_plans(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    home, away = world.chosen.home, world.chosen.away
    city = role in CITY
    leader = role == "leader"
    return [(f"/api/v1/districts/{home}/plans", {"json": {}}, 202 if city or leader else 403),
            (f"/api/v1/districts/{away}/plans", {"json": {}}, 202 if city else 403),
            (f"/api/v1/districts/{home}/plans", {"json": {"include_drafts": True}},
             202 if city or (leader and emergency) else 403),
            ("/api/v1/districts/存在しない校区/plans", {"json": {}}, 404 if city else 403)]


def _exercise_pack(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    home, away = world.chosen.home, world.chosen.away
    city = role in CITY
    leader, trainer = role == "leader", role == "trainer"
    return [("/api/v1/exercises/packs", {"json": {"district": home, "hazard": "flood", "seed": 3}},
             202 if city or leader or trainer else 403),
            ("/api/v1/exercises/packs", {"json": {"district": away, "hazard": "landslide"}}, 202 if city or trainer else 403),
            ("/api/v1/exercises/packs", {"json": {"district": home, "closed_session": True}}, 202 if city or leader else 403)]


def _assessment(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    return [("/api/v1/assessments", {"json": {}}, 202 if role in CITY else 403)]


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/v1/jobs"): dict.fromkeys(ROLES, 200),
}
CASES: dict[tuple[str, str], CaseMaker] = {
    ("GET", "/api/v1/jobs/{job_id}"): _job_read,
    ("POST", "/api/v1/jobs/{job_id}/cancel"): _cancel,
    ("POST", "/api/v1/jobs/{job_id}/rerun"): _rerun,
    ("GET", "/api/v1/jobs/{job_id}/result"): _result,
    ("POST", "/api/v1/districts/{district}/plans"): _district_plans,
    ("POST", "/api/v1/exercises/packs"): _exercise_pack,
    ("POST", "/api/v1/assessments"): _assessment,
}
