"""Build the committed demo bundle ``data/kurume_demo/`` from ``../shared/data`` (seeded).

Run ``disaster demo build`` (or ``python -m disaster.demodata.build``). The same seed and the
same inputs give byte-identical files; ``manifest.json`` records inputs, seed and checksums.
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

from disaster.codes import KURUME_CITY_CODE, HazardLayer
from disaster.db import make_engine, session_factory
from disaster.demodata import DEMO_LABEL
from disaster.demodata.districts import district_seeds, voronoi_districts
from disaster.demodata.hazards import flood_layers, inland_pockets, landslide_zones
from disaster.demodata.people import TODAY, generate_residents, generate_supporters
from disaster.demodata.sessions import COLUMNS as SESSION_COLUMNS
from disaster.demodata.sessions import generate_sessions
from disaster.demodata.welfare import add_welfare_agreements
from disaster.geo import WGS84
from disaster.importers.areas import read_city_boundary
from disaster.importers.roster import RESIDENT_COLUMNS, SUPPORTER_COLUMNS
from disaster.models import Shelter
from disaster.usecases.imports import import_shelters
from disaster.usecases.setup import init_store

GSI_FILES = ("raw/gsi_evacuation_402036.geojson", "raw/gsi_emergency_402036.geojson")
N03_FILE = "raw/n03_fukuoka_2021_s0010.geojson"
DISTRICT_TABLE = "kurume_districts.csv"
DEFAULT_SEED = 40203
DEFAULT_RESIDENTS = 3000
GSI_SOURCE = "国土地理院 指定緊急避難場所・指定避難所データ（2025-10-27）"

# Fictional 福祉避難所: (name, 校区, 受入対象者, capacity, direct, backup power, placement).
# "safe": outside every rain hazard (landslide zones, 家屋倒壊等氾濫想定区域, 0.5 m+ water in L1, L2 or
# 内水) with a margin, so the tools can send people there. Three deliberately are not: two in
# deep water and one in a 土砂災害警戒区域, so the tools must skip them in heavy rain.
WELFARE_SHELTERS = [
    ("デモ福祉避難所 ひまわり苑", "安武", "高齢者（要介護）", 20, True, True, "deep_water"),
    ("デモ福祉避難所 けやきの里", "城島", "高齢者（要介護）", 15, False, True, "deep_water"),
    ("デモ福祉避難所 みのうホーム", "草野", "高齢者（要介護）", 30, True, False, "safe"),
    ("デモ福祉避難所 あおば園", "御井", "障害者", 15, True, True, "safe"),
    ("デモ福祉避難所 こもれび", "上津", "障害者", 12, False, False, "safe"),
    ("デモ福祉避難所 さくら荘", "高良内", "高齢者（要介護）", 25, True, True, "safe"),
    ("デモ福祉避難所 つばさ", "青峰", "医療的ケアが必要な方・高齢者（要介護）", 10, True, True, "safe"),
    ("デモ福祉避難所 たぬしまる苑", "竹野", "高齢者（要介護）", 30, True, False, "landslide"),
    ("デモ福祉避難所 やまもと荘", "山本", "高齢者（要介護）・障害者", 25, True, True, "safe"),
    ("デモ福祉避難所 ぜんどうじ園", "善導寺", "高齢者（要介護）", 20, True, True, "safe"),
    ("デモ福祉避難所 みずなわ", "水縄", "医療的ケアが必要な方", 8, True, True, "safe"),
    ("デモ福祉避難所 やまかわの家", "山川", "高齢者（要介護）", 20, True, False, "safe"),
]
SAFE_MARGIN_DEG = 0.001  # ~100 m kept from every rain hazard zone around a "safe" 福祉避難所


def build_demo(shared: Path, out: Path, residents: int = DEFAULT_RESIDENTS, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write the demo bundle to ``out`` and return the manifest."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    _, boundary = read_city_boundary(shared / N03_FILE, KURUME_CITY_CODE)
    shelters = real_shelters(shared)
    names = [row["district"] for row in csv.DictReader((shared / DISTRICT_TABLE).open(encoding="utf-8"))]
    seeds = district_seeds(shelters, names)
    districts = voronoi_districts(seeds, boundary)
    table = _district_table(shared / DISTRICT_TABLE)
    districts["area"] = [table[name] for name in districts["name"]]

    files: dict[str, dict[str, Any]] = {}
    boundary_frame = gpd.GeoDataFrame(
        {"N03_001": ["福岡県"], "N03_002": [None], "N03_003": [None], "N03_004": ["久留米市"],
         "N03_007": [KURUME_CITY_CODE[:5]]}, geometry=[boundary], crs=WGS84)
    files["city_boundary.geojson"] = _write_geojson(boundary_frame, out / "city_boundary.geojson", kind="boundary")
    files["districts.geojson"] = _write_geojson(districts, out / "districts.geojson", kind="districts")
    shutil.copyfile(shared / DISTRICT_TABLE, out / "district_centres.csv")
    files["district_centres.csv"] = _entry(out / "district_centres.csv", kind="district_table")
    floods = flood_layers(boundary)
    inland = inland_pockets(districts, rng)
    landslides = landslide_zones(boundary, districts, rng)
    rain = rain_hazards(floods, inland, landslides)
    all_shelters = add_demo_shelter_attributes(shelters, districts, rain, rng)
    files["shelters.geojson"] = _write_geojson(all_shelters, out / "shelters.geojson", kind="shelters")
    for stem, frame in floods.items():
        files[f"{stem}.geojson"] = _write_geojson(frame, out / f"{stem}.geojson", kind="hazards")
    files["inland_demo.geojson"] = _write_geojson(
        inland, out / "inland_demo.geojson", kind="hazards", layer=HazardLayer.INLAND_FLOOD.value)
    files["A33_demo_minou.geojson"] = _write_geojson(landslides, out / "A33_demo_minou.geojson", kind="hazards")
    foothills = shapely.union_all(landslides.geometry.values).buffer(0.002)  # ~200 m around the zones
    people = generate_residents(districts, seeds, residents, rng, foothills)
    add_welfare_agreements(people, all_shelters, rain, rng, TODAY)
    files["residents.csv"] = _write_csv(people, list(RESIDENT_COLUMNS.values()), out / "residents.csv", "residents")
    supporters = generate_supporters(people, rng)
    files["supporters.csv"] = _write_csv(supporters, list(SUPPORTER_COLUMNS.values()), out / "supporters.csv", "supporters")
    sessions = generate_sessions(names, rng)
    files["exercise_sessions.csv"] = _write_csv(sessions, list(SESSION_COLUMNS), out / "exercise_sessions.csv", "exercises")
    manifest = {
        "label": DEMO_LABEL,
        "city_code": KURUME_CITY_CODE,
        "seed": seed,
        "residents": residents,
        "inputs": {name: _sha256(shared / name) for name in (*GSI_FILES, N03_FILE, DISTRICT_TABLE)},
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def real_shelters(shared: Path) -> gpd.GeoDataFrame:
    """The GSI shelters, imported and merged by the real importer into a scratch store."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/build.sqlite3")
        sessions = session_factory(engine)
        init_store(engine, sessions)
        import_shelters(sessions, [shared / name for name in GSI_FILES], KURUME_CITY_CODE)
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
                 landslides: gpd.GeoDataFrame) -> RainHazards:
    l1, l2 = floods["A31a-10_demo_chikugogawa"], floods["A31a-20_demo_chikugogawa"]
    deep = [*l1.geometry[l1["A31a_105"] >= 2], *l2.geometry[l2["A31a_205"] >= 2], *inland.geometry[inland["A31a_205"] >= 2]]
    collapse = [*floods["A31a-41_demo_chikugogawa"].geometry, *floods["A31a-42_demo_chikugogawa"].geometry]
    return RainHazards(shapely.union_all(deep), shapely.union_all(collapse), shapely.union_all(list(landslides.geometry)))


def add_demo_shelter_attributes(shelters: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, rain: RainHazards,
                                rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Demo capacity/accessibility for the real shelters, plus fictional 福祉避難所 placed as
    WELFARE_SHELTERS says (safe from every rain hazard, or deliberately not)."""
    frame = shelters.copy()
    school = frame["name"].str.contains("小学校|中学校|高校|高等学校")
    centre = frame["name"].str.contains("コミュニティセンター|会館|公民館")
    n = len(frame)
    frame["capacity"] = np.where(school, rng.integers(250, 600, n), np.where(centre, rng.integers(40, 150, n), rng.integers(60, 300, n)))
    frame["barrier_free"] = rng.random(n) < np.where(centre, 0.75, 0.55)
    frame["elevator"] = school & (rng.random(n) < 0.35)
    frame["backup_power"] = rng.random(n) < 0.25
    frame["usable_floors"] = np.where(school, 3, np.where(centre, 2, 1))
    frame["source"] = GSI_SOURCE + "; 収容人数・バリアフリー等は" + DEMO_LABEL
    frame["is_demo"] = False
    metric_districts = districts.set_index("name")
    unsafe = rain.any
    welfare = []
    for number, (name, district, accepted, capacity, direct, power, placement) in enumerate(WELFARE_SHELTERS, start=1):
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
            "code": f"DEMO-W{number:02d}", "name": name, "address": f"福岡県久留米市{district}（デモ住所）",
            "is_welfare_shelter": True, "is_designated_shelter": False, "is_emergency_site": False,
            "hazard_flood": False, "hazard_landslide": placement != "landslide", "hazard_storm_surge": False,
            "hazard_earthquake": True, "hazard_tsunami": False, "hazard_fire": False,
            "hazard_inland_flood": False, "hazard_volcano": False,
            "capacity": capacity, "accepted_groups": accepted, "barrier_free": True,
            "elevator": bool(rng.random() < 0.5), "backup_power": power, "usable_floors": 2,
            "accepts_direct": direct, "source": DEMO_LABEL, "is_demo": True, "geometry": point,
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

    from disaster.settings import DEMO_DATA_DIR, PROJECT_ROOT

    result = build_demo(PROJECT_ROOT.parent / "shared" / "data", DEMO_DATA_DIR, *map(int, sys.argv[1:2]))
    print(json.dumps({k: v for k, v in result.items() if k != "files"}, ensure_ascii=False))
