"""Property-based tests of the capacity-constrained 福祉避難所 assignment."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from disaster.analysis.assignment import Candidates, assign


@st.composite
def instances(draw: st.DrawFn) -> tuple[int, np.ndarray, Candidates, np.ndarray]:
    people = draw(st.integers(1, 8))
    shelters = draw(st.integers(1, 4))
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=shelters, max_size=shelters)))
    pairs = draw(st.sets(st.tuples(st.integers(0, people - 1), st.integers(0, shelters - 1)), max_size=people * shelters))
    pairs = sorted(pairs)
    costs = draw(st.lists(st.integers(1, 200), min_size=len(pairs), max_size=len(pairs)))
    priority = np.array(draw(st.lists(st.integers(0, 50), min_size=people, max_size=people)))
    arcs = Candidates(np.array([p for p, _ in pairs], dtype=int), np.array([s for _, s in pairs], dtype=int),
                      np.array(costs, dtype=np.int64))
    return people, capacity, arcs, priority


def _cost(result: np.ndarray, capacity: np.ndarray, arcs: Candidates, priority: np.ndarray) -> int:
    big = int(arcs.cost.max()) + 1 if len(arcs.cost) else 1
    arc_cost = {(p, s): c for p, s, c in zip(arcs.person, arcs.shelter, arcs.cost, strict=True)}
    return sum(arc_cost[(i, s)] if s >= 0 else big * (priority[i] + 1) for i, s in enumerate(result))


@settings(max_examples=200, deadline=None)
@given(instances())
def test_assignment_respects_capacity_and_candidates(instance) -> None:
    people, capacity, arcs, priority = instance
    result = assign(people, capacity, arcs, priority)
    assert result.shape == (people,)
    allowed = set(zip(arcs.person.tolist(), arcs.shelter.tolist(), strict=True))
    for person, target in enumerate(result):
        assert target == -1 or (person, int(target)) in allowed
    for s, cap in enumerate(capacity):
        assert (result == s).sum() <= cap


@settings(max_examples=200, deadline=None)
@given(instances())
def test_assignment_is_optimal_against_an_exhaustive_solver(instance) -> None:
    """Expand each shelter into ``capacity`` slots plus one 'unplaced' slot per person and
    solve as a linear assignment: the flow must reach the same optimum."""
    people, capacity, arcs, priority = instance
    big = int(arcs.cost.max()) + 1 if len(arcs.cost) else 1
    slots = [s for s, cap in enumerate(capacity) for _ in range(cap)]
    infeasible = 10**9
    matrix = np.full((people, len(slots) + people), infeasible, dtype=np.int64)
    for p, s, c in zip(arcs.person, arcs.shelter, arcs.cost, strict=True):
        matrix[p, [k for k, slot in enumerate(slots) if slot == s]] = c
    for p in range(people):
        matrix[p, len(slots) + p] = big * (priority[p] + 1)
    rows, cols = linear_sum_assignment(matrix)
    optimum = int(matrix[rows, cols].sum())
    result = assign(people, capacity, arcs, priority)
    assert _cost(result, capacity, arcs, priority) == optimum


@settings(max_examples=100, deadline=None)
@given(instances())
def test_no_lower_priority_person_holds_a_place_a_higher_one_could_take(instance) -> None:
    people, capacity, arcs, priority = instance
    result = assign(people, capacity, arcs, priority)
    candidates = {}
    for p, s in zip(arcs.person.tolist(), arcs.shelter.tolist(), strict=True):
        candidates.setdefault(p, set()).add(s)
    for waiting in np.flatnonzero(result == -1):
        for holder in np.flatnonzero(result >= 0):
            if result[holder] in candidates.get(waiting, set()):
                assert priority[holder] >= priority[waiting]


def test_empty_inputs() -> None:
    empty = Candidates(np.array([], dtype=int), np.array([], dtype=int), np.array([], dtype=np.int64))
    assert assign(0, np.array([1]), empty, np.array([])).tolist() == []
    assert assign(2, np.array([1]), empty, np.array([1, 2])).tolist() == [-1, -1]
