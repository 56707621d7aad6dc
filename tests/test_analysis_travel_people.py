"""Walking speeds, preparation, road-network distances, priority and supporter gaps."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.needs import needs_frame, shelter_categories
from disaster.analysis.travel import RoadNetwork, to_metric, walking_speed
from disaster.codes import HazardLayer
from disaster.profile import EvacuationProfile, WalkSpeeds
from tests.analysis_fixtures import METRIC_CRS, box, centre, frame, no_supporters, resident, shelter, zones

PARAMS = AssessmentParameters(EvacuationProfile(), METRIC_CRS)


@pytest.mark.parametrize(
    ("fields", "speed"),
    [({}, 1.0), ({"mobility": "杖・歩行器"}, 0.5), ({"care_level": "要支援1"}, 0.5),
     ({"mobility": "車いす"}, 0.8), ({"mobility": "寝たきり"}, 0.5)],
)
def test_walking_speeds_follow_guidance(fields: dict, speed: float) -> None:
    residents = frame([resident(1, centre(0), **fields)])
    care = needs_frame(residents)["care_index"].to_numpy()
    assert walking_speed(residents, care, WalkSpeeds(), night=False)[0] == speed
    assert walking_speed(residents, care, WalkSpeeds(), night=True)[0] == pytest.approx(speed * 0.8)


def _inputs(residents: list[dict], shelters: list[dict], hazard=None, supporters=None, links=None) -> AssessmentInputs:
    s, lk = no_supporters()
    return AssessmentInputs(frame(residents), frame(shelters), hazard if hazard is not None else zones(),
                            s if supporters is None else supporters, lk if links is None else links)


def test_straight_line_distance_uses_the_detour_factor_and_timing() -> None:
    home, site = centre(0), centre(3)
    straight = float(np.linalg.norm(np.diff(to_metric(np.array([home[0], site[0]]), np.array([home[1], site[1]]), METRIC_CRS), axis=0)))
    params = AssessmentParameters(EvacuationProfile(detour_factor=1.5, lead_time_min=60), METRIC_CRS)
    result = assess(_inputs([resident(1, home, mobility="杖・歩行器", lives_alone=True)], [shelter(1, site)]), params)
    row = result.iloc[0]
    assert row["distance_m"] == pytest.approx(straight * 1.5)
    # ~4.2 km is far beyond the 500 m walking limit with a cane: by car at 20 km/h, not 2+ hours on foot
    assert row["travel_mode"] == "car"
    assert row["travel_min"] == pytest.approx(straight * 1.5 / (20_000 / 60))
    assert row["walk_min"] == pytest.approx(straight * 1.5 / 0.5 / 60)
    assert row["prepare_min"] == 40  # base 10 + living alone 10 + the driver's arrival 20
    assert row["start_margin_min"] == pytest.approx(60 - 40 - row["travel_min"])
    assert row["start_trigger"] == "level3"
    start = next(r["text"] for r in row["destination_reasons"] if r["code"] == "START")
    # outside every zone, the trip is optional: the text says "if you leave"
    assert start.startswith("避難する場合は、警戒レベル3（高齢者等避難）が出たらすぐ出発")


def test_road_graph_distances_follow_the_network(tmp_path: Path) -> None:
    # An L-shaped road: home (0) -> corner (1) -> shelter (2); the straight line is shorter.
    graph = nx.Graph()
    (x0, y0), (x2, y2) = centre(0), centre(2, 2)
    graph.add_node("a", x=x0, y=y0)
    graph.add_node("b", x=x2, y=y0)
    graph.add_node("c", x=x2, y=y2)
    corner = to_metric(np.array([x0, x2, x2]), np.array([y0, y0, y2]), METRIC_CRS)
    graph.add_edge("a", "b", length=float(np.linalg.norm(corner[1] - corner[0])))
    graph.add_edge("b", "c", length=float(np.linalg.norm(corner[2] - corner[1])))
    path = tmp_path / "roads.graphml"
    nx.write_graphml(graph, path)
    network = RoadNetwork.from_graphml(path, METRIC_CRS)
    result = assess(_inputs([resident(1, centre(0))], [shelter(1, centre(2, 2))]), PARAMS, network)
    expected = np.linalg.norm(corner[1] - corner[0]) + np.linalg.norm(corner[2] - corner[1])
    assert result.iloc[0]["distance_m"] == pytest.approx(expected, rel=1e-6)
    # the stored route follows the road through the corner, not the straight line
    route = shapely.from_wkb(result.iloc[0]["route"])
    assert result.iloc[0]["route_is_road"]
    assert shapely.get_coordinates(route).tolist()[1:-1] == [[x0, y0], [x2, y0], [x2, y2]]


def test_priority_ranks_power_dependent_and_red_zone_people_first() -> None:
    hazard = zones((HazardLayer.LANDSLIDE, box(5), {"landslide_kind": 1, "landslide_class": 2}))
    people = [
        resident(1, centre(0)),
        resident(2, centre(0), medical_devices=["人工呼吸器"], care_level="要介護5"),
        resident(3, centre(5)),
        resident(4, centre(0), lives_alone=True),
    ]
    result = assess(_inputs(people, [shelter(1, centre(9))], hazard), PARAMS).set_index("resident_id")
    order = result["priority_score"].sort_values(ascending=False).index.tolist()
    assert order[:2] == [2, 3] and order[-1] == 1
    codes = [r["code"] for r in result.loc[2, "priority_reasons"]]
    assert {"POWER_DEVICE", "CARE_LEVEL", "NO_SUPPORTER"} <= set(codes)


def test_supporter_gaps() -> None:
    hazard = zones((HazardLayer.FLOOD_L2_DEPTH, box(3), {"rank": 2}))
    people = [resident(i, centre(0), consent_share=i != 5) for i in range(1, 7)]
    supporters = pd.DataFrame([
        {"id": 10, "lon": centre(3)[0], "lat": centre(3)[1], "relation": "近隣住民", "consent": True},  # lives in deep water
        {"id": 11, "lon": centre(0)[0], "lat": centre(0)[1], "relation": "民生委員", "consent": True},  # supports 4
        {"id": 12, "lon": centre(0)[0], "lat": centre(0)[1], "relation": "家族", "consent": False},
    ])
    links = pd.DataFrame([(1, 10), (2, 11), (3, 11), (4, 11), (5, 11), (5, 12)], columns=["resident_id", "supporter_id"])
    result = assess(_inputs(people, [shelter(1, centre(9))], hazard, supporters, links), PARAMS)
    issues = result.set_index("resident_id")["supporter_issues"].map(lambda rs: {r["code"] for r in rs})
    counts = result.set_index("resident_id")["supporter_count"]
    assert issues[1] == {"SUPPORTER_AT_RISK"}
    assert issues[2] == {"SUPPORTER_OVERLOADED"}
    assert issues[5] == {"SUPPORTER_OVERLOADED", "SUPPORTER_NO_CONSENT", "NO_SHARE_CONSENT"}
    assert issues[6] == {"NO_SUPPORTER"} and counts[6] == 0 and counts[5] == 2


@pytest.mark.parametrize(("accepted", "covers"), [
    ("障がい者", {"welfare_disability"}),
    ("障害者・障碍者", {"welfare_disability"}),
    ("要介護・要支援の高齢者", {"welfare_elderly_care"}),
    ("医療的ケアが必要な方", {"welfare_medical"}),
    ("", set()),
])
def test_shelter_categories_read_the_ways_gsi_writes_people_needing_care(accepted: str, covers: set[str]) -> None:
    table = shelter_categories(pd.Series([accepted]))
    assert {column for column in table.columns if table[column].iloc[0]} == covers
