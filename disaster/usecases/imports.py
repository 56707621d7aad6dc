"""Import use-cases: parse and validate everything first, then write in one transaction.

All-or-nothing by default: any problem raises ``ImportRejected`` and nothing is written.
With ``skip_bad_rows`` the valid rows are written and the bad ones go to a rejects CSV.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import shapely
import shapely.affinity
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, auditlog, errors, geo, repo
from disaster.access import Principal
from disaster.codes import HazardLayer
from disaster.db import gather_statistics
from disaster.geocode import LEVEL_COORDINATES, LEVEL_TOWN, AddressIndex
from disaster.importers import address_points, areas, hazards, roster, shelters
from disaster.importers.problems import ImportRejected, Parsed, Problem, write_rejects
from disaster.models import AddressPoint, City, District, Resident, Shelter
from disaster.profile import ensure_profile, load_profile
from disaster.usecases import assess
from disaster.usecases.transactions import one_transaction

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
HAZARD_MARGIN_M = 1000.0  # hazard features this close to the city boundary are kept


@dataclass
class ImportReport:
    """What an import did; ``problems`` are the skipped rows (only with skip_bad_rows)."""

    kind: str
    files: list[str]
    created: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    rejects_file: Path | None = None
    assessment_run: int | None = None  # the assessment recomputed after the import
    notices: list[str] = field(default_factory=list)  # things the user should know (Japanese), e.g. rows ignored


def atomic(
    function: Callable[Concatenate[sessionmaker[Session], P], R],
) -> Callable[Concatenate[sessionmaker[Session], P], R]:
    """An import whose writes and the re-assessment that follows them commit together or not
    at all (one transaction; inside ``commit_import``'s it joins that one)."""

    @functools.wraps(function)
    def in_one_transaction(sessions: sessionmaker[Session], *args: P.args, **kwargs: P.kwargs) -> R:
        with one_transaction(sessions, commit=True) as joined:
            return function(joined, *args, **kwargs)

    return in_one_transaction


def _refreshed(report: ImportReport, sessions: sessionmaker[Session], city_code: str, follow_up: bool) -> ImportReport:
    """Assessments depend on every input: recompute them after a successful import (unless
    ``follow_up`` is off: a dry run, see ``check_import``)."""
    if follow_up:
        report.assessment_run = assess.refresh_if_residents(sessions, city_code)
    return report


def file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _settle(parts: list[Parsed[T]], skip_bad_rows: bool, rejects: Path | None) -> tuple[list[T], list[Problem], Path | None]:
    """All valid records; raise on any problem unless skipping bad rows (then write rejects).

    A problem not tied to a row (a missing column, say) always rejects the whole import.
    """
    records = [record for part in parts for record in part.records]
    problems = [problem for part in parts for problem in part.problems]
    if not problems:
        return records, [], None
    if not skip_bad_rows or any(p.row is None for p in problems):
        raise ImportRejected(problems)
    if rejects is not None:
        write_rejects(rejects, parts)
    return records, problems, rejects


@atomic
def import_shelters(
    sessions: sessionmaker[Session],
    paths: list[Path],
    city_code: str,
    skip_bad_rows: bool = False,
    rejects: Path | None = None,
    assume_epsg: int | None = None,
    *,
    follow_up: bool = True,
) -> ImportReport:
    """Import GSI 指定避難所/指定緊急避難場所 files (or the project format); a facility in
    several files is stored once with every kind and hazard flag it has."""
    parts = [shelters.read_shelters(path, city_code, assume_epsg) for path in paths]
    _refuse_repeated_codes(parts, [p.name for p in paths])
    records, problems, rejects_file = _settle(parts, skip_bad_rows, rejects)
    report = ImportReport("shelters", [p.name for p in paths], problems=problems, rejects_file=rejects_file)
    with sessions() as session, session.begin():
        repo.get_city(session, city_code)
        report.created, report.updated, report.notices = repo.upsert_shelters(session, city_code, records)
        repo.record_dataset(
            session, city_code, "shelters", " + ".join(report.files), file_digest(paths), len(records),
            is_demo=any(r.values.get("is_demo") for r in records),
        )
    return _refreshed(report, sessions, city_code, follow_up)


def _refuse_repeated_codes(parts: list[Parsed[shelters.ShelterRecord]], files: list[str]) -> None:
    """A 共通ID or code in two of the given files (the same file twice, say) is refused."""
    first: dict[str, str] = {}
    problems = []
    for part, file in zip(parts, files, strict=True):
        for record, row in zip(part.records, part.rows, strict=True):
            if record.code in first:
                problems.append(Problem(file, row, "共通ID" if record.gsi else "code",
                                        f"「{record.code}」は {first[record.code]} にもあります（同じファイルを2回指定していませんか）。"))
            first.setdefault(record.code, file)
    if problems:
        raise ImportRejected(problems)


@atomic
def import_boundary(
    sessions: sessionmaker[Session], path: Path, city_code: str, assume_epsg: int | None = None, *, follow_up: bool = True
) -> ImportReport:
    """Set the city boundary from a 国土数値情報 N03 file; a city registered without a name
    takes the file's (and gets a starter profile if it has none)."""
    notices: list[str] = []
    name, boundary = areas.read_city_boundary(path, city_code, assume_epsg, notices)
    report = ImportReport("boundary", [path.name], updated=1, notices=notices)
    with sessions() as session, session.begin():
        city = repo.get_city(session, city_code)
        named = not city.name and bool(name)
        if named:
            city.name = name
        repo.set_boundary(session, city, boundary, path.name)
        repo.record_dataset(session, city_code, "boundary", path.name, file_digest([path]), 1, is_demo=False)
    if named:
        created_file = ensure_profile(city_code, name) if follow_up else None  # no file from a dry run
        report.notices.append(f"市町村名を「{name}」として登録しました。"
                              + (f"市町村の設定ファイル {created_file[0]} を作りました（連絡先などを記入してください）。"
                                 if created_file and created_file[1] else ""))
    return report


@atomic
def import_districts(
    sessions: sessionmaker[Session],
    path: Path,
    city_code: str,
    table: Path | None = None,
    name_column: str | None = None,
    assume_epsg: int | None = None,
    is_demo: bool = False,
    *,
    follow_up: bool = True,
) -> ImportReport:
    """Import 校区 polygons (A27 or any polygon file), optionally with the 校区 table."""
    parsed = areas.read_districts(path, city_code, name_column, assume_epsg, load_profile(city_code).school_prefix_pattern)
    if table is not None:
        areas.attach_table(parsed, areas.read_district_table(table), table.name)
    if parsed.problems:
        raise ImportRejected(parsed.problems)
    files = [path] + ([table] if table else [])
    report = ImportReport("districts", [p.name for p in files], notices=parsed.notices)
    with sessions() as session, session.begin():
        repo.get_city(session, city_code)
        report.created, report.updated = repo.upsert_districts(session, city_code, parsed.records, path.name, is_demo)
        repo.record_dataset(session, city_code, "districts", path.name, file_digest(files), len(parsed.records), is_demo)
    return _refreshed(report, sessions, city_code, follow_up)


@atomic
def import_hazards(
    sessions: sessionmaker[Session],
    paths: list[Path],
    layer: HazardLayer | None = None,
    river_name: str | None = None,
    source: str | None = None,
    assume_epsg: int | None = None,
    is_demo: bool = False,
    *,
    city_code: str,
    follow_up: bool = True,
) -> ImportReport:
    """Import A31a/A31/A33 files for the city. Each file is a dataset of the city (label:
    ``source`` or the file name) whose zones are replaced on re-import. When the city's
    boundary is known, only features within ``HAZARD_MARGIN_M`` of it are kept (prefecture-wide
    files serve every city of the prefecture). The city's assessments are recomputed afterwards."""
    if source is not None and len(paths) > 1:
        raise errors.Rejected("--source は 1 ファイルずつ指定してください。")
    parsed_files = []
    problems: list[Problem] = []
    notices: list[str] = []
    for path in paths:
        parsed, _ = hazards.read_hazards(path, layer, river_name, assume_epsg)
        problems += parsed.problems
        notices += parsed.notices
        parsed_files.append((path, parsed))
    if problems:
        raise ImportRejected(problems)
    with sessions() as session:
        boundary = repo.get_city(session, city_code).boundary
    area = grown(shapely.from_wkb(boundary), HAZARD_MARGIN_M) if boundary is not None else None
    report = ImportReport("hazards", [p.name for p in paths], notices=notices)
    with sessions() as session, session.begin():
        for path, parsed in parsed_files:
            records = parsed.records
            if area is not None:
                inside = shapely.intersects(area, [r.geometry for r in records]) if records else []
                records = [r for r, keep in zip(records, inside, strict=True) if keep]
                if len(records) < len(parsed.records):
                    report.notices.append(f"{path.name}: 市の区域（周囲 {HAZARD_MARGIN_M / 1000:g} km を含む）の外にある "
                                          f"{len(parsed.records) - len(records)} 件の区域は取り込みませんでした。")
            dataset = repo.record_dataset(
                session, city_code, "hazards", source or path.name, file_digest([path]), len(records), is_demo
            )
            report.created += repo.replace_hazard_zones(session, dataset, records)
    return _refreshed(report, sessions, city_code, follow_up)


def grown(area: shapely.Geometry, metres: float) -> shapely.Geometry:
    """``area`` grown by about ``metres`` (buffered in a local equirectangular frame)."""
    squeeze = math.cos(math.radians(area.centroid.y))
    local = shapely.affinity.scale(area, xfact=squeeze, yfact=1.0, origin=(0, 0))
    buffered = local.buffer(metres / 111_320.0, quad_segs=4)
    result = shapely.affinity.scale(buffered, xfact=1 / squeeze, yfact=1.0, origin=(0, 0))
    shapely.prepare(result)
    return result


def address_index(session: Session, city: City) -> AddressIndex:
    """The city's 位置参照情報 points, for locating addresses without 緯度/経度."""
    points = session.execute(select(AddressPoint.level, AddressPoint.town, AddressPoint.block, AddressPoint.lon,
                                    AddressPoint.lat).where(AddressPoint.city_code == city.code)).all()
    return AddressIndex(
        city.name,
        ((p.town, p.block, p.lon, p.lat) for p in points if p.level != LEVEL_TOWN),
        ((p.town, p.lon, p.lat) for p in points if p.level == LEVEL_TOWN),
    )


def city_context(session: Session, city_code: str) -> roster.CityContext:
    """The city's boundary and 校区 polygons for validating resident locations."""
    city: City = repo.get_city(session, city_code)
    rows = session.execute(select(District.name, District.geom).where(District.city_code == city_code)).all()
    if not rows:
        raise errors.NotReady("校区が登録されていません。先に `disaster import districts` を実行してください。")
    geoms = list(geo.from_wkb(row.geom for row in rows))
    boundary = shapely.from_wkb(city.boundary) if city.boundary else shapely.union_all(geoms)
    shelters: dict[str, str] = {}
    welfare: set[str] = set()
    query = select(Shelter.code, Shelter.name, Shelter.is_welfare_shelter).where(Shelter.city_code == city_code)
    for code, name, is_welfare in session.execute(query):
        shelters.setdefault(name, code)
        shelters[code] = code
        if is_welfare:
            welfare.add(code)
    addresses = address_index(session, city)
    stored = session.execute(select(Resident.resident_no, Resident.address, Resident.lon, Resident.lat)
                             .where(Resident.city_code == city_code, Resident.location_level == LEVEL_COORDINATES)).all()
    people = session.execute(select(Resident.resident_no, Resident.name, Resident.birth_date)
                             .where(Resident.city_code == city_code)).all()
    return roster.CityContext(boundary, [row.name for row in rows], geoms, shelters, frozenset(welfare), addresses,
                              {r.resident_no: (r.address, r.lon, r.lat) for r in stored},
                              {p.resident_no: (p.name, p.birth_date) for p in people})


@atomic
def import_residents(
    sessions: sessionmaker[Session],
    path: Path,
    city_code: str,
    mapping: Path | None = None,
    sheet: str | None = None,
    skip_bad_rows: bool = False,
    rejects: Path | None = None,
    is_demo: bool = False,
    today: dt.date | None = None,
    header_row: int | None = None,
    *,
    follow_up: bool = True,
    replace: bool = False,
) -> ImportReport:
    """Import a 避難行動要支援者名簿 (upsert by 名簿番号); rows without 緯度/経度 are located
    from their address with the city's 位置参照情報. ``replace`` lets a 名簿番号 pass to a
    different person."""
    with sessions() as session:
        context = city_context(session, city_code)
    parsed = roster.read_residents(path, context, mapping, sheet, today, header_row, replace)
    records, problems, rejects_file = _settle([parsed], skip_bad_rows, rejects)
    report = ImportReport("residents", [path.name], problems=problems, rejects_file=rejects_file, notices=parsed.notices)
    with sessions() as session, session.begin():
        report.created, report.updated = repo.upsert_residents(session, city_code, records, path.name, is_demo)
        repo.record_dataset(session, city_code, "residents", path.name, file_digest([path]), len(records), is_demo)
        gather_statistics(session, ("resident",))
    return _refreshed(report, sessions, city_code, follow_up)


@atomic
def import_supporters(
    sessions: sessionmaker[Session],
    path: Path,
    city_code: str,
    mapping: Path | None = None,
    sheet: str | None = None,
    skip_bad_rows: bool = False,
    rejects: Path | None = None,
    is_demo: bool = False,
    today: dt.date | None = None,
    header_row: int | None = None,
    *,
    follow_up: bool = True,
) -> ImportReport:
    """Import 避難支援等実施者 and their links to residents (by 名簿番号); supporters without
    緯度/経度 are located from their address where the 位置参照情報 knows it."""

    def known(numbers: list[str]) -> set[str]:
        with sessions() as session:
            return set(repo.resident_ids(session, city_code, numbers))

    with sessions() as session:
        addresses = address_index(session, repo.get_city(session, city_code))
    parsed = roster.read_supporters(path, mapping, sheet, today, known, header_row, addresses)
    records, problems, rejects_file = _settle([parsed], skip_bad_rows, rejects)
    report = ImportReport("supporters", [path.name], problems=problems, rejects_file=rejects_file, notices=parsed.notices)
    with sessions() as session, session.begin():
        report.created, report.updated = repo.upsert_supporters(session, city_code, records, path.name, is_demo)
        repo.record_dataset(session, city_code, "supporters", path.name, file_digest([path]), len(records), is_demo)
        gather_statistics(session, ("supporter", "resident_supporter"))
    return _refreshed(report, sessions, city_code, follow_up)


@atomic
def import_address_points(
    sessions: sessionmaker[Session],
    paths: list[Path],
    city_code: str,
    skip_bad_rows: bool = False,
    rejects: Path | None = None,
) -> ImportReport:
    """Import MLIT 位置参照情報 (街区 and/or 大字・町丁目 level) for geocoding the city's 名簿.
    The city's points of each level in the files replace those stored before."""
    with sessions() as session:
        city: City = repo.get_city(session, city_code)
        city_name = city.name
    parts = [address_points.read_address_points(path, city_code, city_name) for path in paths]
    records, problems, rejects_file = _settle(parts, skip_bad_rows, rejects)
    report = ImportReport("address_points", [p.name for p in paths], problems=problems, rejects_file=rejects_file)
    sources = {id(r): path.name for path, part in zip(paths, parts, strict=True) for r in part.records}
    levels = sorted({r.level for r in records})
    with sessions() as session, session.begin():
        session.execute(delete(AddressPoint).where(AddressPoint.city_code == city_code, AddressPoint.level.in_(levels)))
        if records:
            session.execute(insert(AddressPoint), [
                {"city_code": city_code, "level": r.level, "town": r.town, "block": r.block, "label": r.label,
                 "lon": r.lon, "lat": r.lat, "source": sources[id(r)]} for r in records
            ])
        repo.record_dataset(session, city_code, "address_points", " + ".join(report.files), file_digest(paths), len(records),
                            is_demo=False)
    report.created = len(records)
    counts = {level: sum(r.level == level for r in records) for level in levels}
    names = {"block": "街区", "town": "大字・町丁目"}
    report.notices.append("位置参照情報: " + "、".join(f"{names[k]} {n} 地点" for k, n in counts.items()) + "（以前の同じレベルの地点は置き換えました）。")
    return report


# --- validate, then commit: the imports of the service (POST /api/v1/imports) ---

KINDS = ("boundary", "districts", "shelters", "hazards", "residents", "supporters", "address-points")
SINGLE_FILE = frozenset({"boundary", "districts", "residents", "supporters"})
KIND_OPTIONS = {  # the options each kind takes (``ImportRequest``'s fields besides kind and paths)
    "boundary": {"crs"}, "districts": {"table", "name_column", "crs"}, "shelters": {"crs"},
    "hazards": {"layer", "river", "source", "crs"}, "address-points": set(),
    "residents": {"mapping", "sheet", "header_row", "replace"}, "supporters": {"mapping", "sheet", "header_row"},
}
KIND_LABELS = {"boundary": "市の区域（N03）", "districts": "校区", "shelters": "避難所・避難場所", "hazards": "災害想定区域",
               "residents": "避難行動要支援者名簿", "supporters": "避難支援等実施者", "address-points": "位置参照情報"}


@dataclass(frozen=True)
class ImportRequest:
    """One import as the CLI offers it (``disaster import KIND FILES… [options]``), all-or-nothing."""

    kind: str
    paths: list[Path]
    table: Path | None = None  # districts: the 校区 table (圏域・相談窓口)
    mapping: Path | None = None  # residents, supporters: the column mapping (TOML)
    sheet: str | None = None  # residents, supporters: the Excel sheet
    header_row: int | None = None  # residents, supporters
    name_column: str | None = None  # districts
    layer: HazardLayer | None = None  # hazards
    river: str | None = None  # hazards
    source: str | None = None  # hazards
    crs: int | None = None  # boundary, districts, shelters, hazards
    replace: bool = False  # residents: a 名簿番号 may pass to a different person (the one who had it is removed)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise errors.Rejected(f"取り込みの種類「{self.kind}」はありません。{' / '.join(KINDS)} のいずれかです。")
        if not self.paths:
            raise errors.Rejected("取り込むファイルを指定してください。")
        if self.kind in SINGLE_FILE and len(self.paths) != 1:
            raise errors.Rejected(f"{KIND_LABELS[self.kind]}は 1 ファイルずつ取り込みます（{len(self.paths)} ファイルあります）。")
        given = {"table": self.table, "name_column": self.name_column, "mapping": self.mapping, "sheet": self.sheet,
                 "header_row": self.header_row, "layer": self.layer, "river": self.river, "source": self.source,
                 "crs": self.crs, "replace": self.replace or None}
        extra = sorted(name for name, value in given.items() if value is not None and name not in KIND_OPTIONS[self.kind])
        if extra:
            raise errors.Rejected(f"{KIND_LABELS[self.kind]}の取り込みには {'・'.join(extra)} を指定できません。")


def run_import(sessions: sessionmaker[Session], city_code: str, request: ImportRequest, follow_up: bool = True) -> ImportReport:
    """The CLI's import of ``request.kind`` (``follow_up``: then recompute the assessments)."""
    r, paths = request, request.paths
    if r.kind == "boundary":
        return import_boundary(sessions, paths[0], city_code, r.crs, follow_up=follow_up)
    if r.kind == "districts":
        return import_districts(sessions, paths[0], city_code, r.table, r.name_column, r.crs, follow_up=follow_up)
    if r.kind == "shelters":
        return import_shelters(sessions, paths, city_code, assume_epsg=r.crs, follow_up=follow_up)
    if r.kind == "hazards":
        return import_hazards(sessions, paths, r.layer, r.river, r.source, r.crs, city_code=city_code, follow_up=follow_up)
    if r.kind == "residents":
        return import_residents(sessions, paths[0], city_code, r.mapping, r.sheet, header_row=r.header_row,
                                follow_up=follow_up, replace=r.replace)
    if r.kind == "supporters":
        return import_supporters(sessions, paths[0], city_code, r.mapping, r.sheet, header_row=r.header_row,
                                 follow_up=follow_up)
    return import_address_points(sessions, paths, city_code)


def require_import(sessions: sessionmaker[Session], principal: Principal, action: auditlog.Action, origin: str,
                   details: dict[str, Any]) -> None:
    """``access.Action.IMPORT_DATA`` or Forbidden, the refused attempt audited as ``action``."""
    try:
        access.require(principal, access.Action.IMPORT_DATA)
    except errors.Forbidden:
        with sessions() as session, session.begin():
            auditlog.record(session, principal, action, allowed=False, origin=origin, target_kind="import", details=details)
        raise


def check_import(sessions: sessionmaker[Session], principal: Principal, request: ImportRequest) -> ImportReport:
    """Validate ``request`` with the CLI's rules: parse the files and write them in a transaction
    that is rolled back, so the report counts what the import would create and update. Nothing
    stays written, no assessment is run. ``ImportRejected`` (or another ``DisasterError``) when
    the import would be refused."""
    access.require(principal, access.Action.IMPORT_DATA)
    with one_transaction(sessions, commit=False) as joined:
        return run_import(joined, principal.city_code, request, follow_up=False)


def commit_import(sessions: sessionmaker[Session], principal: Principal, request: ImportRequest, origin: str = "cli",
                  details: dict[str, Any] | None = None) -> ImportReport:
    """Write ``request`` exactly as the CLI import does, the re-assessment it calls for and the
    audit entry included, in one transaction: all of it, or nothing (an error rolls everything
    back, so no import is ever stored without its assessment)."""
    facts = {"kind": request.kind, "files": [p.name for p in request.paths]} | (details or {})
    require_import(sessions, principal, auditlog.Action.IMPORT_COMMIT, origin, facts)
    with one_transaction(sessions, commit=True) as joined:
        report = run_import(joined, principal.city_code, request, follow_up=True)
        with joined() as session, session.begin():
            auditlog.record(session, principal, auditlog.Action.IMPORT_COMMIT, origin=origin, target_kind="import",
                            details=facts | {"created": report.created, "updated": report.updated,
                                             "assessment_run": report.assessment_run})
    return report
