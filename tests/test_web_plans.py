"""The plan-record API over HTTP: ETag and If-Match, two leaders saving the same version (one 409
showing the other change, nothing lost), unsafe destination refused (422), issue, history, the
PDF of the record, the residents list filters, and the audit entries of it all."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from disaster.access import Principal
from disaster.models import Assessment, PlanRecord, Resident, Shelter
from disaster.usecases.users import add_user
from tests.conftest import KURUME, Store
from tests.web_fixtures import (
    PASSWORD,
    Cast,
    app,  # noqa: F401  (fixture)
    audit_tail,
    chosen,  # noqa: F401  (fixture)
    signed_in,
    web_store,  # noqa: F401  (fixture)
)


@dataclass(frozen=True)
class World:
    store: Store
    chosen: Cast
    app: FastAPI


@pytest.fixture(scope="module")
def world(web_store: Store, chosen: Cast, app: FastAPI) -> World:  # noqa: F811
    add_user(web_store.sessions, Principal.cli(KURUME), "leader2", "leader", PASSWORD, districts=[chosen.home])
    return World(web_store, chosen, app)


def _plan(world: World) -> str:
    """A resident of the leader's 校区 with both consents (the leader may make the plan)."""
    return world.chosen.inside_yes.resident_no


def test_two_leaders_save_the_same_version_one_conflict_nothing_lost(world: World) -> None:
    number = _plan(world)
    first, second = signed_in(world.app, "leader"), signed_in(world.app, "leader2")
    url = f"/api/v1/residents/{number}/plan"
    loaded = [c.get(url) for c in (first, second)]
    assert all(r.status_code == 200 for r in loaded)
    assert loaded[0].headers["etag"] == loaded[1].headers["etag"] == '"0"'
    body = loaded[0].json()
    assert body["version"] == 0 and body["status"] is None and body["can_edit"] is True
    assessed = body["suggestion"]["destination_code"]
    assert body["destinations"][0]["code"] == assessed and body["destinations"][0]["role"] == "assessed"
    # both start from version 0 (the first save creates version 1), then both from version 1
    made = first.put(url, json={"destination_code": assessed, "made_with": ["本人・家族"]}, headers={"If-Match": '"0"'})
    assert made.status_code == 200 and made.headers["etag"] == '"1"'
    both = second.get(url).json()["version"]
    assert both == 1
    a = first.put(url, json={"carry_items": ["お薬手帳", "補聴器"], "destination_code": assessed,
                             "made_with": ["本人・家族"]}, headers={"If-Match": '"1"'})
    b = second.put(url, json={"notes": "夜は長男が在宅", "destination_code": assessed, "made_with": ["本人・家族"],
                              "version": 1})
    assert a.status_code == 200 and a.json()["version"] == 2
    assert a.json()["changes"] == ["持ち出し品: （なし） → お薬手帳、補聴器"]
    assert b.status_code == 409
    error = b.json()["error"]
    assert error["code"] == "conflict" and "第1版" in error["message"] and "第2版" in error["message"]
    assert error["current"]["version"] == 2 and error["current"]["saved_by"] == "leader"
    assert error["current"]["changes"] == ["持ち出し品: （なし） → お薬手帳、補聴器"]
    # the second leader reloads, merges and saves: both edits are there
    fresh = second.get(url)
    merged = fresh.json()["content"] | {"notes": "夜は長男が在宅"}
    retry = second.put(url, json=merged, headers={"If-Match": fresh.headers["etag"]})
    assert retry.status_code == 200 and retry.json()["version"] == 3
    content = second.get(url).json()["content"]
    assert content["carry_items"] == ["お薬手帳", "補聴器"] and content["notes"] == "夜は長男が在宅"
    history = first.get(f"{url}/history").json()["items"]
    assert [(h["version"], h["author_login"]) for h in history] == [(3, "leader2"), (2, "leader"), (1, "leader")]
    assert history[0]["changes"] == ["メモ: （なし） → 夜は長男が在宅"]


def test_an_unsafe_destination_is_refused_naming_the_field(world: World) -> None:
    number = world.chosen.inside_yes.resident_no
    c = signed_in(world.app, "leader")
    url = f"/api/v1/residents/{number}/plan"
    current = c.get(url)
    offered = {d["code"] for d in current.json()["destinations"]}
    with world.store.sessions() as session:
        codes = list(session.scalars(select(Shelter.code).where(Shelter.code.not_in(offered)).order_by(Shelter.code)))
    answer = c.put(url, json={"destination_code": codes[0], "destination_reason": "本人の希望"},
                   headers={"If-Match": current.headers["etag"]})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "rejected" and "避難先: " in answer.json()["error"]["message"]
    assert c.get(url).headers["etag"] == current.headers["etag"]  # nothing saved


def test_issue_the_plan_and_print_it_with_version_and_dates(world: World, tmp_path: Path) -> None:
    number = _plan(world)
    c = signed_in(world.app, "leader")
    url = f"/api/v1/residents/{number}/plan"
    current = c.get(url)
    content = current.json()["content"] | {"next_review_on": "2027-06-30", "recipients": ["支援者", "民生委員"]}
    saved = c.put(url, json=content, headers={"If-Match": current.headers["etag"]})
    assert saved.status_code == 200
    issued = c.post(f"{url}/issue", json={"confirmed_on": "2026-11-20"}, headers={"If-Match": saved.headers["etag"]})
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "本人確認済" and "状態: 下書き → 本人確認済" in issued.json()["changes"]
    view = c.get(url).json()
    assert view["status"] == "本人確認済" and view["confirmed_on"] == "2026-11-20"
    pdf = c.get(f"/api/v1/residents/{number}/plan.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf.content)
    text = "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert f"第{issued.json()['version']}版・本人確認済" in text
    assert "本人確認日令和8年11月20日" in text and "次の見直し令和9年6月30日" in text
    assert "■支援者" in text and "■民生委員" in text and "□消防" in text
    assert "お薬手帳" in text and "夜は長男が在宅" in text
    again = c.put(url, json=content | {"notes": "見直しのメモ"}, headers={"If-Match": issued.headers["etag"]})
    bare = c.post(f"{url}/issue", headers={"If-Match": again.headers["etag"]})  # no body: the ETag is enough
    assert bare.status_code == 200 and bare.json()["status"] == "本人確認済", bare.text


def test_the_list_filters_by_plan_status_review_priority_and_supporters(world: World) -> None:
    c = signed_in(world.app, "city_staff")
    everyone = c.get("/api/v1/residents", params={"per_page": 200}).json()
    number = _plan(world)
    issued = c.get("/api/v1/residents", params={"plan_status": "本人確認済", "per_page": 200}).json()
    assert [i["resident_no"] for i in issued["items"]] == [number] and issued["items"][0]["plan_status"] == "本人確認済"
    none = c.get("/api/v1/residents", params={"plan_status": "none", "per_page": 200}).json()
    with world.store.sessions() as session:
        recorded = set(session.scalars(select(Resident.resident_no).join(PlanRecord, PlanRecord.resident_id == Resident.id)))
        threshold = sorted(session.scalars(select(Assessment.priority_score)))[-10]
        high = set(session.scalars(select(Resident.resident_no).join(Assessment, Assessment.resident_id == Resident.id)
                                   .where(Assessment.priority_score >= threshold)))
    assert none["total"] == everyone["total"] - len(recorded)
    assert not {i["resident_no"] for i in none["items"]} & recorded
    top = c.get("/api/v1/residents", params={"min_priority": threshold, "per_page": 200}).json()
    assert {i["resident_no"] for i in top["items"]} == high and all(i["priority_score"] >= threshold for i in top["items"])
    lonely = c.get("/api/v1/residents", params={"no_supporter": True, "per_page": 200}).json()
    assert lonely["total"] > 0 and all(i["supporter_count"] == 0 for i in lonely["items"])
    assert c.get("/api/v1/residents", params={"review_due": True}).json()["total"] == 0
    with world.store.sessions() as session, session.begin():  # the review date passes
        session.execute(update(PlanRecord).where(PlanRecord.resident_id == select(Resident.id).where(
            Resident.resident_no == number).scalar_subquery()).values(next_review_on=dt.date(2020, 1, 1)))
    due = c.get("/api/v1/residents", params={"review_due": True}).json()
    assert [i["resident_no"] for i in due["items"]] == [number]
    assert c.get("/api/v1/residents", params={"plan_status": "済"}).status_code == 422


def test_reads_changes_and_refusals_of_plans_are_audited(world: World) -> None:
    chosen = world.chosen  # noqa: F811
    c = signed_in(world.app, "leader")
    c.get(f"/api/v1/residents/{chosen.inside_yes.resident_no}/plan")
    c.get(f"/api/v1/residents/{chosen.outside_yes.resident_no}/plan")
    c.put(f"/api/v1/residents/{chosen.inside_yes.resident_no}/plan", json={"version": 0})
    c.get(f"/api/v1/residents/{chosen.inside_yes.resident_no}/plan/history")
    got = [(e.action, e.resident_ids, e.allowed, e.details.get("outcome")) for e in audit_tail(world.store, 4)]
    assert got == [
        ("plan.read", [chosen.inside_yes.resident_no], True, None),
        ("plan.read", [chosen.outside_yes.resident_no], False, None),
        ("plan.save", [chosen.inside_yes.resident_no], True, "Conflict"),
        ("plan.history", [chosen.inside_yes.resident_no], True, None),
    ]


def test_the_plan_routes_are_documented(world: World) -> None:
    paths = TestClient(world.app).get("/api/v1/openapi.json").json()["paths"]
    plan = paths["/api/v1/residents/{resident_no}/plan"]
    assert {"get", "put"} <= set(plan) and "409" in plan["put"]["responses"]
    assert "post" in paths["/api/v1/residents/{resident_no}/plan/issue"]
    names = {p["name"] for p in paths["/api/v1/residents"]["get"]["parameters"]}
    assert {"min_priority", "plan_status", "no_supporter", "review_due"} <= names
