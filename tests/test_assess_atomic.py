"""An import and the re-assessment it triggers commit together or not at all; one city's
assessment never touches another city's results, also when two cities are assessed at the same
time on PostgreSQL (SQLite and PostgreSQL unless said)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from disaster.models import AssessmentRun
from disaster.profile import ProfileError, load_profile
from disaster.settings import get_settings
from disaster.usecases import assess as assess_usecase
from disaster.usecases import imports
from disaster.usecases.assess import run_assessment
from disaster.usecases.demo import load_demo
from tests.assess_fixtures import copy_city, random_edits, result_rows, second_profile, stored_as_the_engine_computes
from tests.conftest import BUNDLE, KURUME, ROOT
from tests.helpers import snapshot

OTHER = "402125"  # a second city in the same store (a copy of the demo city's inputs)


def _use_profiles(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(folder))
    get_settings.cache_clear()
    load_profile.cache_clear()


def _edited_roster(folder: Path) -> Path:
    """The demo roster with every one-storey home given a second storey."""
    frame = pd.read_csv(BUNDLE / "residents.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame["建物階数"] = frame["建物階数"].where(frame["建物階数"] != "1", "2")
    path = folder / "residents.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_a_failing_reassessment_leaves_the_import_unwritten(store, tmp_path, monkeypatch) -> None:
    """The roster is valid, but the city's settings file is broken, so the re-assessment the
    import triggers fails after the import's writes: nothing of the import stays."""
    load_demo(store.engine, store.sessions, BUNDLE)
    roster = _edited_roster(tmp_path)
    before = snapshot(store)
    profiles = tmp_path / "cities"
    profiles.mkdir()
    (profiles / f"{KURUME}.toml").write_text("[evacuation\nlead_time_min = ", encoding="utf-8")
    _use_profiles(monkeypatch, profiles)
    with pytest.raises(ProfileError):
        imports.import_residents(store.sessions, roster, KURUME)
    assert snapshot(store) == before


SLOW_ASSESSMENT = """
import sys, time
from pathlib import Path
import disaster.usecases.assess as assess
from disaster.db import make_engine, session_factory
from disaster.usecases import imports

engine = assess.assess

def stalled(*args, **kwargs):  # the import's writes are done: say so, then wait to be killed
    Path(sys.argv[3]).write_text("assessing")
    time.sleep(120)
    return engine(*args, **kwargs)

assess.assess = stalled
store = make_engine(sys.argv[1])
imports.import_residents(session_factory(store), Path(sys.argv[2]), "402036")
"""


def test_kill_9_during_the_reassessment_leaves_the_store_unchanged(store, tmp_path) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    roster = _edited_roster(tmp_path)
    before = snapshot(store)
    marker = tmp_path / "assessing"
    child = subprocess.Popen([sys.executable, "-c", SLOW_ASSESSMENT, store.url, str(roster), str(marker)],
                             cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the import ended before its re-assessment"
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert snapshot(store) == before
    # the same import, not killed, writes the roster and its assessment
    report = imports.import_residents(store.sessions, roster, KURUME)
    assert report.assessment_run is not None and snapshot(store) != before


@pytest.fixture
def two_cities(store, tmp_path, monkeypatch):
    """The demo city and a copy of it under another code, both assessed."""
    load_demo(store.engine, store.sessions, BUNDLE)
    profiles = tmp_path / "cities"
    profiles.mkdir()
    second_profile(profiles, KURUME, OTHER)
    _use_profiles(monkeypatch, profiles)
    copy_city(store.engine, KURUME, OTHER, "複製市")
    run_assessment(store.sessions, OTHER)
    return store


def test_a_city_run_never_touches_another_citys_results(two_cities) -> None:
    store = two_cities
    other = result_rows(store.engine, OTHER)
    assert len(other) == 3000
    with store.sessions() as session:
        other_runs = session.scalars(select(AssessmentRun.id).where(AssessmentRun.city_code == OTHER)).all()
    run_assessment(store.sessions, KURUME, full=True)
    random_edits(store.sessions, KURUME, np.random.default_rng(3))
    run_assessment(store.sessions, KURUME)  # incremental
    assert result_rows(store.engine, OTHER) == other
    with store.sessions() as session:
        stored_runs = {r.city_code: r.id for r in session.scalars(select(AssessmentRun))}
        assert session.scalars(select(AssessmentRun.id).where(AssessmentRun.city_code == OTHER)).all() == other_runs
    assert set(stored_runs) == {KURUME, OTHER}


def test_two_cities_assessed_at_the_same_time_on_postgresql(two_cities, database_url) -> None:
    """Two processes (``disaster assess``) assess the two cities concurrently: both succeed and
    each city's results are those of assessing it alone."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL")
    store = two_cities
    alone = {city: result_rows(store.engine, city) for city in (KURUME, OTHER)}
    with store.sessions() as session:
        last = session.scalar(select(AssessmentRun.id).order_by(AssessmentRun.id.desc()).limit(1))
    env = os.environ | {"PYTHONPATH": str(ROOT), "DISASTER_DB": store.url}
    command = str(Path(sys.executable).parent / "disaster")
    children = [subprocess.Popen([command, "--city", city, "assess", "--json"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for city in (KURUME, OTHER)]
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    with store.sessions() as session:
        runs = session.execute(select(AssessmentRun.city_code, AssessmentRun.parameters)
                               .where(AssessmentRun.id > last)).all()
    assert sorted((city, p["reassessed"]) for city, p in runs) == [(KURUME, 3000), (OTHER, 3000)]
    for city in (KURUME, OTHER):
        assert result_rows(store.engine, city) == alone[city]


def test_a_run_waits_for_a_run_of_its_city_in_progress(store, monkeypatch) -> None:
    """Two runs of one city at once: the one by night is held after writing, before its commit;
    the one by day, started then, waits for it (it would compare its results with stored rows
    the other is changing) and stores the day's results, those of the run that ended last
    (PostgreSQL: the city's row lock; SQLite: its one writer at a time)."""
    load_demo(store.engine, store.sessions, BUNDLE)
    written, release, failures = threading.Event(), threading.Event(), []
    write = assess_usecase._write

    def held(session, batches, apart: bool) -> int:  # type: ignore[no-untyped-def]
        count = write(session, batches, apart)
        if threading.current_thread().name == "night":
            written.set()
            release.wait(120)
        return count

    def run(night: bool = False) -> None:
        try:
            run_assessment(store.sessions, KURUME, full=True, night=night)
        except BaseException as error:  # reaches the test's thread
            failures.append(error)

    monkeypatch.setattr(assess_usecase, "_write", held)
    night = threading.Thread(target=run, kwargs={"night": True}, name="night")
    night.start()
    assert written.wait(120)
    day = threading.Thread(target=run, name="day")
    day.start()
    day.join(3)
    waited = day.is_alive()
    release.set()
    night.join(120)
    day.join(120)
    assert not failures and waited
    stored_as_the_engine_computes(store.sessions)  # by day, column by column
