"""`disaster audit plans` and the audit_plans use-case, on the demo store and on hand-built stores."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import shapely
from sqlalchemy import func, select
from typer.testing import CliRunner

from disaster.access import Principal
from disaster.audit import Kind, Rule
from disaster.cli import app
from disaster.codes import HazardLayer
from disaster.models import (
    Assessment,
    AssessmentRun,
    Dataset,
    District,
    HazardZone,
    Resident,
    Shelter,
    Supporter,
    WelfareAgreement,
    resident_supporter,
)
from disaster.usecases.audit import AuditReport, audit_plans
from tests.audit_fixtures import at, cell
from tests.helpers import snapshot

runner = CliRunner()


def invoke(url: str, *args: str) -> Any:
    return runner.invoke(app, ["audit", "plans", *args], env={"DISASTER_DB": url, "COLUMNS": "200"})


_reports: dict[str, AuditReport] = {}


def city_report(demo_store) -> AuditReport:
    """The whole demo city's audit, computed once per backend (the demo store is read-only)."""
    if demo_store.url not in _reports:
        _reports[demo_store.url] = audit_plans(demo_store.sessions, Principal.cli(demo_store.city_code))
    return _reports[demo_store.url]


# --- the demo city ---

def test_json_output_shape_counts_and_exit_code(demo_store) -> None:
    result = invoke(demo_store.url, "--json")
    report = json.loads(result.stdout)
    assert set(report) == {"city_code", "district", "run_id", "computed_at", "residents", "totals", "counts", "violations"}
    assert report["city_code"] == demo_store.city_code and report["district"] is None and report["residents"] == 3000
    violations = report["violations"]
    for v in violations:
        assert set(v) == {"resident_no", "district", "rule", "kind", "message", "action"}
        assert v["rule"] in {r.value for r in Rule} and v["kind"] in {"toolkit", "data"}
        assert v["resident_no"] and v["district"] and v["message"] and v["action"]
    totals = report["totals"]
    assert totals == {"toolkit": sum(v["kind"] == "toolkit" for v in violations),
                      "data": sum(v["kind"] == "data" for v in violations)}
    for row in report["counts"]:
        same = [v for v in violations if v["rule"] == row["rule"] and v["kind"] == row["kind"]]
        assert row["count"] == len(same) and row["residents"] == len({v["resident_no"] for v in same})
        assert row["label"] and row["kind_label"]
    assert sum(row["count"] for row in report["counts"]) == len(violations)
    assert result.exit_code == (1 if totals["toolkit"] else 0), result.output


def test_the_demo_city_has_no_toolkit_violation(demo_store) -> None:
    """Issue 10's acceptance: every demo plan is safe; only data to-dos remain."""
    report = city_report(demo_store)
    toolkit = [row for row in report.counts() if row["kind"] == Kind.TOOLKIT.value]
    examples = [f"{v.resident_no} {v.rule.value}: {v.message}" for v in report.violations if v.kind is Kind.TOOLKIT][:10]
    assert report.toolkit_count == 0, f"{toolkit}\n" + "\n".join(examples)


def test_data_gaps_are_listed_not_hidden(demo_store) -> None:
    report = city_report(demo_store)
    with demo_store.sessions() as session:
        supported = set(session.scalars(select(resident_supporter.c.resident_id)))
        unsupported = set(session.scalars(select(Resident.resident_no).where(Resident.id.not_in(supported))))
        no_consent = set(session.scalars(select(Resident.resident_no).where(Resident.consent_plan.is_(False))))
    listed = {rule: {v.resident_no for v in report.violations if v.rule is rule and v.kind is Kind.DATA}
              for rule in (Rule.NO_SUPPORTER, Rule.NO_PLAN_CONSENT)}
    assert listed[Rule.NO_SUPPORTER] == unsupported and unsupported
    assert listed[Rule.NO_PLAN_CONSENT] == no_consent and no_consent


def test_district_filter(demo_store) -> None:
    result = invoke(demo_store.url, "--district", "安武", "--json")
    report = json.loads(result.stdout)
    with demo_store.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Resident).join(District).where(District.name == "安武"))
    assert report["district"] == "安武" and report["residents"] == count > 0
    assert report["violations"] and {v["district"] for v in report["violations"]} == {"安武"}
    everyone = city_report(demo_store)
    assert [v for v in everyone.violations if v.district == "安武"] == audit_plans(
        demo_store.sessions, Principal.cli(demo_store.city_code), "安武").violations
    unknown = invoke(demo_store.url, "--district", "どこにもない")
    assert unknown.exit_code == 1 and "校区「どこにもない」は登録されていません" in unknown.output


def test_table_output_in_japanese(demo_store) -> None:
    result = invoke(demo_store.url, "--district", "安武")
    assert "計画の安全点検（安武校区" in result.stdout
    assert "不具合（ツールの誤り）" in result.stdout and "要対応" in result.stdout
    assert "NO_SUPPORTER" in result.stdout and "避難支援等実施者がいない" in result.stdout
    assert result.exit_code in (0, 1)


def test_the_audit_writes_nothing(demo_store) -> None:
    before = snapshot(demo_store)
    audit_plans(demo_store.sessions, Principal.cli(demo_store.city_code), "安武")
    assert snapshot(demo_store) == before


# --- hand-built stores: a known violation is reported, its fix clears it ---

def _bbox(geom: shapely.Geometry) -> dict[str, Any]:
    x0, y0, x1, y1 = geom.bounds
    return {"geom": shapely.to_wkb(geom), "min_lon": x0, "min_lat": y0, "max_lon": x1, "max_lat": y1}


def _small_city(store, assessment: dict[str, Any], agreement: bool = False) -> None:
    """One 校区, a landslide zone over shelter 2, a 福祉避難所, one resident with complete data."""
    with store.sessions() as session, session.begin():
        district = District(city_code=store.city_code, name="テスト校区", source="test", **_bbox(cell(0, 0, 6, 6)))
        dataset = Dataset(city_code=store.city_code, kind="hazards", source="test", sha256="0" * 64, feature_count=1,
                          imported_at=dt.datetime.now(dt.UTC))
        session.add_all([district, dataset])
        session.flush()
        session.add(HazardZone(dataset_id=dataset.id, layer=HazardLayer.LANDSLIDE.value, landslide_class=1,
                               landslide_kind=2, source_feature="0", **_bbox(cell(3))))
        common = {"city_code": store.city_code, "source": "test", "is_designated_shelter": True, "capacity": 50}
        safe = Shelter(code="T1", name="安全な小学校", lon=at(1)[0], lat=at(1)[1], **common)
        unsafe = Shelter(code="T2", name="山すその公民館", lon=at(3)[0], lat=at(3)[1], **common)
        welfare = Shelter(code="T3", name="テスト福祉避難所", lon=at(2)[0], lat=at(2)[1], city_code=store.city_code,
                          source="test", is_welfare_shelter=True, capacity=3, accepted_groups="要介護高齢者")
        person = Resident(city_code=store.city_code, resident_no="T0001", name="試験 太郎", address="テスト町1",
                          phone="000", lon=at(0)[0], lat=at(0)[1], district_id=district.id, source="test",
                          consent_plan=True, consent_share=True, info_reception=["防災行政無線"], mobility="自立")
        helper = Supporter(city_code=store.city_code, supporter_no="S1", name="支援 花子", address="テスト町2",
                           phone="111", source="test")
        person.supporters.append(helper)
        session.add_all([safe, unsafe, welfare, person])
        session.flush()
        if agreement:
            session.add(WelfareAgreement(resident_id=person.id, shelter_id=welfare.id, agreed_on=dt.date(2026, 4, 1)))
        run = AssessmentRun(city_code=store.city_code, computed_at=dt.datetime.now(dt.UTC), data_versions={}, parameters={}, resident_count=1)
        session.add(run)
        session.flush()
        ids = {"safe": safe.id, "unsafe": unsafe.id, "welfare": welfare.id}
        row = {
            "resident_id": person.id, "run_id": run.id, "collapse_flow": False, "collapse_erosion": False,
            "decision": "leave", "decision_reasons": [{"code": "LANDSLIDE_YELLOW", "text": "土砂災害警戒区域にあります。"}],
            "destination_kind": "shelter", "destination_reasons": [{"code": "NEAREST_SUITABLE", "text": "近い避難所です。"}],
            "welfare_needed": False, "welfare_unplaced": False, "distance_m": 1200.0, "walk_speed_mps": 1.0,
            "travel_min": 20.0, "walk_min": 20.0, "prepare_min": 10.0, "start_margin_min": 150.0,
            "crosses_deep_water": False, "travel_mode": "walk", "start_trigger": "level3", "priority_score": 1,
            "priority_reasons": [], "supporter_count": 1, "supporter_issues": [],
        } | {key: ids.get(value, value) if key.endswith("shelter_id") else value for key, value in assessment.items()}
        target = {safe.id: safe, unsafe.id: unsafe, welfare.id: welfare}.get(row.get("destination_shelter_id"))
        if target is not None and "route" not in row:  # the straight line the map draws
            row["route"] = shapely.to_wkb(shapely.LineString([(person.lon, person.lat), (target.lon, target.lat)]))
        session.add(Assessment(**row))
        person.emergency_contacts  # noqa: B018  (loaded so the relationship exists for the plan)


def test_a_destination_in_a_landslide_zone_fails_the_audit(store) -> None:
    _small_city(store, {"destination_shelter_id": "unsafe"})
    result = invoke(store.url, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    unsafe = [v for v in report["violations"] if v["rule"] == "DEST_UNSAFE"]
    assert len(unsafe) == 1 and unsafe[0]["kind"] == "toolkit" and unsafe[0]["resident_no"] == "T0001"
    assert "山すその公民館" in unsafe[0]["message"] and "土砂災害警戒区域" in unsafe[0]["message"]
    table = invoke(store.url)
    assert table.exit_code == 1 and "T0001" in table.stdout and "配らないでください" in table.stdout


def test_a_safe_destination_passes_and_only_data_todos_remain(store) -> None:
    _small_city(store, {"destination_shelter_id": "safe"})
    result = invoke(store.url, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report["violations"]
    assert report["totals"]["toolkit"] == 0
    assert {v["rule"] for v in report["violations"]} == {"NO_EMERGENCY_CONTACT"}  # the one gap left in the data


def test_a_route_to_the_wrong_place_fails_the_audit(store) -> None:
    _small_city(store, {"destination_shelter_id": "safe", "route": shapely.to_wkb(shapely.LineString([at(0), at(4)]))})
    report = audit_plans(store.sessions, Principal.cli(store.city_code))
    assert [v.rule for v in report.violations if v.kind is Kind.TOOLKIT] == [Rule.ROUTE]


def test_direct_welfare_evacuation_needs_the_stored_agreement(store) -> None:
    direct = {"destination_kind": "welfare", "destination_shelter_id": "welfare", "welfare_shelter_id": "welfare",
              "welfare_direct": True, "welfare_needed": True, "travel_mode": "car", "distance_m": 900.0}
    _small_city(store, direct)
    report = audit_plans(store.sessions, Principal.cli(store.city_code))
    assert Rule.WELFARE_DIRECT in {v.rule for v in report.violations if v.kind is Kind.TOOLKIT}


def test_direct_welfare_evacuation_with_the_agreement_passes(store) -> None:
    direct = {"destination_kind": "welfare", "destination_shelter_id": "welfare", "welfare_shelter_id": "welfare",
              "welfare_direct": True, "welfare_needed": True, "travel_mode": "car", "distance_m": 900.0}
    _small_city(store, direct, agreement=True)
    report = audit_plans(store.sessions, Principal.cli(store.city_code))
    assert Rule.WELFARE_DIRECT not in {v.rule for v in report.violations}


def test_without_an_assessment_the_audit_says_what_to_run(store) -> None:
    result = invoke(store.url)
    assert result.exit_code == 1 and "disaster assess" in result.output
