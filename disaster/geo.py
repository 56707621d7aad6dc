"""Pure geometry helpers: CRS normalisation, Japan bounds checks, WKB conversion.

No database access here; functions take and return GeoPandas/shapely objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS

from disaster import errors
from disaster.codes import ACCEPTED_GEOGRAPHIC_CRS, JAPAN_BOUNDS

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = CRS.from_epsg(4326)

# The 47 prefectures in 都道府県コード order (01 北海道 … 47 沖縄県).
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)

# JGD2011 平面直角座標系 (平成14年国土交通省告示第9号): zone number -> EPSG (I系 6669 … XIX系 6687).
_ZONE_EPSG = {zone: 6668 + zone for zone in range(1, 20)}
# The zone of each prefecture (都道府県コード -> 系), before the exceptions below.
_PREFECTURE_ZONE = {
    1: 12, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 9, 8: 9, 9: 9, 10: 9, 11: 9, 12: 9, 13: 9, 14: 9,
    15: 8, 16: 7, 17: 7, 18: 6, 19: 8, 20: 8, 21: 7, 22: 8, 23: 7, 24: 6, 25: 6, 26: 6, 27: 6, 28: 5,
    29: 6, 30: 6, 31: 5, 32: 3, 33: 5, 34: 3, 35: 3, 36: 4, 37: 4, 38: 4, 39: 4, 40: 2, 41: 2, 42: 1,
    43: 2, 44: 2, 45: 2, 46: 2, 47: 15,
}
# Municipalities (5-digit 団体コード) in another zone than their prefecture's: 北海道 by 振興局
# (XI系: 渡島・檜山・後志, 函館・小樽・伊達・北斗, 豊浦・壮瞥・洞爺湖; XIII系: 十勝・釧路・根室,
# オホーツクの東部, 北見・帯広・釧路・網走・根室), 東京都 小笠原村 (XIV系), 鹿児島県 the 奄美・吐噶喇・
# 三島 islands (I系), 沖縄県 宮古・八重山 (XVI系) and 大東 (XVII系).
_MUNICIPALITY_ZONE = {
    **dict.fromkeys(("01202", "01203", "01233", "01236", "01571", "01575", "01584"), 11),
    **dict.fromkeys((f"{n:05d}" for n in (*range(1330, 1350), *range(1360, 1380), *range(1390, 1410))), 11),
    **dict.fromkeys(("01206", "01207", "01208", "01211", "01223", "01543", "01544", "01545", "01546", "01547",
                     "01549", "01550", "01564"), 13),
    **dict.fromkeys((f"{n:05d}" for n in (*range(1630, 1650), *range(1660, 1670), *range(1690, 1695))), 13),
    "13421": 14,
    **dict.fromkeys(("46222", "46303", "46304", *(f"465{n:02d}" for n in range(23, 36))), 1),
    **dict.fromkeys(("47207", "47214", "47375", "47381", "47382"), 16),
    **dict.fromkeys(("47357", "47358"), 17),
}


def plane_rectangular_epsg(city_code: str) -> int:
    """EPSG code of the JGD2011 平面直角座標系 zone covering the municipality ``city_code``
    (団体コード, 5 or 6 digits): its prefecture's zone, or the zone of the listed exceptions."""
    key = city_code[:5]
    zone = _MUNICIPALITY_ZONE.get(key) or _PREFECTURE_ZONE.get(int(key[:2]))
    if zone is None:
        raise errors.Rejected(f"団体コード {city_code} の都道府県コード（先頭2桁）が正しくありません。")
    return _ZONE_EPSG[zone]


class CrsError(errors.Rejected):
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


def in_japan(lons: ArrayLike, lats: ArrayLike) -> np.ndarray:
    """Boolean mask of points (WGS84) that are finite and inside Japan's extent: ``nan``,
    ``inf`` and values such as 999 are outside."""
    lon, lat = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (min_lon <= lon) & (lon <= max_lon) & (min_lat <= lat) & (lat <= max_lat)


def outside_japan(geoms: gpd.GeoSeries) -> np.ndarray:
    """Boolean mask of geometries without coordinates, with a non-finite coordinate or whose
    bounding box leaves Japan's extent (WGS84)."""
    bounds = geoms.bounds
    inside = in_japan(bounds.minx, bounds.miny) & in_japan(bounds.maxx, bounds.maxy)
    return np.asarray(~inside | geoms.is_empty.to_numpy() | geoms.isna().to_numpy())


def polygonal(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, bool]:
    """The polygonal part of ``geom`` with a positive area, repaired when invalid.

    Returns (polygon or multipolygon, repaired); None when nothing polygonal with an area is
    left (a "polygon" of two points, an empty or zero-area ring, a line or point). ``repaired``
    says that ``make_valid`` changed an invalid input (e.g. a self-intersection), which the
    importers report as a notice naming the feature."""
    if geom is None or geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon"}:
        return None, False
    repaired = not geom.is_valid
    if repaired:
        geom = shapely.make_valid(geom)
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in {"Polygon", "MultiPolygon"}]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.area <= 0:
        return None, repaired
    return geom, repaired


def wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, output_dimension=2)


def from_wkb(blobs: Iterable[bytes]) -> np.ndarray:
    return shapely.from_wkb(list(blobs))


def bbox_columns(geom: shapely.Geometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}

