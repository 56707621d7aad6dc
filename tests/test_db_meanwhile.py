"""Reads made meanwhile (``disaster.db.meanwhile``): on PostgreSQL on a second connection, at
once, with the session's snapshot (not what is committed after it), read-only; in a transaction
the session joined (which may hold the caller's writes) and on SQLite on the session itself when
the result is asked for. A failure of the read reaches the caller."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from disaster.db import meanwhile
from disaster.models import City
from disaster.usecases.transactions import one_transaction

COUNT = select(func.count()).select_from(City)


def _add_city(connection: Connection | Session, code: str) -> None:
    connection.execute(insert(City).values(code=code, name=f"市{code}"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_read_runs_alongside_with_the_sessions_snapshot(store) -> None:
    go = threading.Event()

    def read(connection: Session | Connection) -> tuple[int, int]:
        assert go.wait(30)
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return connection.execute(COUNT).scalar_one(), pid

    with store.sessions() as session, session.begin():
        before = session.execute(COUNT).scalar_one()
        with meanwhile(session, read) as counted:
            _add_city(session, "999991")  # the session's own write, not committed: not seen alongside
            with store.engine.begin() as other:  # committed after the snapshot was taken: not seen either
                _add_city(other, "999992")
            go.set()
            seen, pid = counted()
        assert seen == before
        assert pid != session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert session.execute(COUNT).scalar_one() == before + 2  # (the session itself reads committed rows)
        session.rollback()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_read_alongside_cannot_write_and_its_failure_reaches_the_caller(store) -> None:
    with store.sessions() as session, session.begin():
        session.execute(COUNT)
        with pytest.raises(DBAPIError, match="read-only transaction"), \
                meanwhile(session, lambda connection: _add_city(connection, "999993")) as added:
            added()
        session.rollback()
    with store.engine.connect() as connection:
        assert connection.execute(select(City.code).where(City.code == "999993")).first() is None


def test_in_a_joined_transaction_and_on_sqlite_the_read_is_made_on_the_session_when_asked_for(store) -> None:
    calls: list[object] = []

    def read(connection: Session | Connection) -> int:
        calls.append(connection)
        return int(connection.execute(COUNT).scalar_one())

    with one_transaction(store.sessions, commit=False) as joined:  # e.g. an import and its run
        with joined() as writer, writer.begin():
            before = writer.execute(COUNT).scalar_one()
            _add_city(writer, "999995")  # the caller's write, not committed
        with joined() as session, session.begin(), meanwhile(session, read) as counted:
            assert counted() == before + 1
            assert calls == [session]
    if store.url.startswith("sqlite"):  # (a session of its own: read on it, later)
        calls.clear()
        with store.sessions() as session, session.begin():
            with meanwhile(session, read) as counted:
                assert calls == []
                _add_city(session, "999994")
                assert counted() == before + 1  # the session's own write
            assert calls == [session]
            session.rollback()
    with pytest.raises(ZeroDivisionError), store.sessions() as session, meanwhile(session, lambda _: 1 // 0) as fails:
        fails()
