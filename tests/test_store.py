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
