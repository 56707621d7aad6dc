"""Hazard files: A31a layers 10/20/30/41/42, old A31 codes, A33, 内水 by layer override."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from disaster.codes import HazardLayer
from disaster.importers.geofile import GeoFileError
from disaster.importers.problems import ImportRejected
from disaster.models import Dataset, HazardZone
from disaster.usecases.imports import import_hazards
from tests.helpers import snapshot, square, write_geojson


def _a31a(tmp_path: Path, name: str, group: int, ranks: list[int]) -> Path:
    features = [
        (square(130.47 + i * 0.01, 33.28, 0.01),
         {f"A31a_{group}01": "8909060001", f"A31a_{group}02": "筑後川", f"A31a_{group}03": "1",
          f"A31a_{group}04": "国土交通省", f"A31a_{group}05": rank})
        for i, rank in enumerate(ranks)
    ]
    return write_geojson(tmp_path / name, features)


def _zones(store) -> list[HazardZone]:
    with store.sessions() as session:
        return list(session.scalars(select(HazardZone).order_by(HazardZone.id)))


@pytest.mark.parametrize(
    ("name", "group", "layer"),
    [
        ("A31a-10-23_8909060001.geojson", 1, HazardLayer.FLOOD_L1_DEPTH),
        ("A31a-20-23_8909060001.geojson", 2, HazardLayer.FLOOD_L2_DEPTH),
        ("A31a-30-23_8909060001.geojson", 3, HazardLayer.FLOOD_DURATION),
        ("A31a-41-23_8909060001.geojson", 4, HazardLayer.COLLAPSE_FLOW),
        ("A31a-42-23_8909060001.geojson", 4, HazardLayer.COLLAPSE_EROSION),
    ],
)
def test_a31a_layers_are_detected(store, tmp_path: Path, name: str, group: int, layer: HazardLayer) -> None:
    import_hazards(store.sessions, [_a31a(tmp_path, name, group, [1, 2])], city_code=store.city_code)
    zones = _zones(store)
    assert {z.layer for z in zones} == {layer.value}
    assert {z.river_name for z in zones} == {"筑後川"}
    expected_ranks = [None, None] if group == 4 else [1, 2]
    assert [z.rank for z in zones] == expected_ranks


def test_duration_rank_7_is_valid_but_depth_rank_7_is_not(store, tmp_path: Path) -> None:
    import_hazards(store.sessions, [_a31a(tmp_path, "A31a-30.geojson", 3, [7])], city_code=store.city_code)
    before = snapshot(store)
    with pytest.raises(ImportRejected) as caught:
        import_hazards(store.sessions, [_a31a(tmp_path, "A31a-20.geojson", 2, [1, 7])], city_code=store.city_code)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.field) == ("A31a-20.geojson", 2, "A31a_205")
    assert snapshot(store) == before


def test_old_a31_depth_codes_map_to_a31a_ranks_conservatively(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "A31-12.geojson", [
        (square(130.47 + i * 0.01, 33.28, 0.01), {"A31_001": code}) for i, code in enumerate([11, 13, 14, 15, 24, 25, 27])
    ])
    import_hazards(store.sessions, [path], river_name="筑後川", city_code=store.city_code)
    assert [z.rank for z in _zones(store)] == [1, 2, 3, 4, 2, 3, 4]
    assert {z.layer for z in _zones(store)} == {HazardLayer.FLOOD_L1_DEPTH.value}


def test_a33_landslide_zones_keep_phenomenon_and_class(store, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "A33-22_40.geojson", [
        (square(130.60, 33.28, 0.002), {"A33_001": 2, "A33_002": 1, "A33_003": "40", "A33_004": "Y-1", "A33_005": "竹野川"}),
        (square(130.60, 33.28, 0.001), {"A33_001": 2, "A33_002": 2, "A33_003": "40", "A33_004": "R-1", "A33_005": "竹野川"}),
    ])
    import_hazards(store.sessions, [path], city_code=store.city_code)
    zones = _zones(store)
    assert [(z.layer, z.landslide_kind, z.landslide_class, z.source_feature) for z in zones] == [
        ("landslide", 2, 1, "Y-1"), ("landslide", 2, 2, "R-1")]


def test_inland_flood_needs_the_layer_override(store, tmp_path: Path) -> None:
    path = _a31a(tmp_path, "naisui.geojson", 2, [1, 2])
    import_hazards(store.sessions, [path], layer=HazardLayer.INLAND_FLOOD, is_demo=True, city_code=store.city_code)
    zones = _zones(store)
    assert {z.layer for z in zones} == {"inland_flood"} and all(z.is_demo for z in zones)


def test_reimport_replaces_the_dataset_instead_of_adding(store, tmp_path: Path) -> None:
    path = _a31a(tmp_path, "A31a-20.geojson", 2, [1, 2, 3])
    import_hazards(store.sessions, [path], city_code=store.city_code)
    import_hazards(store.sessions, [path], city_code=store.city_code)
    assert len(_zones(store)) == 3
    path = _a31a(tmp_path, "A31a-20.geojson", 2, [4])  # an updated edition of the same file
    import_hazards(store.sessions, [path], city_code=store.city_code)
    assert [z.rank for z in _zones(store)] == [4]
    with store.sessions() as session:
        assert session.scalar(select(Dataset.feature_count).where(Dataset.source == "A31a-20.geojson")) == 1


def test_unknown_schema_and_wrong_layer_are_explained(store, tmp_path: Path) -> None:
    unknown = write_geojson(tmp_path / "x.geojson", [(square(130.47, 33.28, 0.01), {"depth": 2})])
    with pytest.raises(GeoFileError, match="A31a"):
        import_hazards(store.sessions, [unknown], city_code=store.city_code)
    landslide = write_geojson(tmp_path / "a33.geojson", [(square(130.47, 33.28, 0.01), {"A33_001": 1, "A33_002": 1})])
    with pytest.raises(GeoFileError, match="A33"):
        import_hazards(store.sessions, [landslide], layer=HazardLayer.FLOOD_L2_DEPTH, city_code=store.city_code)
