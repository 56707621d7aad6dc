"""Synthetic inputs for benchmarks: the demo city's geodata with N generated residents, either
parsed by the real roster importer (``synthetic_inputs``, for the engine alone) or written as a
demo bundle for the command line (``write_bundle``, for ``disaster demo --bundle``). The city is the
demo bundle's (its manifest); addresses start with the prefecture and name of its profile."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from disaster.analysis.engine import AssessmentInputs
from disaster.codes import HazardLayer
from disaster.demodata.people import TODAY, generate_residents, generate_supporters
from disaster.demodata.spec import demo_city_code
from disaster.importers.areas import read_city_boundary
from disaster.importers.hazards import read_hazards
from disaster.importers.roster import RESIDENT_COLUMNS, SUPPORTER_COLUMNS, CityContext, read_residents
from disaster.importers.shelters import read_shelters
from disaster.models import Shelter
from disaster.profile import load_profile
from disaster.resources import DEMO_DATA_DIR

BUNDLE = DEMO_DATA_DIR


def demo_geodata() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame, CityContext]:
    districts = gpd.read_file(BUNDLE / "districts.geojson")
    _, boundary = read_city_boundary(BUNDLE / "city_boundary.geojson", demo_city_code())
    context = CityContext(boundary, list(districts["name"]), list(districts.geometry))
    parsed = read_shelters(BUNDLE / "shelters.geojson", demo_city_code())
    columns = [c.name for c in Shelter.__table__.columns]
    shelters = pd.DataFrame([{c: None for c in columns} | r.values | {"code": r.code} for r in parsed.records])
    shelters["id"] = np.arange(1, len(shelters) + 1)
    zones = []
    for path in sorted(BUNDLE.glob("*.geojson")):
        if path.name.startswith(("A31a", "A33", "inland")):
            layer = HazardLayer.INLAND_FLOOD if path.name.startswith("inland") else None
            hazard, _ = read_hazards(path, layer)
            zones += [{"layer": z.layer.value, "rank": z.rank, "landslide_kind": z.landslide_kind,
                       "landslide_class": z.landslide_class, "geometry": z.geometry} for z in hazard.records]
    return districts, shelters, gpd.GeoDataFrame(zones, crs=4326), context


def synthetic_inputs(n: int, seed: int = 7) -> AssessmentInputs:
    districts, shelters, zones, context = demo_geodata()
    rows, supporters = synthetic_people(districts, n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "residents.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(RESIDENT_COLUMNS.values()))
            writer.writeheader()
            writer.writerows(rows)
        parsed = read_residents(path, context, today=TODAY)
    residents = pd.DataFrame([r.values for r in parsed.records])
    residents["id"] = np.arange(1, len(residents) + 1)
    residents["preferred_shelter_code"] = None
    residents["preferred_destination"] = None
    number_to_id = dict(zip(residents["resident_no"], residents["id"], strict=True))
    support = pd.DataFrame({
        "id": np.arange(1, len(supporters) + 1),
        "lon": [float(s["経度"]) for s in supporters],
        "lat": [float(s["緯度"]) for s in supporters],
        "relation": [s["関係"] for s in supporters],
        "consent": [s["同意"] == "はい" for s in supporters],
    })
    links = pd.DataFrame(
        [(number_to_id[no], sid) for sid, s in zip(support["id"], supporters, strict=True)
         for no in dict.fromkeys(s["支援対象者番号"].split("、"))],
        columns=["resident_id", "supporter_id"],
    )
    return AssessmentInputs(residents, shelters, zones, support, links)


def synthetic_people(districts: gpd.GeoDataFrame, n: int, seed: int) -> tuple[list[dict], list[dict]]:
    """``n`` fictional 名簿 rows in the demo city's 校区 and their supporters (the demo generator's)."""
    rng = np.random.default_rng(seed)
    rows = generate_residents(districts, _seeds(districts), n, rng)
    return rows, generate_supporters(rows, rng)


def write_bundle(out: Path, n: int, seed: int = 7) -> Path:
    """A copy of the demo bundle in ``out`` whose 名簿 and 避難支援等実施者 are ``n`` synthetic residents
    and their supporters; load it with ``disaster demo --bundle out``."""
    shutil.copytree(BUNDLE, out)
    rows, supporters = synthetic_people(gpd.read_file(out / "districts.geojson"), n, seed)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, records, header in (("residents.csv", rows, RESIDENT_COLUMNS), ("supporters.csv", supporters, SUPPORTER_COLUMNS)):
        write_table(out / name, list(header.values()), records)
        manifest["files"][name]["rows"] = len(records)
        manifest["files"][name]["sha256"] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    manifest["residents"] = len(rows)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def write_table(path: Path, header: list[str], rows: list[dict]) -> Path:
    """A 名簿-style CSV (UTF-8 with BOM, as the demo bundle's)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _seeds(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A point per district to cluster residents around (its representative point)."""
    profile = load_profile(demo_city_code())
    points = districts.geometry.representative_point()
    return gpd.GeoDataFrame({"name": districts["name"],
                             "address": [f"{profile.prefecture}{profile.name}{n}町1" for n in districts["name"]]},
                            geometry=list(points), crs=4326)


def write_city_files(directory: Path, code: str, name: str, prefecture: str, area: shapely.Geometry,
                     residents: int, seed: int) -> dict[str, Path]:
    """The input files of a fictional city on real ground ``area`` (its N03 polygon): two 校区 (the
    northern and southern half), a 指定避難所/指定緊急避難場所 pair in GSI format with a
    福祉避難所 in each 校区, and a 名簿 of ``residents`` people at random homes inside the city."""
    directory.mkdir(parents=True, exist_ok=True)
    minx, miny, maxx, maxy = area.bounds
    middle = area.centroid.y
    halves = {"北部": area.intersection(shapely.box(minx, middle, maxx, maxy)),
              "南部": area.intersection(shapely.box(minx, miny, maxx, middle))}
    halves = {part: geometry for part, geometry in halves.items() if not geometry.is_empty}
    districts = _feature_collection([({"校区名": part}, geometry) for part, geometry in halves.items()])
    shelters: list[tuple[dict, shapely.Geometry]] = []
    sites: list[tuple[dict, shapely.Geometry]] = []
    for serial, (part, geometry) in enumerate(halves.items(), start=1):
        point = geometry.representative_point()
        for offset, (kind, accepted) in enumerate((("111", None), ("121", "要介護高齢者、障害者等の要配慮者"))):
            number = f"{serial}{offset}".zfill(5)
            common = {"共通ID": f"E{code[:5]}{number}{kind}", "都道府県名及び市町村名": f"{prefecture}{name}",
                      "施設・場所名": f"デモ{part}{'福祉センター' if accepted else '小学校'}", "住所": f"{prefecture}{name}{part}1",
                      "備考": "デモ（架空の施設）"}
            shelters.append(({"NO": len(shelters) + 1, **common, "指定緊急避難場所との住所同一": "" if accepted else "1",
                              "その他市町村長が必要と認める事項": None, "受入対象者": accepted}, point))
            if not accepted:
                sites.append(({"NO": len(sites) + 1, **common, "共通ID": f"E{code[:5]}{number}201", "地震": "1",
                               "指定避難所との住所同一": "1"}, point))
    rng = np.random.default_rng(seed)
    homes = _points_in(area, residents, rng)
    mobility = rng.choice(["自立", "杖・歩行器", "車いす", "寝たきり"], residents, p=[0.5, 0.3, 0.15, 0.05])
    floors = rng.choice([1, 2, 3], residents, p=[0.5, 0.4, 0.1])
    roster = [{"名簿番号": f"C{i + 1:06d}", "氏名": f"デモ 太郎{i + 1}", "生年月日": f"S.{10 + i % 30}.{1 + i % 12}.{1 + i % 28}",
               "性別": "男女"[i % 2], "住所": f"{prefecture}{name}{i % 50 + 1}-{i % 7 + 1}", "緯度": f"{lat:.6f}",
               "経度": f"{lon:.6f}", "移動": mobility[i], "建物階数": str(floors[i]), "寝室の階": "1",
               "階段昇降": "いいえ" if mobility[i] in ("車いす", "寝たきり") else "はい",
               "計画作成同意": "はい" if i % 2 else "いいえ"}
              for i, (lon, lat) in enumerate(homes)]
    files = {"districts": directory / "districts.geojson", "shelters": directory / f"gsi_evacuation_{code}.geojson",
             "sites": directory / f"gsi_emergency_{code}.geojson", "residents": directory / "meibo.csv"}
    files["districts"].write_text(districts, encoding="utf-8")
    files["shelters"].write_text(_feature_collection(shelters), encoding="utf-8")
    files["sites"].write_text(_feature_collection(sites), encoding="utf-8")
    write_table(files["residents"], list(roster[0]), roster)
    return files


def _points_in(area: shapely.Geometry, count: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """``count`` random points at least ~10 m inside ``area``: the files give 6 decimals, which
    would put a point drawn on the very edge outside the city (and its import refused)."""
    inner = area.buffer(-0.0001)
    area = inner if not inner.is_empty else area
    minx, miny, maxx, maxy = area.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        xs, ys = rng.uniform(minx, maxx, 4 * count), rng.uniform(miny, maxy, 4 * count)
        inside = shapely.contains_xy(area, xs, ys)
        points += list(zip(xs[inside].tolist(), ys[inside].tolist(), strict=True))
    return points[:count]


def _feature_collection(features: list[tuple[dict, shapely.Geometry]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(geometry)}
        for properties, geometry in features]}, ensure_ascii=False)
