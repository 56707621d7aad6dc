"""Demo 校区 polygons: Voronoi cells of each 校区's school (or community centre), clipped to the
real city boundary, so that together they cover the city exactly with no overlaps."""

from __future__ import annotations

import geopandas as gpd
import shapely
from pyproj import CRS

from disaster.geo import WGS84


def district_seeds(shelters: gpd.GeoDataFrame, names: list[str]) -> gpd.GeoDataFrame:
    """One seed point per 校区: its 小学校, else its 校区コミュニティセンター (GSI 施設・場所名)."""
    by_name = dict(zip(shelters["name"], shelters.geometry, strict=True))
    address = dict(zip(shelters["name"], shelters["address"], strict=True))
    rows = []
    for name in names:
        for candidate in (f"{name}小学校", f"{name}校区コミュニティセンター"):
            if candidate in by_name:
                rows.append({"name": name, "seed": candidate, "address": address[candidate],
                             "geometry": by_name[candidate]})
                break
        else:
            raise LookupError(f"no school or community centre found for 校区 {name}")
    return gpd.GeoDataFrame(rows, crs=WGS84)


def voronoi_districts(seeds: gpd.GeoDataFrame, boundary: shapely.Geometry, crs: CRS) -> gpd.GeoDataFrame:
    """Voronoi cells of ``seeds`` (computed in metres) clipped to ``boundary`` (WGS84)."""
    metric_seeds = seeds.to_crs(crs)
    metric_boundary = gpd.GeoSeries([boundary], crs=WGS84).to_crs(crs).iloc[0]
    envelope = metric_boundary.buffer(5_000).envelope
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(metric_seeds.geometry)), extend_to=envelope)
    cell_list = list(cells.geoms)
    tree = shapely.STRtree(cell_list)
    geometries = []
    for point in metric_seeds.geometry:
        (index,) = tree.query(point, predicate="within")
        geometries.append(cell_list[index])
    cells_wgs = gpd.GeoSeries(geometries, crs=crs).to_crs(WGS84)
    clipped = [shapely.make_valid(cell.intersection(boundary)) for cell in cells_wgs]
    return gpd.GeoDataFrame({"name": seeds["name"].values}, geometry=clipped, crs=WGS84)
