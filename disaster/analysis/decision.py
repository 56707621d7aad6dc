"""Leave or stay (立退き避難 / 屋内安全確保), after the national 避難行動判定フロー:

1. in a 土砂災害警戒区域 or 家屋倒壊等氾濫想定区域 -> leave;
2. water deeper than the floor the resident can reach -> leave;
3. long inundation (duration rank >= 3, a day or more) and cannot live without power,
   water or care -> leave;
4. otherwise upper-floor safety is possible, with stated conditions (or no hazard at all).

Depths use the 想定最大規模 (L2) and 内水 ranks, the basis of evacuation guidance.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import pandas as pd

from disaster.analysis.needs import is_false
from disaster.analysis.reason_rows import groups
from disaster.analysis.reasons import Said, reason
from disaster.codes import DEPTH_RANKS, LANDSLIDE_RED_CLASSES

FLOOR_HEIGHT_M = 3.0  # storey height
GROUND_FLOOR_M = 0.5  # first-floor level above ground
LONG_DURATION_RANK = 3  # 1日以上


class Decision(StrEnum):
    LEAVE = "leave"  # 立退き避難
    STAY_UPSTAIRS = "stay_upstairs"  # 屋内安全確保（上階）
    STAY = "stay"  # 想定区域外: 在宅可


DECISION_LABELS = {
    Decision.LEAVE: "立退き避難（安全な場所へ移動）",
    Decision.STAY_UPSTAIRS: "屋内安全確保（自宅の上の階）も可能",
    Decision.STAY: "想定区域外（在宅避難も可能）",
}


def required_floor(depth_rank: int) -> int | None:
    """The lowest storey whose floor is above the deepest water of ``depth_rank`` (None: none is)."""
    if depth_rank <= 0:
        return 1
    upper = DEPTH_RANKS[depth_rank][2]
    if upper is None:
        return None
    return 1 + max(0, math.ceil((upper - GROUND_FLOOR_M) / FLOOR_HEIGHT_M))


def home_floor(residents: pd.DataFrame) -> np.ndarray:
    """住戸の階 of a flat (0: a house, or not recorded)."""
    if "home_floor" not in residents:
        return np.zeros(len(residents), dtype=int)
    return pd.to_numeric(residents["home_floor"], errors="coerce").fillna(0).to_numpy(dtype=int)


def reachable_floor(residents: pd.DataFrame, wheeled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(floor the resident can reach, floors unknown). Without stairs: the bedroom floor.
    In a flat (``home_floor`` set) only the resident's own unit counts: its floor."""
    floors = residents["building_floors"].fillna(0).to_numpy(dtype=int)
    bedroom = residents["bedroom_floor"].fillna(1).to_numpy(dtype=int)
    stairs = ~is_false(residents["can_use_stairs"]) & ~wheeled
    flat = home_floor(residents)
    unknown = (floors <= 0) & (flat <= 0)
    top = np.where(floors <= 0, 1, floors)
    house = np.where(stairs, top, np.minimum(bedroom, top))
    return np.where(flat > 0, flat, house), unknown


def decide(residents: pd.DataFrame, exposure: pd.DataFrame, needs: pd.DataFrame) -> pd.DataFrame:
    """Decision, required/reachable floor and reasons per resident."""
    depth = np.maximum(exposure["flood_l2_rank"].to_numpy(), exposure["inland_rank"].to_numpy())
    reach, unknown = reachable_floor(residents, needs["barrier_free"].to_numpy())
    floor_for = {d: required_floor(d) for d in np.unique(depth).tolist()}
    required = [floor_for[d] for d in depth.tolist()]
    floors = residents["building_floors"].fillna(1).to_numpy(dtype=int)
    flat = home_floor(residents) > 0
    stairs_limited = (
        is_false(residents["can_use_stairs"]) | needs["barrier_free"].to_numpy()
    ) & (reach < floors) & ~flat
    # Everything the outcome depends on; people with equal keys share one (cached) result.
    keys = np.column_stack([
        exposure["landslide_class"].to_numpy(), exposure["landslide_kind"].to_numpy(),
        exposure["collapse_flow"].to_numpy(), exposure["collapse_erosion"].to_numpy(), depth, reach,
        unknown, stairs_limited, exposure["duration_rank"].to_numpy(), needs["dependent"].to_numpy(), flat,
    ]).astype(int)
    group, first = groups(*keys.T)
    made = [_decide_one(*key) for key in keys[first].tolist()]
    each = group.tolist()
    decisions = [made[g][0] for g in each]
    all_reasons = [made[g][1] for g in each]
    return pd.DataFrame({
        "decision": decisions,
        "decision_reasons": all_reasons,
        "required_floor": required,
        "reachable_floor": reach,
    })


def _decide_one(klass: int, kind: int, flow: int, erosion: int, depth: int, floor: int, unknown: int,
                stairs_limited: int, duration: int, dependent: int, flat: int = 0) -> tuple[str, list[Said]]:
    """``floor``: the floor the resident can reach (in a flat: their own unit's floor)."""
    reasons: list[Said] = []
    leave = False
    if klass:
        leave = True
        colour = "LANDSLIDE_RED" if klass in LANDSLIDE_RED_CLASSES else "LANDSLIDE_YELLOW"
        reasons.append(reason(colour, klass=klass, kind=kind))
    if flow:
        leave = True
        reasons.append(reason("COLLAPSE_FLOW"))
    if erosion:
        leave = True
        reasons.append(reason("COLLAPSE_EROSION"))
    if unknown and depth > 0:
        reasons.append(reason("FLOORS_UNKNOWN"))
    if depth > 0:
        need = required_floor(depth)
        if need is None:
            leave = True
            reasons.append(reason("DEPTH_NO_SAFE_FLOOR", depth=depth))
        elif floor < need:
            leave = True
            variant = ".flat" if flat else ".no_stairs" if stairs_limited else ""
            reasons.append(reason("DEPTH_ABOVE_FLOOR" + variant, depth=depth, floor=floor))
    if duration >= LONG_DURATION_RANK and dependent:
        leave = True
        reasons.append(reason("LONG_DURATION_DEPENDENT", duration=duration))
    if leave:
        return Decision.LEAVE.value, reasons
    if depth > 0:
        reasons.append(reason("UPPER_FLOOR_POSSIBLE.flat" if flat else "UPPER_FLOOR_POSSIBLE", depth=depth, floor=floor))
        if duration:
            reasons.append(reason("STAY_CONDITIONS.flat_long" if flat else "STAY_CONDITIONS.long", duration=duration))
        else:
            reasons.append(reason("STAY_CONDITIONS.flat" if flat else "STAY_CONDITIONS"))
        return Decision.STAY_UPSTAIRS.value, reasons
    reasons.append(reason("NO_HAZARD"))
    return Decision.STAY.value, reasons
