"""Engine and session creation, and schema migration (Alembic).

The data layer never commits: a use-case opens ``with session.begin():`` and owns the
transaction, so an import either lands whole or not at all.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_WAIT_SECONDS = 60


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL journaling and enforced foreign keys."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    sqlite = url.startswith("sqlite")
    # SQLite has one writer: another waits for it (an import's commit re-assesses the whole city)
    engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT_SECONDS} if sqlite else {})
    if sqlite:
        database = sqlite_file(engine)
        if database is not None:  # on the first connection, so a refused command leaves no file behind
            event.listen(engine, "do_connect", functools.partial(_create_private, database))
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, database))
        if database is not None:
            event.listen(engine, "checkin", functools.partial(_restore_and_checkpoint, database))
    return engine


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite store (None: in memory)."""
    name = engine.url.database
    return Path(name) if name and name != ":memory:" and not name.startswith("file:") else None


def _create_private(database: Path, *_connect_arguments: object) -> None:
    """A new store file is created readable by its owner only (0600) before SQLite opens it; an
    existing one keeps the mode its owner gave it."""
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except FileNotFoundError:
        return  # no such folder: SQLite says so when it connects
    os.chmod(database, 0o600)


def _sqlite_pragmas(database: Path | None, dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    if database is not None:  # SQLite gives the WAL and SHM files the store's mode; made sure here
        mode = stat.S_IMODE(os.stat(database).st_mode)
        for suffix in ("-wal", "-shm"):
            companion = database.with_name(database.name + suffix)
            if companion.exists() and not companion.is_symlink() and companion.stat().st_uid == os.getuid():
                os.chmod(companion, mode & 0o666)


def large_write(session: Session) -> None:
    """SQLite: ``session``'s transaction writes much (a whole city's results):

    - its connection's page cache holds what it writes (``LARGE_WRITE_CACHE_KIB`` instead of
      SQLite's 2 MiB, which spills pages to the write-ahead log while the rows are written):
      upserting 100,000 results took 0.67–0.73 s instead of 0.85–0.89 s and the commit 0.20–0.22 s
      instead of 0.16–0.18 s (3 each, in turns);
    - the commit leaves the checkpoint of the write-ahead log (copying its pages into the
      database file, ~0.2 s after 100,000 results) to a thread of its own, started when the
      connection goes back to the pool: what the caller does next runs meanwhile (the command
      line's summary). ``wait_for_checkpoints`` waits for the thread.

    Both go back to what they were when the connection goes back to the pool (the cache gives
    its memory back). Elsewhere (PostgreSQL, a store in memory) nothing changes."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or sqlite_file(connection.engine) is None:
        return
    info = connection.connection.info
    if _RESTORE not in info:  # (a second large write of the transaction keeps the first's)
        info[_RESTORE] = {pragma: connection.exec_driver_sql(f"PRAGMA {pragma}").scalar_one()
                          for pragma in ("wal_autocheckpoint", "cache_size")}
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.exec_driver_sql(f"PRAGMA cache_size=-{LARGE_WRITE_CACHE_KIB}")


LARGE_WRITE_CACHE_KIB = 65_536  # at most; SQLite takes the memory as pages are read or written
_RESTORE = "disaster.large_write"  # a pooled connection's pragmas to restore
_checkpoints: set[threading.Thread] = set()


def _restore_and_checkpoint(database: Path, dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    pragmas = record.info.pop(_RESTORE, None)
    if pragmas is None:
        return
    for pragma, value in pragmas.items():
        dbapi_connection.execute(f"PRAGMA {pragma}={int(value)}")
    thread = threading.Thread(target=_checkpoint, args=(database,), name="sqlite-checkpoint")
    _checkpoints.add(thread)
    thread.start()


def _checkpoint(database: Path) -> None:
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, timeout=SQLITE_WAIT_SECONDS)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
    finally:
        _checkpoints.discard(threading.current_thread())


def wait_for_checkpoints() -> None:
    """Wait until the checkpoints started by ``large_write`` are done."""
    for thread in list(_checkpoints):
        thread.join()


def gather_statistics(session: Session, tables: Sequence[str]) -> None:
    """PostgreSQL: gather the query planner's statistics of those of ``tables`` whose row count
    moved by more than autovacuum's threshold (50 rows and a tenth) from the count the planner
    knows, or that have none yet, now, in the caller's transaction (it samples its own new rows;
    another transaction's ANALYZE of the same table is not waited for). Autovacuum would gather
    them within a minute of the commit; until then, after 100,000 residents were imported, the
    planner counted on 500 and chose nested loops: the re-assessment that follows an import read
    its inputs 0.2 s slower and the summary took 0.65 s instead of 0.3 s."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        known = connection.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = %(t)s::regclass",
                                           {"t": table}).scalar_one()
        rows = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
        if known < 0 or abs(rows - known) > 50 + known / 10:
            connection.exec_driver_sql(f"ANALYZE (SKIP_LOCKED) {table}")


@contextmanager
def meanwhile(session: Session, read: Callable[[Session | Connection], T]) -> Iterator[Callable[[], T]]:
    """``read`` of the database as ``session``'s transaction reads it now, made while the caller
    goes on reading on the session; the callable given waits for its result.

    On PostgreSQL, when the session owns its transaction, ``read`` runs at once in a worker
    thread, on a second connection in a read-only transaction with the session's snapshot
    (exported): the server works on both reads at once (a whole-city run's inputs came 0.3 s
    sooner at 100,000 residents). That connection does not see what the session's transaction
    wrote and did not commit: ``read`` only what it has not written.
    Otherwise ``read`` runs on the session when its result is asked for: in a transaction the
    session joined (``usecases.transactions.one_transaction``: e.g. an import and the run that
    follows it), which may hold writes of the caller's; and on SQLite, whose reads run in this
    process and hold the interpreter (a thread gained nothing) and whose connections must not
    cross a fork."""
    connection = session.connection()
    if connection.dialect.name != "postgresql" or isinstance(session.bind, Connection):
        yield lambda: read(session)
        return
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    with connection.engine.connect() as other, ThreadPoolExecutor(max_workers=1) as pool:
        other.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        yield pool.submit(read, other).result


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # alembic only when the schema is checked or migrated (start-up time)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The latest schema revision this code knows (revision ids are the migration files' number
    prefixes; read from the file names: Alembic's own loader takes half a second)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def require_current_schema(engine: Engine) -> None:
    """NotReady when the store's schema is not the one this code writes (an upgrade of the
    program needs `disaster init` once); a store with no schema yet passes (``init`` creates it)."""
    from sqlalchemy import inspect, text

    from disaster import errors

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = head_revision()
    if revision != head:
        raise errors.NotReady(f"データベースの形式（版 {revision}）がこのプログラムの形式（版 {head}）と合いません。"
                              "プログラムを更新した後なら `disaster init` でデータベースを更新してから、もう一度実行してください。")


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (creates it on an empty database)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
