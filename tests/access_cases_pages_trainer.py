"""Authorisation-matrix cases of the trainer's pages (see tests/access_matrix.py and tests/access_cases_pages.py)."""

from __future__ import annotations

from tests.access_matrix import CaseMaker
from tests.web_fixtures import ROLES

NEIGHBOURS = ("leader", "care_professional")

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/trainer"): {role: 403 if role == "care_professional" else 200 for role in ROLES},
}
CASES: dict[tuple[str, str], CaseMaker] = {}
