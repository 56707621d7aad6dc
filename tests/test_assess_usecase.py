"""Stored assessments on the demo dataset, and ``disaster assess --json``."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from disaster.cli import app
from disaster.models import Assessment, AssessmentRun, District, Resident
from disaster.usecases.demo import load_demo
from tests.conftest import BUNDLE

runner = CliRunner()


@pytest.fixture
def demo(demo_store):
    """Read-only use of the shared demo store."""
    return demo_store


def test_every_demo_resident_has_an_assessment_with_reasons(demo) -> None:
    with demo.sessions() as session:
        residents = session.scalar(select(func.count()).select_from(Resident))
        rows = session.scalars(select(Assessment)).all()
        run = session.scalars(select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()
    assert len(rows) == residents == 3000
    assert all(a.decision_reasons and a.destination_reasons for a in rows)
    assert all(r["text"] and r["code"] for a in rows for r in a.decision_reasons + a.destination_reasons)
    assert all(a.destination_shelter_id is not None or a.destination_kind == "own_choice" for a in rows)
    decisions = Counter(a.decision for a in rows)
    assert set(decisions) == {"leave", "stay_upstairs", "stay"}
    assert run.resident_count == 3000
    assert any(key.startswith("hazards:A31a-20") for key in run.data_versions)
    # welfare places are never over capacity
    with demo.sessions() as session:
        from disaster.models import Shelter

        for shelter in session.scalars(select(Shelter).where(Shelter.is_welfare_shelter)):
            used = sum(1 for a in rows if a.destination_shelter_id == shelter.id and a.destination_kind == "welfare")
            assert used <= shelter.capacity


def test_assess_json_totals_match_the_stored_records(demo) -> None:
    result = runner.invoke(app, ["assess", "--json"], env={"DISASTER_DB": demo.url})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    with demo.sessions() as session:
        rows = session.execute(select(District.name, Assessment).join(Resident, Assessment.resident_id == Resident.id)
                               .join(District, Resident.district_id == District.id)).all()
    records = [a for _, a in rows]
    totals = summary["totals"]
    assert totals["residents"] == len(records)
    assert totals["by_decision"] == {d: sum(a.decision == d for a in records) for d in ("leave", "stay_upstairs", "stay")}
    assert totals["welfare_unplaced"] == sum(a.welfare_unplaced for a in records)
    assert totals["welfare_placed"] == sum(a.destination_kind == "welfare" for a in records)
    assert totals["unsupported"] == sum(a.supporter_count == 0 for a in records)
    assert totals["by_hazard"]["landslide"] == sum(bool(a.landslide_class) for a in records)
    per_district = Counter(name for name, _ in rows)
    assert {d["name"]: d["residents"] for d in summary["districts"]} == dict(per_district)
    for key in ("residents", "welfare_needed", "unsupported"):
        assert sum(d[key] for d in summary["districts"]) == totals[key]


def test_district_filter_and_unknown_district(demo) -> None:
    env = {"DISASTER_DB": demo.url}
    result = runner.invoke(app, ["assess", "--district", "安武", "--json", "--no-recompute"], env=env)
    summary = json.loads(result.stdout)
    assert [d["name"] for d in summary["districts"]] == ["安武"]
    result = runner.invoke(app, ["assess", "--district", "どこか"], env=env)
    assert result.exit_code == 1 and "どこか" in result.stderr


def test_imports_recompute_the_assessment(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    demo = store
    with demo.sessions() as session:
        before = session.scalar(select(func.max(AssessmentRun.id)))
    runner.invoke(app, ["import", "residents", str(BUNDLE / "residents.csv")], env={"DISASTER_DB": demo.url})
    with demo.sessions() as session:
        after = session.scalar(select(func.max(AssessmentRun.id)))
        count = session.scalar(select(func.count()).select_from(Assessment))
    assert after > before and count == 3000
