"""Small hand-built inputs for the analysis engine (coordinates near 久留米, WGS84)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from disaster.codes import Hazard, HazardLayer
from disaster.models import Shelter

X0, Y0 = 130.50, 33.30
METRIC_CRS = CRS.from_epsg(6670)  # JGD2011 平面直角座標系 II系, which covers (X0, Y0)
D = 0.01  # ~1 km


def box(i: int, j: int = 0, size: float = D) -> shapely.Polygon:
    """The ``size`` square at grid cell (i, j)."""
    return shapely.box(X0 + i * D, Y0 + j * D, X0 + i * D + size, Y0 + j * D + size)


def centre(i: int, j: int = 0) -> tuple[float, float]:
    return X0 + (i + 0.5) * D, Y0 + (j + 0.5) * D


def zones(*items: tuple[HazardLayer, shapely.Geometry, dict[str, Any]]) -> gpd.GeoDataFrame:
    rows = [{"layer": layer.value, "rank": None, "landslide_kind": None, "landslide_class": None, **extra}
            for layer, _, extra in items]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["layer", "rank", "landslide_kind", "landslide_class"]),
                            geometry=[g for _, g, _ in items], crs=4326)


def resident(rid: int, at: tuple[float, float], **fields: Any) -> dict[str, Any]:
    base = {
        "id": rid, "lon": at[0], "lat": at[1], "district": "安武", "care_level": None, "disability_types": [],
        "disability_grade": None, "medical_devices": [], "mobility": "自立", "communication_needs": [],
        "lives_alone": False, "building_floors": 2, "bedroom_floor": 1, "can_use_stairs": True,
        "consent_share": True, "preferred_shelter_code": None, "preferred_destination": None,
    }
    return base | fields


def shelter(sid: int, at: tuple[float, float], **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {c.name: None for c in Shelter.__table__.columns}
    base |= {
        "id": sid, "code": f"S{sid}", "name": f"避難所{sid}", "lon": at[0], "lat": at[1],
        "is_emergency_site": False, "is_designated_shelter": True, "is_welfare_shelter": False,
        "barrier_free": True, "backup_power": False, "capacity": 100,
        **{f"hazard_{h.value}": False for h in Hazard},
    }
    return base | fields


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def no_supporters() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame(columns=["id", "lon", "lat", "relation", "consent"]),
            pd.DataFrame(columns=["resident_id", "supporter_id"]))
