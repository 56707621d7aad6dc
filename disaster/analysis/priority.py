"""Priority for making plans (2021 取組指針: start with those at highest risk and need)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.needs import is_true
from disaster.analysis.reason_rows import groups
from disaster.analysis.reasons import Said, reason
from disaster.codes import LANDSLIDE_RED_CLASSES

CARE_POINTS = {3: 5, 4: 8, 5: 15, 6: 20, 7: 25}  # care_index (要介護1-5) -> points; 要支援 2


def priority(residents: pd.DataFrame, exposure: pd.DataFrame, needs: pd.DataFrame,
             supporter_count: np.ndarray) -> tuple[np.ndarray, list[list[Said]]]:
    """Score (higher first) and its reasons per resident."""
    klass = exposure["landslide_class"].to_numpy()
    depth = np.maximum(exposure["flood_l2_rank"].to_numpy(), exposure["inland_rank"].to_numpy())
    keys = np.column_stack([
        needs["power"].to_numpy(),
        np.where(np.isin(klass, list(LANDSLIDE_RED_CLASSES)), 2, np.where(klass > 0, 1, 0)),
        (exposure["collapse_flow"] | exposure["collapse_erosion"]).to_numpy(),
        needs["care_index"].to_numpy(),
        np.where(needs["welfare_disability"].to_numpy(), 2, residents["disability_types"].map(bool).to_numpy()),
        np.minimum(depth, 3),
        is_true(residents["lives_alone"]),
        supporter_count == 0,
    ]).astype(int)
    group, first = groups(*keys.T)  # people with equal keys share one result (and its list)
    made = [_score_one(*key) for key in keys[first].tolist()]
    scores = np.array([score for score, _ in made], dtype=int)
    lists = [reasons for _, reasons in made]
    return scores[group], [lists[g] for g in group.tolist()]


def _score_one(power: int, landslide: int, collapse: int, care: int, disability: int, depth: int, alone: int,
               unsupported: int) -> tuple[int, list[Said]]:
    items: list[tuple[int, Said]] = []
    if power:
        items.append((40, reason("POWER_DEVICE")))
    if landslide == 2:
        items.append((30, reason("LANDSLIDE_RED.priority")))
    elif landslide == 1:
        items.append((15, reason("LANDSLIDE_YELLOW.priority")))
    if collapse:
        items.append((25, reason("COLLAPSE_ZONE")))
    if care:
        items.append((CARE_POINTS.get(care, 2), reason("CARE_LEVEL", care=care)))
    if disability == 2:
        items.append((15, reason("SEVERE_DISABILITY")))
    elif disability == 1:
        items.append((5, reason("DISABILITY")))
    if depth >= 3:
        items.append((20, reason("DEEP_FLOOD")))
    elif depth == 2:
        items.append((15, reason("FLOOD")))
    elif depth == 1:
        items.append((5, reason("SHALLOW_FLOOD")))
    if alone:
        items.append((10, reason("LIVES_ALONE")))
    if unsupported:
        items.append((10, reason("NO_SUPPORTER.priority")))
    return sum(points for points, _ in items), [r for _, r in items]
