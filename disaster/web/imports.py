"""Imports: ``/api/v1/imports`` — upload → validation report → commit (all-or-nothing) or discard.

``POST /imports`` takes the files of one ``disaster import KIND`` (multipart) with its options,
validates them with the CLI's rules (``usecases.imports.check_import``: written in a transaction
that is rolled back) and keeps them pending: nothing is written to the city's data. ``POST
/imports/{id}/commit`` validates again against the data as it is then and writes the import, the
recomputed assessments and the audit entry in one transaction, or nothing. Only the city
administrator imports (``access.Action.IMPORT_DATA``): an import replaces the city's master data
and re-runs every assessment, which changes every plan; city staff read and use the data.

Pending uploads (名簿 files are personal data) are kept for ``PENDING_HOURS`` in a private folder
(mode 0700) under the system's temporary folder, one per store; a commit or a discard removes
the files. They are shared by the server's workers on one machine (not across machines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from disaster import auditlog, errors
from disaster.codes import HazardLayer
from disaster.importers.problems import ImportRejected, Problem
from disaster.usecases import imports as usecase
from disaster.usecases.imports import ImportReport, ImportRequest
from disaster.web.deps import Caller, CurrentCaller, Now, Store, WebStore
from disaster.web.errors import TooLarge
from disaster.web.schemas import ErrorOut

router = APIRouter(prefix="/imports", tags=["imports"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    413: {"model": ErrorOut}, 422: {"model": ErrorOut}}

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # one upload, every file together (a prefecture's A31 file fits)
MAX_FILES = 20
PENDING_HOURS = 24
PROBLEMS_KEPT = 1000  # problems listed in a report (the count is always complete)
PROBLEMS_IN_MESSAGE = 5
STALE_LOCK = dt.timedelta(hours=1)  # a commit's lock older than this was left by a crash (its transaction rolled back)
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
TEXT_OPTIONS = ("sheet", "name_column", "river", "source")
INT_OPTIONS = {"crs": "CRS（EPSG コード）", "header_row": "見出しの行番号"}
FILE_FIELDS = ("files", "table", "mapping")
MULTIPART = {
    "type": "object", "required": ["kind", "files"],
    "properties": {
        "kind": {"type": "string", "enum": list(usecase.KINDS), "description": "取り込みの種類（disaster import と同じ）"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "取り込むファイル"},
        "table": {"type": "string", "format": "binary", "description": "districts: 校区表 CSV（圏域・相談窓口）"},
        "mapping": {"type": "string", "format": "binary", "description": "residents / supporters: 列の対応表（TOML）"},
        "crs": {"type": "integer", "description": "CRS のないファイルの EPSG コード（例: 6668）"},
        "sheet": {"type": "string", "description": "residents / supporters: Excel のシート名"},
        "header_row": {"type": "integer", "description": "residents / supporters: 見出しの行番号"},
        "name_column": {"type": "string", "description": "districts: 校区名の列"},
        "layer": {"type": "string", "enum": [layer.value for layer in HazardLayer], "description": "hazards: レイヤ"},
        "river": {"type": "string", "description": "hazards: 河川名・区域名"},
        "source": {"type": "string", "description": "hazards: データセット名（既定: ファイル名）"},
        "replace": {"type": "boolean", "description": "residents: 登録済みの名簿番号を別の方に付け替えることを認める"
                                                     "（前の方の計画・記録は削除されます）"},
    },
}


class ProblemOut(BaseModel):
    file: str
    row: int | None = Field(description="行（表）または地物の番号")
    field: str | None = Field(description="項目")
    message: str
    text: str = Field(description="ファイル・行・項目を含む一文（日本語）")


class ReportOut(BaseModel):
    created: int = Field(description="新しく登録される（された）件数")
    updated: int = Field(description="更新される（された）件数")
    notices: list[str]
    problem_count: int
    problems: list[ProblemOut] = Field(description=f"問題（最初の {PROBLEMS_KEPT} 件）")
    message: str | None = Field(description="取り込めない理由（問題の一覧のほかに）")
    assessment_run: int | None = Field(description="取り込み後に計算し直した避難判定の番号")


class ImportOut(BaseModel):
    id: str
    kind: str
    kind_label: str
    status: str = Field(description="valid（取り込める）/ invalid（問題あり）/ committed（取り込み済み）")
    files: list[str]
    options: dict[str, str | int]
    uploaded_by: str
    uploaded_at: dt.datetime
    expires_at: dt.datetime
    committed_by: str | None
    committed_at: dt.datetime | None
    report: ReportOut


@dataclass
class Pending:
    """One upload on disk: ``folder/manifest.json`` and the files under ``folder/<field><n>/<name>``."""

    folder: Path
    manifest: dict[str, Any]

    def save(self) -> None:
        temporary = self.folder / "manifest.json.tmp"
        temporary.write_text(json.dumps(self.manifest, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self.folder / "manifest.json")

    def request(self) -> ImportRequest:
        m = self.manifest

        def path(stored: str | None) -> Path | None:
            return self.folder / stored if stored else None

        options: dict[str, Any] = m["options"]
        return ImportRequest(m["kind"], [self.folder / p for p in m["stored"]["files"]], table=path(m["stored"]["table"]),
                             mapping=path(m["stored"]["mapping"]), sheet=options.get("sheet"),
                             header_row=options.get("header_row"), name_column=options.get("name_column"),
                             layer=HazardLayer(options["layer"]) if "layer" in options else None,
                             river=options.get("river"), source=options.get("source"), crs=options.get("crs"),
                             replace=bool(options.get("replace")))

    def remove_files(self) -> None:
        for child in self.folder.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def pending_root(store: WebStore) -> Path:
    """The store's folder of pending uploads (private to the service's user)."""
    key = hashlib.sha256(store.engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    mine = Path(tempfile.gettempdir()) / f"disaster-imports-{os.getuid()}"
    mine.mkdir(exist_ok=True, mode=0o700)
    if mine.stat().st_uid != os.getuid():  # someone else made it first in the shared temporary folder
        raise errors.NotReady(f"取り込み用のフォルダ {mine} がほかの利用者のものです。消してから、もう一度お試しください。")
    os.chmod(mine, 0o700)
    root = mine / key
    root.mkdir(exist_ok=True, mode=0o700)
    return root


def sweep_pending(root: Path, at: dt.datetime) -> None:
    """Remove uploads older than ``PENDING_HOURS``."""
    for folder in root.iterdir():
        try:
            uploaded = dt.datetime.fromisoformat(json.loads((folder / "manifest.json").read_text("utf-8"))["uploaded_at"])
        except (OSError, ValueError, KeyError):
            uploaded = dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC)
        if at - uploaded > dt.timedelta(hours=PENDING_HOURS):
            shutil.rmtree(folder, ignore_errors=True)


def load_pending(store: WebStore, caller: Caller, import_id: str) -> Pending:
    folder = pending_root(store) / import_id
    manifest_file = folder / "manifest.json"
    if not ID_PATTERN.fullmatch(import_id) or not manifest_file.is_file():
        raise errors.NotFound(f"取り込み {import_id} はありません（取り消したか、{PENDING_HOURS} 時間を過ぎて消えました）。")
    manifest = json.loads(manifest_file.read_text("utf-8"))
    if manifest["city_code"] != caller.principal.city_code:
        raise errors.NotFound(f"取り込み {import_id} はありません。")
    return Pending(folder, manifest)


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "row": p.row, "field": p.field, "message": p.message, "text": str(p)}


def report_of(report: ImportReport | None, problems: list[Problem] | None = None, message: str | None = None) -> dict[str, Any]:
    problems = problems or []
    return {"created": report.created if report else 0, "updated": report.updated if report else 0,
            "notices": report.notices if report else [], "problem_count": len(problems),
            "problems": [_problem(p) for p in problems[:PROBLEMS_KEPT]], "message": message,
            "assessment_run": report.assessment_run if report else None}


def pending_out(pending: Pending) -> ImportOut:
    m = pending.manifest
    uploaded = dt.datetime.fromisoformat(m["uploaded_at"])
    return ImportOut(id=pending.folder.name, kind=m["kind"], kind_label=usecase.KIND_LABELS[m["kind"]], status=m["status"],
                     files=m["files"], options=m["options"], uploaded_by=m["uploaded_by"], uploaded_at=uploaded,
                     expires_at=uploaded + dt.timedelta(hours=PENDING_HOURS), committed_by=m.get("committed_by"),
                     committed_at=m.get("committed_at"), report=ReportOut.model_validate(m["report"]))


def _file_name(upload: UploadFile) -> str:
    name = Path((upload.filename or "").replace("\\", "/")).name.strip()
    if not name or name in (".", "..") or len(name) > 200 or "\x00" in name:
        raise errors.Rejected(f"ファイル名「{upload.filename or ''}」は使えません（200 文字以内の名前をつけてください）。")
    return name


async def keep_upload(upload: UploadFile, folder: Path, budget: int) -> tuple[str, int]:
    """Copy ``upload`` to ``folder/<its name>``; returns the name and the bytes written."""
    name = _file_name(upload)
    folder.mkdir(mode=0o700)
    written = 0
    with (folder / name).open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            written += len(chunk)
            if written > budget:
                raise TooLarge(too_large())
            await run_in_threadpool(out.write, chunk)
    return name, written


def too_large() -> str:
    return f"ファイルが大きすぎます（1 回の取り込みは合わせて {MAX_UPLOAD_BYTES // (1024 * 1024)} MB までです）。分けて取り込んでください。"


async def keep_uploads(uploads: dict[str, list[UploadFile]], folder: Path, stored: dict[str, Any]) -> list[str]:
    """Copy the uploads of each file field into ``folder`` (``<field><n>/<name>``) within the upload
    limit, noting their paths in ``stored``; returns the names of the data files."""
    names: list[str] = []
    budget = MAX_UPLOAD_BYTES
    for field_name in FILE_FIELDS:
        for index, upload in enumerate(uploads[field_name]):
            name, size = await keep_upload(upload, folder / f"{field_name}{index}", budget)
            budget -= size
            relative = f"{field_name}{index}/{name}"
            if field_name == "files":
                stored["files"].append(relative)
                names.append(name)
            else:
                stored[field_name] = relative
    return names


def import_options(form: FormData) -> dict[str, str | int | bool]:
    options: dict[str, str | int | bool] = {}
    for name in TEXT_OPTIONS:
        value = str(form.get(name) or "").strip()
        if len(value) > 200:
            raise errors.Rejected(f"{name} は 200 文字以内で指定してください。")
        if value:
            options[name] = value
    for name, label in INT_OPTIONS.items():
        text = str(form.get(name) or "").strip()
        if text:
            if not text.isascii() or not text.isdigit() or not 0 < int(text) < 1_000_000:
                raise errors.Rejected(f"{label}（{name}）「{text[:40]}」は正の整数で指定してください。")
            options[name] = int(text)
    layer = str(form.get("layer") or "").strip()
    if layer:
        if layer not in {item.value for item in HazardLayer}:
            raise errors.Rejected(f"レイヤ（layer）「{layer[:40]}」はありません。{' / '.join(item.value for item in HazardLayer)} のいずれかです。")
        options["layer"] = layer
    replace = str(form.get("replace") or "").strip().lower()
    if replace not in ("", "false", "0", "true", "1", "on"):
        raise errors.Rejected(f"名簿番号の付け替え（replace）「{replace[:40]}」は true か false で指定してください。")
    if replace in ("true", "1", "on"):
        options["replace"] = True
    return options


async def _receive(request: Request, folder: Path, by: str, at: dt.datetime, city_code: str) -> Pending:
    """Keep the request's files and options in ``folder`` (nothing validated against the data yet)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise TooLarge("ファイルの大きさがわかりません（Content-Length がありません）。")
    if int(length) > MAX_UPLOAD_BYTES:
        raise TooLarge(too_large())
    form = await request.form(max_files=MAX_FILES + 2, max_fields=20)
    try:
        kind = str(form.get("kind") or "").strip()
        uploads = {name: [u for u in form.getlist(name) if isinstance(u, UploadFile)] for name in FILE_FIELDS}
        if len(uploads["files"]) > MAX_FILES:
            raise errors.Rejected(f"1 回に取り込めるのは {MAX_FILES} ファイルまでです。")
        if any(len(uploads[name]) > 1 for name in ("table", "mapping")):
            raise errors.Rejected("table と mapping はそれぞれ 1 ファイルです。")
        options = import_options(form)
        folder.mkdir(mode=0o700)
        stored: dict[str, Any] = {"files": [], "table": None, "mapping": None}
        names = await keep_uploads(uploads, folder, stored)
        if len(set(names)) < len(names):
            raise errors.Rejected("同じ名前のファイルが 2 つあります（同じファイルを 2 回指定していませんか）。")
    finally:
        await form.close()
    pending = Pending(folder, {"kind": kind, "city_code": city_code, "files": names, "stored": stored, "options": options,
                               "uploaded_by": by, "uploaded_at": at.isoformat(), "status": "invalid",
                               "report": report_of(None)})
    pending.request()  # the kind, the number of files and the options fit together (else Rejected)
    return pending


def validate_pending(pending: Pending, store: WebStore, caller: Caller) -> None:
    """Check the pending import (a rolled-back run of the CLI's import) and keep its report."""
    try:
        report = usecase.check_import(store.sessions, caller.principal, pending.request())
    except ImportRejected as exc:
        pending.manifest |= {"status": "invalid", "report": report_of(None, exc.problems, str(exc))}
    except (errors.Rejected, errors.NotReady, errors.NotFound) as exc:
        pending.manifest |= {"status": "invalid", "report": report_of(None, [], str(exc))}
    else:
        pending.manifest |= {"status": "valid", "report": report_of(report)}
    pending.save()


def audit_import(store: WebStore, caller: Caller, action: auditlog.Action, details: dict[str, Any], allowed: bool = True) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, action, allowed=allowed, target_kind="import", details=details)


@router.post("", status_code=201, response_model=ImportOut, responses=ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": MULTIPART}}}})
async def upload(request: Request, store: Store, caller: CurrentCaller, at: Now) -> ImportOut:
    """ファイルを預かり、`disaster import` と同じ規則で確かめます（市の管理者のみ）。市のデータにはまだ何も書き込みません。
    結果（新規・更新の件数、問題のあるファイル・行・項目）を返します。取り込むには /imports/{import_id}/commit。"""
    await run_in_threadpool(usecase.require_import, store.sessions, caller.principal, auditlog.Action.IMPORT_UPLOAD,
                            caller.origin, {})
    root = await run_in_threadpool(pending_root, store)
    await run_in_threadpool(sweep_pending, root, at)
    folder = root / secrets.token_urlsafe(16)
    try:
        pending = await _receive(request, folder, caller.principal.login, at, caller.principal.city_code)
        await run_in_threadpool(validate_pending, pending, store, caller)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    m = pending.manifest
    await run_in_threadpool(audit_import, store, caller, auditlog.Action.IMPORT_UPLOAD, {
        "import": folder.name, "kind": m["kind"], "files": m["files"], "status": m["status"],
        "problems": m["report"]["problem_count"]})
    return pending_out(pending)


@router.get("", response_model=list[ImportOut], responses=ERRORS)
def list_imports(store: Store, caller: CurrentCaller) -> list[ImportOut]:
    """市町村の預かっている取り込みと取り込み済みの記録（新しい順、24 時間まで。市の管理者のみ）。"""
    usecase.require_import(store.sessions, caller.principal, auditlog.Action.IMPORT_READ, caller.origin, {})
    found = []
    for folder in pending_root(store).iterdir():
        try:
            found.append(load_pending(store, caller, folder.name))
        except errors.NotFound:  # another city's, or one being discarded
            continue
    found.sort(key=lambda pending: pending.manifest["uploaded_at"], reverse=True)
    audit_import(store, caller, auditlog.Action.IMPORT_READ, {"imports": [pending.folder.name for pending in found]})
    return [pending_out(pending) for pending in found]


@router.get("/{import_id}", response_model=ImportOut, responses=ERRORS)
def show(import_id: str, store: Store, caller: CurrentCaller) -> ImportOut:
    """預かった取り込みと、その確認の結果（市の管理者のみ）。"""
    usecase.require_import(store.sessions, caller.principal, auditlog.Action.IMPORT_READ, caller.origin,
                           {"import": import_id})
    pending = load_pending(store, caller, import_id)
    audit_import(store, caller, auditlog.Action.IMPORT_READ, {"import": import_id, "kind": pending.manifest["kind"]})
    return pending_out(pending)


@router.post("/{import_id}/commit", response_model=ImportOut, responses=ERRORS)
def commit(import_id: str, store: Store, caller: CurrentCaller, at: Now) -> ImportOut:
    """預かった取り込みを、`disaster import` と同じく書き込みます（避難判定の計算し直しを含め 1 つのトランザクション）。
    その時点のデータでもう一度確かめ、問題があれば何も書き込みません（市の管理者のみ）。"""
    usecase.require_import(store.sessions, caller.principal, auditlog.Action.IMPORT_COMMIT, caller.origin,
                           {"import": import_id})
    pending = load_pending(store, caller, import_id)
    if pending.manifest["status"] == "committed":
        raise errors.Conflict(f"取り込み {import_id} はすでに取り込み済みです（{pending.manifest['committed_at']}）。")
    lock = pending.folder / "committing"
    if lock.exists() and at - dt.datetime.fromtimestamp(lock.stat().st_mtime, dt.UTC) > STALE_LOCK:
        lock.unlink(missing_ok=True)
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise errors.Conflict(f"取り込み {import_id} はいま取り込み中です。終わってから確かめてください。") from None
    try:
        try:
            report = usecase.commit_import(store.sessions, caller.principal, pending.request(), caller.origin,
                                           {"import": import_id})
        except ImportRejected as exc:
            pending.manifest |= {"status": "invalid", "report": report_of(None, exc.problems, str(exc))}
            pending.save()
            shown = "／".join(str(p) for p in exc.problems[:PROBLEMS_IN_MESSAGE])
            more = f"（ほか {len(exc.problems) - PROBLEMS_IN_MESSAGE} 件）" if len(exc.problems) > PROBLEMS_IN_MESSAGE else ""
            raise errors.Rejected(f"{exc} {shown}{more}") from exc
        pending.manifest |= {"status": "committed", "report": report_of(report), "committed_by": caller.principal.login,
                             "committed_at": at.isoformat()}
        pending.save()
        pending.remove_files()
    finally:
        lock.unlink(missing_ok=True)
    return pending_out(pending)


@router.delete("/{import_id}", status_code=204, responses=ERRORS)
def discard(import_id: str, store: Store, caller: CurrentCaller) -> None:
    """預かった取り込みを取り消します（ファイルを消します。市のデータは変わりません）。"""
    usecase.require_import(store.sessions, caller.principal, auditlog.Action.IMPORT_DISCARD, caller.origin,
                           {"import": import_id})
    pending = load_pending(store, caller, import_id)
    if (pending.folder / "committing").exists():
        raise errors.Conflict(f"取り込み {import_id} はいま取り込み中です。")
    shutil.rmtree(pending.folder)
    audit_import(store, caller, auditlog.Action.IMPORT_DISCARD, {"import": import_id, "kind": pending.manifest["kind"]})
