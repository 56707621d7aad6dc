"""The quick start's service: the demo store gets one account per role, the app runs on it with
the default secret, and each demo role sees over HTTP only what it may see."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster import errors
from disaster.models import CareProfessional, District, Resident, User
from disaster.settings import Settings
from disaster.usecases.demo import DemoAccount, demo_accounts
from disaster.web import create_app
from tests.conftest import BUNDLE, Store
from tests.web_fixtures import web_store  # noqa: F401  (fixture)

DISTRICT = "安武"  # the demo's sample 校区 (manifest)
LOGIN = "/api/v1/auth/login"


def _client(store: Store) -> TestClient:
    settings = Settings(db=store.url, allowed_hosts=["testserver"])  # the default secret: allowed on the demo only
    return TestClient(create_app(settings))


def _residents(client: TestClient, account: DemoAccount, district: str) -> tuple[int, set[str]]:
    assert client.post(LOGIN, json={"login": account.login, "password": account.password}).status_code == 200
    seen: set[str] = set()
    page, pages = 1, 1
    while page <= pages:
        answer = client.get("/api/v1/residents", params={"district": district, "page": page})
        if answer.status_code != 200:
            return answer.status_code, set()
        body = answer.json()
        seen |= {item["resident_no"] for item in body["items"]}
        page, pages = page + 1, body["pages"]
    return 200, seen


def test_each_demo_role_sees_only_what_it_may(web_store: Store) -> None:  # noqa: F811
    assert BUNDLE.is_dir()
    accounts = {a.login: a for a in demo_accounts(web_store.sessions, web_store.city_code, DISTRICT)}
    assert set(accounts) == {"demo-admin", "demo-staff", "demo-leader", "demo-trainer", "demo-care"}
    with web_store.sessions() as session:
        rows = session.execute(select(Resident.resident_no, Resident.consent_share, Resident.id)
                               .join(District, Resident.district_id == District.id).where(District.name == DISTRICT)).all()
        professional_of = {}
        for resident_id, name in session.execute(select(CareProfessional.resident_id, CareProfessional.name)):
            professional_of.setdefault(resident_id, set()).add(name)
    everyone = {r.resident_no for r in rows}
    consenting = {r.resident_no for r in rows if r.consent_share}
    with web_store.sessions() as session:
        name = session.scalar(select(User.professional_name).where(User.login == "demo-care"))
    assert name and name in accounts["demo-care"].scope
    assigned = {r.resident_no for r in rows if name in professional_of.get(r.id, set())}
    assert consenting and consenting != everyone and assigned

    assert _residents(_client(web_store), accounts["demo-admin"], DISTRICT) == (200, everyone)
    assert _residents(_client(web_store), accounts["demo-staff"], DISTRICT) == (200, everyone)
    assert _residents(_client(web_store), accounts["demo-leader"], DISTRICT) == (200, consenting)
    assert _residents(_client(web_store), accounts["demo-leader"], "荒木")[0] == 403  # another 校区
    trainer = _residents(_client(web_store), accounts["demo-trainer"], DISTRICT)
    assert trainer[0] == 403 or trainer[1] == set()  # never a named resident
    assert _residents(_client(web_store), accounts["demo-care"], DISTRICT) == (200, assigned)


def test_running_the_demo_again_gives_new_passwords(web_store: Store) -> None:  # noqa: F811
    first = {a.login: a.password for a in demo_accounts(web_store.sessions, web_store.city_code, DISTRICT)}
    second = {a.login: a.password for a in demo_accounts(web_store.sessions, web_store.city_code, DISTRICT)}
    client = _client(web_store)
    assert client.post(LOGIN, json={"login": "demo-admin", "password": first["demo-admin"]}).status_code == 401
    assert client.post(LOGIN, json={"login": "demo-admin", "password": second["demo-admin"]}).status_code == 200


def test_no_demo_accounts_and_no_default_secret_on_a_store_with_real_data(store: Store, tmp_path: Path) -> None:
    with pytest.raises(errors.Rejected):
        demo_accounts(store.sessions, store.city_code, DISTRICT)
    with pytest.raises(errors.NotReady):
        create_app(Settings(db=store.url))
