"""The access policy (disaster.access) over every use-case that reads residents, on SQLite and
PostgreSQL: role × resident inside/outside the scope × consent yes/no × 災害時モード on/off.

One city (two 校区, 北 and 南, a consenting and a non-consenting resident in each) and a second
city with a resident of the same 校区 name, the same care professional and the same consent. Each
resident has a name, phone and address found nowhere else, so an output that contains one of a
resident outside the principal's view shows up.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import event, select

import disaster.usecases.plans as plans_usecase
from disaster import access, errors, repo
from disaster.access import Action, Principal, Role, resident_filter
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import AssessmentRun, CareProfessional, District, Resident, Supporter
from disaster.outputs import OutputFolder
from disaster.usecases.audit import audit_plans
from disaster.usecases.exercises import district_facts, new_pack
from disaster.usecases.maps import district_file, load_map_inputs, write_all_maps, write_district_map
from disaster.usecases.plans import PlanReport, write_district_plans, write_plan
from disaster.usecases.stats import store_stats
from tests.conftest import KURUME, ROOT
from tests.plans_fixtures import X0, Y0, _assessment, _bbox, _resident, _shelter

OTHER = "402052"
CARE = "介護 支子"
TODAY = dt.date(2026, 11, 25)


@dataclass(frozen=True)
class Person:
    number: str
    name: str
    district: str
    consent: bool  # consent_share and consent_plan
    care: bool  # CARE is their care professional
    city: str = KURUME

    @property
    def phone(self) -> str:
        return f"0942-7{ord(self.number[0]) - ord('A') + 1}-{self.number[-4:]}"

    @property
    def address(self) -> str:
        return f"{self.name}の住所 9-{self.number}"

    @property
    def secrets(self) -> tuple[str, str, str]:
        return self.name, self.phone, self.address


PEOPLE = [
    Person("A0001", "北野 同意", "北", True, True),
    Person("A0002", "北川 未同意", "北", False, False),
    Person("A0003", "南野 同意", "南", True, False),
    Person("A0004", "南川 未同意", "南", False, True),
    Person("B0001", "他市 同意", "北", True, True, OTHER),  # another city: never anyone's in KURUME
]
BY_NUMBER = {p.number: p for p in PEOPLE}
OURS = {p.number for p in PEOPLE if p.city == KURUME}


def _principals() -> dict[str, Principal]:
    leader = Principal("leader", Role.LEADER, KURUME, frozenset({"北"}))
    return {
        "city_admin": Principal("admin", Role.CITY_ADMIN, KURUME),
        "city_staff": Principal("staff", Role.CITY_STAFF, KURUME),
        "leader": leader,
        "leader_emergency_here": Principal("leader", Role.LEADER, KURUME, frozenset({"北"}),
                                           emergency_districts=frozenset({"北"})),
        "leader_emergency_elsewhere": Principal("leader", Role.LEADER, KURUME, frozenset({"北"}),
                                                emergency_districts=frozenset({"南"})),
        "leader_emergency_all": Principal("leader", Role.LEADER, KURUME, frozenset({"北"}), emergency_all=True),
        "trainer": Principal("trainer", Role.TRAINER, KURUME),
        "care_professional": Principal("care", Role.CARE_PROFESSIONAL, KURUME, professional_name=CARE),
        "public": Principal.public(KURUME),
    }


PRINCIPALS = _principals()
# who each principal may load with their identity
EXPECTED = {
    "city_admin": OURS, "city_staff": OURS,
    "leader": {"A0001"}, "leader_emergency_here": {"A0001", "A0002"}, "leader_emergency_elsewhere": {"A0001"},
    "leader_emergency_all": {"A0001", "A0002"},
    "trainer": set(), "care_professional": {"A0001", "A0004"}, "public": set(),
}


def _build(store) -> None:
    with store.sessions() as session, session.begin():
        repo.ensure_city(session, OTHER, "他市")
        session.flush()
        districts = {}
        for city, name, dx in ((KURUME, "北", 0.0), (KURUME, "南", 0.03), (OTHER, "北", 0.5)):
            area = shapely.box(X0 + dx, Y0, X0 + dx + 0.03, Y0 + 0.03)
            district = District(city_code=city, name=name, source="test", is_demo=True, **_bbox(area))
            session.add(district)
            districts[(city, name)] = (district, dx)
        session.add(_shelter("T-S1", "北小学校", X0 + 0.01, Y0 + 0.01, hazard_flood=True))
        session.flush()
        runs = {}
        for city in (KURUME, OTHER):
            runs[city] = AssessmentRun(city_code=city, computed_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
                                       data_versions={}, parameters={}, resident_count=1)
            session.add(runs[city])
        agreeing = Supporter(city_code=KURUME, supporter_no="H1", name="支援 同意者", phone="0942-66-0001",
                             relation="近所", consent=True, source="test", lon=X0 + 0.003, lat=Y0 + 0.003)
        refusing = Supporter(city_code=KURUME, supporter_no="H2", name="支援 非同意者", phone="0942-66-0002",
                             relation="長男", consent=False, source="test", lon=X0 + 0.004, lat=Y0 + 0.004)
        session.add_all([agreeing, refusing])
        session.flush()
        for i, person in enumerate(PEOPLE):
            district, dx = districts[(person.city, person.district)]
            resident = _resident(person.number, person.name, district, phone=person.phone, address=person.address,
                                 consent_share=person.consent, consent_plan=person.consent,
                                 consent_plan_date=dt.date(2026, 4, 1) if person.consent else None,
                                 lon=X0 + dx + 0.005 + 0.001 * i, lat=Y0 + 0.005,
                                 supporters=[agreeing, refusing] if person.city == KURUME else [])
            resident.city_code = person.city
            session.add(resident)
            session.flush()
            if person.care:
                session.add(CareProfessional(resident_id=resident.id, role="ケアマネジャー", name=CARE, phone="0942-55-0000"))
            session.add(_assessment(resident, runs[person.city], flood_l2_rank=2, supporter_count=2))


@pytest.fixture
def town(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The store with both cities; the profile of the other city comes from Kurume's example."""
    folder = tmp_path / "cities"
    folder.mkdir()
    text = (ROOT / "data" / "cities" / f"{KURUME}.toml").read_text(encoding="utf-8")
    (folder / f"{OTHER}.toml").write_text(text.replace(f'code = "{KURUME}"', f'code = "{OTHER}"', 1), encoding="utf-8")
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(folder))
    _build(store)
    yield store


def _leaks(text: str, allowed: set[str]) -> list[str]:
    """Names, phones and addresses in ``text`` of residents outside ``allowed``."""
    return [secret for p in PEOPLE if p.number not in allowed for secret in p.secrets if secret in text]


@pytest.fixture
def statements(store) -> Iterator[list[str]]:
    """The SQL statements the test runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


def test_resident_filter_loads_exactly_the_principals_residents(town) -> None:
    with town.sessions() as session:
        for key, principal in PRINCIPALS.items():
            loaded = set(session.scalars(select(Resident.resident_no).where(resident_filter(principal))))
            assert loaded == EXPECTED[key], key
            north = set(session.scalars(select(Resident.resident_no).where(resident_filter(principal, "北"))))
            assert north == {n for n in EXPECTED[key] if BY_NUMBER[n].district == "北"}, key


@pytest.mark.parametrize("key", list(PRINCIPALS))
def test_map_data_and_maps_show_only_the_principals_residents(town, tmp_path: Path, key: str) -> None:
    principal = PRINCIPALS[key]
    with town.sessions() as session:
        inputs = load_map_inputs(session, principal)
    assert set(inputs.residents["resident_no"]) == EXPECTED[key]
    if not EXPECTED[key]:
        assert inputs.supporters.empty
    assert inputs.counts.loc["北", "residents"] == 2 and inputs.counts.loc["南", "residents"] == 2  # counts: the city's
    report = write_all_maps(town.sessions, principal, tmp_path / "all")
    for path in report.files:
        page = path.read_text(encoding="utf-8")
        assert _leaks(page, EXPECTED[key]) == [], (key, path.name)
        assert "他市" not in page
    north = (tmp_path / "all" / district_file("北")).read_text(encoding="utf-8")
    for number in EXPECTED[key]:
        if BY_NUMBER[number].district == "北":
            assert BY_NUMBER[number].name in north
    city_page = (tmp_path / "all" / "city.html").read_text(encoding="utf-8")
    assert ("5未満" in city_page) == access.suppresses_counts(principal)  # 2 residents per 校区
    # a supporter's name only where the supporter consented (city roles see both)
    assert ("支援 非同意者" in north) == (principal.is_city and bool(EXPECTED[key]))
    assert ("支援 同意者" in north) == any(BY_NUMBER[n].district == "北" for n in EXPECTED[key])


@pytest.mark.parametrize("key", ["public", "trainer"])
def test_public_and_trainer_outputs_load_no_resident_identity(town, statements: list[str], tmp_path: Path, key: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    principal = PRINCIPALS[key]
    statements.clear()
    write_district_map(town.sessions, principal, "北", tmp_path / "m.html")
    if key == "trainer":
        monkeypatch.setattr("disaster.pdf.renderer.PdfRenderer.pdf", lambda self, template, context, extra_css=None: (
            json.dumps(context, default=str, ensure_ascii=False).encode(), 1))
        pack = new_pack(town.sessions, principal, "北", ExerciseHazard.FLOOD, tmp_path / "pack",
                        dt.datetime(2026, 7, 8, 18, 0), seed=1)
        for path in pack.files:
            if path.suffix in (".json", ".csv", ".html", ".pdf"):
                assert _leaks(path.read_text(encoding="utf-8", errors="replace"), set()) == [], path.name
    selected = [s.split("FROM", 1)[0] for s in statements if s.lstrip().upper().startswith("SELECT")]  # what is loaded
    assert any("resident.birth_date" in s for s in selected) == (key == "trainer")  # the exercise's pseudonymised people
    for column in ("name", "phone", "address", "resident_no", "kana"):
        assert not any(f"resident.{column}" in s for s in selected), column


@pytest.mark.parametrize("key", list(PRINCIPALS))
def test_plans_are_made_only_for_the_principals_residents(town, tmp_path: Path, key: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One plan per resident and a whole 校区 at once; the PDF renderer is replaced by the plan's
    content as JSON (the content is what the policy decides)."""

    class Renderer:
        def __init__(self, data: Any, pdf: Any = None) -> None:
            pass

        def render(self, plan: dict[str, Any], large_print: bool = False) -> tuple[bytes, int]:
            return json.dumps(plan, default=str, ensure_ascii=False).encode(), 1

    def render_plans(plans: list[dict[str, Any]], data: Any, folder: OutputFolder, *args: Any) -> PlanReport:
        report = PlanReport()
        for plan in plans:
            content, _ = Renderer(data).render(plan)
            name = plans_usecase.plan_file(plan["resident_no"])
            folder.write_bytes(name, content)
            report.written.append((plan["resident_no"], name, 1, len(content)))
        return report

    monkeypatch.setattr(plans_usecase, "render_here", lambda data, plan, large_print: Renderer(data).render(plan))
    monkeypatch.setattr(plans_usecase, "render_plans", render_plans)
    principal = PRINCIPALS[key]
    for person in PEOPLE:
        out = tmp_path / f"{person.number}.pdf"
        district = person.district
        may = (person.number in EXPECTED[key]
               and access.can(principal, Action.ISSUE_PLAN if person.consent else Action.DRAFT_PLAN, district))
        if may:
            write_plan(town.sessions, principal, person.number, out, today=TODAY)
            text = out.read_text(encoding="utf-8")
            assert person.name in text and _leaks(text, {person.number}) == []
        else:
            expected_error = errors.NotFound if person.city != KURUME else errors.Forbidden
            with pytest.raises(expected_error) as raised:
                write_plan(town.sessions, principal, person.number, out, today=TODAY)
            assert not out.exists() and _leaks(str(raised.value), set()) == []
    for district in ("北", "南"):
        folder = tmp_path / f"plans_{district}"
        if not access.can(principal, Action.DISTRICT_PLANS, district):
            with pytest.raises(errors.Forbidden):
                write_district_plans(town.sessions, principal, district, folder, today=TODAY)
            continue
        drafts = access.can(principal, Action.DRAFT_PLAN, district)
        report = write_district_plans(town.sessions, principal, district, folder, today=TODAY, include_drafts=drafts)
        visible = {n for n in EXPECTED[key] if BY_NUMBER[n].district == district}
        assert {n for n, *_ in report.written} == {n for n in visible if drafts or BY_NUMBER[n].consent}
        assert set(report.consents) == visible
        for path in folder.iterdir():
            assert _leaks(path.read_text(encoding="utf-8-sig"), visible) == [], path.name


@pytest.mark.parametrize("key", list(PRINCIPALS))
def test_stats_and_the_plan_audit_follow_the_policy(town, key: str) -> None:
    principal = PRINCIPALS[key]
    if principal.is_city:
        stats = store_stats(town.sessions, principal)
        assert stats["counts"]["residents"] == len(OURS)
        assert [(d["name"], d["residents"], d["residents_sharing_consent"]) for d in stats["districts"]] == [
            ("北", 2, 1), ("南", 2, 1)]
        assert _leaks(json.dumps(stats, ensure_ascii=False), set()) == []
    else:
        with pytest.raises(errors.Forbidden):
            store_stats(town.sessions, principal)
    if access.can(principal, Action.AUDIT_PLANS):
        report = audit_plans(town.sessions, principal, today=TODAY)
        assert report.residents == len(EXPECTED[key])
        assert {v.resident_no for v in report.violations} <= EXPECTED[key]
    else:
        with pytest.raises(errors.Forbidden):
            audit_plans(town.sessions, principal, today=TODAY)


@pytest.mark.parametrize("key", list(PRINCIPALS))
@pytest.mark.parametrize("closed", [False, True])
def test_exercise_people_are_named_only_in_a_closed_session_with_consent(town, key: str, closed: bool) -> None:
    principal = PRINCIPALS[key]
    allowed = access.can(principal, Action.EXERCISE_PACK, "北") and (
        not closed or access.can(principal, Action.CLOSED_SESSION, "北"))
    with town.sessions() as session:
        if not allowed:
            with pytest.raises(errors.Forbidden):
                district_facts(session, principal, "北", ExerciseHazard.FLOOD, closed, today=TODAY)
            return
        facts = district_facts(session, principal, "北", ExerciseHazard.FLOOD, closed, today=TODAY)
    assert facts.at_risk_total == 2 and facts.residents == 2  # everyone of the 校区 is counted
    labels = " ".join(p.label for p in facts.at_risk)
    emergency = principal.in_emergency("北")
    named = {p.number for p in PEOPLE if p.city == KURUME and p.district == "北"
             and closed and (p.consent or emergency)}
    # the named appear; nobody else, since no descriptor fits 5 residents of a 校区 of 2
    assert len(facts.at_risk) == len(named)
    assert {n for n in OURS if BY_NUMBER[n].name in labels} == named
    assert _leaks(labels, named) == []


def test_a_leader_may_not_act_for_another_district_and_the_message_names_no_one() -> None:
    leader = PRINCIPALS["leader"]
    assert access.can(leader, Action.DISTRICT_PLANS, "北") and not access.can(leader, Action.DISTRICT_PLANS, "南")
    with pytest.raises(errors.Forbidden, match="南校区") as raised:
        access.require(leader, Action.DISTRICT_PLANS, "南")
    assert _leaks(str(raised.value), set()) == []
    assert not access.can(PRINCIPALS["trainer"], Action.CLOSED_SESSION, "北")
    assert access.can(PRINCIPALS["leader_emergency_here"], Action.DRAFT_PLAN, "北")
    assert not access.can(PRINCIPALS["leader_emergency_elsewhere"], Action.DRAFT_PLAN, "北")
    with pytest.raises(errors.Rejected):
        Principal("x", Role.LEADER, KURUME)  # a leader without a 校区
    with pytest.raises(errors.Rejected):
        Principal("x", Role.CARE_PROFESSIONAL, KURUME)  # a 福祉専門職 without the name the 名簿 records


def test_the_cli_acts_as_the_city_administrator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "tanaka")
    assert Principal.cli(KURUME) == Principal("tanaka", Role.CITY_ADMIN, KURUME)


READING_USE_CASES = [load_map_inputs, write_district_map, write_all_maps, write_plan, write_district_plans, store_stats,
                     district_facts, new_pack, audit_plans]


def test_the_policy_is_the_only_place_that_decides() -> None:
    """The old per-output rules are gone, the reading use-cases take a Principal, and no query
    outside disaster/access.py filters on consent."""
    assert not (ROOT / "maps" / "views.py").exists()
    for function in READING_USE_CASES:
        annotations = [p.annotation for p in inspect.signature(function).parameters.values()]
        assert "Principal" in annotations, function.__name__
        assert "city_code" not in inspect.signature(function).parameters, function.__name__
    offenders = []
    for path in [*(ROOT / "disaster").rglob("*.py"), *(ROOT / "maps").glob("*.py")]:
        if path.name == "access.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "maps.views":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports maps.views")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "where":
                for inner in (n for arg in node.args for n in ast.walk(arg)):  # the where-clause, not the query before it
                    if isinstance(inner, ast.Attribute) and inner.attr in ("consent_share", "consent"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
