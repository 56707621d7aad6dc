"""Imports over HTTP: upload → validation report (nothing written) → commit in one transaction
(the import, the recomputed assessments and the audit entry) or nothing; discard; the size limit;
the city administrator only. The CLI's own import tests cover the rules themselves."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from disaster import errors
from disaster.models import AssessmentRun, AuditEntry, Resident, WebSession
from disaster.usecases import assess
from disaster.web import imports as web_imports
from tests.conftest import BUNDLE, Store
from tests.helpers import demo_roster, snapshot
from tests.web_fixtures import (
    admin,  # noqa: F401  (fixture)
    app,  # noqa: F401  (fixture)
    audit_tail,
    chosen,  # noqa: F401  (fixture)
    signed_in,
    web_store,  # noqa: F401  (fixture)
)

IMPORTS = "/api/v1/imports"
LOGS = {AuditEntry.__tablename__, WebSession.__tablename__, "user"}  # what a request itself may change


def _data(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return {table: rows for table, rows in snapshot(store).items() if table not in LOGS}


def _pending(app: FastAPI) -> set[str]:  # noqa: F811
    return {p.name for p in web_imports.pending_root(app.state.store).iterdir()}


def test_upload_reports_without_writing_then_commit_writes_and_reassesses(
        app: FastAPI, admin: TestClient, web_store: Store) -> None:  # noqa: F811
    before = _data(web_store)
    with web_store.sessions() as session:
        first = session.scalars(select(Resident).order_by(Resident.resident_no)).first()
        runs = len(session.scalars(select(AssessmentRun.id)).all())
    assert first is not None
    answer = admin.post(IMPORTS, data={"kind": "residents"},
                        files={"files": ("名簿_更新.csv", demo_roster(3, {0: {"電話番号": "0942-00-1234", "独居": "はい"}}),
                                          "text/csv")})  # 独居: an input of the assessment
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["kind"], body["files"], body["uploaded_by"]) == ("valid", "residents", ["名簿_更新.csv"], "city_admin")
    assert body["report"]["updated"] == 3 and body["report"]["created"] == 0 and body["report"]["problems"] == []
    assert _data(web_store) == before  # validated: nothing written
    assert admin.get(f"{IMPORTS}/{body['id']}").json() == body
    committed = admin.post(f"{IMPORTS}/{body['id']}/commit")
    assert committed.status_code == 200, committed.text
    done = committed.json()
    assert done["status"] == "committed" and done["committed_by"] == "city_admin" and done["report"]["updated"] == 3
    with web_store.sessions() as session:
        assert session.scalar(select(Resident.phone).where(Resident.id == first.id)) == "0942-00-1234"
        assert len(session.scalars(select(AssessmentRun.id)).all()) == runs + 1  # reassessed as the CLI does
        run = session.scalar(select(AssessmentRun.id).order_by(AssessmentRun.id.desc()).limit(1))
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.commit")).all()[-1]
    assert done["report"]["assessment_run"] == run
    assert (entry.actor, entry.allowed, entry.details["import"], entry.details["updated"]) == ("city_admin", True, body["id"], 3)
    assert admin.post(f"{IMPORTS}/{body['id']}/commit").status_code == 409  # once only
    assert not any((web_imports.pending_root(app.state.store) / body["id"]).glob("files*"))  # the 名簿 file is gone
    assert admin.delete(f"{IMPORTS}/{body['id']}").status_code == 204
    assert admin.get(f"{IMPORTS}/{body['id']}").status_code == 404


def test_a_number_passed_to_another_person_needs_replace_and_the_report_says_so(
        admin: TestClient, web_store: Store) -> None:  # noqa: F811
    """The first 名簿 row now names someone else (氏名 and 生年月日 both differ): refused as the
    CLI refuses it, pointing at the option; with ``replace`` the report names the number before
    anything is written, and the commit stores a new person (not the old row renamed)."""
    # the 100th person of the 名簿 (the other tests here import the first few: left as they are)
    roster = demo_roster(100, {99: {"氏名": "筑後 新太", "生年月日": "平成2年5月5日"}})
    number = roster.decode("utf-8").splitlines()[100].split(",")[0]
    with web_store.sessions() as session:
        first = session.scalars(select(Resident).where(Resident.resident_no == number)).one()
    assert first.name != "筑後 新太"
    refused = admin.post(IMPORTS, data={"kind": "residents"}, files={"files": ("名簿.csv", roster, "text/csv")}).json()
    assert refused["status"] == "invalid"
    assert [(p["row"], p["field"]) for p in refused["report"]["problems"]] == [(101, "名簿番号")]
    assert "名簿番号の付け替えを認める" in refused["report"]["problems"][0]["text"]
    before = _data(web_store)
    answer = admin.post(IMPORTS, data={"kind": "residents", "replace": "true"},
                        files={"files": ("名簿.csv", roster, "text/csv")}).json()
    assert answer["status"] == "valid", answer
    assert any(first.resident_no in notice and "記録は残りません" in notice for notice in answer["report"]["notices"])
    assert _data(web_store) == before  # checked: nothing written yet
    assert admin.post(f"{IMPORTS}/{answer['id']}/commit").status_code == 200
    with web_store.sessions() as session:
        now = session.scalars(select(Resident).where(Resident.resident_no == first.resident_no)).one()
        assert now.name == "筑後 新太" and now.id != first.id and session.get(Resident, first.id) is None
    supporters = admin.post(IMPORTS, data={"kind": "supporters", "replace": "true"},
                            files={"files": ("支援者.csv", b"x", "text/csv")})
    assert supporters.status_code == 422 and "replace" in supporters.json()["error"]["message"]


def test_problems_name_file_row_and_field_and_nothing_is_written(admin: TestClient, web_store: Store) -> None:  # noqa: F811
    before = _data(web_store)
    bad = demo_roster(4, {1: {"生年月日": "昭和99年13月40日"}, 3: {"緯度": "北のほう"}})
    answer = admin.post(IMPORTS, data={"kind": "residents"}, files={"files": ("名簿.csv", bad, "text/csv")})
    assert answer.status_code == 201
    report = answer.json()["report"]
    assert answer.json()["status"] == "invalid" and report["problem_count"] >= 2
    where = {(p["file"], p["row"], p["field"]) for p in report["problems"]}
    assert ("名簿.csv", 3, "生年月日") in where and ("名簿.csv", 5, "緯度") in where  # header = row 1
    text = next(p["text"] for p in report["problems"] if p["field"] == "生年月日")
    assert text.startswith("名簿.csv 3行目「生年月日」") and "何も書き込んでいません" in report["message"]
    refused = admin.post(f"{IMPORTS}/{answer.json()['id']}/commit")
    assert refused.status_code == 422 and "名簿.csv 3行目「生年月日」" in refused.json()["error"]["message"]
    assert _data(web_store) == before
    assert admin.delete(f"{IMPORTS}/{answer.json()['id']}").status_code == 204


def test_a_commit_failing_in_the_reassessment_leaves_nothing_half_written(
        admin: TestClient, web_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    answer = admin.post(IMPORTS, data={"kind": "residents"},
                        files={"files": ("名簿.csv", demo_roster(2, {0: {"電話番号": "0942-99-9999"}}), "text/csv")})
    assert answer.json()["status"] == "valid"
    before = snapshot(web_store)

    def broken(sessions: object, city_code: str) -> int:
        raise errors.NotReady("判定の計算に失敗しました（試験）。")

    monkeypatch.setattr(assess, "refresh_if_residents", broken)
    failed = admin.post(f"{IMPORTS}/{answer.json()['id']}/commit")
    assert failed.status_code == 409 and "試験" in failed.json()["error"]["message"]
    after = snapshot(web_store)
    assert {k: v for k, v in after.items() if k != WebSession.__tablename__} == {
        k: v for k, v in before.items() if k != WebSession.__tablename__}  # not even the audit entry of the commit
    monkeypatch.undo()
    assert admin.post(f"{IMPORTS}/{answer.json()['id']}/commit").status_code == 200  # still pending: try again
    assert admin.delete(f"{IMPORTS}/{answer.json()['id']}").status_code == 204


def test_discard_and_bad_requests(app: FastAPI, admin: TestClient, web_store: Store) -> None:  # noqa: F811
    shelters = (BUNDLE / "shelters.geojson").read_bytes()
    made = admin.post(IMPORTS, data={"kind": "shelters", "crs": "6668"},
                      files=[("files", ("shelters.geojson", shelters, "application/geo+json"))])
    assert made.status_code == 201 and made.json()["status"] == "valid" and made.json()["options"] == {"crs": 6668}
    assert made.json()["id"] in _pending(app)
    listed = admin.get(IMPORTS).json()
    assert listed[0] == made.json() and [i["uploaded_at"] for i in listed] == sorted((i["uploaded_at"] for i in listed),
                                                                                   reverse=True)
    assert admin.delete(f"{IMPORTS}/{made.json()['id']}").status_code == 204
    assert made.json()["id"] not in {i["id"] for i in admin.get(IMPORTS).json()}
    assert made.json()["id"] not in _pending(app)
    before = _pending(app)
    cases = [
        ({"kind": "weather"}, [("files", ("a.csv", b"x", "text/csv"))], "取り込みの種類「weather」"),
        ({"kind": "residents"}, [("files", ("a.csv", b"x", "text/csv")), ("files", ("b.csv", b"y", "text/csv"))],
         "1 ファイルずつ"),
        ({"kind": "residents"}, [], "ファイルを指定"),
        ({"kind": "shelters", "sheet": "Sheet1"}, [("files", ("a.csv", b"x", "text/csv"))], "sheet"),
        ({"kind": "hazards", "layer": "tsunami"}, [("files", ("a.geojson", b"{}", "application/json"))], "tsunami"),
        ({"kind": "shelters", "crs": "EPSG:6668"}, [("files", ("a.csv", b"x", "text/csv"))], "crs"),
        ({"kind": "shelters"}, [("files", ("a.csv", b"x", "text/csv")), ("files", ("a.csv", b"x", "text/csv"))], "同じ名前"),
    ]
    for data, files, words in cases:
        answer = admin.post(IMPORTS, data=data, files=files or {"other": ("a.txt", b"", "text/plain")})
        assert answer.status_code == 422 and words in answer.json()["error"]["message"], (data, answer.text)
    assert _pending(app) == before  # refused uploads are not kept
    unreadable = admin.post(IMPORTS, data={"kind": "shelters"}, files={"files": ("broken.geojson", b"{not json", "application/json")})
    assert unreadable.status_code == 201 and unreadable.json()["status"] == "invalid"
    assert unreadable.json()["report"]["message"] and "broken.geojson" in str(unreadable.json()["report"])
    assert admin.delete(f"{IMPORTS}/{unreadable.json()['id']}").status_code == 204
    for path in ("../../etc", "x" * 22):
        assert admin.get(f"{IMPORTS}/{path}").status_code == 404


def test_uploads_over_the_size_limit_are_refused(app: FastAPI, admin: TestClient,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_imports, "MAX_UPLOAD_BYTES", 1000)
    before = _pending(app)
    answer = admin.post(IMPORTS, data={"kind": "residents"}, files={"files": ("名簿.csv", b"x" * 5000, "text/csv")})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "rejected"
    assert "MB まで" in answer.json()["error"]["message"]
    assert _pending(app) == before


@pytest.mark.parametrize("role", ["city_staff", "leader", "trainer", "care_professional"])
def test_only_the_city_administrator_imports(
        app: FastAPI, admin: TestClient, role: str, web_store: Store) -> None:  # noqa: F811
    made = admin.post(IMPORTS, data={"kind": "boundary"},
                      files={"files": ("city_boundary.geojson", (BUNDLE / "city_boundary.geojson").read_bytes(), "application/json")})
    import_id = made.json()["id"]
    c = signed_in(app, role)
    before, pending = _data(web_store), _pending(app)
    assert c.get(IMPORTS).status_code == 403
    answers = [c.post(IMPORTS, data={"kind": "residents"}, files={"files": ("名簿.csv", demo_roster(2), "text/csv")}),
               c.get(f"{IMPORTS}/{import_id}"), c.post(f"{IMPORTS}/{import_id}/commit"), c.delete(f"{IMPORTS}/{import_id}")]
    assert [a.status_code for a in answers] == [403] * 4
    assert all(a.json()["error"]["code"] == "forbidden" for a in answers)
    assert _data(web_store) == before and _pending(app) == pending
    assert [(e.actor, e.action, e.allowed) for e in audit_tail(web_store, 4)] == [
        (role, "import.upload", False), (role, "import.read", False), (role, "import.commit", False),
        (role, "import.discard", False)]
    assert admin.delete(f"{IMPORTS}/{import_id}").status_code == 204


def test_a_commit_in_progress_is_not_run_twice_and_a_crashed_one_does_not_block(
        app: FastAPI, admin: TestClient) -> None:  # noqa: F811
    import os
    import time

    boundary = (BUNDLE / "city_boundary.geojson").read_bytes()
    made = admin.post(IMPORTS, data={"kind": "boundary"}, files={"files": ("city_boundary.geojson", boundary, "application/json")})
    lock = web_imports.pending_root(app.state.store) / made.json()["id"] / "committing"
    lock.touch()  # another worker is committing it
    busy = admin.post(f"{IMPORTS}/{made.json()['id']}/commit")
    assert busy.status_code == 409 and "取り込み中" in busy.json()["error"]["message"]
    assert admin.delete(f"{IMPORTS}/{made.json()['id']}").status_code == 409
    stale = time.time() - 2 * web_imports.STALE_LOCK.total_seconds()
    os.utime(lock, (stale, stale))  # left by a crash: its transaction was rolled back
    assert admin.post(f"{IMPORTS}/{made.json()['id']}/commit").status_code == 200
    assert not lock.exists()
    assert admin.delete(f"{IMPORTS}/{made.json()['id']}").status_code == 204
