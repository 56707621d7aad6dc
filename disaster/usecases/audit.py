"""Plan-safety audit of the stored assessments and the plans they produce (read-only)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from disaster import access, errors, repo
from disaster.access import Principal
from disaster.audit import KIND_LABELS, RULE_LABELS, AuditInputs, Kind, Rule, Violation, audit
from disaster.models import (
    Assessment,
    District,
    HazardZone,
    Resident,
    Shelter,
    WelfareAgreement,
)
from disaster.profile import load_profile
from disaster.usecases.assess import latest_run

ASSESSMENT_FIELDS = tuple(c.name for c in Assessment.__table__.columns if c.name != "run_id")
SHELTER_FIELDS = ("id", "code", "name", "lon", "lat", "hazard_flood", "usable_floors", "is_welfare_shelter",
                  "is_designated_shelter", "capacity", "accepts_direct", "barrier_free", "backup_power")


@dataclass
class AuditReport:
    """Violations of one audit, with counts per rule and kind."""

    city_code: str
    district: str | None
    run_id: int
    computed_at: str
    residents: int
    violations: list[Violation] = field(default_factory=list)

    def count(self, kind: Kind) -> int:
        return sum(v.kind is kind for v in self.violations)

    @property
    def toolkit_count(self) -> int:
        return self.count(Kind.TOOLKIT)

    @property
    def data_count(self) -> int:
        return self.count(Kind.DATA)

    def counts(self) -> list[dict[str, Any]]:
        """One row per (rule, kind) found, in rule order, with the residents affected."""
        tally = Counter((v.rule, v.kind) for v in self.violations)
        people: dict[tuple[Rule, Kind], set[str]] = {}
        for v in self.violations:
            people.setdefault((v.rule, v.kind), set()).add(v.resident_no)
        order = list(Rule)
        return [
            {"rule": rule.value, "label": RULE_LABELS[rule], "kind": kind.value, "kind_label": KIND_LABELS[kind],
             "count": n, "residents": len(people[(rule, kind)])}
            for (rule, kind), n in sorted(tally.items(), key=lambda item: (item[0][1] != Kind.TOOLKIT, order.index(item[0][0])))
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "city_code": self.city_code,
            "district": self.district,
            "run_id": self.run_id,
            "computed_at": self.computed_at,
            "residents": self.residents,
            "totals": {Kind.TOOLKIT.value: self.toolkit_count, Kind.DATA.value: self.data_count},
            "counts": self.counts(),
            "violations": [v.as_dict() for v in self.violations],
        }


def audit_plans(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                today: dt.date | None = None) -> AuditReport:
    """Audit the stored assessment of every resident ``principal`` may see in the city (or one
    校区) and the plan each would print."""
    from disaster.plans.context import plan_contexts  # plans are only built for their text
    from disaster.usecases.plan_records import printed_records

    access.require(principal, access.Action.AUDIT_PLANS, district)
    today = today or dt.date.today()
    city_code = principal.city_code
    profile = load_profile(city_code)
    with sessions() as session, session.begin():
        try:
            repo.get_city(session, city_code)
            run = latest_run(session, city_code)
            query = (select(Resident).join(District, Resident.district_id == District.id)
                     .where(access.resident_filter(principal))
                     .options(selectinload(Resident.supporters), selectinload(Resident.emergency_contacts),
                              selectinload(Resident.care_professionals),
                              selectinload(Resident.district).selectinload(District.centres))
                     .order_by(Resident.resident_no))
            if district is not None:
                if session.scalar(select(District.id).where(District.city_code == city_code, District.name == district)) is None:
                    raise errors.NotFound(f"校区「{district}」は登録されていません。")
                query = query.where(District.name == district)
            residents = list(session.scalars(query))
            inputs = _inputs(session, city_code, residents)
            inputs.walk_limits = profile.evacuation.walk_limits
            inputs.evacuation = profile.evacuation
            # the plans as printed: a plan record's choices replace the assessment's suggestion
            inputs.contexts = plan_contexts(session, residents, today, printed_records(session, principal, residents))
            report = AuditReport(city_code, district, run.id, run.computed_at.isoformat(), len(residents))
        finally:
            session.rollback()  # read-only: nothing the plan code may have touched is kept
    report.violations = audit(inputs)
    return report


def _inputs(session: Session, city_code: str, residents: list[Resident]) -> AuditInputs:
    ids = [r.id for r in residents]
    people = pd.DataFrame([{
        "id": r.id, "resident_no": r.resident_no, "name": r.name, "district": r.district.name, "lon": r.lon, "lat": r.lat,
        "mobility": r.mobility, "care_level": r.care_level, "medical_devices": list(r.medical_devices or []),
        "building_floors": r.building_floors, "bedroom_floor": r.bedroom_floor, "home_floor": r.home_floor,
        "can_use_stairs": r.can_use_stairs, "preferred_shelter_code": r.preferred_shelter_code, "consent_plan": r.consent_plan, "address": r.address, "phone": r.phone,
        "info_reception": list(r.info_reception or []),
        "supporters": [{"name": s.name, "address": s.address, "phone": s.phone} for s in r.supporters],
        "contacts": [{"name": c.name, "relation": c.relation, "phone": c.phone} for c in r.emergency_contacts],
        "professionals": [{"role": p.role, "name": p.name, "phone": p.phone} for p in r.care_professionals],
    } for r in residents], columns=["id", "resident_no", "name", "district", "lon", "lat", "mobility", "care_level",
                                    "medical_devices", "building_floors", "bedroom_floor", "home_floor", "can_use_stairs",
                                    "preferred_shelter_code",
                                    "consent_plan", "address", "phone", "info_reception", "supporters", "contacts",
                                    "professionals"])
    stored: list[Assessment] = []
    for start in range(0, len(ids), 900):  # stay below SQLite's bound-parameter limit
        stored += session.scalars(select(Assessment).where(Assessment.resident_id.in_(ids[start:start + 900]))
                                  .order_by(Assessment.resident_id)).all()
    assessments = pd.DataFrame([{name: getattr(a, name) for name in ASSESSMENT_FIELDS} for a in stored],
                               columns=list(ASSESSMENT_FIELDS))
    shelters = pd.DataFrame(session.execute(select(*(getattr(Shelter, c) for c in SHELTER_FIELDS))
                                            .where(Shelter.city_code == city_code)).all(), columns=list(SHELTER_FIELDS))
    zone_rows = session.execute(repo.city_zones(city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_class,
                                                HazardZone.geom)).all()
    zones = gpd.GeoDataFrame(pd.DataFrame([r[:3] for r in zone_rows], columns=["layer", "rank", "landslide_class"]),
                             geometry=shapely.from_wkb([r.geom for r in zone_rows]) if zone_rows else [], crs=4326)
    agreements = pd.DataFrame(session.execute(select(WelfareAgreement.resident_id, WelfareAgreement.shelter_id)
                                              .join(Resident, WelfareAgreement.resident_id == Resident.id)
                                              .where(Resident.city_code == city_code)).all(),
                              columns=["resident_id", "shelter_id"])
    return AuditInputs(assessments, people, shelters, zones, agreements)
