"""Several use-case steps in one database transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def one_transaction(sessions: sessionmaker[Session], commit: bool) -> Iterator[sessionmaker[Session]]:
    """Sessions that all share one database transaction, committed at the end when ``commit``
    (and nothing raised), else rolled back. The import's own ``session.begin()`` blocks join it,
    and so does a ``one_transaction`` inside another (it is the outer one that commits or not)."""
    engine = sessions.kw["bind"]
    if isinstance(engine, Connection):
        yield sessions
        return
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only")
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        if commit:
            transaction.commit()
        else:
            transaction.rollback()
