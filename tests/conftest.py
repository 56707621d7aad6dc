"""Shared fixtures: stores on SQLite and on a real PostgreSQL server, and the shared data.

The ``store`` fixture runs each test once per backend. PostgreSQL comes from Debian's packages
(``postgresql``); the server is started here in a temporary directory. Without it the
PostgreSQL runs are skipped — unless ``DISASTER_REQUIRE_POSTGRES=1`` (set by ``./kurume test``
and CI), where a missing server is an error.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from disaster.db import make_engine, session_factory
from disaster.profile import load_profile
from disaster.settings import get_settings
from disaster.usecases.setup import init_store

# No test reaches the internet: maps draw without a tile basemap unless a test starts its own
# local tile server (tests/tile_server.py) and points a TileSource or DISASTER_TILE_URL at it.
os.environ["DISASTER_TILE_OFFLINE"] = "1"
os.environ["DISASTER_TILE_CACHE_DIR"] = tempfile.mkdtemp(prefix="disaster-test-tiles-")

KURUME = "402036"  # the demo city's 団体コード (the code no longer names any city)
KURUME_NAME = "久留米市"
ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
BUNDLE = ROOT / "data" / "demo_bundle"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings and city profiles are cached per process; a test that sets ``DISASTER_*``
    (e.g. its own profiles folder) must not see, or leave behind, another test's."""
    get_settings.cache_clear()
    load_profile.cache_clear()
    yield
    get_settings.cache_clear()
    load_profile.cache_clear()


@dataclass
class Store:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    city_code: str = KURUME


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "raw").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing: CI must have ../shared beside the clone")
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster; yield its base URL (without database name)."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        if os.environ.get("DISASTER_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (DISASTER_REQUIRE_POSTGRES=1) but not installed")
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    bindir = Path(binaries[-1]).parent
    workdir = Path(tempfile.mkdtemp(prefix="disaster-pg-"))
    datadir = workdir / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
    port = _free_port()
    subprocess.run([*as_user, bindir / "initdb", "-D", datadir, "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*as_user, bindir / "pg_ctl", "-D", datadir, "-o", options, "-l", workdir / "log", "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", datadir, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


_counter = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh database on the PostgreSQL server."""
    yield from _empty_database(request, tmp_path)


def _empty_database(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{directory / f'test{next(_counter)}.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo dataset loaded once per backend, for tests that only read it."""
    from disaster.usecases.demo import load_demo

    for url in _empty_database(request, tmp_path_factory.mktemp("demo")):
        engine = make_engine(url)
        sessions = session_factory(engine)
        load_demo(engine, sessions, BUNDLE)
        yield Store(url, engine, sessions)
        engine.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An initialised store (schema migrated, Kurume registered)."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    init_store(engine, sessions, KURUME, KURUME_NAME)
    yield Store(database_url, engine, sessions)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright; no request leaves the machine.

    Without Chromium the browser tests are skipped, unless ``DISASTER_REQUIRE_BROWSER=1``
    (set by ``./kurume test``, which installs it)."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("DISASTER_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (DISASTER_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"],
        )
        yield instance
        instance.close()
