"""Priority for making plans (2021 取組指針: start with those at highest risk and need)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.needs import is_true
from disaster.analysis.reasons import Reason, reason
from disaster.codes import CARE_LEVELS, LANDSLIDE_RED_CLASSES

CARE_POINTS = {3: 5, 4: 8, 5: 15, 6: 20, 7: 25}  # care_index (要介護1-5) -> points; 要支援 2


def priority(residents: pd.DataFrame, exposure: pd.DataFrame, needs: pd.DataFrame,
             supporter_count: np.ndarray) -> tuple[np.ndarray, list[list[Reason]]]:
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
    cache: dict[tuple[int, ...], tuple[int, list[Reason]]] = {}
    scores = np.zeros(len(residents), dtype=int)
    all_reasons: list[list[Reason]] = []
    for i, key in enumerate(map(tuple, keys)):
        if key not in cache:
            cache[key] = _score_one(*key)
        scores[i], reasons = cache[key]
        all_reasons.append(reasons)
    return scores, all_reasons


def _score_one(power: int, landslide: int, collapse: int, care: int, disability: int, depth: int, alone: int,
               unsupported: int) -> tuple[int, list[Reason]]:
    items: list[tuple[int, Reason]] = []
    if power:
        items.append((40, reason("POWER_DEVICE", "電源が必要な医療機器を使っています。")))
    if landslide == 2:
        items.append((30, reason("LANDSLIDE_RED", "自宅が土砂災害特別警戒区域にあります。")))
    elif landslide == 1:
        items.append((15, reason("LANDSLIDE_YELLOW", "自宅が土砂災害警戒区域にあります。")))
    if collapse:
        items.append((25, reason("COLLAPSE_ZONE", "自宅が家屋倒壊等氾濫想定区域にあります。")))
    if care:
        items.append((CARE_POINTS.get(care, 2), reason("CARE_LEVEL", f"{CARE_LEVELS[care - 1]}です。")))
    if disability == 2:
        items.append((15, reason("SEVERE_DISABILITY", "重度の障害があります。")))
    elif disability == 1:
        items.append((5, reason("DISABILITY", "障害があります。")))
    if depth >= 3:
        items.append((20, reason("DEEP_FLOOD", "自宅が3m以上浸かるおそれがあります。")))
    elif depth == 2:
        items.append((15, reason("FLOOD", "自宅が0.5m以上浸かるおそれがあります。")))
    elif depth == 1:
        items.append((5, reason("SHALLOW_FLOOD", "自宅が浸水想定区域にあります。")))
    if alone:
        items.append((10, reason("LIVES_ALONE", "ひとり暮らしです。")))
    if unsupported:
        items.append((10, reason("NO_SUPPORTER", "支援者が決まっていません。")))
    return sum(points for points, _ in items), [r for _, r in items]
