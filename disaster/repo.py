"""Data-layer helpers. They add, flush and query; they never commit (use-cases do)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import shapely
from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from disaster import errors, geo
from disaster.models import (
    CareProfessional,
    City,
    ConsultationCentre,
    Dataset,
    District,
    EmergencyContact,
    HazardZone,
    Resident,
    Shelter,
    Supporter,
    WelfareAgreement,
    resident_supporter,
)

if TYPE_CHECKING:  # the importers (settings, pydantic, pyogrio) only for the writes that take their records
    from disaster.importers.areas import DistrictRecord
    from disaster.importers.hazards import HazardRecord
    from disaster.importers.roster import ResidentRecord, SupporterRecord
    from disaster.importers.shelters import ShelterRecord


def get_city(session: Session, code: str) -> City:
    city = session.get(City, code)
    if city is None:
        raise errors.NotReady(f"団体コード {code} の市町村が登録されていません。"
                       f"先に `disaster init --city {code}` で登録してください。")
    return city


def cities(session: Session) -> list[tuple[str, str]]:
    """Every registered city as (code, name), by code."""
    return [(code, name) for code, name in session.execute(select(City.code, City.name).order_by(City.code))]


def ensure_city(session: Session, code: str, name: str | None) -> City:
    """Register the city (or rename it when ``name`` is given). A city without a name yet
    gets it from the N03 file on ``import boundary``."""
    city = session.get(City, code)
    if city is None:
        city = City(code=code, name=name or "")
        session.add(city)
    elif name:
        city.name = name
    session.flush()
    return city


def record_dataset(session: Session, city_code: str, kind: str, source: str, sha256: str, count: int,
                   is_demo: bool) -> Dataset:
    """Create or refresh the city's dataset row for (kind, source): the data version of an import."""
    dataset = session.scalar(select(Dataset).where(Dataset.city_code == city_code, Dataset.kind == kind,
                                                   Dataset.source == source))
    if dataset is None:
        dataset = Dataset(city_code=city_code, kind=kind, source=source)
        session.add(dataset)
    dataset.sha256, dataset.feature_count, dataset.is_demo = sha256, count, is_demo
    dataset.imported_at = dt.datetime.now(dt.UTC)
    session.flush()
    return dataset


def upsert_shelters(
    session: Session, city_code: str, records: Iterable[ShelterRecord]
) -> tuple[int, int, list[str]]:
    """Insert or update the city's shelters: project-format records by code, GSI rows merged into
    facilities by ``shelter_merge.plan_merge``. Returns (created, updated, notices)."""
    from disaster.importers import shelter_merge
    from disaster.importers.shelters import GsiKind

    existing = list(session.scalars(select(Shelter).where(Shelter.city_code == city_code).order_by(Shelter.id)))
    by_code = {s.code: s for s in existing}
    created = updated = 0
    gsi_records = []
    for record in records:
        if record.gsi is not None:
            gsi_records.append(record)
            continue
        shelter = by_code.get(record.code)
        if shelter is None:
            shelter = by_code[record.code] = Shelter(code=record.code, city_code=city_code)
            session.add(shelter)
            created += 1
        else:
            updated += 1
        for column, value in record.values.items():
            setattr(shelter, column, value)
    notices = []
    for group in shelter_merge.plan_merge(list(by_code.values()), gsi_records):
        shelter = group.home
        if shelter is None:
            shelter = Shelter(city_code=city_code, code=group.code)
            session.add(shelter)
            created += 1
        else:
            updated += 1
        if group.absorbed is not None:
            _absorb_shelter(session, shelter, group.absorbed)
        for record in group.records:
            emergency = record.gsi is not None and record.gsi.kind == GsiKind.EMERGENCY
            shelter_merge.merge_values(shelter, record.values, keep_place=group.has_shelter and emergency,
                                       designates_hazards=emergency)
        if group.other_name:
            shelter.remarks = shelter_merge.join_remarks(shelter.remarks, shelter_merge.other_name_remark(group.other_name))
        shelter.code = group.code
        notices += group.notices
    session.flush()
    return created, updated, notices


def _absorb_shelter(session: Session, shelter: Shelter, duplicate: Shelter) -> None:
    """Merge a stored duplicate of ``shelter`` (the same facility stored twice) into it: its values
    fill gaps, its 福祉避難所 agreements move over, and it is removed."""
    from disaster.importers import shelter_merge

    values = {c.name: getattr(duplicate, c.name) for c in Shelter.__table__.columns if c.name not in {"id", "code", "city_code"}}
    shelter_merge.merge_values(shelter, values, keep_place=True)
    session.flush()
    agreed = select(WelfareAgreement.resident_id).where(WelfareAgreement.shelter_id == shelter.id)
    session.execute(update(WelfareAgreement)
                    .where(WelfareAgreement.shelter_id == duplicate.id, WelfareAgreement.resident_id.not_in(agreed))
                    .values(shelter_id=shelter.id))
    session.delete(duplicate)


def upsert_districts(
    session: Session, city_code: str, records: Iterable[DistrictRecord], source: str, is_demo: bool
) -> tuple[int, int]:
    existing = {d.name: d for d in session.scalars(select(District).where(District.city_code == city_code))}
    centres = {(c.kind, c.name): c
               for c in session.scalars(select(ConsultationCentre).where(ConsultationCentre.city_code == city_code))}
    created = updated = 0
    for record in records:
        district = existing.get(record.name)
        if district is None:
            district = District(city_code=city_code, name=record.name)
            session.add(district)
            created += 1
        else:
            updated += 1
        district.geom = geo.wkb(record.geometry)
        for key, value in geo.bbox_columns(record.geometry).items():
            setattr(district, key, value)
        district.area, district.source, district.is_demo = record.area, source, is_demo
        if record.centres:
            linked = []
            for kind, name, tel, fax in record.centres:
                centre = centres.get((kind, name))
                if centre is None:
                    centre = ConsultationCentre(city_code=city_code, kind=kind, name=name)
                    session.add(centre)
                    centres[(kind, name)] = centre
                centre.tel, centre.fax = tel, fax
                linked.append(centre)
            district.centres = linked
    session.flush()
    return created, updated


def set_boundary(session: Session, city: City, boundary: shapely.Geometry, source: str) -> None:
    city.boundary = geo.wkb(boundary)
    city.boundary_source = source
    session.flush()


def city_zones(city_code: str, *columns: Any) -> Select[Any]:
    """Select ``columns`` of the hazard zones of the city (they belong to it through their dataset)."""
    return (select(*columns).select_from(HazardZone).join(Dataset, HazardZone.dataset_id == Dataset.id)
            .where(Dataset.city_code == city_code))


def replace_hazard_zones(session: Session, dataset: Dataset, records: Sequence[HazardRecord]) -> int:
    """Replace all zones of ``dataset`` (so re-importing a file is idempotent)."""
    session.execute(delete(HazardZone).where(HazardZone.dataset_id == dataset.id))
    rows = [
        {
            "dataset_id": dataset.id,
            "layer": r.layer.value,
            "river_name": r.river_name,
            "rank": r.rank,
            "landslide_kind": r.landslide_kind,
            "landslide_class": r.landslide_class,
            "source_feature": r.source_feature,
            "is_demo": dataset.is_demo,
            "geom": geo.wkb(r.geometry),
            **geo.bbox_columns(r.geometry),
        }
        for r in records
    ]
    if rows:
        session.execute(insert(HazardZone), rows)
    return len(rows)


def district_ids(session: Session, city_code: str) -> dict[str, int]:
    return dict(session.execute(select(District.name, District.id).where(District.city_code == city_code)).all())


def resident_ids(session: Session, city_code: str, numbers: Sequence[str] | None = None) -> dict[str, int]:
    query = select(Resident.resident_no, Resident.id).where(Resident.city_code == city_code)
    if numbers is not None:
        found: dict[str, int] = {}
        for start in range(0, len(numbers), 500):  # stay under SQL parameter limits
            chunk = query.where(Resident.resident_no.in_(numbers[start : start + 500]))
            found |= dict(session.execute(chunk).all())
        return found
    return dict(session.execute(query).all())


def upsert_residents(
    session: Session,
    city_code: str,
    records: Sequence[ResidentRecord],
    source: str,
    is_demo: bool,
) -> tuple[int, int]:
    """Bulk insert/update residents by 名簿番号; their contacts and professionals are replaced,
    and so are their 福祉避難所 agreements when the file carries them (``agreements`` not None).
    A number that passes to a different person (``takes_over``) is a new resident: the one who
    had it is deleted first, with everything that is theirs (the database's cascades)."""
    districts = district_ids(session, city_code)
    existing = resident_ids(session, city_code)
    gone = [existing.pop(r.values["resident_no"]) for r in records if r.takes_over and r.values["resident_no"] in existing]
    for start in range(0, len(gone), 500):  # the person who had the number: removed with all that is theirs
        session.execute(delete(Resident).where(Resident.id.in_(gone[start:start + 500])))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in records:
        values = dict(record.values)
        values["district_id"] = districts[values.pop("district")]
        values |= {"city_code": city_code, "source": source, "is_demo": is_demo}
        if values["resident_no"] in existing:
            updates.append({"id": existing[values["resident_no"]], **values})
        else:
            inserts.append(values)
    if inserts:
        session.execute(insert(Resident), inserts)
    if updates:
        session.execute(update(Resident), updates)
    ids = resident_ids(session, city_code) if inserts else existing
    for model, part in ((EmergencyContact, "contacts"), (CareProfessional, "professionals")):
        touched = [ids[r.values["resident_no"]] for r in records if getattr(r, part) is not None]  # None: not in the file
        for start in range(0, len(touched), 500):
            session.execute(delete(model).where(model.resident_id.in_(touched[start : start + 500])))
    contacts = [{"resident_id": ids[r.values["resident_no"]], **c} for r in records for c in r.contacts or []]
    professionals = [{"resident_id": ids[r.values["resident_no"]], **p} for r in records for p in r.professionals or []]
    if contacts:
        session.execute(insert(EmergencyContact), contacts)
    if professionals:
        session.execute(insert(CareProfessional), professionals)
    _replace_agreements(session, city_code, records, ids)
    return len(inserts), len(updates)


def _replace_agreements(session: Session, city_code: str, records: Sequence[ResidentRecord], ids: dict[str, int]) -> None:
    carried = [r for r in records if r.agreements is not None]
    if not carried:
        return
    shelters = dict(session.execute(select(Shelter.code, Shelter.id).where(Shelter.city_code == city_code)).all())
    touched = [ids[r.values["resident_no"]] for r in carried]
    for start in range(0, len(touched), 500):
        session.execute(delete(WelfareAgreement).where(WelfareAgreement.resident_id.in_(touched[start : start + 500])))
    rows = [
        {"resident_id": ids[r.values["resident_no"]], "shelter_id": shelters[a["shelter_code"]],
         "agreed_on": a["agreed_on"], "note": a.get("note")}
        for r in carried
        for a in r.agreements or []
    ]
    if rows:
        session.execute(insert(WelfareAgreement), rows)


def upsert_supporters(
    session: Session, city_code: str, records: Sequence[SupporterRecord], source: str, is_demo: bool
) -> tuple[int, int]:
    """Bulk insert/update supporters by 支援者番号 and replace their links to residents."""
    query = select(Supporter.supporter_no, Supporter.id).where(Supporter.city_code == city_code)
    existing = dict(session.execute(query).all())
    inserts, updates = [], []
    for record in records:
        values = record.values | {"city_code": city_code, "source": source, "is_demo": is_demo}
        if values["supporter_no"] in existing:
            updates.append({"id": existing[values["supporter_no"]], **values})
        else:
            inserts.append(values)
    if inserts:
        session.execute(insert(Supporter), inserts)
    if updates:
        session.execute(update(Supporter), updates)
    ids = dict(session.execute(query).all())
    residents = resident_ids(session, city_code, sorted({n for r in records for n in r.resident_nos}))
    touched = [ids[r.values["supporter_no"]] for r in records]
    for start in range(0, len(touched), 500):
        session.execute(delete(resident_supporter).where(resident_supporter.c.supporter_id.in_(touched[start : start + 500])))
    links = [
        {"resident_id": residents[number], "supporter_id": ids[r.values["supporter_no"]]}
        for r in records
        for number in dict.fromkeys(r.resident_nos)
    ]
    if links:
        session.execute(insert(resident_supporter), links)
    return len(inserts), len(updates)


def table_counts(session: Session, city_code: str) -> dict[str, int]:
    """Rows of the city per table."""
    of_residents = select(Resident.id).where(Resident.city_code == city_code)
    queries = {
        "districts": select(func.count()).select_from(District).where(District.city_code == city_code),
        "consultation_centres": select(func.count()).select_from(ConsultationCentre)
        .where(ConsultationCentre.city_code == city_code),
        "shelters": select(func.count()).select_from(Shelter).where(Shelter.city_code == city_code),
        "hazard_zones": city_zones(city_code, func.count()),
        "residents": select(func.count()).select_from(Resident).where(Resident.city_code == city_code),
        "supporters": select(func.count()).select_from(Supporter).where(Supporter.city_code == city_code),
        "emergency_contacts": select(func.count()).select_from(EmergencyContact)
        .where(EmergencyContact.resident_id.in_(of_residents)),
        "care_professionals": select(func.count()).select_from(CareProfessional)
        .where(CareProfessional.resident_id.in_(of_residents)),
        "welfare_agreements": select(func.count()).select_from(WelfareAgreement)
        .where(WelfareAgreement.resident_id.in_(of_residents)),
        "datasets": select(func.count()).select_from(Dataset).where(Dataset.city_code == city_code),
        "resident_supporter_links": select(func.count()).select_from(resident_supporter)
        .where(resident_supporter.c.resident_id.in_(of_residents)),
    }
    return {name: session.scalar(query) or 0 for name, query in queries.items()}
