"""Authorisation-matrix cases of 安否確認 (its pages and its API ``/api/v1/safety…``) and of the
public pages (see tests/access_matrix.py and tests/access_cases_pages.py).

安否確認 is for the leaders and 福祉専門職 (the residents in their view) and city staff; a
trainer is refused. The matrix's store holds demo data only, so without 災害時モード reports are
a training's; with the mode on they are the disaster's. A report is asked of each of the four
residents with a real body: the refusal of one outside the view comes from the access rule. The
public pages answer everyone, logged in or not."""

from __future__ import annotations

from sqlalchemy import select

from disaster.models import Shelter
from tests.access_matrix import CITY, Case, CaseMaker, World, sees
from tests.web_fixtures import ROLES

NEIGHBOURS = ("leader", "care_professional")
API = "/api/v1/safety"
SAFETY_ROLES = (*NEIGHBOURS, *CITY)
PUBLIC = frozenset({"/public/maps/city", "/public/maps/districts/{district}", "/public/maps/assets/{name:path}"})


def _safety(status: int) -> dict[str, int]:
    return {role: status if role in SAFETY_ROLES else 403 for role in ROLES}


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/safety"): _safety(200),
    ("GET", "/safety/map"): _safety(200),
    ("GET", "/safety/shelters"): _safety(200),
    ("GET", "/public"): dict.fromkeys(ROLES, 200),
    ("GET", "/public/maps/city"): dict.fromkeys(ROLES, 200),
    ("GET", API): _safety(200),
    ("GET", f"{API}/residents"): _safety(200),
    ("GET", f"{API}/shelters"): _safety(200),
    ("GET", f"{API}/export.csv"): _safety(200),
    ("GET", f"{API}/export.xlsx"): _safety(200),
}


def _report(created: int, body: str) -> CaseMaker:
    def cases(world: World, role: str, emergency: bool) -> list[Case]:
        chosen = world.chosen
        payload = {"json": {"status": "無事・在宅"}} if body == "json" else {"data": {"status": "無事・在宅"}}
        return [(f"{API if body == 'json' else '/safety'}/residents/{p.resident_no}", payload,
                 created if sees(role, p, chosen, emergency) else 403) for p in chosen.four]
    return cases


def _shelter_code(world: World) -> str:
    with world.store.sessions() as session:
        code = session.scalar(select(Shelter.code).order_by(Shelter.code).limit(1))
    assert code is not None
    return code


def _count(world: World, role: str, emergency: bool) -> list[Case]:
    code = _shelter_code(world)
    return [(f"{API}/shelters/{code}/count", {"json": {"people": 12}}, 201 if role in CITY else 403),
            (f"{API}/shelters/ない避難所/count", {"json": {"people": 12}}, 404 if role in CITY else 403)]


def _count_page(world: World, role: str, emergency: bool) -> list[Case]:
    code = _shelter_code(world)
    return [(f"/safety/shelters/{code}", {"data": {"people": "12"}}, 303 if role in CITY else 403)]


def _training(path: str, created: int) -> CaseMaker:
    def cases(world: World, role: str, emergency: bool) -> list[Case]:
        # demo data: city staff may start a training, but not under 災害時モード (409)
        return [(path, {}, (409 if emergency else created) if role in CITY else 403)]
    return cases


def _public_district(world: World, role: str, emergency: bool) -> list[Case]:
    return [(f"/public/maps/districts/{world.chosen.home}", {}, 200), ("/public/maps/districts/ない校区", {}, 404)]


def _public_assets(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/public/maps/assets/leaflet.js", {}, 200), ("/public/maps/assets/images/marker-icon.png", {}, 200),
            ("/public/maps/assets/..%2F..%2Fdisaster%2Fsettings.py", {}, 404)]


CASES: dict[tuple[str, str], CaseMaker] = {
    ("POST", f"{API}/residents/{{resident_no}}"): _report(201, "json"),
    ("POST", "/safety/residents/{resident_no}"): _report(303, "form"),
    ("POST", f"{API}/shelters/{{code}}/count"): _count,
    ("POST", "/safety/shelters/{code}"): _count_page,
    ("POST", f"{API}/training"): _training(f"{API}/training", 201),
    ("POST", "/safety/training"): _training("/safety/training", 303),
    ("GET", "/public/maps/districts/{district}"): _public_district,
    ("GET", "/public/maps/assets/{name:path}"): _public_assets,
}
