"""マイプラン use-cases: one plan, a whole 校区 in parallel, and the blank paper form."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import access, errors, exports, outputs, repo
from disaster.access import Principal
from disaster.models import Assessment, District, HazardZone, Resident
from disaster.plans.context import blank_context, load_residents, plan_contexts
from disaster.plans.render import MapData, RenderPlan, init_worker, render_here, render_to_file
from disaster.profile import load_profile
from disaster.usecases.plan_records import printed_records
from disaster.usecases.residents import shown_plan_warnings

MAP_MARGIN_DEG = 0.03  # hazard zones loaded this far (~3 km) around the district


@dataclass
class PlanReport:
    written: list[tuple[str, str, int, int]] = field(default_factory=list)  # resident_no, file, pages, bytes
    failed: list[tuple[str, str]] = field(default_factory=list)  # resident_no, message
    skipped: list[tuple[str, str]] = field(default_factory=list)  # resident_no, why (no 計画作成同意)
    consents: dict[str, dict[str, Any]] = field(default_factory=dict)  # resident_no -> consent columns
    drafts: list[str] = field(default_factory=list)  # resident_no of drafts written (include_drafts)
    index: Path | None = None
    archive: Path | None = None


def map_data(session: Session, city_code: str, bbox: tuple[float, float, float, float] | None) -> MapData:
    """The city's hazard zones (within ``bbox`` + margin when given) and all its 校区 outlines."""
    query = repo.city_zones(city_code, HazardZone.layer, HazardZone.rank, HazardZone.landslide_class, HazardZone.geom)
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        m = MAP_MARGIN_DEG
        query = query.where(HazardZone.max_lon >= minx - m, HazardZone.min_lon <= maxx + m,
                            HazardZone.max_lat >= miny - m, HazardZone.min_lat <= maxy + m)
    zones = session.execute(query).all()
    districts = session.execute(select(District.name, District.geom).where(District.city_code == city_code)).all()
    if not districts:
        raise errors.NotReady("校区がまだありません。先に `disaster import districts` を実行してください。")
    return MapData(
        [z.geom for z in zones], [{"layer": z.layer, "rank": z.rank, "landslide_class": z.landslide_class} for z in zones],
        [d.geom for d in districts], [d.name for d in districts], load_profile(city_code).metric_epsg,
    )


def _require_assessments(session: Session, resident_ids: list[int]) -> None:
    assessed = set(session.scalars(select(Assessment.resident_id).where(Assessment.resident_id.in_(resident_ids))))
    if len(assessed) < len(resident_ids):
        raise errors.NotReady("避難判定がまだありません。先に `disaster assess` を実行してください。")


@dataclass(frozen=True)
class PlanFile:
    pages: int
    size: int  # bytes
    draft: bool  # no 計画作成同意: a watermarked 下書き for city staff, not to be handed out


@dataclass(frozen=True)
class PlanDocument:
    """One resident's plan as a PDF: the current plan record (overrides applied) when there is
    one (``version`` > 0, its ``status``), otherwise the assessment as it stands."""

    pdf: bytes
    pages: int
    draft: bool  # no 計画作成同意: a watermarked 下書き for city staff, not to be handed out
    version: int  # of the plan record; 0: none yet
    status: str | None
    unsafe_destination: bool  # the recorded destination failed today's safety rules and was not printed


def plan_pdf(sessions: sessionmaker[Session], principal: Principal, resident_no: str, large_print: bool = False,
             today: dt.date | None = None, render: RenderPlan | None = None) -> PlanDocument:
    """One resident's plan (a 下書き when the resident has not consented to plan-making), if
    ``principal`` may see the resident (``access.resident_filter``) and make that plan; ``render``:
    e.g. the service's render processes (``RenderProcesses.render``), by default this process."""
    today = today or dt.date.today()
    city_code = principal.city_code
    with sessions() as session:
        row = session.execute(
            select(Resident.id, Resident.consent_plan, District.name).join(District, Resident.district_id == District.id)
            .where(access.resident_filter(principal), Resident.resident_no == resident_no)).first()
        if row is None:
            if session.scalar(select(Resident.id).where(Resident.city_code == city_code,
                                                        Resident.resident_no == resident_no)) is None:
                raise errors.NotFound(f"名簿番号「{resident_no}」の方は名簿にいません。")
            raise errors.Forbidden(f"名簿番号「{resident_no}」の方は、{access.ROLE_LABELS[principal.role]}"
                                   f"（{principal.login}）が見られる範囲にいません。")
        resident_id, consent_plan, district = row
        access.require(principal, access.Action.ISSUE_PLAN if consent_plan else access.Action.DRAFT_PLAN, district)
        _require_assessments(session, [resident_id])
        residents = load_residents(session, [resident_id])
        resident = residents[0]
        records = printed_records(session, principal, residents)
        (plan,) = plan_contexts(session, residents, today, records)
        shown_plan_warnings(session, principal, [plan], [resident_id])
        record = records.get(resident_id)
        data = map_data(session, city_code, (resident.lon - 0.02, resident.lat - 0.02, resident.lon + 0.02, resident.lat + 0.02))
    pdf, pages = (render or render_here)(data, plan, large_print)
    return PlanDocument(pdf, pages, bool(plan["draft"]), record.version if record else 0, record.status if record else None,
                        bool(plan["record"] and plan["record"]["unsafe"]))


def write_plan(sessions: sessionmaker[Session], principal: Principal, resident_no: str, out: Path,
               large_print: bool = False, today: dt.date | None = None, force: bool = False) -> PlanFile:
    """``plan_pdf`` written to ``out`` (for the command line; owner-only, ``disaster.outputs``)."""
    folder = outputs.OutputFolder(out.parent, force=force)
    folder.check_free([out.name])  # before the plan is made
    document = plan_pdf(sessions, principal, resident_no, large_print, today)
    folder.write_bytes(out.name, document.pdf)
    return PlanFile(document.pages, len(document.pdf), document.draft)


def write_blank_form(out: Path, city_code: str, large_print: bool = False, today: dt.date | None = None,
                     force: bool = False) -> int:
    """The city's paper form with every statutory item as a line to fill in (no personal data);
    returns the page count."""
    profile = load_profile(city_code)
    pdf, pages = render_here(None, blank_context(today or dt.date.today(), profile), large_print)
    outputs.write_file(out, pdf, private=False, force=force)
    return pages


def write_district_plans(
    sessions: sessionmaker[Session],
    principal: Principal,
    district: str,
    out_dir: Path,
    large_print: bool = False,
    archive: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    today: dt.date | None = None,
    include_drafts: bool = False,
    force: bool = False,
) -> PlanReport:
    """Every plan of a 校区, rendered in parallel; a record that fails is reported and skipped.

    Only residents with 計画作成同意 get a plan (49条の14①). The others are listed in the index
    as not issued, unless ``include_drafts``: then a watermarked 下書き for city staff is written.
    A resident's plan record, when there is one, is printed as in ``plan_pdf``.
    The 校区's residents are those ``principal`` may see (``access.resident_filter``).
    Files are named by ``plan_file``, ``index_file`` and ``archive_file``, readable by their owner
    only; none is overwritten unless ``force`` (checked before anything is rendered)."""
    today = today or dt.date.today()
    city_code = principal.city_code
    access.require(principal, access.Action.DISTRICT_PLANS, district)
    if include_drafts:
        access.require(principal, access.Action.DRAFT_PLAN, district)
    with sessions() as session:
        row = session.execute(select(District.id, District.min_lon, District.min_lat, District.max_lon, District.max_lat)
                              .where(District.city_code == city_code, District.name == district)).first()
        if row is None:
            raise errors.NotFound(f"校区「{district}」は登録されていません。")
        ids = list(session.scalars(select(Resident.id).where(access.resident_filter(principal, district))
                                   .order_by(Resident.resident_no)))
        _require_assessments(session, ids)
        residents = load_residents(session, ids)
        plans = plan_contexts(session, residents, today, printed_records(session, principal, residents))
        shown_plan_warnings(session, principal, plans, [r.id for r in residents])
        data = map_data(session, city_code, (row.min_lon, row.min_lat, row.max_lon, row.max_lat))
    chosen = [p for p in plans if include_drafts or not p["draft"]]
    folder = outputs.OutputFolder(out_dir, force=force)
    folder.check_free([plan_file(p["resident_no"]) for p in chosen] + [index_file(district)]
                      + ([archive_file(district)] if archive else []))
    report = render_plans(chosen, data, folder, large_print, workers, progress)
    report.consents = {p["resident_no"]: _consent_columns(p) for p in plans}
    report.skipped = [(p["resident_no"], "未作成（計画作成の同意なし）") for p in plans if p["draft"] and not include_drafts]
    report.drafts = sorted(p["resident_no"] for p in chosen if p["draft"])
    report.index = _write_index(folder, district, report)
    if archive:
        report.archive = _zip(folder, district, report)
    return report


def plan_file(resident_no: str) -> str:
    """A plan's file name, e.g. ``plan_0001_888b19a4.pdf`` (``disaster.outputs.file_name``)."""
    return outputs.file_name("plan", resident_no, ".pdf")


def index_file(district: str) -> str:
    return outputs.file_name("マイプラン一覧", district, ".csv")


def archive_file(district: str) -> str:
    return outputs.file_name("マイプラン", district, ".zip")


def render_plans(
    plans: list[dict[str, Any]],
    data: MapData,
    folder: outputs.OutputFolder,
    large_print: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> PlanReport:
    """Render plan contexts to ``folder``/``plan_file(名簿番号)`` in worker processes (one renderer,
    font configuration and map painter per worker); failures are collected, not raised.
    When ``progress`` raises (e.g. a background job asked to stop), the plans not yet started
    are dropped and the exception goes on."""
    report = PlanReport()
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(data,)) as pool:
        futures = {
            pool.submit(render_to_file, plan, folder, plan_file(plan["resident_no"]), large_print): plan["resident_no"]
            for plan in plans
        }
        for done, future in enumerate(as_completed(futures), start=1):
            number = futures[future]
            try:
                name, pages, size = future.result()
            except Exception as exc:  # one bad record must not stop the others
                report.failed.append((number, f"{type(exc).__name__}: {exc}"))
            else:
                report.written.append((number, name, pages, size))
            try:
                progress(done, len(plans))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    report.written.sort()
    return report


def _consent_columns(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "計画作成同意": "あり" if plan["consent_plan"] else "なし",
        "計画作成同意日": plan["consent_plan_date"] or "",
        "情報提供同意": "あり" if plan["consent_share"] else "なし",
        "情報提供同意日": plan["consent_share_date"] or "",
    }


INDEX_COLUMNS = ["名簿番号", "ファイル", "ページ数", "バイト", "状態", "計画作成同意", "計画作成同意日", "情報提供同意", "情報提供同意日"]


def _write_index(folder: outputs.OutputFolder, district: str, report: PlanReport) -> Path:
    """One row per resident of the 校区 (written, draft, skipped or failed) with the consents."""
    drafts = set(report.drafts)
    rows: list[list[Any]] = []
    for number, name, pages, size in report.written:
        rows.append([number, name, pages, size, "下書き（市職員用・同意なし）" if number in drafts else "作成"])
    for number, message in report.failed:
        rows.append([number, "", "", "", f"失敗: {message}"])
    for number, why in report.skipped:
        rows.append([number, "", "", "", why])
    empty = dict.fromkeys(INDEX_COLUMNS[5:], "")
    lines = (row + list(report.consents.get(str(row[0]), empty).values()) for row in sorted(rows, key=lambda r: str(r[0])))
    return folder.write_bytes(index_file(district), exports.csv_bytes(INDEX_COLUMNS, lines))


def _zip(folder: outputs.OutputFolder, district: str, report: PlanReport) -> Path:
    with folder.writing(archive_file(district)) as handle, \
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for _, name, _, _ in report.written:
            archive.write(folder.path(name), name)
        if report.index is not None:
            archive.write(report.index, report.index.name)
    return folder.path(archive_file(district))
