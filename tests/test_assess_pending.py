"""The residents whose assessment inputs changed are listed by the database itself (triggers of
migration 0014), whatever code writes: every kind of write lists exactly the residents whose
result it can change, with their city (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, select, update

from disaster.models import Resident, Shelter, Supporter, WelfareAgreement, assessment_pending, resident_supporter
from disaster.usecases.demo import load_demo
from tests.conftest import BUNDLE, KURUME


def _listed(store) -> set[tuple[int, str]]:
    with store.sessions() as session:
        return set(session.execute(select(assessment_pending.c.resident_id, assessment_pending.c.city_code)).all())


@pytest.fixture
def demo(store):
    """The demo city, assessed (so nothing is listed), with a supporter who helps two people."""
    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session:
        assert not _listed(store), "a run takes what it recomputed"
        shared = session.execute(select(resident_supporter.c.supporter_id)
                                 .group_by(resident_supporter.c.supporter_id)
                                 .having(select(Supporter.id).where(Supporter.id == resident_supporter.c.supporter_id)
                                         .exists())
                                 .order_by(resident_supporter.c.supporter_id)).scalars().all()
        helper = next(s for s in shared if len(_residents_of(session, s)) >= 2)
    return store, helper


def _residents_of(session, supporter_id: int) -> set[int]:
    return set(session.scalars(select(resident_supporter.c.resident_id).where(resident_supporter.c.supporter_id == supporter_id)))


def _write(store, *statements) -> None:
    with store.sessions() as session, session.begin():
        for statement in statements:
            session.execute(statement)


def test_a_residents_own_row_lists_them(demo) -> None:
    store, _ = demo
    with store.sessions() as session:
        first, second = session.scalars(select(Resident.id).where(Resident.city_code == KURUME).order_by(Resident.id)
                                        .limit(2)).all()
    _write(store, update(Resident).where(Resident.id == first).values(mobility="車いす"))
    assert _listed(store) == {(first, KURUME)}
    with store.sessions() as session:
        helpers = session.scalars(select(resident_supporter.c.supporter_id)
                                  .where(resident_supporter.c.resident_id == second)).all()
        assert helpers, "the demo's second resident has a supporter"
        others = set().union(*(_residents_of(session, h) for h in helpers)) - {second}
    _write(store, delete(Resident).where(Resident.id == second))
    # a deleted resident (their city re-plans the places) and everyone their supporters help (one less)
    assert _listed(store) == {(first, KURUME), (second, KURUME), *((r, KURUME) for r in others)}


def test_a_supporter_lists_everyone_they_help(demo) -> None:
    store, helper = demo
    with store.sessions() as session:
        helped = _residents_of(session, helper)
    _write(store, update(Supporter).where(Supporter.id == helper).values(consent=False))
    assert _listed(store) == {(r, KURUME) for r in helped}


def test_a_link_lists_the_resident_and_everyone_of_that_supporter(demo) -> None:
    """How many people a supporter helps is part of each of their results (too many: a warning)."""
    store, helper = demo
    with store.sessions() as session:
        helped = _residents_of(session, helper)
        newcomer = session.scalar(select(Resident.id).where(Resident.city_code == KURUME, Resident.id.not_in(helped))
                                  .order_by(Resident.id))
    _write(store, insert(resident_supporter).values(resident_id=newcomer, supporter_id=helper))
    assert _listed(store) == {(r, KURUME) for r in helped | {newcomer}}
    _write(store, delete(assessment_pending))
    gone = min(helped)
    _write(store, delete(resident_supporter).where(resident_supporter.c.resident_id == gone,
                                                   resident_supporter.c.supporter_id == helper))
    assert _listed(store) == {(r, KURUME) for r in helped | {newcomer}}
    _write(store, delete(assessment_pending), delete(Supporter).where(Supporter.id == helper))  # links go with them
    assert _listed(store) == {(r, KURUME) for r in (helped - {gone}) | {newcomer}}


def test_a_welfare_agreement_lists_its_resident(demo) -> None:
    store, _ = demo
    with store.sessions() as session:
        resident = session.scalar(select(Resident.id).where(Resident.city_code == KURUME).order_by(Resident.id.desc()))
        welfare = session.scalars(select(Shelter.id).where(Shelter.city_code == KURUME, Shelter.is_welfare_shelter)
                                  .order_by(Shelter.id)).all()
    _write(store, insert(WelfareAgreement).values(resident_id=resident, shelter_id=welfare[0], agreed_on=dt.date(2026, 4, 1)))
    assert _listed(store) == {(resident, KURUME)}
    _write(store, delete(assessment_pending),
           update(WelfareAgreement).where(WelfareAgreement.resident_id == resident).values(shelter_id=welfare[1]))
    assert _listed(store) == {(resident, KURUME)}
    _write(store, delete(assessment_pending), delete(WelfareAgreement).where(WelfareAgreement.resident_id == resident))
    assert _listed(store) == {(resident, KURUME)}
