"""Incremental re-assessment: after random edits, recomputing only what changed gives the same
stored results, row for row, as recomputing everyone (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select, update

from disaster.models import AssessmentRun, Shelter
from disaster.usecases.assess import run_assessment
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
