"""Distance, walking time, preparation time and when to start.

Walking speeds follow Japanese evacuation-planning guidance: 1.0 m/s standard, 0.5 m/s for
people who need support (杖・歩行器, 要介護, assisted), about 0.8 m/s for a wheelchair pushed by a
helper, all ×0.8 at night. Distances are straight lines × a detour factor unless a road graph
(GraphML, e.g. from OSMnx) is supplied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from disaster.analysis.needs import is_true
from disaster.geo import METRIC_CRS, WGS84

STANDARD_SPEED = 1.0
SUPPORTED_SPEED = 0.5
WHEELCHAIR_SPEED = 0.8
NIGHT_FACTOR = 0.8
_TO_METRIC = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)


@dataclass(frozen=True)
class TravelParameters:
    detour_factor: float = 1.3
    night: bool = False
    lead_time_min: float = 180.0  # from 警戒レベル3 until routes may become dangerous (assumption)
    base_prepare_min: float = 10.0


def to_metric(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    x, y = _TO_METRIC.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return np.column_stack([x, y])


def walking_speed(residents: pd.DataFrame, care_index: np.ndarray, night: bool) -> np.ndarray:
    """Metres per second by mobility; people with 要支援/要介護 walk at the supported pace."""
    mobility = residents["mobility"].fillna("自立").to_numpy()
    speed = np.full(len(residents), STANDARD_SPEED)
    speed[(care_index > 0) | (mobility == "杖・歩行器") | (mobility == "寝たきり")] = SUPPORTED_SPEED
    speed[mobility == "車いす"] = WHEELCHAIR_SPEED
    return speed * (NIGHT_FACTOR if night else 1.0)


def prepare_minutes(needs: pd.DataFrame, residents: pd.DataFrame, params: TravelParameters) -> np.ndarray:
    """Estimated time to get ready: more for care, devices, communication and living alone
    (the supporter must arrive first)."""
    minutes = np.full(len(needs), params.base_prepare_min)
    minutes += np.where(needs["welfare_elderly_care"].to_numpy(), 10, 0)
    minutes += np.where(needs["power"].to_numpy() | needs["dialysis"].to_numpy(), 10, 0)
    minutes += np.where(residents["communication_needs"].map(bool).to_numpy(), 5, 0)
    minutes += np.where(is_true(residents["lives_alone"]), 10, 0)
    return minutes


class RoadNetwork:
    """A walking network from GraphML (nodes with x/y in WGS84, edges with ``length`` in m)."""

    def __init__(self, graph: Any):  # a networkx graph
        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        xy = np.array([[float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"])] for n in nodes])
        self.metric = to_metric(xy[:, 0], xy[:, 1])
        rows, cols, weights = [], [], []
        for u, v, data in graph.edges(data=True):
            length = float(data.get("length") or np.linalg.norm(self.metric[index[u]] - self.metric[index[v]]))
            rows += [index[u], index[v]]
            cols += [index[v], index[u]]
            weights += [length, length]
        self.matrix = csr_matrix((weights, (rows, cols)), shape=(len(nodes), len(nodes)))
        self.tree = cKDTree(self.metric)

    @classmethod
    def from_graphml(cls, path: Path) -> RoadNetwork:
        import networkx as nx  # optional dependency (extra "roads")

        return cls(nx.read_graphml(path))

    def snap(self, metric_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        distance, node = self.tree.query(metric_xy)
        return np.asarray(node), np.asarray(distance)

    def path_lengths(self, origins: np.ndarray, targets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """Network distance (m) for each (origin i, target j) in ``pairs``, snapping included.
        One Dijkstra per distinct target."""
        origin_nodes, origin_snap = self.snap(origins)
        target_nodes, target_snap = self.snap(targets)
        result = np.full(len(pairs), np.inf)
        for target in np.unique(pairs[:, 1]):
            chosen = pairs[:, 1] == target
            dist = dijkstra(self.matrix, directed=False, indices=target_nodes[target])
            result[chosen] = dist[origin_nodes[pairs[chosen, 0]]] + origin_snap[pairs[chosen, 0]] + target_snap[target]
        return result


def start_advice(prepare: int, travel: int, in_time: bool) -> str:
    """When to start, relative to 警戒レベル3 (高齢者等避難), in plain Japanese. ``in_time``:
    leaving at level 3 still leaves a margin before routes may become dangerous."""
    total = prepare + travel
    if in_time:
        return f"警戒レベル3（高齢者等避難）が出たらすぐ出発。支度 約{prepare}分＋移動 約{travel}分＝約{total}分。"
    return f"支度と移動に約{total}分かかるため、警戒レベル3を待たず、大雨の予報・警報の段階で早めに出発。"
