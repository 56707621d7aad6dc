"""The kinds of background job: what each checks (before it is queued, when it runs, when its
result is downloaded) and what it does. Every kind calls the existing use-cases with the principal
the job runs as, so the access policy applies exactly as it does to a request."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, errors
from disaster.access import Action, Principal
from disaster.models import Assessment, District, Resident

Progress = Callable[[int, str], None]  # percent 0–100, a Japanese message; raises Cancelled when asked to stop
ZIP = "application/zip"
PLAN_CHUNK = 8  # plans rendered (at least; twice the render processes) between two checks for a cancel request


class Cancelled(Exception):  # noqa: N818  (a signal, not an error)
    """The job was asked to stop (raised by the progress callback)."""


@dataclass(frozen=True)
class Output:
    data: bytes
    filename: str
    media_type: str
    residents: list[str]  # 名簿番号 of the residents whose personal data the result holds


@dataclass(frozen=True)
class JobContext:
    sessions: sessionmaker[Session]
    principal: Principal
    parameters: dict[str, Any]
    progress: Progress
    render_processes: int = 1


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # Japanese, for users
    check: Callable[[Session, Principal, dict[str, Any]], None]  # Forbidden / NotFound / Rejected
    run: Callable[[JobContext], Output]


def _district(session: Session, principal: Principal, name: str) -> District:
    district = session.scalars(select(District).where(District.city_code == principal.city_code,
                                                      District.name == name)).first()
    if district is None:
        raise errors.NotFound(f"校区「{name}」は登録されていません。")
    return district


# --- a 校区's マイプラン ---


def _check_plans(session: Session, principal: Principal, parameters: dict[str, Any]) -> None:
    district = str(parameters["district"])
    access.require(principal, Action.DISTRICT_PLANS, district)
    if parameters.get("include_drafts"):
        access.require(principal, Action.DRAFT_PLAN, district)
    _district(session, principal, district)


def _run_plans(ctx: JobContext) -> Output:
    """Every plan of the 校区 the principal may make (drafts on request), rendered a few at a
    time so that a cancel request stops the work between two chunks; a zip of the PDFs and an index."""
    from disaster.plans.context import load_residents, plan_contexts  # optional extra "pdf"
    from disaster.usecases.plans import map_data, render_plans

    name = str(ctx.parameters["district"])
    drafts = bool(ctx.parameters.get("include_drafts"))
    large_print = bool(ctx.parameters.get("large_print"))
    ctx.progress(1, f"{name}校区の名簿と避難判定を読み込んでいます")
    with ctx.sessions() as session:
        _check_plans(session, ctx.principal, ctx.parameters)
        district = _district(session, ctx.principal, name)
        ids = list(session.scalars(select(Resident.id).where(access.resident_filter(ctx.principal, name))
                                   .order_by(Resident.resident_no)))
        assessed = set(session.scalars(select(Assessment.resident_id).where(Assessment.resident_id.in_(ids))))
        if len(assessed) < len(ids):
            raise errors.NotReady("避難判定がまだありません。先に避難判定を実行してください。")
        plans = plan_contexts(session, load_residents(session, ids), dt.date.today())
        data = map_data(session, ctx.principal.city_code,
                        (district.min_lon, district.min_lat, district.max_lon, district.max_lat))
    chosen = [p for p in plans if drafts or not p["draft"]]
    rows: list[list[str]] = [[p["resident_no"], "", "未作成（計画作成の同意なし）"] for p in plans if p["draft"] and not drafts]
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="disaster-job-plans-") as folder:
        out = Path(folder)
        step = max(PLAN_CHUNK, 2 * ctx.render_processes)
        for start in range(0, len(chosen), step):
            chunk = chosen[start:start + step]
            report = render_plans(chunk, data, out, large_print, ctx.render_processes,
                                  functools.partial(_plans_progress, ctx.progress, start, len(chosen)))
            unconsented = {p["resident_no"] for p in chunk if p["draft"]}
            rows += [[number, file, "下書き（市職員用・同意なし）" if number in unconsented else "作成"]
                     for number, file, _, _ in report.written]
            rows += [[number, "", f"失敗: {message}"] for number, message in report.failed]
            written += [number for number, *_ in report.written]
        ctx.progress(97, "ZIP にまとめています")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:  # PDFs are compressed already
            for number in sorted(written):
                zipped.write(out / f"{number}.pdf", f"{number}.pdf")
            zipped.writestr(f"{name}_index.csv", _index(rows))
    return Output(archive.getvalue(), f"{name}_マイプラン.zip", ZIP, sorted(written))


def _plans_progress(progress: Progress, before: int, total: int, done: int, _chunk_total: int) -> None:
    progress(2 + (95 - 2) * (before + done) // max(total, 1), f"マイプランを作成しています（{before + done}/{total} 人）")


def _index(rows: list[list[str]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["名簿番号", "ファイル", "状態"])
    writer.writerows(sorted(rows))
    return "\ufeff" + text.getvalue()


# --- a 図上訓練 pack ---

HAZARDS = ("flood", "inland", "landslide", "earthquake")
DIG_MAX_TILES = 200  # as `disaster exercise new`


def _check_pack(session: Session, principal: Principal, parameters: dict[str, Any]) -> None:
    district = str(parameters["district"])
    access.require(principal, Action.EXERCISE_PACK, district)
    if parameters.get("closed_session"):
        access.require(principal, Action.CLOSED_SESSION, district)
    _district(session, principal, district)


def _run_pack(ctx: JobContext) -> Output:
    from disaster.exercises.scenario import ExerciseHazard
    from disaster.usecases.exercises import new_pack
    from maps.tiles import basemap

    p = ctx.parameters
    name = str(p["district"])
    ctx.progress(5, f"{name}校区の図上訓練の教材を作成しています")
    with tempfile.TemporaryDirectory(prefix="disaster-job-pack-") as folder:
        out = Path(folder) / "pack"
        new_pack(ctx.sessions, ctx.principal, name, ExerciseHazard(p["hazard"]), out,
                 dt.datetime.fromisoformat(p["start"]), int(p["duration"]), int(p["difficulty"]), int(p["seed"]),
                 bool(p["closed_session"]), bool(p.get("monochrome")), str(p.get("dig_size", "A1")),
                 basemap=functools.partial(basemap, max_tiles=DIG_MAX_TILES))
        ctx.progress(90, "ZIP にまとめています")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(out).as_posix())
    named: list[str] = []
    if p["closed_session"]:  # the names of the 校区's consenting residents may appear in it
        with ctx.sessions() as session:
            named = list(session.scalars(select(Resident.resident_no)
                                         .where(access.community_filter(ctx.principal, name)).order_by(Resident.resident_no)))
    return Output(archive.getvalue(), f"{name}_図上訓練_{p['hazard']}.zip", ZIP, named)


# --- a re-assessment ---


def _check_assessment(session: Session, principal: Principal, parameters: dict[str, Any]) -> None:
    if not principal.is_city:
        raise errors.Forbidden(f"{access.ROLE_LABELS[principal.role]}（{principal.login}）には「避難判定のやり直し」の権限がありません。")


def _run_assessment(ctx: JobContext) -> Output:
    from disaster.usecases.assess import run_assessment, summary

    with ctx.sessions() as session:
        _check_assessment(session, ctx.principal, ctx.parameters)
    ctx.progress(5, "全員の避難判定をやり直しています")
    run_assessment(ctx.sessions, ctx.principal.city_code)
    ctx.progress(95, "集計しています")
    result = summary(ctx.sessions, ctx.principal.city_code)
    data = json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8")
    return Output(data, "避難判定の集計.json", "application/json", [])


KINDS: dict[str, JobKind] = {kind.name: kind for kind in (
    JobKind("district_plans", "校区のマイプランの一括作成", _check_plans, _run_plans),
    JobKind("exercise_pack", "図上訓練の教材の作成", _check_pack, _run_pack),
    JobKind("assessment", "避難判定のやり直し", _check_assessment, _run_assessment),
)}
