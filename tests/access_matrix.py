"""The vocabulary of the authorisation matrix (tests/test_web_access.py): the world it runs in, the
test's own reading of who sees whom, and the shape of a request case.

Each area of the API gives its routes' cases in ``tests/access_cases_<area>.py``: ``EXPECTED`` (status
per role of a route that needs no path parameter and no body) and ``CASES`` (for any other route: a
function of the world, the role and whether 災害時モード is on, giving the requests to make). A case
must leave the world as it found it for the other roles and runs (e.g. create, then delete).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Store
from tests.web_fixtures import Cast, Person

ANONYMOUS = "anonymous"
CITY = ("city_admin", "city_staff")
MODE_ID = 7  # the 災害時モード "declared" for the home 校区 in the runs with the mode on
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    app: FastAPI
    chosen: Cast
    store: Store
    clients: dict[str, TestClient]


# (url, keyword arguments of the request — params, json, files…, expected status or None for
# "any of 200/204/403"); the matrix adds its checks (no 5xx, no leak of a hidden resident)
Case = tuple[str, dict[str, Any], int | None]
CaseMaker = Callable[[World, str, bool], list[Case]]


def sees(role: str, person: Person, chosen: Cast, emergency: bool) -> bool:
    if role in CITY:
        return True
    if role == "leader":
        return person.district == chosen.home and (person.consent_share or emergency)
    if role == "care_professional":
        return chosen.professional in person.professionals
    return False


def may_plan(role: str, person: Person, chosen: Cast, emergency: bool) -> bool:
    """A plan of a resident without plan-making consent is a 下書き: city staff, and a leader under 災害時モード."""
    if not sees(role, person, chosen, emergency):
        return False
    return role in CITY or person.consent_plan or (role == "leader" and emergency)
