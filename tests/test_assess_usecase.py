"""Stored assessments on the demo dataset, and ``disaster assess --json``."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select
from typer.testing import CliRunner

from disaster.analysis.eligibility import destination_safety
from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.exposure import HazardIndex
from disaster.cli import app
from disaster.models import Assessment, AssessmentRun, District, Resident, Shelter
from disaster.profile import load_profile
from disaster.usecases.assess import load_inputs
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


def test_stored_destinations_are_safe_and_trips_are_honest(demo) -> None:
    """On the demo city: every destination, second option and 福祉避難所 is safe against every rain
    layer at its own location (own choices excepted, but flagged); nobody walks beyond the profile's
    limit; non-walking trips never read "歩いて"; negative margins always come with an earlier trigger."""
    evacuation = load_profile("402036").evacuation
    with demo.sessions() as session:
        inputs = load_inputs(session, "402036")
        rows = session.scalars(select(Assessment)).all()
        run = session.scalars(select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()
        residents = {r.id: r for r in session.scalars(select(Resident))}
        shelters = {s.id: s for s in session.scalars(select(Shelter))}
    assert run.parameters["car_speed_kmh"] == evacuation.car_speed_kmh  # parameters from the profile
    frame = inputs.shelters.reset_index(drop=True)
    index = HazardIndex(inputs.zones)
    safety = destination_safety(index.exposure(frame["lon"].to_numpy(), frame["lat"].to_numpy()), frame)
    safe = dict(zip(frame["id"], safety.safe, strict=True))
    floor = dict(zip(frame["id"], safety.floor, strict=True))
    for a in rows:
        codes = {r["code"] for r in a.destination_reasons}
        texts = "".join(r["text"] for r in a.destination_reasons)
        if a.destination_shelter_id is not None:
            assert safe[a.destination_shelter_id] or "OWN_CHOICE_UNSAFE" in codes, a.resident_id
            assert (a.destination_floor or 0) == floor[a.destination_shelter_id] or "OWN_CHOICE_UNSAFE" in codes
            assert a.travel_mode in {"walk", "car", "welfare_transport"} and a.start_trigger is not None
            line = shapely.from_wkb(a.route)
            start, end = shapely.get_coordinates(line)[[0, -1]]
            resident, target = residents[a.resident_id], shelters[a.destination_shelter_id]
            assert np.allclose(start, [resident.lon, resident.lat]) and np.allclose(end, [target.lon, target.lat])
        for sid in (a.second_shelter_id, a.welfare_shelter_id):
            assert sid is None or safe[sid]
        if a.travel_mode == "walk":
            assert a.distance_m <= evacuation.walk_limits.able_m
            assert "車で" not in texts
        elif a.travel_mode is not None:
            assert "歩いて" not in texts and "移動手段の確保が必要" in texts
        if a.start_margin_min is not None and a.start_margin_min < 0:
            assert a.start_trigger in {"early", "previous_day", "not_workable"}
        assert not re.search(r"(?<!\d)-\d", texts)  # never a negative number of minutes
        assert a.welfare_direct is False or a.destination_kind == "welfare"
        if a.welfare_shelter_id is not None and not a.welfare_direct and a.destination_shelter_id is not None:
            assert "WELFARE_TRANSFER" in codes or "OWN_CHOICE" in codes
    assert any(a.travel_mode == "car" for a in rows) and any(a.travel_mode == "walk" for a in rows)


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
    assert totals["welfare_placed"] == sum(a.welfare_shelter_id is not None for a in records)
    assert totals["welfare_direct"] == sum(a.welfare_direct for a in records)
    assert sum(totals["by_start_trigger"].values()) == sum(a.start_trigger is not None for a in records)
    assert totals["by_travel_mode"] == {m: sum(a.travel_mode == m for a in records) for m in ("walk", "car", "welfare_transport")}
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


def test_imports_recompute_the_assessment(store, tmp_path) -> None:
    """Re-importing the same roster changes nothing, so nothing is recomputed; a roster with one
    resident's building changed recomputes that resident (and the 福祉避難所 pool), not everyone."""
    load_demo(store.engine, store.sessions, BUNDLE)
    demo = store
    with demo.sessions() as session:
        before = session.scalar(select(func.max(AssessmentRun.id)))
    runner.invoke(app, ["import", "residents", str(BUNDLE / "residents.csv")], env={"DISASTER_DB": demo.url})
    with demo.sessions() as session:
        assert session.scalar(select(func.max(AssessmentRun.id))) == before
    frame = pd.read_csv(BUNDLE / "residents.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.loc[0, "建物階数"] = "1" if frame.loc[0, "建物階数"] != "1" else "2"
    edited = tmp_path / "residents.csv"
    frame.to_csv(edited, index=False, encoding="utf-8-sig")
    result = runner.invoke(app, ["import", "residents", str(edited)], env={"DISASTER_DB": demo.url})
    assert result.exit_code == 0, result.output
    with demo.sessions() as session:
        run = session.scalars(select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()
        count = session.scalar(select(func.count()).select_from(Assessment))
        edited_id = session.scalar(select(Resident.id).where(Resident.resident_no == frame.loc[0, "名簿番号"]))
        assert session.get(Assessment, edited_id).run_id == run.id
    assert run.id > before and count == 3000 and 1 <= run.parameters["reassessed"] < 3000


def test_the_plan_does_not_depend_on_the_order_rows_arrive_in(demo) -> None:
    """福祉避難所 places are handed out first come, first served. PostgreSQL returns rows in
    whatever order its pages hold them (an update moves a row), so the same data must give the
    same plans however the rows are ordered — otherwise a resident's 福祉避難所 changes between runs."""
    profile = load_profile("402036")
    params = AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs)
    with demo.sessions() as session:
        inputs = load_inputs(session, "402036")
    expected = assess(inputs, params).sort_values("resident_id").reset_index(drop=True)
    assert expected["welfare_unplaced"].any() and expected["welfare_shelter_id"].ge(0).any()  # capacity is contested
    rng = np.random.default_rng(7)

    def shuffled(frame):
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    reordered = AssessmentInputs(shuffled(inputs.residents), shuffled(inputs.shelters), inputs.zones,
                                 shuffled(inputs.supporters), shuffled(inputs.links), shuffled(inputs.agreements))
    actual = assess(reordered, params).sort_values("resident_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected)
