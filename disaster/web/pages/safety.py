"""安否確認 pages (issue 13 §4): during 災害時モード (or a training on demo data) the residents in the
caller's view with their status, who needs someone first; one resident's page to phone them and
record how they are (append-only: a form opened before someone else's report is told what changed);
the map of statuses; the shelters' check-ins against capacity; CSV and Excel for the 災害対策本部
(the API's downloads, ``/api/v1/safety/export.*``). Every page naming residents is audited like the
API route of the same data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from disaster import access, errors
from disaster.access import Action, Role
from disaster.analysis.decision import DECISION_LABELS, Decision
from disaster.profile import load_profile
from disaster.usecases import residents as residents_usecase
from disaster.usecases import safety as usecase
from disaster.usecases.demo import is_demo_store
from disaster.usecases.safety_export import local, round_label
from disaster.web import safety as api
from disaster.web.deps import Caller, CurrentCaller, Now, Store
from disaster.web.pages.render import page
from disaster.web.pages.safety_map import CSS_OF, legend_shelter, legend_symbol, status_svg

router = APIRouter()
PER_PAGE = 100
Text = Annotated[str, Form(max_length=5000)]
DistrictParam = Annotated[str | None, Query(max_length=80)]
TITLE = "安否確認"


def _round(store: Store, caller: Caller, at: dt.datetime) -> tuple[usecase.Round, bool]:
    demo = is_demo_store(store.sessions)
    return usecase.round_now(store.sessions, caller.principal.city_code, caller.emergency, at, demo), demo


def _when(moment: dt.datetime | None) -> str:
    shown = local(moment)
    return f"{shown.month}/{shown.day} {shown:%H:%M}" if shown is not None else ""


def _common(request: Request, store: Store, caller: Caller, rnd: usecase.Round, demo: bool) -> dict[str, Any]:
    """What every 安否確認 page shows: the round (banner), the status classes, the sub-navigation."""
    principal = caller.principal
    return {"round": rnd, "round_label": round_label(rnd), "demo": demo, "css_of": CSS_OF, "when": _when,
            "statuses": [s.value for s in usecase.PRIORITY], "open_filter": usecase.OPEN_FILTER,
            "is_city": principal.is_city, "can_train": access.can(principal, Action.SAFETY_TRAINING) and demo,
            "my_districts": sorted(usecase.active_districts(rnd, principal)) if principal.role == Role.LEADER else None,
            "subnav": [("一覧", "/safety"), ("地図", "/safety/map"), ("避難所", "/safety/shelters")]}


def _query(**values: Any) -> str:
    """A query string of the values given (none, empty, false and page 1 left out)."""
    kept = {k: "1" if v is True else v for k, v in values.items()
            if v is not None and v != "" and v is not False and not (k == "page" and v == 1)}
    return ("?" + urlencode(kept)) if kept else ""


@router.get("/safety", response_class=HTMLResponse)
def home(request: Request, store: Store, caller: CurrentCaller, at: Now, district: DistrictParam = None,
         status: Annotated[str | None, Query(max_length=20)] = None, leader: Annotated[str | None, Query(max_length=80)] = None,
         page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1, training: str | None = None) -> HTMLResponse:
    """The list: who needs someone first, with counts, filters and the downloads."""
    access.require(caller.principal, Action.SAFETY_CHECK)
    rnd, demo = _round(store, caller, at)
    principal = caller.principal
    district, status, leader = district or None, status or None, (leader or None) if principal.is_city else None
    details = {"district": district, "status": status, "leader": leader, "page": page_number, "round": rnd.kind, "page_view": True}
    with api.audited(store, caller, usecase.LIST, [], "district" if district else "residents", details):
        listing = usecase.list_status(store.sessions, principal, rnd, district=district, status=status, leader=leader,
                                      page=page_number, per_page=PER_PAGE)
    api.record_read(store, caller, usecase.LIST, [i["resident_no"] for i in listing.items],
                    "district" if district else "residents", details | {"total": listing.total})
    summaries = usecase.district_summaries(store.sessions, principal, rnd) if principal.is_city else []
    leaders = usecase.leader_summaries(store.sessions, principal, rnd, summaries) if principal.is_city else []
    items = [item | {"needs": usecase.needs_label(item), "css": CSS_OF[item["status"]]} for item in listing.items]
    scope = {"district": district, "leader": leader}
    context = _common(request, store, caller, rnd, demo) | {
        "listing": listing, "items": items, "summaries": summaries, "leaders": leaders,
        "district": district or "", "status": status or "", "leader": leader or "",
        "districts": usecase.district_names(store.sessions, principal),
        "leader_choices": usecase.leader_logins(store.sessions, principal),
        "export_query": _query(**scope), "status_query": lambda s: _query(**scope, status=s),
        "page_query": lambda n: _query(**scope, status=status, page=n),
        "notice": "訓練を始めました。全員が「未確認」に戻りました（前の記録は履歴に残っています）。" if training == "started" else None,
        "first_open": next((i for i in items if i["status"] in usecase.OPEN), None),
        "short_address": _short_address(load_profile(principal.city_code).name),
    }
    return page(request, "safety/home.html.j2", context, caller=caller, title=TITLE)


def _short_address(city: str) -> Any:
    """An address without the prefecture and city (everyone on the list lives in the city)."""
    def short(address: str) -> str:
        at = address.find(city)
        return address[at + len(city):] if 0 <= at <= 5 and len(address) > at + len(city) else address
    return short


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _resident_page(request: Request, store: Store, caller: Caller, at: dt.datetime, resident_no: str, *,
                   recorded: int | None = None, seen: int | None = None, form: dict[str, str] | None = None,
                   problems: dict[str, str] | None = None, stale: int | None = None, status_code: int = 200) -> HTMLResponse:
    """The resident's page; after a report (``recorded``, made from a form opened on report ``seen``)
    or a refused one (``stale``: the report its form was opened on), with what others reported since."""
    rnd, demo = _round(store, caller, at)
    principal = caller.principal
    with api.audited(store, caller, usecase.READ, [resident_no], "resident", {"round": rnd.kind, "page_view": True}):
        found = usecase.resident_safety(store.sessions, principal, rnd, resident_no)
        detail = residents_usecase.resident_detail(store.sessions, principal, resident_no)
        choices = usecase.shelter_choices(store.sessions, principal, resident_no)
    api.record_read(store, caller, usecase.READ, [resident_no], "resident",
                    {"round": rnd.kind, "reports": len(found.history), "page_view": True})
    mine = next((r for r in found.history if r.id == recorded and r.recorded_by == principal.login), None)
    if mine is not None and seen is not None:
        changed = [r for r in found.history if r.id > seen and r.id != mine.id]
    else:
        changed = [r for r in found.history if stale is not None and r.id > stale]
    groups: dict[str, list[usecase.ShelterChoice]] = {}
    for choice in choices:
        groups.setdefault(choice.group, []).append(choice)
    assessment = detail.get("assessment") or {}
    decision = assessment.get("decision")
    today = at.astimezone(api.TIMEZONE).date()
    listing = usecase.list_status(store.sessions, principal, rnd, status=usecase.OPEN_FILTER, per_page=2) if mine else None
    next_open = next((i["resident_no"] for i in (listing.items if listing else []) if i["resident_no"] != resident_no), None)
    context = _common(request, store, caller, rnd, demo) | {
        "found": found, "person": detail, "age": _age(detail.get("birth_date"), today),
        "needs": usecase.needs_label(detail), "decision": DECISION_LABELS.get(Decision(decision)) if decision else None,
        "destination": assessment.get("destination"), "welfare_shelter": assessment.get("welfare_shelter"),
        "groups": groups, "form": form or {"status": "", "shelter_code": "", "place": "", "note": ""},
        "problems": problems or {}, "mine": mine, "changed": changed, "hints": usecase.HINTS,
        "form_order": [s.value for s in usecase.FORM_ORDER], "next_open": next_open, "seen": found.seen,
        "back": _query(district=found.district) if principal.is_city else "",
    }
    return page(request, "safety/resident.html.j2", context, caller=caller, title="安否確認の記録", status_code=status_code)


@router.get("/safety/residents/{resident_no}", response_class=HTMLResponse)
def resident(resident_no: str, request: Request, store: Store, caller: CurrentCaller, at: Now,
             recorded: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
             seen: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None) -> HTMLResponse:
    """One resident: how to reach them, the current status, the form, the history."""
    return _resident_page(request, store, caller, at, resident_no, recorded=recorded, seen=seen)


@router.post("/safety/residents/{resident_no}", response_class=HTMLResponse)
def record(resident_no: str, request: Request, store: Store, caller: CurrentCaller, at: Now, status: Text = "",
           shelter_code: Text = "", place: Text = "", note: Text = "",
           based_on: Annotated[int, Form(ge=0, le=2_147_483_647)] = 0) -> Response:
    """A report: saved as a new entry of the history (the later report is the status); then the
    resident's page says so, and what someone else reported since the form was opened."""
    rnd, _ = _round(store, caller, at)
    try:
        recorded = api.record(store, caller, at, rnd, resident_no, status=status, shelter_code=shelter_code,
                              place=place, note=note, based_on=based_on)
    except usecase.Invalid as exc:
        form = {"status": status, "shelter_code": shelter_code, "place": place, "note": note}
        return _resident_page(request, store, caller, at, resident_no, form=form, problems=exc.problems, stale=based_on,
                              status_code=422)
    query = urlencode({"recorded": recorded.id, "seen": based_on})
    return RedirectResponse(f"/safety/residents/{resident_no}?{query}", status_code=303)


@router.get("/safety/map", response_class=HTMLResponse)
def status_map(request: Request, store: Store, caller: CurrentCaller, at: Now, district: DistrictParam = None) -> HTMLResponse:
    """The map of statuses of one 校区."""
    access.require(caller.principal, Action.SAFETY_CHECK, district or None)
    rnd, demo = _round(store, caller, at)
    chosen = district or usecase.first_district(store.sessions, caller.principal, rnd)
    if chosen is None:
        raise errors.NotFound("地図に表せる校区がありません（見られる範囲に名簿の方がいません）。")
    details = {"district": chosen, "round": rnd.kind}
    with api.audited(store, caller, usecase.MAP, [], "district", details):
        data = usecase.map_data(store.sessions, caller.principal, rnd, chosen)
    api.record_read(store, caller, usecase.MAP, [p["resident_no"] for p in data.points], "district", details)
    counts = {s: 0 for s in (x.value for x in usecase.PRIORITY)}
    for point in data.points:
        counts[point["status"]] += 1
    description = (f"{chosen}校区の安否の地図。" + "、".join(f"{s} {n} 人" for s, n in counts.items())
                   + f"。避難所 {len(data.shelters)} か所。")
    context = _common(request, store, caller, rnd, demo) | {
        "district": chosen, "districts": usecase.district_names(store.sessions, caller.principal),
        "svg": status_svg(data, description), "counts": counts, "legend": {s: legend_symbol(s) for s in counts},
        "shelter_symbol": legend_shelter(False), "welfare_symbol": legend_shelter(True), "shelters": data.shelters,
        "list_query": _query(district=chosen) if caller.principal.is_city else "",
    }
    return page(request, "safety/map.html.j2", context, caller=caller, title="安否の地図")


def _shelters_page(request: Request, store: Store, caller: Caller, at: dt.datetime, district: str | None,
                   everything: bool, *, reported: str | None = None, problem: tuple[str, str, str] | None = None,
                   status_code: int = 200) -> HTMLResponse:
    rnd, demo = _round(store, caller, at)
    states = usecase.shelter_states(store.sessions, caller.principal, rnd, district, everything=everything)
    welfare = [s for s in states if s.welfare]
    others = [s for s in states if not s.welfare]
    context = _common(request, store, caller, rnd, demo) | {
        "welfare": welfare, "others": others, "district": district or "", "everything": everything,
        "districts": usecase.district_names(store.sessions, caller.principal) if caller.principal.is_city
        else sorted(caller.principal.districts),
        "can_count": access.can(caller.principal, Action.SHELTER_COUNT) and rnd.on, "reported": reported,
        "problem": problem, "back": _query(district=district, all=everything),
        "checked_in": sum(s.checked_in for s in states),
    }
    return page(request, "safety/shelters.html.j2", context, caller=caller, title="避難所の状況", status_code=status_code)


@router.get("/safety/shelters", response_class=HTMLResponse)
def shelters(request: Request, store: Store, caller: CurrentCaller, at: Now, district: DistrictParam = None,
             all: bool = False, reported: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:  # noqa: A002
    """Shelters: the reported number of people against capacity, the residents checked in (福祉避難所 first)."""
    return _shelters_page(request, store, caller, at, district or None, all, reported=reported)


@router.post("/safety/shelters/{code}", response_class=HTMLResponse)
def shelter_count(code: str, request: Request, store: Store, caller: CurrentCaller, at: Now, people: Text = "",
                  district: Annotated[str, Form(max_length=80)] = "", all: Annotated[str, Form(max_length=5)] = "",  # noqa: A002
                  ) -> Response:
    """City staff report how many people are at a shelter now."""
    rnd, _ = _round(store, caller, at)
    everything = all == "1"
    try:
        number = int(people.strip())
    except ValueError:
        number = -1
    try:
        api.report_people(store, caller, at, rnd, code, number)
    except usecase.Invalid as exc:
        return _shelters_page(request, store, caller, at, district or None, everything,
                              problem=(code, people, exc.problems["people"]), status_code=422)
    query = _query(district=district or None, all=everything, reported=code)
    return RedirectResponse(f"/safety/shelters{query}#shelter-{code}", status_code=303)


@router.post("/safety/training")
def training(store: Store, caller: CurrentCaller, at: Now) -> Response:
    """City staff start a 安否確認 training on demo data (everyone 未確認 again)."""
    def audit(session: Any) -> None:
        caller.audit(session, usecase.TRAINING, target_kind="safety")

    with api.audited(store, caller, usecase.TRAINING, [], "safety", {}):
        usecase.start_training(store.sessions, caller.principal, caller.emergency, is_demo_store(store.sessions), at, audit)
    return RedirectResponse("/safety?training=started", status_code=303)
