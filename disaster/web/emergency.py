"""STUB of 災害時モード for the web service — to be replaced when helper A2's
``disaster.usecases.disaster_mode`` is merged (the lead swaps the import in ``disaster/web/deps.py``
and deletes this module). It keeps the contract's interface: ``active(session, city_code, now)``
returns the city's current emergency (here: never one) and ``principal_in_mode`` fills the
principal's ``emergency_districts``/``emergency_all``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from disaster.access import Principal


@dataclass(frozen=True)
class Emergency:
    districts: frozenset[str] = frozenset()
    all: bool = False
    modes: list[Any] = field(default_factory=list)  # the DisasterMode rows in force (each has an ``id``)


def active(session: Session, city_code: str, now: dt.datetime) -> Emergency:
    return Emergency()


def principal_in_mode(principal: Principal, emergency: Emergency) -> Principal:
    return dataclasses.replace(principal, emergency_districts=emergency.districts, emergency_all=emergency.all)
