"""What the public pages show without a login (issue 13 §5): per 校区 counts only, counted in the
database (no one's identity is loaded), with small numbers withheld by the rule of
``disaster.suppression`` (1–4 become 「5未満」, a part whose rest is 1–4 a range, a city total that
would give a withheld cell away 「—」), and during 災害時モード the number of people reported at
each shelter against its capacity (no names, no 名簿 counts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, suppression
from disaster.access import Principal
from disaster.models import Assessment, District, PlanRecord, Resident, Shelter, ShelterCount
from disaster.plans.record import Status as PlanStatus
from disaster.profile import load_profile
from disaster.usecases.disaster_mode import active
from disaster.usecases.safety import current_round


@dataclass(frozen=True)
class DistrictFigures:
    name: str
    area: str | None
    residents: suppression.Cell  # 避難行動要支援者 on the 名簿
    at_risk: suppression.Cell  # of them living where a hazard map shows a risk
    plan_rate: str  # 計画作成に同意した割合
    issued: suppression.Cell  # マイプラン confirmed with the person (本人確認済)
    unsupported: suppression.Cell  # without a registered supporter


@dataclass(frozen=True)
class ShelterLoad:
    name: str
    kinds: str
    capacity: int | None
    people: int
    reported_at: dt.datetime

    @property
    def load(self) -> int | None:
        return round(100 * self.people / self.capacity) if self.capacity else None


@dataclass(frozen=True)
class PublicFigures:
    city_name: str
    districts: list[DistrictFigures]
    totals: dict[str, suppression.Cell]  # a column's city total; "—" where it would reveal a withheld count
    shelters: list[ShelterLoad]  # during 災害時モード: the shelters with a reported number of people
    is_demo: bool


def public_figures(sessions: sessionmaker[Session], city_code: str, now: dt.datetime) -> PublicFigures:
    """The figures of the public page (``access.Principal.public``)."""
    from disaster.usecases.maps import AT_RISK  # the map's own definition (optional extra "maps" imported there)

    principal = Principal.public(city_code)
    with sessions() as session:
        districts = session.execute(select(District.name, District.area, District.is_demo)
                                    .where(District.city_code == city_code).order_by(District.name)).all()
        counted = {row[0]: row[1:] for row in session.execute(
            select(District.name, func.count(), func.count().filter(AT_RISK),
                   func.count().filter(Resident.consent_plan.is_(True)), func.count().filter(Assessment.supporter_count == 0))
            .select_from(Resident).join(District, Resident.district_id == District.id)
            .join(Assessment, Assessment.resident_id == Resident.id)
            .where(access.counted_filter(principal)).group_by(District.name))}
        issued = dict(session.execute(
            select(District.name, func.count()).select_from(PlanRecord)
            .join(Resident, Resident.id == PlanRecord.resident_id).join(District, Resident.district_id == District.id)
            .where(access.counted_filter(principal), PlanRecord.status == PlanStatus.ISSUED.value)
            .group_by(District.name)).all())
        emergency = active(session, city_code, now)
        shelters: list[ShelterLoad] = []
        if emergency.on:
            since = current_round(session, city_code, emergency, now, demo=False).since
            last = (select(ShelterCount.shelter_id, func.max(ShelterCount.id).label("count_id"))
                    .where(ShelterCount.city_code == city_code, ShelterCount.training.is_(False),
                           ShelterCount.recorded_at >= since).group_by(ShelterCount.shelter_id).subquery())
            for shelter, people, at in session.execute(
                    select(Shelter, ShelterCount.people, ShelterCount.recorded_at)
                    .join(ShelterCount, ShelterCount.shelter_id == Shelter.id)
                    .join(last, last.c.count_id == ShelterCount.id).order_by(Shelter.name)):
                kinds = "・".join(label for flag, label in ((shelter.is_welfare_shelter, "福祉避難所"),
                                                           (shelter.is_designated_shelter, "指定避難所"),
                                                           (shelter.is_emergency_site, "指定緊急避難場所")) if flag)
                shelters.append(ShelterLoad(shelter.name, kinds, shelter.capacity, int(people), at))
    rows: list[DistrictFigures] = []
    for name, area, _ in districts:
        n, at_risk, planned, unsupported = (int(x) for x in counted.get(name, (0, 0, 0, 0)))
        done = int(issued.get(name, 0))
        rows.append(DistrictFigures(name, area, suppression.count(n), suppression.part(at_risk, n),
                                    suppression.share(planned, n), suppression.part(done, n),
                                    suppression.part(unsupported, n)))
    totals = {key: suppression.total([getattr(r, key) for r in rows])
              for key in ("residents", "at_risk", "issued", "unsupported")}
    return PublicFigures(load_profile(city_code).name, rows, totals, shelters, any(d.is_demo for d in districts))
