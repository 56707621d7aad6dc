"""The assessment pipeline over whole frames (vectorised where it matters)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pykdtree.kdtree import KDTree  # (SciPy's cKDTree alone takes ~0.3 s to import)
from pyproj import CRS

from disaster.analysis.assignment import Candidates, assign
from disaster.analysis.decision import Decision, decide
from disaster.analysis.eligibility import (
    DestinationSafety,
    basis,
    destination_safety,
    eligible_for,
    resident_hazard_bits,
)
from disaster.analysis.exposure import EXPOSURE_COLUMNS, HazardIndex
from disaster.analysis.needs import is_true, needs_frame, shelter_categories
from disaster.analysis.parallel import balanced, each_part
from disaster.analysis.priority import priority
from disaster.analysis.reason_rows import per_row, reason_lists, same
from disaster.analysis.reasons import Said, reason
from disaster.analysis.supporters import supporter_at_risk, supporter_issues
from disaster.analysis.transport import (
    StartTrigger,
    TravelMode,
    car_minutes,
    start_reason,
    start_triggers,
    transport_reason,
    trips,
    vehicle_mode,
    walk_limit_m,
    walk_minutes,
)
from disaster.analysis.travel import RoadNetwork, prepare_minutes, straight_routes, to_metric, walking_speed
from disaster.profile import EvacuationProfile

WELFARE_NEEDS = ("welfare_elderly_care", "welfare_disability", "welfare_medical")  # bits 4, 2, 1 of a reason's ``need``


@dataclass
class AssessmentInputs:
    """Frames as loaded by the use-case. ``residents`` has the Resident columns (id, lon, lat,
    district, needs fields, home_floor, preferred_*); ``shelters`` the Shelter columns; ``zones``
    layer, rank, landslide_kind, landslide_class, geometry (shapely, WGS84; plain pandas will do);
    ``supporters`` id, lon, lat, relation, consent and load (how many residents they help in all;
    counted from ``links`` when absent, i.e. when the inputs hold every link); ``links``
    resident_id, supporter_id; ``agreements`` (optional) the 福祉避難所 agreements: resident_id,
    shelter_id, agreed_on."""

    residents: pd.DataFrame
    shelters: pd.DataFrame
    zones: pd.DataFrame
    supporters: pd.DataFrame
    links: pd.DataFrame
    agreements: pd.DataFrame | None = None


@dataclass(frozen=True)
class AssessmentParameters:
    """Everything the engine assumes, from the city profile's ``[evacuation]`` section."""

    evacuation: EvacuationProfile  # load_profile(city_code).evacuation
    metric_crs: CRS  # load_profile(city_code).crs: distances are measured in it
    night: bool = False  # walking speeds × night factor

    def as_dict(self) -> dict[str, object]:
        return {**self.evacuation.model_dump(), "metric_crs": self.metric_crs.to_epsg(), "night": self.night}


@dataclass
class _Welfare:
    """The 福祉避難所 planned per resident (index or -1), agreements and why someone is unplaced."""

    shelter: np.ndarray
    direct: np.ndarray
    unplaced: np.ndarray
    unplaced_full: np.ndarray  # had candidates in reach, but they went to higher-priority people
    agreed_on: dict[tuple[int, int], str]
    candidates: list[str | None]  # a seeker's places in reach, stored: JSON [[shelter_id, cost], ...]
    claimed: np.ndarray  # the shelter (index) whose place the resident's own choice takes, -1: none


def assess(inputs: AssessmentInputs, params: AssessmentParameters, network: RoadNetwork | None = None,
           places: Mapping[int, int] | None = None) -> pd.DataFrame:
    """One row per resident with every ``models.Assessment`` column.

    The 福祉避難所 places are planned among these residents unless ``places`` gives them: the
    shelter id per seeking resident id (absent: none), as planned for the whole city from every
    resident's stored request (``welfare_candidates``, ``claimed_shelter_id``, ``priority_score``)
    by ``analysis.assignment.assign`` — what an incremental re-assessment does."""
    evac = params.evacuation
    # rows in id order: places are handed out first come, first served, so the plan must not
    # depend on the order the database happens to return rows in
    residents = inputs.residents.sort_values("id", kind="stable").reset_index(drop=True)
    shelters = inputs.shelters.sort_values("id", kind="stable").reset_index(drop=True)
    supporters = inputs.supporters.sort_values("id", kind="stable").reset_index(drop=True)
    links = inputs.links.sort_values(["resident_id", "supporter_id"], kind="stable").reset_index(drop=True)
    if "load" not in supporters:  # the inputs hold every link
        supporters["load"] = supporters["id"].map(links["supporter_id"].value_counts()).fillna(0).astype(int)
    index = HazardIndex(inputs.zones)
    needs = needs_frame(residents)
    exposure = index.exposure(residents["lon"].to_numpy(), residents["lat"].to_numpy())
    decision = decide(residents, exposure, needs)
    safety = destination_safety(index.exposure(shelters["lon"].to_numpy(), shelters["lat"].to_numpy()), shelters)
    bits = resident_hazard_bits(exposure)
    home = to_metric(residents["lon"].to_numpy(), residents["lat"].to_numpy(), params.metric_crs)
    sites = to_metric(shelters["lon"].to_numpy(), shelters["lat"].to_numpy(), params.metric_crs)
    speed = walking_speed(residents, needs["care_index"].to_numpy(), evac.walk_speeds, params.night)
    limit = walk_limit_m(residents, needs, evac.walk_limits)
    vehicle = vehicle_mode(residents, needs)
    base_prepare = prepare_minutes(needs, residents, evac.prepare)

    supporter_exposure = index.exposure(supporters["lon"].fillna(0).to_numpy(), supporters["lat"].fillna(0).to_numpy())
    counts, supporter_notes = supporter_issues(
        residents["id"].to_numpy(), residents["consent_share"].to_numpy(), supporters, links,
        supporter_at_risk(supporter_exposure), evac.max_residents_per_supporter,
        (supporters["lon"].notna() & supporters["lat"].notna()).to_numpy())
    score, score_reasons = priority(residents, exposure, needs, counts)

    first, second, relaxed = _nearest_regular(bits, needs, shelters, safety.safe, home, sites)
    n = len(residents)
    leave = decision["decision"].to_numpy() == Decision.LEAVE.value
    welfare_needed = needs["welfare_needed"].to_numpy()
    welfare_only = _welfare_only(shelters)
    own_shelter = _own_shelter(residents, shelters)
    own_text = residents["preferred_destination"].fillna("").to_numpy()
    text_only = (own_shelter < 0) & (own_text != "")
    own_ok = _own_choice_safe(own_shelter, bits, shelters, safety.safe)
    # own choice of a safe 福祉避難所: planned there (direct only with an agreement); an unsafe one
    # is never the destination (the person is planned like everyone else and told why); any other
    # shelter chosen by the resident is kept as the destination and flagged when unsafe
    own_is_welfare = (own_shelter >= 0) & _at(welfare_only, own_shelter, False)
    own_welfare = own_is_welfare & own_ok
    own_regular = (own_shelter >= 0) & ~own_is_welfare
    agreements = _agreement_pairs(inputs.agreements, residents, shelters)

    welfare = _plan_welfare(leave, welfare_needed, text_only, own_shelter, own_welfare, own_regular, agreements, bits,
                            needs, shelters, safety.safe, home, sites, speed, limit, base_prepare, evac, score, network,
                            residents["id"].to_numpy(), places)

    chosen = first.copy()
    kind = np.full(n, None, dtype=object)
    kind[first >= 0] = "shelter"
    # a 福祉避難所 agreed with this person: go there directly (once its opening is confirmed)
    direct = welfare.direct
    second[direct] = np.where(first[direct] != welfare.shelter[direct], first[direct], second[direct])
    chosen[direct] = welfare.shelter[direct]
    kind[direct] = "welfare"
    chosen[own_regular] = own_shelter[own_regular]
    second[own_regular] = np.where(first[own_regular] != own_shelter[own_regular], first[own_regular],
                                   second[own_regular])
    chosen[text_only] = -1
    kind[text_only] = "own_choice"
    second[text_only] = first[text_only]

    distance, route, route_is_road = _routes(residents, shelters, home, sites, chosen, evac.detour_factor, network)
    mode, travel, walk_min, arrange = trips(distance, speed, limit, vehicle, evac)
    prepare = base_prepare + arrange
    has_route = chosen >= 0
    margin = np.where(has_route, evac.lead_time_min - prepare - travel, np.nan)
    trigger = start_triggers(prepare + travel, evac)
    trigger[~has_route] = None
    trigger[~has_route & leave & ~text_only] = StartTrigger.NOT_WORKABLE.value
    trigger[text_only] = StartTrigger.EARLY.value
    destination_floor = np.where(has_route, _at(safety.floor, chosen, 0), 0)

    crosses = _crosses_deep_water(index, exposure, route, has_route)
    reasons = _destination_reasons(
        residents, shelters, needs, bits, chosen, second, kind, own_shelter, own_ok, own_regular, text_only, relaxed,
        welfare, safety, distance, mode, travel, walk_min, prepare, trigger, crosses, limit, destination_floor,
        decision["decision"].to_numpy())
    result = pd.DataFrame({"resident_id": residents["id"].to_numpy()})
    for column in EXPOSURE_COLUMNS:
        result[column] = exposure[column].to_numpy()
    result = pd.concat([result, decision], axis=1)
    shelter_ids = np.append(shelters["id"].to_numpy(dtype=int), -1)  # index -1 -> id -1 (none)
    result["destination_kind"] = pd.Series(kind, dtype=object)  # None, not NaN, where missing
    result["destination_shelter_id"] = shelter_ids[chosen]
    result["destination_text"] = pd.Series(np.where(text_only, own_text, None), dtype=object)  # None, not NaN, where missing
    result["destination_reasons"] = reasons
    result["second_shelter_id"] = shelter_ids[second]
    result["welfare_needed"] = welfare_needed
    result["welfare_unplaced"] = welfare.unplaced
    result["welfare_shelter_id"] = shelter_ids[welfare.shelter]
    result["welfare_direct"] = direct
    result["welfare_candidates"] = pd.Series(welfare.candidates, dtype=object)
    result["claimed_shelter_id"] = shelter_ids[welfare.claimed]
    result["distance_m"] = np.where(has_route, distance, np.nan)
    result["walk_speed_mps"] = speed
    result["travel_mode"] = pd.Series(mode, dtype=object)  # None, not NaN, where missing
    result["travel_min"] = np.where(has_route, travel, np.nan)
    result["walk_min"] = np.where(has_route, walk_min, np.nan)
    result["prepare_min"] = prepare
    result["start_margin_min"] = margin
    result["start_trigger"] = pd.Series(trigger, dtype=object)  # None, not NaN, where missing
    result["destination_floor"] = pd.Series([int(f) if f > 0 else None for f in destination_floor], dtype=object)
    result["crosses_deep_water"] = crosses
    result["route"] = pd.Series(shapely.to_wkb(route), dtype=object)  # WKB, None without a destination
    result["route_is_road"] = route_is_road
    result["priority_score"] = score
    result["priority_reasons"] = score_reasons
    result["supporter_count"] = counts
    result["supporter_issues"] = supporter_notes
    result["district"] = residents["district"].to_numpy()
    return result


def _at(values: np.ndarray, index: np.ndarray, default: object) -> np.ndarray:
    """``values[index]`` with ``default`` where index is -1 (also when ``values`` is empty)."""
    out = np.full(len(index), default, dtype=values.dtype)
    known = index >= 0
    if len(values):
        out[known] = values[index[known]]
    return out


def _welfare_only(shelters: pd.DataFrame) -> np.ndarray:
    """福祉避難所 that are not also 指定避難所 (they are not offered as ordinary shelters)."""
    return is_true(shelters["is_welfare_shelter"]) & ~is_true(shelters["is_designated_shelter"])


def _needs_mask(shelters: pd.DataFrame, barrier: bool, power: bool) -> np.ndarray:
    mask = np.ones(len(shelters), dtype=bool)
    if barrier:
        mask &= is_true(shelters["barrier_free"])
    if power:
        mask &= is_true(shelters["backup_power"])
    return mask


SECOND_CANDIDATES = 6  # nearest shelters looked at for a second option
SEPARATE_PLACE_M = 200.0  # a second option nearer than this to the first is the same place


def _nearest_regular(bits: np.ndarray, needs: pd.DataFrame, shelters: pd.DataFrame, safe: np.ndarray,
                     home: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest safe, suitable non-welfare shelter per resident (index or -1);
    ``relaxed`` marks residents for whom no shelter met their access needs."""
    n = len(bits)
    first, second = np.full(n, -1), np.full(n, -1)
    relaxed = np.zeros(n, dtype=bool)
    regular = ~_welfare_only(shelters)
    barrier, power = needs["barrier_free"].to_numpy(), needs["power"].to_numpy()
    keys = bits * 4 + barrier * 2 + power
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        hazard_ok = eligible_for(int(key) // 4, shelters, safe) & regular
        mask = hazard_ok & _needs_mask(shelters, bool(key & 2), bool(key & 1))
        if not mask.any():
            mask = hazard_ok
            relaxed[members] = mask.any()
        if not mask.any():
            continue
        candidates = np.flatnonzero(mask)
        k = min(SECOND_CANDIDATES, len(candidates))
        _, nearest = KDTree(sites[candidates]).query(home[members], k=k)
        nearest = nearest.astype(np.intp).reshape(len(members), k)
        first[members] = candidates[nearest[:, 0]]
        if k >= 2:  # the second option is another place, not the same school's gym
            picks = candidates[nearest[:, 1:]]
            apart = np.linalg.norm(sites[picks] - sites[first[members]][:, None, :], axis=2) > SEPARATE_PLACE_M
            found = apart.any(axis=1)
            second[members[found]] = picks[found, apart[found].argmax(axis=1)]
    return first, second, relaxed


def _own_shelter(residents: pd.DataFrame, shelters: pd.DataFrame) -> np.ndarray:
    codes = {code: i for i, code in enumerate(shelters["code"])}
    return residents["preferred_shelter_code"].map(lambda c: codes.get(c, -1) if c else -1).to_numpy(dtype=int)


def _own_choice_safe(own: np.ndarray, bits: np.ndarray, shelters: pd.DataFrame, safe: np.ndarray) -> np.ndarray:
    """Whether each resident's chosen shelter is safe and suits the hazards at home."""
    ok = np.zeros(len(own), dtype=bool)
    chosen = own >= 0
    for key in np.unique(bits[chosen]):
        members = np.flatnonzero(chosen & (bits == key))
        ok[members] = eligible_for(int(key), shelters, safe)[own[members]]
    return ok


def _agreement_pairs(agreements: pd.DataFrame | None, residents: pd.DataFrame,
                     shelters: pd.DataFrame) -> dict[tuple[int, int], str]:
    """(resident index, shelter index) -> the date agreed, ISO (empty when unknown)."""
    if agreements is None or agreements.empty:
        return {}
    person = {rid: i for i, rid in enumerate(residents["id"])}
    site = {sid: j for j, sid in enumerate(shelters["id"])}
    pairs: dict[tuple[int, int], str] = {}
    for rid, sid, agreed in zip(agreements["resident_id"], agreements["shelter_id"],
                                agreements.get("agreed_on", pd.Series([None] * len(agreements))), strict=True):
        if rid in person and sid in site:
            pairs[(person[rid], site[sid])] = dt.date(agreed.year, agreed.month, agreed.day).isoformat() \
                if isinstance(agreed, dt.date) else ""
    return pairs


def _plan_welfare(leave: np.ndarray, welfare_needed: np.ndarray, text_only: np.ndarray, own: np.ndarray,
                  own_welfare: np.ndarray, own_regular: np.ndarray, agreements: dict[tuple[int, int], str],
                  bits: np.ndarray, needs: pd.DataFrame, shelters: pd.DataFrame, safe: np.ndarray, home: np.ndarray,
                  sites: np.ndarray, speed: np.ndarray, limit: np.ndarray, prepare: np.ndarray,
                  evac: EvacuationProfile, score: np.ndarray, network: RoadNetwork | None, resident_ids: np.ndarray,
                  places: Mapping[int, int] | None) -> _Welfare:
    """The 福祉避難所 for each person who must leave and needs one (or has an agreement). People
    who chose an ordinary shelter keep it and are planned a 福祉避難所 for transfer."""
    n = len(leave)
    planned = np.full(n, -1)
    claimed = np.where(own_welfare | own_regular, own, -1)
    capacity = shelters["capacity"].fillna(0).to_numpy(dtype=int).copy()
    np.subtract.at(capacity, claimed[claimed >= 0], 1)
    planned[own_welfare] = own[own_welfare]
    agreed_people = np.zeros(n, dtype=bool)
    agreed_people[[p for p, _ in agreements]] = True
    seekers = np.flatnonzero(leave & (welfare_needed | agreed_people) & ~text_only & ~own_welfare)
    arcs = _welfare_candidates(seekers, agreements, bits, needs, shelters, safe, home, sites, speed, limit, prepare,
                               evac, network)
    if places is None:
        placed = assign(len(seekers), capacity, arcs, score[seekers])
    else:
        site = {int(sid): j for j, sid in enumerate(shelters["id"].tolist())}
        placed = np.array([site.get(places.get(rid, -1), -1) for rid in resident_ids[seekers].tolist()], dtype=int)
    had_candidates = np.zeros(len(seekers), dtype=bool)
    had_candidates[arcs.person] = True
    planned[seekers] = placed
    unplaced = np.zeros(n, dtype=bool)
    unplaced[seekers[placed < 0]] = True
    full = np.zeros(n, dtype=bool)
    full[seekers[(placed < 0) & had_candidates]] = True
    direct = np.array([planned[i] >= 0 and (i, int(planned[i])) in agreements for i in range(n)], dtype=bool) \
        if agreements else np.zeros(n, dtype=bool)
    direct &= ~own_regular  # the resident's own choice stays the destination
    candidates: list[str | None] = [None] * n
    for k, text in enumerate(_candidates_json(arcs, len(seekers), shelters["id"].to_numpy())):
        candidates[int(seekers[k])] = text
    return _Welfare(planned, direct, unplaced, full, agreements, candidates, claimed)


def _candidates_json(arcs: Candidates, n_seekers: int, shelter_ids: np.ndarray) -> list[str]:
    """Per seeker: their arcs as stored, JSON ``[[shelter_id, cost], ...]`` in (shelter, cost) order."""
    order = np.lexsort((arcs.cost, arcs.shelter, arcs.person))
    person = arcs.person[order].tolist()
    pairs = [f"[{sid},{cost}]" for sid, cost in zip(shelter_ids[arcs.shelter[order]].tolist(),
                                                    arcs.cost[order].tolist(), strict=True)]
    parts: list[list[str]] = [[] for _ in range(n_seekers)]
    for k, pair in zip(person, pairs, strict=True):
        parts[k].append(pair)
    return ["[" + ",".join(p) + "]" for p in parts]


def _welfare_candidates(seekers: np.ndarray, agreements: dict[tuple[int, int], str], bits: np.ndarray,
                        needs: pd.DataFrame, shelters: pd.DataFrame, safe: np.ndarray, home: np.ndarray,
                        sites: np.ndarray, speed: np.ndarray, limit: np.ndarray, prepare: np.ndarray,
                        evac: EvacuationProfile, network: RoadNetwork | None) -> Candidates:
    """The places each seeker (arc person: index into ``seekers``) reaches, with their cost.

    Candidates are the nearest safe 福祉避難所 that accept the person's needs and that the person
    reaches in time by their own mode (leaving at 警戒レベル3, within the profile's longest welfare
    trip; road-graph distances when a graph is given); a place agreed with the person is always a
    candidate when it is safe and in reach, at no cost, so agreements are honoured first."""
    none = Candidates(np.empty(0, dtype=int), np.empty(0, dtype=int), np.empty(0, dtype=np.int64))
    if len(seekers) == 0:
        return none
    welfare = is_true(shelters["is_welfare_shelter"])
    categories = shelter_categories(shelters["accepted_groups"])
    need_cols = ("welfare_elderly_care", "welfare_disability", "welfare_medical")
    need = needs.loc[seekers, list(need_cols)].to_numpy()
    barrier, power = needs["barrier_free"].to_numpy()[seekers], needs["power"].to_numpy()[seekers]
    keys = bits[seekers] * 64 + need @ np.array([4, 2, 1]) * 4 + barrier * 2 + power
    people, targets, agreed = [], [], []
    for key in np.unique(keys):
        local = np.flatnonzero(keys == key)
        wants = need[local[0]]
        if not wants.any():
            continue  # only agreements (below)
        mask = welfare & eligible_for(int(key) // 64, shelters, safe) & _needs_mask(shelters, bool(key & 2), bool(key & 1))
        if wants[2]:  # medical care needs a shelter that takes it
            mask &= categories["welfare_medical"].to_numpy()
        else:
            mask &= np.any(categories[[c for c, w in zip(need_cols, wants, strict=True) if w]].to_numpy(), axis=1)
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0:
            continue
        k = min(evac.welfare_candidates, len(candidates))
        _, nearest = KDTree(sites[candidates]).query(home[seekers[local]], k=k)
        people.append(np.repeat(local, k))
        targets.append(candidates[nearest.astype(np.intp).reshape(len(local), k)].ravel())
        agreed.append(np.zeros(len(local) * k, dtype=bool))
    position = {int(p): k for k, p in enumerate(seekers)}
    for (p, s) in agreements:
        if p not in position or not welfare[s]:
            continue
        row = position[p]
        if eligible_for(int(bits[p]), shelters, safe)[s] and _needs_mask(shelters, bool(barrier[row]), bool(power[row]))[s]:
            people.append(np.array([row]))
            targets.append(np.array([s]))
            agreed.append(np.ones(1, dtype=bool))
    if not people:
        return none
    person, target, free = np.concatenate(people), np.concatenate(targets), np.concatenate(agreed)
    distance = np.linalg.norm(home[seekers[person]] - sites[target], axis=1) * evac.detour_factor
    if network is not None:
        road = network.path_lengths(home[seekers], sites, np.column_stack([person, target]))
        distance = np.where(np.isfinite(road), road, distance)
    travel, ready = _trip_minutes(distance, seekers[person], speed, limit, prepare, evac)
    fits = (travel <= evac.welfare_max_travel_min) & (travel + ready <= evac.lead_time_min)
    cost = np.where(free, 0, np.round(travel * 10)).astype(np.int64)
    return Candidates(person[fits], target[fits], cost[fits])


def _trip_minutes(distance: np.ndarray, person: np.ndarray, speed: np.ndarray, limit: np.ndarray,
                  prepare: np.ndarray, evac: EvacuationProfile) -> tuple[np.ndarray, np.ndarray]:
    """(travel minutes by the person's mode, preparation minutes incl. a driver's arrival)."""
    walk = (distance <= limit[person]) & (limit[person] > 0)
    travel = np.where(walk, walk_minutes(distance, speed[person]), car_minutes(distance, evac))
    return travel, prepare[person] + np.where(walk, 0.0, evac.car_arrange_min)


def _routes(residents: pd.DataFrame, shelters: pd.DataFrame, home: np.ndarray, sites: np.ndarray, chosen: np.ndarray,
            detour: float, network: RoadNetwork | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distance m, WGS84 LineString home -> destination, follows the road graph) per resident."""
    n = len(home)
    distance = np.full(n, np.nan)
    route = np.full(n, None, dtype=object)  # shapely LineStrings (WGS84)
    is_road = np.zeros(n, dtype=bool)
    routed = np.flatnonzero(chosen >= 0)
    if not len(routed):
        return distance, route, is_road
    origin = residents[["lon", "lat"]].to_numpy(dtype=float)[routed]
    target = shelters[["lon", "lat"]].to_numpy(dtype=float)[chosen[routed]]
    distance[routed] = np.linalg.norm(home[routed] - sites[chosen[routed]], axis=1) * detour
    route[routed] = straight_routes(origin, target)
    if network is not None:
        lengths, paths = network.paths(home[routed], sites, np.column_stack([np.arange(len(routed)), chosen[routed]]))
        for k, path in enumerate(paths):
            if path is None or not np.isfinite(lengths[k]):
                continue  # not connected by the graph: straight line, to be checked
            i = routed[k]
            distance[i] = lengths[k]
            route[i] = shapely.LineString(np.vstack([origin[k], path, target[k]]))
            is_road[i] = True
    return distance, route, is_road


def _crosses_deep_water(index: HazardIndex, exposure: pd.DataFrame, route: np.ndarray,
                        has_route: np.ndarray) -> np.ndarray:
    """Routes through 0.5 m+ water, for homes outside it (a home in deep water is already told
    to leave early by its decision reasons)."""
    home_depth = np.maximum(exposure["flood_l2_rank"].to_numpy(), exposure["inland_rank"].to_numpy())
    check = np.flatnonzero(has_route & (home_depth < 2))
    crosses = np.zeros(len(route), dtype=bool)
    deep = index.deep_water()
    if len(check) and not deep.is_empty:
        wkb = shapely.to_wkb(deep)

        def crossing(part: slice) -> np.ndarray:
            water = shapely.from_wkb(wkb)  # this thread's own copy, prepared by it
            shapely.prepare(water)
            return shapely.intersects(route[check[part]], water)

        crosses[check] = np.concatenate(each_part(crossing, balanced(np.ones(len(check)), ROUTES_PER_THREAD)))
    return crosses


ROUTES_PER_THREAD = 10_000  # fewer routes are checked in one thread


def _who_needs_vehicle(residents: pd.DataFrame, needs: pd.DataFrame) -> np.ndarray:
    """Why each person travels by vehicle (a ``reasons.VEHICLE_WHY`` key)."""
    wheelchair = residents["mobility"].fillna("").to_numpy() == "車いす"
    return np.select([needs["bedridden"].to_numpy(), needs["power"].to_numpy(), wheelchair],
                     ["bedridden", "power", "wheelchair"], default="far").astype(object)


def _destination_reasons(residents: pd.DataFrame, shelters: pd.DataFrame, needs: pd.DataFrame, bits: np.ndarray,
                         chosen: np.ndarray, second: np.ndarray, kind: np.ndarray, own_shelter: np.ndarray,
                         own_ok: np.ndarray, own_regular: np.ndarray, text_only: np.ndarray, relaxed: np.ndarray,
                         welfare: _Welfare, safety: DestinationSafety, distance: np.ndarray, mode: np.ndarray,
                         travel: np.ndarray, walk_min: np.ndarray, prepare: np.ndarray, trigger: np.ndarray,
                         crosses: np.ndarray, limit: np.ndarray, destination_floor: np.ndarray,
                         decisions: np.ndarray) -> np.ndarray:
    """Reasons per resident, a column of them at a time (one reason object per distinct one, one
    list per distinct list: ``reason_lists``). Three kinds of people: those with only their own
    destination text, those without any destination, and those with a shelter; the columns of
    each kind are in the order plans read."""
    names = [str(name) for name in shelters["name"].tolist()]
    accepted = [str(groups) for groups in shelters["accepted_groups"].fillna("").tolist()]
    rows = [shelters.iloc[i] for i in range(len(shelters))]
    need = needs[list(WELFARE_NEEDS)].to_numpy(dtype=int) @ np.array([4, 2, 1])
    who = _who_needs_vehicle(residents, needs)
    minutes = np.where(np.isfinite(travel), np.maximum(1, np.rint(np.nan_to_num(travel))), 0).astype(int)
    # distance label key: metres rounded to 10 below 1 km, else to 100 m
    d = np.nan_to_num(distance)
    distance_key = np.where(d < 1000, np.rint(d / 10) * 10, np.rint(d / 100) * 100 + 0.5)
    walking = mode == TravelMode.WALK.value
    not_workable = trigger == StartTrigger.NOT_WORKABLE.value
    planned, direct, unplaced = welfare.shelter, welfare.direct, welfare.unplaced
    nowhere = ~text_only & (chosen < 0)
    routed = ~text_only & (chosen >= 0)
    own = routed & (own_shelter >= 0)

    def column(mask: np.ndarray, make: Callable[..., Said], *values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows where ``mask`` holds, ``make(*values)`` of each): one call per distinct values."""
        where = np.flatnonzero(mask)
        return where, per_row(make, *(value[where] for value in values))

    def always(mask: np.ndarray, said: Said) -> tuple[np.ndarray, np.ndarray]:
        where = np.flatnonzero(mask)
        return where, same(said, len(where))

    def own_choice(target: int, regular: bool, ok: bool) -> Said:
        if regular:
            return reason("OWN_CHOICE.shelter", name=names[target])
        if ok:
            return reason("OWN_CHOICE.welfare", name=names[target])
        return reason("OWN_CHOICE_UNSAFE.welfare", name=names[target], problem=safety.problem_codes[target])

    def own_unsafe(target: int, other: int) -> Said:
        problem = safety.problem_codes[target]
        if other >= 0:
            return reason("OWN_CHOICE_UNSAFE.second", name=names[target], problem=problem, second=names[other])
        return reason("OWN_CHOICE_UNSAFE", name=names[target], problem=problem)

    agreed_on = np.full(len(chosen), "", dtype=object)
    agreed_on[direct] = [welfare.agreed_on.get((i, p), "")
                         for i, p in zip(np.flatnonzero(direct).tolist(), planned[direct].tolist(), strict=True)]
    entries = [
        # only the resident's own destination text
        always(text_only, reason("OWN_CHOICE")),
        column(text_only & (second >= 0), lambda s: reason("NEAREST_SUITABLE.fallback", name=names[s]), second),
        column(text_only & (limit <= 0), lambda w: transport_reason(TravelMode.WELFARE_TRANSPORT, 0, w), who),
        always(text_only, reason("START.unknown_route")),
        # no destination
        always(nowhere, reason("NO_SHELTER")),
        column(nowhere & unplaced, lambda full, k: _unplaced(full, k, None), welfare.unplaced_full, need),
        always(nowhere & not_workable, reason("NOT_WORKABLE")),
        # a shelter
        column(own, own_choice, own_shelter, own_regular, own_ok),
        column(own & own_regular & ~own_ok, own_unsafe, own_shelter, second),
        column(routed & direct, lambda p, day: reason("WELFARE_DIRECT", name=names[p], agreed=day, accepted=accepted[p]),
               planned, agreed_on),
        column(routed & ~direct & ~own_regular,
               lambda b, t: reason("NEAREST_SUITABLE", name=names[t], basis=basis(b, rows[t], int(safety.floor[t]))),
               bits, chosen),
        column(routed & ~direct & (planned >= 0),
               lambda t, p: reason("WELFARE_TRANSFER", name=names[t], welfare=names[p]), chosen, planned),
        column(routed & ~direct & (planned < 0) & unplaced,
               lambda full, k, t: _unplaced(full, k, names[t]), welfare.unplaced_full, need, chosen),
        always(routed & relaxed & (kind == "shelter"), reason("ACCESS_UNCONFIRMED")),
        column(routed & (destination_floor > 0),
               lambda t, f: reason("DESTINATION_FLOOR", name=names[t], depth=int(safety.depth[t]), floor=f),
               chosen, destination_floor.astype(int)),
        column(routed, lambda key, m, on_foot: reason("DISTANCE.walk" if on_foot else "DISTANCE.car", distance=key,
                                                      minutes=m), distance_key, minutes, walking),
        column(routed & ~walking, lambda m, metres, w: transport_reason(str(m), float(metres), str(w)), mode, limit, who),
        column(routed, lambda t, p, m, go: start_reason(str(t), p, m, go), trigger, np.rint(prepare).astype(int),
               minutes, decisions == Decision.LEAVE.value),
        always(routed & not_workable, reason("NOT_WORKABLE")),
        always(routed & crosses, reason("DEEP_WATER_ROUTE")),
    ]
    return reason_lists(len(chosen), entries)


def _unplaced(full: bool, need: int, first_name: str | None) -> Said:
    """Why a person who needs a 福祉避難所 has none planned (``need``: bits of ``WELFARE_NEEDS``)."""
    if full:
        return reason("WELFARE_UNPLACED.full_first", name=first_name) if first_name else reason("WELFARE_UNPLACED.full")
    return reason("WELFARE_UNPLACED.first", need=need, name=first_name) if first_name else reason("WELFARE_UNPLACED", need=need)
