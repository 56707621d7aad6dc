"""The per-district summary is computed by the database (GROUP BY) and equals a count over every
stored row, on random results, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select, update

from disaster.analysis.decision import Decision
from disaster.models import Assessment, District, Resident, resident_supporter
from disaster.usecases.assess import _empty, summary
from disaster.usecases.demo import load_demo
from tests.conftest import BUNDLE, KURUME


def _count(d: dict[str, Any], a: Assessment) -> None:
    """The count over one loaded row, as the summary was computed before it moved into SQL."""
    d["residents"] += 1
    d["by_decision"][a.decision] += 1
    hazard = d["by_hazard"]
    hazard["flood"] += bool(a.flood_l2_rank or a.flood_l1_rank)
    hazard["flood_deep"] += bool((a.flood_l2_rank or 0) >= 2)
    hazard["collapse"] += bool(a.collapse_flow or a.collapse_erosion)
    hazard["inland"] += bool(a.inland_rank)
    hazard["landslide"] += bool(a.landslide_class)
    hazard["landslide_red"] += a.landslide_class in (2, 4)
    d["welfare_needed"] += a.welfare_needed
    d["welfare_placed"] += a.welfare_shelter_id is not None
    d["welfare_direct"] += bool(a.welfare_direct)
    if a.travel_mode in d["by_travel_mode"]:
        d["by_travel_mode"][a.travel_mode] += 1
    if a.start_trigger in d["by_start_trigger"]:
        d["by_start_trigger"][a.start_trigger] += 1
    d["welfare_unplaced"] += a.welfare_unplaced
    d["without_destination"] += a.destination_shelter_id is None and a.destination_kind != "own_choice"
    d["crosses_deep_water"] += a.crosses_deep_water
    d["unsupported"] += a.supporter_count == 0


def _by_rows(sessions, district: str | None = None) -> list[dict[str, Any]]:
    with sessions() as session:
        query = (select(District.name, District.area, Assessment).join(Resident, Assessment.resident_id == Resident.id)
                 .join(District, Resident.district_id == District.id).where(Resident.city_code == KURUME))
        links = (select(District.name, resident_supporter.c.supporter_id)
                 .join(Resident, resident_supporter.c.resident_id == Resident.id)
                 .join(District, Resident.district_id == District.id).where(Resident.city_code == KURUME))
        if district is not None:
            query, links = query.where(District.name == district), links.where(District.name == district)
        rows = session.execute(query).all()
        helpers: dict[str, set[int]] = {}
        for name, supporter_id in session.execute(links):
            helpers.setdefault(name, set()).add(supporter_id)
    districts: dict[str, dict[str, Any]] = {}
    for name, area, a in rows:
        _count(districts.setdefault(name, _empty(name, area)), a)
    for name, d in districts.items():  # everyone who helps someone of the district
        d["supporters"] = len(helpers.get(name, ()))
        d["supporter_ratio"] = round(d["supporters"] / d["residents"], 3)
    return [districts[k] for k in sorted(districts)]


def _randomise(sessions, rng: np.random.Generator) -> None:
    """Random values in every column the summary reads, NULLs included."""
    with sessions() as session, session.begin():
        ids = session.scalars(select(Assessment.resident_id)).all()
        shelter = session.scalar(select(Assessment.destination_shelter_id).where(
            Assessment.destination_shelter_id.is_not(None)).limit(1))
        for rid in ids:
            def maybe(values: list[Any]) -> Any:
                return values[int(rng.integers(len(values)))]
            session.execute(update(Assessment).where(Assessment.resident_id == rid).values(
                decision=maybe([d.value for d in Decision]),
                flood_l1_rank=maybe([None, 1, 2, 3]), flood_l2_rank=maybe([None, 1, 2, 5]),
                inland_rank=maybe([None, 1, 2]), landslide_class=maybe([None, 1, 2, 3, 4]),
                collapse_flow=maybe([True, False]), collapse_erosion=maybe([True, False]),
                welfare_needed=maybe([True, False]), welfare_unplaced=maybe([True, False]),
                welfare_direct=maybe([True, False]), welfare_shelter_id=maybe([None, shelter]),
                destination_shelter_id=maybe([None, shelter]), destination_kind=maybe([None, "shelter", "own_choice"]),
                travel_mode=maybe([None, "walk", "car", "welfare_transport"]),
                start_trigger=maybe([None, "level3", "early", "previous_day", "not_workable"]),
                crosses_deep_water=maybe([True, False]), supporter_count=maybe([0, 1, 2])))


def test_the_summary_in_sql_equals_a_count_over_every_row(store) -> None:
    load_demo(store.engine, store.sessions, BUNDLE)
    _randomise(store.sessions, np.random.default_rng(15))
    got = summary(store.sessions, KURUME)
    expected = _by_rows(store.sessions)
    assert got["districts"] == expected
    assert got["totals"]["residents"] == 3000 == sum(d["residents"] for d in expected)
    assert got["totals"]["supporters"] == sum(d["supporters"] for d in expected) > 0
    one = got["districts"][0]["name"]
    assert summary(store.sessions, KURUME, one)["districts"] == _by_rows(store.sessions, one)
