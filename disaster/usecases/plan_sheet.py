"""One resident's plan as the leader's page shows it beside the form: the plan as it prints now
(the assessment in plain words with the plan record applied, as ``disaster.plans.context`` builds
it for the PDF) and its small map (home, destination, second option, hazards, route) as SVG.

The resident must be in the principal's view (``access.resident_filter``); the caller records the read.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access
from disaster.access import Action, Principal
from disaster.models import Assessment
from disaster.plans.context import load_residents, plan_contexts
from disaster.usecases.plan_records import printed_records
from disaster.usecases.residents import locate, shown_plan_warnings

MAP_MM = (92.0, 72.0)  # drawn at the PDF's size and shown at the page's width: its labels grow with it
AROUND_DEG = 0.02  # hazard zones loaded around the home (as for the PDF)


@dataclass(frozen=True)
class PlanSheet:
    plan: dict[str, Any] | None  # the printed plan's context; None before the first assessment
    map_svg: str | None  # an SVG document (no script, no style attribute), None without a map


def plan_sheet(sessions: sessionmaker[Session], principal: Principal, resident_no: str, today: dt.date,
               with_map: bool = True) -> PlanSheet:
    """The plan of the resident as it prints today, and its map."""
    from disaster.plans.render import plan_markers  # the optional extra "pdf" (as the PDF route)
    from disaster.usecases.plans import map_data
    from maps.static_svg import Route

    with sessions() as session:
        resident_id, district = locate(session, principal, resident_no)
        access.require(principal, Action.READ_RESIDENTS, district)
        if session.scalar(select(Assessment.resident_id).where(Assessment.resident_id == resident_id)) is None:
            return PlanSheet(None, None)
        residents = load_residents(session, [resident_id])
        (plan,) = plan_contexts(session, residents, today, printed_records(session, principal, residents))
        shown_plan_warnings(session, principal, [plan], [resident_id])
        home = residents[0]
        data = map_data(session, principal.city_code, (home.lon - AROUND_DEG, home.lat - AROUND_DEG,
                                                       home.lon + AROUND_DEG, home.lat + AROUND_DEG)) if with_map else None
    if data is None:
        return PlanSheet(plan, None)
    route = plan.get("route")
    svg = data.painter().svg(plan_markers(plan), *MAP_MM,
                             route=Route(list(route["coords"]), bool(route["is_road"])) if route else None)
    return PlanSheet(plan, svg)


def data_uri(svg: str) -> str:
    """The map as an image address (the page shows it as an <img>, its text is the image's)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
