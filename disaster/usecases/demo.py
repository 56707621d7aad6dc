"""Loading the bundled demo dataset (its city included) through the real importers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from disaster.codes import HazardLayer
from disaster.demodata.people import TODAY
from disaster.usecases import imports
from disaster.usecases.exercises import import_sessions
from disaster.usecases.setup import init_city


@dataclass
class DemoLoad:
    city_code: str  # the bundle's city, registered by the load
    reports: list[imports.ImportReport] = field(default_factory=list)


def load_demo(
    engine: Engine,
    sessions: sessionmaker[Session],
    bundle: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoLoad:
    """Create the store if needed, register the bundle's city (named by its profile) and
    (re)load every file of the bundle; idempotent."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    city = manifest["city_code"]
    files = manifest["files"]
    init_city(engine, sessions, city)
    loaded = DemoLoad(city)
    reports = loaded.reports

    def step(label: str, action: Callable[[], imports.ImportReport]) -> None:
        progress(label)
        reports.append(action())

    step("市の区域", lambda: imports.import_boundary(sessions, bundle / "city_boundary.geojson", city))
    step("校区", lambda: imports.import_districts(
        sessions, bundle / "districts.geojson", city, table=bundle / "district_centres.csv", is_demo=True))
    step("避難所", lambda: imports.import_shelters(sessions, [bundle / "shelters.geojson"], city))
    for name, entry in files.items():
        if entry["kind"] == "hazards":
            layer = HazardLayer(entry["layer"]) if "layer" in entry else None
            progress(f"災害区域 {name}")
            reports.append(imports.import_hazards(sessions, [bundle / name], layer=layer, is_demo=True, city_code=city))
    step("名簿", lambda: imports.import_residents(
        sessions, bundle / "residents.csv", city, is_demo=True, today=TODAY))
    step("避難支援等実施者", lambda: imports.import_supporters(
        sessions, bundle / "supporters.csv", city, is_demo=True, today=TODAY))
    if "exercise_sessions.csv" in files:
        progress("図上訓練の記録")
        created, updated = import_sessions(sessions, city, bundle / "exercise_sessions.csv", is_demo=True)
        reports.append(imports.ImportReport("exercises", ["exercise_sessions.csv"], created, updated))
    return loaded


def sample_district(bundle: Path) -> str:
    """The 校区 the demo writes sample outputs for (the bundle's manifest)."""
    return str(json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["sample_district"])
