"""Creating and migrating the store."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from disaster import repo
from disaster.codes import KURUME_CITY_CODE, KURUME_CITY_NAME
from disaster.db import migrate


def init_store(engine: Engine, sessions: sessionmaker[Session], city_code: str = KURUME_CITY_CODE,
               city_name: str = KURUME_CITY_NAME) -> None:
    """Create or upgrade the schema and register the city (idempotent)."""
    migrate(engine)
    with sessions() as session, session.begin():
        repo.ensure_city(session, city_code, city_name)
