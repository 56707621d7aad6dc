"""How a person gets to their destination, and when they must leave.

A plan asks someone to walk only within the walking limit for their mobility (city profile
``[evacuation.walk_limits]``). Beyond it the trip is by car with a driver (supporter, family) or,
for people who cannot sit in an ordinary car or carry their devices (bedridden, power-dependent
medical devices, wheelchair users), by welfare transport (福祉タクシー・介護タクシー等). A car trip
takes the driving time (road graph, or straight line × detour ÷ car speed in rain) and the driver's
arrival is added to the preparation time.

The start trigger compares preparation + travel with the time from 警戒レベル3 (高齢者等避難)
until routes may become dangerous, then with the earlier windows (レベル2・予報の段階で明るいうち,
the day before): a trip that does not fit even the day before is "not workable" for the leader.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from disaster.analysis.reasons import Said, reason
from disaster.profile import EvacuationProfile, WalkLimits


class TravelMode(StrEnum):
    WALK = "walk"
    CAR = "car"  # driven by a supporter or family member
    WELFARE_TRANSPORT = "welfare_transport"  # 福祉タクシー・介護タクシー等


class StartTrigger(StrEnum):
    LEVEL3 = "level3"  # leave at 警戒レベル3 (高齢者等避難)
    EARLY = "early"  # leave before level 3: at レベル2 / on the forecast, in daylight
    PREVIOUS_DAY = "previous_day"  # leave the day before, in daylight
    NOT_WORKABLE = "not_workable"  # no safe reachable destination, or even the day before is too late


MODE_LABELS = {
    TravelMode.WALK: "徒歩",
    TravelMode.CAR: "車（家族・支援者の運転）",
    TravelMode.WELFARE_TRANSPORT: "福祉タクシー・介護タクシーなど",
}


def walk_limit_m(residents: pd.DataFrame, needs: pd.DataFrame, limits: WalkLimits) -> np.ndarray:
    """The longest walk (m along the route) a plan may ask of each person."""
    mobility = residents["mobility"].fillna("自立").to_numpy()
    limit = np.full(len(residents), limits.able_m)
    limit[(needs["care_index"].to_numpy() > 0) | (mobility == "杖・歩行器")] = limits.supported_m
    limit[mobility == "車いす"] = limits.wheelchair_m
    limit[mobility == "寝たきり"] = limits.bedridden_m
    power = needs["power"].to_numpy()
    limit[power] = np.minimum(limit[power], limits.power_device_m)
    return limit


def vehicle_mode(residents: pd.DataFrame, needs: pd.DataFrame) -> np.ndarray:
    """The vehicle used beyond the walking limit: welfare transport for bedridden people,
    power-dependent devices and wheelchair users, otherwise a car driven by family/supporter."""
    mobility = residents["mobility"].fillna("自立").to_numpy()
    special = needs["bedridden"].to_numpy() | needs["power"].to_numpy() | (mobility == "車いす")
    return np.where(special, TravelMode.WELFARE_TRANSPORT.value, TravelMode.CAR.value).astype(object)


def car_minutes(distance_m: ArrayLike, evacuation: EvacuationProfile) -> np.ndarray:
    return np.asarray(distance_m, dtype=float) / (evacuation.car_speed_kmh * 1000.0 / 60.0)


def walk_minutes(distance_m: ArrayLike, speed_mps: ArrayLike) -> np.ndarray:
    return np.asarray(distance_m, dtype=float) / np.asarray(speed_mps, dtype=float) / 60.0


def trips(distance_m: np.ndarray, speed: np.ndarray, limit: np.ndarray, vehicle: np.ndarray,
          evacuation: EvacuationProfile) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mode, travel minutes by that mode, walking minutes for reference, extra preparation
    minutes for the driver to arrive) per trip; NaN distances give mode None."""
    distance = np.asarray(distance_m, dtype=float)
    known = np.isfinite(distance)
    walk = known & (distance <= limit) & (limit > 0)  # a limit of 0: never on foot, however near
    walk_min = walk_minutes(distance, speed)
    travel = np.where(walk, walk_min, car_minutes(distance, evacuation))
    mode = np.where(walk, TravelMode.WALK.value, vehicle).astype(object)
    mode[~known] = None
    arrange = np.where(known & ~walk, evacuation.car_arrange_min, 0.0)
    return mode, np.where(known, travel, np.nan), np.where(known, walk_min, np.nan), arrange


def start_triggers(total_min: np.ndarray, evacuation: EvacuationProfile) -> np.ndarray:
    """Trigger per trip from preparation + travel minutes (NaN: not workable)."""
    total = np.asarray(total_min, dtype=float)
    lead = evacuation.lead_time_min
    out = np.full(len(total), StartTrigger.NOT_WORKABLE.value, dtype=object)
    out[total <= lead + evacuation.previous_day_window_min] = StartTrigger.PREVIOUS_DAY.value
    out[total <= lead + evacuation.early_window_min] = StartTrigger.EARLY.value
    out[total <= lead] = StartTrigger.LEVEL3.value
    return out


def start_reason(trigger: str, prepare: int, travel: int, leave: bool = True) -> Said:
    """When to start, in plain Japanese, agreeing with the trigger (never a negative margin).
    For people who may stay (屋内安全確保, or outside every zone) it reads "if you leave"."""
    total = prepare + travel
    if trigger == StartTrigger.LEVEL3:
        return reason("START.level3", leave=leave, prepare=prepare, travel=travel, total=total)
    if trigger in (StartTrigger.EARLY, StartTrigger.PREVIOUS_DAY):
        return reason(f"START.{trigger}", leave=leave, total=total)
    return reason("START.not_workable")


def transport_reason(mode: str, limit_m: float, who: str) -> Said:
    """Who must arrange transport, for non-walking trips (``who``: a ``reasons.VEHICLE_WHY`` key)."""
    if mode == TravelMode.WELFARE_TRANSPORT:
        return reason("TRANSPORT.welfare", who=who)
    return reason("TRANSPORT.car", limit=float(limit_m))
