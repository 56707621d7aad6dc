"""Property tests of the API from its own OpenAPI schema (schemathesis, issue 12 §8).

Every operation the schema lists is called as every role and without a login, with requests that
fit the schema and requests that do not: no server error, only documented status codes, bodies
that match their models, the documented content types, invalid input refused with a 4xx, the
security headers on every answer, and no traceback or SQL in any body.

The operations are read from the schema at run time: a route added later is fuzzed without
editing this file. Path and query parameters named like the matrix's data (``resident_no``,
``district``) also get real values (residents inside and outside the caller's view, 校区 inside and
outside it), so answers with data are checked too, not only 404s. Each operation gets
schemathesis' coverage cases (boundaries, wrong types, missing fields, other methods) and then
generated ones; generation is derandomised (the same requests every run for the same schema) and
bounded by ``PLANS`` and ``SECONDS_PER_OPERATION`` (the time budget only cuts a slow operation
short). SQLite only: the database adds nothing to what is checked here (tests/test_web_access.py
runs on both).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from disaster.web import create_app
from disaster.web.deps import COOKIE, CSRF_HEADER, SAFE_METHODS
from tests.conftest import Store
from tests.web_fixtures import (
    ROLES,
    Cast,
    chosen,  # noqa: F401  (fixture)
    client,
    login,
    settings_for,
    web_store,  # noqa: F401  (fixture)
)

ANONYMOUS = "anonymous"
OPENAPI = "/api/v1/openapi.json"
ME = "/api/v1/auth/me"


@dataclass(frozen=True)
class Plan:
    """What one role sends to each operation: schemathesis' coverage cases (at most ``coverage``) and
    ``examples`` generated ones per generation mode. Invalid input is refused before anyone's rights
    matter, so only the city administrator sends it; the other roles test the rules with valid data."""

    modes: tuple[GenerationMode, ...]
    coverage: int
    examples: int


VALID = (GenerationMode.POSITIVE,)
PLANS = {"city_admin": Plan((GenerationMode.POSITIVE, GenerationMode.NEGATIVE), 100, 10)} | {
    role: Plan(VALID, 12, 6) for role in ROLES if role != "city_admin"} | {"anonymous": Plan(VALID, 4, 0)}
# and a time budget per (role, operation): a route that renders documents (PDFs) stops early
SECONDS_PER_OPERATION = 2.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
SECURITY_HEADERS = {"content-security-policy": "frame-ancestors 'none'", "x-content-type-options": "nosniff",
                    "referrer-policy": "no-referrer"}
# what a leaked stack trace or database error looks like in a body
INTERNALS = re.compile(r"Traceback|File \\?\"|\bsqlalchemy\b|\bpsycopg|sqlite3\.|OperationalError|IntegrityError|"
                       r"ProgrammingError|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.+\bSET\b|\bDELETE FROM\b|"
                       r"\[SQL:|\bValueError\b|\bKeyError\b|\bTypeError\b|\bAttributeError\b", re.DOTALL)
pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # SQLite only


@dataclass
class Fuzzed:
    app: FastAPI
    chosen: Cast
    schema: schemathesis.BaseSchema


@pytest.fixture(scope="module")
def fuzzed(web_store: Store, chosen: Cast) -> Fuzzed:  # noqa: F811
    # the fuzzed logins fail from one address: throttled after two, they cost no Argon2 hashing
    app = create_app(settings_for(web_store, login_throttle_failures=2))
    return Fuzzed(app, chosen, schemathesis.openapi.from_asgi(OPENAPI, app))


@dataclass
class Session:
    """A role's login (its own address, so that the fuzzed logins' failures never throttle it)."""

    app: FastAPI
    role: str
    address: str
    browser: TestClient = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.browser = client(self.app, self.address)
        if self.role != ANONYMOUS:
            self.csrf = login(self.browser, self.role)

    def credentials(self) -> dict[str, Any]:
        if self.role == ANONYMOUS:
            return {}
        return {"headers": {CSRF_HEADER: self.csrf}, "cookies": {COOKIE: self.browser.cookies[COOKIE]}}

    def keep_alive(self) -> None:
        """Log in again when a fuzzed request ended the session (logout, …)."""
        if self.role != ANONYMOUS and self.browser.get(ME).status_code == 401:
            self.browser = client(self.app, self.address)
            self.csrf = login(self.browser, self.role)


def known_values(chosen: Cast) -> dict[str, list[str]]:  # noqa: F811
    return {"resident_no": [p.resident_no for p in chosen.four], "district": [chosen.home, chosen.away]}


def strategies(operation: APIOperation, mode: GenerationMode, known: dict[str, list[str]]) -> st.SearchStrategy[Case]:
    """Generated cases, and (valid data only) cases with real values for the parameters named in ``known``."""
    options = [operation.as_strategy(generation_mode=mode)]
    if mode is GenerationMode.POSITIVE:
        paths = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        if paths:
            fixed = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in paths.items()})
            options.append(fixed.flatmap(lambda values: operation.as_strategy(path_parameters=values)))
        queries = {p.name: known[p.name] for p in operation.query if p.name in known}
        if queries:
            fixed = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in queries.items()})
            options.append(fixed.flatmap(lambda values: operation.as_strategy(query=values)))
    return st.one_of(options)


def own_checks(answer: schemathesis.Response) -> list[str]:
    """The checks schemathesis does not make: security headers, errors as JSON, no internals in the body."""
    headers = {name.lower(): ", ".join(values) for name, values in answer.headers.items()}
    problems = [f"header {name} is {headers.get(name)!r}" for name, value in SECURITY_HEADERS.items()
                if value not in headers.get(name, "")]
    content_type = headers.get("content-type", "")
    if answer.status_code >= 400 and not content_type.startswith("application/json"):
        problems.append(f"an error answered as {content_type!r}")
    body = answer.content.decode("utf-8", "replace") if "json" in content_type else ""
    leaked = INTERNALS.search(body)
    if leaked:
        problems.append(f"internals in the body: {leaked.group(0)[:80]!r}")
    return problems


def check(case: Case, session: Session, report: Callable[[str, Case], None]) -> None:
    """Send ``case`` as the session's role and report what is wrong with the answer."""
    credentials = session.credentials()
    try:
        answer = case.call(**credentials)
    except Exception as exc:  # the app raised: a server error (its traceback is in the captured log)
        report(f"the request raised {type(exc).__name__}: {exc}", case)
        return
    try:
        case.validate_response(answer, checks=CHECKS, headers=credentials.get("headers"))
    except FailureGroup as failures:
        for failure in failures.exceptions:
            report(f"{failure.title} (status {answer.status_code}): {str(failure.message)[:300]}", case)
    for problem in own_checks(answer):
        report(problem, case)
    if case.method.upper() not in SAFE_METHODS:
        session.keep_alive()


def fuzz_operation(schema: schemathesis.BaseSchema, operation: APIOperation, session: Session, known: dict[str, list[str]],
                   report: Callable[[str, Case], None]) -> None:
    """Schemathesis' coverage cases (boundaries, wrong types, missing fields, other methods), then
    derandomised generated ones, within the operation's time budget."""
    deadline = time.monotonic() + SECONDS_PER_OPERATION
    plan = PLANS[session.role]
    coverage = schema.iter_coverage_cases(operation, generation_modes=list(plan.modes),
                                          generation_config=schema.config.generation_for(operation=operation))
    for case in itertools.islice(coverage, plan.coverage):
        if time.monotonic() > deadline:
            return
        check(case, session, report)
    for mode in plan.modes if plan.examples else ():

        @settings(max_examples=plan.examples, derandomize=True,
                  database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=strategies(operation, mode, known))
        def run(case: Case) -> None:
            if time.monotonic() <= deadline:
                check(case, session, report)

        try:
            run()
        except Unsatisfiable:  # no invalid request exists (an operation without parameters or body)
            assert mode is GenerationMode.NEGATIVE


@pytest.mark.parametrize("role", [*ROLES, ANONYMOUS])
def test_every_operation_as_every_role(fuzzed: Fuzzed, role: str) -> None:
    session = Session(fuzzed.app, role, f"192.0.2.{[*ROLES, ANONYMOUS].index(role) + 1}")
    known = known_values(fuzzed.chosen)
    problems: dict[tuple[str, str], str] = {}

    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    for operation in operations:

        def report(problem: str, case: Case, label: str = operation.label) -> None:
            key = (label, problem.split(":")[0])
            if key not in problems:  # the first example of each kind of problem
                body = "" if isinstance(case.body, NotSet) else f" body={case.body!r}"
                request = f"{case.method} {case.formatted_path} query={case.query}{body}"[:300]
                problems[key] = f"{label} as {role}: {problem}\n    request: {request}"

        fuzz_operation(fuzzed.schema, operation, session, known, report)
    assert not problems, "\n".join(problems.values())


MALFORMED = {"bytes that are not UTF-8": b"\x86\x04\x87\xed", "cut-off JSON": b'{"login": "a', "not JSON": b"login=a"}


def test_malformed_json_bodies_are_refused_as_documented(fuzzed: Fuzzed) -> None:
    """Every operation that takes a JSON body, given one that cannot be read: a documented 4xx in
    the one error shape (the generator above only makes bodies that are JSON)."""
    session = Session(fuzzed.app, "city_admin", "192.0.2.100")
    known = known_values(fuzzed.chosen)
    problems = []
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    with_body = [op for op in operations if any(b.media_type == "application/json" for b in op.body)]
    assert with_body, "no operation takes a JSON body"
    for operation in with_body:
        path = re.sub(r"\{([^}]+)\}", lambda m: known.get(m.group(1), ["1"])[0], operation.path)
        for label, content in MALFORMED.items():
            answer = session.browser.request(operation.method.upper(), path, content=content,
                                             headers={"Content-Type": "application/json", CSRF_HEADER: session.csrf})
            documented = set(operation.responses.status_codes)
            shape = answer.headers.get("content-type", "").startswith("application/json") and \
                set(answer.json()) == {"error"}
            if not 400 <= answer.status_code < 500 or str(answer.status_code) not in documented or not shape:
                problems.append(f"{operation.label} with {label}: {answer.status_code} {answer.text[:160]} "
                                f"(documented: {sorted(documented)})")
            session.keep_alive()
    assert not problems, "\n".join(problems)
