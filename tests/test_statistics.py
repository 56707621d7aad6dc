"""PostgreSQL's planner statistics after large writes (``disaster.db.gather_statistics``): an
import or a run that adds many rows gathers them in its own transaction, so the re-assessment
and the summary that follow are planned for the real row counts (before autovacuum's, which
these tests switch off to see the store's own)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from disaster.db import gather_statistics
from disaster.models import Resident
from disaster.usecases.demo import load_demo
from tests.conftest import BUNDLE, KURUME

TABLES = ("resident", "supporter", "resident_supporter", "assessment")
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _known(connection: Connection, table: str) -> float:
    """The row count the planner knows (-1: never gathered)."""
    return float(connection.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                    {"t": table}).scalar_one())


def test_loading_a_city_gathers_the_statistics_of_the_tables_it_fills(store) -> None:
    with store.engine.begin() as connection:
        for table in TABLES:
            connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = off)"))
        assert {table: _known(connection, table) for table in TABLES} == dict.fromkeys(TABLES, -1)
    load_demo(store.engine, store.sessions, BUNDLE)
    with store.engine.connect() as connection:
        for table in TABLES:
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert rows > 1000 and _known(connection, table) == rows, table
        plan = "\n".join(connection.execute(text(
            "EXPLAIN SELECT count(*) FROM assessment JOIN resident ON resident.id = assessment.resident_id "
            "WHERE resident.city_code = :city GROUP BY resident.district_id"), {"city": KURUME}).scalars())
        assert "Nested Loop" not in plan  # (planned for 500 residents before: 46 index scans of all of them)


def test_statistics_are_gathered_again_when_the_rows_grow_past_autovacuums_threshold(store) -> None:
    """50 rows and a tenth of those known, counted in the caller's transaction (its own new rows)."""
    load_demo(store.engine, store.sessions, BUNDLE)
    columns = ", ".join(c.name for c in Resident.__table__.columns if c.name not in ("id", "resident_no"))
    with store.sessions() as session, session.begin():
        connection = session.connection()
        known = _known(connection, "resident")
        added = 0
        for prefix, count, gathered in (("T", int(known / 10) + 50, False), ("U", 2, True)):  # at the threshold, past it
            connection.execute(text(f"INSERT INTO resident (resident_no, {columns}) SELECT :prefix || id, {columns} "
                                    "FROM resident ORDER BY id LIMIT :count"), {"prefix": prefix, "count": count})
            added += count
            gather_statistics(session, ("resident",))
            assert _known(connection, "resident") == (known + added if gathered else known)
        session.rollback()
