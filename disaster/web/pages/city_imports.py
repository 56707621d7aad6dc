"""The city administrator's imports: upload the files of one import → the validation report on
the page (every problem with its file, row and column, nothing written) → 取り込む (validated
again and written in one transaction, or nothing) → the city's re-assessment as a job whose
progress shows on the import's page; or 取り消す.

The uploads are kept exactly as the API keeps them (``disaster.web.imports``: a private folder,
24 hours, the same report, the same audit entries), so an upload from the page can be followed
over the API and the other way round. Only the city administrator imports
(``access.Action.IMPORT_DATA``); a refused attempt is audited."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from disaster import auditlog, errors
from disaster.codes import HazardLayer
from disaster.importers.problems import ImportRejected
from disaster.usecases import imports as usecase
from disaster.web import imports as api
from disaster.web.deps import Caller, CurrentCaller, Now, Store
from disaster.web.errors import TooLarge
from disaster.web.pages.city_common import Problems, city_page

router = APIRouter()
KIND_HINTS = {  # the kinds as offered, the most frequent first
    "residents": "避難行動要支援者名簿（CSV・Excel）。名簿番号で照合し、新しい方は登録、いる方は更新します。",
    "supporters": "避難支援等実施者の一覧（CSV・Excel）と、支援する方の名簿番号。",
    "shelters": "指定避難所・指定緊急避難場所（国土地理院の CSV・GeoJSON など）。複数のファイルを一度に選べます。",
    "hazards": "洪水・内水・土砂災害の区域（国土数値情報 A31a・A33 など）。複数のファイルを一度に選べます。",
    "districts": "校区の区域（GeoJSON・シェープファイルの zip など）。圏域・相談窓口の校区表も添えられます。",
    "boundary": "市の区域（国土数値情報 N03）。",
    "address-points": "位置参照情報（国土交通省）。住所から場所を求めるのに使います。",
}
TEXT_LIMIT = 200
TYPED = ("sheet", "header_row", "name_column", "layer", "river", "source", "crs")  # the options typed in the form


def _require(store: Store, caller: Caller, action: auditlog.Action, details: dict[str, Any]) -> None:
    usecase.require_import(store.sessions, caller.principal, action, caller.origin, details)  # a refusal is audited


def _form_page(request: Request, store: Store, caller: Caller, form: dict[str, Any] | None = None,
               problems: Problems | None = None) -> HTMLResponse:
    listed = api.list_imports(store, caller)  # audited there (import.read)
    return city_page(request, "imports.html.j2", {
        "imports": listed, "kinds": [(kind, usecase.KIND_LABELS[kind]) for kind in KIND_HINTS], "hints": KIND_HINTS,
        "layers": [layer.value for layer in HazardLayer], "form": form or {"kind": "residents", "replace": False} | dict.fromkeys(TYPED, ""),
        "problems": problems or {}, "max_files": api.MAX_FILES, "max_mb": api.MAX_UPLOAD_BYTES // (1024 * 1024),
        "hours": api.PENDING_HOURS}, caller, "データの取り込み", status_code=422 if problems else 200)


@router.get("/city/imports", response_class=HTMLResponse)
def imports_page(request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    _require(store, caller, auditlog.Action.IMPORT_READ, {})
    return _form_page(request, store, caller)


def _chosen(form: FormData, name: str) -> list[UploadFile]:
    """The files of the field ``name`` (a field left empty sends a part without a name: none)."""
    return [u for u in form.getlist(name) if isinstance(u, UploadFile) and (u.filename or "").strip()]


def _check(form: FormData) -> tuple[dict[str, Any], Problems]:
    """What the form says (kept to show it again) and what to fix, per field."""
    kind = str(form.get("kind") or "")
    typed = {name: str(form.get(name) or "").strip() for name in TYPED}
    problems: Problems = {}
    if kind not in usecase.KINDS:
        problems["kind"] = "取り込むデータの種類を選んでください。"
    files = _chosen(form, "files")
    if not files:
        problems["files"] = "取り込むファイルを選んでください。"
    elif len(files) > api.MAX_FILES:
        problems["files"] = f"1 回に取り込めるのは {api.MAX_FILES} ファイルまでです。分けて取り込んでください。"
    elif kind in usecase.SINGLE_FILE and len(files) > 1:
        problems["files"] = f"{usecase.KIND_LABELS[kind]}は 1 ファイルずつ取り込みます（{len(files)} ファイルを選んでいます）。"
    elif len({u.filename for u in files}) < len(files):
        problems["files"] = "同じ名前のファイルが 2 つあります（同じファイルを 2 回選んでいませんか）。"
    for name, label in (("header_row", "見出しの行番号"), ("crs", "座標系（EPSG コード）")):
        text = typed[name]
        if text and not (text.isascii() and text.isdigit() and 0 < int(text) < 1_000_000):
            problems[name] = f"{label}は 1 以上の整数で入力してください（例: {'2' if name == 'header_row' else '6668'}）。"
    for name, text in typed.items():
        if len(text) > TEXT_LIMIT:
            problems[name] = f"{TEXT_LIMIT} 文字以内で入力してください。"
    if typed["layer"] and typed["layer"] not in {layer.value for layer in HazardLayer}:
        problems["layer"] = "レイヤを一覧から選んでください。"
    if kind in usecase.KIND_OPTIONS:
        label = usecase.KIND_LABELS[kind]
        given = [name for name, text in typed.items() if text] + [name for name in ("table", "mapping") if _chosen(form, name)] \
            + (["replace"] if form.get("replace") else [])
        for name in given:
            if name not in usecase.KIND_OPTIONS[kind]:
                problems.setdefault(name, f"{label}の取り込みには使いません。空にしてください。")
    return {"kind": kind, "replace": bool(form.get("replace"))} | typed, problems


async def keep_upload(form: FormData, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """Copy the chosen files into ``folder`` as the API does (``<field><n>/<name>``)."""
    stored: dict[str, Any] = {"files": [], "table": None, "mapping": None}
    uploads = {name: _chosen(form, name)[: 1 if name != "files" else None] for name in api.FILE_FIELDS}
    return stored, await api.keep_uploads(uploads, folder, stored)


@router.post("/city/imports", response_class=HTMLResponse)
async def upload(request: Request, store: Store, caller: CurrentCaller, at: Now) -> Response:
    await run_in_threadpool(_require, store, caller, auditlog.Action.IMPORT_UPLOAD, {})
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > api.MAX_UPLOAD_BYTES:
        raise TooLarge(api.too_large())
    form = await request.form()  # read once already, for its CSRF token
    typed, problems = _check(form)
    if problems:
        return await run_in_threadpool(_form_page, request, store, caller, typed, problems)
    root = await run_in_threadpool(api.pending_root, store)
    await run_in_threadpool(api.sweep_pending, root, at)
    folder = root / secrets.token_urlsafe(16)
    try:
        folder.mkdir(mode=0o700)
        stored, names = await keep_upload(form, folder)
        options = api.import_options(form)
        pending = api.Pending(folder, {
            "kind": typed["kind"], "city_code": caller.principal.city_code, "files": names, "stored": stored,
            "options": options, "uploaded_by": caller.principal.login, "uploaded_at": at.isoformat(), "status": "invalid",
            "report": api.report_of(None)})
        pending.request()  # the kind and the options fit together (else Rejected)
        await run_in_threadpool(api.validate_pending, pending, store, caller)
    except errors.Rejected as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return await run_in_threadpool(_form_page, request, store, caller, typed, {"form": str(exc)})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    m = pending.manifest
    await run_in_threadpool(api.audit_import, store, caller, auditlog.Action.IMPORT_UPLOAD, {
        "import": folder.name, "kind": m["kind"], "files": m["files"], "status": m["status"],
        "problems": m["report"]["problem_count"]})
    return RedirectResponse(f"/city/imports/{folder.name}", status_code=303)


def _report_page(request: Request, store: Store, caller: Caller, pending: api.Pending, status_code: int = 200,
                 again: bool = False) -> HTMLResponse:
    return city_page(request, "import.html.j2", {
        "item": api.pending_out(pending), "again": again, "kept": api.PROBLEMS_KEPT, "hours": api.PENDING_HOURS},
        caller, "取り込みの確認", status_code=status_code)


@router.get("/city/imports/{import_id}", response_class=HTMLResponse)
def import_page(import_id: str, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    _require(store, caller, auditlog.Action.IMPORT_READ, {"import": import_id})
    pending = api.load_pending(store, caller, import_id)
    api.audit_import(store, caller, auditlog.Action.IMPORT_READ, {"import": import_id, "kind": pending.manifest["kind"]})
    return _report_page(request, store, caller, pending)


@router.post("/city/imports/{import_id}/commit", response_class=HTMLResponse)
def commit(import_id: str, request: Request, store: Store, caller: CurrentCaller, at: Now) -> Response:
    """Write the import (validated again), the re-assessment it calls for and its audit entry in one
    transaction (``imports.commit_import``, as the API does)."""
    _require(store, caller, auditlog.Action.IMPORT_COMMIT, {"import": import_id})
    pending = api.load_pending(store, caller, import_id)
    if pending.manifest["status"] == "committed":
        raise errors.Conflict(f"この取り込みはすでに取り込み済みです（{pending.manifest['committed_at']}）。")
    lock = pending.folder / "committing"
    if lock.exists() and at - dt.datetime.fromtimestamp(lock.stat().st_mtime, dt.UTC) > api.STALE_LOCK:
        lock.unlink(missing_ok=True)
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise errors.Conflict("この取り込みはいま取り込み中です。終わってから確かめてください。") from None
    try:
        try:
            report = usecase.commit_import(store.sessions, caller.principal, pending.request(), caller.origin,
                                           {"import": import_id})
        except ImportRejected as exc:  # the data changed since the upload: nothing written, the new report shown
            pending.manifest |= {"status": "invalid", "report": api.report_of(None, exc.problems, str(exc))}
            pending.save()
            return _report_page(request, store, caller, pending, status_code=422, again=True)
        pending.manifest |= {"status": "committed", "report": api.report_of(report), "committed_by": caller.principal.login,
                             "committed_at": at.isoformat()}
        pending.save()
        pending.remove_files()
    finally:
        lock.unlink(missing_ok=True)
    return RedirectResponse(f"/city/imports/{import_id}", status_code=303)


@router.post("/city/imports/{import_id}/discard")
def discard(import_id: str, store: Store, caller: CurrentCaller) -> Response:
    api.discard(import_id, store, caller)  # checked and audited there
    return RedirectResponse("/city/imports", status_code=303)
