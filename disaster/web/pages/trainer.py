"""Pages of a trainer (社協, 防災士) and city staff — and of a 校区 leader for their own 校区: the
図上訓練 home (this 年度's participants against the city's target, open findings, recent sessions
and packs), exercise packs (made by a job, downloaded, the interactive exercise map opened from
the pack), and through ``trainer_records`` the session records and the findings board.

A trainer sees no one's identity: the people of a pack and of a finding are pseudonymised
(Aさん（80代・車いす・独居・平屋）); names of consenting residents appear only in a closed session's
pack, which a trainer may not make (``access.Action.CLOSED_SESSION``)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from disaster import access, auditlog, errors
from disaster.csp import map_policy
from disaster.exercises.tracking import fiscal_label
from disaster.jobs import JobState
from disaster.profile import load_profile
from disaster.usecases import exercises as usecase
from disaster.usecases import jobs as jobs_usecase
from disaster.web.deps import CurrentCaller, Store
from disaster.web.jobs import ExercisePackIn, JobId, JobOut, start_job
from disaster.web.maps import ASSET_LINK
from disaster.web.pages import trainer_records
from disaster.web.pages.render import page
from disaster.web.pages.trainer_common import (
    HAZARD_WORDS,
    Fields,
    FormState,
    day,
    number,
    require_area,
)
from disaster.web.residents import refusals_audited

router = APIRouter()
router.include_router(trainer_records.router)

PACK_KIND = "exercise_pack"
DIFFICULTIES = {1: ("やさしい", "はじめての地区向け。状況付与のカードが少なめです。"),
                2: ("ふつう", "避難所の満員・道路の冠水など、よくある困りごとが入ります。"),
                3: ("むずかしい", "停電・避難所の閉鎖・支援者が来られないなど、判断の難しいカードが加わります。")}
DURATIONS = {1: "1時間", 2: "2時間（ふつう）", 3: "3時間", 4: "4時間"}
DIG_SIZES = {"A1": "A1（841×594 mm。ふつうはこちら）", "A0": "A0（1189×841 mm。大きな会場向け）"}
PACK_FILES = (("facilitator_guide.pdf", "進行役の手引き（ねらい・時間割・進め方・評価メモ）"),
              ("inject_cards.pdf", "状況付与カード（A4に4枚）"), ("worksheets.pdf", "班のワークシート"),
              ("dilemma_cards.pdf", "ジレンマカード（クロスロード形式）"), ("role_cards.pdf", "役割カード"),
              ("person_sheet.pdf", "人物シート（地図に貼るシール。仮名）"), ("chronology.pdf", "クロノロジー用紙"),
              ("materials_list.pdf", "準備するものの一覧"), ("feedback_form.pdf", "アンケート用紙"),
              ("dig_map.pdf", "DIG の地図（大判）"), ("exercise_map.html", "状況付与の地図（パソコン・タブレットで開く）"),
              ("scenario.json", "シナリオのデータ"), ("msel.csv", "状況付与の一覧（表計算ソフト用）"))


def _default_start(today: dt.date) -> dt.datetime:
    """A rainy-season evening: 8 July at 18:00 of this year (next year once it is past)."""
    year = today.year if today <= dt.date(today.year, 7, 8) else today.year + 1
    return dt.datetime(year, 7, 8, 18, 0)


# --- home ---

@router.get("/trainer", response_class=HTMLResponse)
def home(request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    principal = require_area(caller)
    report = usecase.report(store.sessions, principal.city_code) if access.can(
        principal, access.Action.EXERCISE_REPORT) else None
    board = usecase.list_findings(store.sessions, principal, status="open", per_page=5)
    recent = usecase.list_sessions(store.sessions, principal, per_page=5)
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.EXERCISE_READ, target_kind="exercise_session",
                     details={"page": "trainer_home", "sessions": [s.id for s in recent.items],
                              "findings": [i.view.id for i in board.items]})
    packs = [JobOut.of(job) for job in jobs_usecase.list_jobs(store.sessions, principal, per_page=50).items
             if job.kind == PACK_KIND and job.created_by == principal.login][:5]
    today = dt.date.today()
    target = load_profile(principal.city_code).exercise.participants
    goal = {"baseline_label": fiscal_label(target.baseline_year), "baseline": target.baseline} if target else None
    return page(request, "trainer/home.html.j2", {
        "report": report, "board": board, "recent": recent.items, "packs": packs, "today": today, "day": day,
        "hazards": HAZARD_WORDS, "may_pack": access.can(principal, access.Action.EXERCISE_PACK),
        "recent_years": (report["by_year"][-3:] if report else []), "goal": goal,
    }, caller=caller, title="図上訓練")


# --- exercise packs ---

def _pack_context(request: Request, store: Store, caller: CurrentCaller, form: FormState) -> dict[str, Any]:
    principal = caller.principal
    districts = usecase.exercise_districts(store.sessions, principal, access.Action.EXERCISE_PACK)
    closed = [d for d in districts if access.can(principal, access.Action.CLOSED_SESSION, d)]
    return {"form": form, "districts": districts, "closed_districts": closed, "hazards": HAZARD_WORDS,
            "difficulties": DIFFICULTIES, "durations": DURATIONS, "dig_sizes": DIG_SIZES}


def _pack_defaults(district: str | None) -> dict[str, str]:
    start = _default_start(dt.date.today())
    return {"district": district or "", "hazard": "flood", "day": start.date().isoformat(), "time": "18:00",
            "duration": "2", "difficulty": "2", "seed": "1", "dig_size": "A1"}


@router.get("/trainer/packs/new", response_class=HTMLResponse)
def pack_form(request: Request, store: Store, caller: CurrentCaller, district: str | None = None) -> HTMLResponse:
    access.require(caller.principal, access.Action.EXERCISE_PACK)
    form = FormState(_pack_defaults(district))
    return page(request, "trainer/pack_new.html.j2", _pack_context(request, store, caller, form), caller=caller,
                title="訓練の教材を作る")


TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _pack_parameters(form: FormState, districts: list[str], closed: list[str]) -> dict[str, Any] | None:
    """The job's parameters from the form (as ``POST /api/v1/exercises/packs`` takes them), or
    None with the problems next to their fields."""
    v = form.values
    if v.get("district") not in districts:
        form.problem("district", "校区を選んでください。")
    if v.get("hazard") not in HAZARD_WORDS:
        form.problem("hazard", "想定する災害を選んでください。")
    start_day = form.date("day", "想定の日付", required=True)
    match = TIME.match(v.get("time", "").strip())
    if match is None:
        form.problem("time", "開始時刻を 18:00 のように入力してください。")
    duration = number(v.get("duration"))
    if duration not in DURATIONS:
        form.problem("duration", "訓練の時間を選んでください。")
    difficulty = number(v.get("difficulty"))
    if difficulty not in DIFFICULTIES:
        form.problem("difficulty", "難しさを選んでください。")
    seed = number(v.get("seed"))
    if seed is None or not 0 <= seed <= 2**31 - 1:
        form.problem("seed", "シナリオの番号は 0 以上の整数で入力してください（例: 1）。")
    if v.get("dig_size") not in DIG_SIZES:
        form.problem("dig_size", "地図の大きさを選んでください。")
    closed_session = v.get("closed_session") == "1"
    if closed_session and v.get("district") not in closed:
        form.problem("closed_session", "この校区では、氏名を使う非公開の訓練の教材は作れません。")
    if form.problems or start_day is None or match is None:
        return None
    start = dt.datetime.combine(start_day, dt.time(int(match[1]), int(match[2])))
    try:
        body = ExercisePackIn.model_validate({
            "district": v["district"], "hazard": v["hazard"], "start": start, "duration": duration,
            "difficulty": difficulty, "seed": seed, "closed_session": closed_session,
            "monochrome": v.get("monochrome") == "1", "dig_size": v["dig_size"]})
    except ValidationError:
        form.problem("district", "入力を確かめてください。")
        return None
    return body.model_dump(mode="json")


@router.post("/trainer/packs", response_class=HTMLResponse)
def pack_create(request: Request, store: Store, caller: CurrentCaller, fields: Fields) -> Response:
    principal = caller.principal
    access.require(principal, access.Action.EXERCISE_PACK)
    form = FormState(fields)
    district = form.get("district")
    if district:  # another 校区 of a leader, a closed session without the right: refused (audited by the app)
        access.require(principal, access.Action.EXERCISE_PACK, district)
        if form.get("closed_session") == "1":
            access.require(principal, access.Action.CLOSED_SESSION, district)
    context = _pack_context(request, store, caller, form)
    parameters = _pack_parameters(form, context["districts"], context["closed_districts"])
    if parameters is None:
        return page(request, "trainer/pack_new.html.j2", context, caller=caller, title="訓練の教材を作る", status_code=422)
    job = start_job(request, store, caller, PACK_KIND, parameters)  # audited there
    return RedirectResponse(f"/trainer/packs/{job.id}", status_code=303)


def _pack_job(store: Store, caller: CurrentCaller, job_id: int) -> JobOut:
    job = JobOut.of(jobs_usecase.read(store.sessions, caller.principal, job_id))
    if job.kind != PACK_KIND:
        raise errors.NotFound(f"ジョブ {job_id} は図上訓練の教材ではありません。")
    return job


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(1, round(size / 1024))} KB"


@router.get("/trainer/packs/{job_id}", response_class=HTMLResponse)
def pack_page(job_id: JobId, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    job = _pack_job(store, caller, job_id)
    p = job.parameters
    start = dt.datetime.fromisoformat(str(p.get("start")))
    return page(request, "trainer/pack.html.j2", {
        "job": job, "p": p, "start": start, "day": day, "hazards": HAZARD_WORDS, "difficulties": DIFFICULTIES,
        "files": PACK_FILES, "running": job.state in (JobState.QUEUED, JobState.RUNNING),
        "may_rerun": job.state not in (JobState.QUEUED, JobState.RUNNING),
        "size": _size(job.result.size) if job.result else "",
    }, caller=caller, title="訓練の教材")


@router.post("/trainer/packs/{job_id}/rerun")
def pack_rerun(job_id: JobId, request: Request, store: Store, caller: CurrentCaller) -> Response:
    _pack_job(store, caller, job_id)
    job = start_job(request, store, caller, rerun_of=job_id)  # audited there
    return RedirectResponse(f"/trainer/packs/{job.id}", status_code=303)


MAP_FILE = "exercise_map.html"
ASSETS = "/api/v1/maps/assets/"


@router.get("/trainer/packs/{job_id}/map", response_class=HTMLResponse)
def pack_map(job_id: JobId, store: Store, caller: CurrentCaller) -> HTMLResponse:
    """The pack's interactive exercise map (injects shown step by step), opened from the stored
    pack: the same file as in the ZIP, its Leaflet files from the service. Audited as a download
    of the pack (a closed session's pack names consenting residents)."""
    _pack_job(store, caller, job_id)
    details = {"job": job_id, "file": MAP_FILE}
    with refusals_audited(store, caller, auditlog.Action.JOB_RESULT, (), "job", details):
        found = jobs_usecase.result(store.sessions, caller.principal, job_id)
    try:
        with zipfile.ZipFile(io.BytesIO(found.data)) as archive:
            html = archive.read(MAP_FILE).decode("utf-8")
    except (KeyError, zipfile.BadZipFile):
        raise errors.NotFound("この教材には状況付与の地図がありません。") from None
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.JOB_RESULT, residents=found.residents, target_kind="job", details=details)
    body = ASSET_LINK.sub(rf'\1="{ASSETS}', html)
    return HTMLResponse(body, headers={"Content-Security-Policy": map_policy(body)})
