"""Authorisation-matrix cases of the leader's and 福祉専門職's pages (see tests/access_matrix.py and tests/access_cases_pages.py)."""

from __future__ import annotations

from tests.access_matrix import CITY, CaseMaker
from tests.web_fixtures import ROLES

NEIGHBOURS = ("leader", "care_professional")

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/leader"): {role: 200 if role in (*NEIGHBOURS, *CITY) else 403 for role in ROLES},
}
CASES: dict[tuple[str, str], CaseMaker] = {}
