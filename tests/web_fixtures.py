"""Shared pieces of the web service tests: a private copy of the demo store per test module (the
tests add accounts, sessions and audit entries), accounts of every role, the service on that copy,
logged-in clients, and the newest audit entries.

The fixtures but ``admin`` are module-scoped like ``web_store``: each test module gets its own
store, accounts, app and clients. Pytest finds a fixture only where the test module imports it, so
a module imports the fixtures it uses and those they stand on: ``clients`` and ``admin`` need
``app``, which needs ``chosen``, which needs ``web_store``."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from disaster.access import Principal
from disaster.db import make_engine, session_factory
from disaster.models import AuditEntry, CareProfessional, District, Resident
from disaster.settings import Settings
from disaster.usecases.users import add_user
from disaster.web import create_app
from disaster.web.deps import CSRF_HEADER
from tests.conftest import KURUME, Store

PASSWORD = "correct horse battery staple"
SECRET = "a test secret that is not the default"
_copies = iter(range(1_000_000))


def copy_store(demo: Store, directory: Path) -> Iterator[Store]:
    """A copy of the (session-wide, read-only) demo store that a test module may change."""
    demo.engine.dispose()
    if demo.engine.dialect.name == "sqlite":
        target = directory / f"web{next(_copies)}.sqlite3"
        with sqlite3.connect(str(demo.engine.url.database)) as source, sqlite3.connect(str(target)) as copy:
            source.backup(copy)
        url = f"sqlite:///{target}"
    else:
        base, name = demo.url.rsplit("/", 1)
        copy_name = f"{name}_web{next(_copies)}"
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"'))
        url = f"{base}/{copy_name}"
    engine = make_engine(url)
    try:
        yield Store(url, engine, session_factory(engine))
    finally:
        engine.dispose()
        if demo.engine.dialect.name != "sqlite":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{copy_name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="module")
def web_store(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from copy_store(demo_store, tmp_path_factory.mktemp("web"))


def settings_for(store: Store, **changes: object) -> Settings:
    return Settings(db=store.url, allowed_hosts=["testserver"], secret_key=SECRET, **changes)  # type: ignore[arg-type]


def client(app: FastAPI, address: str = "testclient") -> TestClient:
    return TestClient(app, client=(address, 50000))


def login(test_client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in; returns the CSRF token."""
    response = test_client.post("/api/v1/auth/login", json={"login": name, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def signed_in(app: FastAPI, name: str, password: str = PASSWORD) -> TestClient:
    """A new client logged in as ``name`` that sends the session's CSRF token with every request."""
    test_client = client(app)
    test_client.headers[CSRF_HEADER] = login(test_client, name, password)
    return test_client


@dataclass(frozen=True)
class Person:
    """A demo resident as the tests see it, read straight from the tables (not through disaster.access)."""

    resident_no: str
    name: str
    phone: str
    address: str
    district: str
    consent_share: bool
    consent_plan: bool
    professionals: frozenset[str] = field(default_factory=frozenset)


def people(store: Store) -> list[Person]:
    with store.sessions() as session:
        rows = session.execute(select(Resident.id, Resident.resident_no, Resident.name, Resident.phone, Resident.address,
                                      District.name, Resident.consent_share, Resident.consent_plan)
                               .join(District, Resident.district_id == District.id).order_by(Resident.resident_no)).all()
        professionals: dict[int, set[str]] = {}
        for resident_id, name in session.execute(select(CareProfessional.resident_id, CareProfessional.name)):
            if name:
                professionals.setdefault(resident_id, set()).add(name)
    return [Person(r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7], frozenset(professionals.get(r[0], ())))
            for r in rows]


@dataclass(frozen=True)
class Cast:
    """The accounts of every role and the four residents of the authorisation matrix: inside and
    outside the leader's 校区, with and without consent (sharing and plan-making alike)."""

    home: str  # the leader's 校区
    away: str
    professional: str  # the 福祉専門職's name: assigned to ``inside_yes`` only among the four
    inside_yes: Person
    inside_no: Person
    outside_yes: Person
    outside_no: Person
    everyone: list[Person]

    @property
    def four(self) -> list[Person]:
        return [self.inside_yes, self.inside_no, self.outside_yes, self.outside_no]


ROLES = ("city_admin", "city_staff", "leader", "trainer", "care_professional")


def cast(store: Store) -> Cast:
    everyone = people(store)
    by_district: dict[str, list[Person]] = {}
    for person in everyone:
        by_district.setdefault(person.district, []).append(person)

    names = Counter(p.name for p in everyone)

    def unique(p: Person) -> bool:
        return names[p.name] == 1 and bool(p.phone)

    def pick(district: str, consent: bool, avoid: frozenset[str] = frozenset()) -> Person:
        return next(p for p in by_district[district] if p.consent_share == p.consent_plan == consent
                    and not (p.professionals & avoid) and unique(p))

    home, away = sorted(by_district)[:2]
    inside_yes = next(p for p in by_district[home] if p.consent_share and p.consent_plan and p.professionals and unique(p))
    professional = sorted(inside_yes.professionals)[0]
    mine = frozenset({professional})
    chosen = Cast(home, away, professional, inside_yes, pick(home, False, mine), pick(away, True, mine),
                  pick(away, False, mine), everyone)
    return chosen


def add_accounts(store: Store, chosen: Cast) -> None:
    actor = Principal.cli(KURUME)
    for role in ROLES:
        add_user(store.sessions, actor, role, role, PASSWORD,
                 districts=[chosen.home] if role == "leader" else [],
                 professional_name=chosen.professional if role == "care_professional" else None)


@pytest.fixture(scope="module")
def chosen(web_store: Store) -> Cast:
    """The module's cast, with an account of every role (``add_accounts``)."""
    picked = cast(web_store)
    add_accounts(web_store, picked)
    return picked


@pytest.fixture(scope="module")
def app(web_store: Store, chosen: Cast) -> FastAPI:
    """The service on the module's store, the accounts of every role in it."""
    return create_app(settings_for(web_store))


@pytest.fixture(scope="module")
def clients(app: FastAPI) -> dict[str, TestClient]:
    """A client per role, each logged in with its CSRF token set (``signed_in``)."""
    return {role: signed_in(app, role) for role in ROLES}


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    """A fresh login of the city administrator."""
    return signed_in(app, "city_admin")


def audit_tail(store: Store, count: int) -> list[AuditEntry]:
    """The newest ``count`` audit entries, oldest first."""
    with store.sessions() as session:
        return list(reversed(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count)).all()))


def last_audit(store: Store) -> AuditEntry:
    """The newest audit entry (there must be one)."""
    (entry,) = audit_tail(store, 1)
    return entry


def last_audit_id(store: Store) -> int:
    """The newest audit entry's id (0 for none): the ``after`` of ``audit_after``."""
    with store.sessions() as session:
        return session.scalar(select(func.max(AuditEntry.id))) or 0


def audit_after(store: Store, after: int) -> list[AuditEntry]:
    """The audit entries after id ``after``, oldest first."""
    with store.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)))
