"""The CLI's reads of personal data are audited as the local city administrator: a plan names its
resident, a 校区's plans the residents written, a leader/city map the residents it shows; a
public map (no personal data) is not; a store without the audit log refuses to read."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import select
from typer.testing import CliRunner

from disaster import auditlog
from disaster.cli import app
from disaster.db import alembic_config, make_engine
from disaster.models import District, Resident
from tests import plans_fixtures as F

runner = CliRunner()
CLI_LOGIN = os.environ.get("USER") or getpass.getuser()  # the CLI acts as this city administrator


def _cli(store, *args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), env={"DISASTER_DB": store.url})
    assert result.exit_code == 0, result.output
    return result


def _log(store) -> list[dict[str, Any]]:
    with store.sessions() as session:
        return [auditlog.as_dict(e) for e in auditlog.entries(session, store.city_code)]


def _district_residents(store, consenting_only: bool) -> list[str]:
    query = (select(Resident.resident_no).join(District, Resident.district_id == District.id)
             .where(District.name == F.DISTRICT).order_by(Resident.resident_no))
    if consenting_only:
        query = query.where(Resident.consent_share.is_(True))
    with store.sessions() as session:
        return list(session.scalars(query))


def test_plan_leaves_an_entry_naming_the_resident(store, tmp_path: Path) -> None:
    F.build(store.sessions)
    number = F.SCENARIOS["leave_walk"].number
    _cli(store, "plan", number, "--out", str(tmp_path / "p.pdf"))
    (entry,) = _log(store)
    assert entry["action"] == "plan.pdf" and entry["resident_ids"] == [number] and entry["target_kind"] == "resident"
    assert (entry["actor"], entry["role"], entry["city_code"], entry["origin"], entry["allowed"]) == (
        CLI_LOGIN, "city_admin", store.city_code, "cli", True)
    assert entry["details"] == {"file": str(tmp_path / "p.pdf"), "draft": False}
    verified = runner.invoke(app, ["audit", "verify"], env={"DISASTER_DB": store.url})
    assert verified.exit_code == 0, verified.output


def test_a_failed_plan_reads_nothing_and_records_nothing(store, tmp_path: Path) -> None:
    F.build(store.sessions)
    result = runner.invoke(app, ["plan", "NOPE", "--out", str(tmp_path / "n.pdf")], env={"DISASTER_DB": store.url})
    assert result.exit_code == 1 and "名簿にいません" in result.output
    assert _log(store) == []


def test_district_plans_and_maps_record_the_residents_they_show(store, tmp_path: Path) -> None:
    F.build(store.sessions)
    _cli(store, "plans", "--district", F.DISTRICT, "--out", str(tmp_path / "plans"), "--workers", "1")
    _cli(store, "map", "--district", F.DISTRICT, "--view", "public", "--out", str(tmp_path / "public.html"))
    _cli(store, "map", "--district", F.DISTRICT, "--view", "leader", "--out", str(tmp_path / "leader.html"))
    _cli(store, "maps", "--view", "city", "--out", str(tmp_path / "maps"))
    _cli(store, "maps", "--view", "public", "--out", str(tmp_path / "public"))
    plans, leader, city = _log(store)  # the public map and maps are not personal data: no entries

    everyone = _district_residents(store, consenting_only=False)
    draft = F.SCENARIOS["draft"].number  # no 計画作成同意: no plan written
    assert plans["action"] == "plans.pdf" and plans["resident_ids"] == [n for n in everyone if n != draft]
    assert plans["details"]["district"] == F.DISTRICT and plans["details"]["drafts"] == 0

    consenting = _district_residents(store, consenting_only=True)
    assert draft not in consenting and consenting
    assert (leader["action"], leader["resident_ids"], leader["details"]["view"]) == ("map.html", consenting, "leader")
    assert (city["action"], sorted(city["resident_ids"]), city["details"]["view"]) == ("map.html", everyone, "city")
    assert city["target_kind"] == "city"


def test_a_store_without_the_audit_log_refuses_to_read(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0006")  # a store of the previous version
    engine.dispose()
    result = runner.invoke(app, ["plan", "P001", "--out", str(tmp_path / "p.pdf")], env={"DISASTER_DB": database_url})
    assert result.exit_code == 1 and "データベースの形式（版 0006）" in result.output \
        and "disaster init" in result.output, result.output  # refused before anything is read unaudited
    assert not (tmp_path / "p.pdf").exists()
    verify = runner.invoke(app, ["audit", "verify"], env={"DISASTER_DB": database_url})
    assert verify.exit_code == 1 and "disaster init" in verify.output


def test_audit_log_json_is_valid_for_the_cli_entries(store, tmp_path: Path) -> None:
    F.build(store.sessions)
    _cli(store, "plan", F.SCENARIOS["stay"].number, "--out", str(tmp_path / "p.pdf"))
    rows = json.loads(_cli(store, "audit", "log", "--json").output)
    assert [r["action"] for r in rows] == ["plan.pdf"] and rows[0]["resident_ids"] == [F.SCENARIOS["stay"].number]
