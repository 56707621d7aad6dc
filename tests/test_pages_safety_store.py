"""安否確認 on SQLite and PostgreSQL (disaster.usecases.safety, migration 0012): reports are
appended, never changed (the database refuses it), so people reporting on the same resident at
once never lose a report and the later one is the status; a stale form learns what changed; the
lists put who needs someone first and follow the access policy (a leader: her 校区's consenting
residents, everyone there under 災害時モード); rounds (a training, a disaster of consecutive
declarations, one that ended); the exports for the 災害対策本部 open in a spreadsheet with every
formula-like text left as text.

The module's store is a private copy of the demo city (``web_store``, on both backends)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from disaster import errors
from disaster.access import Principal, Role
from disaster.models import District, Resident, SafetyCheck, Shelter, ShelterCount
from disaster.usecases import safety
from disaster.usecases import safety_export as export
from disaster.usecases.disaster_mode import NO_EMERGENCY, active, declare, end, principal_in_mode
from tests.conftest import KURUME, Store
from tests.web_fixtures import web_store  # noqa: F401  (fixture)

ADMIN = Principal("admin", Role.CITY_ADMIN, KURUME)
STAFF = Principal("staff", Role.CITY_STAFF, KURUME)
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def town(web_store: Store) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The home 校区 (the first by name) and, there, a consenting and a non-consenting resident."""
    with web_store.sessions() as session:
        home = session.scalar(select(District.name).where(District.city_code == KURUME).order_by(District.name).limit(1))
        assert home is not None
        people = session.execute(select(Resident.resident_no, Resident.consent_share).join(District)
                                 .where(District.name == home).order_by(Resident.resident_no)).all()
    yes = [no for no, consent in people if consent]
    no = [no for no, consent in people if not consent]
    assert len(yes) >= 6 and no
    yield {"home": home, "yes": yes, "no": no, "leader": Principal("leader_a", Role.LEADER, KURUME, frozenset({home})),
           "leader2": Principal("leader_b", Role.LEADER, KURUME, frozenset({home}))}


def training(store: Store) -> safety.Round:
    return safety.round_now(store.sessions, KURUME, NO_EMERGENCY, T0, demo=True)


def report(store: Store, principal: Principal, rnd: safety.Round, resident_no: str, status: str, *, at: dt.datetime = T0,
           based_on: int | None = None, **fields: Any) -> safety.Recorded:
    return safety.record_check(store.sessions, principal, rnd, resident_no, status=status, based_on=based_on, at=at,
                               **fields)


def test_two_reports_from_the_same_form_both_stay_and_the_later_is_the_status(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = training(web_store)
    person = town["yes"][0]
    seen = safety.resident_safety(web_store.sessions, town["leader"], rnd, person).seen
    first = report(web_store, town["leader"], rnd, person, "要救助", based_on=seen, note="2階に取り残されている")
    second = report(web_store, town["leader2"], rnd, person, "無事・在宅", based_on=seen, at=T0 + MINUTE)
    found = safety.resident_safety(web_store.sessions, town["leader"], rnd, person)
    assert [r.id for r in found.history][:2] == [second.id, first.id]
    assert found.status == "無事・在宅" and found.current is not None and found.current.recorded_by == "leader_b"
    listed = {i["resident_no"]: i for i in safety.list_status(web_store.sessions, town["leader"], rnd, per_page=500).items}
    assert (listed[person]["status"], listed[person]["recorded_by"], listed[person]["check_id"]) == ("無事・在宅", "leader_b", second.id)
    # each reporter is told what the other did after the form both opened
    told_second = safety.changes_since(web_store.sessions, town["leader2"], rnd, person, seen, second.id)
    told_first = safety.changes_since(web_store.sessions, town["leader"], rnd, person, seen, first.id)
    assert [(r.id, r.status, r.note) for r in told_second] == [(first.id, "要救助", "2階に取り残されている")]
    assert [(r.id, r.recorded_by) for r in told_first] == [(second.id, "leader_b")]
    # a form opened after both reports has nothing to be told
    assert safety.changes_since(web_store.sessions, town["leader"], rnd, person, found.seen) == []


def test_reports_made_at_the_same_moment_are_all_kept(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = training(web_store)
    person = town["yes"][1]
    before = len(safety.resident_safety(web_store.sessions, STAFF, rnd, person).history)
    statuses = ["要救助", "無事・在宅", "避難済", "連絡不通", "不在", "要救助", "無事・在宅", "連絡不通"]
    start = threading.Barrier(len(statuses))
    made: list[int] = []
    failures: list[BaseException] = []

    def one(index: int, status: str) -> None:
        who = Principal(f"leader_{index}", Role.LEADER, KURUME, frozenset({town["home"]}))
        start.wait()
        try:
            made.append(report(web_store, who, rnd, person, status, place="親戚の家" if status == "避難済" else None).id)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(statuses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    history = safety.resident_safety(web_store.sessions, STAFF, rnd, person).history
    assert len(history) == before + len(statuses)
    assert sorted(made) == sorted(r.id for r in history[: len(statuses)])
    assert history[0].id == max(made)  # the last one saved is the status, in the lists too
    listed = {i["resident_no"]: i for i in safety.list_status(web_store.sessions, STAFF, rnd, district=town["home"], per_page=500).items}
    assert (listed[person]["check_id"], listed[person]["status"]) == (history[0].id, history[0].status)
    assert sorted(r.recorded_by for r in history[: len(statuses)]) == sorted(f"leader_{i}" for i in range(len(statuses)))


def test_the_database_refuses_to_change_a_report(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = training(web_store)
    with web_store.sessions() as session:
        shelter_id, code = session.execute(select(Shelter.id, Shelter.code).order_by(Shelter.id).limit(1)).one()
    made = report(web_store, STAFF, rnd, town["yes"][2], "避難済", shelter_code=code)
    safety.report_count(web_store.sessions, STAFF, rnd, code, 40, T0)
    for statement in (update(SafetyCheck).where(SafetyCheck.id == made.id).values(status="無事・在宅"),
                      update(SafetyCheck).where(SafetyCheck.id == made.id).values(recorded_by="someone else"),
                      update(ShelterCount).where(ShelterCount.shelter_id == shelter_id).values(people=0)):
        with pytest.raises(DBAPIError, match="追記のみ"), web_store.sessions() as session, session.begin():
            session.execute(statement)
    # the one change the schema allows: a removed shelter's link becomes NULL (its name stays in place)
    with web_store.sessions() as session, session.begin():
        session.execute(update(SafetyCheck).where(SafetyCheck.id == made.id).values(shelter_id=None))
    with web_store.sessions() as session:
        kept = session.get(SafetyCheck, made.id)
        assert kept is not None and kept.status == "避難済" and kept.place and kept.shelter_id is None


def test_a_report_with_problems_names_each_field_and_writes_nothing(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = training(web_store)
    person = town["yes"][3]
    count = len(safety.resident_safety(web_store.sessions, STAFF, rnd, person).history)
    cases = [({"status": "避難済"}, {"place"}), ({"status": "避難済", "shelter_code": "ない避難所"}, {"shelter"}),
             ({"status": "元気"}, {"status"}), ({"status": "要救助", "note": "あ" * (safety.MAX_NOTE + 1)}, {"note"})]
    for fields, wrong in cases:
        with pytest.raises(safety.Invalid) as problem:
            safety.record_check(web_store.sessions, STAFF, rnd, person, at=T0, **fields)
        assert set(problem.value.problems) == wrong and all(problem.value.problems.values())
    assert len(safety.resident_safety(web_store.sessions, STAFF, rnd, person).history) == count


def _rank(status: str) -> int:
    return [s.value for s in safety.PRIORITY].index(status)


def test_the_list_puts_those_who_need_someone_first(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = training(web_store)
    chosen = town["yes"][:6]
    for person, status in zip(chosen, ["無事・在宅", "避難済", "不在", "連絡不通", "要救助", "無事・在宅"], strict=True):
        report(web_store, STAFF, rnd, person, status, place="自宅の2階" if status == "避難済" else None)
    listing = safety.list_status(web_store.sessions, STAFF, rnd, district=town["home"], per_page=500)
    keys = [(_rank(i["status"]), -(i["priority_score"] if i["priority_score"] is not None else -1), i["resident_no"])
            for i in listing.items]
    assert keys == sorted(keys) and len(keys) == listing.total
    assert listing.items[0]["status"] == "要救助"
    assert sum(listing.counts.values()) == listing.total
    statuses = {i["resident_no"]: i["status"] for i in listing.items}
    assert statuses[chosen[4]] == "要救助" and statuses[chosen[0]] == "無事・在宅"
    needing = safety.list_status(web_store.sessions, STAFF, rnd, district=town["home"], status=safety.OPEN_FILTER,
                                 per_page=500)
    assert {i["status"] for i in needing.items} <= {s.value for s in safety.OPEN}
    assert needing.total == listing.open


def test_a_leader_reports_on_non_consenting_residents_only_under_disaster_mode(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    leader = town["leader"]
    rnd = training(web_store)
    listed = {i["resident_no"] for i in safety.list_status(web_store.sessions, leader, rnd, per_page=500).items}
    assert listed == set(town["yes"])
    with pytest.raises(errors.Forbidden):
        report(web_store, leader, rnd, town["no"][0], "無事・在宅")
    now = dt.datetime.now(dt.UTC)
    mode = declare(web_store.sessions, ADMIN, "筑後川の氾濫のおそれ", [town["home"]], now + dt.timedelta(hours=3), now)
    try:
        with web_store.sessions() as session:
            emergency = active(session, KURUME, now + MINUTE)
        in_mode = principal_in_mode(leader, emergency)
        disaster = safety.round_now(web_store.sessions, KURUME, emergency, now + MINUTE, demo=True)
        assert disaster.kind == "disaster" and disaster.modes == (mode.id,) and disaster.since == mode.starts_at
        listing = safety.list_status(web_store.sessions, in_mode, disaster, per_page=500)
        assert {i["resident_no"] for i in listing.items} == set(town["yes"]) | set(town["no"])
        assert listing.counts["未確認"] == listing.total  # the training's reports do not count in the disaster
        made = report(web_store, in_mode, disaster, town["no"][0], "要救助", at=now + MINUTE)
        with web_store.sessions() as session:
            stored = session.get(SafetyCheck, made.id)
            assert stored is not None and stored.training is False and stored.disaster_modes == [mode.id]
    finally:
        end(web_store.sessions, ADMIN, mode.id, now + 2 * MINUTE)
    later = now + 3 * MINUTE
    assert safety.round_now(web_store.sessions, KURUME, NO_EMERGENCY, later, demo=True).kind == "training"
    ended = safety.round_now(web_store.sessions, KURUME, NO_EMERGENCY, later, demo=False)
    assert ended.kind == "ended" and mode.id in ended.modes and not ended.on
    assert safety.resident_safety(web_store.sessions, STAFF, ended, town["no"][0]).status == "要救助"  # still readable
    with pytest.raises(errors.NotReady):
        report(web_store, STAFF, ended, town["no"][0], "無事・在宅", at=later)
    with pytest.raises(errors.Forbidden):  # the mode is over: out of her view again
        safety.resident_safety(web_store.sessions, leader, ended, town["no"][0])


def test_consecutive_declarations_are_one_disaster_and_a_training_starts_afresh(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=9)
    first = declare(web_store.sessions, ADMIN, "続く大雨（1回目）", [], start + dt.timedelta(days=7), start)
    again = start + dt.timedelta(days=7, hours=2)  # declared again two hours after the first one ran out
    second = declare(web_store.sessions, ADMIN, "続く大雨（2回目）", [], again + dt.timedelta(days=3), again)
    try:
        now = again + dt.timedelta(days=1)
        with web_store.sessions() as session:
            emergency = active(session, KURUME, now)
        rnd = safety.round_now(web_store.sessions, KURUME, emergency, now, demo=True)
        assert rnd.since == first.starts_at and rnd.districts == frozenset() and rnd.modes == (second.id,)
    finally:
        end(web_store.sessions, ADMIN, second.id, again + dt.timedelta(days=1, hours=1))
    rnd = training(web_store)
    person = town["yes"][5]
    report(web_store, STAFF, rnd, person, "要救助")
    assert safety.resident_safety(web_store.sessions, STAFF, rnd, person).status == "要救助"
    safety.start_training(web_store.sessions, STAFF, NO_EMERGENCY, True, T0 + MINUTE)
    fresh = safety.round_now(web_store.sessions, KURUME, NO_EMERGENCY, T0 + 2 * MINUTE, demo=True)
    assert fresh.since == T0 + MINUTE
    assert safety.resident_safety(web_store.sessions, STAFF, fresh, person).status == "未確認"
    assert safety.list_status(web_store.sessions, STAFF, fresh, district=town["home"]).counts["未確認"] > 0
    with pytest.raises(errors.NotReady):
        safety.start_training(web_store.sessions, STAFF, NO_EMERGENCY, False, T0)  # real data: no training
    with pytest.raises(errors.Forbidden):
        safety.start_training(web_store.sessions, town["leader"], NO_EMERGENCY, True, T0)


FORMULAS = ['=HYPERLINK("https://example.com/","開く")', "+1+1", "-2+3", "@SUM(A1)"]


def test_exports_keep_formula_like_text_as_text(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    from openpyxl import load_workbook

    rnd = safety.round_now(web_store.sessions, KURUME, NO_EMERGENCY, T0 + 3 * MINUTE, demo=True)
    people = town["yes"][:len(FORMULAS)]
    with web_store.sessions() as session, session.begin():
        original = dict(session.execute(select(Resident.resident_no, Resident.name).where(Resident.resident_no.in_(people))).all())
        for person, name in zip(people, FORMULAS, strict=True):
            session.execute(update(Resident).where(Resident.resident_no == person).values(name=name))
    try:
        report(web_store, STAFF, rnd, people[0], "要救助", note="=1+2", at=T0 + 3 * MINUTE)
        listing = safety.list_status(web_store.sessions, STAFF, rnd, district=town["home"], per_page=500)
        rows = list(csv.reader(io.StringIO(export.to_csv(listing).decode("utf-8-sig"))))
        assert rows[0] == list(export.COLUMNS) and len(rows) == listing.total + 1
        names = {row[2]: row[3] for row in rows[1:]}
        for person, name in zip(people, FORMULAS, strict=True):
            assert names[person] == "'" + name
        assert next(row for row in rows if row[2] == people[0])[8] == "'=1+2"
        summaries = safety.district_summaries(web_store.sessions, STAFF, rnd)
        states = safety.shelter_states(web_store.sessions, STAFF, rnd, town["home"])
        book = load_workbook(io.BytesIO(export.to_xlsx(listing, summaries, states, "staff", T0)))
        assert book.sheetnames == ["集計", "安否確認", "避難所"]
        sheet = book["安否確認"]
        header = [c.value for c in sheet[1]]
        assert header == list(export.COLUMNS)
        cells = {row[2].value: row for row in sheet.iter_rows(min_row=2)}
        assert len(cells) == listing.total
        for person, name in zip(people, FORMULAS, strict=True):
            cell = cells[person][3]
            assert cell.value == name and cell.data_type == "s"  # shown as written, never run
        assert cells[people[0]][0].value == "要救助" and cells[people[0]][8].data_type == "s"
        totals = {row[0].value: row[-1].value for row in book["集計"].iter_rows(min_row=5)}
        assert totals[town["home"]] == sum(s.total for s in summaries if s.district == town["home"])
    finally:
        with web_store.sessions() as session, session.begin():
            for person, name in original.items():
                session.execute(update(Resident).where(Resident.resident_no == person).values(name=name))


def test_shelters_count_reports_and_check_ins_against_capacity(web_store: Store, town: dict[str, Any]) -> None:  # noqa: F811
    rnd = safety.round_now(web_store.sessions, KURUME, NO_EMERGENCY, T0 + 4 * MINUTE, demo=True)
    with web_store.sessions() as session:
        welfare = session.execute(select(Shelter.code, Shelter.capacity).where(Shelter.is_welfare_shelter.is_(True))
                                  .order_by(Shelter.code).limit(1)).one()
    before = {s.code: s for s in safety.shelter_states(web_store.sessions, STAFF, rnd, everything=True)}
    report(web_store, STAFF, rnd, town["yes"][0], "避難済", shelter_code=welfare.code, at=T0 + 4 * MINUTE)
    safety.report_count(web_store.sessions, STAFF, rnd, welfare.code, 3, T0 + 4 * MINUTE)
    safety.report_count(web_store.sessions, STAFF, rnd, welfare.code, welfare.capacity or 10, T0 + 5 * MINUTE)
    after = {s.code: s for s in safety.shelter_states(web_store.sessions, STAFF, rnd, everything=True)}
    state = after[welfare.code]
    assert state.welfare and state.people == (welfare.capacity or 10) and state.reported_by == "staff"
    assert state.checked_in == before[welfare.code].checked_in + 1
    if welfare.capacity:
        assert state.load == 100 and state.level == "full"
    with pytest.raises(safety.Invalid):
        safety.report_count(web_store.sessions, STAFF, rnd, welfare.code, -1, T0)
    with pytest.raises(errors.Forbidden):
        safety.report_count(web_store.sessions, town["leader"], rnd, welfare.code, 5, T0)
