"""Pure geometry helpers: CRS normalisation, Japan bounds checks, WKB conversion.

No database access here; functions take and return GeoPandas/shapely objects.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from disaster.codes import ACCEPTED_GEOGRAPHIC_CRS, JAPAN_BOUNDS

WGS84 = CRS.from_epsg(4326)
# Metric CRS for lengths and areas in Kurume: JGD2011 平面直角座標系 II系.
METRIC_CRS = CRS.from_epsg(6670)


class CrsError(ValueError):
    """The file's coordinate reference system is missing or unusable."""


def to_wgs84(frame: gpd.GeoDataFrame, assume_epsg: int | None = None) -> gpd.GeoDataFrame:
    """Return ``frame`` in WGS84.

    Accepts WGS84, JGD2011, JGD2000, the Tokyo datum and any projected CRS (e.g. 平面直角座標系).
    A frame without a CRS is rejected unless ``assume_epsg`` says what it is.
    """
    crs = frame.crs
    if crs is None:
        if assume_epsg is None:
            raise CrsError(
                "座標参照系（CRS）が指定されていません。ファイルに CRS を付けるか、"
                "--crs で EPSG コード（例: 6668 = JGD2011）を指定してください。"
            )
        crs = CRS.from_epsg(assume_epsg)
        frame = frame.set_crs(crs)
    if crs.is_geographic:
        epsg = crs.to_epsg()
        if epsg not in ACCEPTED_GEOGRAPHIC_CRS:
            names = "、".join(f"{name} (EPSG:{code})" for code, name in ACCEPTED_GEOGRAPHIC_CRS.items())
            raise CrsError(f"未対応の地理座標系です（{crs.name}）。対応: {names}")
        if epsg == 4326:
            return frame
    return frame.to_crs(WGS84)


def outside_japan(geoms: gpd.GeoSeries) -> np.ndarray:
    """Boolean mask of geometries whose bounding box leaves Japan's extent (WGS84)."""
    bounds = geoms.bounds
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    return np.asarray(
        (bounds.minx < min_lon)
        | (bounds.maxx > max_lon)
        | (bounds.miny < min_lat)
        | (bounds.maxy > max_lat)
        | geoms.is_empty
        | geoms.isna()
    )


def wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, output_dimension=2)


def from_wkb(blobs: Iterable[bytes]) -> np.ndarray:
    return shapely.from_wkb(list(blobs))


def bbox_columns(geom: shapely.Geometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}

