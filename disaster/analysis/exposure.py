"""Hazard exposure of points (homes, shelters, supporters), vectorised with an STRtree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from disaster.analysis.parallel import balanced, each_part
from disaster.codes import LANDSLIDE_RED_CLASSES, HazardLayer

EXPOSURE_COLUMNS = (
    "flood_l1_rank", "flood_l2_rank", "duration_rank", "collapse_flow", "collapse_erosion",
    "inland_rank", "landslide_kind", "landslide_class",
)


@dataclass
class HazardIndex:
    """Hazard zones with a spatial index. ``zones`` has columns layer, rank, landslide_kind,
    landslide_class and ``geometry`` (shapely, WGS84): a GeoDataFrame or a plain DataFrame."""

    zones: pd.DataFrame

    def __post_init__(self) -> None:
        self.zones = self.zones.reset_index(drop=True)
        self.geoms = np.asarray(self.zones["geometry"], dtype=object)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        self.layer = self.zones["layer"].to_numpy()
        self.rank = self.zones["rank"].fillna(0).to_numpy(dtype=int)
        self.kind = self.zones["landslide_kind"].fillna(0).to_numpy(dtype=int)
        self.klass = self.zones["landslide_class"].fillna(0).to_numpy(dtype=int)

    def deep_water(self, min_rank: int = 2) -> shapely.Geometry:
        """Union of flood/内水 zones of at least ``min_rank`` (for route checks)."""
        mask = np.isin(self.layer, [HazardLayer.FLOOD_L2_DEPTH.value, HazardLayer.INLAND_FLOOD.value]) & (
            self.rank >= min_rank
        )
        return shapely.union_all(self.geoms[mask]) if mask.any() else shapely.Polygon()

    def exposure(self, lons: np.ndarray, lats: np.ndarray) -> pd.DataFrame:
        """Per point: max rank per layer (0 = outside), collapse flags, most severe landslide zone."""
        xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        n = len(xs)
        out = {column: np.zeros(n, dtype=int) for column in EXPOSURE_COLUMNS}
        if n == 0 or len(self.zones) == 0:
            return _frame(out)
        point_idx, zone_idx = self._hits(xs, ys)
        layers = self.layer[zone_idx]
        for layer, column in (
            (HazardLayer.FLOOD_L1_DEPTH, "flood_l1_rank"),
            (HazardLayer.FLOOD_L2_DEPTH, "flood_l2_rank"),
            (HazardLayer.FLOOD_DURATION, "duration_rank"),
            (HazardLayer.INLAND_FLOOD, "inland_rank"),
        ):
            hit = layers == layer.value
            np.maximum.at(out[column], point_idx[hit], self.rank[zone_idx[hit]])
        for layer, column in ((HazardLayer.COLLAPSE_FLOW, "collapse_flow"), (HazardLayer.COLLAPSE_EROSION, "collapse_erosion")):
            out[column][point_idx[layers == layer.value]] = 1
        slide = layers == HazardLayer.LANDSLIDE.value
        if slide.any():
            # severity: red (特別警戒) 2 > yellow 1; keep the kind of the most severe zone
            klass = self.klass[zone_idx[slide]]
            severity = np.where(np.isin(klass, list(LANDSLIDE_RED_CLASSES)), 2, 1)
            order = np.argsort(severity, kind="stable")  # later (more severe) writes win
            pts = point_idx[slide][order]
            out["landslide_class"][pts] = klass[order]
            out["landslide_kind"][pts] = self.kind[zone_idx[slide]][order]
        return _frame(out)

    def _hits(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, zone) pairs with the point inside the zone, zone by zone. Points are sorted by
        longitude once; each zone tests only the points in its bounding box against its prepared
        polygon. A point on a zone's edge counts as inside (the safe side for homes and shelters).
        The zones are shared among the cores by how many points they test (``parallel``)."""
        order = np.argsort(xs, kind="stable")
        sorted_x = xs[order]
        lo = np.searchsorted(sorted_x, self.bounds[:, 0], side="left")
        hi = np.searchsorted(sorted_x, self.bounds[:, 2], side="right")

        def hits(zones: slice) -> tuple[list[np.ndarray], list[np.ndarray]]:
            points, owners = [], []
            for z in range(len(self.bounds))[zones]:
                candidates = order[lo[z]:hi[z]]
                candidates = candidates[(ys[candidates] >= self.bounds[z, 1]) & (ys[candidates] <= self.bounds[z, 3])]
                if len(candidates):
                    inside = candidates[shapely.intersects_xy(self.geoms[z], xs[candidates], ys[candidates])]
                    points.append(inside)
                    owners.append(np.full(len(inside), z))
            return points, owners

        parts = each_part(hits, balanced(np.maximum(hi - lo, 0) + 1, PARALLEL_MINIMUM))
        points = [p for part, _ in parts for p in part]
        if not points:
            return np.empty(0, dtype=int), np.empty(0, dtype=int)
        return np.concatenate(points), np.concatenate([z for _, part in parts for z in part])


PARALLEL_MINIMUM = 20_000  # point tests per thread: fewer are not worth a thread


def _frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame["collapse_flow"] = frame["collapse_flow"].astype(bool)
    frame["collapse_erosion"] = frame["collapse_erosion"].astype(bool)
    return frame
