"""The audit log's CSV export (city administrator, through access.Action.READ_AUDIT) and a Host
that is not allowed, answered in the one JSON error shape."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from disaster import auditlog
from disaster.models import AuditEntry
from disaster.settings import Settings
from disaster.web import create_app
from tests.conftest import Store
from tests.web_fixtures import (
    ROLES,
    SECRET,
    app,  # noqa: F401  (fixture)
    chosen,  # noqa: F401  (fixture)
    client,
    last_audit,
    login,
    web_store,  # noqa: F401  (fixture)
)

EXPORT = "/api/v1/audit/export.csv"


def test_the_export_holds_every_entry_of_the_city_and_is_itself_audited(app: FastAPI, web_store: Store) -> None:  # noqa: F811
    c = client(app)
    login(c, "city_admin")
    hostile = "=HYPERLINK(\"http://x\")"
    c.post("/api/v1/auth/login", json={"login": hostile, "password": "wrong password"})  # recorded under that name
    answer = c.get(EXPORT)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["cache-control"] == "no-store" and "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    with web_store.sessions() as session:
        stored = {e.id: e for e in session.scalars(select(AuditEntry).where(AuditEntry.city_code == web_store.city_code))}
    exported = {int(r["id"]): r for r in rows}
    assert set(exported) == {i for i in stored if i < max(stored)}  # all but the export's own entry
    sample = stored[max(exported)]
    assert exported[sample.id]["hash"] == sample.hash and json.loads(exported[sample.id]["details"]) == sample.details
    assert all(not r["actor"].startswith("=") for r in rows)
    last = stored[max(stored)]
    assert (last.actor, last.action, last.allowed, last.details["entries"]) == ("city_admin", "audit.export", True, len(rows))
    since = c.get(EXPORT, params={"since": sample.at.isoformat()})
    assert {int(r["id"]) for r in csv.DictReader(io.StringIO(since.content.decode("utf-8-sig")))} >= {sample.id}
    assert len(since.content) < len(answer.content)
    naive = c.get(EXPORT, params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "時差" in naive.json()["error"]["message"]
    day = sample.at.astimezone(dt.timezone(dt.timedelta(hours=9))).date()  # a date: from 0:00 that day in Japan
    by_day = c.get(EXPORT, params={"since": day.isoformat()})
    assert by_day.status_code == 200
    assert {int(r["id"]) for r in csv.DictReader(io.StringIO(by_day.content.decode("utf-8-sig")))} >= {sample.id}
    later = c.get(EXPORT, params={"since": (day + dt.timedelta(days=1)).isoformat()})
    assert sample.id not in {int(r["id"]) for r in csv.DictReader(io.StringIO(later.content.decode("utf-8-sig")))}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "city_admin"])
def test_only_the_city_administrator_exports(app: FastAPI, role: str, web_store: Store) -> None:  # noqa: F811
    c = client(app)
    login(c, role)
    answer = c.get(EXPORT)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    last = last_audit(web_store)
    assert (last.actor, last.action, last.allowed) == (role, "audit.export", False)


def test_the_audit_routes_and_the_cli_follow_the_access_policy(app: FastAPI, web_store: Store,  # noqa: F811
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Who reads the log is decided by access.Action.READ_AUDIT only: grant it to city staff and
    both routes open; refuse it to the CLI's administrator and `disaster audit log` stops."""
    from typer.testing import CliRunner

    from disaster import access
    from disaster.cli import app as cli

    staff = client(app)
    login(staff, "city_staff")
    assert staff.get("/api/v1/audit").status_code == 403
    monkeypatch.setattr(access, "_ADMIN_ACTIONS", access._ADMIN_ACTIONS - {access.Action.READ_AUDIT})
    assert staff.get("/api/v1/audit").status_code == 200 and staff.get(EXPORT).status_code == 200
    monkeypatch.undo()
    refuse = access.can
    monkeypatch.setattr(access, "can", lambda p, action, district=None: action != access.Action.READ_AUDIT
                        and refuse(p, action, district))
    result = CliRunner().invoke(cli, ["--db", web_store.url, "audit", "log", "--json"])
    assert result.exit_code == 1 and "監査ログの閲覧・書き出し" in result.output


def test_openapi_lists_the_rest_of_the_api(app: FastAPI) -> None:  # noqa: F811
    paths = client(app).get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/imports", "/api/v1/imports/{import_id}", "/api/v1/imports/{import_id}/commit",
            "/api/v1/disaster-mode", "/api/v1/disaster-mode/{mode_id}/end", "/api/v1/users", "/api/v1/users/{login}/disable",
            "/api/v1/users/{login}/password", "/api/v1/auth/password", "/api/v1/maps/districts/{district}",
            "/api/v1/maps/city", "/api/v1/maps/assets/{name}", "/api/v1/exercises/sessions",
            "/api/v1/exercises/sessions/{session_id}/findings", "/api/v1/exercises/report",
            "/api/v1/audit/export.csv"} <= set(paths)
    upload = paths["/api/v1/imports"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["kind", "files"] and "residents" in upload["properties"]["kind"]["enum"]
    assert "413" in paths["/api/v1/imports"]["post"]["responses"]


def test_a_host_that_is_not_allowed_gets_the_json_error_shape(app: FastAPI, web_store: Store) -> None:  # noqa: F811
    c = client(app)
    with web_store.sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    for request in (lambda: c.get("/api/v1/auth/me", headers={"Host": "evil.example"}),
                    lambda: c.post("/api/v1/auth/login", json={"login": "city_admin", "password": "x" * 12},
                                   headers={"Host": "evil.example:8000"})):
        answer = request()
        assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert set(body) == {"error"} and body["error"]["code"] == "rejected" and "Host" in body["error"]["message"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    with web_store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before  # never reached the app
    assert c.get("/api/v1/openapi.json").status_code == 200  # testserver is allowed
    wildcard = client(create_app(Settings(db=web_store.url, allowed_hosts=["*.example.jp"], secret_key=SECRET)))
    assert wildcard.get("/api/v1/openapi.json", headers={"Host": "bousai.example.jp"}).status_code == 200
    assert wildcard.get("/api/v1/openapi.json", headers={"Host": "example.jp.evil"}).status_code == 400
    assert auditlog.Action.AUDIT_EXPORT == "audit.export"
