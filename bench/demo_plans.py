"""Plan contexts of a sample of the demo city's residents, for the plan and map benchmarks
(set-up time is not measured)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from disaster.db import make_engine, session_factory
from disaster.models import Resident
from disaster.plans.context import load_residents, plan_contexts
from disaster.plans.render import MapData
from disaster.resources import DEMO_DATA_DIR
from disaster.usecases.demo import load_demo
from disaster.usecases.plans import map_data


def demo_plans(folder: Path, count: int) -> tuple[list[dict[str, Any]], MapData]:
    """Load the demo bundle into a SQLite store in ``folder``; ``count`` residents spread over the
    city, as plan contexts, and the map data of the whole city."""
    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    sessions = session_factory(engine)
    city_code = load_demo(engine, sessions, DEMO_DATA_DIR).city_code
    with sessions() as session:
        ids = list(session.scalars(select(Resident.id).order_by(Resident.id)))[:: max(1, 3000 // count)][:count]
        plans = plan_contexts(session, load_residents(session, ids), dt.date.today())
        data = map_data(session, city_code, None)
    engine.dispose()
    return plans, data
