"""Which shelters may receive a resident, given the hazards at home and at the shelter.

A shelter is eligible for a hazard when it is designated for it (GSI flag), or when it is a
指定避難所/福祉避難所 outside that hazard's zone (Kurume's GSI file flags few sites by hazard).
It is never eligible while it lies in a disqualifying zone itself: for flood, L1/L2 depth rank
>= 2 (0.5 m or more) or a 家屋倒壊等氾濫想定区域; for 内水, rank >= 2; for landslides, any zone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.codes import HAZARD_LABELS, Hazard

# resident hazard bits
FLOOD, INLAND, LANDSLIDE = 1, 2, 4
HAZARD_BITS = {FLOOD: Hazard.FLOOD, INLAND: Hazard.INLAND_FLOOD, LANDSLIDE: Hazard.LANDSLIDE}
DEEP_RANK = 2


def resident_hazard_bits(exposure: pd.DataFrame) -> np.ndarray:
    flood = (exposure["flood_l1_rank"] > 0) | (exposure["flood_l2_rank"] > 0) | exposure["collapse_flow"] | exposure["collapse_erosion"]
    return (
        np.where(flood, FLOOD, 0)
        | np.where(exposure["inland_rank"] > 0, INLAND, 0)
        | np.where(exposure["landslide_class"] > 0, LANDSLIDE, 0)
    ).astype(int)


def disqualified(shelter_exposure: pd.DataFrame) -> dict[int, np.ndarray]:
    """Per hazard bit: shelters that lie in a disqualifying zone for that hazard."""
    e = shelter_exposure
    return {
        FLOOD: ((e["flood_l2_rank"] >= DEEP_RANK) | (e["flood_l1_rank"] >= DEEP_RANK)
                | e["collapse_flow"] | e["collapse_erosion"]).to_numpy(),
        INLAND: (e["inland_rank"] >= DEEP_RANK).to_numpy(),
        LANDSLIDE: (e["landslide_class"] > 0).to_numpy(),
    }


def eligible_for(bits: int, shelters: pd.DataFrame, blocked: dict[int, np.ndarray]) -> np.ndarray:
    """Shelters eligible for every hazard in ``bits`` (all 指定避難所/福祉避難所 when none)."""
    hosts = (shelters["is_designated_shelter"] | shelters["is_welfare_shelter"]).to_numpy()
    mask = np.ones(len(shelters), dtype=bool) if bits else hosts.copy()
    for bit, hazard in HAZARD_BITS.items():
        if bits & bit:
            designated = shelters[f"hazard_{hazard.value}"].to_numpy()
            mask &= (designated | hosts) & ~blocked[bit]
    return mask


def basis_text(bits: int, shelter: pd.Series) -> str:
    """Why this shelter suits the hazards, for the plan."""
    if not bits:
        return "指定避難所です。"
    parts = []
    for bit, hazard in HAZARD_BITS.items():
        if bits & bit:
            label = HAZARD_LABELS[hazard]
            if shelter[f"hazard_{hazard.value}"]:
                parts.append(f"{label}の指定緊急避難場所です")
            else:
                parts.append(f"{label}の想定区域（危険な深さ）の外にあります")
    return "、".join(parts) + "。"
