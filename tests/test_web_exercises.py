"""図上訓練 records over HTTP: sessions (record, list, delete), findings naming residents only
within the caller's view, the report of participants against the target; audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from disaster.exercises.tracking import fiscal_year
from disaster.models import ExerciseFinding, ExerciseSession
from disaster.usecases.exercises import report as usecase_report
from tests.conftest import Store
from tests.web_fixtures import (
    Cast,
    app,  # noqa: F401  (fixture)
    chosen,  # noqa: F401  (fixture)
    clients,  # noqa: F401  (fixture)
    last_audit,
    web_store,  # noqa: F401  (fixture)
)

SESSIONS = "/api/v1/exercises/sessions"


def _session(district: str, facilitator: str, **extra: object) -> dict[str, object]:
    return {"district": district, "held_on": "R8.6.14", "hazard": "inland", "facilitator": facilitator,
            "participants": {"住民": 12, "民生委員": 3}, "rating_overall": 4, "strengths": "地図で危ない場所がわかった"} | extra


def _counts(store: Store) -> tuple[int, int]:
    with store.sessions() as session:
        return (session.scalar(select(func.count()).select_from(ExerciseSession)) or 0,
                session.scalar(select(func.count()).select_from(ExerciseFinding)) or 0)


def test_a_trainer_records_a_session_of_any_district_and_the_report_counts_it(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store) -> None:  # noqa: F811
    trainer = clients["trainer"]
    before = trainer.get("/api/v1/exercises/report", params={"year": "R8"}).json()
    answer = trainer.post(SESSIONS, json=_session(chosen.away, "進行役A", findings=[{"issue": "避難所の鍵の場所", "due": "R8.9.30"}]))
    assert answer.status_code == 201 and answer.json()["new"] is True, answer.text
    recorded = answer.json()["id"]
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.allowed, entry.details["session"]) == ("trainer", "exercise.record", True, recorded)
    again = trainer.post(SESSIONS, json=_session(chosen.away, "進行役A", participants={"住民": 20}))
    assert (again.status_code, again.json()) == (201, {"id": recorded, "new": False})  # the same session, replaced
    after = trainer.get("/api/v1/exercises/report", params={"year": "令和8年度"}).json()
    assert after["participants"] == before["participants"] + 20 and after["year_label"] == "令和8年度"
    assert after == usecase_report(web_store.sessions, web_store.city_code, 2026)
    listed = trainer.get(SESSIONS, params={"district": chosen.away, "year": "R8"}).json()
    mine = next(item for item in listed["items"] if item["id"] == recorded)
    assert (mine["participants"], mine["participants_total"], mine["hazard"]) == ({"住民": 20}, 20, "inland")
    assert trainer.delete(f"{SESSIONS}/{recorded}").status_code == 204
    assert trainer.get(SESSIONS, params={"district": chosen.away, "year": "R8"}).json()["total"] == listed["total"] - 1


def test_findings_name_only_residents_in_the_callers_view(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store) -> None:  # noqa: F811
    leader, trainer, staff = clients["leader"], clients["trainer"], clients["city_staff"]
    made = leader.post(SESSIONS, json=_session(chosen.home, "リーダー進行"))
    assert made.status_code == 201
    session_id = made.json()["id"]
    try:
        findings = f"{SESSIONS}/{session_id}/findings"
        ok = leader.post(findings, json={"issue": "夜間の支援者がいない", "resident_no": chosen.inside_yes.resident_no})
        assert ok.status_code == 201
        assert (last_audit(web_store).action, last_audit(web_store).resident_ids) == ("exercise.finding", [chosen.inside_yes.resident_no])
        before = _counts(web_store)
        for who, number in ((leader, chosen.inside_no.resident_no), (leader, chosen.outside_yes.resident_no),
                            (trainer, chosen.inside_yes.resident_no), (leader, "D-NO-SUCH")):
            refused = who.post(findings, json={"issue": "x", "resident_no": number})
            assert refused.status_code == 403, refused.text
            assert "見られる範囲" in refused.json()["error"]["message"] and refused.json()["error"]["code"] == "forbidden"
            assert (last_audit(web_store).allowed, last_audit(web_store).resident_ids) == (False, [number])
        assert staff.post(findings, json={"issue": "x", "resident_no": "D-NO-SUCH"}).status_code == 404
        assert _counts(web_store) == before
        assert trainer.post(findings, json={"issue": "避難経路の冠水", "status": "対応中"}).status_code == 201
        assert leader.post(findings, json={"issue": "x", "status": "保留"}).status_code == 422
        assert leader.post(findings, json={"issue": " "}).status_code == 422

        def shown(c: TestClient) -> list[tuple[str | None, bool]]:
            items = c.get(SESSIONS, params={"district": chosen.home, "per_page": 200}).json()["items"]
            item = next(i for i in items if i["id"] == session_id)
            return [(f["resident_no"], f["names_resident"]) for f in item["findings"]]

        assert shown(leader) == shown(staff) == [(chosen.inside_yes.resident_no, True), (None, False)]
        assert shown(trainer) == [(None, True), (None, False)]  # the trainer sees no one
        assert last_audit(web_store).resident_ids == []  # the trainer's read named nobody
    finally:
        assert leader.delete(f"{SESSIONS}/{session_id}").status_code == 204


def test_leaders_are_limited_to_their_district_and_care_professionals_to_nothing(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store) -> None:  # noqa: F811
    before = _counts(web_store)
    leader, care = clients["leader"], clients["care_professional"]
    assert leader.post(SESSIONS, json=_session(chosen.away, "x")).status_code == 403
    assert (last_audit(web_store).action, last_audit(web_store).allowed) == ("exercise.record", False)
    assert leader.get(SESSIONS, params={"district": chosen.away}).status_code == 403
    assert {i["district"] for i in leader.get(SESSIONS, params={"per_page": 200}).json()["items"]} <= {chosen.home}
    assert care.get(SESSIONS).status_code == 403 and care.get("/api/v1/exercises/report").status_code == 403
    assert care.post(SESSIONS, json=_session(chosen.home, "x")).status_code == 403
    assert leader.delete(f"{SESSIONS}/{2**40}").status_code == 422  # not a number a database holds
    with web_store.sessions() as session:
        other = session.scalar(select(ExerciseSession.id).join(ExerciseSession.district)
                               .where(ExerciseSession.district.has(name=chosen.away)).limit(1))
    if other is not None:
        assert leader.delete(f"{SESSIONS}/{other}").status_code == 403
        assert leader.post(f"{SESSIONS}/{other}/findings", json={"issue": "x"}).status_code == 403
    assert _counts(web_store) == before


@pytest.mark.parametrize(("body", "words"), [
    ({"held_on": "2026-13-40"}, "2026-13-40"),
    ({"hazard": "津波"}, "津波"),
    ({"participants": {"市長": 1}}, "市長"),
    ({"participants": {"住民": -1}}, "0 以上"),
    ({"participants": {"住民": 10**12}}, "100,000 以下"),
    ({"rating_overall": 9}, "1〜5"),
    ({"district": "存在しない校区"}, "存在しない校区"),
])
def test_bad_sessions_are_refused_in_japanese_and_write_nothing(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store,  # noqa: F811
        body: dict[str, object], words: str) -> None:
    before = _counts(web_store)
    answer = clients["city_admin"].post(SESSIONS, json=_session(chosen.home, "不正な入力") | body)
    assert answer.status_code in (403, 404, 422) and words in answer.json()["error"]["message"], answer.text
    assert _counts(web_store) == before


def test_the_report_defaults_to_this_year_and_rejects_a_bad_year(
        clients: dict[str, TestClient], web_store: Store) -> None:  # noqa: F811
    import datetime as dt

    body = clients["leader"].get("/api/v1/exercises/report").json()
    assert body["year"] == fiscal_year(dt.date.today()) and body["by_year"]
    for year in ("去年", "99999"):
        for path in ("/api/v1/exercises/report", SESSIONS):
            bad = clients["leader"].get(path, params={"year": year})
            assert bad.status_code == 422 and "年度" in bad.json()["error"]["message"], (path, year)
