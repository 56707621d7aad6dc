"""The kinds of background job: what each checks (before it is queued, when it runs, when its
result is downloaded) and what it does. Every kind calls the existing use-cases with the principal
the job runs as, so the access policy applies exactly as it does to a request."""

from __future__ import annotations

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

from disaster import access, errors, outputs
from disaster.access import Action, Principal
from disaster.models import District, Resident

Progress = Callable[[int, str], None]  # percent 0–100, a Japanese message; raises Cancelled when asked to stop
ZIP = "application/zip"


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
    """Every plan of the 校区 the principal may make (drafts on request), as the CLI writes them
    (plan records printed); a zip of the PDFs and an index. A cancel request stops the rendering
    after the plans already started."""
    from disaster.usecases.plans import archive_file, write_district_plans  # optional extra "pdf"

    name = str(ctx.parameters["district"])
    drafts = bool(ctx.parameters.get("include_drafts"))
    ctx.progress(1, f"{name}校区の名簿と避難判定を読み込んでいます")
    with ctx.sessions() as session:
        _check_plans(session, ctx.principal, ctx.parameters)
    with tempfile.TemporaryDirectory(prefix="disaster-job-plans-") as folder:
        out = Path(folder)
        report = write_district_plans(ctx.sessions, ctx.principal, name, out,
                                      large_print=bool(ctx.parameters.get("large_print")),
                                      workers=ctx.render_processes, progress=functools.partial(_plans_progress, ctx.progress),
                                      include_drafts=drafts)
        written = sorted(number for number, *_ in report.written)
        ctx.progress(97, "ZIP にまとめています")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:  # PDFs are compressed already
            for _, file, _, _ in report.written:  # names from disaster.outputs: never a path
                zipped.write(out / file, file)
            if report.index is not None:  # the CLI's index: every resident, consents and their dates
                zipped.write(report.index, report.index.name)
    return Output(archive.getvalue(), archive_file(name), ZIP, written)


def _plans_progress(progress: Progress, done: int, total: int) -> None:
    progress(2 + (95 - 2) * done // max(total, 1), f"マイプランを作成しています（{done}/{total} 人）")


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
                if path.is_file() and not path.is_symlink():
                    zipped.write(path, path.relative_to(out).as_posix())
    named: list[str] = []
    if p["closed_session"]:  # the names of the 校区's consenting residents may appear in it
        with ctx.sessions() as session:
            named = list(session.scalars(select(Resident.resident_no)
                                         .where(access.community_filter(ctx.principal, name)).order_by(Resident.resident_no)))
    return Output(archive.getvalue(), outputs.file_name("図上訓練", f"{name}_{p['hazard']}", ".zip"), ZIP, named)


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
