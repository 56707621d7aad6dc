"""The assessment pipeline over whole frames (vectorised where it matters)."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from disaster.analysis.assignment import Candidates, assign
from disaster.analysis.decision import Decision, decide
from disaster.analysis.eligibility import basis_text, disqualified, eligible_for, resident_hazard_bits
from disaster.analysis.exposure import EXPOSURE_COLUMNS, HazardIndex
from disaster.analysis.needs import is_true, needs_frame, shelter_categories
from disaster.analysis.priority import priority
from disaster.analysis.reasons import Reason, reason
from disaster.analysis.supporters import MAX_RESIDENTS_PER_SUPPORTER, supporter_at_risk, supporter_issues
from disaster.analysis.travel import (
    RoadNetwork,
    TravelParameters,
    prepare_minutes,
    start_advice,
    to_metric,
    walking_speed,
)
from disaster.geo import METRIC_CRS, WGS84

WELFARE_CANDIDATES = 8
VEHICLE_ADVISED_MIN = 45  # walking longer than this: plan a car  # nearest eligible 福祉避難所 offered to the assignment per person


@dataclass
class AssessmentInputs:
    """Frames as loaded by the use-case. ``residents`` has the Resident columns (id, lon, lat,
    district, needs fields, preferred_*); ``shelters`` the Shelter columns; ``zones`` layer,
    rank, landslide_kind, landslide_class, geometry; ``supporters`` id, lon, lat, relation,
    consent; ``links`` resident_id, supporter_id."""

    residents: pd.DataFrame
    shelters: pd.DataFrame
    zones: gpd.GeoDataFrame
    supporters: pd.DataFrame
    links: pd.DataFrame


@dataclass(frozen=True)
class AssessmentParameters:
    travel: TravelParameters = field(default_factory=TravelParameters)
    max_residents_per_supporter: int = MAX_RESIDENTS_PER_SUPPORTER

    def as_dict(self) -> dict[str, object]:
        return {**self.travel.__dict__, "max_residents_per_supporter": self.max_residents_per_supporter}


def assess(inputs: AssessmentInputs, params: AssessmentParameters, network: RoadNetwork | None = None) -> pd.DataFrame:
    """One row per resident with every ``models.Assessment`` column."""
    residents = inputs.residents.reset_index(drop=True)
    shelters = inputs.shelters.reset_index(drop=True)
    index = HazardIndex(inputs.zones)
    needs = needs_frame(residents)
    exposure = index.exposure(residents["lon"].to_numpy(), residents["lat"].to_numpy())
    decision = decide(residents, exposure, needs)
    shelter_exposure = index.exposure(shelters["lon"].to_numpy(), shelters["lat"].to_numpy())
    blocked = disqualified(shelter_exposure)
    bits = resident_hazard_bits(exposure)
    home = to_metric(residents["lon"].to_numpy(), residents["lat"].to_numpy())
    sites = to_metric(shelters["lon"].to_numpy(), shelters["lat"].to_numpy())
    speed = walking_speed(residents, needs["care_index"].to_numpy(), params.travel.night)
    prepare = prepare_minutes(needs, residents, params.travel)

    supporter_exposure = index.exposure(inputs.supporters["lon"].fillna(0).to_numpy(),
                                        inputs.supporters["lat"].fillna(0).to_numpy())
    counts, supporter_notes = supporter_issues(
        residents["id"].to_numpy(), residents["consent_share"].to_numpy(), inputs.supporters, inputs.links,
        supporter_at_risk(supporter_exposure), params.max_residents_per_supporter)
    score, score_reasons = priority(residents, exposure, needs, counts)

    first, second, relaxed = _nearest_regular(bits, needs, shelters, blocked, home, sites)
    chosen = first.copy()
    kind = np.array(["shelter" if f >= 0 else None for f in first], dtype=object)
    welfare_needed = needs["welfare_needed"].to_numpy()
    leave = decision["decision"].to_numpy() == Decision.LEAVE.value
    own_shelter = _own_shelter(residents, shelters)
    own_text = residents["preferred_destination"].fillna("").to_numpy()
    has_own = (own_shelter >= 0) | (own_text != "")

    capacity = shelters["capacity"].fillna(0).to_numpy(dtype=int).copy()
    np.subtract.at(capacity, own_shelter[own_shelter >= 0], 1)
    seekers = np.flatnonzero(welfare_needed & leave & ~has_own)
    placed = _assign_welfare(seekers, bits, needs, shelters, blocked, home, sites, speed, params, capacity, score)
    welfare_placed = placed >= 0
    chosen[seekers[welfare_placed]] = placed[welfare_placed]
    kind[seekers[welfare_placed]] = "welfare"
    second[seekers[welfare_placed]] = first[seekers[welfare_placed]]
    unplaced = np.zeros(len(residents), dtype=bool)
    unplaced[seekers[~welfare_placed]] = True

    chosen[own_shelter >= 0] = own_shelter[own_shelter >= 0]
    kind[own_shelter >= 0] = np.where(shelters["is_welfare_shelter"].to_numpy()[own_shelter[own_shelter >= 0]], "welfare", "shelter")
    text_only = (own_shelter < 0) & (own_text != "")
    chosen[text_only] = -1
    kind[text_only] = "own_choice"
    second[(own_shelter >= 0) | text_only] = first[(own_shelter >= 0) | text_only]

    distance = _distances(home, sites, chosen, params.travel.detour_factor, network)
    travel = distance / speed / 60.0
    margin = params.travel.lead_time_min - prepare - travel
    deep = index.deep_water()
    # Routes through 0.5 m+ water, for homes outside it (a home in deep water is already told
    # to leave early by its decision reasons).
    home_depth = np.maximum(exposure["flood_l2_rank"].to_numpy(), exposure["inland_rank"].to_numpy())
    routes = np.flatnonzero((chosen >= 0) & (home_depth < 2))
    crosses = np.zeros(len(residents), dtype=bool)
    if len(routes) and not deep.is_empty:
        lines = shapely.linestrings(np.stack([home[routes], sites[chosen[routes]]], axis=1))
        metric_deep = gpd.GeoSeries([deep], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
        shapely.prepare(metric_deep)
        crosses[routes] = shapely.intersects(lines, metric_deep)

    reasons = _destination_reasons(residents, shelters, bits, chosen, kind, own_shelter, text_only, relaxed, unplaced,
                                   blocked, distance, travel, prepare, margin, crosses)
    result = pd.DataFrame({"resident_id": residents["id"].to_numpy()})
    for column in EXPOSURE_COLUMNS:
        result[column] = exposure[column].to_numpy()
    result = pd.concat([result, decision], axis=1)
    shelter_ids = np.append(shelters["id"].to_numpy(dtype=int), -1)  # index -1 -> id -1 (none)
    result["destination_kind"] = kind
    result["destination_shelter_id"] = shelter_ids[chosen]
    result["destination_text"] = np.where(text_only, own_text, None)
    result["destination_reasons"] = reasons
    result["second_shelter_id"] = shelter_ids[second]
    result["welfare_needed"] = welfare_needed
    result["welfare_unplaced"] = unplaced
    has_route = chosen >= 0
    result["distance_m"] = np.where(has_route, distance, np.nan)
    result["walk_speed_mps"] = speed
    result["travel_min"] = np.where(has_route, travel, np.nan)
    result["prepare_min"] = prepare
    result["start_margin_min"] = np.where(has_route, margin, np.nan)
    result["crosses_deep_water"] = crosses
    result["priority_score"] = score
    result["priority_reasons"] = score_reasons
    result["supporter_count"] = counts
    result["supporter_issues"] = supporter_notes
    result["district"] = residents["district"].to_numpy()
    return result


def _needs_mask(shelters: pd.DataFrame, barrier: bool, power: bool) -> np.ndarray:
    mask = np.ones(len(shelters), dtype=bool)
    if barrier:
        mask &= is_true(shelters["barrier_free"])
    if power:
        mask &= is_true(shelters["backup_power"])
    return mask


def _nearest_regular(bits: np.ndarray, needs: pd.DataFrame, shelters: pd.DataFrame, blocked: dict[int, np.ndarray],
                     home: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest suitable non-welfare shelter per resident (index or -1);
    ``relaxed`` marks residents for whom no shelter met their access needs."""
    n = len(bits)
    first, second = np.full(n, -1), np.full(n, -1)
    relaxed = np.zeros(n, dtype=bool)
    regular = ~shelters["is_welfare_shelter"].to_numpy() | shelters["is_designated_shelter"].to_numpy()
    barrier, power = needs["barrier_free"].to_numpy(), needs["power"].to_numpy()
    keys = bits * 4 + barrier * 2 + power
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        hazard_ok = eligible_for(int(key) // 4, shelters, blocked) & regular
        mask = hazard_ok & _needs_mask(shelters, bool(key & 2), bool(key & 1))
        if not mask.any():
            mask = hazard_ok
            relaxed[members] = mask.any()
        if not mask.any():
            continue
        candidates = np.flatnonzero(mask)
        k = min(2, len(candidates))
        _, nearest = cKDTree(sites[candidates]).query(home[members], k=k)
        nearest = nearest.reshape(len(members), k)
        first[members] = candidates[nearest[:, 0]]
        if k == 2:
            second[members] = candidates[nearest[:, 1]]
    return first, second, relaxed


def _own_shelter(residents: pd.DataFrame, shelters: pd.DataFrame) -> np.ndarray:
    codes = {code: i for i, code in enumerate(shelters["code"])}
    return residents["preferred_shelter_code"].map(lambda c: codes.get(c, -1) if c else -1).to_numpy(dtype=int)


def _assign_welfare(seekers: np.ndarray, bits: np.ndarray, needs: pd.DataFrame, shelters: pd.DataFrame,
                    blocked: dict[int, np.ndarray], home: np.ndarray, sites: np.ndarray, speed: np.ndarray,
                    params: AssessmentParameters, capacity: np.ndarray, score: np.ndarray) -> np.ndarray:
    """福祉避難所 index per seeker (or -1), capacity-constrained and priority-aware."""
    if len(seekers) == 0:
        return np.empty(0, dtype=int)
    welfare = shelters["is_welfare_shelter"].to_numpy() & is_true(shelters["accepts_direct"])
    categories = shelter_categories(shelters["accepted_groups"])
    need_cols = ("welfare_elderly_care", "welfare_disability", "welfare_medical")
    need = needs.loc[seekers, list(need_cols)].to_numpy()
    barrier, power = needs["barrier_free"].to_numpy()[seekers], needs["power"].to_numpy()[seekers]
    keys = bits[seekers] * 64 + need @ np.array([4, 2, 1]) * 4 + barrier * 2 + power
    people, targets, costs = [], [], []
    for key in np.unique(keys):
        local = np.flatnonzero(keys == key)
        wants = need[local[0]]
        mask = welfare & eligible_for(int(key) // 64, shelters, blocked) & _needs_mask(shelters, bool(key & 2), bool(key & 1))
        if wants[2]:  # medical care needs a shelter that takes it
            mask &= categories["welfare_medical"].to_numpy()
        else:
            mask &= np.any(categories[[c for c, w in zip(need_cols, wants, strict=True) if w]].to_numpy(), axis=1)
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0:
            continue
        k = min(WELFARE_CANDIDATES, len(candidates))
        dist, nearest = cKDTree(sites[candidates]).query(home[seekers[local]], k=k)
        dist, nearest = dist.reshape(len(local), k), nearest.reshape(len(local), k)
        minutes = dist * params.travel.detour_factor / speed[seekers[local], None] / 60.0
        people.append(np.repeat(local, k))
        targets.append(candidates[nearest].ravel())
        costs.append(np.round(minutes * 10).astype(np.int64).ravel())
    if not people:
        return np.full(len(seekers), -1)
    arcs = Candidates(np.concatenate(people), np.concatenate(targets), np.concatenate(costs))
    return assign(len(seekers), capacity, arcs, score[seekers])


def _distances(home: np.ndarray, sites: np.ndarray, chosen: np.ndarray, detour: float,
               network: RoadNetwork | None) -> np.ndarray:
    distance = np.full(len(home), np.nan)
    routed = np.flatnonzero(chosen >= 0)
    if not len(routed):
        return distance
    if network is None:
        distance[routed] = np.linalg.norm(home[routed] - sites[chosen[routed]], axis=1) * detour
    else:
        distance[routed] = network.path_lengths(home[routed], sites, np.column_stack([np.arange(len(routed)), chosen[routed]]))
    return distance


def _destination_reasons(residents: pd.DataFrame, shelters: pd.DataFrame, bits: np.ndarray, chosen: np.ndarray,
                         kind: np.ndarray, own_shelter: np.ndarray, text_only: np.ndarray, relaxed: np.ndarray,
                         unplaced: np.ndarray, blocked: dict[int, np.ndarray], distance: np.ndarray,
                         travel: np.ndarray, prepare: np.ndarray, margin: np.ndarray,
                         crosses: np.ndarray) -> list[list[Reason]]:
    names = shelters["name"].to_numpy()
    accepted = shelters["accepted_groups"].to_numpy()
    rows = [shelters.iloc[i] for i in range(len(shelters))]
    eligible_cache: dict[int, np.ndarray] = {}
    basis_cache: dict[tuple[int, int], str] = {}
    advice_cache: dict[tuple[int, int, bool], str] = {}
    out: list[list[Reason]] = []
    for i in range(len(residents)):
        items: list[Reason] = []
        target = chosen[i]
        if text_only[i]:
            items.append(reason("OWN_CHOICE", "ご本人が希望する避難先です（親戚・知人宅など）。道のりと時間は一緒に確認してください。"))
        elif target < 0:
            items.append(reason("NO_SHELTER", "条件に合う避難所が見つかりません。市（地域福祉課）に相談してください。"))
        else:
            if own_shelter[i] >= 0:
                items.append(reason("OWN_CHOICE", f"ご本人が希望する避難先（{names[target]}）です。"))
                eligible = eligible_cache.setdefault(int(bits[i]), eligible_for(int(bits[i]), shelters, blocked))
                if not eligible[target]:
                    items.append(reason("OWN_CHOICE_IN_HAZARD", "ただし、この避難先はご自宅の危険に対応していないか、危険な区域の中にあります。見直しを相談してください。"))
            elif kind[i] == "welfare":
                items.append(reason("WELFARE_ASSIGNED", f"{names[target]}（福祉避難所）に直接避難できます。受入対象: {accepted[target]}。"))
            else:
                key = (int(bits[i]), int(target))
                if key not in basis_cache:
                    basis_cache[key] = basis_text(key[0], rows[target])
                items.append(reason("NEAREST_SUITABLE", f"{names[target]}は、ご自宅から近い避難所で、{basis_cache[key]}"))
            if unplaced[i]:
                items.append(reason("WELFARE_FULL", "福祉避難所の受け入れ枠が足りないため、まずこの避難所へ避難し、福祉避難所への移動を相談します。"))
            if relaxed[i]:
                items.append(reason("ACCESS_UNCONFIRMED", "バリアフリーや非常用電源が確認できた避難所がないため、事前に設備を確認してください。"))
            minutes = max(1, round(travel[i]))
            items.append(reason("DISTANCE", f"距離は約{_round_distance(distance[i])}、歩いて約{minutes}分です。"))
            timing = (round(prepare[i]), minutes, bool(margin[i] >= 0))
            if timing not in advice_cache:
                advice_cache[timing] = start_advice(*timing)
            items.append(reason("START", advice_cache[timing]))
            if travel[i] > VEHICLE_ADVISED_MIN:
                items.append(reason("VEHICLE_ADVISED", f"歩くと約{round(travel[i])}分かかるため、車での移動（家族・支援者・福祉タクシーなど）を前もって決めておきましょう。"))
            if crosses[i]:
                items.append(reason("DEEP_WATER_ROUTE", "途中に0.5m以上浸水するおそれのある場所があります。水が出る前に移動するか、別の道を確認してください。"))
        out.append(items)
    return out


def _round_distance(metres: float) -> str:
    if metres < 1000:
        return f"{int(round(metres, -1))}m"
    return f"{metres / 1000:.1f}km"
