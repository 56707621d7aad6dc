"""Plan records made with the resident: versions and their Japanese diffs, only safe destinations
accepted, issue, and the turn to 要見直し when the data behind an issued plan changes — ending in
the printed PDF, which never sends the person to a destination that is no longer safe."""

from __future__ import annotations

import datetime as dt
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import shapely
from sqlalchemy import or_, select, update

from disaster import errors
from disaster.access import Principal, Role
from disaster.codes import HazardLayer
from disaster.models import Assessment, CareProfessional, Dataset, District, HazardZone, PlanRecord, Resident, Shelter
from disaster.plans.context import load_residents, plan_contexts
from disaster.plans.options import NEARBY, Verdict
from disaster.plans.record import Change, PlanContent, describe, diff, rejected_reasons, what_changed
from disaster.plans.render import PlanRenderer
from disaster.profile import load_profile
from disaster.usecases import plan_records as usecase
from disaster.usecases import plans as plans_usecase
from disaster.usecases.assess import run_assessment
from disaster.usecases.plans import PlanReport, map_data, plan_pdf
from disaster.usecases.users import add_user
from tests.conftest import KURUME, Store
from tests.helpers import pdf_text
from tests.web_fixtures import PASSWORD, web_store  # noqa: F401  (fixture)

NOW = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
CITY = Principal.cli(KURUME)


# --- pure parts ---


def test_diff_reads_as_japanese_with_names_and_dates() -> None:
    before = {"destination_code": "A", "carry_items": ["薬"], "next_review_on": None, "made_with": ["本人・家族"]}
    after = {"destination_code": "B", "carry_items": ["薬", "メガネ"], "next_review_on": "2027-05-01",
             "made_with": ["本人・家族"]}
    names = {"A": "手作り小学校", "B": "手作り公民館"}
    lines = [describe(c, lambda field, value: names.get(value)) for c in diff(before, after)]
    assert lines == ["避難先: 手作り小学校 → 手作り公民館", "持ち出し品: 薬 → 薬、メガネ", "次の見直し日: （なし） → 令和9年5月1日"]
    assert describe(Change("transport_mode", None, "car"), lambda f, v: None) == "移動の方法: （なし） → 車で"


def test_rejections_name_the_field() -> None:
    content = PlanContent(destination_code="X", supporter_primary="S9", recipients=["支援者", "隣の家"])
    problems = rejected_reasons(content, assessed_code="Y", supporters={"S1"}, consent_share=False,
                                destination_problem="Xは浸水の深さ…にあり、安全ではありません。")
    fields = [p.split(":")[0] for p in problems]
    assert fields == ["避難先", "避難先の理由", "主な支援者", "提供先", "提供先"]
    ok = PlanContent(destination_code="Y", supporter_primary="S1", recipients=["支援者", "その他：長女"])
    assert rejected_reasons(ok, assessed_code="Y", supporters={"S1"}, consent_share=True, destination_problem=None) == []


def test_what_changed_names_the_part_and_the_value() -> None:
    issued = {"shelter": {"name": "手作り小学校", "flood": True, "depth": 0}, "home": {"flood_l2_rank": 2}}
    now = {"shelter": {"name": "手作り小学校", "flood": False, "depth": 3}, "home": {"flood_l2_rank": 3}}
    assert what_changed(issued, now) == [
        "自宅の危険: 洪水（想定最大規模）の浸水深ランク 2 → 3",
        "避難先の施設（手作り小学校）: 洪水の指定 あり → なし",
        "避難先の施設（手作り小学校）: 浸水深ランク （なし） → 3",
    ]


# --- on a copy of the demo city ---


@dataclass(frozen=True)
class Person:
    resident_no: str
    resident_id: int
    assessed: str  # shelter code of the assessment's destination
    second: str


def _people(store: Store, count: int, flood_only: bool = False) -> list[Person]:
    """Residents without a plan record yet, with plan consent, an assessed destination and a
    second one (no shelter shared between them)."""
    with store.sessions() as session:
        rows = session.execute(
            select(Resident.resident_no, Resident.id, Assessment.destination_shelter_id, Assessment.second_shelter_id,
                   Assessment.flood_l2_rank, Assessment.inland_rank, Assessment.landslide_class)
            .join(Assessment, Assessment.resident_id == Resident.id)
            .where(Resident.consent_plan.is_(True), Resident.consent_share.is_(True),
                   Assessment.destination_kind == "shelter", Assessment.second_shelter_id.is_not(None),
                   Resident.id.not_in(select(PlanRecord.resident_id)))
            .order_by(Resident.resident_no)).all()
        codes = dict(session.execute(select(Shelter.id, Shelter.code)).all())
    found: list[Person] = []
    used: set[str] = set()
    for no, rid, first, second, flood, inland, slide in rows:
        if flood_only and not (flood and not inland and not slide):
            continue
        if {codes[first], codes[second]} & used:
            continue
        used |= {codes[first], codes[second]}
        found.append(Person(no, rid, codes[first], codes[second]))
        if len(found) == count:
            return found
    raise AssertionError("the demo city has too few residents for this test")


@pytest.fixture(scope="module")
def town(web_store: Store) -> Iterator[Store]:  # noqa: F811
    yield web_store


def test_every_save_is_a_version_with_its_author_and_diff(town: Store) -> None:
    (person,) = _people(town, 1)
    view = usecase.get_plan(town.sessions, CITY, person.resident_no)
    assert view.version == 0 and view.status is None
    assert [d.code for d in view.destinations[:2]] == [person.assessed, person.second]
    assert view.destinations[0].why[0] == "避難判定の避難先です。"
    first = usecase.save_plan(town.sessions, CITY, person.resident_no,
                              PlanContent(destination_code=person.assessed, made_with=["本人・家族", "地域"]), 0, NOW)
    assert (first.version, first.status) == (1, "下書き")
    names = {d.code: d.name for d in view.destinations}
    second = usecase.save_plan(
        town.sessions, CITY, person.resident_no,
        PlanContent(destination_code=person.second, destination_reason="本人が通い慣れた場所", made_with=["本人・家族"]),
        1, NOW + dt.timedelta(minutes=5))
    assert second.version == 2
    assert f"避難先: {names[person.assessed]} → {names[person.second]}" in second.changes
    assert "避難先の理由: （なし） → 本人が通い慣れた場所" in second.changes
    unchanged = usecase.save_plan(
        town.sessions, CITY, person.resident_no,
        PlanContent(destination_code=person.second, destination_reason="本人が通い慣れた場所", made_with=["本人・家族"]),
        2, NOW)
    assert unchanged.version == 2 and unchanged.changes == []
    history = usecase.history(town.sessions, CITY, person.resident_no)
    assert [(h.version, h.author_login, h.author_role) for h in history] == [(2, CITY.login, "city_admin"),
                                                                           (1, CITY.login, "city_admin")]
    assert history[0].made_with == ["本人・家族"] and f"避難先: （なし） → {names[person.assessed]}" in history[1].changes


def test_a_stale_save_is_a_conflict_showing_the_other_change_and_keeps_it(town: Store) -> None:
    (person,) = _people(town, 1)
    usecase.save_plan(town.sessions, CITY, person.resident_no, PlanContent(notes="一回目"), 0, NOW)
    usecase.save_plan(town.sessions, CITY, person.resident_no, PlanContent(notes="二回目"), 1, NOW)
    with pytest.raises(errors.Conflict) as caught:
        usecase.save_plan(town.sessions, CITY, person.resident_no, PlanContent(notes="古い版から"), 1, NOW)
    assert caught.value.current is not None
    assert caught.value.current["version"] == 2 and caught.value.current["changes"] == ["メモ: 一回目 → 二回目"]
    assert usecase.get_plan(town.sessions, CITY, person.resident_no).content["notes"] == "二回目"  # type: ignore[index]


def test_two_saves_at_the_same_moment_one_wins_the_other_conflicts_and_retries(town: Store) -> None:
    (person,) = _people(town, 1)
    usecase.save_plan(town.sessions, CITY, person.resident_no, PlanContent(notes="最初"), 0, NOW)
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(label: str, content: PlanContent) -> None:
        start.wait()
        try:
            outcomes[label] = usecase.save_plan(town.sessions, CITY, person.resident_no, content, 1, NOW)
        except errors.Conflict as exc:
            outcomes[label] = exc

    edits = {"a": PlanContent(notes="最初", carry_items=["杖"]), "b": PlanContent(notes="最初", care_notes=["耳が遠い"])}
    threads = [threading.Thread(target=save, args=item) for item in edits.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lost = [label for label, outcome in outcomes.items() if isinstance(outcome, errors.Conflict)]
    assert len(lost) == 1, outcomes
    (loser,) = lost
    winner = "b" if loser == "a" else "a"
    conflict = outcomes[loser]
    assert isinstance(conflict, errors.Conflict) and conflict.current is not None and conflict.current["version"] == 2
    view = usecase.get_plan(town.sessions, CITY, person.resident_no)
    merged = PlanContent.model_validate(view.content).model_copy(update=edits[loser].model_dump(exclude_defaults=True))
    usecase.save_plan(town.sessions, CITY, person.resident_no, merged, view.version, NOW)
    final = usecase.get_plan(town.sessions, CITY, person.resident_no).content
    assert final is not None and final["carry_items"] == ["杖"] and final["care_notes"] == ["耳が遠い"]
    assert [h.version for h in usecase.history(town.sessions, CITY, person.resident_no)] == [3, 2, 1]
    assert winner in outcomes


def test_only_destinations_that_pass_the_safety_rules_are_accepted(town: Store) -> None:
    (person,) = _people(town, 1)
    view = usecase.get_plan(town.sessions, CITY, person.resident_no)
    allowed = {d.code for d in view.destinations}
    with town.sessions() as session:
        judge = usecase.judge_for(session, KURUME)
        resident = session.get(Resident, person.resident_id)
        assert resident is not None
        verdicts = judge.verdicts(usecase._resident_frame(session, resident.id),
                                  usecase._suggestion(session.get(Assessment, resident.id)), {})
    unsafe = next(v for v in verdicts if not v.allowed and "安全ではありません" in (v.problem or ""))
    assert unsafe.code not in allowed
    with pytest.raises(errors.Rejected, match="避難先: ") as caught:
        usecase.save_plan(town.sessions, CITY, person.resident_no,
                          PlanContent(destination_code=unsafe.code, destination_reason="本人の希望"), 0, NOW)
    assert unsafe.name in str(caught.value)
    with pytest.raises(errors.Rejected, match="避難先の理由"):
        usecase.save_plan(town.sessions, CITY, person.resident_no, PlanContent(destination_code=person.second), 0, NOW)
    with town.sessions() as session:
        assert session.scalar(select(PlanRecord).where(PlanRecord.resident_id == person.resident_id)) is None


def test_issue_needs_plan_consent(town: Store) -> None:
    with town.sessions() as session:
        no = session.scalar(select(Resident.resident_no).where(Resident.consent_plan.is_(False)).order_by(Resident.resident_no))
    assert no is not None
    usecase.save_plan(town.sessions, CITY, no, PlanContent(notes="同意なし"), 0, NOW)
    with pytest.raises(errors.Rejected, match="計画作成の同意"):
        usecase.issue_plan(town.sessions, CITY, no, 1, NOW)


def test_the_pdf_prints_the_record_and_without_one_the_assessment(
        town: Store) -> None:
    (person,) = _people(town, 1)
    with town.sessions() as session:
        names = dict(session.execute(select(Shelter.code, Shelter.name)).all())
    before = pdf_text(plan_pdf(town.sessions, CITY, person.resident_no, today=NOW.date()).pdf)
    assert "計画の記録" not in before and f"避難先{names[person.assessed]}" in before
    content = PlanContent(destination_code=person.second, destination_reason="長女の家に近い", transport_mode="car",
                          transport_note="長女が車で迎えに来る", carry_items=["補聴器の電池"], made_with=["本人・家族", "地域"])
    usecase.save_plan(town.sessions, CITY, person.resident_no, content, 0, NOW)
    document = plan_pdf(town.sessions, CITY, person.resident_no, today=NOW.date())
    text = pdf_text(document.pdf)
    assert (document.version, document.status, document.unsafe_destination) == (1, "下書き", False)
    assert "計画の記録第1版・下書き" in text and "この計画はまだ本人と確かめていません" in text
    assert f"避難先{names[person.second]}" in text and f"第2の避難先{names[person.assessed]}" in text
    assert "本人と決めた避難先です（理由：長女の家に近い）" in text and "移動の手配：長女が車で迎えに来る" in text
    assert "□補聴器の電池" in text and "お薬手帳" not in text  # the record's 持ち出し品 replace the suggested ones
    assert f"（{'・'.join(content.made_with)}と作成）" in text


def test_a_district_s_plans_print_the_records_too(town: Store, tmp_path_factory: pytest.TempPathFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (person,) = _people(town, 1)
    usecase.save_plan(town.sessions, CITY, person.resident_no,
                      PlanContent(destination_code=person.second, destination_reason="本人の希望"), 0, NOW)
    with town.sessions() as session:
        district = session.scalar(select(District.name).join(Resident, Resident.district_id == District.id)
                                  .where(Resident.id == person.resident_id))
        second = session.scalar(select(Shelter.name).where(Shelter.code == person.second))
    rendered: list[dict[str, Any]] = []

    def render(plans: list[dict[str, Any]], *args: Any, **kwargs: Any) -> PlanReport:
        rendered.extend(plans)
        return PlanReport()

    monkeypatch.setattr(plans_usecase, "render_plans", render)
    assert district is not None
    plans_usecase.write_district_plans(town.sessions, CITY, district, tmp_path_factory.mktemp("district"), today=NOW.date())
    plan = next(p for p in rendered if p["resident_no"] == person.resident_no)
    assert plan["record"]["version"] == 1 and plan["destination"]["name"] == second
    with town.sessions() as session:
        recorded = set(session.scalars(select(Resident.resident_no).join(PlanRecord, PlanRecord.resident_id == Resident.id)))
    listed = {p["resident_no"] for p in rendered}
    assert {p["resident_no"] for p in rendered if p["record"]} == recorded & listed  # the others: from the assessment


def _zone_around(session, lon: float, lat: float, layer: HazardLayer, rank: int | None) -> None:  # type: ignore[no-untyped-def]
    dataset = session.scalar(select(Dataset).where(Dataset.city_code == KURUME, Dataset.kind == "hazards"))
    polygon = shapely.box(lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002)
    minx, miny, maxx, maxy = polygon.bounds
    session.add(HazardZone(dataset_id=dataset.id, layer=layer.value, rank=rank, river_name="試験", source_feature="test",
                           geom=shapely.to_wkb(polygon), min_lon=minx, min_lat=miny, max_lon=maxx, max_lat=maxy))


def test_issued_plans_turn_to_review_with_what_changed_and_the_pdf_never_sends_to_an_unsafe_place(
        town: Store) -> None:
    designation, deeper, moved, untouched = _four(town)
    issued: dict[str, int] = {}
    with town.sessions() as session, session.begin():  # the designation case: a flood-designated 緊急避難場所 only
        session.execute(update(Shelter).where(Shelter.code == designation.second).values(
            is_designated_shelter=False, is_welfare_shelter=False, is_emergency_site=True, hazard_flood=True))
    for person, code in ((designation, designation.second), (deeper, deeper.assessed), (moved, moved.assessed),
                         (untouched, untouched.assessed)):
        content = PlanContent(destination_code=code, destination_reason="本人の希望" if code != person.assessed else None,
                              made_with=["本人・家族"], next_review_on=dt.date(2027, 11, 1))
        saved = usecase.save_plan(town.sessions, CITY, person.resident_no, content, 0, NOW)
        issued[person.resident_no] = usecase.issue_plan(town.sessions, CITY, person.resident_no, saved.version, NOW).version
    with town.sessions() as session, session.begin():
        session.execute(update(Shelter).where(Shelter.code == designation.second).values(hazard_flood=False))
        shelter = session.scalar(select(Shelter).where(Shelter.code == deeper.assessed))
        assert shelter is not None
        _zone_around(session, shelter.lon, shelter.lat, HazardLayer.FLOOD_L2_DEPTH, 4)
        deeper_name = shelter.name
        session.execute(update(Resident).where(Resident.id == moved.resident_id).values(mobility="車いす"))
    run_assessment(town.sessions, KURUME)

    with town.sessions() as session:
        records = {r.resident_id: r for r in session.scalars(select(PlanRecord))}
    lost = records[designation.resident_id]
    assert lost.status == "要見直し" and lost.version == issued[designation.resident_no] + 1
    assert lost.review_reasons[0].startswith("安全：記録の避難先は、いまのデータでは選べません。")
    assert any(r.endswith("洪水の指定 あり → なし") for r in lost.review_reasons)
    deep = records[deeper.resident_id]
    assert deep.status == "要見直し" and "安全ではありません" in deep.review_reasons[0]
    assert f"避難先の施設（{deeper_name}）: 浸水深ランク （なし） → 4" in deep.review_reasons
    mover = records[moved.resident_id]
    assert mover.status == "要見直し" and any("本人の情報: 移動" in r and "→ 車いす" in r for r in mover.review_reasons)
    assert records[untouched.resident_id].status == "本人確認済"
    history = usecase.history(town.sessions, CITY, deeper.resident_no)
    assert history[0].author_login == "自動点検" and history[0].changes == ["状態: 本人確認済 → 要見直し"]
    assert history[0].note is not None and "浸水深ランク" in history[0].note

    document = plan_pdf(town.sessions, CITY, deeper.resident_no, today=dt.date(2026, 11, 26))
    text = pdf_text(document.pdf)
    with town.sessions() as session:
        now_assessed = session.scalar(select(Shelter.name).join(Assessment, Assessment.destination_shelter_id == Shelter.id)
                                      .where(Assessment.resident_id == deeper.resident_id))
    assert now_assessed is not None and now_assessed != deeper_name
    section = text[text.index("3.避難のしかた"):]
    table = section.index("所在地")  # the destination table: 避難先 <name> <kinds> 所在地 …
    cell = section[section.rindex("避難先", 0, table) + len("避難先"):table]
    second = section[section.index("第2の避難先", table):][:40]
    assert now_assessed in cell and deeper_name not in cell and deeper_name not in second
    assert f"計画で決めた避難先（{deeper_name}）は、いまのデータでは安全と判断できない" in section[:table]
    assert document.unsafe_destination and document.status == "要見直し"
    assert f"第{document.version}版・要見直し" in text and "この計画は見直しが必要です" in text
    assert "次の見直し令和9年11月1日" in text and "本人確認日令和8年11月26日" in text
    assert "作成者市の管理者（本人・家族と作成）" in text and "自動点検" not in text  # the person who made it, not the review


def _four(town: Store) -> list[Person]:
    """Four residents with distinct destinations; the first with flood (only) at home."""
    flood = _people(town, 1, flood_only=True)[0]
    others = [p for p in _people(town, 4) if p != flood and not {p.assessed, p.second} & {flood.assessed, flood.second}]
    return [flood, *others[:3]]


def test_the_plan_safety_audit_reads_the_plans_as_printed_with_their_records(
        town: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """`disaster audit plans` checks what the person holds: the plan record's choices, not only the
    assessment's suggestion — and a plan made with the person passes it."""
    from disaster.audit import Kind
    from disaster.plans import context as plan_context
    from disaster.usecases.audit import audit_plans

    people = _people(town, 3)
    for person in people:
        content = PlanContent(destination_code=person.second, destination_reason="家族の家に近い", transport_mode="car",
                              transport_note="家族が車で迎えに来る", carry_items=["お薬手帳"], made_with=["本人・家族"])
        saved = usecase.save_plan(town.sessions, CITY, person.resident_no, content, 0, NOW)
        usecase.issue_plan(town.sessions, CITY, person.resident_no, saved.version, NOW)
    audited: dict[str, dict[str, Any]] = {}
    build = plan_context.plan_contexts

    def spy(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        contexts = build(*args, **kwargs)
        audited.update({c["resident_no"]: c for c in contexts})
        return contexts

    monkeypatch.setattr(plan_context, "plan_contexts", spy)
    with town.sessions() as session:
        names = dict(session.execute(select(Shelter.code, Shelter.name)).all())
        districts = set(session.scalars(select(District.name).join(Resident, Resident.district_id == District.id)
                                        .where(Resident.resident_no.in_([p.resident_no for p in people]))))
    for district in districts:
        report = audit_plans(town.sessions, CITY, district, today=NOW.date())
        mine = [v for v in report.violations if v.resident_no in {p.resident_no for p in people} and v.kind is Kind.TOOLKIT]
        assert not mine, [f"{v.resident_no} {v.rule.value}: {v.message}" for v in mine]
    for person in people:
        context = audited[person.resident_no]
        assert context["record"]["version"] == 2 and context["destination"]["name"] == names[person.second]


def _far_trips(store: Store) -> list[tuple[str, int, float]]:
    """(名簿番号, id, distance m) of residents with plan consent, no record yet, planned to go by
    vehicle: those who cannot walk at all first (wheelchair, bedridden, power-dependent devices)."""
    with store.sessions() as session:
        rows = session.execute(
            select(Resident.resident_no, Resident.id, Assessment.distance_m, Resident.mobility, Resident.medical_devices)
            .join(Assessment, Assessment.resident_id == Resident.id)
            .where(Resident.consent_plan.is_(True), Assessment.decision == "leave",
                   Assessment.travel_mode.in_(["car", "welfare_transport"]), Assessment.destination_kind == "shelter",
                   Resident.id.not_in(select(PlanRecord.resident_id)))
            .order_by(Resident.resident_no)).all()
    unable = [r for r in rows if r.mobility in ("車いす", "寝たきり")]
    return [(r.resident_no, r.id, float(r.distance_m)) for r in unable + [r for r in rows if r not in unable]]


def test_walking_is_refused_to_someone_who_cannot_walk_there_and_never_printed(town: Store) -> None:
    """A leader cannot turn a wheelchair user's welfare-taxi trip into a walk, nor send anyone
    walking beyond their limit; a record saved before this rule (or whose person changed since)
    prints no walk: the way to go is marked for review instead, and the audit agrees."""
    from disaster.audit import Kind, Rule
    from disaster.usecases.audit import audit_plans

    trips = _far_trips(town)
    (no, resident_id, distance) = trips[0]
    with pytest.raises(errors.Rejected, match="移動の方法: ") as caught:
        usecase.save_plan(town.sessions, CITY, no, PlanContent(transport_mode="walk"), 0, NOW)
    assert "歩いての避難はお願いできません" in str(caught.value) or "歩ける上限" in str(caught.value)
    usecase.save_plan(town.sessions, CITY, no, PlanContent(transport_mode="welfare_transport",
                                                           transport_note="ケアマネジャーが介護タクシーを予約"), 0, NOW)
    with town.sessions() as session, session.begin():  # as a record saved before the rule was
        record = session.scalar(select(PlanRecord).where(PlanRecord.resident_id == resident_id))
        assert record is not None
        record.content = record.content | {"transport_mode": "walk"}
    text = pdf_text(plan_pdf(town.sessions, CITY, no, today=NOW.date()).pdf)
    assert "歩いて向かう" not in text and f"約{distance / 1000:.1f}km・歩いて" not in text
    assert "移動の方法を見直してください" in text
    with town.sessions() as session:
        district = session.scalar(select(District.name).join(Resident, Resident.district_id == District.id)
                                  .where(Resident.id == resident_id))
    report = audit_plans(town.sessions, CITY, district, today=NOW.date())
    assert not [v for v in report.violations if v.resident_no == no and v.kind is Kind.TOOLKIT
                and v.rule is Rule.WALK_TOO_FAR]


# --- the recorded destination's travel time and route, and who made the plan ---

SVG = "{http://www.w3.org/2000/svg}"


def _walker(store: Store) -> tuple[str, Verdict]:
    """(名簿番号, a place other than the assessed ones within the walking limit) of a resident with
    plan consent, no care level and no walking aid: someone who walks at the profile's able pace."""
    with store.sessions() as session:
        numbers = list(session.scalars(
            select(Resident.resident_no).join(Assessment, Assessment.resident_id == Resident.id)
            .where(Resident.consent_plan.is_(True), Resident.care_level.is_(None),
                   or_(Resident.mobility.is_(None), Resident.mobility == "自立"), Assessment.destination_kind == "shelter",
                   Resident.id.not_in(select(PlanRecord.resident_id)))
            .order_by(Resident.resident_no)))
    for no in numbers:
        nearby = [d for d in usecase.get_plan(store.sessions, CITY, no).destinations if d.role == NEARBY and d.distance_m]
        if nearby:
            return no, nearby[0]
    raise AssertionError("the demo city has nobody with a place nearby to walk to")


def _plan_and_map(store: Store, resident_no: str) -> tuple[dict[str, Any], ET.Element]:
    """The plan context as the PDF prints it (records applied) and its map."""
    with store.sessions() as session:
        resident_id = session.scalar(select(Resident.id).where(Resident.resident_no == resident_no))
        assert resident_id is not None
        residents = load_residents(session, [resident_id])
        (plan,) = plan_contexts(session, residents, NOW.date(), usecase.printed_records(session, CITY, residents))
        home = residents[0]
        data = map_data(session, KURUME, (home.lon - 0.02, home.lat - 0.02, home.lon + 0.02, home.lat + 0.02))
    svg = PlanRenderer(data).map_svg(plan)
    assert svg is not None
    return plan, ET.fromstring(svg)


def _route_end_and_destination(root: ET.Element) -> tuple[tuple[float, float], tuple[float, float], str]:
    """(last point of the map's route line, centre of the destination mark, the line's class)."""
    (line,) = [p for p in root.iter(f"{SVG}path") if "route" in (p.get("class") or "")]
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", line.get("d") or "")]
    (mark,) = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "marker-destination"]
    centre = (float(mark.get("x") or 0) + float(mark.get("width") or 0) / 2,
              float(mark.get("y") or 0) + float(mark.get("height") or 0) / 2)
    return (numbers[-2], numbers[-1]), centre, line.get("class") or ""


def test_a_recorded_destination_prints_its_own_travel_time_and_route(town: Store) -> None:
    """Another safe place than the assessed one prints how long the trip takes by the chosen way
    (the distance by the profile's car speed in rain, or the person's walking pace) and the way
    there: a straight line on the map, said to be one, from home to that place."""
    evacuation = load_profile(KURUME).evacuation
    (person,) = _people(town, 1)
    second = next(d for d in usecase.get_plan(town.sessions, CITY, person.resident_no).destinations
                  if d.code == person.second)
    assert second.distance_m
    usecase.save_plan(town.sessions, CITY, person.resident_no,
                      PlanContent(destination_code=person.second, destination_reason="長女の家に近い", transport_mode="car"),
                      0, NOW)
    drive = round(second.distance_m / (evacuation.car_speed_kmh * 1000 / 60))
    text = pdf_text(plan_pdf(town.sessions, CITY, person.resident_no, today=NOW.date()).pdf)
    assert f"避難先{second.name}" in text and f"約{second.distance_m / 1000:.1f}km・車で約{drive}分" in text
    assert "地図の破線は直線です。実際の道を書き入れてください。" in text

    plan, root = _plan_and_map(town, person.resident_no)
    with town.sessions() as session:
        place = session.scalar(select(Shelter).where(Shelter.code == person.second))
        home = session.scalar(select(Resident).where(Resident.resident_no == person.resident_no))
        assert place is not None and home is not None
        home_xy, place_xy = (home.lon, home.lat), (place.lon, place.lat)
    assert plan["destination"]["minutes"] == drive
    assert plan["route"] == {"coords": [home_xy, place_xy], "is_road": False}
    end, mark, kind = _route_end_and_destination(root)
    assert kind == "route route-straight" and abs(end[0] - mark[0]) <= 2 and abs(end[1] - mark[1]) <= 2

    no, nearby = _walker(town)
    assert nearby.distance_m
    usecase.save_plan(town.sessions, CITY, no, PlanContent(destination_code=nearby.code, destination_reason="通い慣れた道",
                                                           transport_mode="walk"), 0, NOW)
    walk = round(nearby.distance_m / evacuation.walk_speeds.able_mps / 60)
    text = pdf_text(plan_pdf(town.sessions, CITY, no, today=NOW.date()).pdf)
    assert f"避難先{nearby.name}" in text and f"約{nearby.distance_m / 1000:.1f}km・歩いて約{walk}分" in text


def test_the_assessed_destination_keeps_the_assessed_time_and_route(town: Store) -> None:
    """Confirming the assessed place and way prints the assessment's own time and route; another
    way to the same place prints that way's time."""
    evacuation = load_profile(KURUME).evacuation
    with town.sessions() as session:
        no, assessment = session.execute(
            select(Resident.resident_no, Assessment).join(Assessment, Assessment.resident_id == Resident.id)
            .where(Resident.consent_plan.is_(True), Assessment.destination_kind == "shelter",
                   Assessment.travel_mode == "walk", Assessment.route.is_not(None),
                   Resident.id.not_in(select(PlanRecord.resident_id)))
            .order_by(Resident.resident_no).limit(1)).one()
        code = session.scalar(select(Shelter.code).where(Shelter.id == assessment.destination_shelter_id))
        stored = shapely.from_wkb(assessment.route)
    distance = f"約{round(assessment.distance_m / 1000, 1)}km"
    usecase.save_plan(town.sessions, CITY, no, PlanContent(destination_code=code, transport_mode="walk"), 0, NOW)
    text = pdf_text(plan_pdf(town.sessions, CITY, no, today=NOW.date()).pdf)
    assert f"{distance}・歩いて約{round(assessment.travel_min)}分" in text
    plan, _ = _plan_and_map(town, no)
    assert plan["route"] == {"coords": [tuple(c) for c in stored.coords], "is_road": bool(assessment.route_is_road)}

    usecase.save_plan(town.sessions, CITY, no, PlanContent(destination_code=code, transport_mode="car",
                                                           transport_note="長男が車で迎えに来る"), 1, NOW)
    drive = round(assessment.distance_m / (evacuation.car_speed_kmh * 1000 / 60))
    text = pdf_text(plan_pdf(town.sessions, CITY, no, today=NOW.date()).pdf)
    assert f"{distance}・車で約{drive}分" in text and "歩いて約" not in text


def test_the_pdf_names_who_made_the_plan_by_role_never_by_login(town: Store) -> None:
    """Accounts have no display name: the plan says 校区リーダー・民生委員, or 福祉専門職 with the name
    the residents' records give, never a login ID such as leader-3."""
    (person,) = _people(town, 1)
    with town.sessions() as session:
        district = session.scalar(select(District.name).join(Resident, Resident.district_id == District.id)
                                  .where(Resident.id == person.resident_id))
        professional = session.scalar(select(CareProfessional.name).where(
            CareProfessional.resident_id == person.resident_id, CareProfessional.name.is_not(None)))
    assert district is not None and professional is not None
    add_user(town.sessions, CITY, "leader-3", "leader", PASSWORD, districts=[district])
    add_user(town.sessions, CITY, "care-7", "care_professional", PASSWORD, professional_name=professional)
    leader = Principal.leader(KURUME, [district], login="leader-3")
    usecase.save_plan(town.sessions, leader, person.resident_no, PlanContent(made_with=["本人・家族"]), 0, NOW)
    text = pdf_text(plan_pdf(town.sessions, CITY, person.resident_no, today=NOW.date()).pdf)
    assert "作成者校区リーダー・民生委員（本人・家族と作成）" in text and "leader-3" not in text

    carer = Principal("care-7", Role.CARE_PROFESSIONAL, KURUME, professional_name=professional)
    usecase.save_plan(town.sessions, carer, person.resident_no, PlanContent(made_with=["福祉専門職"]), 1, NOW)
    text = pdf_text(plan_pdf(town.sessions, CITY, person.resident_no, today=NOW.date()).pdf)
    assert f"作成者福祉専門職{''.join(professional.split())}（福祉専門職と作成）" in text and "care-7" not in text
