"""Distance, walking speed, preparation time and road paths.

Walking speeds come from the city profile (``[evacuation.walk_speeds]``; guidance: 1.0 m/s
standard, 0.5 m/s for people who need support, about 0.8 m/s for a wheelchair pushed by a
helper, ×0.8 at night). Distances are straight lines × a detour factor unless a road graph
(GraphML, e.g. from OSMnx) is supplied; then paths follow the graph.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from disaster.analysis.needs import is_true
from disaster.geo import WGS84
from disaster.profile import PrepareMinutes, WalkSpeeds


@functools.lru_cache(maxsize=16)
def _transformer(crs_wkt: str) -> Transformer:
    """Costly to make; thread-safe to share (pyproj >= 3.1 keeps one PROJ object per thread)."""
    return Transformer.from_crs(WGS84, CRS.from_wkt(crs_wkt), always_xy=True)


def to_metric(lons: np.ndarray, lats: np.ndarray, crs: CRS) -> np.ndarray:
    """WGS84 points as x/y (m) in the city's metric ``crs`` (``CityProfile.crs``)."""
    x, y = _transformer(crs.to_wkt()).transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return np.column_stack([x, y])


def straight_routes(origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """WGS84 LineStrings from each origin to its target (lon/lat rows): the route kept where no
    road graph connects the two (not along roads: maps draw it as a straight line to be checked)."""
    return shapely.linestrings(np.stack([np.asarray(origins, dtype=float), np.asarray(targets, dtype=float)], axis=1))


def walking_speed(residents: pd.DataFrame, care_index: np.ndarray, speeds: WalkSpeeds, night: bool) -> np.ndarray:
    """Metres per second by mobility; people with 要支援/要介護 walk at the supported pace."""
    mobility = residents["mobility"].fillna("自立").to_numpy()
    speed = np.full(len(residents), speeds.able_mps)
    speed[(care_index > 0) | (mobility == "杖・歩行器") | (mobility == "寝たきり")] = speeds.supported_mps
    speed[mobility == "車いす"] = speeds.wheelchair_mps
    return speed * (speeds.night_factor if night else 1.0)


def prepare_minutes(needs: pd.DataFrame, residents: pd.DataFrame, prepare: PrepareMinutes) -> np.ndarray:
    """Estimated time to get ready on foot: more for care, devices, communication and living
    alone (the supporter must arrive first). A driver's arrival is added by the transport step."""
    minutes = np.full(len(needs), prepare.base)
    minutes += np.where(needs["welfare_elderly_care"].to_numpy(), prepare.care, 0)
    minutes += np.where(needs["power"].to_numpy() | needs["dialysis"].to_numpy(), prepare.device, 0)
    minutes += np.where(residents["communication_needs"].map(bool).to_numpy(), prepare.communication, 0)
    minutes += np.where(is_true(residents["lives_alone"]), prepare.alone, 0)
    return minutes


class RoadNetwork:
    """A walking network from GraphML (nodes with x/y in WGS84, edges with ``length`` in m),
    projected to the city's metric ``crs``."""

    def __init__(self, graph: Any, crs: CRS):  # a networkx graph
        from pykdtree.kdtree import KDTree
        from scipy.sparse import csr_matrix  # SciPy only with a road network (start-up time)

        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        xy = np.array([[float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"])] for n in nodes])
        self.lonlat = xy
        self.metric = to_metric(xy[:, 0], xy[:, 1], crs)
        rows, cols, weights = [], [], []
        for u, v, data in graph.edges(data=True):
            length = float(data.get("length") or np.linalg.norm(self.metric[index[u]] - self.metric[index[v]]))
            rows += [index[u], index[v]]
            cols += [index[v], index[u]]
            weights += [length, length]
        self.matrix = csr_matrix((weights, (rows, cols)), shape=(len(nodes), len(nodes)))
        self.tree = KDTree(self.metric)

    @classmethod
    def from_graphml(cls, path: Path, crs: CRS) -> RoadNetwork:
        import networkx as nx  # optional dependency (extra "roads")

        return cls(nx.read_graphml(path), crs)

    def snap(self, metric_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        distance, node = self.tree.query(metric_xy)
        return node.astype(np.intp), distance

    def path_lengths(self, origins: np.ndarray, targets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """Network distance (m) for each (origin i, target j) in ``pairs``, snapping included."""
        return self.paths(origins, targets, pairs)[0]

    def paths(self, origins: np.ndarray, targets: np.ndarray,
              pairs: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """(network distance in m, WGS84 node coordinates along the path) for each
        (origin i, target j) in ``pairs``; inf and None where the graph does not connect them.
        One Dijkstra (with predecessors) per distinct target."""
        from scipy.sparse.csgraph import dijkstra

        origin_nodes, origin_snap = self.snap(origins)
        target_nodes, target_snap = self.snap(targets)
        result = np.full(len(pairs), np.inf)
        nodes: list[np.ndarray | None] = [None] * len(pairs)
        for target in np.unique(pairs[:, 1]):
            chosen = np.flatnonzero(pairs[:, 1] == target)
            goal = int(target_nodes[target])
            dist, pred = dijkstra(self.matrix, directed=False, indices=goal, return_predecessors=True)
            starts = origin_nodes[pairs[chosen, 0]]
            result[chosen] = dist[starts] + origin_snap[pairs[chosen, 0]] + target_snap[target]
            for k, start in zip(chosen, starts, strict=True):
                if not np.isfinite(dist[start]):
                    continue
                path = [int(start)]
                while path[-1] != goal:
                    path.append(int(pred[path[-1]]))
                nodes[k] = self.lonlat[path]
        return result, nodes
