"""Which destinations a plan record may send one resident to, and why (pure: frames in, verdicts out).

The rules are the engine's (disaster.analysis.eligibility), judged on today's data:
- the place is safe for the whole rain event at its own location (outside every landslide and
  家屋倒壊等 zone, water below 0.5 m, or a flood-designated building with a high enough floor);
- it suits every hazard at the resident's home (designated for it, or a 指定避難所/福祉避難所);
- a 福祉避難所 that is not also a 指定避難所 only with an agreement with this resident
  (福祉避難所ガイドライン: direct evacuation only for agreed residents, once its opening is confirmed);
- and it is the assessment's destination, its second choice, the agreed 福祉避難所, or within
  the distance the city profile lets this person walk (along the road: straight line × detour)
  and, for a wheelchair user or bedridden person, barrier-free; for power-dependent devices,
  with backup power (as the engine asks of the places it chooses).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from disaster.analysis.eligibility import (
    HAZARD_BITS,
    basis_text,
    destination_safety,
    eligible_for,
    resident_hazard_bits,
)
from disaster.analysis.exposure import EXPOSURE_COLUMNS, HazardIndex
from disaster.analysis.needs import needs_frame
from disaster.analysis.transport import walk_limit_m
from disaster.analysis.travel import to_metric
from disaster.codes import HAZARD_LABELS
from disaster.plans.record import FINGERPRINT_LABELS
from disaster.profile import EvacuationProfile
from disaster.wareki import to_wareki

ASSESSED, SECOND, AGREED, NEARBY = "assessed", "second", "agreed", "nearby"
ROLE_ORDER = {ASSESSED: 0, AGREED: 1, SECOND: 2, NEARBY: 3}


@dataclass(frozen=True)
class Suggestion:
    """What the assessment planned (shelter ids, None where it planned none)."""

    destination_id: int | None
    second_id: int | None
    welfare_id: int | None


@dataclass(frozen=True)
class Verdict:
    """One shelter for one resident: allowed (``why``) or not (``problem``)."""

    code: str
    name: str
    kinds: str
    allowed: bool
    why: list[str] = field(default_factory=list)
    problem: str | None = None
    role: str | None = None  # ASSESSED / SECOND / AGREED / NEARBY for allowed ones
    distance_m: float | None = None
    floor: int | None = None  # the lowest floor to use there (flood zone)


def flag(value: Any) -> bool:
    """A stored yes/no as read into a frame (numpy bool, None or NaN for unknown)."""
    return value is not None and not pd.isna(value) and bool(value)


def kinds_of(shelter: pd.Series | dict[str, Any]) -> str:
    return "・".join(label for key, label in (("is_welfare_shelter", "福祉避難所"), ("is_designated_shelter", "指定避難所"),
                                              ("is_emergency_site", "指定緊急避難場所")) if flag(shelter[key]))


class DestinationJudge:
    """Today's hazards at every shelter of the city, ready to judge residents one by one."""

    def __init__(self, shelters: pd.DataFrame, zones: gpd.GeoDataFrame | HazardIndex, evacuation: EvacuationProfile,
                 metric_crs: CRS):
        self.shelters = shelters.sort_values("id", kind="stable").reset_index(drop=True)
        self.index = zones if isinstance(zones, HazardIndex) else HazardIndex(zones)
        self.exposure = self.index.exposure(self.shelters["lon"].to_numpy(), self.shelters["lat"].to_numpy())
        self.safety = destination_safety(self.exposure, self.shelters)
        self.sites = to_metric(self.shelters["lon"].to_numpy(), self.shelters["lat"].to_numpy(), metric_crs)
        self.evacuation = evacuation
        self.metric_crs = metric_crs
        self.row_of_id = {int(i): n for n, i in enumerate(self.shelters["id"])}
        self.row_of_code = {str(c): n for n, c in enumerate(self.shelters["code"])}
        self.records = self.shelters.to_dict("records")  # one dict per shelter: quicker to walk than rows

    def home_exposure(self, resident: pd.DataFrame) -> pd.DataFrame:
        return self.index.exposure(resident["lon"].to_numpy(), resident["lat"].to_numpy())

    def verdicts(self, resident: pd.DataFrame, suggestion: Suggestion, agreements: dict[int, Any]) -> list[Verdict]:
        """Every shelter of the city for the one resident in ``resident`` (the engine's resident
        columns); ``agreements``: 福祉避難所 shelter id -> agreed date."""
        shelters = self.shelters
        exposure = self.home_exposure(resident)
        bits = int(resident_hazard_bits(exposure)[0])
        eligible = eligible_for(bits, shelters, self.safety.safe)
        needs = needs_frame(resident)
        limit = self.walk_limit(resident, needs)
        access_needs = (bool(needs["barrier_free"].iloc[0]), bool(needs["power"].iloc[0]))
        home = to_metric(resident["lon"].to_numpy(), resident["lat"].to_numpy(), self.metric_crs)[0]
        distance = np.hypot(*(self.sites - home).T) * self.evacuation.detour_factor
        roles = {suggestion.destination_id: ASSESSED, suggestion.second_id: SECOND}
        verdicts = []
        for n, shelter in enumerate(self.records):
            shelter_id = int(shelter["id"])
            role = AGREED if shelter_id in agreements else roles.get(shelter_id)
            floor = int(self.safety.floor[n]) or None
            base = Verdict(str(shelter["code"]), str(shelter["name"]), kinds_of(shelter), False,
                           distance_m=float(round(distance[n])), floor=floor)
            problem = self._problem(n, shelter, bits, bool(eligible[n]), role, float(distance[n]), limit, access_needs)
            if problem is not None:
                verdicts.append(replace(base, problem=problem))
                continue
            why = _role_text(role, float(distance[n]), limit, agreements.get(shelter_id))
            verdicts.append(replace(base, allowed=True, why=[why, basis_text(bits, shelter, floor or 0)],
                                    role=role or NEARBY))
        return sorted(verdicts, key=lambda v: (not v.allowed, ROLE_ORDER.get(v.role or "", 9), v.distance_m or 0))

    def walk_limit(self, resident: pd.DataFrame, needs: pd.DataFrame | None = None) -> float:
        """The longest walk (m) a plan may ask of the one resident in ``resident`` (0: none at all)."""
        needs = needs_frame(resident) if needs is None else needs
        return float(walk_limit_m(resident, needs, self.evacuation.walk_limits)[0])

    def _problem(self, n: int, shelter: dict[str, Any], bits: int, eligible: bool, role: str | None, distance: float,
                 limit: float, access_needs: tuple[bool, bool]) -> str | None:
        name = shelter["name"]
        if not self.safety.safe[n]:
            return f"{name}は{self.safety.problems[n]}にあり、大雨のときの避難先として安全ではありません。"
        if not eligible:
            hazards = "・".join(HAZARD_LABELS[h] for bit, h in HAZARD_BITS.items() if bits & bit)
            return (f"{name}は、ご自宅の危険（{hazards}）の避難場所に指定されていません。" if hazards
                    else f"{name}は指定避難所ではありません。")
        welfare_only = flag(shelter["is_welfare_shelter"]) and not flag(shelter["is_designated_shelter"])
        if welfare_only and role != AGREED:
            return (f"{name}は福祉避難所です。受け入れの約束（協定）がある方だけが、開設を確かめてから直接避難できます"
                    "（福祉避難所ガイドライン）。")
        barrier, power = access_needs
        if role is None and barrier and not flag(shelter["barrier_free"]):
            return f"{name}は、段差のない（バリアフリーの）施設だと確かめられていません。"
        if role is None and power and not flag(shelter["backup_power"]):
            return f"{name}は、医療機器の電源（非常用電源）があると確かめられていません。"
        if role is None and distance > limit:
            return (f"{name}はご自宅から約{distance / 1000:.1f}kmで、歩ける上限（{limit / 1000:.1f}km）を超えます。"
                    "避難判定の避難先・第2の避難先から選んでください。")
        return None

    def shelter_part(self, code: str | None) -> dict[str, Any] | None:
        """The fingerprint of a destination: its designations and today's hazards there."""
        n = self.row_of_code.get(code or "")
        if n is None:
            return None
        shelter = self.shelters.iloc[n]
        problem = self.safety.problems[n]
        return {"code": code, "name": str(shelter["name"]), "flood": flag(shelter["hazard_flood"]),
                "inland_flood": flag(shelter["hazard_inland_flood"]), "landslide": flag(shelter["hazard_landslide"]),
                "designated": flag(shelter["is_designated_shelter"]), "welfare": flag(shelter["is_welfare_shelter"]),
                "usable_floors": None if pd.isna(shelter["usable_floors"]) else int(shelter["usable_floors"]),
                "depth": int(self.safety.depth[n]), "zone": problem or None,
                "location": f"{float(shelter['lon']):.5f},{float(shelter['lat']):.5f}"}

    def home_part(self, resident: pd.DataFrame) -> dict[str, Any]:
        e = self.home_exposure(resident).iloc[0]
        values = {c: int(e[c]) for c in EXPOSURE_COLUMNS if c not in ("collapse_flow", "collapse_erosion")}
        values["collapse"] = bool(e["collapse_flow"] or e["collapse_erosion"])
        return {key: values[key] for key in FINGERPRINT_LABELS["home"]}


def _role_text(role: str | None, distance: float, limit: float, agreed_on: Any) -> str:
    if role == ASSESSED:
        return "避難判定の避難先です。"
    if role == SECOND:
        return "避難判定の第2の避難先です。"
    if role == AGREED:
        when = f"（{to_wareki(agreed_on)}）" if agreed_on is not None else ""
        return f"受け入れの約束があります{when}。開設を確かめてから直接向かいます。"
    return f"歩いて行ける範囲です（約{distance / 1000:.1f}km、上限{limit / 1000:.1f}km）。"
