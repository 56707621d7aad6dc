"""Pages of city staff (地域福祉課) and the city administrator: the dashboard (the KPIs of the
city's plan), the re-assessment job, 災害時モード, accounts; imports (``city_imports``) and the
audit log (``city_audit``) are in their own modules, included here.

Who may: the dashboard and 災害時モード's state for both city roles (``access.Action.STATS``);
declaring and ending 災害時モード, accounts, imports and the audit log for the city administrator
only, as in the API. Every change goes through the use-case the API uses, which audits it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from disaster import access, errors
from disaster.access import Action, Role
from disaster.accounts import ACCOUNT_ROLES, LOGIN_PATTERN, AccountError
from disaster.models import District, User
from disaster.settings import get_settings
from disaster.usecases import dashboard as dashboard_usecase
from disaster.usecases import disaster_mode
from disaster.usecases import users as users_usecase
from disaster.web.deps import Caller, CurrentCaller, Now, Store
from disaster.web.jobs import start_job
from disaster.web.mode import ModeId
from disaster.web.pages import city_audit, city_imports
from disaster.web.pages.city_chart import participants_chart
from disaster.web.pages.city_common import JAPAN, Problems, city_page, require

router = APIRouter()
SORTS = {"name": "校区名の順", "coverage": "本人確認済の割合が低い順", "supporter": "支援者のいない方が多い順",
         "review": "見直しが必要な計画が多い順", "session": "最後の図上訓練が古い順"}
IDLE_CHOICES = (1, 2, 3, 4, 5)
DONE = {"declared": "災害時モードを宣言しました。", "ended": "災害時モードを終了しました。",
        "added": "利用者を登録しました。", "password": "パスワードを設定しました。ロックも解除しました。",
        "disabled": "利用者を停止しました。ログイン中の画面も使えなくなります。"}
LoginPath = Annotated[str, Path(min_length=1, max_length=80, description="ログインID")]
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]


# --- the dashboard ---


def _sorted(districts: list[dashboard_usecase.DistrictFigures], sort: str) -> list[dashboard_usecase.DistrictFigures]:
    if sort == "coverage":
        return sorted(districts, key=lambda d: (d.coverage_percent is None, d.coverage_percent or 0, d.name))
    if sort == "supporter":
        return sorted(districts, key=lambda d: (-d.without_supporter, d.name))
    if sort == "review":
        return sorted(districts, key=lambda d: (-d.review_due, d.name))
    if sort == "session":
        return sorted(districts, key=lambda d: (d.last_session or dt.date.min, d.name))
    return districts


@router.get("/city", response_class=HTMLResponse)
def home(request: Request, store: Store, caller: CurrentCaller,
         idle_years: Annotated[int, Query(ge=1, le=max(IDLE_CHOICES))] = 3,
         sort: Annotated[str, Query(max_length=20)] = "name") -> HTMLResponse:
    require(caller, Action.STATS)
    board = dashboard_usecase.dashboard(store.sessions, caller.principal, idle_years)
    chosen = sort if sort in SORTS else "name"
    return city_page(request, "home.html.j2", {
        "board": board, "chart": participants_chart(board), "rows": _sorted(board.districts, chosen), "sort": chosen,
        "sorts": SORTS, "idle_choices": IDLE_CHOICES, "is_admin": caller.principal.role == Role.CITY_ADMIN,
        "login": caller.principal.login}, caller, "ダッシュボード")


@router.post("/city/assessment")
def reassess(request: Request, store: Store, caller: CurrentCaller) -> Response:
    """Run the city's assessment again as a job (after an import, say), then follow it."""
    require(caller, Action.STATS)
    job = start_job(request, store, caller, "assessment", {})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


# --- 災害時モード ---


def _districts(store: Store, caller: Caller) -> list[str]:
    with store.sessions() as session:
        return list(session.scalars(select(District.name).where(District.city_code == caller.principal.city_code)
                                    .order_by(District.name)))


def _default_end(at: dt.datetime) -> str:
    tomorrow = (at.astimezone(JAPAN) + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return tomorrow.strftime("%Y-%m-%dT%H:%M")


def _mode_page(request: Request, store: Store, caller: Caller, at: dt.datetime, form: dict[str, Any] | None = None,
               problems: Problems | None = None, done: str | None = None) -> HTMLResponse:
    require(caller, Action.STATS)
    disaster_mode.require_modes(store.engine)
    listings = disaster_mode.list_modes(store.sessions, caller.principal.city_code, at)
    return city_page(request, "mode.html.j2", {
        "listings": sorted(listings, key=lambda item: not item.on), "emergency_now": caller.emergency,
        "may_declare": access.can(caller.principal, Action.DECLARE_DISASTER_MODE), "districts": _districts(store, caller),
        "form": form or {"reason": "", "scope": "some", "chosen": [], "ends_at": _default_end(at)},
        "problems": problems or {}, "done": DONE.get(done or ""), "max_days": disaster_mode.MAX_DURATION.days,
        "max_reason": disaster_mode.MAX_REASON}, caller, "災害時モード", status_code=422 if problems else 200)


@router.get("/city/mode", response_class=HTMLResponse)
def mode(request: Request, store: Store, caller: CurrentCaller, at: Now,
         done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    return _mode_page(request, store, caller, at, done=done)


def _ends_at(text: str, at: dt.datetime, problems: Problems) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        problems["ends_at"] = "終了日時を「2026-07-09 18:00」のように入力してください。"
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JAPAN)  # what the form's field gives: Japan time
    if moment <= at:
        problems["ends_at"] = "終了日時が過ぎています。これから先の日時を入力してください。"
    elif moment > at + disaster_mode.MAX_DURATION:
        problems["ends_at"] = (f"災害時モードは最長 {disaster_mode.MAX_DURATION.days} 日間です。"
                               "続けるときは、期限の前にもう一度宣言してください。")
    return moment


@router.post("/city/mode", response_class=HTMLResponse)
def declare(request: Request, store: Store, caller: CurrentCaller, at: Now, reason: FormText = "", scope: FormText = "",
            districts: FormList = [], ends_at: FormText = "") -> Response:  # noqa: B006  (FastAPI copies defaults)
    require(caller, Action.DECLARE_DISASTER_MODE)
    reason = reason.strip()
    chosen = districts
    ends_text = ends_at
    problems: Problems = {}
    if not reason:
        problems["reason"] = "理由を入力してください（例: 〇〇川の氾濫のおそれ、避難指示の発令）。"
    elif len(reason) > disaster_mode.MAX_REASON:
        problems["reason"] = f"理由は {disaster_mode.MAX_REASON} 文字以内にしてください（いま {len(reason)} 文字です）。"
    known = _districts(store, caller)
    if scope not in ("all", "some"):
        problems["scope"] = "対象を「全校区」か「校区を選ぶ」から選んでください。"
    elif scope == "some":
        if not chosen:
            problems["districts"] = "対象の校区を 1 つ以上選んでください（全校区なら「全校区」を選びます）。"
        elif unknown := [d for d in chosen if d not in known]:
            problems["districts"] = f"校区「{'」「'.join(unknown)}」は登録されていません。"
    until = _ends_at(ends_text, at, problems)
    form = {"reason": reason, "scope": scope, "chosen": chosen, "ends_at": ends_text}
    if problems or until is None:
        return _mode_page(request, store, caller, at, form, problems)
    try:
        disaster_mode.declare(store.sessions, caller.principal, reason, chosen if scope == "some" else [], until, at,
                              caller.origin,
                              all_districts=scope == "all")
    except (errors.Rejected, errors.NotFound) as exc:  # checked above; the use-case's word is the last one
        return _mode_page(request, store, caller, at, form, {"form": str(exc)})
    return RedirectResponse("/city/mode?done=declared", status_code=303)


@router.post("/city/mode/{mode_id}/end")
def end_mode(mode_id: ModeId, store: Store, caller: CurrentCaller, at: Now) -> Response:
    require(caller, Action.DECLARE_DISASTER_MODE)
    disaster_mode.end(store.sessions, caller.principal, mode_id, at, caller.origin)
    return RedirectResponse("/city/mode?done=ended", status_code=303)


# --- accounts ---


def _role_choices() -> list[tuple[str, str]]:
    return [(role.value, access.ROLE_LABELS[role]) for role in ACCOUNT_ROLES]


def _status(user: User, at: dt.datetime) -> tuple[str, dt.datetime | None]:
    """(状態, until when locked)."""
    if user.disabled:
        return "停止中", None
    if user.locked_until is not None and user.locked_until > at:
        return "ロック中", user.locked_until
    return "利用中", None


def _users(store: Store, caller: Caller) -> list[User]:
    return users_usecase.list_users(store.sessions, caller.principal, caller.origin)  # audited there


def _users_page(request: Request, store: Store, caller: Caller, at: dt.datetime, form: dict[str, Any] | None = None,
                problems: Problems | None = None) -> HTMLResponse:
    require(caller, Action.MANAGE_USERS)
    users = _users(store, caller)
    return city_page(request, "users.html.j2", {
        "users": [(user, *_status(user, at)) for user in users], "roles": _role_choices(),
        "role_labels": {role.value: label for role, label in access.ROLE_LABELS.items()},
        "districts": _districts(store, caller), "min_password": get_settings().password_min_length,
        "form": form or {"login": "", "role": "", "chosen": [], "professional_name": ""},
        "problems": problems or {}}, caller, "利用者", status_code=422 if problems else 200)


@router.get("/city/users", response_class=HTMLResponse)
def users(request: Request, store: Store, caller: CurrentCaller, at: Now) -> HTMLResponse:
    return _users_page(request, store, caller, at)


def _password_problems(password: str, again: str, problems: Problems) -> None:
    minimum = get_settings().password_min_length
    if len(password) < minimum:
        problems["password"] = f"パスワードは {minimum} 文字以上にしてください。"
    elif password.strip() != password:
        problems["password"] = "パスワードの先頭と末尾に空白は使えません。"
    elif password != again:
        problems["password_again"] = "確認のために入力したパスワードが一致しません。同じものを入力してください。"


def _account_field(message: str) -> str:
    """The form field an account error is about (its message says which)."""
    for prefix, name in (("ログインID", "login"), ("パスワード", "password"), ("役割", "role"), ("校区", "districts"),
                         ("関係専門職", "professional_name"), ("福祉専門職", "professional_name")):
        if message.startswith(prefix):
            return name
    return "form"


@router.post("/city/users", response_class=HTMLResponse)
def add_user(request: Request, store: Store, caller: CurrentCaller, at: Now, login: FormText = "", role: FormText = "",
             password: FormText = "", password_again: FormText = "", districts: FormList = [],  # noqa: B006
             professional_name: FormText = "") -> Response:
    require(caller, Action.MANAGE_USERS)
    login = login.strip()
    again = password_again
    chosen = districts
    professional = professional_name.strip()
    problems: Problems = {}
    if not LOGIN_PATTERN.fullmatch(login):
        problems["login"] = ("ログインIDを入力してください。" if not login else
                             "ログインIDは 80 文字以内で、英数字・かな漢字と . @ + - _ だけが使えます。")
    if role not in {value for value, _ in _role_choices()}:
        problems["role"] = "役割を選んでください。"
    elif role == Role.LEADER and not chosen:
        problems["districts"] = "校区リーダー・民生委員には、担当する校区を 1 つ以上選んでください。"
    elif role == Role.CARE_PROFESSIONAL and not professional:
        problems["professional_name"] = "福祉専門職には、名簿の関係専門職欄にある氏名を入力してください。"
    _password_problems(password, again, problems)
    form = {"login": login, "role": role, "chosen": chosen, "professional_name": professional}
    if not problems:
        try:
            users_usecase.add_user(store.sessions, caller.principal, login, role, password,
                                   chosen if role == Role.LEADER else [],
                                   professional if role == Role.CARE_PROFESSIONAL else None, caller.origin)
        except AccountError as exc:
            problems[_account_field(str(exc))] = str(exc)
    if problems:
        return _users_page(request, store, caller, at, form, problems)
    return RedirectResponse(f"/city/users/{quote(login, safe='')}?done=added", status_code=303)


def _one_user(store: Store, caller: Caller, login: str) -> User:
    found = next((user for user in _users(store, caller) if user.login == login), None)
    if found is None:
        raise errors.NotFound(f"ログインID「{login}」の利用者は、この市町村にはいません。")
    return found


def _user_page(request: Request, store: Store, caller: Caller, login: str, at: dt.datetime,
               problems: Problems | None = None, done: str | None = None) -> HTMLResponse:
    require(caller, Action.MANAGE_USERS)
    user = _one_user(store, caller, login)
    status, locked = _status(user, at)
    return city_page(request, "user.html.j2", {
        "account": user, "status": status, "locked_until": locked,
        "role_label": access.ROLE_LABELS[Role(user.role)], "myself": user.login == caller.principal.login,
        "min_password": get_settings().password_min_length, "problems": problems or {},
        "done": DONE.get(done or "")}, caller, "利用者の設定", status_code=422 if problems else 200)


@router.get("/city/users/{login}", response_class=HTMLResponse)
def user(login: LoginPath, request: Request, store: Store, caller: CurrentCaller, at: Now,
         done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    return _user_page(request, store, caller, login, at, done=done)


@router.post("/city/users/{login}/password", response_class=HTMLResponse)
def set_password(login: LoginPath, request: Request, store: Store, caller: CurrentCaller, at: Now,
                 password: FormText = "", password_again: FormText = "") -> Response:
    require(caller, Action.MANAGE_USERS)
    problems: Problems = {}
    _password_problems(password, password_again, problems)
    if not problems:
        try:
            users_usecase.set_password(store.sessions, caller.principal, login, password, caller.origin)
        except AccountError as exc:
            problems[_account_field(str(exc))] = str(exc)
    if problems:
        return _user_page(request, store, caller, login, at, problems)
    return RedirectResponse(f"/city/users/{quote(login, safe='')}?done=password", status_code=303)


@router.post("/city/users/{login}/disable")
def disable_user(login: LoginPath, store: Store, caller: CurrentCaller) -> Response:
    require(caller, Action.MANAGE_USERS)
    if login == caller.principal.login:
        raise errors.Rejected("自分のアカウントは停止できません（ほかの市の管理者に頼んでください）。")
    users_usecase.disable_user(store.sessions, caller.principal, login, caller.origin)
    return RedirectResponse(f"/city/users/{quote(login, safe='')}?done=disabled", status_code=303)


router.include_router(city_imports.router)
router.include_router(city_audit.router)
