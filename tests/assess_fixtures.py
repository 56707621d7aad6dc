"""Helpers for the assessment tests: stored results as comparable rows, random edits of a
city's inputs, and a second city copied from the demo city in the same store."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, Text, cast, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from disaster.analysis.engine import AssessmentParameters
from disaster.models import (
    Assessment,
    Base,
    City,
    Resident,
    Shelter,
    Supporter,
    WelfareAgreement,
    resident_supporter,
)
from disaster.profile import load_profile
from disaster.usecases.assess import (
    DIGESTED,
    REASON_COLUMNS,
    _assessed,
    _values,
    load_inputs,
    result_digests,
    stored_form,
)
from tests.conftest import KURUME, ROOT

GOLDEN = ROOT / "tests" / "data" / "demo_reason_texts.json.gz"
REASON_FIELDS = ("decision_reasons", "destination_reasons", "priority_reasons", "supporter_issues")


def golden_texts() -> dict[str, dict[str, list[list[str]]]]:
    """名簿番号 -> field -> [[code, text], ...] as the code before reasons were stored as keys
    stored them for the demo data (``tests/data/demo_reason_texts.json.gz``)."""
    return json.loads(gzip.decompress(GOLDEN.read_bytes()))


def stored_texts(sessions: sessionmaker[Session], city_code: str) -> dict[str, dict[str, list[list[str]]]]:
    """The same shape, from the store (the texts as plans and pages get them)."""
    out = {}
    with sessions() as session:
        for no, a in session.execute(select(Resident.resident_no, Assessment)
                                     .join(Assessment, Assessment.resident_id == Resident.id)
                                     .where(Resident.city_code == city_code)):
            out[no] = {f: [[r["code"], r["text"]] for r in getattr(a, f)] for f in REASON_FIELDS}
    return out


def result_rows(engine: Engine, city_code: str) -> list[tuple[Any, ...]]:
    """Every stored result of the city, by resident, every column but which run wrote it (the
    reasons as the text they read as)."""
    table = Assessment.__table__
    columns = [c for c in table.columns if c.name != "run_id"]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(*columns).join(Resident.__table__, table.c.resident_id == Resident.__table__.c.id)
            .where(Resident.__table__.c.city_code == city_code).order_by(table.c.resident_id))]


def random_edits(sessions: sessionmaker[Session], city_code: str, rng: np.random.Generator, people: int = 10) -> None:
    """Edits as imports and pages make them: residents' homes, needs, buildings and chosen
    shelters; supporters' consent and links; a resident removed; a 福祉避難所 agreement."""
    with sessions() as session, session.begin():
        ids = session.scalars(select(Resident.id).where(Resident.city_code == city_code).order_by(Resident.id)).all()
        shelters = session.execute(select(Shelter.id, Shelter.code, Shelter.is_welfare_shelter)
                                   .where(Shelter.city_code == city_code)).all()
        helpers = session.scalars(select(Supporter.id).where(Supporter.city_code == city_code)).all()
        for rid in rng.choice(ids, size=people, replace=False).tolist():
            resident = session.get(Resident, rid)
            assert resident is not None
            change = int(rng.integers(6))
            if change == 0:
                resident.lon, resident.lat = resident.lon + rng.normal(0, 0.004), resident.lat + rng.normal(0, 0.004)
            elif change == 1:
                resident.mobility = str(rng.choice(["自立", "杖・歩行器", "車いす", "寝たきり"]))
            elif change == 2:
                resident.care_level = str(rng.choice(["要介護5", "要介護1", "要支援2"])) if rng.random() < 0.8 else None
            elif change == 3:
                resident.building_floors, resident.can_use_stairs = int(rng.integers(1, 4)), bool(rng.random() < 0.5)
            elif change == 4:
                resident.preferred_shelter_code = str(shelters[int(rng.integers(len(shelters)))].code)
            else:
                resident.medical_devices = "在宅酸素" if not resident.medical_devices else None
        helper = int(rng.choice(helpers))
        session.execute(update(Supporter).where(Supporter.id == helper).values(consent=~Supporter.consent))
        link = session.execute(select(resident_supporter).limit(1).offset(int(rng.integers(50)))).first()
        if link is not None:
            session.execute(delete(resident_supporter).where(resident_supporter.c.resident_id == link.resident_id,
                                                             resident_supporter.c.supporter_id == link.supporter_id))
        unlinked = int(rng.choice(ids))
        if not session.execute(select(resident_supporter).where(resident_supporter.c.resident_id == unlinked,
                                                                resident_supporter.c.supporter_id == helper)).first():
            session.execute(insert(resident_supporter).values(resident_id=unlinked, supporter_id=helper))
        welfare = [s.id for s in shelters if s.is_welfare_shelter]
        agreed = int(rng.choice(ids))
        if welfare and not session.scalar(select(WelfareAgreement.id).where(WelfareAgreement.resident_id == agreed)):
            session.add(WelfareAgreement(resident_id=agreed, shelter_id=welfare[0], agreed_on=dt.date(2026, 4, 1)))
        gone = int(rng.choice(ids))
        session.execute(delete(Resident).where(Resident.id == gone))


CITY_TABLES = ("district", "shelter", "dataset", "hazard_zone", "supporter", "resident", "resident_supporter",
               "welfare_agreement")
ID_COLUMNS = {"id", "district_id", "shelter_id", "dataset_id", "resident_id", "supporter_id"}


def copy_city(engine: Engine, source: str, target: str, name: str, offset: int = 1_000_000) -> None:
    """Register ``target`` with a copy of ``source``'s inputs (ids shifted by ``offset``)."""
    with engine.begin() as connection:
        city = connection.execute(select(City.__table__).where(City.__table__.c.code == source)).mappings().one()
        connection.execute(insert(City.__table__).values({**city, "code": target, "name": name}))
        for name_ in CITY_TABLES:
            table = Base.metadata.tables[name_]
            rows = [dict(r) for r in connection.execute(select(table)).mappings()]
            if "city_code" in table.c:
                rows = [r for r in rows if r["city_code"] == source]
            moved = [{k: (v + offset if k in ID_COLUMNS and v is not None else target if k == "city_code" else v)
                      for k, v in r.items()} for r in rows]
            if moved:
                connection.execute(insert(table), moved)
        if engine.dialect.name == "postgresql":
            for name_ in CITY_TABLES:
                if "id" in Base.metadata.tables[name_].c:
                    connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name_}', 'id'), "
                                               f"(SELECT max(id) FROM {name_}))")


def second_profile(folder: Path, source: str, target: str) -> Path:
    """A profile for the copied city (the source's, with the target's code)."""
    text = (ROOT / "data" / "cities" / f"{source}.toml").read_text(encoding="utf-8")
    path = folder / f"{target}.toml"
    path.write_text(text.replace(f'code = "{source}"', f'code = "{target}"'), encoding="utf-8")
    return path


STORED = [*DIGESTED, "result_digest"]  # the stored columns but the run


def stored_as_the_engine_computes(sessions: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """The demo city's stored results, each column checked against the engine's result for the
    stored inputs (by day, the profile's parameters); the stored rows, ordered by resident."""
    profile = load_profile(KURUME)
    with sessions() as session:
        result = _assessed(load_inputs(session, KURUME),
                           AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs), None)
        table = Assessment.__table__.c
        stored = session.execute(select(*(cast(table[c], Text) if c in REASON_COLUMNS else table[c] for c in STORED))
                                 .where(table.resident_id.in_(result["resident_id"].tolist()))
                                 .order_by(table.resident_id)).all()
    result = stored_form(result).sort_values("resident_id", ignore_index=True)
    assert len(stored) == len(result) > 100
    result["result_digest"] = result_digests(result)
    for k, column in enumerate(STORED):
        assert [row[k] for row in stored] == _values(result, column), column
    return [tuple(row) for row in stored]
