"""Build the committed demo bundle ``data/demo_bundle/`` from ``../shared/data`` (seeded).

Run ``disaster build-demo`` (or ``python -m disaster.demodata.build``). The city's facts and the
generator's settings come from the demo spec ``data/demo/<code>.toml``. The same seed, spec and
inputs give byte-identical files; ``manifest.json`` records inputs, seed and checksums.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import select

from disaster.codes import HazardLayer
from disaster.db import make_engine, session_factory
from disaster.demodata import DEMO_LABEL
from disaster.demodata.districts import district_seeds, voronoi_districts
from disaster.demodata.hazards import flood_layers, flood_stem, inland_pockets, landslide_zones
from disaster.demodata.people import TODAY, generate_residents, generate_supporters
from disaster.demodata.sessions import COLUMNS as SESSION_COLUMNS
from disaster.demodata.sessions import generate_sessions
from disaster.demodata.spec import DemoSpec, load_spec, spec_path
from disaster.demodata.welfare import add_welfare_agreements
from disaster.errors import NotReady
from disaster.geo import WGS84
from disaster.importers.areas import read_city_boundary
from disaster.importers.roster import RESIDENT_COLUMNS, SUPPORTER_COLUMNS
from disaster.models import Shelter
from disaster.profile import load_profile
from disaster.resources import PROJECT_ROOT
from disaster.usecases.imports import import_shelters
from disaster.usecases.setup import init_store

SAFE_MARGIN_DEG = 0.001  # ~100 m kept from every rain hazard zone around a "safe" 福祉避難所


def build_demo(shared: Path, out: Path, residents: int | None = None, seed: int | None = None,
               city_code: str | None = None) -> dict[str, Any]:
    """Write the demo bundle to ``out`` and return the manifest (residents and seed default to
    the demo spec's)."""
    spec = load_spec(city_code)
    residents = spec.residents if residents is None else residents
    seed = spec.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    _, boundary = read_city_boundary(shared / spec.n03_file, spec.city_code)
    shelters = real_shelters(shared, spec)
    names = [row["district"] for row in csv.DictReader((shared / spec.district_table).open(encoding="utf-8"))]
    seeds = district_seeds(shelters, names)
    districts = voronoi_districts(seeds, boundary, spec.crs)
    table = _district_table(shared / spec.district_table)
    districts["area"] = [table[name] for name in districts["name"]]

    files: dict[str, dict[str, Any]] = {}
    boundary_frame = gpd.GeoDataFrame(
        {"N03_001": [spec.prefecture], "N03_002": [None], "N03_003": [None], "N03_004": [spec.city],
         "N03_007": [spec.city_code[:5]]}, geometry=[boundary], crs=WGS84)
    files["city_boundary.geojson"] = _write_geojson(boundary_frame, out / "city_boundary.geojson", kind="boundary")
    files["districts.geojson"] = _write_geojson(districts, out / "districts.geojson", kind="districts")
    shutil.copyfile(shared / spec.district_table, out / "district_centres.csv")
    files["district_centres.csv"] = _entry(out / "district_centres.csv", kind="district_table")
    floods = flood_layers(boundary, spec.hazards, spec.crs)
    inland = inland_pockets(districts, rng, spec.hazards, spec.crs)
    landslides = landslide_zones(boundary, districts, rng, spec.hazards, spec.city, spec.city_code[:2], spec.crs)
    rain = rain_hazards(floods, inland, landslides, spec)
    all_shelters = add_demo_shelter_attributes(shelters, districts, rain, rng, spec)
    files["shelters.geojson"] = _write_geojson(all_shelters, out / "shelters.geojson", kind="shelters")
    for stem, frame in floods.items():
        files[f"{stem}.geojson"] = _write_geojson(frame, out / f"{stem}.geojson", kind="hazards")
    files["inland_demo.geojson"] = _write_geojson(
        inland, out / "inland_demo.geojson", kind="hazards", layer=HazardLayer.INLAND_FLOOD.value)
    landslide_file = f"A33_demo_{spec.hazards.landslide_file_stem}.geojson"
    files[landslide_file] = _write_geojson(landslides, out / landslide_file, kind="hazards")
    foothills = shapely.union_all(landslides.geometry.values).buffer(0.0006)  # the zones and ~60 m around them
    people = generate_residents(districts, seeds, residents, rng, foothills, spec)
    add_welfare_agreements(people, all_shelters, rain, rng, TODAY, spec.crs)
    files["residents.csv"] = _write_csv(people, list(RESIDENT_COLUMNS.values()), out / "residents.csv", "residents")
    supporters = generate_supporters(people, rng)
    files["supporters.csv"] = _write_csv(supporters, list(SUPPORTER_COLUMNS.values()), out / "supporters.csv", "supporters")
    goal = load_profile(spec.city_code).exercise.participants
    if goal is None:
        raise NotReady(f"市の設定（{spec.city_code}）に [exercise.participants] がありません: デモの訓練記録はその基準年度に合わせます。")
    sessions = generate_sessions(names, rng, goal)
    files["exercise_sessions.csv"] = _write_csv(sessions, list(SESSION_COLUMNS), out / "exercise_sessions.csv", "exercises")
    spec_file = spec_path(spec.city_code)
    manifest = {
        "label": DEMO_LABEL,
        "city_code": spec.city_code,
        "seed": seed,
        "residents": residents,
        "spec": {f"data/demo/{spec_file.name}": _sha256(spec_file)},
        "sample_district": spec.sample_district,
        "inputs": {name: _sha256(shared / name) for name in (*spec.gsi_files, spec.n03_file, spec.district_table)},
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def real_shelters(shared: Path, spec: DemoSpec) -> gpd.GeoDataFrame:
    """The GSI shelters, imported and merged by the real importer into a scratch store."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/build.sqlite3")
        sessions = session_factory(engine)
        init_store(engine, sessions, spec.city_code, spec.city)
        import_shelters(sessions, [shared / name for name in spec.gsi_files], spec.city_code)
        with sessions() as session:
            rows = [
                {c.name: getattr(s, c.name) for c in Shelter.__table__.columns if c.name not in {"id", "city_code"}}
                for s in session.scalars(select(Shelter).order_by(Shelter.code))
            ]
        engine.dispose()
    frame = gpd.GeoDataFrame(rows, geometry=shapely.points([r["lon"] for r in rows], [r["lat"] for r in rows]), crs=WGS84)
    return frame.drop(columns=["lon", "lat"])


@dataclass(frozen=True)
class RainHazards:
    """Where a rain event makes a place unsafe to shelter in (WGS84 geometries): 0.5 m or more
    of water in L1, L2 or 内水 (A31a rank >= 2), the 家屋倒壊等氾濫想定区域, any landslide zone."""

    deep_water: shapely.Geometry
    collapse: shapely.Geometry
    landslide: shapely.Geometry

    @property
    def any(self) -> shapely.Geometry:
        return shapely.union_all([self.deep_water, self.collapse, self.landslide])


def rain_hazards(floods: dict[str, gpd.GeoDataFrame], inland: gpd.GeoDataFrame,
                 landslides: gpd.GeoDataFrame, spec: DemoSpec) -> RainHazards:
    l1, l2 = floods[flood_stem(10, spec.hazards)], floods[flood_stem(20, spec.hazards)]
    deep = [*l1.geometry[l1["A31a_105"] >= 2], *l2.geometry[l2["A31a_205"] >= 2], *inland.geometry[inland["A31a_205"] >= 2]]
    collapse = [*floods[flood_stem(41, spec.hazards)].geometry, *floods[flood_stem(42, spec.hazards)].geometry]
    return RainHazards(shapely.union_all(deep), shapely.union_all(collapse), shapely.union_all(list(landslides.geometry)))


def add_demo_shelter_attributes(shelters: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, rain: RainHazards,
                                rng: np.random.Generator, spec: DemoSpec) -> gpd.GeoDataFrame:
    """Demo capacity/accessibility for the real shelters, plus the spec's fictional 福祉避難所,
    placed as it says: "safe" from every rain hazard (with a margin), or deliberately not
    ("deep_water", "landslide") so that the tools must skip them in heavy rain."""
    frame = shelters.copy()
    school = frame["name"].str.contains("小学校|中学校|高校|高等学校")
    centre = frame["name"].str.contains("コミュニティセンター|会館|公民館")
    n = len(frame)
    frame["capacity"] = np.where(school, rng.integers(250, 600, n), np.where(centre, rng.integers(40, 150, n), rng.integers(60, 300, n)))
    frame["barrier_free"] = rng.random(n) < np.where(centre, 0.75, 0.55)
    frame["elevator"] = school & (rng.random(n) < 0.35)
    frame["backup_power"] = rng.random(n) < 0.25
    frame["usable_floors"] = np.where(school, 3, np.where(centre, 2, 1))
    frame["source"] = spec.gsi_source + "; 収容人数・バリアフリー等は" + DEMO_LABEL
    frame["is_demo"] = False
    metric_districts = districts.set_index("name")
    unsafe = rain.any
    welfare = []
    for number, place in enumerate(spec.welfare_shelters, start=1):
        name, district, placement = place.name, place.district, place.placement
        inner = metric_districts.geometry[district].buffer(-0.002)
        area = {
            "safe": inner.difference(unsafe.buffer(SAFE_MARGIN_DEG)),
            "deep_water": inner.intersection(rain.deep_water).buffer(-0.0005),
            "landslide": inner.intersection(rain.landslide).buffer(-0.0002),
        }[placement]
        if area.is_empty:
            raise ValueError(f"{name}: no {placement} place in {district}")
        point = _point_in(area, rng)
        welfare.append({
            "code": f"DEMO-W{number:02d}", "name": name, "address": f"{spec.address_prefix}{district}（デモ住所）",
            "is_welfare_shelter": True, "is_designated_shelter": False, "is_emergency_site": False,
            "hazard_flood": False, "hazard_landslide": placement != "landslide", "hazard_storm_surge": False,
            "hazard_earthquake": True, "hazard_tsunami": False, "hazard_fire": False,
            "hazard_inland_flood": False, "hazard_volcano": False,
            "capacity": place.capacity, "accepted_groups": place.accepted, "barrier_free": True,
            "elevator": bool(rng.random() < 0.5), "backup_power": place.backup_power, "usable_floors": 2,
            "accepts_direct": place.direct, "source": DEMO_LABEL, "is_demo": True, "geometry": point,
        })
    combined = gpd.GeoDataFrame(
        [*frame.to_dict("records"), *welfare], geometry="geometry", crs=WGS84
    )
    for column in ("gsi_shelter_id", "gsi_emergency_id", "accepted_groups", "remarks", "address"):
        combined[column] = combined[column].where(combined[column].notna(), None)
    combined["accepts_direct"] = [None] * len(frame) + [w["accepts_direct"] for w in welfare]
    return combined


def _point_in(area: shapely.Geometry, rng: np.random.Generator) -> shapely.Point:
    minx, miny, maxx, maxy = area.bounds
    while True:
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if area.contains(point):
            return point


def _district_table(path: Path) -> dict[str, str]:
    return {row["district"]: row["area"] for row in csv.DictReader(path.open(encoding="utf-8"))}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry(path: Path, **extra: Any) -> dict[str, Any]:
    return {"sha256": _sha256(path), **extra}


def _write_geojson(frame: gpd.GeoDataFrame, path: Path, **extra: Any) -> dict[str, Any]:
    """Deterministic GeoJSON: 6-decimal coordinates (~0.1 m), sorted keys per feature."""
    data = json.loads(frame.to_json(drop_id=True, to_wgs84=True))
    text = json.dumps(_round(data), ensure_ascii=False, separators=(",", ":"))
    path.write_text(text.replace('{"type":"Feature"', '\n{"type":"Feature"') + "\n", encoding="utf-8")
    return _entry(path, features=len(frame), **extra)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _write_csv(rows: list[dict[str, Any]], header: list[str], path: Path, kind: str) -> dict[str, Any]:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return _entry(path, rows=len(rows), kind=kind)


if __name__ == "__main__":
    import sys

    from disaster.resources import DEMO_DATA_DIR

    count = int(sys.argv[1]) if len(sys.argv) > 1 else None
    result = build_demo(PROJECT_ROOT.parent / "shared" / "data", DEMO_DATA_DIR, count)
    print(json.dumps({k: v for k, v in result.items() if k != "files"}, ensure_ascii=False))
