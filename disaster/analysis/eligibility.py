"""Which shelters may receive a resident: safe at their OWN location for the whole rain event,
and suited to the hazards at the resident's home.

A rain event is one scenario: river flooding (L1/L2 depth, 家屋倒壊等氾濫想定区域), 内水 and
landslides can all happen at once. A destination is therefore safe only when it lies outside
every landslide zone (any class), outside every 家屋倒壊等氾濫想定区域, and where the deepest
water of L1, L2 and 内水 is below 0.5 m (rank < 2) — whatever the hazards at home. The one
exception: a shelter designated by GSI for floods whose highest usable floor is at or above the
floor the water requires; people then use that floor (``destination_floor``).

On top of safety, for each hazard at home the shelter must be designated for it (GSI flag) or be
a 指定避難所/福祉避難所 (hosts); with no hazard at home only hosts are offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from disaster.analysis.decision import required_floor
from disaster.analysis.reasons import HAZARD_BITS, basis_code, basis_words, problem_code, problem_text

# resident hazard bits (reasons.HAZARD_BITS: the hazard of each)
FLOOD, INLAND, LANDSLIDE = 1, 2, 4
DEEP_RANK = 2


def resident_hazard_bits(exposure: pd.DataFrame) -> np.ndarray:
    flood = (exposure["flood_l1_rank"] > 0) | (exposure["flood_l2_rank"] > 0) | exposure["collapse_flow"] | exposure["collapse_erosion"]
    return (
        np.where(flood, FLOOD, 0)
        | np.where(exposure["inland_rank"] > 0, INLAND, 0)
        | np.where(exposure["landslide_class"] > 0, LANDSLIDE, 0)
    ).astype(int)


@dataclass(frozen=True)
class DestinationSafety:
    """Per shelter: ``safe`` for the rain event; ``floor`` the lowest floor to use (0: any);
    ``depth`` the deepest water rank there; ``problems`` plain Japanese for unsafe sites
    ("" for safe ones), ``problem_codes`` the same as ``reasons.problem_code``."""

    safe: np.ndarray
    floor: np.ndarray
    depth: np.ndarray
    problems: list[str]
    problem_codes: list[int]


def destination_safety(shelter_exposure: pd.DataFrame, shelters: pd.DataFrame) -> DestinationSafety:
    """Safety of each shelter against every rain hazard layer at its own location."""
    e = shelter_exposure
    depth = np.maximum.reduce([e["flood_l1_rank"].to_numpy(), e["flood_l2_rank"].to_numpy(),
                               e["inland_rank"].to_numpy()]).astype(int)
    landslide = (e["landslide_class"] > 0).to_numpy()
    collapse = (e["collapse_flow"] | e["collapse_erosion"]).to_numpy()
    deep = depth >= DEEP_RANK
    need = np.array([required_floor(int(d)) or 10**6 for d in depth], dtype=int)
    usable = pd.to_numeric(shelters["usable_floors"], errors="coerce").fillna(0).to_numpy(dtype=int) \
        if "usable_floors" in shelters else np.zeros(len(shelters), dtype=int)
    designated = np.equal(shelters["hazard_flood"].to_numpy(dtype=object), True)
    upstairs = deep & designated & (usable >= need)
    safe = ~landslide & ~collapse & (~deep | upstairs)
    floor = np.where(deep & upstairs, need, 0)
    zones = [(bool(landslide[i]), bool(collapse[i]), int(depth[i]) if deep[i] and not upstairs[i] else 0)
             for i in range(len(shelters))]
    return DestinationSafety(safe, floor, depth, [problem_text(*z) for z in zones], [problem_code(*z) for z in zones])


def disqualified(shelter_exposure: pd.DataFrame) -> dict[int, np.ndarray]:
    """Per hazard bit: shelters in a disqualifying zone for that hazard alone. Kept for callers
    that describe one hazard; a destination's safety is ``destination_safety`` (every layer)."""
    e = shelter_exposure
    return {
        FLOOD: ((e["flood_l2_rank"] >= DEEP_RANK) | (e["flood_l1_rank"] >= DEEP_RANK)
                | e["collapse_flow"] | e["collapse_erosion"]).to_numpy(),
        INLAND: (e["inland_rank"] >= DEEP_RANK).to_numpy(),
        LANDSLIDE: (e["landslide_class"] > 0).to_numpy(),
    }


def eligible_for(bits: int, shelters: pd.DataFrame, safe: np.ndarray) -> np.ndarray:
    """Safe shelters suited to every hazard in ``bits`` (all safe 指定避難所/福祉避難所 when none)."""
    hosts = (np.equal(shelters["is_designated_shelter"].to_numpy(dtype=object), True)
             | np.equal(shelters["is_welfare_shelter"].to_numpy(dtype=object), True))
    mask = safe & (np.ones(len(shelters), dtype=bool) if bits else hosts)
    for bit, hazard in HAZARD_BITS.items():
        if bits & bit:
            designated = np.equal(shelters[f"hazard_{hazard.value}"].to_numpy(dtype=object), True)
            mask &= designated | hosts
    return mask


def basis(bits: int, shelter: pd.Series | dict[str, Any], floor: int) -> int:
    """Why this shelter suits the hazards at home (``reasons.basis_code``)."""
    designated = sum(bit for bit, hazard in HAZARD_BITS.items() if bits & bit and shelter[f"hazard_{hazard.value}"])
    return basis_code(designated, floor, not bits and bool(shelter["is_designated_shelter"]))


def basis_text(bits: int, shelter: pd.Series | dict[str, Any], floor: int) -> str:
    """Why this shelter suits the hazards, for the plan."""
    return basis_words(basis(bits, shelter, floor))
