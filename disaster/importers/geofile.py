"""Reading vector files (GeoJSON, Shapefile, GeoPackage, …) into WGS84 GeoDataFrames."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from disaster.errors import Rejected
from disaster.geo import CrsError, outside_japan, to_wgs84
from disaster.importers.problems import Problem


class GeoFileError(Rejected):
    """The file cannot be read as geodata; the message is user-facing Japanese."""


def read_geodata(path: Path, assume_epsg: int | None = None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path``, convert to WGS84 and report features outside Japan or without geometry.

    Feature numbers in problems are 1-based positions in the file.
    """
    if not path.exists():
        raise GeoFileError(f"{path}: ファイルがありません。")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise GeoFileError(f"{path.name}: 地理データとして読めません（{exc}）。") from exc
    try:
        frame = to_wgs84(frame, assume_epsg)
    except CrsError as exc:
        raise GeoFileError(f"{path.name}: {exc}") from exc
    frame = frame.reset_index(drop=True)
    problems = [
        Problem(path.name, int(i) + 1, "(feature)", "ジオメトリがないか、日本の範囲外の座標です（座標系の指定を確認してください）。")
        for i in outside_japan(frame.geometry).nonzero()[0]
    ]
    return frame, problems
