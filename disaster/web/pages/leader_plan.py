"""One resident's マイプラン page: the assessment in plain words with its reasons, the plan's map,
the plan form (pre-filled from the assessment; destinations limited to the safe ones; a walk
beyond the person's limit never offered as the plan), save as 下書き (a new version), a new
supporter with consent, 本人確認済にする, the PDF to check and print, the version history, and
the conflict screen when someone else saved first (the form keeps what this user typed, merged
with the other save where they did not both change the same field).

The 名簿番号 is the only personal value in a URL; the page's title and heading never name the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from disaster import access, errors
from disaster.access import ROLE_LABELS, Role
from disaster.analysis.transport import MODE_LABELS, StartTrigger, TravelMode
from disaster.auditlog import Action
from disaster.codes import SUPPORTER_RELATIONS
from disaster.plans.context import INFO_CHOICES, add_months
from disaster.plans.options import AGREED, ASSESSED, NEARBY, SECOND, Verdict
from disaster.plans.record import (
    FIELD_LABELS,
    LIST_MAX,
    MADE_WITH,
    OTHER_RECIPIENT,
    RECIPIENTS,
    TRANSPORT_LABELS,
    PlanContent,
    rejected_reasons,
)
from disaster.profile import load_profile
from disaster.usecases import plan_records, residents
from disaster.usecases.plan_sheet import data_uri, plan_sheet
from disaster.wareki import to_wareki
from disaster.web.deps import Caller, CurrentCaller, Now, PlanRender, Store
from disaster.web.pages.render import page
from disaster.web.plans import audited
from disaster.web.residents import RESIDENT_READ, TIMEZONE, refusals_audited

router = APIRouter()

ResidentNo = Annotated[str, Path(min_length=1, max_length=40, description="名簿番号")]
SUPPORTER_ADD = "supporter.add"  # a supporter registered from the plan page (audit action)
NEW = "new"  # the supporter choice "the new supporter below"
CONTACT_ROWS = 4
ITEM_MAX = 200  # characters of one line of a list (配慮事項, 持ち出し品 …)
TITLE = "マイプラン（個別避難計画）"
ROLE_TEXT = {ASSESSED: "避難判定の避難先", SECOND: "避難判定の第2の避難先", AGREED: "受け入れの約束がある福祉避難所",
             NEARBY: "歩いて行ける範囲の避難所"}
TRIGGER_TEXT = {StartTrigger.LEVEL3.value: "警戒レベル3（高齢者等避難）が出たら出発します。",
                StartTrigger.EARLY.value: "警戒レベル3より前（大雨の予報が出た明るいうち）に出発します。",
                StartTrigger.PREVIOUS_DAY.value: "前の日の明るいうちに出発します。",
                StartTrigger.NOT_WORKABLE.value: "いまの条件では間に合う避難先がありません。相談が必要です。"}
# the fields of the form a problem of the plan rules (``rejected_reasons``) names, by its label
FIELD_OF_LABEL = {FIELD_LABELS[key]: key for key in ("destination_reason", "supporter_primary", "supporter_backup",
                                                    "recipients", "next_review_on", "transport_mode")}
FIELD_OF_LABEL["避難先"] = "destination"


def today_in_japan(at: dt.datetime) -> dt.date:
    return at.astimezone(TIMEZONE).date()


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def resident_url(resident_no: str) -> str:
    return f"/leader/residents/{quote(resident_no, safe='')}"


def _text(form: FormData, name: str, limit: int = 400) -> str:
    value = form.get(name)
    return value.strip()[:limit + 1] if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _wareki_of(text: str) -> str | None:
    """A date typed in the form in 和暦 (None: not a date)."""
    try:
        return to_wareki(dt.date.fromisoformat(text))
    except ValueError:
        return None


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(TIMEZONE)
    return f"{to_wareki(local.date())} {local:%H:%M}"


# --- the form's values ---


@dataclass
class PlanForm:
    """The plan form as the page shows it (strings and lists, as typed) and its problems per field."""

    version: int
    destination: str = ""
    destination_reason: str = ""
    transport_mode: str = ""
    transport_note: str = ""
    supporter_primary: str = ""
    supporter_backup: str = ""
    new: dict[str, Any] = field(default_factory=lambda: {"name": "", "relation": "", "phone": "", "address": "",
                                                          "consent": False, "consent_date": ""})
    contacts: list[dict[str, str]] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    info_other: str = ""
    care_notes: str = ""
    carry_items: str = ""
    notes: str = ""
    made_with: list[str] = field(default_factory=list)
    consent_on: str = ""
    recipients: list[str] = field(default_factory=list)
    recipient_other: str = ""
    next_review_on: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    def padded_contacts(self) -> list[dict[str, str]]:
        rows = [dict(c) for c in self.contacts]
        while len(rows) < max(CONTACT_ROWS, len(self.contacts) + 1) and len(rows) < 10:
            rows.append({"name": "", "relation": "", "phone": ""})
        return rows

    @property
    def adds_supporter(self) -> bool:
        return NEW in (self.supporter_primary, self.supporter_backup) or bool(self.new["name"])

    @classmethod
    def of_content(cls, version: int, content: dict[str, Any]) -> PlanForm:
        info = list(content.get("info_reception") or [])
        recipients = list(content.get("recipients") or [])
        return cls(
            version=version, destination=content.get("destination_code") or "",
            destination_reason=content.get("destination_reason") or "",
            transport_mode=content.get("transport_mode") or "", transport_note=content.get("transport_note") or "",
            supporter_primary=content.get("supporter_primary") or "", supporter_backup=content.get("supporter_backup") or "",
            contacts=[{"name": c.get("name") or "", "relation": c.get("relation") or "", "phone": c.get("phone") or ""}
                      for c in content.get("contacts") or []],
            info=[i for i in info if i in INFO_CHOICES], info_other="\n".join(i for i in info if i not in INFO_CHOICES),
            care_notes="\n".join(content.get("care_notes") or []), carry_items="\n".join(content.get("carry_items") or []),
            notes=content.get("notes") or "", made_with=list(content.get("made_with") or []),
            consent_on=content.get("consent_on") or "",
            recipients=[r for r in recipients if r in RECIPIENTS],
            recipient_other="\n".join(r.removeprefix(OTHER_RECIPIENT) for r in recipients if r not in RECIPIENTS),
            next_review_on=content.get("next_review_on") or "")

    @classmethod
    def posted(cls, form: FormData) -> PlanForm:
        version = _text(form, "version", 10)
        contacts = [{"name": _text(form, f"contact_name_{n}", 80), "relation": _text(form, f"contact_relation_{n}", 20),
                     "phone": _text(form, f"contact_phone_{n}", 40)} for n in range(10)]
        return cls(
            version=int(version) if version.isdigit() else -1,
            destination=_text(form, "destination", 40), destination_reason=_text(form, "destination_reason"),
            transport_mode=_text(form, "transport_mode", 20), transport_note=_text(form, "transport_note"),
            supporter_primary=_text(form, "supporter_primary", 40), supporter_backup=_text(form, "supporter_backup", 40),
            new={"name": _text(form, "new_name", 80), "relation": _text(form, "new_relation", 20),
                 "phone": _text(form, "new_phone", 40), "address": _text(form, "new_address", 200),
                 "consent": form.get("new_consent") == "1", "consent_date": _text(form, "new_consent_date", 10)},
            contacts=[c for c in contacts if any(c.values())],
            info=[v for v in form.getlist("info") if isinstance(v, str) and v in INFO_CHOICES],
            info_other=_text(form, "info_other", 2000), care_notes=_text(form, "care_notes", 4000),
            carry_items=_text(form, "carry_items", 4000), notes=_text(form, "notes", 2000),
            made_with=[v for v in form.getlist("made_with") if isinstance(v, str) and v in MADE_WITH],
            consent_on=_text(form, "consent_on", 10),
            recipients=[v for v in form.getlist("recipients") if isinstance(v, str) and v in RECIPIENTS],
            recipient_other=_text(form, "recipient_other", 1000), next_review_on=_text(form, "next_review_on", 10))

    def content(self) -> PlanContent | None:
        """The plan's fields, or None with ``problems`` said per field (what the form itself can tell)."""
        problems = self.problems
        dates: dict[str, dt.date | None] = {}
        for name in ("consent_on", "next_review_on"):
            try:
                dates[name] = _date(getattr(self, name))
            except ValueError:
                problems[name] = "日付を 2026-11-20 の形で入れてください。"
        for n, contact in enumerate(self.contacts):
            if not contact["name"] and (contact["phone"] or contact["relation"]):
                problems[f"contact_{n}"] = "連絡先の名前を入れてください（名前のない行は保存しません）。"
            elif len(contact["name"]) > 80 or len(contact["phone"]) > 40 or len(contact["relation"]) > 20:
                problems[f"contact_{n}"] = "名前は80文字、続柄は20文字、電話は40文字までです。"
        lists = {"info_reception": [*self.info, *_lines(self.info_other)], "care_notes": _lines(self.care_notes),
                 "carry_items": _lines(self.carry_items),
                 "recipients": [*self.recipients, *(OTHER_RECIPIENT + line for line in _lines(self.recipient_other))]}
        where = {"info_reception": "info_other", "care_notes": "care_notes", "carry_items": "carry_items",
                 "recipients": "recipient_other"}
        for key, items in lists.items():
            if len(items) > LIST_MAX:
                problems[where[key]] = f"{LIST_MAX}行までにしてください。"
            elif any(len(item) > ITEM_MAX for item in items):
                problems[where[key]] = f"1行は{ITEM_MAX}文字までにしてください。"
        for name, limit in (("destination_reason", 400), ("transport_note", 400), ("notes", 2000)):
            if len(getattr(self, name)) > limit:
                problems[name] = f"{limit}文字までにしてください。"
        if self.transport_mode and self.transport_mode not in TRANSPORT_LABELS:
            problems["transport_mode"] = "移動の方法を選んでください。"
        if problems:
            return None
        try:
            return PlanContent.model_validate({
                "destination_code": self.destination or None, "destination_reason": self.destination_reason or None,
                "transport_mode": self.transport_mode or None, "transport_note": self.transport_note or None,
                "supporter_primary": self.supporter_primary or None, "supporter_backup": self.supporter_backup or None,
                "contacts": [{"name": c["name"], "relation": c["relation"] or None, "phone": c["phone"] or None}
                             for c in self.contacts if c["name"]],
                "notes": self.notes or None, "made_with": self.made_with,
                "consent_on": dates["consent_on"], "next_review_on": dates["next_review_on"], **lists})
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "notes"
                problems[where.get(name, name)] = "入力が長すぎるか、正しくありません。"
            return None

    def new_supporter(self) -> residents.NewSupporter:
        try:
            agreed = _date(self.new["consent_date"])
        except ValueError:
            agreed = None
        return residents.NewSupporter(self.new["name"], self.new["relation"] or None, self.new["phone"] or None,
                                      self.new["address"] or None, bool(self.new["consent"]), agreed)


def _prefilled(view: plan_records.PlanView, plan: dict[str, Any] | None, today: dt.date, city_code: str) -> PlanForm:
    """The form of the stored plan, or (no record yet) the assessment's suggestion."""
    if view.content is not None:
        return PlanForm.of_content(view.version, view.content)
    return _suggested(view, plan, today, city_code)


def _suggested(view: plan_records.PlanView, plan: dict[str, Any] | None, today: dt.date, city_code: str) -> PlanForm:
    """The form as a new plan starts: what the assessment suggests and the 名簿 holds."""
    suggestion = view.suggestion
    supporters = list(suggestion.get("supporters") or [])
    consent_on = suggestion.get("consent_on")
    review = add_months(today, load_profile(city_code).evacuation.review_months)
    return PlanForm.of_content(0, {
        "destination_code": suggestion.get("destination_code"), "transport_mode": suggestion.get("transport_mode"),
        "supporter_primary": supporters[0] if supporters else None,
        "supporter_backup": supporters[1] if len(supporters) > 1 else None,
        "contacts": suggestion.get("contacts") or [], "info_reception": suggestion.get("info_reception") or [],
        "care_notes": (plan or {}).get("care_notes") or [], "carry_items": (plan or {}).get("checklist") or [],
        "consent_on": consent_on.isoformat() if consent_on else None, "next_review_on": review.isoformat()})


# --- the page ---


@dataclass
class IssueForm:
    confirmed_on: str
    talked: bool = False
    consent: bool = False
    problems: dict[str, str] = field(default_factory=dict)


@dataclass
class Conflict:
    """Someone saved first: what they changed, what this user's form would change, and the merge."""

    message: str
    saved_by: str
    saved_at: str
    theirs: list[str]
    mine: list[str]
    both: list[str]  # fields both changed (the form keeps this user's value)


def _options(view: plan_records.PlanView, walking: plan_records.Walking) -> list[dict[str, Any]]:
    """The destinations the safety rules allow (and nothing else), with what a walk there means."""
    options = []
    for verdict in view.destinations:
        distance = walking.distance_to(verdict)
        walk_problem = walking.problem(verdict)
        options.append({"code": verdict.code, "name": verdict.name, "kinds": verdict.kinds, "why": verdict.why,
                        "role": ROLE_TEXT.get(verdict.role or "", ""), "floor": verdict.floor,
                        "distance_km": None if distance is None else round(distance / 1000, 1),
                        "walkable": walk_problem is None, "walk_problem": walk_problem})
    return options


def _assessment_words(detail: dict[str, Any], plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """The assessment in plain words, with its reasons."""
    a = detail.get("assessment")
    if a is None or plan is None:
        return None
    mode = a.get("travel_mode")
    return {
        "decision": plan.get("decision"), "hazards": plan.get("hazards") or [],
        "destination": a.get("destination"), "second": a.get("second_shelter"),
        "mode": MODE_LABELS[TravelMode(mode)] if mode in {m.value for m in TravelMode} else None,
        "distance_km": round(a["distance_m"] / 1000, 1) if a.get("distance_m") is not None else None,
        "minutes": round(a["travel_min"]) if a.get("travel_min") is not None else None,
        "start": TRIGGER_TEXT.get(a.get("start_trigger") or ""), "start_text": plan.get("start_text"),
        "crosses_deep_water": a.get("crosses_deep_water"),
        "welfare": plan.get("welfare"), "not_workable": plan.get("not_workable"),
        "priority": a.get("priority_score"), "priority_reasons": [r["text"] for r in a.get("priority_reasons") or []],
        "supporter_warnings": plan.get("supporter_warnings") or [], "computed": _when(a.get("computed_at")),
    }


def _no_walk_beyond_limit(form: PlanForm, options: list[dict[str, Any]], walking: plan_records.Walking) -> None:
    """A stored plan (or a suggestion) that walks further than the person can is never shown as the
    plan: 「歩いて」 is left unchosen and the form says why (the person or the data changed since)."""
    if form.transport_mode != TravelMode.WALK.value:
        return
    chosen = next((o for o in options if o["code"] == form.destination), None)
    problem = chosen["walk_problem"] if chosen is not None else walking.problem(None) if not form.destination else None
    if walking.limit_m <= 0:
        problem = problem or "この方に歩いての避難はお願いできません。車・福祉タクシー等を選び、移動の手配を書いてください。"
    if problem:
        form.transport_mode = ""
        form.problems["transport_mode"] = problem


def resident_page(request: Request, store: Store, caller: Caller, resident_no: str, at: dt.datetime, *,
                  form: PlanForm | None = None, issue: IssueForm | None = None, conflict: Conflict | None = None,
                  problem: str | None = None, problem_at: str = "plan", done: dict[str, Any] | None = None,
                  status_code: int = 200, audit: bool = True) -> HTMLResponse:
    principal = caller.principal
    today = today_in_japan(at)
    with refusals_audited(store, caller, RESIDENT_READ, (resident_no,), "resident", {"page": "leader"}):
        detail = residents.resident_detail(store.sessions, principal, resident_no)
        view = plan_records.get_plan(store.sessions, principal, resident_no)
        sheet = plan_sheet(store.sessions, principal, resident_no, today)
        walking = plan_records.walking(store.sessions, principal, resident_no)
        findings = residents.open_findings(store.sessions, principal, resident_no)
    if audit:
        with store.sessions() as session, session.begin():
            caller.audit(session, RESIDENT_READ, residents=[resident_no], target_kind="resident", details={"page": "leader"})
            caller.audit(session, Action.PLAN_READ, residents=[resident_no], target_kind="plan",
                         details={"version": view.version, "page": "leader"})
    options = _options(view, walking)
    allowed_codes = {o["code"] for o in options}
    if form is None:
        form = _prefilled(view, sheet.plan, today, principal.city_code)
        _no_walk_beyond_limit(form, options, walking)
    record_destination = (view.content or {}).get("destination_code")
    context = {
        "resident_no": resident_no, "person": detail, "view": view, "plan": sheet.plan,
        "map_uri": data_uri(sheet.map_svg) if sheet.map_svg else None,
        "assessment": _assessment_words(detail, sheet.plan), "findings": findings, "options": options,
        "allowed_codes": allowed_codes, "assessed_code": view.suggestion.get("destination_code"),
        "assessed_text": view.suggestion.get("destination"),
        "unsafe_choice": form.destination and form.destination not in allowed_codes,
        "record_unsafe": bool(record_destination and record_destination not in allowed_codes),
        "walk_limit_km": round(walking.limit_m / 1000, 1), "can_walk": walking.limit_m > 0,
        "transport_labels": TRANSPORT_LABELS, "supporters": view.supporters, "relations": SUPPORTER_RELATIONS,
        "info_choices": INFO_CHOICES, "made_with_choices": MADE_WITH, "recipient_choices": RECIPIENTS,
        "form": form, "contacts": form.padded_contacts(), "issue": issue or IssueForm(today.isoformat()),
        "conflict": conflict, "problem": problem, "problem_at": problem_at, "done": done, "today": today,
        "status_label": view.status or "未作成", "updated": _when(view.updated_at),
        "updated_role": None, "confirmed": to_wareki(view.confirmed_on) if view.confirmed_on else None,
        "url": resident_url(resident_no), "wareki": to_wareki, "wareki_of": _wareki_of,
    }
    return page(request, "leader/resident.html.j2", context, caller=caller, title=TITLE, status_code=status_code)


def _done(store: Store, caller: Caller, resident_no: str, version: int, kind: str) -> dict[str, Any] | None:
    """What the save (or issue) that led here changed: read back from the history (no name in the URL)."""
    entries = plan_records.history(store.sessions, caller.principal, resident_no)
    entry = next((e for e in entries if e.version == version), None)
    if entry is None:
        return None
    return {"kind": kind, "version": entry.version, "status": entry.status, "changes": entry.changes}


@router.get("/leader/residents/{resident_no}", response_class=HTMLResponse)
def show(resident_no: ResidentNo, request: Request, store: Store, caller: CurrentCaller, at: Now,
         saved: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
         issued: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
         unchanged: Annotated[int | None, Query(ge=0, le=1_000_000)] = None) -> HTMLResponse:
    done = None
    if saved is not None or issued is not None:
        with refusals_audited(store, caller, RESIDENT_READ, (resident_no,), "resident", {"page": "leader"}):
            done = _done(store, caller, resident_no, saved if saved is not None else issued or 0,
                         "saved" if saved is not None else "issued")
    elif unchanged is not None:
        done = {"kind": "unchanged", "version": unchanged, "status": None, "changes": []}
    return resident_page(request, store, caller, resident_no, at, done=done)


def _rule_problems(form: PlanForm, content: PlanContent, view: plan_records.PlanView, walking: plan_records.Walking,
                   consent_share: bool) -> None:
    """The plan rules (as ``save_plan`` applies them), said next to their fields."""
    options = {v.code: v for v in view.destinations}
    destination_problem = None
    if content.destination_code is not None and content.destination_code not in options:
        destination_problem = "この避難先は、いまの安全の基準では選べません。一覧の中から選んでください。"
    supporters = {s["supporter_no"] for s in view.supporters} | {NEW}
    mode = content.transport_mode or view.suggestion.get("transport_mode")
    walk_problem = None
    if mode == TravelMode.WALK.value:
        chosen: Verdict | None = options.get(content.destination_code or "")
        walk_problem = walking.problem(chosen)
    for sentence in rejected_reasons(content, assessed_code=view.suggestion.get("destination_code"),
                                     supporters=supporters, consent_share=consent_share,
                                     destination_problem=destination_problem, walking=walk_problem):
        label, _, text = sentence.partition(": ")
        name = FIELD_OF_LABEL.get(label, "destination")
        form.problems.setdefault(name, text)
    if form.adds_supporter:
        if not form.new["name"]:
            form.problems.setdefault("new_name", "新しい支援者の氏名を入れてください。")
        for key, text in residents.supporter_problems(form.new_supporter()).items():
            form.problems.setdefault(f"new_{key}", text)
        if form.new["consent_date"]:
            try:
                _date(form.new["consent_date"])
            except ValueError:
                form.problems["new_consent_date"] = "日付を 2026-11-20 の形で入れてください。"


def _conflict(store: Store, caller: Caller, resident_no: str, form: PlanForm, content: PlanContent,
              exc: errors.Conflict, today: dt.date) -> tuple[PlanForm, Conflict]:
    """The conflict screen: the other save and a merged form (the other save's fields where this
    user did not change them, this user's fields where they did). The base both started from is
    the version this user loaded, or for a new plan the suggestion the form started with."""
    principal = caller.principal
    current = exc.current or {}
    stored_view = plan_records.get_plan(store.sessions, principal, resident_no)
    if form.version == 0:
        sheet = plan_sheet(store.sessions, principal, resident_no, today, with_map=False)
        started = _suggested(stored_view, sheet.plan, today, principal.city_code).content()
        base = started.stored() if started is not None else {}
    else:
        base = plan_records.version_content(store.sessions, principal, resident_no, form.version)
    theirs = stored_view.content or {}
    mine = content.stored()
    merged: dict[str, Any] = {}
    both = []
    for key in PlanContent.model_fields:
        mine_changed = _norm(mine.get(key)) != _norm(base.get(key))
        theirs_changed = _norm(theirs.get(key)) != _norm(base.get(key))
        merged[key] = mine.get(key) if mine_changed else theirs.get(key)
        if mine_changed and theirs_changed and _norm(mine.get(key)) != _norm(theirs.get(key)):
            both.append(FIELD_LABELS.get(key, key))
    merged = {key: value for key, value in merged.items() if value is not None}
    merged_form = PlanForm.of_content(stored_view.version, merged)
    merged_form.new = form.new
    if form.supporter_primary == NEW:
        merged_form.supporter_primary = NEW
    if form.supporter_backup == NEW:
        merged_form.supporter_backup = NEW
    saved_at = current.get("saved_at")
    message = (f"あなたがこの画面を開いた後に、ほかの人がこの方の計画を保存しました（いまは第{stored_view.version}版）。"
               "あなたの入力は、まだ保存していません。")
    return merged_form, Conflict(
        message, str(current.get("saved_by") or stored_view.updated_by or ""),
        _when(dt.datetime.fromisoformat(saved_at)) if isinstance(saved_at, str) else "",
        plan_records.changes_between(store.sessions, principal, base, theirs),
        plan_records.changes_from_stored(store.sessions, principal, resident_no, PlanContent.model_validate(merged)),
        both)


def _norm(value: Any) -> Any:
    return None if value in ("", [], None) else value


@router.post("/leader/residents/{resident_no}/plan", response_model=None)
def save(resident_no: ResidentNo, request: Request, store: Store, caller: CurrentCaller, at: Now,
         form_values: Form) -> Response:
    principal = caller.principal
    form = PlanForm.posted(form_values)
    with audited(store, caller, Action.PLAN_SAVE, resident_no, {"page": "leader"}):
        view = plan_records.get_plan(store.sessions, principal, resident_no)
        detail = residents.resident_detail(store.sessions, principal, resident_no)
        if not view.can_edit:  # says which right is missing (and is audited as a refusal)
            access.require(principal, access.Action.ISSUE_PLAN if detail.get("consent_plan")
                           else access.Action.DRAFT_PLAN, view.district)
        if form.version < 0:
            raise errors.Rejected("読み込んだ版がわかりません。ページを読み込み直してください。")
        walking = plan_records.walking(store.sessions, principal, resident_no)
    content = form.content()
    if content is not None:
        _rule_problems(form, content, view, walking, bool(detail.get("consent_share")))
    if content is None or form.problems:
        _audit_failure(store, caller, resident_no, "Rejected")
        return resident_page(request, store, caller, resident_no, at, form=form, status_code=422, audit=False,
                             problem="保存できませんでした。赤い字のところを直してください。")
    if form.adds_supporter:
        with audited(store, caller, Action.PLAN_SAVE, resident_no, {"page": "leader", "step": "supporter"}):
            number = residents.add_supporter(store.sessions, principal, resident_no, form.new_supporter(), at)
        with store.sessions() as session, session.begin():
            caller.audit(session, SUPPORTER_ADD, residents=[resident_no], target_kind="supporter",
                         details={"supporter_no": number, "page": "leader"})
        content = content.model_copy(update={
            key: number for key in ("supporter_primary", "supporter_backup") if getattr(content, key) == NEW})
        form.supporter_primary = number if form.supporter_primary == NEW else form.supporter_primary
        form.supporter_backup = number if form.supporter_backup == NEW else form.supporter_backup
        form.new = PlanForm(0).new
    try:
        with audited(store, caller, Action.PLAN_SAVE, resident_no, {"page": "leader"}):
            saved = plan_records.save_plan(store.sessions, principal, resident_no, content, form.version, at)
    except errors.Conflict as exc:
        merged, conflict = _conflict(store, caller, resident_no, form, content, exc, today_in_japan(at))
        return resident_page(request, store, caller, resident_no, at, form=merged, conflict=conflict, status_code=409,
                             audit=False)
    except errors.Rejected as exc:  # the data changed since the form was shown (the rules are checked again there)
        return resident_page(request, store, caller, resident_no, at, form=form, problem=str(exc), status_code=422,
                             audit=False)
    with store.sessions() as session, session.begin():
        caller.audit(session, Action.PLAN_SAVE, residents=[resident_no], target_kind="plan",
                     details={"version": saved.version, "changes": len(saved.changes), "page": "leader"})
    if not saved.changes:
        return RedirectResponse(f"{resident_url(resident_no)}?unchanged={saved.version}#plan-status", status_code=303)
    return RedirectResponse(f"{resident_url(resident_no)}?saved={saved.version}#plan-status", status_code=303)


def _audit_failure(store: Store, caller: Caller, resident_no: str, outcome: str, action: Action = Action.PLAN_SAVE) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, action, residents=[resident_no], target_kind="plan",
                     details={"page": "leader", "outcome": outcome})


@router.post("/leader/residents/{resident_no}/plan/issue", response_model=None)
def issue(resident_no: ResidentNo, request: Request, store: Store, caller: CurrentCaller, at: Now,
          form_values: Form) -> Response:
    principal = caller.principal
    today = today_in_japan(at)
    version = _text(form_values, "version", 10)
    given = IssueForm(_text(form_values, "confirmed_on", 10), form_values.get("talked") == "1",
                      form_values.get("consent") == "1")
    with audited(store, caller, Action.PLAN_ISSUE, resident_no, {"page": "leader"}):
        view = plan_records.get_plan(store.sessions, principal, resident_no)
        detail = residents.resident_detail(store.sessions, principal, resident_no)
        if not view.can_edit:
            access.require(principal, access.Action.ISSUE_PLAN, view.district)
        if not detail.get("consent_plan"):
            raise errors.Rejected("計画作成の同意がない方の計画は、本人確認済にできません（下書きのままです）。")
        if not version.isdigit():
            raise errors.Rejected("読み込んだ版がわかりません。ページを読み込み直してください。")
    confirmed: dt.date | None = None
    try:
        confirmed = _date(given.confirmed_on)
    except ValueError:
        given.problems["confirmed_on"] = "日付を 2026-11-20 の形で入れてください。"
    consented = (view.content or {}).get("consent_on") or detail.get("consent_plan_date")
    consented_on = dt.date.fromisoformat(consented) if isinstance(consented, str) else consented
    if confirmed is None and "confirmed_on" not in given.problems:
        given.problems["confirmed_on"] = "本人と確かめた日を入れてください。"
    elif confirmed is not None and confirmed > today:
        given.problems["confirmed_on"] = "本人と確かめた日に、先の日付は入れられません。"
    elif confirmed is not None and consented_on is not None and confirmed < consented_on:
        given.problems["confirmed_on"] = f"計画作成の同意日（{to_wareki(consented_on)}）より前の日付は入れられません。"
    if not given.talked:
        given.problems["talked"] = "本人（または家族）と一緒に内容を確かめてから、チェックを入れてください。"
    if not given.consent:
        given.problems["consent"] = "計画作成の同意を確かめてから、チェックを入れてください。"
    if given.problems:
        _audit_failure(store, caller, resident_no, "Rejected", Action.PLAN_ISSUE)
        return resident_page(request, store, caller, resident_no, at, problem_at="issue", issue=given, status_code=422,
                             audit=False,
                             problem="本人確認済にできませんでした。赤い字のところを直してください。")
    try:
        with audited(store, caller, Action.PLAN_ISSUE, resident_no, {"page": "leader"}):
            saved = plan_records.issue_plan(store.sessions, principal, resident_no, int(version), at, confirmed)
    except errors.Conflict:
        return resident_page(request, store, caller, resident_no, at, problem_at="issue", status_code=409, audit=False,
                             problem="本人確認済にできませんでした。この画面を開いた後に、ほかの人が計画を保存しました。"
                                     "いま保存されている計画を表示しています。内容を本人と確かめてから、"
                                     "もう一度「本人確認済にする」を押してください。")
    except errors.NotReady as exc:  # nothing saved yet
        return resident_page(request, store, caller, resident_no, at, problem_at="issue", issue=given,
                             problem=str(exc), status_code=409, audit=False)
    except errors.Rejected as exc:
        return resident_page(request, store, caller, resident_no, at, problem_at="issue", issue=given,
                             problem=str(exc), status_code=422, audit=False)
    with store.sessions() as session, session.begin():
        caller.audit(session, Action.PLAN_ISSUE, residents=[resident_no], target_kind="plan",
                     details={"version": saved.version, "page": "leader"})
    return RedirectResponse(f"{resident_url(resident_no)}?issued={saved.version}#plan-status", status_code=303)


@router.get("/leader/residents/{resident_no}/history", response_class=HTMLResponse)
def history(resident_no: ResidentNo, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    with audited(store, caller, Action.PLAN_HISTORY, resident_no, {"page": "leader"}):
        detail = residents.resident_detail(store.sessions, caller.principal, resident_no)
        entries = plan_records.history(store.sessions, caller.principal, resident_no)
    with store.sessions() as session, session.begin():
        caller.audit(session, Action.PLAN_HISTORY, residents=[resident_no], target_kind="plan",
                     details={"versions": len(entries), "page": "leader"})
    shown = [{"version": e.version, "saved": _when(e.saved_at), "author": _author(e.author_role, e.author_login),
              "status": e.status, "made_with": "・".join(e.made_with), "changes": e.changes,
              "note": [line for line in (e.note or "").splitlines() if line.strip()]} for e in entries]
    return page(request, "leader/history.html.j2", {"person": detail, "resident_no": resident_no, "entries": shown,
                                                    "url": resident_url(resident_no)},
                caller=caller, title="計画の変更の記録")


def _author(role: str, login: str) -> str:
    if role == plan_records.SYSTEM.role:
        return "自動点検（データの変更）"
    try:
        label = ROLE_LABELS[Role(role)]
    except ValueError:
        label = role
    return f"{label}（{login}）"


@router.get("/leader/residents/{resident_no}/plan.pdf", response_class=Response)
def plan_pdf(resident_no: ResidentNo, store: Store, caller: CurrentCaller, at: Now, renderer: PlanRender,
             download: bool = False, large: bool = False) -> Response:
    """The マイプラン as printed: shown in the browser to check and print, or downloaded."""
    from disaster.usecases.plans import plan_pdf as build_pdf  # optional extra "pdf"

    with refusals_audited(store, caller, Action.PLAN_PDF, (resident_no,), "resident", {"page": "leader"}):
        result = build_pdf(store.sessions, caller.principal, resident_no, large_print=large,
                           today=today_in_japan(at), render=renderer)
    with store.sessions() as session, session.begin():
        caller.audit(session, Action.PLAN_PDF, residents=[resident_no], target_kind="resident",
                     details={"draft": result.draft, "pages": result.pages, "version": result.version, "page": "leader"})
    filename = quote(f"マイプラン_{resident_no}.pdf")
    how = "attachment" if download else "inline"
    return Response(result.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"{how}; filename=\"plan.pdf\"; filename*=UTF-8''{filename}",
        "Cache-Control": "no-store"})
