"""The demo bundle: reproducible from ../shared/data, loads through the real importers."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from disaster.cli import app
from disaster.db import make_engine
from disaster.demodata.build import build_demo
from tests.conftest import BUNDLE
from tests.helpers import snapshot


def test_committed_bundle_is_what_the_seeded_build_produces(shared_data: Path, tmp_path: Path) -> None:
    committed = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    rebuilt = build_demo(shared_data, tmp_path, committed["residents"], committed["seed"])
    assert rebuilt == committed
    for name in committed["files"]:
        assert (tmp_path / name).read_bytes() == (BUNDLE / name).read_bytes(), name


def test_demo_loads_everything_and_is_idempotent(database_url: str) -> None:
    runner = CliRunner()
    env = {"DISASTER_DB": database_url}
    result = runner.invoke(app, ["demo", "--no-outputs"], env=env)
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(app, ["stats", "--json"], env=env).stdout)
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    assert stats["counts"]["districts"] == 46
    assert stats["counts"]["residents"] == files["residents.csv"]["rows"] == manifest["residents"]
    assert stats["counts"]["supporters"] == files["supporters.csv"]["rows"]
    assert stats["counts"]["shelters"] == files["shelters.geojson"]["features"]
    assert stats["counts"]["hazard_zones"] == sum(f["features"] for f in files.values() if f["kind"] == "hazards")
    shelters = json.loads((BUNDLE / "shelters.geojson").read_text(encoding="utf-8"))["features"]
    assert stats["shelter_kinds"]["welfare_shelters"] == sum(f["properties"]["is_welfare_shelter"] for f in shelters) > 0
    assert sum(d["residents"] for d in stats["districts"]) == manifest["residents"]
    residents = (BUNDLE / "residents.csv").read_text(encoding="utf-8-sig").splitlines()
    agreed = sum(",DEMO-W" in line for line in residents)  # 福祉避難所受入合意 holds a DEMO-W… code
    assert stats["counts"]["welfare_agreements"] == agreed > 0
    assert all(d["residents"] > 0 for d in stats["districts"])
    assert any(d["residents_without_supporter"] > 0 for d in stats["districts"])
    assert all(d["demo"] for d in stats["datasets"] if d["kind"] in {"residents", "supporters", "hazards"})
    assert "デモデータ" in result.output
    assert all(login in result.output for login in ("demo-admin", "demo-staff", "demo-leader", "demo-trainer"))

    engine = make_engine(database_url)
    before = snapshot(engine)
    again = runner.invoke(app, ["demo", "--no-outputs"], env=env)
    assert again.exit_code == 0, again.output
    after = snapshot(engine)
    engine.dispose()
    for table in ("district", "shelter", "resident", "supporter", "resident_supporter", "exercise_session"):
        assert after[table] == before[table], table
    # zones and contacts are replaced per dataset/resident: same content, possibly new surrogate ids
    for table in ("hazard_zone", "emergency_contact", "care_professional", "welfare_agreement", "exercise_participants"):
        assert sorted(r[1:] for r in after[table]) == sorted(r[1:] for r in before[table]), table
