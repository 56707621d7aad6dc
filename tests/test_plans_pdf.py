"""マイプラン PDFs: content, fonts, escaping and the restricted fetcher, bulk and blank forms."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.access import Principal
from disaster.cli import app
from disaster.models import District, Resident
from disaster.outputs import OutputFolder
from disaster.pdf.fetcher import AssetFetcher, AssetRefused
from disaster.plans.context import load_residents, plan_contexts
from disaster.plans.render import PlanRenderer
from disaster.usecases.plans import map_data, render_plans, write_blank_form, write_district_plans, write_plan

LEVEL_NAMES = ("早期注意情報", "注意報", "高齢者等避難", "避難指示", "緊急安全確保")


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def _plain(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def _first_resident(store, district: str = "安武") -> Resident:
    """The first resident of the 校区 who consented to plan-making (an issued plan, not a draft)."""
    with store.sessions() as session:
        return session.scalars(select(Resident).join(District).where(District.name == district, Resident.consent_plan)
                               .order_by(Resident.resident_no)).first()


@pytest.fixture(scope="module")
def rendered(demo_store, tmp_path_factory) -> tuple[Path, Resident]:
    resident = _first_resident(demo_store)
    out = tmp_path_factory.mktemp("plan") / "plan.pdf"
    write_plan(demo_store.sessions, Principal.cli(demo_store.city_code), resident.resident_no, out)
    return out, resident


def test_plan_shows_the_person_destination_levels_and_centre(demo_store, rendered) -> None:
    path, resident = rendered
    text = _plain(_text(path))
    assert _plain(resident.name) in text
    with demo_store.sessions() as session:
        from disaster.models import Assessment, Shelter

        assessment = session.get(Assessment, resident.id)
        destination = session.get(Shelter, assessment.destination_shelter_id)
        district = session.get(District, resident.district_id)
        houkatsu = next(c for c in district.centres if c.kind == "houkatsu")
    assert _plain(destination.name) in text
    for level, name in enumerate(LEVEL_NAMES, start=1):
        assert f"レベル{level}" in text and name in text
    assert houkatsu.tel in text
    assert "法的な責任は負いません" in text
    assert "None" not in text and "下書き" not in text


def test_one_embedded_subset_japanese_font_and_size(rendered) -> None:
    path, _ = rendered
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts (poppler-utils) is required")
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert len(lines) == 1
    name, *_ = lines[0].split()
    assert "+" in name  # subset prefix
    assert lines[0].split()[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, unicode map
    assert len(PdfReader(path).pages) <= 3
    assert path.stat().st_size <= 400 * 1024


def _render_with(store, resident_no: str, **overrides) -> tuple[bytes, AssetFetcher]:
    with store.sessions() as session:
        resident = session.scalars(select(Resident).where(Resident.resident_no == resident_no)).one()
        (plan,) = plan_contexts(session, load_residents(session, [resident.id]), dt.date(2026, 4, 1))
        data = map_data(session, store.city_code, (resident.lon - 0.02, resident.lat - 0.02, resident.lon + 0.02, resident.lat + 0.02))
    plan["person"].update(overrides)
    renderer = PlanRenderer(data)
    pdf, _ = renderer.render(plan)
    return pdf, renderer.pdf.fetcher


def test_user_text_is_escaped_and_no_local_file_is_read(demo_store, tmp_path: Path) -> None:
    resident = _first_resident(demo_store)
    hostile = "<script>alert(1)</script>"
    address = 'x" style="background: url(file:///etc/passwd)"><img src="file:///etc/passwd">url(file:///etc/passwd)'
    pdf, fetcher = _render_with(demo_store, resident.resident_no, name=hostile, address=address)
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    text = _plain(_text(path))
    assert "<script>alert(1)</script>" in text
    assert "url(file:///etc/passwd)" in text
    assert all(url.startswith("asset:font/") for url in fetcher.requests), fetcher.requests
    assert "root:x:0:0" not in text


def test_fetcher_refuses_files_and_network(tmp_path: Path) -> None:
    asset = tmp_path / "a.ttf"
    asset.write_bytes(b"x")
    fetcher = AssetFetcher({"font/a.ttf": asset})
    assert fetcher.fetch("asset:font/a.ttf").read() == b"x"
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "asset:../../etc/passwd", "data:text/plain,hi"):
        with pytest.raises(AssetRefused):
            fetcher.fetch(url)
    assert fetcher.requests[-1] == "data:text/plain,hi"


def test_missing_data_prints_blanks_not_none(demo_store, tmp_path: Path) -> None:
    resident = _first_resident(demo_store, "荒木")
    pdf, _ = _render_with(demo_store, resident.resident_no, phone=None, kana=None, birth=None, age=None, sex=None)
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    text = _text(path)
    assert "None" not in text and "電話" in text


def test_blank_form_and_large_print(demo_store, rendered, tmp_path: Path) -> None:
    blank = tmp_path / "blank.pdf"
    write_blank_form(blank, demo_store.city_code)
    text = _text(blank)
    assert "署名" in text and "None" not in text and "レベル3" in text
    path, resident = rendered
    large = tmp_path / "large.pdf"
    pages = write_plan(demo_store.sessions, Principal.cli(demo_store.city_code), resident.resident_no, large, large_print=True).pages
    assert pages >= len(PdfReader(path).pages)
    assert _plain(resident.name) in _plain(_text(large))


def test_whole_district_in_bulk_with_index_and_zip(demo_store, tmp_path: Path) -> None:
    report = write_district_plans(demo_store.sessions, Principal.cli(demo_store.city_code), "安武", tmp_path, archive=True)
    with demo_store.sessions() as session:
        everyone = sorted(session.scalars(select(Resident.resident_no).join(District).where(District.name == "安武")))
        expected = sorted(session.scalars(select(Resident.resident_no).join(District)
                                          .where(District.name == "安武", Resident.consent_plan)))
    assert 0 < len(expected) < len(everyone)
    assert [number for number, *_ in report.written] == expected and not report.failed
    with report.index.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["名簿番号"] for r in rows] == everyone  # skipped residents are listed too
    issued = [r for r in rows if r["状態"] == "作成"]
    assert [r["名簿番号"] for r in issued] == expected and all(r["計画作成同意"] == "あり" for r in issued)
    assert all(int(r["ページ数"]) <= 3 for r in issued)
    with zipfile.ZipFile(report.archive) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == len(expected)


def test_one_bad_record_is_reported_and_the_rest_complete(demo_store, tmp_path: Path) -> None:
    with demo_store.sessions() as session:
        ids = list(session.scalars(select(Resident.id).join(District).where(District.name == "荒木")
                                   .order_by(Resident.resident_no)))[:6]
        plans = plan_contexts(session, load_residents(session, ids), dt.date(2026, 4, 1))
        data = map_data(session, demo_store.city_code, None)
    victim = plans[2]["resident_no"]
    plans[2]["home"] = {"lon": "壊れた座標", "lat": None}  # a corrupt record: its map cannot be drawn
    report = render_plans(plans, data, OutputFolder(tmp_path), workers=2)
    assert [number for number, _ in report.failed] == [victim]
    assert sorted(n for n, *_ in report.written) == sorted(p["resident_no"] for p in plans if p["resident_no"] != victim)


def test_cli_plan_and_errors(demo_store, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DISASTER_DB": demo_store.url}
    resident = _first_resident(demo_store)
    result = runner.invoke(app, ["plan", resident.resident_no, "--out", str(tmp_path / "p.pdf")], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    result = runner.invoke(app, ["plan", "NOPE", "--out", str(tmp_path / "n.pdf")], env=env)
    assert result.exit_code == 1 and "NOPE" in result.stderr
    result = runner.invoke(app, ["plans", "--district", "どこか", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 1 and "どこか" in result.stderr


@pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the rendering, not the database
def test_render_processes_give_each_thread_its_own_plan_and_are_replaced(demo_store) -> None:
    """The service renders plans from many threads in a few processes of its own: each caller gets
    the whole PDF of its own resident, and a process is replaced after ``recycle_after`` tasks
    (WeasyPrint's memory goes with it)."""
    from concurrent.futures import ThreadPoolExecutor

    from disaster.plans.render import RenderProcesses
    from disaster.usecases.plans import plan_pdf
    from tests.helpers import pdf_text

    with demo_store.sessions() as session:
        numbers = list(session.scalars(select(Resident.resident_no).where(Resident.consent_plan.is_(True))
                                       .order_by(Resident.resident_no).limit(6)))
    principal = Principal.cli(demo_store.city_code)
    processes = RenderProcesses(size=2, recycle_after=2)
    try:
        first = processes.start()
        with ThreadPoolExecutor(4) as pool:
            documents = list(pool.map(lambda no: plan_pdf(demo_store.sessions, principal, no,
                                                          render=processes.render), numbers))
        assert not set(processes.start()) & set(first)
    finally:
        processes.close()
    for number, document in zip(numbers, documents, strict=True):
        assert document.pdf.startswith(b"%PDF") and number in pdf_text(document.pdf)


@pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the rendering, not the database
def test_a_render_process_that_dies_is_replaced(demo_store) -> None:
    """A render process runs behind interactive work (lower priority); killed (e.g. by the kernel
    for memory), it costs no plan: the next one renders."""
    import os
    import signal

    from disaster.plans.render import RenderProcesses
    from disaster.usecases.plans import plan_pdf
    from tests.helpers import pdf_text

    number = _first_resident(demo_store).resident_no
    principal = Principal.cli(demo_store.city_code)
    processes = RenderProcesses(size=1, recycle_after=100)
    try:
        (pid,) = processes.start()
        assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 10  # behind the pages
        os.kill(pid, signal.SIGKILL)
        document = plan_pdf(demo_store.sessions, principal, number, render=processes.render)
        assert pid not in processes.start()
    finally:
        processes.close()
    assert number in pdf_text(document.pdf)
