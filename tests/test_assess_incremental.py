"""Incremental re-assessment: after random edits, recomputing only what changed gives the same
stored results, row for row, as recomputing everyone (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import delete, select, update

from disaster.models import Assessment, AssessmentRun, Resident, Shelter
from disaster.usecases import imports
from disaster.usecases.assess import input_digests, load_inputs, run_assessment
from disaster.usecases.dashboard import _assessment_state
from disaster.usecases.demo import load_demo
from tests.assess_fixtures import random_edits, result_rows
from tests.conftest import BUNDLE, KURUME


def _latest(sessions) -> AssessmentRun:
    with sessions() as session:
        return session.scalars(select(AssessmentRun).order_by(AssessmentRun.id.desc())).first()


def test_incremental_equals_full_after_random_edits(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    rng = np.random.default_rng(2026)
    for _ in range(3):
        random_edits(store.sessions, KURUME, rng)
        run_assessment(store.sessions, KURUME)
        incremental, run = result_rows(store.engine, KURUME), _latest(store.sessions)
        assert 10 <= run.parameters["reassessed"] < run.resident_count  # only what changed (+ the 福祉避難所 pool)
        run_assessment(store.sessions, KURUME, full=True)
        assert _latest(store.sessions).parameters["reassessed"] == run.resident_count
        assert result_rows(store.engine, KURUME) == incremental


def test_nothing_changed_means_nothing_recomputed_and_a_shelter_change_recomputes_everyone(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    first = _latest(store.sessions)
    assert run_assessment(store.sessions, KURUME) == first.id
    with store.sessions() as session, session.begin():
        session.execute(update(Shelter).where(Shelter.id == session.scalar(select(Shelter.id).limit(1)))
                        .values(capacity=Shelter.capacity + 1))
    run_assessment(store.sessions, KURUME)
    run = _latest(store.sessions)
    assert run.id > first.id and run.parameters["reassessed"] == run.resident_count
    assert run.data_versions["inputs:shared"] != first.data_versions["inputs:shared"]


def test_a_reimport_without_a_change_for_the_assessment_is_recorded_and_nothing_is_stale(store, tmp_path) -> None:
    """A supporters file with only a phone number changed: a new run records its version (the
    dashboard does not call the results stale), and nobody is recomputed."""
    load_demo(store.engine, store.sessions, BUNDLE)
    first = _latest(store.sessions)
    changed = tmp_path / "supporters.csv"
    text = (BUNDLE / "supporters.csv").read_text(encoding="utf-8-sig")
    changed.write_text(text.replace("090-0000-4790", "090-0000-4791", 1), encoding="utf-8")
    imports.import_supporters(store.sessions, changed, KURUME)
    run = _latest(store.sessions)
    assert run.id > first.id and run.parameters["reassessed"] == 0
    assert run.data_versions["supporters:supporters.csv"] != first.data_versions["supporters:supporters.csv"]
    with store.sessions() as session:
        stale, _ = _assessment_state(session, KURUME)
    assert not stale


def test_a_freed_place_goes_to_the_next_person_as_in_a_full_run(store) -> None:
    """A placed person leaves the 名簿: their 福祉避難所 place goes to the next person in line,
    whose own inputs did not change — the re-planning moves them, and nobody else is recomputed."""
    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session:
        placed = session.execute(select(Assessment.resident_id, Assessment.welfare_shelter_id)
                                 .where(Assessment.welfare_candidates.is_not(None),
                                        Assessment.welfare_shelter_id.is_not(None))
                                 .order_by(Assessment.resident_id)).first()
        assert placed is not None, "the demo data has a placed 福祉避難所 seeker"
        waiting = set(session.scalars(select(Assessment.resident_id).where(Assessment.welfare_unplaced.is_(True),
                                                                             Assessment.welfare_candidates.contains(
                                                                                 f"[{placed.welfare_shelter_id},"))))
        assert waiting, "someone else wanted that place"
    with store.sessions() as session, session.begin():
        session.execute(delete(Resident).where(Resident.id == placed.resident_id))
    run_assessment(store.sessions, KURUME)
    incremental, run = result_rows(store.engine, KURUME), _latest(store.sessions)
    with store.sessions() as session:
        now_placed = set(session.scalars(select(Assessment.resident_id).where(
            Assessment.welfare_shelter_id == placed.welfare_shelter_id)))
    assert now_placed & waiting, "the freed place went to someone who was waiting"
    assert run.parameters["reassessed"] < run.resident_count / 10
    run_assessment(store.sessions, KURUME, full=True)
    assert result_rows(store.engine, KURUME) == incremental


def _outside_the_pool(session, limit: int) -> list[int]:
    """Residents who leave home but neither seek nor take a 福祉避難所 place (no welfare need, no agreement)."""
    from disaster.models import WelfareAgreement

    return list(session.scalars(
        select(Assessment.resident_id).where(Assessment.decision == "leave", Assessment.welfare_needed.is_(False),
                                             Assessment.welfare_candidates.is_(None),
                                             Assessment.claimed_shelter_id.is_(None),
                                             Assessment.resident_id.not_in(select(WelfareAgreement.resident_id)))
        .order_by(Assessment.resident_id).limit(limit)))


def test_an_edit_outside_the_welfare_pool_recomputes_only_the_edited(store, monkeypatch) -> None:
    """Residents who neither seek nor take a 福祉避難所 place, before or after their edit: the city's
    places are not planned again (its requests are not even read), only they are recomputed,
    and the results equal a full run."""
    import disaster.usecases.assess as assess_module

    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session, session.begin():
        edited = _outside_the_pool(session, 5)
        assert len(edited) == 5
        for rid in edited:
            resident = session.get(Resident, rid)
            resident.lives_alone = not resident.lives_alone
            resident.building_floors, resident.can_use_stairs = 1, False
    whole_pool_reads = []
    requests = assess_module._requests
    monkeypatch.setattr(assess_module, "_requests", lambda session, city, only=None: (
        whole_pool_reads.append(city) if only is None else None) or requests(session, city, only))
    run_assessment(store.sessions, KURUME)
    assert whole_pool_reads == []
    assert _latest(store.sessions).parameters["reassessed"] == 5
    incremental = result_rows(store.engine, KURUME)
    run_assessment(store.sessions, KURUME, full=True)
    assert result_rows(store.engine, KURUME) == incremental


def test_someone_entering_the_welfare_pool_is_planned_with_everyone(store) -> None:
    """Residents who now need care and oxygen, bedridden and alone (要介護5, 在宅酸素, 寝たきり, 独居):
    they join the 福祉避難所 planning, which is done again for the whole city, exactly as a full
    run does it (some of them take places from others: a result computed without the planning
    would leave them without one)."""
    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session, session.begin():
        edited = _outside_the_pool(session, 300)
        for rid in edited:
            resident = session.get(Resident, rid)
            resident.care_level, resident.medical_devices, resident.mobility = "要介護5", "在宅酸素", "寝たきり"
            resident.lives_alone = True
    run_assessment(store.sessions, KURUME)
    incremental = result_rows(store.engine, KURUME)
    with store.sessions() as session:
        placed = session.scalars(select(Assessment.resident_id).where(Assessment.resident_id.in_(edited),
                                                                      Assessment.welfare_shelter_id.is_not(None))).all()
    assert placed, "some of them have a 福祉避難所 place now"
    run_assessment(store.sessions, KURUME, full=True)
    assert result_rows(store.engine, KURUME) == incremental


def test_a_supporter_added_on_the_plan_page_counts_in_the_stored_result_at_once(store) -> None:
    """The leader registers a supporter in the resident's living room: the resident's stored
    result (the plan's 支援者 section, the priority list) counts them without waiting for an
    import, and equals what a full run gives."""
    import datetime as dt

    from disaster.access import Principal
    from disaster.usecases.residents import NewSupporter, add_supporter

    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session:
        resident_id, number = session.execute(
            select(Resident.id, Resident.resident_no).join(Assessment, Assessment.resident_id == Resident.id)
            .where(Assessment.supporter_count == 0).order_by(Resident.id)).first()
        before = session.get(Assessment, resident_id)
        assert before is not None and "NO_SUPPORTER" in {i["code"] for i in before.supporter_issues}
    add_supporter(store.sessions, Principal.cli(KURUME), number,
                  NewSupporter("避難 太郎", "近隣住民", "090-0000-0000", None, True, dt.date(2026, 11, 26)),
                  dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    with store.sessions() as session:
        after = session.get(Assessment, resident_id)
        assert after is not None and after.supporter_count == 1
        assert "NO_SUPPORTER" not in {i["code"] for i in after.supporter_issues}
    run = _latest(store.sessions)
    assert 1 <= run.parameters["reassessed"] < run.resident_count / 10
    incremental = result_rows(store.engine, KURUME)
    run_assessment(store.sessions, KURUME, full=True)
    assert result_rows(store.engine, KURUME) == incremental


def test_a_residents_digest_does_not_depend_on_who_else_is_read(store) -> None:
    """An edit reads only the listed residents: their digests must equal those of a whole-city
    read (an integer column without a missing value among a few rows, or a column that is empty
    for them, must not change how values hash)."""
    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session:
        everyone = load_inputs(session, KURUME)
        whole = dict(zip(everyone.residents["id"].tolist(), input_digests(everyone), strict=True))
        rng = np.random.default_rng(7)
        for size in (1, 3, 40):
            some = sorted(rng.choice(everyone.residents["id"].to_numpy(), size=size, replace=False).tolist())
            few = load_inputs(session, KURUME, only=some)
            assert few.residents["id"].tolist() == some
            assert dict(zip(some, input_digests(few), strict=True)) == {rid: whole[rid] for rid in some}
