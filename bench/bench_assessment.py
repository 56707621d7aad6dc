"""Benchmark: the full assessment (exposure + decision + destination + 福祉避難所 assignment
+ priority + supporter gaps) on 1k, 10k and 100k synthetic residents, against a
straightforward per-person loop (unindexed point-in-polygon, a scan over all shelters per
person, NetworkX min-cost flow) timed on a sample in the same run.

    python -m bench.bench_assessment [--sizes 1000 10000 100000] [--sample 300]
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from bench.synthetic import synthetic_inputs
from disaster.analysis.decision import _decide_one, reachable_floor
from disaster.analysis.eligibility import destination_safety, eligible_for
from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.exposure import HazardIndex
from disaster.analysis.needs import needs_frame
from disaster.codes import HazardLayer
from disaster.demodata.spec import demo_city_code
from disaster.profile import load_profile

GEOD = Geod(ellps="GRS80")


def loop_baseline(inputs: AssessmentInputs) -> tuple[list[str], list[int]]:
    """Per person: test every zone, scan every shelter, then NetworkX min-cost flow for welfare."""
    residents, shelters, zones = inputs.residents, inputs.shelters, inputs.zones
    needs = needs_frame(residents)
    reach, unknown = reachable_floor(residents, needs["barrier_free"].to_numpy())
    safe = destination_safety(HazardIndex(zones).exposure(shelters["lon"].to_numpy(), shelters["lat"].to_numpy()),
                              shelters).safe
    decisions, nearest = [], []
    flow = nx.DiGraph()
    for i, person in enumerate(residents.itertuples()):
        point = shapely.Point(person.lon, person.lat)
        ranks = {layer.value: 0 for layer in HazardLayer}
        kind = klass = 0
        for zone in zones.itertuples():
            if zone.geometry.contains(point):
                ranks[zone.layer] = max(ranks[zone.layer], 1 if pd.isna(zone.rank) else int(zone.rank))
                if zone.layer == HazardLayer.LANDSLIDE.value and zone.landslide_class >= klass:
                    kind, klass = int(zone.landslide_kind), int(zone.landslide_class)
        depth = max(ranks["flood_l2_depth"], ranks["inland_flood"])
        decision, _ = _decide_one(klass, kind, ranks["collapse_flow"], ranks["collapse_erosion"], depth, int(reach[i]),
                                  int(unknown[i]), 0, ranks["flood_duration"], int(needs["dependent"].iat[i]))
        decisions.append(decision)
        bits = (1 if ranks["flood_l1_depth"] or ranks["flood_l2_depth"] or ranks["collapse_flow"] or ranks["collapse_erosion"] else 0) \
            | (2 if ranks["inland_flood"] else 0) | (4 if klass else 0)
        best, best_distance = -1, np.inf
        eligible = eligible_for(bits, shelters, safe)
        for j, shelter in enumerate(shelters.itertuples()):
            if not eligible[j] or (shelter.is_welfare_shelter and not shelter.is_designated_shelter):
                continue
            if needs["barrier_free"].iat[i] and shelter.barrier_free is not True:
                continue
            distance = GEOD.inv(person.lon, person.lat, shelter.lon, shelter.lat)[2]
            if distance < best_distance:
                best, best_distance = j, distance
            if shelter.is_welfare_shelter and needs["welfare_needed"].iat[i]:
                flow.add_edge(("p", i), ("s", j), capacity=1, weight=int(distance))
        nearest.append(best)
        if needs["welfare_needed"].iat[i]:
            flow.add_edge(("p", i), "unplaced", capacity=1, weight=10**7)
            flow.nodes[("p", i)]["demand"] = -1
    people = sum(1 for node in flow.nodes if isinstance(node, tuple) and node[0] == "p")
    for node in list(flow.nodes):
        if isinstance(node, tuple) and node[0] == "s":
            flow.add_edge(node, "sink", capacity=int(shelters["capacity"].iat[node[1]] or 0), weight=0)
    if people:
        flow.add_edge("unplaced", "sink", capacity=people, weight=0)
        flow.nodes["sink"]["demand"] = people
        nx.min_cost_flow(flow)
    return decisions, nearest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    profile = load_profile(demo_city_code())
    params = AssessmentParameters(profile.evacuation, profile.crs)
    print(f"{'residents':>10} {'engine s':>9} {'per 1k s':>9}")
    timings = {}
    for size in args.sizes:
        inputs = synthetic_inputs(size)
        assess(inputs, params)  # warm-up (imports, caches)
        best = min(_timed(lambda inputs=inputs: assess(inputs, params)) for _ in range(2))
        timings[size] = best
        print(f"{size:>10,} {best:>9.3f} {best / size * 1000:>9.4f}")
    sample = synthetic_inputs(args.sample, seed=11)
    baseline = _timed(lambda: loop_baseline(sample))
    engine_result = assess(sample, params)
    decisions, _ = loop_baseline(sample)
    agree = np.mean(np.array(decisions) == engine_result["decision"].to_numpy())
    per_person_loop = baseline / args.sample
    largest = max(timings)
    per_person_engine = timings[largest] / largest
    print(f"\nloop baseline: {args.sample} residents in {baseline:.2f} s = {per_person_loop * 1000:.2f} ms/person "
          f"(decisions agree with the engine on {agree:.0%})")
    print(f"engine at {largest:,}: {per_person_engine * 1000:.4f} ms/person -> speed-up {per_person_loop / per_person_engine:.0f}x")
    print(f"loop baseline extrapolated to {largest:,}: {per_person_loop * largest:.0f} s")
    sizes = sorted(timings)
    if len(sizes) > 1:
        growth = np.polyfit(np.log(sizes), np.log([timings[s] for s in sizes]), 1)[0]
        print(f"growth exponent (time ~ n^k): k = {growth:.2f}")


def _timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
