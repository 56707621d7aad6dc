"""Capacity-constrained assignment of people to 福祉避難所 (min-cost flow, OR-Tools).

Each person may go to one of their candidate shelters (arc cost: travel time) or stay
unplaced at a cost that grows with their priority, so scarce places go to the highest-need
people first and, among equals, travel time is minimised. Capacities are never exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow


@dataclass
class Candidates:
    """Arcs person -> shelter with integer costs (e.g. travel time in tenths of a minute)."""

    person: np.ndarray
    shelter: np.ndarray
    cost: np.ndarray


def assign(n_people: int, capacity: np.ndarray, candidates: Candidates, priority: np.ndarray) -> np.ndarray:
    """Shelter index per person, or -1 when unplaced. ``priority`` are integers >= 0. The arcs
    are taken in (person, shelter, cost) order, so the plan does not depend on the order they
    were listed in (a whole-city run and an incremental re-plan from stored arcs agree)."""
    result = np.full(n_people, -1)
    if n_people == 0 or len(candidates.person) == 0:
        return result
    order = np.lexsort((candidates.cost, candidates.shelter, candidates.person))
    candidates = Candidates(candidates.person[order], candidates.shelter[order], candidates.cost[order])
    n_shelters = len(capacity)
    sink = n_people + n_shelters
    big = int(candidates.cost.max()) + 1
    unplaced_cost = big * (np.asarray(priority, dtype=np.int64) + 1)
    people = np.arange(n_people)
    starts = np.concatenate([candidates.person, people, n_people + np.arange(n_shelters)])
    ends = np.concatenate([n_people + candidates.shelter, np.full(n_people, sink), np.full(n_shelters, sink)])
    capacities = np.concatenate([np.ones(len(candidates.person)), np.ones(n_people),
                                 np.maximum(capacity, 0)]).astype(np.int64)
    costs = np.concatenate([candidates.cost, unplaced_cost, np.zeros(n_shelters)]).astype(np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(starts, ends, capacities, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_people] = 1
    supplies[sink] = -n_people
    solver.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = solver.flows(arcs[: len(candidates.person)])
    used = flows > 0
    result[candidates.person[used]] = candidates.shelter[used]
    return result
