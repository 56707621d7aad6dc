"""Reading vector files (GeoJSON, Shapefile, GeoPackage, …) into WGS84 GeoDataFrames."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from disaster.errors import Rejected
from disaster.geo import CrsError, outside_japan, to_wgs84
from disaster.importers.problems import Problem
from disaster.settings import get_settings


class GeoFileError(Rejected):
    """The file cannot be read as geodata; the message is user-facing Japanese."""


def read_geodata(path: Path, assume_epsg: int | None = None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path``, convert to WGS84 and report features outside Japan or without geometry.

    Feature numbers in problems are 1-based positions in the file. A file larger than
    ``Settings.import_max_geo_bytes`` or with more features than ``import_max_features`` is
    refused before it is read; so is a file without features.
    """
    if not path.exists():
        raise GeoFileError(f"{path}: ファイルがありません。")
    limits = get_settings()
    size = path.stat().st_size
    if size > limits.import_max_geo_bytes:
        raise GeoFileError(f"{path.name}: ファイルの大きさ（{size / 2**20:,.0f} MB）が上限（{limits.import_max_geo_bytes / 2**20:,.0f} MB）"
                           "を超えています（上限は DISASTER_IMPORT_MAX_GEO_BYTES で変えられます）。")
    try:
        count = pyogrio.read_info(path)["features"]
        if count > limits.import_max_features:
            raise GeoFileError(f"{path.name}: 地物の数（{count:,}）が上限（{limits.import_max_features:,}）を超えています"
                               "（上限は DISASTER_IMPORT_MAX_FEATURES で変えられます）。")
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise GeoFileError(f"{path.name}: 地理データとして読めません（{exc}）。") from exc
    try:
        frame = to_wgs84(frame, assume_epsg)
    except CrsError as exc:
        raise GeoFileError(f"{path.name}: {exc}") from exc
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise GeoFileError(f"{path.name}: 地物がありません。")
    problems = [
        Problem(path.name, int(i) + 1, "(feature)", "ジオメトリがないか、日本の範囲外の座標です（座標系の指定を確認してください）。")
        for i in outside_japan(frame.geometry).nonzero()[0]
    ]
    return frame, problems
