"""Files at rest (issue 14, class 4): the store and every output with personal data are created
readable by their owner only (0600 files, 0700 folders), whatever the umask; public outputs may be
world-readable. Documents with personal data say 取扱注意 on their first page; a closed exercise's
materials do too, and its maps never say 公開用."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from disaster.access import Principal
from disaster.db import make_engine, session_factory
from disaster.exercises.scenario import ExerciseHazard
from disaster.usecases.exercises import export_report, new_pack, report
from disaster.usecases.imports import import_residents
from disaster.usecases.maps import district_file, write_all_maps, write_district_map
from disaster.usecases.plans import write_district_plans, write_plan
from disaster.usecases.setup import init_store
from tests.conftest import KURUME, KURUME_NAME
from tests.helpers import write_csv
from tests.security import outputs_town as town
from tests.test_import_roster import HEADER, _row

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # file modes of files on this disk
MARK = "取扱注意"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask (as on many desktops): the modes must not depend on it."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _pdf_text(path: Path, *pages: str) -> str:
    found = subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, check=True).stdout.decode()
    return "".join(found.split())


def _first_page(path: Path) -> str:
    return _pdf_text(path, "-f", "1", "-l", "1")


def _private(folder: Path) -> list[str]:
    """What under ``folder`` (itself included) others may read."""
    return [f"{p} {_mode(p):o}" for p in [folder, *folder.rglob("*")] if "assets" not in p.parts
            and _mode(p) & 0o077]


@SQLITE
def test_a_new_store_and_its_wal_and_shm_are_owner_only(database_url: str, open_umask: None) -> None:
    engine = make_engine(database_url)
    init_store(engine, session_factory(engine), KURUME, KURUME_NAME)
    with engine.connect() as conn:  # the WAL and SHM exist while a connection is open
        conn.execute(text("SELECT 1"))
        database = Path(engine.url.database or "")
        files = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
        assert all(p.exists() for p in files)
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    engine.dispose()


@SQLITE
def test_outputs_with_personal_data_are_owner_only_and_say_so(store, tmp_path: Path, open_umask: None) -> None:
    town.build(store.sessions, tmp_path / "abs")
    city = Principal.cli(KURUME)
    plans = tmp_path / "plans"
    write_district_plans(store.sessions, city, town.HOSTILE_DISTRICT, plans, archive=True, workers=1)
    single = tmp_path / "single" / "plan.pdf"
    write_plan(store.sessions, city, town.PLAIN_NUMBER, single)
    leader = tmp_path / "leader"
    write_district_map(store.sessions, Principal.leader(KURUME, [town.HOSTILE_DISTRICT]), town.HOSTILE_DISTRICT,
                       leader / "map.html")
    city_maps = tmp_path / "city_maps"
    write_all_maps(store.sessions, city, city_maps)
    rejects = tmp_path / "rejects" / "rejects.csv"
    bad = tmp_path / "meibo.csv"
    write_csv(bad, HEADER, [_row("R1", birth="R5.2.30", district=town.PLAIN_DISTRICT)])
    assert import_residents(store.sessions, bad, KURUME, skip_bad_rows=True, rejects=rejects).rejects_file == rejects
    exports = tmp_path / "report"
    export_report(report(store.sessions, KURUME, 2026), exports)
    for folder in (plans, single.parent, leader, city_maps, rejects.parent, exports):
        assert not _private(folder), folder
    assert _mode(plans) == 0o700 and _mode(single) == 0o600
    # 取扱注意 on the first page of a plan and in the maps that show residents
    assert MARK in _first_page(single)
    assert MARK in (leader / "map.html").read_text(encoding="utf-8")
    assert MARK in (city_maps / district_file(town.HOSTILE_DISTRICT)).read_text(encoding="utf-8")
    assert MARK in (city_maps / "index.html").read_text(encoding="utf-8")
    # public maps may be shared: readable by all, and never marked
    public = tmp_path / "public"
    write_all_maps(store.sessions, Principal.public(KURUME), public)
    assert _mode(public / "index.html") == 0o644 and _mode(public) == 0o755
    assert MARK not in (public / district_file(town.HOSTILE_DISTRICT)).read_text(encoding="utf-8")


@SQLITE
def test_a_closed_exercise_pack_is_owner_only_marked_and_never_public(store, tmp_path: Path, open_umask: None) -> None:
    town.build(store.sessions, tmp_path / "abs")
    out = tmp_path / "closed"
    pack = new_pack(store.sessions, Principal.cli(KURUME), town.HOSTILE_DISTRICT, ExerciseHazard.FLOOD, out,
                    dt.datetime(2026, 7, 8, 18, 0), closed_session=True)
    assert not _private(out)
    assert all(p.is_relative_to(out) for p in pack.files)
    for path in pack.files:
        content = _pdf_text(path) if path.suffix == ".pdf" else path.read_text(encoding="utf-8-sig")
        assert "公開用" not in content, path.name
        if path.suffix in (".pdf", ".html"):
            assert MARK in (_first_page(path) if path.suffix == ".pdf" else content), path.name
