"""Map use-cases: load what the maps draw and write district/city maps with their assets."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, errors, repo
from disaster.access import Principal
from disaster.analysis.eligibility import destination_safety
from disaster.analysis.exposure import HazardIndex
from disaster.codes import CENTRE_KINDS
from disaster.csp import with_meta_policy
from disaster.exercises.tracking import fiscal_label, fiscal_year
from disaster.models import (
    Assessment,
    District,
    ExerciseParticipants,
    ExerciseSession,
    HazardZone,
    Resident,
    Shelter,
    Supporter,
    district_centre,
    resident_supporter,
)
from disaster.models import ConsultationCentre as Centre
from disaster.outputs import OutputFolder, file_name
from disaster.pdf.renderer import template_environment
from disaster.profile import load_profile
from maps.assets import copy_assets
from maps.interactive import COUNT_COLUMNS, PRIVATE_MARK, MapInputs, city_map, district_map, html


def load_map_inputs(session: Session, principal: Principal, district: str | None = None) -> MapInputs:
    """What the maps of ``principal`` draw (of one 校区 when ``district`` is given): the named
    residents of ``access.resident_filter`` only, and counts per 校区 for everything else."""
    city_code = principal.city_code
    of_city = select(Resident.id).where(access.counted_filter(principal))
    if not session.scalar(select(func.count()).select_from(Assessment).where(Assessment.resident_id.in_(of_city))):
        raise errors.NotReady("避難判定がまだありません。先に `disaster assess` を実行してください。")
    districts_rows = session.execute(select(District.id, District.name, District.area, District.geom, District.is_demo)
                                     .where(District.city_code == city_code).order_by(District.name)).all()
    if district is not None and district not in {d.name for d in districts_rows}:
        raise errors.NotFound(f"校区「{district}」は登録されていません。")
    districts = gpd.GeoDataFrame({"name": [d.name for d in districts_rows], "area": [d.area for d in districts_rows]},
                                 geometry=shapely.from_wkb([d.geom for d in districts_rows]), crs=4326)
    zone_rows = session.execute(repo.city_zones(city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_kind,
                                                HazardZone.landslide_class, HazardZone.river_name, HazardZone.geom)).all()
    zones = gpd.GeoDataFrame(pd.DataFrame([r[:5] for r in zone_rows],
                                          columns=["layer", "rank", "landslide_kind", "landslide_class", "river_name"]),
                             geometry=shapely.from_wkb([r.geom for r in zone_rows]) if zone_rows else [], crs=4326)
    columns = [c.name for c in Shelter.__table__.columns]
    shelters = pd.DataFrame(session.execute(select(*Shelter.__table__.columns).where(Shelter.city_code == city_code)).all(),
                            columns=columns)
    assigned = dict(session.execute(select(Assessment.destination_shelter_id, func.count())
                                    .where(Assessment.destination_kind == "welfare", Assessment.resident_id.in_(of_city))
                                    .group_by(Assessment.destination_shelter_id)).all())
    shelters["welfare_assigned"] = shelters["id"].map(assigned).fillna(0).astype(int)
    # whether each place can be used in heavy rain, decided as for the plans (every rain layer at its own location)
    safety = destination_safety(HazardIndex(zones).exposure(shelters["lon"].to_numpy(), shelters["lat"].to_numpy()), shelters)
    shelters["rain_safe"], shelters["rain_floor"], shelters["rain_problem"] = safety.safe, safety.floor, safety.problems
    names = dict(zip(shelters["id"], shelters["name"], strict=True))
    visible = access.resident_filter(principal, district)
    named = access.loads_identity(principal)  # public and trainer: no query selects a resident's identity
    links = session.execute(select(resident_supporter.c.resident_id, resident_supporter.c.supporter_id)
                            .join(Resident, Resident.id == resident_supporter.c.resident_id).where(visible)).all() if named else []
    by_supporter: dict[int, list[int]] = {}
    by_resident: dict[int, list[int]] = {}
    for resident_id, supporter_id in links:
        by_supporter.setdefault(supporter_id, []).append(resident_id)
        by_resident.setdefault(resident_id, []).append(supporter_id)
    supporters_rows = session.execute(
        select(Supporter.id, access.supporter_name(principal).label("name"), Supporter.relation, Supporter.lon,
               Supporter.lat, Supporter.consent)
        .where(Supporter.city_code == city_code, Supporter.id.in_(sorted(by_supporter)))).all() if by_supporter else []
    supporters = pd.DataFrame([{"id": s.id, "name": s.name, "relation": s.relation, "lon": s.lon, "lat": s.lat,
                                "consent": s.consent, "resident_ids": by_supporter.get(s.id, [])} for s in supporters_rows],
                              columns=["id", "name", "relation", "lon", "lat", "consent", "resident_ids"])
    supporter_info = {s.id: (s.name, s.relation) for s in supporters_rows}
    rows = session.execute(
        select(Resident, District.name.label("district"), Assessment)
        .join(District, Resident.district_id == District.id)
        .join(Assessment, Assessment.resident_id == Resident.id)
        .where(visible)
    ).all() if named else []
    residents = pd.DataFrame([{
        "id": r.id, "resident_no": r.resident_no, "name": r.name, "district": district, "lat": r.lat, "lon": r.lon,
        "location_level": r.location_level,
        "consent_share": r.consent_share, "consent_plan": r.consent_plan, "decision": a.decision,
        "priority_score": a.priority_score, "supporter_count": a.supporter_count,
        "needs": "、".join(x for x in (r.care_level, r.mobility if r.mobility != "自立" else None,
                                      *r.medical_devices, *r.communication_needs) if x),
        "destination": names.get(a.destination_shelter_id) if a.destination_shelter_id else a.destination_text,
        "supporter_list": [supporter_info[s] for s in by_resident.get(r.id, [])],
    } for r, district, a in rows], columns=["id", "resident_no", "name", "district", "lat", "lon", "location_level", "consent_share",
                                            "consent_plan", "decision", "priority_score", "supporter_count",
                                            "needs", "destination", "supporter_list"])
    centres: dict[str, list[tuple[str, str, str | None]]] = {}
    for name, kind, centre_name, tel in session.execute(
        select(District.name, Centre.kind, Centre.name, Centre.tel)
        .join(district_centre, district_centre.c.district_id == District.id)
        .join(Centre, Centre.id == district_centre.c.centre_id)
        .where(District.city_code == city_code)
    ).all():
        centres.setdefault(name, []).append((CENTRE_KINDS[kind], centre_name, tel))
    is_demo = any(d.is_demo for d in districts_rows)
    participants, label = _recent_exercise_participants(session, city_code)
    return MapInputs(districts, zones, shelters, residents, supporters, _district_counts(session, principal), centres,
                     is_demo, participants, label, load_profile(city_code).map_title)


AT_RISK = or_(func.coalesce(Assessment.flood_l2_rank, 0) >= 2, func.coalesce(Assessment.inland_rank, 0) >= 2,
              Assessment.collapse_flow.is_(True), Assessment.collapse_erosion.is_(True),
              func.coalesce(Assessment.landslide_class, 0) != 0)


def _district_counts(session: Session, principal: Principal) -> pd.DataFrame:
    """Assessed residents per 校区 (counted in the database: no one's identity is loaded)."""
    rows = session.execute(
        select(District.name, func.count(), func.count().filter(AT_RISK), func.count().filter(Resident.consent_plan.is_(True)),
               func.count().filter(Assessment.supporter_count == 0))
        .select_from(Resident).join(District, Resident.district_id == District.id)
        .join(Assessment, Assessment.resident_id == Resident.id)
        .where(access.counted_filter(principal)).group_by(District.name)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(COUNT_COLUMNS)).set_index("district")


RECENT_YEARS = 3


def _recent_exercise_participants(session: Session, city_code: str) -> tuple[dict[str, int] | None, str]:
    """Participants per 校区 of the city over its last three 年度 with records (None if there are none)."""
    records = session.execute(select(District.name, ExerciseSession.held_on, func.sum(ExerciseParticipants.count))
                              .join(ExerciseSession, ExerciseSession.district_id == District.id)
                              .join(ExerciseParticipants, ExerciseParticipants.session_id == ExerciseSession.id)
                              .where(District.city_code == city_code)
                              .group_by(District.name, ExerciseSession.id, ExerciseSession.held_on)).all()
    if not records:
        return None, ""
    last = max(fiscal_year(held) for _, held, _ in records)
    first = last - RECENT_YEARS + 1
    totals: dict[str, int] = {}
    for name, held, count in records:
        if fiscal_year(held) >= first:
            totals[name] = totals.get(name, 0) + int(count)
    return totals, f"{fiscal_label(first)}〜{fiscal_label(last)}"


@dataclass
class MapReport:
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MapPage:
    """An interactive map page: its HTML (referring to the assets as ``assets/…``) and the
    名簿番号 of the residents it shows (none in a view without named residents)."""

    html: str
    residents: list[str]


def district_map_page(sessions: sessionmaker[Session], principal: Principal, district: str) -> MapPage:
    """The district map as ``principal`` may see it (``access.Action.DISTRICT_MAP``)."""
    access.require(principal, access.Action.DISTRICT_MAP, district)
    with sessions() as session:
        inputs = load_map_inputs(session, principal, district)
    shown = sorted(inputs.residents.loc[inputs.residents["district"] == district, "resident_no"])
    return MapPage(html(district_map(inputs, district, principal)), shown)


def city_map_page(sessions: sessionmaker[Session], principal: Principal, link: Callable[[str], str]) -> MapPage:
    """The city overview (counts per 校区, no one's identity; ``access.Action.CITY_MAP``), linking
    each 校区 to ``link(校区)``."""
    access.require(principal, access.Action.CITY_MAP)
    with sessions() as session:
        inputs = load_map_inputs(session, principal)
    return MapPage(html(city_map(inputs, principal, link=link)), [])


def write_district_map(sessions: sessionmaker[Session], principal: Principal, district: str, out: Path,
                       force: bool = False) -> Path:
    """The district map as ``district_map_page`` to the file ``out``, with its assets next to it;
    readable by its owner only unless it is a public view (``disaster.outputs``)."""
    folder = OutputFolder(out.parent, private=access.loads_identity(principal), force=force)
    folder.check_free([out.name])
    path = folder.write_text(out.name, district_map_page(sessions, principal, district).html)
    copy_assets(folder)
    return path


def district_file(name: str) -> str:
    """A district map's file name, e.g. ``district_北_3f8c1a20.html`` (``disaster.outputs.file_name``)."""
    return file_name("district", name, ".html")


def write_all_maps(sessions: sessionmaker[Session], principal: Principal, out_dir: Path, force: bool = False) -> MapReport:
    """Every district map, the city overview and an index page, with the assets; readable by their
    owner only unless a public view; nothing is overwritten unless ``force`` (checked first)."""
    access.require(principal, access.Action.CITY_MAP)
    with sessions() as session:
        inputs = load_map_inputs(session, principal)
    folder = OutputFolder(out_dir, private=access.loads_identity(principal), force=force)
    names = list(inputs.districts["name"])
    folder.check_free([district_file(n) for n in names] + ["city.html", "index.html"])
    report = MapReport()
    for name in names:
        start = time.perf_counter()
        report.files.append(folder.write_text(district_file(name), html(district_map(inputs, name, principal))))
        report.seconds[name] = time.perf_counter() - start
    report.files.append(folder.write_text("city.html", html(city_map(inputs, principal, link=district_file))))
    page = template_environment().get_template("maps_index.html.j2").render(
        view=access.view_label(principal) + (f"　{PRIVATE_MARK}" if folder.private else ""), districts=[(n, a, district_file(n)) for n, a in zip(inputs.districts["name"],
                                                                                              inputs.districts["area"], strict=True)],
        is_demo=inputs.is_demo, title=inputs.map_title)
    report.files.append(folder.write_text("index.html", with_meta_policy(page)))
    copy_assets(folder)
    return report
