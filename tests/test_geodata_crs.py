"""CRS handling: JGD2011/JGD2000/Tokyo datum/projected files end up in WGS84; no CRS and
coordinates outside Japan are rejected with clear messages."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from disaster.importers.geofile import GeoFileError, read_geodata

YASUTAKE = (130.476403, 33.292614)  # 安武小学校, WGS84


def _write(tmp_path: Path, epsg: int, name: str = "p.gpkg") -> Path:
    frame = gpd.GeoDataFrame({"name": ["安武小学校"]}, geometry=[shapely.Point(*YASUTAKE)], crs=4326).to_crs(epsg)
    path = tmp_path / name
    frame.to_file(path)
    return path


@pytest.mark.parametrize("epsg", [6668, 4612, 6670, 2444])
def test_modern_datums_and_plane_coordinates_come_back_to_wgs84(tmp_path: Path, epsg: int) -> None:
    frame, problems = read_geodata(_write(tmp_path, epsg))
    assert not problems
    assert frame.crs.to_epsg() == 4326
    point = frame.geometry.iloc[0]
    assert Geod(ellps="WGS84").inv(point.x, point.y, *YASUTAKE)[2] < 1.0  # metres


def test_tokyo_datum_is_shifted_by_the_datum_difference(tmp_path: Path) -> None:
    # The same numbers read as Tokyo datum lie ~450 m off in Kyushu: the shift must be applied.
    frame = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(*YASUTAKE)], crs=4301)
    path = tmp_path / "tokyo.gpkg"
    frame.to_file(path)
    result, problems = read_geodata(path)
    point = result.geometry.iloc[0]
    distance = Geod(ellps="WGS84").inv(point.x, point.y, *YASUTAKE)[2]
    assert not problems and 300 < distance < 600


def test_file_without_crs_is_rejected_unless_told(tmp_path: Path) -> None:
    path = _write(tmp_path, 6668, "nocrs.shp")
    path.with_suffix(".prj").unlink()
    with pytest.raises(GeoFileError, match="nocrs.shp.*座標参照系"):
        read_geodata(path)
    frame, problems = read_geodata(path, assume_epsg=6668)
    assert not problems and frame.crs.to_epsg() == 4326


def test_coordinates_outside_japan_are_reported_per_feature(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"name": ["ok", "swapped"]},
                             geometry=[shapely.Point(*YASUTAKE), shapely.Point(YASUTAKE[1], YASUTAKE[0])], crs=4326)
    path = tmp_path / "swapped.geojson"
    frame.to_file(path)
    _, problems = read_geodata(path)
    assert [(p.file, p.row) for p in problems] == [("swapped.geojson", 2)]
    assert "日本の範囲外" in problems[0].message


def test_unsupported_geographic_crs_is_rejected(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(*YASUTAKE)], crs=4230)  # ED50
    path = tmp_path / "ed50.gpkg"
    frame.to_file(path)
    with pytest.raises(GeoFileError, match="未対応の地理座標系"):
        read_geodata(path)
