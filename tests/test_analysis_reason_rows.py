"""Reasons built over whole frames equal the plain per-row loops they replace (random inputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disaster.analysis.reason_rows import per_row, reason_lists, same
from disaster.analysis.reasons import Said, reason
from disaster.analysis.supporters import supporter_issues


def _reference_supporter_issues(resident_ids: np.ndarray, consent_share: np.ndarray, supporters: pd.DataFrame,
                                links: pd.DataFrame, at_risk: np.ndarray, max_load: int,
                                located: np.ndarray | None) -> tuple[np.ndarray, list[list[Said]]]:
    """The loop over links that ``supporter_issues`` replaced."""
    position = {rid: i for i, rid in enumerate(resident_ids)}
    supporter_row = {sid: i for i, sid in enumerate(supporters["id"])}
    load = links.groupby("supporter_id").size().to_dict()
    counts = np.zeros(len(resident_ids), dtype=int)
    issues: list[list[Said]] = [[] for _ in resident_ids]
    relation = supporters["relation"].fillna("支援者").to_numpy()
    consent = supporters["consent"].to_numpy()
    for resident_id, supporter_id in zip(links["resident_id"], links["supporter_id"], strict=True):
        i = position.get(resident_id)
        if i is None:
            continue
        counts[i] += 1
        row = supporter_row[supporter_id]
        who = str(relation[row])
        if located is not None and not located[row]:
            issues[i].append(reason("SUPPORTER_LOCATION_UNKNOWN", relation=who))
        elif at_risk[row]:
            issues[i].append(reason("SUPPORTER_AT_RISK", relation=who))
        if load[supporter_id] > max_load:
            issues[i].append(reason("SUPPORTER_OVERLOADED", relation=who, load=int(load[supporter_id])))
        if not consent[row]:
            issues[i].append(reason("SUPPORTER_NO_CONSENT", relation=who))
    for k in np.flatnonzero(counts == 0):
        issues[k].insert(0, reason("NO_SUPPORTER"))
    for k in np.flatnonzero(~consent_share.astype(bool)):
        issues[k].append(reason("NO_SHARE_CONSENT"))
    return counts, issues


def _stored(lists: list[list[Said]]) -> list[list[object]]:
    return [[said.stored() for said in said_list] for said_list in lists]


@pytest.mark.parametrize("seed", range(6))
def test_supporter_issues_equal_the_loop_over_links(seed: int) -> None:
    rng = np.random.default_rng(seed)
    people, helpers = rng.integers(0, 40), rng.integers(1, 15)
    resident_ids = rng.permutation(np.arange(1, 60))[:people]
    supporters = pd.DataFrame({
        "id": rng.permutation(np.arange(100, 130))[:helpers],
        "relation": pd.Series(rng.choice(["家族", "近隣住民", None], helpers), dtype=object),
        "consent": rng.random(helpers) < 0.7,
    })
    count = rng.integers(0, 80)
    links = pd.DataFrame({  # some links belong to residents not assessed now (they still count for load)
        "resident_id": rng.choice(np.arange(1, 60), count),
        "supporter_id": rng.choice(supporters["id"].to_numpy(), count),
    }).drop_duplicates()
    supporters["load"] = [int((links["supporter_id"] == s).sum()) for s in supporters["id"]]  # as load_inputs counts
    at_risk = rng.random(helpers) < 0.4
    located = rng.random(helpers) < 0.8 if seed % 2 else None
    consent_share = rng.random(people) < 0.8
    max_load = int(rng.integers(1, 4))
    counts, issues = supporter_issues(resident_ids, consent_share, supporters, links, at_risk, max_load, located)
    want_counts, want = _reference_supporter_issues(resident_ids, consent_share, supporters, links, at_risk,
                                                    max_load, located)
    assert counts.tolist() == want_counts.tolist()
    assert _stored(issues) == _stored(want)


@pytest.mark.parametrize("seed", range(4))
def test_reason_lists_equal_appending_entry_by_entry_and_share_equal_lists(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 30))
    entries, want = [], [[] for _ in range(n)]
    for k in range(int(rng.integers(0, 5))):
        rows = rng.integers(0, n, rng.integers(0, 40)) if n else np.empty(0, dtype=int)
        values = rng.integers(0, 3, len(rows))
        said = per_row(lambda v, k=k: reason("DISTANCE.walk", distance=float(v), minutes=k), values)
        entries.append((rows, said))
        for row, value in zip(rows.tolist(), values.tolist(), strict=True):
            want[row].append(reason("DISTANCE.walk", distance=float(value), minutes=k))
    lists = reason_lists(n, entries)
    assert _stored(lists) == _stored(want)
    for i in range(n):  # rows with the same reasons share one list (stored once), others do not
        for j in range(n):
            assert (lists[i] is lists[j]) == (_stored([lists[i]]) == _stored([lists[j]]))


def test_per_row_makes_one_reason_per_distinct_row() -> None:
    calls = []

    def make(name: str, floor: int) -> Said:
        calls.append((name, floor))
        return reason("DESTINATION_FLOOR", name=name, depth=2, floor=floor)

    said = per_row(make, np.array(["a", "b", "a", "a"], dtype=object), np.array([2, 2, 2, 3]))
    assert calls == [("a", 2), ("b", 2), ("a", 3)]
    assert said[0] is said[2] and said[0] is not said[3]
    assert [s.params["floor"] for s in said] == [2, 2, 2, 3]
    assert all(type(s.params["floor"]) is int for s in said)
    assert len(same(reason("NO_SHELTER"), 3)) == 3


def test_equal_reasons_are_one_object_but_parameter_types_count() -> None:
    assert reason("START.early", leave=True, total=30) is reason("START.early", leave=True, total=30)
    assert reason("START.early", leave=1, total=30) is not reason("START.early", leave=True, total=30)
    assert reason("DISTANCE.car", distance=100.0, minutes=3).params["distance"] == 100.0
    assert type(reason("DISTANCE.car", distance=100, minutes=3).params["distance"]) is int
