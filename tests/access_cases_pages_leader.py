"""Authorisation-matrix cases of the leader's and 福祉専門職's pages (see tests/access_matrix.py and tests/access_cases_pages.py).

The resident page, its history and its PDF follow the matrix's default for a 名簿番号 path (the
resident detail; the PDF: the right to make the plan). Saving and issuing post a stale version,
so a caller with the right gets past access to the version check (409) and the world stays as it
was, as for the API (tests/access_cases_plans.py). The search posts 名簿番号 (a name would be
echoed in the search box, which the matrix would count as a leak of that name).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.access_cases_jobs import _tidy
from tests.access_matrix import CITY, Case, CaseMaker, World, may_plan, sees
from tests.web_fixtures import ROLES

NEIGHBOURS = ("leader", "care_professional")
STALE = 999
PLAN = "/leader/residents/{resident_no}/plan"


def _search(world: World, role: str, emergency: bool) -> list[Case]:
    return [("/leader/search", {"data": {"q": p.resident_no}}, 403 if role == "trainer" else 200)
            for p in world.chosen.four] + [("/leader/search", {"data": {"q": "  "}}, 403 if role == "trainer" else 422)]


def _save(world: World, role: str, emergency: bool) -> list[Case]:
    chosen = world.chosen
    return [(PLAN.format(resident_no=p.resident_no), {"data": {"version": str(STALE), "notes": "権限の確認"}},
             409 if may_plan(role, p, chosen, emergency) else 403) for p in chosen.four]


def _issue(world: World, role: str, emergency: bool) -> list[Case]:
    chosen = world.chosen
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    cases: list[Case] = []
    for p in chosen.four:
        if not (sees(role, p, chosen, emergency) and may_plan(role, p, chosen, emergency)):
            status = 403
        else:
            status = 409 if p.consent_plan else 422  # no record yet (not ready) / no 計画作成同意
        cases.append((PLAN.format(resident_no=p.resident_no) + "/issue",
                      {"data": {"version": str(STALE), "confirmed_on": today, "talked": "1", "consent": "1"}}, status))
    return cases


def _print(world: World, role: str, emergency: bool) -> list[Case]:
    _tidy(world)
    home, away = world.chosen.home, world.chosen.away
    city, leader = role in CITY, role == "leader"
    return [("/leader/print", {"data": {"district": home}}, 303 if city or leader else 403),
            ("/leader/print", {"data": {"district": away}}, 303 if city else 403),
            ("/leader/print", {"data": {"district": home, "include_drafts": "1"}},
             303 if city or (leader and emergency) else 403)]


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/leader"): {role: 200 if role in (*NEIGHBOURS, *CITY) else 403 for role in ROLES},
    ("GET", "/leader/map"): {role: 200 if role in (*NEIGHBOURS, *CITY) else 403 for role in ROLES},
    ("GET", "/leader/print"): {role: 200 if role in ("leader", *CITY) else 403 for role in ROLES},
}
CASES: dict[tuple[str, str], CaseMaker] = {
    ("POST", "/leader/search"): _search,
    ("POST", PLAN): _save,
    ("POST", PLAN + "/issue"): _issue,
    ("POST", "/leader/print"): _print,
}
