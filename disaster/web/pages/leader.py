"""Pages of a 校区 leader / 民生委員 (and a 福祉専門職, and city staff): the residents in their view
in priority order, one resident's plan (``leader_plan``), bulk print of a 校区's plans as a job,
the 校区 map.

Every page reads through the use-cases with the caller's principal (``access.resident_filter`` in
the queries) and records its reads in the audit log as the API route of the same data does. No
personal data goes into a URL: the list's filters are plain values, a search by name is a POST.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from disaster import access, errors
from disaster.analysis.decision import Decision
from disaster.models import District
from disaster.plans.record import Status
from disaster.usecases import residents as usecase
from disaster.web.deps import Caller, CurrentCaller, Now, PageNumber, Store
from disaster.web.jobs import start_job
from disaster.web.pages import leader_plan
from disaster.web.pages.render import page
from disaster.web.residents import RESIDENTS_LIST, TIMEZONE, refusals_audited

router = APIRouter()
router.include_router(leader_plan.router)

PER_PAGE = 50
SEARCH_LIMIT = 100
STATUS_CHOICES = {"none": "未作成", Status.DRAFT.value: "下書き", Status.ISSUED.value: "本人確認済",
                  Status.REVIEW.value: "要見直し"}
DECISION_CHOICES = {Decision.LEAVE.value: "家を出て避難", Decision.STAY_UPSTAIRS.value: "家の上の階へ",
                    Decision.STAY.value: "自宅で過ごせる"}


async def form_data(request: Request) -> FormData:
    """The posted form (read once; the CSRF check has read it already)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def today_in_japan(at: dt.datetime) -> dt.date:
    return at.astimezone(TIMEZONE).date()


def _text(form: FormData, name: str, limit: int = 400) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


# --- わたしの名簿: the residents in priority order ---


def _query(district: str | None, status: str | None, decision: str | None, no_supporter: bool, review_due: bool,
           page_number: int = 1) -> str:
    """The list's URL for these filters (plain values, never a name)."""
    values = {"district": district, "status": status, "decision": decision,
              "no_supporter": "1" if no_supporter else None, "review_due": "1" if review_due else None,
              "page": page_number if page_number > 1 else None}
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return "/leader" + (f"?{query}" if query else "")


def _list_page(request: Request, store: Store, caller: Caller, at: dt.datetime, *, district: str | None,
               status: str | None, decision: str | None, no_supporter: bool, review_due: bool, page_number: int,
               search: str | None = None, search_problem: str | None = None, status_code: int = 200) -> HTMLResponse:
    today = today_in_japan(at)
    principal = caller.principal
    filters = usecase.ResidentFilters(None, status, no_supporter, review_due)
    details: dict[str, Any] = {"district": district, "page": page_number, "per_page": PER_PAGE, "page_view": "leader",
                               "filters": {k: v for k, v in asdict(filters).items() if v not in (None, False)}
                               | ({"decision": decision} if decision else {})}
    if search is not None:
        details["search"] = True  # what was searched (a name) stays out of the log
    with refusals_audited(store, caller, RESIDENTS_LIST, (), "district" if district else "residents", details):
        districts = usecase.districts_in_view(store.sessions, principal)
        result = usecase.priority_list(store.sessions, principal, district, filters, decision, search,
                                       1 if search is not None else page_number,
                                       SEARCH_LIMIT if search is not None else PER_PAGE, today)
        counts = usecase.view_counts(store.sessions, principal, district, today)
    with store.sessions() as session, session.begin():
        caller.audit(session, RESIDENTS_LIST, residents=[item["resident_no"] for item in result.items],
                     target_kind="district" if district else "residents", details=details | {"total": result.total})
    filtered = any((status, decision, no_supporter, review_due))
    context = {
        "items": result.items, "total": result.total, "pages": result.pages, "page_number": result.page,
        "counts": counts, "districts": districts, "today": today,
        "filters": {"district": district or "", "status": status or "", "decision": decision or "",
                    "no_supporter": no_supporter, "review_due": review_due},
        "filtered": filtered, "search": search, "search_problem": search_problem,
        "status_choices": STATUS_CHOICES, "decision_choices": DECISION_CHOICES,
        "count_links": {
            "total": _query(district, None, None, False, False),
            "none": _query(district, "none", None, False, False),
            "draft": _query(district, Status.DRAFT.value, None, False, False),
            "issued": _query(district, Status.ISSUED.value, None, False, False),
            "review": _query(district, Status.REVIEW.value, None, False, False),
            "no_supporter": _query(district, None, None, True, False),
            "review_due": _query(district, None, None, False, True),
        },
        "previous": _query(district, status, decision, no_supporter, review_due, result.page - 1) if result.page > 1 else None,
        "next": _query(district, status, decision, no_supporter, review_due, result.page + 1)
        if search is None and result.page < result.pages else None,
        "emergency_districts": [] if principal.is_city else sorted(d for d in districts if principal.in_emergency(d)),
        "is_city": principal.is_city,
        "can_print": access.can(principal, access.Action.DISTRICT_PLANS),
    }
    return page(request, "leader/home.html.j2", context, caller=caller, title="わたしの名簿", status_code=status_code)


@router.get("/leader", response_class=HTMLResponse)
def home(request: Request, store: Store, caller: CurrentCaller, at: Now,
         district: Annotated[str | None, Query(max_length=80)] = None,
         status: Annotated[str | None, Query(max_length=20)] = None,
         decision: Annotated[str | None, Query(max_length=20)] = None,
         no_supporter: bool = False, review_due: bool = False, page: PageNumber = 1) -> HTMLResponse:
    access.require(caller.principal, access.Action.READ_RESIDENTS)
    return _list_page(request, store, caller, at, district=district or None, status=_choice(status, STATUS_CHOICES),
                      decision=_choice(decision, DECISION_CHOICES), no_supporter=no_supporter, review_due=review_due,
                      page_number=page)


def _choice(value: str | None, choices: dict[str, str]) -> str | None:
    """A filter's value ("" from the form's 「すべて」: none); an unknown one is refused."""
    if not value:
        return None
    if value not in choices:
        raise errors.Rejected(f"絞り込みの条件は {'・'.join(choices.values())} のどれかです。")
    return value


@router.post("/leader/search", response_class=HTMLResponse)
def search(request: Request, store: Store, caller: CurrentCaller, at: Now, form: Form) -> HTMLResponse:
    """Search by 名前・ふりがな・名簿番号 among everyone in view (of the 校区 chosen): a POST, so that
    a name never goes into a URL or a history."""
    access.require(caller.principal, access.Action.READ_RESIDENTS)
    words = _text(form, "q", usecase.SEARCH_MAX)
    district = _text(form, "district", 80) or None  # the 校区 chosen stays; the other filters do not narrow a search
    problem = None if "".join(words.split()) else "探す名前・ふりがな・名簿番号を入れてください。"
    return _list_page(request, store, caller, at, district=district, status=None, decision=None, no_supporter=False,
                      review_due=False, page_number=1, search=None if problem else words, search_problem=problem,
                      status_code=422 if problem else 200)


# --- 一括印刷: every plan of a 校区 as a job ---


def _print_districts(store: Store, principal: access.Principal) -> list[str]:
    """The 校区 whose plans ``principal`` may print at once."""
    with store.sessions() as session:
        names = list(session.scalars(select(District.name).where(District.city_code == principal.city_code)
                                     .order_by(District.name)))
    return [name for name in names if access.can(principal, access.Action.DISTRICT_PLANS, name)]


def _print_page(request: Request, store: Store, caller: Caller, values: dict[str, Any], problems: dict[str, str],
                status_code: int = 200) -> HTMLResponse:
    principal = caller.principal
    districts = _print_districts(store, principal)
    drafts = [d for d in districts if access.can(principal, access.Action.DRAFT_PLAN, d)]
    return page(request, "leader/print.html.j2", {"districts": districts, "draft_districts": drafts, "values": values,
                                                  "problems": problems}, caller=caller, title="マイプランの一括印刷",
                status_code=status_code)


@router.get("/leader/print", response_class=HTMLResponse)
def print_form(request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    access.require(caller.principal, access.Action.DISTRICT_PLANS, None)
    districts = _print_districts(store, caller.principal)
    if not districts:
        raise errors.NotReady("校区がまだ登録されていません。")
    first = sorted(caller.principal.districts)[0] if caller.principal.districts else districts[0]
    return _print_page(request, store, caller, {"district": first, "large_print": False, "include_drafts": False}, {})


@router.post("/leader/print")
def print_start(request: Request, store: Store, caller: CurrentCaller, form: Form) -> Response:
    access.require(caller.principal, access.Action.DISTRICT_PLANS, None)
    values = {"district": _text(form, "district", 80), "large_print": form.get("large_print") == "1",
              "include_drafts": form.get("include_drafts") == "1"}
    problems = {}
    if not values["district"]:
        problems["district"] = "校区を選んでください。"
    if problems:
        return _print_page(request, store, caller, values, problems, 422)
    job = start_job(request, store, caller, "district_plans", values)  # checks the right to that 校区 (and drafts)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


# --- 校区の地図 ---


@router.get("/leader/map", response_class=HTMLResponse)
def district_maps(request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    principal = caller.principal
    access.require(principal, access.Action.READ_RESIDENTS)
    names = usecase.districts_in_view(store.sessions, principal)
    maps = [{"name": name, "url": f"/api/v1/maps/districts/{quote(name, safe='')}",
             "emergency": principal.in_emergency(name)} for name in names
            if access.can(principal, access.Action.DISTRICT_MAP, name)]
    return page(request, "leader/map.html.j2", {"maps": maps, "is_city": principal.is_city,
                                                "city_map": "/api/v1/maps/city"}, caller=caller, title="校区の地図")
