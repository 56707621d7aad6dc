"""Authorisation-matrix cases of the jobs routes (see tests/access_matrix.py)."""

from __future__ import annotations

from tests.access_matrix import CaseMaker

EXPECTED: dict[tuple[str, str], dict[str, int]] = {}
CASES: dict[tuple[str, str], CaseMaker] = {}
