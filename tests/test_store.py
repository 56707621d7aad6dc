"""Schema migrations and backend behaviour."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from disaster.models import Base
from disaster.usecases.setup import init_store


def test_migrations_build_exactly_the_models_schema(store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_init_is_idempotent(store) -> None:
    init_store(store.engine, store.sessions, store.city_code)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM city")).scalar() == 1


def test_sqlite_store_uses_wal_and_foreign_keys(tmp_path) -> None:
    from disaster.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_head_revision_read_from_file_names_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from disaster.db import MIGRATIONS_DIR, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_a_store_of_an_older_schema_is_refused_until_init_upgrades_it(tmp_path) -> None:
    """After the program is updated, a command on the old store says what to do (no internal
    error from a missing column); `disaster init` upgrades it and the command works."""
    from alembic import command
    from typer.testing import CliRunner

    from disaster.cli import app
    from disaster.db import alembic_config, make_engine
    from tests.conftest import KURUME

    runner = CliRunner()
    env = {"DISASTER_DB": f"sqlite:///{tmp_path / 'old.sqlite3'}", "DISASTER_CITY": KURUME}
    assert runner.invoke(app, ["init", "--city", KURUME], env=env).exit_code == 0
    engine = make_engine(env["DISASTER_DB"])
    command.downgrade(alembic_config(engine), "0013")
    engine.dispose()

    refused = runner.invoke(app, ["assess", "--json"], env=env)
    assert refused.exit_code == 1
    assert "データベースの形式（版 0013）" in refused.stderr and "disaster init" in refused.stderr
    assert "Traceback" not in refused.output + refused.stderr

    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    after = runner.invoke(app, ["assess", "--json"], env=env)
    assert "データベースの形式" not in after.stderr
