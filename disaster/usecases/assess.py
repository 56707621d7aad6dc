"""Evacuation assessment use-cases: compute and store every resident's assessment; summarise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors, repo
from disaster.analysis.decision import Decision
from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.travel import RoadNetwork
from disaster.models import (
    Assessment,
    AssessmentRun,
    Dataset,
    District,
    HazardZone,
    Resident,
    Shelter,
    Supporter,
    WelfareAgreement,
    resident_supporter,
)
from disaster.profile import load_profile
from disaster.usecases.plan_records import review_issued

RESIDENT_COLUMNS = (
    "id", "lon", "lat", "care_level", "disability_types", "disability_grade", "medical_devices", "mobility",
    "communication_needs", "lives_alone", "building_floors", "bedroom_floor", "home_floor", "can_use_stairs", "consent_share",
    "preferred_shelter_code", "preferred_destination",
)
SHELTER_COLUMNS = tuple(c.name for c in Shelter.__table__.columns)


def load_inputs(session: Session, city_code: str) -> AssessmentInputs:
    """Read everything the engine needs into frames."""
    residents = pd.DataFrame(
        session.execute(
            select(*(getattr(Resident, c) for c in RESIDENT_COLUMNS), District.name.label("district"))
            .join(District, Resident.district_id == District.id)
            .where(Resident.city_code == city_code)
            .order_by(Resident.id)
        ).all(),
        columns=[*RESIDENT_COLUMNS, "district"],
    )
    shelters = pd.DataFrame(
        session.execute(select(*Shelter.__table__.columns).where(Shelter.city_code == city_code).order_by(Shelter.id)).all(),
        columns=list(SHELTER_COLUMNS),
    )
    zone_rows = session.execute(repo.city_zones(
        city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_kind, HazardZone.landslide_class, HazardZone.geom
    ).order_by(HazardZone.id)).all()
    zones = gpd.GeoDataFrame(
        pd.DataFrame([r[:4] for r in zone_rows], columns=["layer", "rank", "landslide_kind", "landslide_class"]),
        geometry=shapely.from_wkb([r.geom for r in zone_rows]) if zone_rows else [],
        crs=4326,
    )
    supporters = pd.DataFrame(
        session.execute(
            select(Supporter.id, Supporter.lon, Supporter.lat, Supporter.relation, Supporter.consent)
            .where(Supporter.city_code == city_code)
            .order_by(Supporter.id)
        ).all(),
        columns=["id", "lon", "lat", "relation", "consent"],
    )
    links = pd.DataFrame(
        session.execute(select(resident_supporter).join(Resident, resident_supporter.c.resident_id == Resident.id)
                        .where(Resident.city_code == city_code)
                        .order_by(resident_supporter.c.resident_id, resident_supporter.c.supporter_id)).all(),
        columns=["resident_id", "supporter_id"],
    )
    agreements = pd.DataFrame(
        session.execute(
            select(WelfareAgreement.resident_id, WelfareAgreement.shelter_id, WelfareAgreement.agreed_on)
            .join(Resident, WelfareAgreement.resident_id == Resident.id)
            .where(Resident.city_code == city_code)
            .order_by(WelfareAgreement.resident_id, WelfareAgreement.shelter_id)
        ).all(),
        columns=["resident_id", "shelter_id", "agreed_on"],
    )
    return AssessmentInputs(residents, shelters, zones, supporters, links, agreements)


def _data_versions(session: Session, city_code: str) -> dict[str, str]:
    return {f"{d.kind}:{d.source}": d.sha256
            for d in session.scalars(select(Dataset).where(Dataset.city_code == city_code).order_by(Dataset.id))}


def latest_run(session: Session, city_code: str) -> AssessmentRun:
    """The city's latest assessment run (NotReady when the city has none)."""
    run = session.scalar(select(AssessmentRun).where(AssessmentRun.city_code == city_code)
                         .order_by(AssessmentRun.id.desc()).limit(1))
    if run is None:
        raise errors.NotReady("判定結果がありません。`disaster assess` を実行してください。")
    return run


def _clean(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_assessment(
    sessions: sessionmaker[Session],
    city_code: str,
    params: AssessmentParameters | None = None,
    road_graph: Path | None = None,
    night: bool = False,
) -> int:
    """Assess every resident of the city and replace the city's stored results; returns the run id.
    The parameters come from the city profile's ``[evacuation]`` section unless given."""
    profile = load_profile(city_code)
    params = params or AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs, night=night)
    network = RoadNetwork.from_graphml(road_graph, params.metric_crs) if road_graph else None
    with sessions() as session:
        repo.get_city(session, city_code)
        inputs = load_inputs(session, city_code)
    result = assess(inputs, params, network)
    result = result.drop(columns=["district"])
    for column in ("destination_shelter_id", "second_shelter_id", "welfare_shelter_id"):
        result[column] = result[column].astype(object).where(result[column] >= 0, None)
    for column in ("flood_l1_rank", "flood_l2_rank", "duration_rank", "inland_rank", "landslide_kind", "landslide_class"):
        result[column] = result[column].astype(object).where(result[column] > 0, None)
    with sessions() as session, session.begin():
        run = AssessmentRun(
            city_code=city_code, computed_at=dt.datetime.now(dt.UTC), data_versions=_data_versions(session, city_code),
            parameters=params.as_dict() | {"road_graph": road_graph.name if road_graph else None},
            resident_count=len(result),
        )
        session.add(run)
        session.flush()
        session.execute(delete(Assessment).where(
            Assessment.resident_id.in_(select(Resident.id).where(Resident.city_code == city_code))))
        records = [
            {key: _clean(value) for key, value in row.items()} | {"run_id": run.id}
            for row in result.to_dict("records")
        ]
        for start in range(0, len(records), 5000):
            session.execute(insert(Assessment), records[start : start + 5000])
        run_id = run.id
    review_issued(sessions, city_code)  # issued plans whose data changed turn 要見直し
    return run_id


def refresh_if_residents(sessions: sessionmaker[Session], city_code: str) -> int | None:
    """Recompute after an import changed the inputs (nothing to do without residents)."""
    with sessions() as session:
        if not session.scalar(select(func.count()).select_from(Resident).where(Resident.city_code == city_code)):
            return None
    return run_assessment(sessions, city_code)


def summary(sessions: sessionmaker[Session], city_code: str, district: str | None = None) -> dict[str, Any]:
    """Per-district counts from the stored records: by decision, by hazard, 福祉避難所, supporters."""
    with sessions() as session:
        run = latest_run(session, city_code)
        query = (
            select(District.name, District.area, Assessment)
            .join(Resident, Assessment.resident_id == Resident.id)
            .join(District, Resident.district_id == District.id)
            .where(Resident.city_code == city_code)
        )
        if district is not None:
            if session.scalar(select(District.id).where(District.city_code == city_code, District.name == district)) is None:
                raise errors.NotFound(f"校区「{district}」は登録されていません。")
            query = query.where(District.name == district)
        rows = session.execute(query).all()
        supporters_per_district = dict(
            session.execute(
                select(District.name, func.count(func.distinct(resident_supporter.c.supporter_id)))
                .join(Resident, Resident.district_id == District.id)
                .join(resident_supporter, resident_supporter.c.resident_id == Resident.id)
                .where(District.city_code == city_code)
                .group_by(District.name)
            ).all()
        )
    districts: dict[str, dict[str, Any]] = {}
    for name, area, a in rows:
        d = districts.setdefault(name, _empty(name, area))
        _count(d, a)
    for d in districts.values():
        d["supporters"] = supporters_per_district.get(d["name"], 0)
        d["supporter_ratio"] = round(d["supporters"] / d["residents"], 3) if d["residents"] else None
    ordered = [districts[k] for k in sorted(districts)]
    totals = _empty("合計", None)
    for d in ordered:
        for key, value in d.items():
            if isinstance(value, dict):
                for sub, n in value.items():
                    totals[key][sub] += n
            elif isinstance(value, int) and key not in {"name", "area"}:
                totals[key] += value
    totals["supporter_ratio"] = round(totals["supporters"] / totals["residents"], 3) if totals["residents"] else None
    return {
        "run_id": run.id,
        "computed_at": run.computed_at.isoformat(),
        "data_versions": run.data_versions,
        "totals": totals,
        "districts": ordered,
    }


def _empty(name: str, area: str | None) -> dict[str, Any]:
    return {
        "name": name, "area": area, "residents": 0,
        "by_decision": {d.value: 0 for d in Decision},
        "by_hazard": {"flood": 0, "flood_deep": 0, "collapse": 0, "inland": 0, "landslide": 0, "landslide_red": 0},
        "welfare_needed": 0, "welfare_placed": 0, "welfare_direct": 0, "welfare_unplaced": 0, "without_destination": 0,
        "by_travel_mode": {"walk": 0, "car": 0, "welfare_transport": 0},
        "by_start_trigger": {"level3": 0, "early": 0, "previous_day": 0, "not_workable": 0},
        "crosses_deep_water": 0, "unsupported": 0, "supporters": 0,
    }


def _count(d: dict[str, Any], a: Assessment) -> None:
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
