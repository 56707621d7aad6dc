"""Counts per entity and per 校区 (``disaster stats``)."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, geo, repo
from disaster.access import Principal
from disaster.models import Dataset, District, Resident, Shelter, resident_supporter


def store_stats(sessions: sessionmaker[Session], principal: Principal) -> dict[str, Any]:
    """The city's counts (city roles only: they include consents per 校区 and the datasets)."""
    access.require(principal, access.Action.STATS)
    city_code = principal.city_code
    with sessions() as session:
        city = repo.get_city(session, city_code)
        counts = repo.table_counts(session, city_code)
        kinds = {
            key: session.scalar(select(func.count()).where(Shelter.city_code == city_code, flag)) or 0
            for key, flag in (("emergency_sites", Shelter.is_emergency_site),
                              ("designated_shelters", Shelter.is_designated_shelter),
                              ("welfare_shelters", Shelter.is_welfare_shelter))
        }
        districts = _per_district(session, principal)
        datasets = [
            {"kind": d.kind, "source": d.source, "features": d.feature_count, "demo": d.is_demo,
             "imported_at": d.imported_at.isoformat()}
            for d in session.scalars(select(Dataset).where(Dataset.city_code == city_code).order_by(Dataset.kind, Dataset.source))
        ]
    return {
        "city": {"code": city.code, "name": city.name, "has_boundary": city.boundary is not None},
        "counts": counts,
        "shelter_kinds": kinds,
        "districts": districts,
        "datasets": datasets,
    }


def _per_district(session: Session, principal: Principal) -> list[dict[str, Any]]:
    city_code = principal.city_code
    rows = session.execute(
        select(District.id, District.name, District.area, District.geom)
        .where(District.city_code == city_code)
        .order_by(District.name)
    ).all()
    if not rows:
        return []
    supported = select(resident_supporter.c.resident_id).distinct().scalar_subquery()
    per = {
        district_id: (total, consent, unsupported)
        for district_id, total, consent, unsupported in session.execute(
            select(
                Resident.district_id,
                func.count(),
                func.count().filter(Resident.consent_share),
                func.count().filter(Resident.id.not_in(supported)),
            ).where(access.counted_filter(principal)).group_by(Resident.district_id)
        )
    }
    points = session.execute(select(Shelter.lon, Shelter.lat).where(Shelter.city_code == city_code)).all()
    geoms = geo.from_wkb(row.geom for row in rows)
    tree = shapely.STRtree(geoms)
    shelter_counts = [0] * len(rows)
    if points:
        hits = tree.query(shapely.points([p.lon for p in points], [p.lat for p in points]), predicate="within")
        for index in hits[1]:
            shelter_counts[index] += 1
    return [
        {
            "name": row.name,
            "area": row.area,
            "residents": per.get(row.id, (0, 0, 0))[0],
            "residents_sharing_consent": per.get(row.id, (0, 0, 0))[1],
            "residents_without_supporter": per.get(row.id, (0, 0, 0))[2],
            "shelters": shelter_counts[i],
        }
        for i, row in enumerate(rows)
    ]
