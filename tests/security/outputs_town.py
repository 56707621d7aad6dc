"""A town whose names are hostile as file paths, stored as a hostile import would leave them
(inserted directly: the importers may refuse such identifiers, the writers must not trust that).

- the 校区 ``../../校区/x`` (path separators and ``..``) next to a plain 校区 ``北``;
- residents numbered ``../../escape``, an absolute path into the test's folder, ``..``, ``.``,
  ``a\\b`` and a plain ``A0001``, all consenting, all assessed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import shapely
from sqlalchemy.orm import Session, sessionmaker

from disaster.models import AssessmentRun, District
from tests.conftest import KURUME
from tests.plans_fixtures import X0, Y0, _assessment, _bbox, _resident, _shelter

PROBES = Path(__file__).with_name("probes")
HOSTILE_DISTRICT = "../../校区/x"
PLAIN_DISTRICT = "北"
PLAIN_NUMBER = "A0001"


def hostile_names() -> list[str]:
    """The names of probes/output_names.json (path traversal, separators, control characters …)."""
    names: list[str] = json.loads((PROBES / "output_names.json").read_text(encoding="utf-8"))
    return names


def resident_numbers(absolute: Path) -> list[str]:
    """The 名簿番号 of the hostile town; ``absolute``: a folder the absolute one points into."""
    return ["../../escape", str(absolute / "escape"), "..", ".", "a\\b", PLAIN_NUMBER]


def build(sessions: sessionmaker[Session], absolute: Path) -> list[str]:
    """Insert the town (``resident_numbers(absolute)`` in the hostile 校区); returns the numbers."""
    numbers = resident_numbers(absolute)
    with sessions() as session, session.begin():
        hostile = District(city_code=KURUME, name=HOSTILE_DISTRICT, source="test", is_demo=True,
                           **_bbox(shapely.box(X0, Y0, X0 + 0.03, Y0 + 0.03)))
        plain = District(city_code=KURUME, name=PLAIN_DISTRICT, source="test", is_demo=True,
                         **_bbox(shapely.box(X0 + 0.03, Y0, X0 + 0.06, Y0 + 0.03)))
        session.add_all([hostile, plain, _shelter("T-S1", "小学校", X0 + 0.01, Y0 + 0.01)])
        run = AssessmentRun(city_code=KURUME, computed_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC), data_versions={},
                            parameters={}, resident_count=len(numbers))
        session.add(run)
        session.flush()
        for i, number in enumerate(numbers):
            resident = _resident(number, f"住民 {i}", hostile, lon=X0 + 0.005 + 0.002 * i, lat=Y0 + 0.01)
            session.add(resident)
            session.flush()
            session.add(_assessment(resident, run, flood_l2_rank=2))
    return numbers


def files_under(folder: Path) -> set[Path]:
    """Every file and symlink under ``folder`` (not following symlinked folders)."""
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
