"""図上訓練 use-cases: scenario packs, session records (and import), the city's report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from disaster import access, auditlog, errors, exports, repo, suppression
from disaster.access import Principal
from disaster.analysis.eligibility import destination_safety
from disaster.analysis.exposure import HazardIndex
from disaster.codes import HAZARD_LABELS, Hazard, HazardLayer
from disaster.exercises import pseudonyms
from disaster.exercises.dilemmas import DILEMMAS
from disaster.exercises.materials import RATING_SCALE, RATINGS, ROLES, materials_list, person_stickers, role_cards
from disaster.exercises.scenario import (
    RAIN_HAZARDS,
    CitySetting,
    DistrictFacts,
    ExerciseHazard,
    GaugeInfo,
    Person,
    Place,
    Scenario,
    generate,
    hazard_title,
)
from disaster.exercises.tracking import (
    SessionRow,
    bar_chart_svg,
    by_year,
    fiscal_label,
    fiscal_year,
    progress_to_target,
)
from disaster.importers.problems import ImportRejected, Problem
from disaster.importers.tabular import cell_text, read_table
from disaster.models import (
    Assessment,
    District,
    ExerciseFinding,
    ExerciseParticipants,
    ExerciseSession,
    HazardZone,
    Resident,
    Shelter,
)
from disaster.outputs import OutputFolder
from disaster.profile import load_profile
from disaster.wareki import DateFormatError, parse_date

NO_STAIRS = ("車いす", "寝たきり")
SAME_PLACE_M = 60.0  # shelters this close are entries of the same facility
NEAR_M = 1000.0  # 指定避難所 this close outside the district may be recommended too
OUTSIDE_SAFE = 2  # safe shelters of neighbouring 校区 a scenario may send people to
WELFARE_SEARCH_M = 8000.0  # 福祉避難所 and shelters drawn on the DIG map are looked for this far out
HAZARD_NAMES = {"洪水": ExerciseHazard.FLOOD, "内水": ExerciseHazard.INLAND, "土砂災害": ExerciseHazard.LANDSLIDE,
                "地震": ExerciseHazard.EARTHQUAKE, **{h.value: h for h in ExerciseHazard}}


def _zones(session: Session, city_code: str, bounds: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    query = repo.city_zones(city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_kind,
                            HazardZone.landslide_class, HazardZone.river_name, HazardZone.geom)
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        query = query.where(HazardZone.max_lon >= minx, HazardZone.min_lon <= maxx,
                            HazardZone.max_lat >= miny, HazardZone.min_lat <= maxy)
    rows = session.execute(query).all()
    return gpd.GeoDataFrame(
        {"layer": [r.layer for r in rows], "rank": [r.rank for r in rows], "landslide_kind": [r.landslide_kind for r in rows],
         "landslide_class": [r.landslide_class for r in rows], "river_name": [r.river_name for r in rows]},
        geometry=shapely.from_wkb([r.geom for r in rows]) if rows else [], crs=4326)


def _at_risk(a: Assessment, hazard: ExerciseHazard) -> bool:
    if hazard == ExerciseHazard.FLOOD:
        return bool(a.flood_l2_rank or a.collapse_flow or a.collapse_erosion)
    if hazard == ExerciseHazard.INLAND:
        return bool(a.inland_rank)
    if hazard == ExerciseHazard.LANDSLIDE:
        return bool(a.landslide_class)
    return True


def city_setting(city_code: str, district: str) -> CitySetting:
    """The city facts a scenario names, from the city profile (the district's own gauge)."""
    profile = load_profile(city_code)
    g = profile.exercise.gauge_for(district)
    gauge = None if g is None else GaugeInfo(g.name, g.river, g.location, g.office, g.standby_m, g.caution_m,
                                             g.evacuation_m, g.danger_m, g.verified, g.source)
    return CitySetting(profile.name, gauge, profile.exercise.earthquake_source, profile.exercise.earthquake_intensity,
                       profile.exercise.landslide_area, profile.exercise.sluice)


@dataclass(frozen=True)
class ShelterSafety:
    shelter: Shelter
    safe: bool  # usable in this exercise's disaster (see _shelter_safety)
    reason: str
    floor: int | None


DESIGNATION = {ExerciseHazard.FLOOD: Hazard.FLOOD, ExerciseHazard.INLAND: Hazard.INLAND_FLOOD,
               ExerciseHazard.LANDSLIDE: Hazard.LANDSLIDE, ExerciseHazard.EARTHQUAKE: Hazard.EARTHQUAKE}


def _designated_for(shelter: Shelter, hazard: ExerciseHazard) -> bool:
    """A 指定避難所 or 福祉避難所 takes people in whatever the disaster; a place that is only a
    指定緊急避難場所 is for the hazards it is designated for (an open park designated for
    earthquakes and fires is no place to send people in a flood)."""
    return bool(shelter.is_designated_shelter or shelter.is_welfare_shelter
                or getattr(shelter, f"hazard_{DESIGNATION[hazard].value}"))


def _shelter_safety(session: Session, city_code: str, area: shapely.Geometry,
                    hazard: ExerciseHazard) -> list[ShelterSafety]:
    """The city's shelters in ``area`` and whether the exercise may send people there: designated
    for the disaster and, in a rain disaster, safe at their own location against every rain
    hazard layer (as the plans decide)."""
    shelters = [s for s in session.scalars(select(Shelter).where(Shelter.city_code == city_code).order_by(Shelter.code))
                if area.contains(shapely.Point(s.lon, s.lat))]
    if not shelters:
        return []
    exposure = HazardIndex(_zones(session, city_code, area.bounds)).exposure(
        np.array([s.lon for s in shelters]), np.array([s.lat for s in shelters]))
    safety = destination_safety(exposure, pd.DataFrame({"hazard_flood": [s.hazard_flood for s in shelters],
                                                        "usable_floors": [s.usable_floors for s in shelters]}))
    rain = hazard in RAIN_HAZARDS
    out: list[ShelterSafety] = []
    metric = gpd.GeoSeries.from_xy([s.lon for s in shelters], [s.lat for s in shelters],
                                   crs=4326).to_crs(load_profile(city_code).crs)
    kept: list[tuple[float, float, bool]] = []
    for i, (shelter, x, y) in enumerate(zip(shelters, metric.x, metric.y, strict=True)):
        # one facility listed twice (小学校 / 小学校(体育館), 指定避難所 and 緊急避難場所 rows) is one place
        if any(abs(x - kx) < SAME_PLACE_M and abs(y - ky) < SAME_PLACE_M and w == shelter.is_welfare_shelter
               for kx, ky, w in kept):
            continue
        kept.append((x, y, shelter.is_welfare_shelter))
        floor = (int(safety.floor[i]) or None) if rain else None
        if not _designated_for(shelter, hazard):
            out.append(ShelterSafety(shelter, False, f"{HAZARD_LABELS[DESIGNATION[hazard]]}の指定がない避難場所", None))
        elif rain and safety.problems[i]:
            out.append(ShelterSafety(shelter, False, f"{safety.problems[i]}の中にある", None))
        else:
            out.append(ShelterSafety(shelter, True, f"{floor}階以上を使う" if floor else "", floor))
    return out


def _metric_buffer(geometry: shapely.Geometry, metres: float, city_code: str) -> shapely.Geometry:
    metric = gpd.GeoSeries([geometry], crs=4326).to_crs(load_profile(city_code).crs).buffer(metres)
    return metric.to_crs(4326).iloc[0]


FACT_FIELDS = ("id", "birth_date", "mobility", "medical_devices", "lives_alone", "building_floors", "home_floor",
               "can_use_stairs", "lon", "lat", "is_demo")  # no identity: pseudonymised people


def _fact_rows(session: Session, principal: Principal, district_name: str, closed_session: bool) -> list[Any]:
    """The 校区's residents with their assessment, highest priority first, without identity (the
    names and 名簿番号 of ``access.community_filter`` only in a ``closed_session``)."""
    named = ([access.named_column(principal, Resident.name, district_name).label("name"),
              access.named_column(principal, Resident.resident_no, district_name).label("resident_no")]
             if closed_session else [])
    return list(session.execute(select(*access.resident_columns(principal, FACT_FIELDS), *named, Assessment)
                                .join(Assessment, Assessment.resident_id == Resident.id)
                                .where(access.counted_filter(principal, district_name))
                                .order_by(Assessment.priority_score.desc(), Resident.resident_no)).all())


def _traits(r: Any, has_supporter: bool, today: dt.date) -> pseudonyms.Traits:
    return pseudonyms.Traits(pseudonyms.age_on(r.birth_date, today), r.mobility, tuple(r.medical_devices or ()),
                             r.lives_alone, r.building_floors, r.home_floor, has_supporter)


def _named(r: Any, traits: pseudonyms.Traits, grid: Any) -> Person:
    """A consenting resident of a closed session: name (名簿番号) and every word of the descriptor."""
    return Person(r.id, f"{r.name}（{r.resident_no}）", pseudonyms.full(traits).text,
                  any(d in pseudonyms.POWER_DEVICES for d in traits.devices), r.building_floors, r.home_floor,
                  False if r.mobility in NO_STAIRS else r.can_use_stairs, grid.ref(r.lon, r.lat))


def _pseudonymised(r: Any, label: str, descriptor: pseudonyms.Descriptor, grid: Any) -> Person:
    """A person under a pseudonym: the home, the stairs and a powered device only where the
    descriptor says them exactly (a card must not tell more than the sticker)."""
    stairs = (False if r.mobility in NO_STAIRS else None) if descriptor.exact("mobility") else None
    return Person(r.id, label, descriptor.text,
                  descriptor.exact("device") and any(d in pseudonyms.POWER_DEVICES for d in r.medical_devices),
                  r.building_floors if descriptor.exact("house") else None,
                  r.home_floor if descriptor.exact("flat") else None, stairs, grid.ref(r.lon, r.lat))


def _people(rows: list[Any], hazard: ExerciseHazard, grid: Any, closed_session: bool, today: dt.date,
            k: int) -> list[Person]:
    """The people at risk in ``hazard`` as the exercise shows them, in priority order: a name and
    名簿番号 only where ``closed_session`` loaded them, else Aさん, Bさん… with a descriptor at least
    ``k`` residents of the 校区 (``rows``) fit (``pseudonyms.describe``; a person no descriptor
    hides is left out)."""
    population = [_traits(r, r.Assessment.supporter_count > 0, today) for r in rows]
    people: list[Person] = []
    hidden = 0
    for r, traits in zip(rows, population, strict=True):
        if not _at_risk(r.Assessment, hazard):
            continue
        if closed_session and r.name:  # only consenting residents' names were loaded
            people.append(_named(r, traits, grid))
            continue
        descriptor = pseudonyms.describe(traits, population, k)
        if descriptor is not None:
            people.append(_pseudonymised(r, pseudonyms.pseudonym(hidden), descriptor, grid))
            hidden += 1
    return people


def district_facts(session: Session, principal: Principal, district_name: str, hazard: ExerciseHazard,
                   closed_session: bool = False, today: dt.date | None = None) -> DistrictFacts:
    """The district's people and places for a scenario. People are pseudonymised (``_people``);
    in a ``closed_session`` the residents of ``access.community_filter`` are named (their names are
    the only ones the query loads). An open pack lists nobody when 1–4 people are at risk (the
    number of stickers would give a withheld count away)."""
    from maps.dig import exercise_grid

    access.require(principal, access.Action.EXERCISE_PACK, district_name)
    if closed_session:
        access.require(principal, access.Action.CLOSED_SESSION, district_name)
    today = today or dt.date.today()
    city_code = principal.city_code
    district = session.scalars(select(District).where(District.city_code == city_code, District.name == district_name)).first()
    if district is None:
        raise errors.NotFound(f"校区「{district_name}」は登録されていません。")
    rows = _fact_rows(session, principal, district_name, closed_session)
    if not rows and session.scalar(select(Resident.id).where(Resident.district_id == district.id)) is not None:
        raise errors.NotReady("避難判定がまだありません。先に `disaster assess` を実行してください。")
    geometry = shapely.from_wkb(district.geom)
    grid = exercise_grid(geometry)
    people = _people(rows, hazard, grid, closed_session, today, load_profile(city_code).exercise.pseudonym_k)
    at_risk = sum(1 for r in rows if _at_risk(r.Assessment, hazard))
    if not closed_session and suppression.is_small(at_risk):
        people = []
    near = _metric_buffer(geometry, NEAR_M, city_code)
    places: list[Place] = []
    welfare: list[tuple[float, Place]] = []
    outside: list[tuple[float, Place]] = []
    centroid = geometry.centroid
    for item in _shelter_safety(session, city_code, _metric_buffer(geometry, WELFARE_SEARCH_M, city_code), hazard):
        s = item.shelter
        point = shapely.Point(s.lon, s.lat)
        place = Place(s.name, grid.ref(s.lon, s.lat), item.safe, item.reason, item.floor, s.is_welfare_shelter,
                      s.backup_power, geometry.contains(point))
        if s.is_welfare_shelter:
            welfare.append((point.distance(centroid), place))
        elif s.is_designated_shelter or s.is_emergency_site:
            if near.contains(point):
                places.append(place)
            elif item.safe:
                outside.append((point.distance(centroid), place))
    places.sort(key=lambda p: (not p.inside, p.name))
    # the nearest safe shelters of other 校区 (広域避難), after the district's own
    places += [p for _, p in sorted(outside, key=lambda o: o[0])[:OUTSIDE_SAFE]]
    zones = _zones(session, city_code, geometry.bounds)
    landslide: dict[str, str] = {}
    for name, layer, g in zip(zones["river_name"], zones["layer"], zones.geometry, strict=True):
        if layer == HazardLayer.LANDSLIDE.value and name and g.intersects(geometry) and name not in landslide:
            point = g.intersection(geometry).representative_point()
            landslide[name] = grid.ref(point.x, point.y) or ""
    names = sorted(landslide)
    return DistrictFacts(
        district=district.name, area=district.area, residents=len(rows), at_risk=people, at_risk_total=at_risk,
        unsupported=sum(1 for r in rows if r.Assessment.supporter_count == 0),
        shelters=places, welfare=[p for _, p in sorted(welfare, key=lambda w: w[0])][:3],
        welfare_shortage=sum(1 for r in rows if r.Assessment.welfare_unplaced), landslide_zones=names,
        setting=city_setting(city_code, district.name), zone_cells={n: landslide[n] for n in names if landslide[n]},
        district_cell=grid.ref(centroid.x, centroid.y),
        is_demo=district.is_demo or any(r.is_demo for r in rows),
    )


@dataclass
class Pack:
    scenario: Scenario
    files: list[Path] = field(default_factory=list)


BasemapProvider = Callable[[tuple[float, float, float, float], int, int], Any]
DIG_SIZES = {"A1": (841, 594), "A0": (1189, 841)}
BASEMAP_DPI = 100  # enough for a wall map read at arm's length; keeps the PDF small
MSEL_HEADER = ["番号", "想定時刻", "訓練での配布（開始から分）", "警戒レベル", "概要", "種別", "伝達手段", "発信者", "宛先", "内容",
               "期待される行動", "目的", "状況に応じて", "地図", "評価メモ"]


DIG_SHELTER_REACH_M = 6000  # shelters off the sheet within this distance are listed on it (where injects send people)
DEMO_PAGE_CSS = ('@page { @top-left { content: "デモデータ（架空の人物・区域を含みます。実際の訓練には使えません）"; '
                 'font-size: 9pt; color: #B00020; } }')
CLOSED_PAGE_CSS = '@page { @top-right { content: "取扱注意（個人情報）"; font-size: 9pt; color: #B00020; } }'
PACK_DOCUMENTS = (("exercise_guide.html.j2", "facilitator_guide.pdf"), ("exercise_cards.html.j2", "inject_cards.pdf"),
                  ("exercise_worksheet.html.j2", "worksheets.pdf"), ("exercise_dilemmas.html.j2", "dilemma_cards.pdf"),
                  ("exercise_roles.html.j2", "role_cards.pdf"), ("exercise_people.html.j2", "person_sheet.pdf"),
                  ("exercise_chronology.html.j2", "chronology.pdf"), ("exercise_materials.html.j2", "materials_list.pdf"),
                  ("exercise_feedback.html.j2", "feedback_form.pdf"))
MAP_FILE = "exercise_map.html"
PACK_FILES = ["scenario.json", "msel.csv", *(name for _, name in PACK_DOCUMENTS), "dig_map.pdf", MAP_FILE]


def new_pack(sessions: sessionmaker[Session], principal: Principal, district: str, hazard: ExerciseHazard, out_dir: Path,
             start: dt.datetime, duration_h: int = 2, difficulty: int = 2, seed: int = 1, closed_session: bool = False,
             monochrome: bool = False, dig_size: str = "A1", basemap: BasemapProvider | None = None,
             participants: int = 30, force: bool = False) -> Pack:
    """The whole 図上訓練 pack for a 校区: scenario (JSON/CSV), guide, inject cards, worksheets,
    dilemma cards, role cards, person sheet (stickers), クロノロジー sheet, materials list,
    feedback form, a large DIG base map and an interactive exercise map.

    ``basemap(bounds_wgs84, width_px, height_px)`` (e.g. ``maps.tiles.basemap``) may return an
    object with ``data_uri`` and ``attribution`` for the DIG map's background, or None.

    A closed session's pack names consenting residents: its files are readable by their owner only
    and carry 取扱注意; an open pack's may be shared. Nothing is overwritten unless ``force``."""
    from disaster.pdf.renderer import PdfRenderer
    from disaster.usecases.maps import load_map_inputs
    from maps.assets import copy_assets
    from maps.dig import DigShelter, dig_sheet, dig_svg
    from maps.interactive import exercise_map, html

    city_code = principal.city_code
    with sessions() as session:
        facts = district_facts(session, principal, district, hazard, closed_session)
        row = session.scalars(select(District).where(District.city_code == city_code, District.name == district)).one()
        geometry = shapely.from_wkb(row.geom)
        zones = _zones(session, city_code, _metric_buffer(geometry, 1500, city_code).bounds)
        dig_shelters = [DigShelter(i.shelter.name, i.shelter.lon, i.shelter.lat, i.safe, i.shelter.is_welfare_shelter)
                        for i in _shelter_safety(session, city_code, _metric_buffer(geometry, DIG_SHELTER_REACH_M, city_code),
                                                 hazard)]
        neighbours = [(name, shapely.from_wkb(geom)) for name, geom in
                      session.execute(select(District.name, District.geom).where(District.city_code == city_code))]
        map_inputs = load_map_inputs(session, Principal.public(city_code), district)  # the exercise map is public
    scenario = generate(facts, hazard, start, duration_h, difficulty, seed, closed_session)
    folder = OutputFolder(out_dir, private=closed_session, force=force)
    folder.check_free(PACK_FILES)
    pack = Pack(scenario)
    data = folder.write_text("scenario.json", json.dumps(scenario.as_dict(), ensure_ascii=False, indent=2))
    msel = folder.write_bytes("msel.csv", exports.csv_bytes(MSEL_HEADER, (
        [i.number, i.time, i.session_min, i.level or "—", i.synopsis, i.type, i.delivery, i.sender, i.to, i.message,
         i.expected_actions, i.objective, "○" if i.contingency else "", i.map_ref, i.evaluator_notes]
        for i in scenario.injects)))
    pack.files += [data, msel]
    renderer = PdfRenderer(["exercise.css"])
    demo_css = DEMO_PAGE_CSS if facts.is_demo else ""
    gauge = facts.setting.gauge
    context = {"s": scenario, "facts": facts, "hazard_title": hazard_title(hazard, facts.setting), "dilemmas": DILEMMAS,
               "levels": sorted({i.level for i in scenario.injects if i.level}), "closed": closed_session,
               "gauge": gauge if hazard == ExerciseHazard.FLOOD else None, "city": facts.setting.city,
               "roles": role_cards(scenario), "materials": materials_list(scenario, dig_size, participants),
               "stickers": person_stickers(facts.at_risk), "figures": facts.figures(closed_session),
               "ratings": RATINGS, "rating_scale": RATING_SCALE,
               "participant_roles": ROLES, "dig_size": dig_size}
    page_css = demo_css + (CLOSED_PAGE_CSS if closed_session else "")
    for template, name in PACK_DOCUMENTS:
        pdf, _ = renderer.pdf(template, context, renderer.css(page_css) if page_css else None)
        pack.files.append(folder.write_bytes(name, pdf))
    width, height = DIG_SIZES[dig_size]
    sheet_w, sheet_h = width - 20, height - 32
    uri = attribution = None
    if basemap is not None:
        sheet = dig_sheet(geometry, sheet_w, sheet_h)
        image = basemap(sheet.map_bounds_wgs84, *sheet.map_px(BASEMAP_DPI))
        if image is not None:
            uri, attribution = image.data_uri, image.attribution
    svg = dig_svg(geometry, zones, dig_shelters, sheet_w, sheet_h, monochrome, name=district, neighbours=neighbours,
                  basemap_uri=uri, attribution=attribution, closed=closed_session)
    pdf, _ = renderer.pdf("exercise_dig.html.j2", {**context, "svg": svg, "size": dig_size, "monochrome": monochrome},
                          renderer.css(f"@page {{ size: {dig_size} landscape; margin: 10mm; "
                                       "@bottom-right { content: none; } }" + page_css))
    pack.files.append(folder.write_bytes("dig_map.pdf", pdf))
    pack.files.append(folder.write_text(MAP_FILE, html(exercise_map(map_inputs, district, scenario, city_code, closed_session))))
    copy_assets(folder)
    return pack


@dataclass
class SessionInput:
    held_on: dt.date
    district: str
    hazard: ExerciseHazard
    facilitator: str | None
    participants: dict[str, int]
    ratings: tuple[int | None, int | None, int | None] = (None, None, None)
    strengths: str | None = None
    improvements: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)  # issue, action, owner, due, status, resident_no

    @property
    def record_key(self) -> str:
        return f"{self.held_on.isoformat()}|{self.district}|{self.hazard.value}|{self.facilitator or ''}"


def _store_session(session: Session, city_code: str, data: SessionInput, source: str, is_demo: bool) -> bool:
    """Insert or replace one session (natural key: date, district, hazard, facilitator); True if new."""
    district = session.scalars(select(District).where(District.city_code == city_code, District.name == data.district)).first()
    if district is None:
        raise errors.NotFound(f"校区「{data.district}」は登録されていません。")
    existing = session.scalars(select(ExerciseSession).where(ExerciseSession.district_id == district.id,
                                                            ExerciseSession.record_key == data.record_key)).first()
    record = existing or ExerciseSession(record_key=data.record_key)
    record.held_on, record.district_id, record.hazard = data.held_on, district.id, data.hazard.value
    record.facilitator, record.strengths, record.improvements = data.facilitator, data.strengths, data.improvements
    record.rating_overall, record.rating_understanding, record.rating_usefulness = data.ratings
    record.source, record.is_demo = source, is_demo
    record.participants = [ExerciseParticipants(role=role, count=count) for role, count in data.participants.items() if count]
    numbers = [f["resident_no"] for f in data.findings if f.get("resident_no")]
    ids = repo.resident_ids(session, city_code, numbers) if numbers else {}
    record.findings = [ExerciseFinding(issue=f["issue"], action=f.get("action"), owner=f.get("owner"), due=f.get("due"),
                                       status=f.get("status") or "未着手",
                                       resident_id=ids.get(f.get("resident_no") or "") or f.get("resident_id"))
                       for f in data.findings]
    if existing is None:
        session.add(record)
    session.flush()
    return existing is None


FINDING_STATUSES = ("未着手", "対応中", "完了")
MAX_TEXT = 2000  # characters of a free-text field of a session or finding
MAX_PARTICIPANTS = 100_000  # of one role at one session


@dataclass(frozen=True)
class Recorded:
    """A recorded session (``new``: not a re-recording of the same session) or finding."""

    id: int
    new: bool = True


def _allowed(sessions: sessionmaker[Session], principal: Principal, district: str, audit: auditlog.Action, origin: str,
             details: dict[str, Any], residents: list[str] | None = None) -> None:
    """``EXERCISE_RECORDS`` in ``district`` or Forbidden (the refusal audited)."""
    try:
        access.require(principal, access.Action.EXERCISE_RECORDS, district)
    except errors.Forbidden:
        _refused(sessions, principal, audit, origin, details, residents or [])
        raise


def _refused(sessions: sessionmaker[Session], principal: Principal, audit: auditlog.Action, origin: str,
             details: dict[str, Any], residents: list[str]) -> None:
    with sessions() as session, session.begin():
        auditlog.record(session, principal, audit, residents=residents, allowed=False, origin=origin,
                        target_kind="exercise_session", details=details)


def _check_input(data: SessionInput) -> None:
    unknown = [role for role in data.participants if role not in ROLES]
    if unknown:
        raise errors.Rejected(f"参加者の役割「{'」「'.join(unknown)}」はありません。役割は {'・'.join(ROLES)} のいずれかです。")
    if any(not 0 <= count <= MAX_PARTICIPANTS for count in data.participants.values()):
        raise errors.Rejected(f"参加者の人数は 0 以上 {MAX_PARTICIPANTS:,} 以下にしてください。")
    if any(r is not None and not 1 <= r <= 5 for r in data.ratings):
        raise errors.Rejected("評価は 1〜5 で記入してください。")
    for text in (data.facilitator, data.strengths, data.improvements):
        if text is not None and len(text) > MAX_TEXT:
            raise errors.Rejected(f"記入は {MAX_TEXT} 文字以内にしてください。")
    for finding in data.findings:
        _check_finding(finding)


def _check_finding(finding: dict[str, Any]) -> None:
    if not (finding.get("issue") or "").strip():
        raise errors.Rejected("課題（issue）を記入してください。")
    if (finding.get("status") or "未着手") not in FINDING_STATUSES:
        raise errors.Rejected(f"課題の状態は {'・'.join(FINDING_STATUSES)} のいずれかです。")
    if any(len(str(finding.get(key) or "")) > MAX_TEXT for key in ("issue", "action", "owner")):
        raise errors.Rejected(f"課題の記入は {MAX_TEXT} 文字以内にしてください。")


def _named_residents(sessions: sessionmaker[Session], principal: Principal, numbers: list[str], audit: auditlog.Action,
                     origin: str, details: dict[str, Any]) -> None:
    """A finding may name only residents ``principal`` may see (``access.resident_filter``): others
    are refused (audited) whether or not they exist; for the city, an unknown number is not found."""
    if not numbers:
        return
    with sessions() as session:
        visible = set(session.scalars(select(Resident.resident_no).where(Resident.resident_no.in_(numbers),
                                                                         access.resident_filter(principal))))
    missing = [n for n in numbers if n not in visible]
    if not missing:
        return
    if principal.is_city:  # the city roles see everyone: the number is unknown
        raise errors.NotFound(f"名簿番号 {'、'.join(missing)} は名簿にいません。")
    _refused(sessions, principal, audit, origin, details, missing)
    raise errors.Forbidden(f"{access.ROLE_LABELS[principal.role]}（{principal.login}）は、名簿番号 {'、'.join(missing)} "
                           "の方を課題に書けません（見られる範囲の方だけです）。")


def _picked_residents(sessions: sessionmaker[Session], principal: Principal, district: str, ids: list[Any]) -> list[int]:
    """A finding may point at a person of the 校区 chosen from the pseudonymised list
    (``pseudonymised_people``) by their internal id: a resident of ``district`` the principal may
    count (``access.counted_filter``), or Rejected. Nothing of their identity is loaded."""
    if not ids:
        return []
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise errors.Rejected("課題が関わる方は、一覧から選んでください。") from None
    with sessions() as session:
        found = set(session.scalars(select(Resident.id).where(Resident.id.in_(wanted),
                                                              access.counted_filter(principal, district))))
    if set(wanted) - found:
        raise errors.Rejected(f"課題が関わる方は、{district}校区の方の一覧から選んでください。")
    return wanted


def record_session(sessions: sessionmaker[Session], principal: Principal, data: SessionInput, source: str = "入力",
                   origin: str = "cli") -> Recorded:
    """Record one session (re-recording the same session replaces it), if ``principal`` may record
    sessions of its 校区 (``access.Action.EXERCISE_RECORDS``); findings may name only residents the
    principal sees. Audited (refusals too)."""
    details: dict[str, Any] = {"district": data.district, "held_on": data.held_on.isoformat(), "hazard": data.hazard.value}
    _allowed(sessions, principal, data.district, auditlog.Action.EXERCISE_RECORD, origin, details)
    _check_input(data)
    numbers = [f["resident_no"] for f in data.findings if f.get("resident_no")]
    _named_residents(sessions, principal, numbers, auditlog.Action.EXERCISE_RECORD, origin, details)
    picked = _picked_residents(sessions, principal, data.district,
                               [f["resident_id"] for f in data.findings if f.get("resident_id") and not f.get("resident_no")])
    if picked:
        details["pseudonymised_residents"] = picked  # internal ids: no identity is loaded for the caller
    with sessions() as session, session.begin():
        new = _store_session(session, principal.city_code, data, source, is_demo=False)
        record_id = session.scalars(select(ExerciseSession.id).join(District, ExerciseSession.district_id == District.id)
                                    .where(District.city_code == principal.city_code, District.name == data.district,
                                           ExerciseSession.record_key == data.record_key)).one()
        auditlog.record(session, principal, auditlog.Action.EXERCISE_RECORD, residents=numbers, origin=origin,
                        target_kind="exercise_session", details=details | {"session": record_id, "new": new})
    return Recorded(record_id, new)


def _session_district(sessions: sessionmaker[Session], principal: Principal, session_id: int) -> str:
    with sessions() as session:
        name = session.scalar(select(District.name).join(ExerciseSession, ExerciseSession.district_id == District.id)
                              .where(ExerciseSession.id == session_id, District.city_code == principal.city_code))
    if name is None:
        raise errors.NotFound(f"図上訓練の記録 #{session_id} はこの市町村にはありません。")
    return name


def add_finding(sessions: sessionmaker[Session], principal: Principal, session_id: int, finding: dict[str, Any],
                origin: str = "cli") -> Recorded:
    """Add a finding (課題, 対応, 担当, 期限, 状態, 名簿番号) to a recorded session; as ``record_session``."""
    district = _session_district(sessions, principal, session_id)
    details: dict[str, Any] = {"session": session_id, "district": district}
    number = finding.get("resident_no") or None
    _allowed(sessions, principal, district, auditlog.Action.EXERCISE_FINDING, origin, details)
    _check_finding(finding)
    _named_residents(sessions, principal, [number] if number else [], auditlog.Action.EXERCISE_FINDING, origin, details)
    picked = None if number else finding.get("resident_id") or None
    if picked is not None:
        details["pseudonymised_residents"] = _picked_residents(sessions, principal, district, [picked])
    with sessions() as session, session.begin():
        ids = repo.resident_ids(session, principal.city_code, [number]) if number else {}
        row = ExerciseFinding(session_id=session_id, issue=finding["issue"].strip(), action=finding.get("action"),
                              owner=finding.get("owner"), due=finding.get("due"),
                              status=finding.get("status") or "未着手", resident_id=ids.get(number or "") or picked)
        session.add(row)
        session.flush()
        auditlog.record(session, principal, auditlog.Action.EXERCISE_FINDING, residents=[number] if number else [],
                        origin=origin, target_kind="exercise_session", details=details | {"finding": row.id})
        return Recorded(row.id)


def delete_session(sessions: sessionmaker[Session], principal: Principal, session_id: int, origin: str = "cli") -> None:
    """Remove a session recorded by mistake (with its participants and findings); audited."""
    district = _session_district(sessions, principal, session_id)
    details: dict[str, Any] = {"session": session_id, "district": district, "deleted": True}
    _allowed(sessions, principal, district, auditlog.Action.EXERCISE_RECORD, origin, details)
    with sessions() as session, session.begin():
        record = session.get(ExerciseSession, session_id)
        assert record is not None
        session.delete(record)
        auditlog.record(session, principal, auditlog.Action.EXERCISE_RECORD, origin=origin,
                        target_kind="exercise_session", details=details)


@dataclass(frozen=True)
class FindingView:
    id: int
    issue: str
    action: str | None
    owner: str | None
    due: dt.date | None
    status: str
    resident_no: str | None  # only when the reader may see the resident
    names_resident: bool  # the finding is about a resident (shown or not)


@dataclass(frozen=True)
class SessionView:
    id: int
    held_on: dt.date
    district: str
    hazard: str
    facilitator: str | None
    participants: dict[str, int]
    ratings: tuple[int | None, int | None, int | None]
    strengths: str | None
    improvements: str | None
    source: str
    findings: list[FindingView]


@dataclass(frozen=True)
class SessionPage:
    items: list[SessionView]
    total: int


def _readable_districts(sessions: sessionmaker[Session], principal: Principal, district: str | None) -> list[str]:
    """The 校区 whose sessions ``principal`` may read (``EXERCISE_RECORDS``), or just ``district``."""
    with sessions() as session:
        names = [name for name in repo.district_ids(session, principal.city_code)
                 if access.can(principal, access.Action.EXERCISE_RECORDS, name)]
    if district is not None:
        access.require(principal, access.Action.EXERCISE_RECORDS, district)
        if district not in names:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        names = [district]
    elif not names:
        access.require(principal, access.Action.EXERCISE_RECORDS)
    return names


def _shown_numbers(session: Session, principal: Principal, resident_ids: set[int]) -> dict[int, str]:
    """The 名簿番号 of the residents ``principal`` may see among ``resident_ids`` (for a trainer no
    query selects one)."""
    if not resident_ids or not access.loads_identity(principal):
        return {}
    return dict(session.execute(select(Resident.id, Resident.resident_no)
                                .where(Resident.id.in_(resident_ids), access.resident_filter(principal))).all())


def _finding_view(f: ExerciseFinding, shown: dict[int, str]) -> FindingView:
    return FindingView(f.id, f.issue, f.action, f.owner, f.due, f.status, shown.get(f.resident_id or 0),
                       f.resident_id is not None)


def _session_view(r: ExerciseSession, shown: dict[int, str]) -> SessionView:
    return SessionView(r.id, r.held_on, r.district.name, r.hazard, r.facilitator, {p.role: p.count for p in r.participants},
                       (r.rating_overall, r.rating_understanding, r.rating_usefulness), r.strengths, r.improvements,
                       r.source, [_finding_view(f, shown) for f in sorted(r.findings, key=lambda f: f.id)])


def list_sessions(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                  year: int | None = None, page: int = 1, per_page: int = 50) -> SessionPage:
    """The sessions ``principal`` may read (``EXERCISE_RECORDS``: a leader's own 校区), newest
    first; a finding shows the 名簿番号 of its resident only to those who may see the resident."""
    names = _readable_districts(sessions, principal, district)
    where = [District.city_code == principal.city_code, District.name.in_(names)]
    if year is not None:
        where += [ExerciseSession.held_on >= dt.date(year, 4, 1), ExerciseSession.held_on < dt.date(year + 1, 4, 1)]
    with sessions() as session:
        query = select(ExerciseSession).join(District, ExerciseSession.district_id == District.id).where(*where)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        records = session.scalars(query.options(selectinload(ExerciseSession.participants),
                                                selectinload(ExerciseSession.findings),
                                                selectinload(ExerciseSession.district))
                                  .order_by(ExerciseSession.held_on.desc(), ExerciseSession.id.desc())
                                  .limit(per_page).offset((page - 1) * per_page)).all()
        shown = _shown_numbers(session, principal, {f.resident_id for r in records for f in r.findings
                                                    if f.resident_id is not None})
        items = [_session_view(r, shown) for r in records]
    return SessionPage(items, total)


# --- the pages of a trainer: one session, its findings on a board, edits (issue 13 §2) ---

def exercise_districts(sessions: sessionmaker[Session], principal: Principal,
                       action: access.Action = access.Action.EXERCISE_RECORDS) -> list[str]:
    """The 校区 where ``principal`` may take ``action`` (records or packs), by name."""
    with sessions() as session:
        return sorted(name for name in repo.district_ids(session, principal.city_code)
                      if access.can(principal, action, name))


def pseudonymised_people(sessions: sessionmaker[Session], principal: Principal, district: str, hazard: ExerciseHazard,
                         today: dt.date | None = None) -> list[Person]:
    """The 校区's people at risk in ``hazard`` as a pack shows them without names (Aさん（80代・
    車いす・平屋）, the DIG grid cell of their home), for pointing a finding at one of them.
    Nobody's identity is loaded, whoever asks."""
    from maps.dig import exercise_grid

    access.require(principal, access.Action.EXERCISE_RECORDS, district)
    with sessions() as session:
        geom = session.scalar(select(District.geom).where(District.city_code == principal.city_code,
                                                         District.name == district))
        if geom is None:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        rows = _fact_rows(session, principal, district, closed_session=False)
    return _people(rows, hazard, exercise_grid(shapely.from_wkb(geom)), False, today or dt.date.today(),
                   load_profile(principal.city_code).exercise.pseudonym_k)


ABOUT_FIELDS = ("id", "district_id", "birth_date", "mobility", "medical_devices", "lives_alone", "building_floors",
                "home_floor")


def _about(session: Session, principal: Principal, resident_ids: set[int], today: dt.date) -> dict[int, str]:
    """Who a finding is about, without identity, as a pack's person sheet describes them (at least
    k residents of their 校区 fit the words); left out when no descriptor hides them."""
    if not resident_ids:
        return {}
    columns = [*access.resident_columns(principal, ABOUT_FIELDS), Assessment.supporter_count]
    concerned = session.execute(select(*columns).join(Assessment, Assessment.resident_id == Resident.id)
                                .where(Resident.id.in_(resident_ids), access.counted_filter(principal))).all()
    districts = {r.district_id for r in concerned}
    everyone = session.execute(select(*columns).join(Assessment, Assessment.resident_id == Resident.id)
                               .where(Resident.district_id.in_(districts), access.counted_filter(principal))).all()
    populations: dict[int, list[pseudonyms.Traits]] = {}
    for r in everyone:
        populations.setdefault(r.district_id, []).append(_traits(r, r.supporter_count > 0, today))
    k = load_profile(principal.city_code).exercise.pseudonym_k
    out = {}
    for r in concerned:
        descriptor = pseudonyms.describe(_traits(r, r.supporter_count > 0, today), populations[r.district_id], k)
        if descriptor is not None:
            out[r.id] = descriptor.text
    return out


def finding_version(f: ExerciseFinding) -> str:
    """A short fingerprint of what a finding says now: a form sends it back, and an update made
    from an older state is refused (someone else changed the finding in between)."""
    text = json.dumps([f.issue, f.action, f.owner, f.due.isoformat() if f.due else None, f.status, f.resident_id],
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class FindingItem:
    """A finding with its session, who it is about in words (no identity), and its version."""

    view: FindingView
    version: str
    about: str | None
    session_id: int
    held_on: dt.date
    district: str
    hazard: str

    def overdue(self, today: dt.date) -> bool:
        return self.view.status != "完了" and self.view.due is not None and self.view.due < today


@dataclass(frozen=True)
class SessionDetail:
    session: SessionView
    findings: list[FindingItem]


def _items(session: Session, principal: Principal, pairs: list[tuple[ExerciseFinding, ExerciseSession]],
           today: dt.date) -> list[FindingItem]:
    concerned = {f.resident_id for f, _ in pairs if f.resident_id is not None}
    shown = _shown_numbers(session, principal, concerned)
    about = _about(session, principal, concerned, today)
    return [FindingItem(_finding_view(f, shown), finding_version(f), about.get(f.resident_id or 0), r.id, r.held_on,
                        r.district.name, r.hazard) for f, r in pairs]


def read_session(sessions: sessionmaker[Session], principal: Principal, session_id: int,
                 today: dt.date | None = None) -> SessionDetail:
    """One session ``principal`` may read (``EXERCISE_RECORDS`` in its 校区) with its findings."""
    district = _session_district(sessions, principal, session_id)
    access.require(principal, access.Action.EXERCISE_RECORDS, district)
    with sessions() as session:
        record = session.scalars(select(ExerciseSession).where(ExerciseSession.id == session_id)
                                 .options(selectinload(ExerciseSession.participants),
                                          selectinload(ExerciseSession.findings),
                                          selectinload(ExerciseSession.district))).one()
        items = _items(session, principal, [(f, record) for f in sorted(record.findings, key=lambda f: f.id)],
                       today or dt.date.today())
        view = dataclasses.replace(_session_view(record, {}), findings=[i.view for i in items])
    return SessionDetail(view, items)


def recorded_session(sessions: sessionmaker[Session], principal: Principal, data: SessionInput) -> int | None:
    """The id of the session already recorded with ``data``'s key (date, 校区, hazard, facilitator), if any."""
    access.require(principal, access.Action.EXERCISE_RECORDS, data.district)
    with sessions() as session:
        return session.scalar(select(ExerciseSession.id).join(District, ExerciseSession.district_id == District.id)
                              .where(District.city_code == principal.city_code, District.name == data.district,
                                     ExerciseSession.record_key == data.record_key))


def update_session(sessions: sessionmaker[Session], principal: Principal, session_id: int,
                   participants: dict[str, int], ratings: tuple[int | None, int | None, int | None],
                   strengths: str | None, improvements: str | None, origin: str = "cli") -> None:
    """Correct what a recorded session says (participants, ratings, comments), keeping its date,
    校区, hazard, facilitator and findings; audited."""
    district = _session_district(sessions, principal, session_id)
    details: dict[str, Any] = {"session": session_id, "district": district, "updated": True}
    _allowed(sessions, principal, district, auditlog.Action.EXERCISE_RECORD, origin, details)
    with sessions() as session, session.begin():
        record = session.get(ExerciseSession, session_id)
        assert record is not None
        _check_input(SessionInput(record.held_on, district, ExerciseHazard(record.hazard), record.facilitator,
                                  participants, ratings, strengths, improvements))
        record.participants = [ExerciseParticipants(role=role, count=count) for role, count in participants.items() if count]
        record.rating_overall, record.rating_understanding, record.rating_usefulness = ratings
        record.strengths, record.improvements = strengths, improvements
        auditlog.record(session, principal, auditlog.Action.EXERCISE_RECORD, origin=origin,
                        target_kind="exercise_session", details=details | {"participants": sum(participants.values())})


OPEN_STATUSES = ("未着手", "対応中")


@dataclass(frozen=True)
class FindingBoard:
    items: list[FindingItem]
    total: int  # of the chosen status
    counts: dict[str, int]  # per status, in the chosen 校区
    overdue: int  # open findings past their 期限


def list_findings(sessions: sessionmaker[Session], principal: Principal, district: str | None = None,
                  status: str | None = "open", today: dt.date | None = None, page: int = 1,
                  per_page: int = 50) -> FindingBoard:
    """The findings of the sessions ``principal`` may read: ``status`` "open" (未着手 and 対応中),
    one of FINDING_STATUSES, or None for all. Open work first, the earliest 期限 first (none last)."""
    today = today or dt.date.today()
    names = _readable_districts(sessions, principal, district)
    scope = [District.city_code == principal.city_code, District.name.in_(names)]
    chosen: list[Any] = []
    if status == "open":
        chosen = [ExerciseFinding.status.in_(OPEN_STATUSES)]
    elif status is not None:
        if status not in FINDING_STATUSES:
            raise errors.Rejected(f"課題の状態は {'・'.join(FINDING_STATUSES)} のいずれかです。")
        chosen = [ExerciseFinding.status == status]
    joined = (select(ExerciseFinding, ExerciseSession).join(ExerciseSession, ExerciseFinding.session_id == ExerciseSession.id)
              .join(District, ExerciseSession.district_id == District.id).where(*scope))
    with sessions() as session:
        counts = dict(session.execute(select(ExerciseFinding.status, func.count())
                                      .join(ExerciseSession, ExerciseFinding.session_id == ExerciseSession.id)
                                      .join(District, ExerciseSession.district_id == District.id).where(*scope)
                                      .group_by(ExerciseFinding.status)).all())
        overdue = session.scalar(select(func.count()).select_from(
            joined.where(ExerciseFinding.status.in_(OPEN_STATUSES), ExerciseFinding.due < today).subquery())) or 0
        query = joined.where(*chosen)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        done_last = case((ExerciseFinding.status == "完了", 1), else_=0)
        pairs = [(f, r) for f, r in session.execute(
            query.options(selectinload(ExerciseSession.district))
            .order_by(done_last, ExerciseFinding.due.is_(None), ExerciseFinding.due, ExerciseSession.held_on.desc(),
                      ExerciseFinding.id).limit(per_page).offset((page - 1) * per_page)).all()]
        items = _items(session, principal, pairs, today)
    return FindingBoard(items, total, {s: counts.get(s, 0) for s in FINDING_STATUSES}, overdue)


def read_finding(sessions: sessionmaker[Session], principal: Principal, finding_id: int,
                 today: dt.date | None = None) -> FindingItem:
    """One finding of a session ``principal`` may read."""
    with sessions() as session:
        session_id = session.scalar(select(ExerciseFinding.session_id).where(ExerciseFinding.id == finding_id))
    if session_id is None:
        raise errors.NotFound(f"課題 #{finding_id} はありません。")
    district = _session_district(sessions, principal, session_id)
    access.require(principal, access.Action.EXERCISE_RECORDS, district)
    with sessions() as session:
        f, r = session.execute(select(ExerciseFinding, ExerciseSession)
                               .join(ExerciseSession, ExerciseFinding.session_id == ExerciseSession.id)
                               .where(ExerciseFinding.id == finding_id)
                               .options(selectinload(ExerciseSession.district))).one()
        return _items(session, principal, [(f, r)], today or dt.date.today())[0]


def update_finding(sessions: sessionmaker[Session], principal: Principal, finding_id: int, changes: dict[str, Any],
                   version: str | None = None, origin: str = "cli") -> None:
    """Change a finding's 課題, 対応, 担当, 期限 or status (the keys of ``changes``). With ``version``
    (``finding_version`` when the form was shown), a finding changed since then is not
    overwritten: Conflict. Audited (refusals too); who it points at does not change here."""
    with sessions() as session:
        session_id = session.scalar(select(ExerciseFinding.session_id).where(ExerciseFinding.id == finding_id))
    if session_id is None:
        raise errors.NotFound(f"課題 #{finding_id} はありません。")
    district = _session_district(sessions, principal, session_id)
    details: dict[str, Any] = {"session": session_id, "district": district, "finding": finding_id}
    _allowed(sessions, principal, district, auditlog.Action.EXERCISE_FINDING, origin, details)
    unknown = set(changes) - {"issue", "action", "owner", "due", "status"}
    if unknown:
        raise errors.Rejected(f"課題の項目「{'」「'.join(sorted(unknown))}」は変えられません。")
    with sessions() as session, session.begin():
        row = session.scalars(select(ExerciseFinding).where(ExerciseFinding.id == finding_id).with_for_update()).one()
        if version is not None and finding_version(row) != version:
            raise errors.Conflict("この課題は、画面を開いた後にほかの人が更新しました。いまの内容を確かめてから、もう一度保存してください。")
        merged = {"issue": row.issue, "action": row.action, "owner": row.owner, "due": row.due, "status": row.status} | changes
        _check_finding(merged)
        changed = {key: (value.isoformat() if isinstance(value, dt.date) else value)
                   for key, value in changes.items() if getattr(row, key) != value}
        row.issue, row.action, row.owner = str(merged["issue"]).strip(), merged["action"], merged["owner"]
        row.due, row.status = merged["due"], merged["status"]
        auditlog.record(session, principal, auditlog.Action.EXERCISE_FINDING, origin=origin,
                        target_kind="exercise_session", details=details | {"changes": changed})


SESSION_COLUMNS = ("実施日", "校区", "災害", "進行役")


def import_sessions(sessions: sessionmaker[Session], city_code: str, path: Path, is_demo: bool = False) -> tuple[int, int]:
    """Past sessions from a spreadsheet (columns 実施日 校区 災害 進行役, one column per role,
    総合評価 理解度 役立ち度 よかった点 改善点). All-or-nothing; importing twice counts once."""
    table = read_table(path)
    missing = [c for c in SESSION_COLUMNS if c not in table.header]
    if missing:
        raise ImportRejected([Problem(path.name, None, c, "必須の列がありません。") for c in missing])
    problems: list[Problem] = []
    records: list[SessionInput] = []
    with sessions() as session:
        districts = set(repo.district_ids(session, city_code))
    for offset, raw in enumerate(table.rows):
        row_no = offset + table.first_row
        if not any(cell_text(v) for v in raw.values()):
            continue
        errors: list[Problem] = []
        try:
            held = parse_date(cell_text(raw.get("実施日")))
        except DateFormatError as exc:
            errors.append(Problem(path.name, row_no, "実施日", str(exc)))
            held = dt.date.min
        district = cell_text(raw.get("校区"))
        if district not in districts:
            errors.append(Problem(path.name, row_no, "校区", f"校区「{district}」は登録されていません。"))
        hazard = HAZARD_NAMES.get(cell_text(raw.get("災害")))
        if hazard is None:
            errors.append(Problem(path.name, row_no, "災害", f"「{cell_text(raw.get('災害'))}」は 洪水・内水・土砂災害・地震 のいずれかです。"))
        counts: dict[str, int] = {}
        for role in ROLES:
            text = cell_text(raw.get(role))
            if text and not text.isdigit():
                errors.append(Problem(path.name, row_no, role, f"「{text}」は人数（0以上の整数）ではありません。"))
            counts[role] = int(text) if text.isdigit() else 0
        ratings = []
        for column in ("総合評価", "理解度", "役立ち度"):
            text = cell_text(raw.get(column))
            if text and (not text.isdigit() or not 1 <= int(text) <= 5):
                errors.append(Problem(path.name, row_no, column, f"「{text}」は 1〜5 で記入してください。"))
            ratings.append(int(text) if text.isdigit() and 1 <= int(text) <= 5 else None)
        if errors:
            problems += errors
            continue
        assert hazard is not None
        records.append(SessionInput(held, district, hazard, cell_text(raw.get("進行役")) or None, counts,
                                    (ratings[0], ratings[1], ratings[2]), cell_text(raw.get("よかった点")) or None,
                                    cell_text(raw.get("改善点")) or None))
    if problems:
        raise ImportRejected(problems)
    created = updated = 0
    with sessions() as session, session.begin():
        for record in records:
            if _store_session(session, city_code, record, path.name, is_demo):
                created += 1
            else:
                updated += 1
    return created, updated


def report(sessions: sessionmaker[Session], city_code: str, year: int | None = None, idle_years: int = 3,
           today: dt.date | None = None) -> dict[str, Any]:
    """Participants per 年度, per 校区 and 圏域 for ``year``, progress toward the target, and
    districts without a session in the last ``idle_years`` 年度."""
    today = today or dt.date.today()
    year = year if year is not None else fiscal_year(today)
    with sessions() as session:
        records = session.scalars(select(ExerciseSession).join(District, ExerciseSession.district_id == District.id)
                                  .where(District.city_code == city_code)
                                  .options(selectinload(ExerciseSession.participants),
                                           selectinload(ExerciseSession.district))).all()
        districts = session.execute(select(District.name, District.area).where(District.city_code == city_code)
                                    .order_by(District.name)).all()
    rows = [SessionRow(r.held_on, r.district.name, r.district.area, sum(p.count for p in r.participants)) for r in records]
    totals = by_year(rows)
    this_year = [r for r in rows if fiscal_year(r.held_on) == year]
    per_district: dict[str, int] = {}
    per_area: dict[str, int] = {}
    for r in this_year:
        per_district[r.district] = per_district.get(r.district, 0) + r.participants
        per_area[r.area or "不明"] = per_area.get(r.area or "不明", 0) + r.participants
    recent = {r.district for r in rows if fiscal_year(r.held_on) > year - idle_years}
    participants = totals.get(year, 0)
    goal = load_profile(city_code).exercise.participants
    return {
        "year": year, "year_label": fiscal_label(year),
        "participants": participants, "sessions": len(this_year), "target": goal.target if goal else None,
        "target_label": fiscal_label(goal.target_year) if goal else None,
        "progress_percent": progress_to_target(participants, goal.baseline, goal.target) if goal else None,
        "by_year": [{"year": y, "label": fiscal_label(y), "participants": n} for y, n in totals.items()],
        "by_district": dict(sorted(per_district.items())), "by_area": dict(sorted(per_area.items())),
        "idle_years": idle_years,
        "districts_without_session": [name for name, _ in districts if name not in recent],
    }


def export_report(result: dict[str, Any], out_dir: Path, force: bool = False) -> list[Path]:
    """CSV, Excel and SVG charts of a report (counts only; owner-only files all the same, as
    every export; nothing overwritten unless ``force``)."""
    folder = OutputFolder(out_dir, force=force)
    label = result["year_label"]
    names = [f"図上訓練_{label}.csv", f"図上訓練_{label}.xlsx", "参加者数_年度別.svg", f"参加者数_圏域別_{label}.svg"]
    folder.check_free(names)
    rows = [["年度", y["label"], y["participants"]] for y in result["by_year"]]
    rows += [[f"校区（{label}）", k, v] for k, v in result["by_district"].items()]
    rows += [[f"圏域（{label}）", k, v] for k, v in result["by_area"].items()]
    book = exports.workbook()
    exports.sheet(book, "年度別", [["年度", "参加者数"], *([y["label"], y["participants"]] for y in result["by_year"])])
    exports.sheet(book, f"校区別（{label}）", [["校区", "参加者数"], *([k, v] for k, v in result["by_district"].items())])
    exports.sheet(book, "未実施の校区", [[f"直近{result['idle_years']}年度に実施のない校区"],
                                         *([name] for name in result["districts_without_session"])])
    return [folder.write_bytes(names[0], exports.csv_bytes(["区分", "名前", "参加者数"], rows)),
            folder.write_bytes(names[1], exports.workbook_bytes(book)),
            folder.write_text(names[2], bar_chart_svg({y["label"]: y["participants"] for y in result["by_year"]},
                                                      "図上訓練の参加者数（年度別）", result["target"])),
            folder.write_text(names[3], bar_chart_svg(result["by_area"], f"{label} 圏域別の参加者数"))]
