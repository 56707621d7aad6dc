"""図上訓練 records on the trainer's pages: record a session (date, participants by role, the
feedback's ratings and comments, findings — a finding may point at a person chosen from the 校区's
pseudonymised list), past sessions, one session (add a finding, correct it, remove it), and the
findings board (課題 / 対応 / 担当 / 期限 / status) where open work is updated and closed.

Every read of sessions and findings is audited as ``GET /api/v1/exercises/sessions`` is (naming
the residents whose 名簿番号 the page shows, which only readers who may see them get); changes
are audited by the use-cases."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from disaster import access, auditlog, errors
from disaster.exercises.materials import RATINGS, ROLES
from disaster.exercises.scenario import ExerciseHazard, Person
from disaster.exercises.tracking import fiscal_label, fiscal_year
from disaster.usecases import exercises as usecase
from disaster.web.deps import Caller, CurrentCaller, Store
from disaster.web.pages.render import page
from disaster.web.pages.trainer_common import (
    HAZARD_SHORT,
    HAZARD_WORDS,
    Fields,
    FormState,
    day,
    number,
    require_area,
    safe_back,
    short_day,
)
from disaster.web.residents import refusals_audited

router = APIRouter()
SessionId = Annotated[int, Path(ge=1, le=2_147_483_647)]
FindingId = Annotated[int, Path(ge=1, le=2_147_483_647)]
PER_PAGE = 30
FIRST_ROWS, MORE_ROWS, MAX_ROWS = 3, 3, 30  # finding rows of the record form
OWNER_LIMIT = 80  # characters of 担当 (its column) and of 進行役
STATUS_FILTERS = {"open": "未完了", "未着手": "未着手", "対応中": "対応中", "完了": "完了", "all": "すべて"}
RATING_FIELDS = [(label, question, field) for label, field, question in RATINGS]  # 総合評価, its question, rating_overall


def _audit_read(store: Store, caller: Caller, residents: list[str], details: dict[str, Any]) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.EXERCISE_READ, residents=residents, target_kind="exercise_session",
                     details=details)


def _shown(items: list[usecase.FindingItem]) -> list[str]:
    return sorted({i.view.resident_no for i in items if i.view.resident_no})


def _people_choices(store: Store, caller: Caller, district: str, hazard: str) -> list[Person]:
    return usecase.pseudonymised_people(store.sessions, caller.principal, district, ExerciseHazard(hazard))


def _person_label(person: Person) -> str:
    where = f"・地図 {person.cell}" if person.cell else ""
    return f"{person.label}（{person.descriptor}{where}）"


def _pick(form: FormState, name: str, people: set[int]) -> int | None:
    """The person a finding points at (a resident's internal id from the pseudonymised list)."""
    chosen = form.get(name).strip()
    if not chosen:
        return None
    picked = number(chosen)
    if picked is None or picked not in people:
        form.problem(name, "一覧から選んでください。")
        return None
    return picked


def _finding(form: FormState, prefix: str, people: set[int] | None) -> dict[str, Any] | None:
    """One finding from fields ``<prefix>issue`` … (None when the row is empty or has a problem)."""
    names = ("issue", "action", "owner", "due", "person")
    if not any(form.get(prefix + n).strip() for n in names):
        return None
    issue = form.text(prefix + "issue", "課題", usecase.MAX_TEXT, required=True)
    action = form.text(prefix + "action", "対応", usecase.MAX_TEXT)
    owner = form.text(prefix + "owner", "担当", OWNER_LIMIT)
    due = form.date(prefix + "due", "期限")
    picked = _pick(form, prefix + "person", people) if people is not None else None
    if any(key.startswith(prefix) for key in form.problems):
        return None
    return {"issue": issue, "action": action, "owner": owner, "due": due, "status": "未着手"} | (
        {"resident_id": picked} if picked is not None else {})


def _participants(form: FormState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index, role in enumerate(ROLES):
        name = f"p{index}"
        text = form.get(name).strip()
        if not text:
            continue
        value = number(text)
        if value is None or value > usecase.MAX_PARTICIPANTS:
            form.problem(name, f"{role}の人数は 0〜{usecase.MAX_PARTICIPANTS:,} の整数で入力してください。")
            continue
        if value:
            counts[role] = value
    if not counts and not any(f"p{i}" in form.problems for i in range(len(ROLES))):
        form.problem("participants", "参加者の人数を、どれか1つの立場に1人以上入力してください。")
    return counts


def _ratings(form: FormState) -> tuple[int | None, int | None, int | None]:
    values: list[int | None] = []
    for _, _, column in RATING_FIELDS:
        text = form.get(column).strip()
        value = number(text) if text else None
        if text and (value is None or not 1 <= value <= 5):
            form.problem(column, "1〜5 から選んでください。")
            value = None
        values.append(value)
    return values[0], values[1], values[2]


def _session_values(view: usecase.SessionView) -> dict[str, str]:
    values = {f"p{i}": str(view.participants[role]) for i, role in enumerate(ROLES) if role in view.participants}
    for (_, _, column), rating in zip(RATING_FIELDS, view.ratings, strict=True):
        if rating is not None:
            values[column] = str(rating)
    return values | {"strengths": view.strengths or "", "improvements": view.improvements or ""}


def _year_report(store: Store, caller: Caller, held_on: dt.date) -> dict[str, Any] | None:
    if not access.can(caller.principal, access.Action.EXERCISE_REPORT):
        return None
    return usecase.report(store.sessions, caller.principal.city_code, fiscal_year(held_on))


# --- past sessions ---

@router.get("/trainer/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, store: Store, caller: CurrentCaller,
                  district: Annotated[str | None, Query(max_length=80)] = None,
                  year: Annotated[int | None, Query(ge=1989, le=2200)] = None,
                  page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> HTMLResponse:
    principal = require_area(caller)
    district = district or None
    details = {"district": district, "year": year, "page": page_number}
    with refusals_audited(store, caller, auditlog.Action.EXERCISE_READ, (), "exercise_session", details):
        found = usecase.list_sessions(store.sessions, principal, district, year, page_number, PER_PAGE)
    _audit_read(store, caller, [], details | {"sessions": [s.id for s in found.items]})
    this_year = fiscal_year(dt.date.today())
    pages = max(1, math.ceil(found.total / PER_PAGE))
    query = {k: v for k, v in (("district", district), ("year", year)) if v}
    return page(request, "trainer/sessions.html.j2", {
        "found": found, "items": found.items, "district": district, "year": year, "page_number": page_number,
        "pages": pages, "districts": usecase.exercise_districts(store.sessions, principal),
        "years": [(y, fiscal_label(y)) for y in range(this_year, this_year - 8, -1)],
        "year_label": fiscal_label(year) if year else None, "short_day": short_day, "short_hazards": HAZARD_SHORT,
        "page_link": lambda n: "/trainer/sessions?" + urlencode(query | {"page": n}),
        "deleted": request.query_params.get("deleted") == "1",
    }, caller=caller, title="実施記録の一覧")


# --- recording a session ---

def _new_context(store: Store, caller: Caller, form: FormState, rows: int) -> dict[str, Any]:
    district, hazard = form.get("district"), form.get("hazard")
    chosen = district in usecase.exercise_districts(store.sessions, caller.principal) and hazard in HAZARD_WORDS
    people = _people_choices(store, caller, district, hazard) if chosen else []
    return {"form": form, "step": 2 if chosen else 1, "rows": rows, "roles": list(enumerate(ROLES)),
            "ratings": RATING_FIELDS, "people": [(p.resident_id, _person_label(p)) for p in people],
            "districts": usecase.exercise_districts(store.sessions, caller.principal), "hazards": HAZARD_WORDS,
            "existing": None}


@router.get("/trainer/sessions/new", response_class=HTMLResponse)
def session_form(request: Request, store: Store, caller: CurrentCaller,
                 district: Annotated[str | None, Query(max_length=80)] = None,
                 hazard: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    principal = require_area(caller)
    if district:
        access.require(principal, access.Action.EXERCISE_RECORDS, district)  # another 校区 of a leader: refused
    form = FormState({"district": district or "", "hazard": hazard or "", "held_on": dt.date.today().isoformat()})
    context = _new_context(store, caller, form, FIRST_ROWS)
    if (district or hazard) and context["step"] == 1:
        form.problem("district" if district not in context["districts"] else "hazard", "一覧から選んでください。")
    return page(request, "trainer/session_new.html.j2", context, caller=caller, title="実施記録をつける",
                status_code=422 if form.problems else 200)


@router.post("/trainer/sessions", response_class=HTMLResponse)
def session_record(request: Request, store: Store, caller: CurrentCaller, fields: Fields) -> Response:
    principal = require_area(caller)
    form = FormState(fields)
    if form.get("district"):
        access.require(principal, access.Action.EXERCISE_RECORDS, form.get("district"))
    rows = min(MAX_ROWS, max(FIRST_ROWS, number(form.get("rows")) or FIRST_ROWS))
    if form.get("more"):  # more finding rows: the same form again, nothing saved
        context = _new_context(store, caller, form, min(MAX_ROWS, rows + MORE_ROWS))
        return page(request, "trainer/session_new.html.j2", context, caller=caller, title="実施記録をつける")
    context = _new_context(store, caller, form, rows)
    if context["step"] == 1:
        form.problem("district", "校区と想定した災害を選んでください。")
        return page(request, "trainer/session_new.html.j2", context, caller=caller, title="実施記録をつける", status_code=422)
    people = {person_id for person_id, _ in context["people"]}
    held_on = form.date("held_on", "実施日", required=True)
    if held_on is not None and held_on > dt.date.today():
        form.problem("held_on", "実施日が先の日付です。訓練をした日を入力してください。")
    facilitator = form.text("facilitator", "進行役", OWNER_LIMIT)
    participants = _participants(form)
    ratings = _ratings(form)
    strengths = form.text("strengths", "よかった点", usecase.MAX_TEXT)
    improvements = form.text("improvements", "改善点", usecase.MAX_TEXT)
    findings = [f for i in range(rows) if (f := _finding(form, f"f{i}-", people)) is not None]
    if form.problems or held_on is None:
        return page(request, "trainer/session_new.html.j2", context, caller=caller, title="実施記録をつける", status_code=422)
    data = usecase.SessionInput(held_on, form.get("district"), ExerciseHazard(form.get("hazard")), facilitator,
                                participants, ratings, strengths, improvements, findings)
    existing = usecase.recorded_session(store.sessions, caller.principal, data)
    if existing is not None:  # the page never replaces a record (its findings' progress would be lost)
        form.problem("held_on", "同じ日・校区・災害・進行役の記録がすでにあります。直すときは、その記録を開いて「記録を直す」から。")
        context["existing"] = existing
        return page(request, "trainer/session_new.html.j2", context, caller=caller, title="実施記録をつける", status_code=409)
    recorded = usecase.record_session(store.sessions, caller.principal, data, source="ページから入力", origin=caller.origin)
    return RedirectResponse(f"/trainer/sessions/{recorded.id}?saved=1", status_code=303)


# --- one session ---

def _session_context(store: Store, caller: Caller, session_id: int) -> dict[str, Any]:
    details = {"session": session_id}
    with refusals_audited(store, caller, auditlog.Action.EXERCISE_READ, (), "exercise_session", details):
        detail = usecase.read_session(store.sessions, caller.principal, session_id)
    _audit_read(store, caller, _shown(detail.findings), details)
    view = detail.session
    people = _people_choices(store, caller, view.district, view.hazard) if view.hazard in HAZARD_WORDS else []
    return {"s": view, "items": detail.findings, "total": sum(view.participants.values()), "roles": ROLES,
            "ratings": list(zip(RATING_FIELDS, view.ratings, strict=True)), "day": day, "hazards": HAZARD_WORDS,
            "people": [(p.resident_id, _person_label(p)) for p in people], "today": dt.date.today(),
            "form": FormState({}), "report": None, "saved": False, "edited": False, "added": False}


@router.get("/trainer/sessions/{session_id}", response_class=HTMLResponse)
def session_page(session_id: SessionId, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    require_area(caller)
    context = _session_context(store, caller, session_id)
    context["saved"] = request.query_params.get("saved") == "1"
    context["edited"] = request.query_params.get("edited") == "1"
    context["added"] = request.query_params.get("added") == "1"
    if context["saved"] or context["edited"]:
        context["report"] = _year_report(store, caller, context["s"].held_on)
    return page(request, "trainer/session.html.j2", context, caller=caller, title="図上訓練の記録")


@router.post("/trainer/sessions/{session_id}/findings", response_class=HTMLResponse)
def session_add_finding(session_id: SessionId, request: Request, store: Store, caller: CurrentCaller,
                        fields: Fields) -> Response:
    require_area(caller)
    context = _session_context(store, caller, session_id)
    form = FormState(fields)
    people = {person_id for person_id, _ in context["people"]}
    finding = _finding(form, "new-", people)
    if finding is None and not form.problems:
        form.problem("new-issue", "課題を入力してください。")
    if finding is None:
        context["form"] = form
        return page(request, "trainer/session.html.j2", context | {"added": False}, caller=caller,
                    title="図上訓練の記録", status_code=422)
    usecase.add_finding(store.sessions, caller.principal, session_id, finding, origin=caller.origin)
    return RedirectResponse(f"/trainer/sessions/{session_id}?added=1#findings", status_code=303)


@router.get("/trainer/sessions/{session_id}/edit", response_class=HTMLResponse)
def session_edit_form(session_id: SessionId, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    require_area(caller)
    context = _session_context(store, caller, session_id)
    context["form"] = FormState(_session_values(context["s"]))
    return page(request, "trainer/session_edit.html.j2", context | {"roles": list(enumerate(ROLES)),
                                                                    "rating_fields": RATING_FIELDS},
                caller=caller, title="記録を直す")


@router.post("/trainer/sessions/{session_id}/edit", response_class=HTMLResponse)
def session_edit(session_id: SessionId, request: Request, store: Store, caller: CurrentCaller, fields: Fields) -> Response:
    require_area(caller)
    form = FormState(fields)
    participants = _participants(form)
    ratings = _ratings(form)
    strengths = form.text("strengths", "よかった点", usecase.MAX_TEXT)
    improvements = form.text("improvements", "改善点", usecase.MAX_TEXT)
    if form.problems:
        context = _session_context(store, caller, session_id)
        return page(request, "trainer/session_edit.html.j2", context | {
            "form": form, "roles": list(enumerate(ROLES)), "rating_fields": RATING_FIELDS},
            caller=caller, title="記録を直す", status_code=422)
    usecase.update_session(store.sessions, caller.principal, session_id, participants, ratings, strengths, improvements,
                           origin=caller.origin)
    return RedirectResponse(f"/trainer/sessions/{session_id}?edited=1", status_code=303)


# --- the findings board ---

def _board_link(district: str | None, status: str, page_number: int = 1) -> str:
    query: dict[str, Any] = {"status": status} | ({"district": district} if district else {})
    if page_number > 1:
        query["page"] = page_number
    return "/trainer/findings?" + urlencode(query)


@router.get("/trainer/findings", response_class=HTMLResponse)
def findings_page(request: Request, store: Store, caller: CurrentCaller,
                  district: Annotated[str | None, Query(max_length=80)] = None,
                  status: Annotated[str, Query(max_length=10)] = "open",
                  page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> HTMLResponse:
    principal = require_area(caller)
    district = district or None
    if status not in STATUS_FILTERS:
        raise errors.Rejected(f"状態「{status}」はありません。{'・'.join(STATUS_FILTERS.values())} から選んでください。")
    details = {"district": district, "status": status, "page": page_number, "page_kind": "findings"}
    with refusals_audited(store, caller, auditlog.Action.EXERCISE_READ, (), "exercise_session", details):
        board = usecase.list_findings(store.sessions, principal, district, None if status == "all" else status,
                                      page=page_number, per_page=PER_PAGE)
    _audit_read(store, caller, _shown(board.items), details | {"findings": [i.view.id for i in board.items]})
    here = _board_link(district, status, page_number)
    changed = number(request.query_params.get("changed"))
    return page(request, "trainer/findings.html.j2", {
        "board": board, "items": board.items, "district": district, "status": status, "filters": STATUS_FILTERS,
        "districts": usecase.exercise_districts(store.sessions, principal), "day": day, "today": dt.date.today(),
        "hazards": HAZARD_WORDS, "here": here, "pages": max(1, math.ceil(board.total / PER_PAGE)),
        "page_number": page_number, "page_link": lambda n: _board_link(district, status, n),
        "changed": _changed(store, caller, changed), "changed_status": request.query_params.get("to"),
        "status_link": lambda s: _board_link(district, s),
        "tab_counts": board.counts | {"open": board.counts["未着手"] + board.counts["対応中"],
                                      "all": sum(board.counts.values())},
    }, caller=caller, title="課題の一覧")


def _changed(store: Store, caller: Caller, finding_id: int | None) -> usecase.FindingItem | None:
    """The finding just saved, for the board's notice (it may have left the list it was in)."""
    if finding_id is None:
        return None
    try:
        return usecase.read_finding(store.sessions, caller.principal, finding_id)
    except (errors.NotFound, errors.Forbidden):
        return None


def _finding_context(store: Store, caller: Caller, finding_id: int, back: str) -> dict[str, Any]:
    details = {"finding": finding_id}
    with refusals_audited(store, caller, auditlog.Action.EXERCISE_READ, (), "exercise_session", details):
        item = usecase.read_finding(store.sessions, caller.principal, finding_id)
    _audit_read(store, caller, _shown([item]), details | {"session": item.session_id})
    v = item.view
    form = FormState({"issue": v.issue, "action": v.action or "", "owner": v.owner or "",
                      "due": v.due.isoformat() if v.due else "", "status": v.status, "version": item.version})
    return {"item": item, "form": form, "statuses": usecase.FINDING_STATUSES, "day": day, "today": dt.date.today(),
            "hazards": HAZARD_WORDS, "back": back, "conflict": None}


@router.get("/trainer/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(finding_id: FindingId, request: Request, store: Store, caller: CurrentCaller,
                 back: Annotated[str | None, Query(max_length=300)] = None) -> HTMLResponse:
    require_area(caller)
    context = _finding_context(store, caller, finding_id, safe_back(back, "/trainer/findings"))
    return page(request, "trainer/finding.html.j2", context, caller=caller, title="課題を更新する")


def _save_finding(request: Request, store: Store, caller: Caller, finding_id: int, form: FormState,
                  changes: dict[str, Any], back: str) -> Response:
    """Save, or the finding's page again: 422 with the problems, 409 when someone else changed it
    first (what they saved is shown; what this user typed is kept)."""
    if not form.problems:
        try:
            usecase.update_finding(store.sessions, caller.principal, finding_id, changes, form.get("version") or None,
                                   origin=caller.origin)
        except errors.Conflict as exc:
            context = _finding_context(store, caller, finding_id, back)
            context["conflict"] = {"message": str(exc), "current": context["item"]}
            # what this user typed over what is stored now; saving again overwrites, knowingly
            form.values = context["form"].values | form.values | {"version": context["item"].version}
            context["form"] = form
            return page(request, "trainer/finding.html.j2", context, caller=caller, title="課題を更新する",
                        status_code=409)
        separator = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{separator}changed={finding_id}&to={changes.get('status', '')}#finding-{finding_id}",
                                status_code=303)
    context = _finding_context(store, caller, finding_id, back)
    form.values = context["form"].values | form.values
    context["form"] = form
    return page(request, "trainer/finding.html.j2", context, caller=caller, title="課題を更新する", status_code=422)


@router.post("/trainer/findings/{finding_id}", response_class=HTMLResponse)
def finding_update(finding_id: FindingId, request: Request, store: Store, caller: CurrentCaller, fields: Fields) -> Response:
    require_area(caller)
    form = FormState(fields)
    back = safe_back(form.get("back"), "/trainer/findings")
    changes = {"issue": form.text("issue", "課題", usecase.MAX_TEXT, required=True),
               "action": form.text("action", "対応", usecase.MAX_TEXT),
               "owner": form.text("owner", "担当", OWNER_LIMIT), "due": form.date("due", "期限"),
               "status": form.get("status")}
    if changes["status"] not in usecase.FINDING_STATUSES:
        form.problem("status", "状態を選んでください。")
    return _save_finding(request, store, caller, finding_id, form, changes, back)


@router.post("/trainer/findings/{finding_id}/status", response_class=HTMLResponse)
def finding_status(finding_id: FindingId, request: Request, store: Store, caller: CurrentCaller, fields: Fields) -> Response:
    """The board's quick buttons: 対応中にする / 完了にする / 未着手に戻す."""
    require_area(caller)
    form = FormState(fields)
    back = safe_back(form.get("back"), "/trainer/findings")
    if form.get("status") not in usecase.FINDING_STATUSES:
        raise errors.Rejected("状態は 未着手・対応中・完了 のいずれかです。")
    return _save_finding(request, store, caller, finding_id, form, {"status": form.get("status")}, back)


# last among the routes: the authorisation matrix records, reads and changes a session before removing it
@router.post("/trainer/sessions/{session_id}/delete")
def session_delete(session_id: SessionId, store: Store, caller: CurrentCaller) -> Response:
    require_area(caller)
    usecase.delete_session(store.sessions, caller.principal, session_id, origin=caller.origin)
    return RedirectResponse("/trainer/sessions?deleted=1", status_code=303)
