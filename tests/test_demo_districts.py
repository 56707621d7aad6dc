"""The 46 demo 校区 cover the real city boundary exactly; every resident is in one 校区."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from disaster.importers.areas import read_city_boundary
from tests.analysis_fixtures import METRIC_CRS
from tests.conftest import BUNDLE


def _districts() -> gpd.GeoDataFrame:
    return gpd.read_file(BUNDLE / "districts.geojson").to_crs(METRIC_CRS)


def test_46_districts_named_as_in_the_district_table(shared_data: Path) -> None:
    names = [row["district"] for row in csv.DictReader((shared_data / "kurume_districts.csv").open(encoding="utf-8"))]
    assert sorted(_districts()["name"]) == sorted(names) and len(names) == 46


def test_districts_cover_the_real_boundary_without_gaps_or_overlaps(shared_data: Path) -> None:
    _, boundary = read_city_boundary(shared_data / "raw/n03_fukuoka_2021_s0010.geojson", "402036")
    real = gpd.GeoSeries([boundary], crs=4326).to_crs(METRIC_CRS).iloc[0]
    districts = _districts()
    union = shapely.union_all(districts.geometry.values)
    assert abs(union.area - real.area) / real.area < 0.001
    assert union.symmetric_difference(real).area / real.area < 0.001
    overlap = sum(a.intersection(b).area for a, b in itertools.combinations(districts.geometry, 2))
    assert overlap / real.area < 0.0001


def test_every_demo_resident_falls_in_exactly_one_district_the_one_on_file() -> None:
    districts = _districts().to_crs(4326)
    residents = pd.read_csv(BUNDLE / "residents.csv", encoding="utf-8-sig", dtype=str)
    points = shapely.points(residents["経度"].astype(float), residents["緯度"].astype(float))
    hits = np.zeros(len(points), dtype=int)
    found = np.empty(len(points), dtype=object)
    for name, geom in zip(districts["name"], districts.geometry, strict=True):
        inside = shapely.contains(geom, points)
        hits += inside
        found[inside] = name
    assert (hits == 1).all()
    assert (found == residents["校区"].to_numpy()).all()
