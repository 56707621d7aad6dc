"""Hand-built frames for the audit checks and the safety properties (WGS84 near 130.5E 33.3N)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from disaster.audit import AuditInputs
from disaster.codes import Hazard, HazardLayer
from disaster.models import Resident, Shelter

X0, Y0 = 130.50, 33.30
D = 0.01  # one grid cell, about 0.93 km east-west and 1.1 km north-south


def cell(i: int, j: int = 0, w: int = 1, h: int = 1) -> shapely.Polygon:
    """The rectangle of w x h cells whose lower-left cell is (i, j)."""
    return shapely.box(X0 + i * D, Y0 + j * D, X0 + (i + w) * D, Y0 + (j + h) * D)


def at(i: float, j: float = 0) -> tuple[float, float]:
    """The centre of cell (i, j) (fractions allowed)."""
    return X0 + (i + 0.5) * D, Y0 + (j + 0.5) * D


def zone(layer: HazardLayer, geometry: shapely.Geometry, rank: int | None = None,
         landslide_class: int | None = None, landslide_kind: int | None = None) -> dict[str, Any]:
    return {"layer": layer.value, "rank": rank, "landslide_kind": landslide_kind, "landslide_class": landslide_class,
            "geometry": geometry}


def zones(*items: dict[str, Any]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([{k: v for k, v in item.items() if k != "geometry"} for item in items],
                         columns=["layer", "rank", "landslide_kind", "landslide_class"])
    return gpd.GeoDataFrame(frame, geometry=[item["geometry"] for item in items], crs=4326)


def shelter(sid: int, where: tuple[float, float], **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.name: None for c in Shelter.__table__.columns}
    row |= {"id": sid, "code": f"S{sid}", "city_code": "000000", "name": f"避難所{sid}", "lon": where[0], "lat": where[1],
            "is_emergency_site": False, "is_designated_shelter": True, "is_welfare_shelter": False,
            "barrier_free": True, "elevator": False, "backup_power": True, "capacity": 100, "usable_floors": 2,
            "source": "test", "is_demo": False, **{f"hazard_{h.value}": False for h in Hazard}}
    return row | fields


def welfare_shelter(sid: int, where: tuple[float, float], **fields: Any) -> dict[str, Any]:
    return shelter(sid, where, **{"name": f"福祉避難所{sid}", "is_designated_shelter": False, "is_welfare_shelter": True,
                                  "accepted_groups": "要介護高齢者・障害者・医療的ケア", "accepts_direct": True,
                                  "capacity": 5} | fields)


def resident(rid: int, where: tuple[float, float], **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.name: None for c in Resident.__table__.columns}
    row |= {"id": rid, "resident_no": f"R{rid:04d}", "city_code": "000000", "name": f"住民{rid}", "address": "テスト町1-1",
            "phone": "000-0000-0000", "lon": where[0], "lat": where[1], "district": "テスト校区", "district_id": 1,
            "care_level": None, "disability_types": [], "disability_grade": None, "medical_devices": [],
            "mobility": "自立", "communication_needs": [], "lives_alone": False, "building_floors": 2,
            "bedroom_floor": 1, "home_floor": None, "can_use_stairs": True, "consent_share": True,
            "consent_plan": True, "preferred_shelter_code": None, "preferred_destination": None,
            "info_reception": ["防災行政無線"], "source": "test", "is_demo": False}
    return row | fields


def assessment(rid: int, **fields: Any) -> dict[str, Any]:
    """A clean trip: on foot, 400 m to shelter 1, leaving at level 3 with time to spare."""
    row = {
        "resident_id": rid, "decision": "leave", "decision_reasons": [{"code": "LANDSLIDE_YELLOW", "text": "…"}],
        "required_floor": 1, "reachable_floor": 2, "destination_kind": "shelter", "destination_shelter_id": 1,
        "destination_text": None,
        "destination_reasons": [{"code": "NEAREST_SUITABLE", "text": "避難所1は、ご自宅から近い避難所です。"}],
        "second_shelter_id": None, "welfare_needed": False, "welfare_unplaced": False, "distance_m": 400.0,
        "travel_min": 7.0, "prepare_min": 10.0, "start_margin_min": 160.0, "travel_mode": "walk", "walk_min": 7.0,
        "start_trigger": "level3", "destination_floor": None, "welfare_shelter_id": None, "welfare_direct": False,
        "supporter_issues": [],
    }
    return row | fields


def inputs(assessments: list[dict[str, Any]], residents: list[dict[str, Any]], shelters: list[dict[str, Any]],
           zone_frame: gpd.GeoDataFrame | None = None, agreements: list[tuple[int, int]] = (),  # type: ignore[assignment]
           contexts: list[dict[str, Any]] | None = None) -> AuditInputs:
    return AuditInputs(
        assessments=pd.DataFrame(assessments),
        residents=pd.DataFrame(residents),
        shelters=pd.DataFrame(shelters),
        zones=zone_frame if zone_frame is not None else zones(),
        agreements=pd.DataFrame(list(agreements), columns=["resident_id", "shelter_id"]),
        contexts=contexts,
    )


def timeline(level3: str = "避難を始める。", level4: str = "この段階までに避難を終えている。",
             level5: str = "命を守る行動をとる。", **others: str) -> list[dict[str, Any]]:
    person = {1: "天気予報を確かめる。", 2: "避難先を確かめる。", 3: level3, 4: level4, 5: level5}
    person |= {int(k.removeprefix("level")): v for k, v in others.items()}
    return [{"level": n, "colour": "", "info": "", "warnings": [], "person": person[n], "supporter": "本人に声をかける。"}
            for n in range(1, 6)]


def context(rid: int, rows: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    return {"resident_no": f"R{rid:04d}", "consent_plan": True, "draft": False, "timeline": rows or timeline(),
            "destination": {"name": "避難所1", "reasons": []}, "second": None} | fields
