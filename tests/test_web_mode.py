"""災害時モード over HTTP: every role sees whether it is on and where; the city administrator
declares and ends it; refusals and bad input are answered in the one error shape and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from disaster.models import DisasterMode
from tests.conftest import Store
from tests.web_fixtures import (
    ROLES,
    Cast,
    app,  # noqa: F401  (fixture)
    chosen,  # noqa: F401  (fixture)
    clients,  # noqa: F401  (fixture)
    last_audit,
    web_store,  # noqa: F401  (fixture)
)

MODE = "/api/v1/disaster-mode"


def _later(hours: float = 2) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


def test_declare_shows_to_every_role_and_opens_the_leaders_view_until_ended(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store) -> None:  # noqa: F811
    admin, leader = clients["city_admin"], clients["leader"]
    hidden = f"/api/v1/residents/{chosen.inside_no.resident_no}"
    assert leader.get(hidden).status_code == 403
    answer = admin.post(MODE, json={"reason": "筑後川の氾濫のおそれ（試験）", "districts": [chosen.home], "ends_at": _later()})
    assert answer.status_code == 201, answer.text
    mode = answer.json()
    assert (mode["on"], mode["status"], mode["districts"], mode["all_districts"], mode["declared_by"]) == (
        True, "実施中", [chosen.home], False, "city_admin")
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.allowed, entry.details["disaster_mode"]) == (
        "city_admin", "disaster_mode.declare", True, mode["id"])
    try:
        for role in ROLES:
            listing = clients[role].get(MODE).json()
            assert listing["on"] and listing["districts"] == [chosen.home], role
            assert listing["items"][0]["id"] == mode["id"] and listing["items"][0]["on"]
        assert leader.get(hidden).json()["name"] == chosen.inside_no.name
        assert "disaster_mode" in last_audit(web_store).details  # the read under the mode names it
    finally:
        ended = admin.post(f"{MODE}/{mode['id']}/end")
    assert ended.status_code == 200 and (ended.json()["on"], ended.json()["status"]) == (False, "早期に終了")
    assert ended.json()["reads"] >= 1
    assert leader.get(hidden).status_code == 403
    listing = clients["trainer"].get(MODE).json()
    assert not listing["on"] and listing["districts"] == []
    assert admin.post(f"{MODE}/{mode['id']}/end").status_code == 409  # already ended


@pytest.mark.parametrize("role", ["city_staff", "leader", "trainer", "care_professional"])
def test_only_the_city_administrator_declares_and_ends(
        clients: dict[str, TestClient], chosen: Cast, role: str, web_store: Store) -> None:  # noqa: F811
    with web_store.sessions() as session:
        before = session.scalar(select(func.count()).select_from(DisasterMode))
    refused = clients[role].post(MODE, json={"reason": "試験", "districts": [chosen.home], "ends_at": _later()})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.allowed) == (role, "disaster_mode.declare", False)
    assert clients[role].post(f"{MODE}/1/end").status_code == 403
    assert (last_audit(web_store).action, last_audit(web_store).allowed) == ("disaster_mode.end", False)
    with web_store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisasterMode)) == before


@pytest.mark.parametrize(("body", "words"), [
    ({"reason": "", "districts": ["X"], "ends_at": "in"}, "ends_at"),
    ({"reason": "  ", "all_districts": True, "ends_at": "+2"}, "理由"),
    ({"reason": "試験", "ends_at": "+2"}, "どちらか一方"),  # neither 校区 nor all: no accidental "all"
    ({"reason": "試験", "districts": ["X"], "all_districts": True, "ends_at": "+2"}, "どちらか一方"),
    ({"reason": "試験", "districts": ["存在しない校区"], "ends_at": "+2"}, "登録されていません"),
    ({"reason": "試験", "all_districts": True, "ends_at": "-1"}, "過ぎています"),
    ({"reason": "試験", "all_districts": True, "ends_at": "+200"}, "最長 7 日間"),
    ({"reason": "試験", "all_districts": True, "ends_at": "2030-01-01T00:00:00"}, "時差"),
])
def test_bad_declarations_are_refused_in_japanese(
        clients: dict[str, TestClient], body: dict[str, object], words: str, web_store: Store) -> None:  # noqa: F811
    ends = str(body["ends_at"])
    if ends[0] in "+-":
        body = body | {"ends_at": _later(float(ends))}
    with web_store.sessions() as session:
        before = session.scalar(select(func.count()).select_from(DisasterMode))
    answer = clients["city_admin"].post(MODE, json=body)
    assert answer.status_code in (404, 422) and words in answer.json()["error"]["message"], answer.text
    with web_store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisasterMode)) == before


def test_all_districts_and_an_unknown_mode(clients: dict[str, TestClient]) -> None:  # noqa: F811
    admin = clients["city_admin"]
    mode = admin.post(MODE, json={"reason": "大雨特別警報（試験）", "all_districts": True, "ends_at": _later()}).json()
    try:
        listing = clients["leader"].get(MODE).json()
        assert listing["on"] and listing["all_districts"] and mode["all_districts"] and mode["districts"] == []
    finally:
        assert admin.post(f"{MODE}/{mode['id']}/end").status_code == 200
    assert admin.post(f"{MODE}/{2**40}/end").status_code == 422
    missing = admin.post(f"{MODE}/999999/end")
    assert missing.status_code == 404 and "999999" in missing.json()["error"]["message"]
