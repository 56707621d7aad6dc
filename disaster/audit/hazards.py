"""Hazards at a point, recomputed here from the zones (independently of the engine).

A point on a zone's edge counts as inside (the audit errs on the safe side). Depths follow the
A31a ranks; a storey is usable above water when its floor (0.5 m above ground, then 3 m per
storey) is above the upper bound of the rank's depth band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from disaster.codes import DEPTH_RANKS, HazardLayer

FIRST_FLOOR_M = 0.5
STOREY_M = 3.0
DEEP_RANK = 2  # 0.5 m or more: not a place to shelter at ground level


def floor_needed(depth_rank: int) -> int | None:
    """Lowest storey whose floor stays dry in water of ``depth_rank`` (None: no storey does)."""
    if depth_rank <= 0:
        return 1
    upper = DEPTH_RANKS[depth_rank][2]
    if upper is None:
        return None
    return 1 + max(0, math.ceil((upper - FIRST_FLOOR_M) / STOREY_M))


HAZARD_COLUMNS = ("l1", "l2", "inland", "duration", "collapse", "landslide")


@dataclass
class Zones:
    """Hazard zones (columns layer, rank, landslide_class and a WGS84 geometry) with an STRtree."""

    layer: np.ndarray
    rank: np.ndarray
    landslide_class: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def from_frame(cls, zones: pd.DataFrame) -> Zones:
        geoms = np.asarray(zones.geometry.values if len(zones) else [], dtype=object)
        rank = pd.to_numeric(zones["rank"], errors="coerce").fillna(0).to_numpy(dtype=int) if len(zones) else np.zeros(0, int)
        klass = (pd.to_numeric(zones["landslide_class"], errors="coerce").fillna(0).to_numpy(dtype=int)
                 if len(zones) else np.zeros(0, int))
        layer = zones["layer"].astype(str).to_numpy() if len(zones) else np.zeros(0, dtype=object)
        return cls(layer, rank, klass, shapely.STRtree(geoms))

    def at(self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """Per point: max rank of L1, L2, 内水 and duration, in a 家屋倒壊等 zone, in a landslide zone."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        n = len(points)
        out = {c: np.zeros(n, dtype=int) for c in HAZARD_COLUMNS}
        if n and len(self.layer):
            point_idx, zone_idx = self.tree.query(points, predicate="intersects")
            layers = self.layer[zone_idx]
            for layer, column in ((HazardLayer.FLOOD_L1_DEPTH, "l1"), (HazardLayer.FLOOD_L2_DEPTH, "l2"),
                                  (HazardLayer.INLAND_FLOOD, "inland"), (HazardLayer.FLOOD_DURATION, "duration")):
                hit = layers == layer.value
                np.maximum.at(out[column], point_idx[hit], self.rank[zone_idx[hit]])
            collapse = np.isin(layers, [HazardLayer.COLLAPSE_FLOW.value, HazardLayer.COLLAPSE_EROSION.value])
            out["collapse"][point_idx[collapse]] = 1
            slide = (layers == HazardLayer.LANDSLIDE.value) & (self.landslide_class[zone_idx] > 0)
            out["landslide"][point_idx[slide]] = 1
        frame = pd.DataFrame(out)
        frame["collapse"] = frame["collapse"].astype(bool)
        frame["landslide"] = frame["landslide"].astype(bool)
        frame["depth"] = frame[["l1", "l2", "inland"]].max(axis=1)  # every rain layer at once
        return frame


@dataclass(frozen=True)
class SiteSafety:
    """Whether a place can receive evacuees in a rain event, and which floor they must use."""

    problem: str | None  # None: safe; else why not (Japanese)
    floor: int | None  # the lowest floor people must use (None: any floor)


def site_safety(hazards: pd.Series, flood_designated: bool, usable_floors: int | None) -> SiteSafety:
    """Safety at the place's own location against every rain hazard layer."""
    if hazards["landslide"]:
        return SiteSafety("土砂災害警戒区域の中にあります", None)
    if hazards["collapse"]:
        return SiteSafety("家屋倒壊等氾濫想定区域の中にあります", None)
    depth = int(hazards["depth"])
    if depth < DEEP_RANK:
        return SiteSafety(None, None)
    label = DEPTH_RANKS[depth][0]
    needed = floor_needed(depth)
    if not flood_designated:
        return SiteSafety(f"浸水の深さ{label}の区域にあり、洪水の避難場所に指定されていません", needed)
    if needed is None or usable_floors is None or usable_floors < needed:
        have = f"{usable_floors}階まで" if usable_floors else "使える階が不明"
        want = f"{needed}階以上が必要" if needed else "使える階がありません"
        return SiteSafety(f"浸水の深さ{label}の区域にあり、{want}です（{have}）", needed)
    return SiteSafety(None, needed)
