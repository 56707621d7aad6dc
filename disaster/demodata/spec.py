"""The city facts and generator settings of a demo build, read from ``data/demo/<code>.toml``
(the code holds no city's names or places)."""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyproj import CRS

from disaster.profile import load_profile
from disaster.resources import demo_bundle_dir, demo_specs_dir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HazardSpec(_Strict):
    river: str
    river_code: str
    river_file_stem: str
    river_boundary_points: tuple[tuple[float, float], tuple[float, float]]
    wide_west_lon: float
    narrow_east_lon: float
    landslide_file_stem: str
    landslide_edge_points: tuple[tuple[float, float], tuple[float, float]]
    landslide_districts: list[str]
    inland_districts: list[str]


class WelfareShelterSpec(_Strict):
    name: str
    district: str
    accepted: str  # 受入対象者
    capacity: int = Field(gt=0)
    direct: bool
    backup_power: bool
    placement: Literal["safe", "deep_water", "landslide"]


class DemoSpec(_Strict):
    city_code: str
    prefecture: str
    city: str
    seed: int
    residents: int
    gsi_files: list[str]
    gsi_source: str
    n03_file: str
    district_table: str
    landline_prefix: str
    near_towns: list[str]
    far_places: list[str]
    sample_district: str  # the 校区 `disaster demo` writes sample plans, maps and an exercise pack for
    hazards: HazardSpec
    welfare_shelters: list[WelfareShelterSpec]

    @property
    def address_prefix(self) -> str:
        return self.prefecture + self.city

    @property
    def crs(self) -> CRS:
        """The demo city's metric CRS (from its profile)."""
        return load_profile(self.city_code).crs


def demo_city_code() -> str:
    """The 団体コード of the bundled demo dataset (its manifest)."""
    return str(json.loads((demo_bundle_dir() / "manifest.json").read_text(encoding="utf-8"))["city_code"])


def spec_path(city_code: str) -> Path:
    return demo_specs_dir() / f"{city_code}.toml"


@lru_cache
def load_spec(city_code: str | None = None) -> DemoSpec:
    """The demo spec of ``city_code`` (default: the city of the bundled demo dataset)."""
    path = spec_path(city_code or demo_city_code())
    return DemoSpec.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
