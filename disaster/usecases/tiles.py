"""Basemap tiles use-case: pre-fill the tile cache for a 校区 so plan maps work offline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors
from disaster.geo import WGS84
from disaster.models import District
from disaster.profile import load_profile
from maps.tiles import PrefillReport, TileSource, parse_zooms

# Plan maps reach beyond the 校区 (shelters and 福祉避難所 outside it, the map's margin).
DEFAULT_MARGIN_M = 1500.0
MAX_PREFILL_TILES = 5000


@dataclass
class TileFetchResult:
    district: str
    bounds: tuple[float, float, float, float]  # WGS84, with the margin
    report: PrefillReport
    attribution: str


def district_bounds(session: Session, city_code: str, district: str, margin_m: float) -> tuple[float, float, float, float]:
    """WGS84 bounds of the 校区 plus ``margin_m`` metres on every side."""
    geom = session.scalar(select(District.geom).where(District.city_code == city_code, District.name == district))
    if geom is None:
        raise errors.NotFound(f"校区「{district}」は登録されていません。")
    crs = load_profile(city_code).crs
    metric = gpd.GeoSeries([shapely.from_wkb(geom)], crs=WGS84).to_crs(crs)
    grown = gpd.GeoSeries([shapely.box(*metric.total_bounds).buffer(margin_m, join_style="mitre")], crs=crs)
    minx, miny, maxx, maxy = grown.to_crs(WGS84).total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def fetch_district_tiles(sessions: sessionmaker[Session], city_code: str, district: str, zoom: str | None = None,
                         margin_m: float = DEFAULT_MARGIN_M, source: TileSource | None = None,
                         progress: Callable[[int, int], None] | None = None) -> TileFetchResult:
    """Fetch (or find in the cache) every tile the plan maps of ``district`` may use."""
    source = source or TileSource.from_settings()
    zooms = parse_zooms(zoom, source)
    with sessions() as session:
        bounds = district_bounds(session, city_code, district, margin_m)
    if source.offline:
        raise errors.NotReady("オフライン設定（DISASTER_TILE_OFFLINE）のため、タイルを取得できません。")
    report = source.prefill(bounds, zooms, MAX_PREFILL_TILES, progress)
    return TileFetchResult(district, bounds, report, source.attribution)
