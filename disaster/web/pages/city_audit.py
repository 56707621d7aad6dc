"""The audit log for the city administrator: filters (days in Japan time, account, action,
allowed or refused, 名簿番号), newest first, a page at a time, and the CSV export of what the
filters select (oldest first; cells a spreadsheet would run as a formula neutralised as the API's
export does). Reading and exporting are audited like the API's ``/audit`` and
``/audit/export.csv`` (``audit.read`` / ``audit.export`` with the filters)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from disaster import access, auditlog, errors, exports
from disaster.access import Action
from disaster.usecases import audit_search
from disaster.usecases.audit_search import AuditFilters
from disaster.web.city import CSV_COLUMNS
from disaster.web.deps import Caller, CurrentCaller, PageNumber, Store
from disaster.web.pages.city_common import Problems, city_page, require

router = APIRouter()
PER_PAGE = 50
ACTION_LABELS = {
    "plan.pdf": "マイプランの PDF", "plans.pdf": "校区のマイプラン", "map.html": "地図（名簿つき）",
    "audit.read": "監査ログの閲覧", "audit.export": "監査ログの書き出し", "auth.login": "ログイン",
    "disaster_mode.declare": "災害時モードの宣言", "disaster_mode.end": "災害時モードの終了",
    "user.add": "利用者の登録", "user.disable": "利用者の停止", "user.set_password": "パスワードの設定",
    "user.list": "利用者の一覧", "plan.read": "マイプランの閲覧", "plan.save": "マイプランの保存",
    "plan.issue": "マイプランの本人確認", "plan.history": "マイプランの履歴", "plan.review": "マイプランを要見直しに",
    "import.upload": "取り込みの確認", "import.read": "取り込みの閲覧", "import.commit": "取り込み",
    "import.discard": "取り込みの取り消し", "exercise.record": "図上訓練の記録", "exercise.finding": "図上訓練の課題",
    "exercise.read": "図上訓練の記録の閲覧", "job.create": "ジョブの開始", "job.cancel": "ジョブの取り消し",
    "job.result": "ジョブの結果の取り出し", "request.refused": "拒否された操作",
    "residents.list": "名簿の一覧", "resident.read": "名簿の閲覧（1人）",
}
RESULTS = {"": "すべて", "allowed": "許可", "refused": "拒否"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _day(text: str, name: str, label: str, problems: Problems) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems[name] = f"{label}を「2026-11-01」のように入力してください。"
        return None


def _filters(typed: dict[str, str]) -> tuple[AuditFilters, Problems]:
    problems: Problems = {}
    since = _day(typed["since"], "since", "開始日", problems)
    until = _day(typed["until"], "until", "終了日", problems)
    if since and until and until < since:
        problems["until"] = "終了日は開始日と同じか、それより後の日にしてください。"
    if typed["result"] not in RESULTS:
        problems["result"] = "結果を一覧から選んでください。"
    allowed = {"allowed": True, "refused": False}.get(typed["result"])
    return AuditFilters(since, until, typed["actor"] or None, typed["action"] or None, allowed,
                        typed["resident_no"] or None), problems


Field = Annotated[str, Query(max_length=80)]


def _typed(since: str, until: str, actor: str, action: str, result: str, resident_no: str) -> dict[str, str]:
    return {"since": since.strip(), "until": until.strip(), "actor": actor.strip(), "action": action.strip(),
            "result": result.strip(), "resident_no": resident_no.strip()}


def _details(entry: Any) -> str:
    return json.dumps(entry.details, ensure_ascii=False, separators=(", ", ": ")) if entry.details else ""


@router.get("/city/audit", response_class=HTMLResponse)
def audit_page(request: Request, store: Store, caller: CurrentCaller, since: Field = "", until: Field = "",
               actor: Field = "", action: Field = "", result: Field = "", resident_no: Field = "",
               page: PageNumber = 1) -> HTMLResponse:
    require(caller, Action.READ_AUDIT)
    typed = _typed(since, until, actor, action, result, resident_no)
    filters, problems = _filters(typed)
    found = None
    if not problems:
        found = audit_search.search(store.sessions, caller.principal, filters, page, PER_PAGE)
        _record(store, caller, auditlog.Action.AUDIT_READ, filters.as_details() | {"page": page, "entries": len(found.items)})
    query = {key: value for key, value in typed.items() if value}
    return city_page(request, "audit.html.j2", {
        "typed": typed, "problems": problems, "found": found, "actions": audit_search.actions(store.sessions, caller.principal),
        "action_label": action_label, "results": RESULTS, "details": _details, "query": query,
        "role_labels": {role.value: label for role, label in access.ROLE_LABELS.items()}},
        caller, "監査ログ", status_code=422 if problems else 200)


def _record(store: Store, caller: Caller, action: auditlog.Action, details: dict[str, Any]) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, action, target_kind="audit_log", details=details)


@router.get("/city/audit/export.csv", response_class=Response)
def audit_export(store: Store, caller: CurrentCaller, since: Field = "", until: Field = "", actor: Field = "",
                 action: Field = "", result: Field = "", resident_no: Field = "") -> Response:
    require(caller, Action.READ_AUDIT)
    filters, problems = _filters(_typed(since, until, actor, action, result, resident_no))
    if problems:
        raise errors.Rejected(" ".join(problems.values()))
    with store.sessions() as session, session.begin():
        rows = [[auditlog.as_dict(entry)[column] for column in CSV_COLUMNS]
                for entry in audit_search.matching(session, caller.principal, filters)]
        caller.audit(session, auditlog.Action.AUDIT_EXPORT, target_kind="audit_log",
                     details=filters.as_details() | {"entries": len(rows)})
    filename = f"audit_{caller.principal.city_code}.csv"
    return Response(exports.csv_bytes(CSV_COLUMNS, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

