"""Synthetic inputs for benchmarks: the demo city's geodata with N generated residents,
parsed by the real roster importer (setup time is not measured)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from disaster.analysis.engine import AssessmentInputs
from disaster.codes import HazardLayer
from disaster.demodata.people import TODAY, generate_residents, generate_supporters
from disaster.importers.areas import read_city_boundary
from disaster.importers.hazards import read_hazards
from disaster.importers.roster import RESIDENT_COLUMNS, CityContext, read_residents
from disaster.importers.shelters import read_shelters
from disaster.models import Shelter
from disaster.resources import DEMO_DATA_DIR

BUNDLE = DEMO_DATA_DIR


def demo_geodata() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame, CityContext]:
    districts = gpd.read_file(BUNDLE / "districts.geojson")
    _, boundary = read_city_boundary(BUNDLE / "city_boundary.geojson", "402036")
    context = CityContext(boundary, list(districts["name"]), list(districts.geometry))
    parsed = read_shelters(BUNDLE / "shelters.geojson", "402036")
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
    seeds_frame = _seeds(districts)
    rng = np.random.default_rng(seed)
    rows = generate_residents(districts, seeds_frame, n, rng)
    supporters = generate_supporters(rows, rng)
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


def _seeds(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A point per district to cluster residents around (its representative point)."""
    points = districts.geometry.representative_point()
    return gpd.GeoDataFrame({"name": districts["name"], "address": ["福岡県久留米市" + n + "町1" for n in districts["name"]]},
                            geometry=list(points), crs=4326)
