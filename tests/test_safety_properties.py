"""Safety properties of the assessment engine, checked by the independent plan-safety audit.

Hypothesis builds small cities where the rain hazards OVERLAP (landslide zones over flood
depth, 家屋倒壊等 zones, 内水), with shelters inside and outside them (some GSI-designated for
floods with usable upper floors, 福祉避難所 with small capacities and agreements) and residents of
every mobility; the engine assesses them and the audit must find no violation that is the
toolkit's fault. The hand-built cities below pin the cases named in issue 10.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from disaster.analysis import engine
from disaster.analysis.travel import RoadNetwork
from disaster.audit import AuditInputs, Kind, Violation, check_assessments
from disaster.codes import CARE_LEVELS, MEDICAL_DEVICES, MOBILITY_LEVELS, HazardLayer
from disaster.profile import WalkLimits, load_profile
from tests.audit_fixtures import X0, Y0, D, at, cell, resident, shelter, welfare_shelter, zone, zones
from tests.conftest import KURUME

GRID = 6  # cells per side (about 6 km)
DEPTH_LAYERS = (HazardLayer.FLOOD_L1_DEPTH, HazardLayer.FLOOD_L2_DEPTH, HazardLayer.INLAND_FLOOD)
WELFARE_GROUPS = ("要介護高齢者", "障害者", "医療的ケア", "要介護高齢者・障害者・医療的ケア")


# --- running the engine and the audit ---

def _parameters(night: bool = False) -> Any:
    """The engine's parameters from the city profile (or its defaults, for an engine without)."""
    names = {f.name for f in dataclasses.fields(engine.AssessmentParameters)}
    if "evacuation" in names:
        profile = load_profile(KURUME)
        return engine.AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs,  # type: ignore[call-arg]
                                           night=night)
    from disaster.analysis.travel import TravelParameters  # the engine before issue 10

    return engine.AssessmentParameters(travel=TravelParameters(night=night))


def _walk_limits(params: Any) -> WalkLimits:
    """The walk limits the engine was run with (its parameters, else the profile defaults)."""
    for holder in (params, getattr(params, "travel", None), getattr(params, "evacuation", None)):
        limits = getattr(holder, "walk_limits", None)
        if isinstance(limits, WalkLimits):
            return limits
        if isinstance(limits, dict):
            return WalkLimits(**limits)
    return WalkLimits()


def run(residents: list[dict[str, Any]], shelters: list[dict[str, Any]], hazard_zones: gpd.GeoDataFrame,
        agreements: list[tuple[int, int]] = (), night: bool = False,  # type: ignore[assignment]
        supporters: list[dict[str, Any]] = (), links: list[tuple[int, int]] = (),  # type: ignore[assignment]
        roads: Any = None) -> tuple[pd.DataFrame, list[Violation]]:
    """Assess with the engine; audit its result. Returns (assessments, toolkit violations)."""
    people, places = pd.DataFrame(residents), pd.DataFrame(shelters)
    agreed = pd.DataFrame(list(agreements), columns=["resident_id", "shelter_id"])
    available = {
        "residents": people, "shelters": places, "zones": hazard_zones,
        "supporters": pd.DataFrame(list(supporters), columns=["id", "lon", "lat", "relation", "consent"]),
        "links": pd.DataFrame(list(links), columns=["resident_id", "supporter_id"]),
        "agreements": agreed, "welfare_agreements": agreed,
    }
    wanted = {f.name for f in dataclasses.fields(engine.AssessmentInputs)}
    params = _parameters(night)
    network = RoadNetwork(roads, _parameters().metric_crs) if roads is not None else None
    result = engine.assess(engine.AssessmentInputs(**{k: v for k, v in available.items() if k in wanted}), params, network)
    found = check_assessments(AuditInputs(result, people, places, hazard_zones, agreed, _walk_limits(params),
                                          evacuation=getattr(params, "evacuation", None)))
    return result, [v for v in found if v.kind is Kind.TOOLKIT]


def explain(found: list[Violation], result: pd.DataFrame) -> str:
    columns = [c for c in ("resident_id", "decision", "destination_kind", "destination_shelter_id", "second_shelter_id",
                           "welfare_shelter_id", "welfare_direct", "distance_m", "travel_mode", "walk_min",
                           "start_trigger", "start_margin_min", "destination_floor") if c in result.columns]
    lines = [f"{v.resident_no} {v.rule.value}: {v.message}" for v in found[:12]]
    return "\n".join([f"{len(found)} toolkit violations", *lines, result[columns].to_string()])


# --- generated cities ---

def _jitter() -> st.SearchStrategy[float]:
    return st.floats(-0.4, 0.4, allow_nan=False)  # stays inside its cell: never on a zone edge


@st.composite
def points(draw: st.DrawFn, spread: int = 1) -> tuple[float, float]:
    i, j = draw(st.integers(0, GRID * spread - 1)), draw(st.integers(0, GRID - 1))
    return at(i + draw(_jitter()), j + draw(_jitter()))


@st.composite
def hazard(draw: st.DrawFn) -> dict[str, Any]:
    i, j = draw(st.integers(0, GRID - 1)), draw(st.integers(0, GRID - 1))
    shape = cell(i, j, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    layer = draw(st.sampled_from([*DEPTH_LAYERS, HazardLayer.FLOOD_L2_DEPTH, HazardLayer.LANDSLIDE,
                                  HazardLayer.COLLAPSE_FLOW, HazardLayer.COLLAPSE_EROSION, HazardLayer.FLOOD_DURATION]))
    if layer in DEPTH_LAYERS:
        return zone(layer, shape, rank=draw(st.integers(1, 6)))
    if layer == HazardLayer.FLOOD_DURATION:
        return zone(layer, shape, rank=draw(st.integers(1, 5)))
    if layer == HazardLayer.LANDSLIDE:
        return zone(layer, shape, landslide_class=draw(st.integers(1, 4)), landslide_kind=draw(st.integers(1, 3)))
    return zone(layer, shape)


@st.composite
def overlapping(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A landslide zone over deep flood water and a 家屋倒壊等 strip inside it: always present."""
    i, j = draw(st.integers(0, GRID - 3)), draw(st.integers(0, GRID - 3))
    return [zone(HazardLayer.FLOOD_L2_DEPTH, cell(i, j, 3, 3), rank=draw(st.integers(2, 4))),
            zone(HazardLayer.LANDSLIDE, cell(i + 1, j + 1, 2, 1), landslide_class=draw(st.integers(1, 2)), landslide_kind=2),
            zone(HazardLayer.COLLAPSE_FLOW, cell(i, j, 1, 3)),
            zone(HazardLayer.INLAND_FLOOD, cell(i + 1, j, 2, 2), rank=draw(st.integers(1, 3)))]


def road_grid(columns: int, river: int | None, bridge: int) -> nx.Graph:
    """Streets every half cell over ``columns`` x GRID cells; a river east of column ``river``
    that only the street at row ``bridge`` crosses (a long detour for everyone else)."""
    graph = nx.Graph()
    step = 0.5
    xs, ys = int(columns / step) + 1, int(GRID / step) + 1
    for a in range(xs):
        for b in range(ys):
            graph.add_node((a, b), x=X0 + a * step * D, y=Y0 + b * step * D)
    for a in range(xs):
        for b in range(ys):
            if a + 1 < xs and (river is None or a != int(river / step) or b == int(bridge / step)):
                graph.add_edge((a, b), (a + 1, b))
            if b + 1 < ys:
                graph.add_edge((a, b), (a, b + 1))
    return graph


@dataclasses.dataclass
class City:
    residents: list[dict[str, Any]]
    shelters: list[dict[str, Any]]
    hazards: list[dict[str, Any]]
    agreements: list[tuple[int, int]]
    night: bool
    supporters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    links: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    roads: tuple[int, int | None, int] | None = None  # (columns, river column, bridge row)

    def __repr__(self) -> str:
        """Compact, in grid cells (x, y from the south-west corner), so a failing example reads at a glance."""
        def xy(lon: float, lat: float) -> str:
            return f"({(lon - X0) / D:.2f},{(lat - Y0) / D:.2f})"

        lines = ["City("]
        for z in self.hazards:
            x0, y0, x1, y1 = z["geometry"].bounds
            extra = f" rank={z['rank']}" if z["rank"] else f" class={z['landslide_class']}" if z["landslide_class"] else ""
            lines.append(f"  zone {z['layer']}{extra} x {(x0 - X0) / D:.0f}-{(x1 - X0) / D:.0f} y {(y0 - Y0) / D:.0f}-{(y1 - Y0) / D:.0f}")
        for s in self.shelters:
            kind = "福祉" if s["is_welfare_shelter"] else "指定"
            lines.append(f"  shelter {s['id']} {kind} at {xy(s['lon'], s['lat'])} flood={s['hazard_flood']} "
                         f"floors={s['usable_floors']} bf={s['barrier_free']} power={s['backup_power']} "
                         f"cap={s['capacity']} groups={s['accepted_groups']} direct={s['accepts_direct']}")
        for r in self.residents:
            lines.append(f"  resident {r['id']} at {xy(r['lon'], r['lat'])} {r['mobility']} {r['care_level']} "
                         f"{r['medical_devices']} floors={r['building_floors']} bedroom={r['bedroom_floor']} "
                         f"flat={r['home_floor']} stairs={r['can_use_stairs']} alone={r['lives_alone']} "
                         f"own={r['preferred_shelter_code'] or r['preferred_destination']}")
        for p in self.supporters:
            lines.append(f"  supporter {p['id']} at {xy(p['lon'], p['lat'])} {p['relation']} consent={p['consent']}")
        lines.append(f"  links {self.links} agreements {self.agreements} night={self.night} roads={self.roads})")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how Hypothesis prints a falsifying example
        printer.text(repr(self))


@st.composite
def cities(draw: st.DrawFn) -> City:
    hazards = draw(overlapping()) + draw(st.lists(hazard(), max_size=6))
    spread = draw(st.sampled_from([1, 1, 4]))  # sometimes shelters up to 24 km away: cars, early starts, unworkable
    shelters = []
    for sid in range(1, draw(st.integers(2, 7)) + 1):
        designated = draw(st.booleans())
        fields = {"hazard_flood": designated, "hazard_landslide": draw(st.booleans()),
                  "hazard_inland_flood": draw(st.booleans()),
                  "usable_floors": draw(st.integers(1, 5)) if designated else draw(st.sampled_from([1, 2, None])),
                  "barrier_free": draw(st.sampled_from([True, False, None])),
                  "backup_power": draw(st.sampled_from([True, False, None]))}
        shelters.append(shelter(sid, draw(points(spread)), **fields))
    for sid in range(len(shelters) + 1, len(shelters) + draw(st.integers(0, 3)) + 1):
        shelters.append(welfare_shelter(sid, draw(points(spread)), accepted_groups=draw(st.sampled_from(WELFARE_GROUPS)),
                                        capacity=draw(st.integers(1, 3)), accepts_direct=draw(st.booleans()),
                                        hazard_flood=draw(st.booleans()), usable_floors=draw(st.integers(1, 4))))
    welfare_ids = [s["id"] for s in shelters if s["is_welfare_shelter"]]
    residents, agreements = [], []
    for rid in range(1, draw(st.integers(1, 14)) + 1):
        floors = draw(st.integers(1, 5))
        flat = draw(st.booleans())
        preferred = draw(st.sampled_from([None, None, None, *(s["code"] for s in shelters)]))
        residents.append(resident(
            rid, draw(points()),
            mobility=draw(st.sampled_from(MOBILITY_LEVELS)), care_level=draw(st.sampled_from([None, *CARE_LEVELS])),
            medical_devices=draw(st.lists(st.sampled_from(MEDICAL_DEVICES), max_size=2, unique=True)),
            building_floors=floors, bedroom_floor=draw(st.integers(1, floors)),
            home_floor=draw(st.integers(1, floors)) if flat else None, can_use_stairs=draw(st.sampled_from([True, False, None])),
            lives_alone=draw(st.booleans()), preferred_shelter_code=preferred,
            preferred_destination=draw(st.sampled_from([None, None, "長女宅"])) if preferred is None else None))
        if welfare_ids and draw(st.booleans()):
            agreements.append((rid, draw(st.sampled_from(welfare_ids))))
    supporters, links = [], []
    for sid in range(1, draw(st.integers(0, 4)) + 1):
        lon, lat = draw(points())
        supporters.append({"id": sid, "lon": lon, "lat": lat, "relation": draw(st.sampled_from(["家族", "近隣住民", "民生委員"])),
                           "consent": draw(st.booleans())})
        links += [(r["id"], sid) for r in residents if draw(st.booleans())]
    roads = draw(st.one_of(st.none(), st.tuples(st.just(GRID * spread), st.one_of(st.none(), st.integers(1, GRID - 2)),
                                                   st.integers(0, GRID - 1))))
    return City(residents, shelters, hazards, agreements, draw(st.booleans()), supporters, links, roads)


@settings(max_examples=int(os.environ.get("DISASTER_SAFETY_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          print_blob=True)
@given(cities())
def test_the_engine_never_produces_a_toolkit_violation(city: City) -> None:
    result, found = run(city.residents, city.shelters, zones(*city.hazards), city.agreements, city.night,
                        city.supporters, city.links, road_grid(*city.roads) if city.roads else None)
    event("road graph" if city.roads else "straight lines")
    for column in ("decision", "travel_mode", "start_trigger", "destination_kind"):
        for value in result[column].dropna().unique() if column in result else []:
            event(f"{column}={value}")
    assert found == [], explain(found, result)


# --- hand-built cities: the cases named in issue 10 ---

def test_a_landslide_home_is_not_sent_to_the_nearest_welfare_shelter_in_deep_water() -> None:
    """Home in a 土砂災害警戒区域; the nearest 福祉避難所 stands in 3-5 m water, a dry one is 3 km away."""
    hazard_zones = zones(zone(HazardLayer.LANDSLIDE, cell(0, 0, 2, 2), landslide_class=2, landslide_kind=2),
                         zone(HazardLayer.FLOOD_L2_DEPTH, cell(2, 0, 2, 2), rank=3))
    home = resident(1, at(0.5, 0.5), mobility="寝たきり", care_level="要介護5", medical_devices=["電動ベッド"])
    places = [shelter(1, at(5, 5)), welfare_shelter(2, at(2.5, 0.5)), welfare_shelter(3, at(5, 2))]
    result, found = run([home], places, hazard_zones, agreements=[(1, 2), (1, 3)])
    assert found == [], explain(found, result)
    row = result.iloc[0]
    assert row["decision"] == "leave"
    assert 2 not in {row["destination_shelter_id"], row.get("welfare_shelter_id"), row["second_shelter_id"]}


def test_a_flood_home_is_not_sent_to_a_welfare_shelter_in_a_landslide_zone() -> None:
    hazard_zones = zones(zone(HazardLayer.FLOOD_L2_DEPTH, cell(0, 0, 2, 2), rank=3),
                         zone(HazardLayer.LANDSLIDE, cell(2, 0, 1, 1), landslide_class=1, landslide_kind=1))
    home = resident(1, at(0.5, 0.5), mobility="車いす", care_level="要介護4")
    places = [shelter(1, at(4, 4)), welfare_shelter(2, at(2, 0)), welfare_shelter(3, at(4, 1))]
    result, found = run([home], places, hazard_zones, agreements=[(1, 2)])
    assert found == [], explain(found, result)
    assert 2 not in {result.iloc[0]["destination_shelter_id"], result.iloc[0].get("welfare_shelter_id")}


def test_a_bedridden_ventilator_user_far_from_every_shelter_is_not_told_to_walk() -> None:
    """The only 福祉避難所 is 12 km away: no walking leg, no silent negative margin."""
    hazard_zones = zones(zone(HazardLayer.LANDSLIDE, cell(0, 0), landslide_class=2, landslide_kind=2))
    home = resident(1, at(0, 0), mobility="寝たきり", care_level="要介護5", medical_devices=["人工呼吸器"])
    far = (X0 + 12 * D, Y0 + 0.5 * D)
    result, found = run([home], [shelter(1, (far[0] - 0.5 * D, far[1])), welfare_shelter(2, far)], hazard_zones)
    assert found == [], explain(found, result)
    row = result.iloc[0]
    assert row.get("travel_mode") != "walk"


def test_a_flood_designated_shelter_with_upper_floors_is_used_from_the_floor_needed() -> None:
    """0.5-3 m of water at a GSI flood-designated shelter usable to floor 3: people use floor 2 and up."""
    hazard_zones = zones(zone(HazardLayer.FLOOD_L2_DEPTH, cell(0, 0, 3, 1), rank=2),
                         zone(HazardLayer.LANDSLIDE, cell(0, 0), landslide_class=1, landslide_kind=1))
    home = resident(1, at(0, 0))
    result, found = run([home], [shelter(1, at(1.8, 0), hazard_flood=True, usable_floors=3)], hazard_zones)
    assert found == [], explain(found, result)
    row = result.iloc[0]
    assert row["destination_shelter_id"] == 1 and row.get("destination_floor") == 2, explain(found, result)


def test_a_home_or_shelter_on_a_zone_edge_counts_as_inside() -> None:
    """The edge of a zone belongs to it: a home on the edge of a red 土砂災害特別警戒区域 must leave,
    and a shelter on the edge of a 家屋倒壊等氾濫想定区域 is not used. (The generated cities above
    keep points off the edges, so that this policy is tested here alone.)"""
    red = zones(zone(HazardLayer.LANDSLIDE, cell(0, 0), landslide_class=2, landslide_kind=2))
    result, found = run([resident(1, (X0 + D, Y0 + 0.5 * D))], [shelter(1, at(3, 0))], red)
    assert found == [] and result.iloc[0]["decision"] == "leave", explain(found, result)
    hazards = zones(zone(HazardLayer.LANDSLIDE, cell(0, 0), landslide_class=1, landslide_kind=1),
                    zone(HazardLayer.COLLAPSE_FLOW, cell(2, 0)))
    result, found = run([resident(1, at(0, 0))], [shelter(1, (X0 + 2 * D, Y0 + 0.5 * D)), shelter(2, at(5, 0))], hazards)
    assert found == [] and result.iloc[0]["destination_shelter_id"] == 2, explain(found, result)


def test_an_unsafe_own_choice_of_a_welfare_facility_is_not_a_direct_trip() -> None:
    """A resident wants a 福祉避難所 (no agreement) that lies in a landslide zone: the plan may keep
    the wish as flagged, but never sends the person there directly; with the same facility outside
    the zone the engine already plans 指定避難所 first and transfer."""
    slide = zones(zone(HazardLayer.LANDSLIDE, cell(0, 0), landslide_class=1, landslide_kind=1))
    places = [shelter(1, at(5, 0)), welfare_shelter(2, at(0, 0), accepts_direct=False)]
    home = resident(1, at(0, 0), preferred_shelter_code="S2", mobility="車いす", care_level="要介護4")
    result, found = run([home], places, slide)
    assert found == [], explain(found, result)
