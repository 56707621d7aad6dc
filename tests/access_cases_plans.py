"""Authorisation-matrix cases of the plans routes (see tests/access_matrix.py).

GET …/plan and …/plan/history follow the resident detail (the matrix's default for a 名簿番号
path: 200 where the role sees the resident, else 403). Saving and issuing need the right to make
that resident's plan (``may_plan``); the bodies are real and name a version that is not the
stored one, so a caller with the right gets past access to the version check (409) and the world
stays as it was; issuing a plan without 計画作成同意 is refused for what it is (422).
"""

from __future__ import annotations

from tests.access_matrix import Case, CaseMaker, World, may_plan, sees

STALE = 999  # no plan record of the matrix's residents reaches this version
PLAN = "/api/v1/residents/{resident_no}/plan"


def _save(world: World, role: str, emergency: bool) -> list[Case]:
    chosen = world.chosen
    return [(PLAN.format(resident_no=p.resident_no),
             {"json": {"version": STALE, "notes": "権限の確認", "made_with": ["地域"]}},
             409 if may_plan(role, p, chosen, emergency) else 403) for p in chosen.four]


def _issue(world: World, role: str, emergency: bool) -> list[Case]:
    chosen = world.chosen
    cases: list[Case] = []
    for p in chosen.four:
        if not (sees(role, p, chosen, emergency) and may_plan(role, p, chosen, emergency)):
            status = 403
        else:
            status = 409 if p.consent_plan else 422  # no record yet (not ready) / no 計画作成同意
        cases.append((PLAN.format(resident_no=p.resident_no) + "/issue", {"json": {"version": STALE}}, status))
    return cases


EXPECTED: dict[tuple[str, str], dict[str, int]] = {}
CASES: dict[tuple[str, str], CaseMaker] = {
    ("PUT", PLAN): _save,
    ("POST", PLAN + "/issue"): _issue,
}
