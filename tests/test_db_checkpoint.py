"""SQLite's large writes (``disaster.db.large_write``): the transaction's page cache is large
enough to hold them, and the checkpoint after them is made apart: the commit leaves the pages
in the write-ahead log; a thread started when the connection goes back to the pool copies them
into the database file; the connection has SQLite's page cache and checkpoints at its commits
again afterwards. Without it, the commit of a large write checkpoints itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from disaster.db import LARGE_WRITE_CACHE_KIB, large_write, sqlite_file, wait_for_checkpoints

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ROWS = 20_000  # 400 bytes each: 8 MB, past the 1,000 pages (4 MB) at which a commit checkpoints


def _fill(session: Session, first: int) -> None:
    session.execute(text("WITH RECURSIVE n(k) AS (SELECT :first UNION ALL SELECT k + 1 FROM n WHERE k < :last) "
                         "INSERT INTO scratch SELECT k, hex(randomblob(200)) FROM n"),
                    {"first": first, "last": first + ROWS - 1})


def test_a_large_write_reaches_the_database_file_once_its_connection_is_back_in_the_pool(store) -> None:
    database = sqlite_file(store.engine)
    assert database is not None
    log = database.with_name(database.name + "-wal")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (k INTEGER PRIMARY KEY, t TEXT)")
    size = database.stat().st_size
    with store.sessions() as session:
        with session.begin():
            large_write(session)
            _fill(session, 1)
            large_write(session)  # (a second large write in the transaction)
            used = session.connection().connection.driver_connection
            assert used.execute("PRAGMA cache_size").fetchone()[0] == -LARGE_WRITE_CACHE_KIB
        assert database.stat().st_size == size and log.stat().st_size > 8_000_000  # committed to the log only
    wait_for_checkpoints()
    assert database.stat().st_size > size + 8_000_000
    assert used.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's defaults again
    assert used.execute("PRAGMA cache_size").fetchone()[0] == -2000
    # the same write without it: the commit copies the pages itself
    size = database.stat().st_size
    with store.sessions() as session:
        with session.begin():
            _fill(session, 1 + ROWS)
        assert database.stat().st_size > size + 8_000_000
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM scratch").scalar_one() == 2 * ROWS
