"""The printed マイプラン of built residents (text extracted from the PDFs): what an 80-year-old
and a 民生委員 read — timelines, transport, 福祉避難所, not-workable box, draft watermark and
consent-gated bulk output, statutory fields on plan and blank form, large print."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from disaster.access import Principal
from disaster.cli import app
from disaster.db import make_engine, session_factory
from disaster.plans.render import PlanRenderer
from disaster.usecases.plans import map_data, plan_file, write_blank_form, write_district_plans, write_plan
from disaster.usecases.setup import init_store
from tests import plans_fixtures as F
from tests.conftest import KURUME

# Every item the law (49条の14③) and the 取組指針 様式例 list, as printed labels
STATUTORY_LABELS = ("支援者", "住所", "電話", "経路（道順）", "避難情報の", "受け取り方", "日中", "夜間", "デイサービス",
                    "主治医", "作成者", "提供先", "代筆者", "本人との続柄", "次の見直し", "第49条の15第2項",
                    "第49条の15第3項", "法的な責任は負いません")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, Path]]:
    path = tmp_path_factory.mktemp("built") / "plans.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    sessions = session_factory(engine)
    init_store(engine, sessions, KURUME)
    F.build(sessions)
    yield sessions, url, path.parent
    engine.dispose()


@pytest.fixture(scope="module")
def pages(built) -> dict[str, list[str]]:
    """Each scenario's plan (normal print), as text per page."""
    sessions, _, directory = built
    result = {}
    for key, scenario in F.SCENARIOS.items():
        out = directory / f"{key}.pdf"
        write_plan(sessions, Principal.cli("402036"), scenario.number, out, today=F.TODAY)
        result[key] = F.pdf_pages(out)
    return result


def _text(pages: list[str]) -> str:
    return "".join(pages)


def test_walk_plan_has_walking_time_route_and_every_statutory_item(pages) -> None:
    text = _text(pages["leave_walk"])
    assert "歩いて約14分" in text and "手作り小学校" in text
    for label in STATUTORY_LABELS:
        assert label in text, label
    assert "手作り町5-6" in text  # the supporter's 住所又は居所
    assert "防災行政無線、電話（支援者から）" in text
    assert "平日の日中はひとり" in text and "月・木デイサービスてづくり" in text
    assert "次の見直し令和9年11月25日" in text
    assert "地図の実線の道" in text
    assert "レベル3土砂災害警報" in text and "氾濫" not in text
    assert "下書き" not in text and "None" not in text


def test_car_plan_never_says_walking_and_names_who_arranges(pages) -> None:
    text = _text(pages["no_stairs"])
    assert "車で約16分" in text and "移動手段の確保が必要" in text and "遠方次郎" in text
    assert "歩いて" not in text
    assert "2階以上を使います" in text
    assert "家の高い所" not in text
    assert "→支援者に、名簿情報を受け取ることへの同意をもらって" in text  # the engine's supporter warning, with what to do


def test_welfare_direct_only_after_confirmed_opening(pages) -> None:
    direct = _text(pages["welfare_direct"])
    assert "福祉避難所（福祉ホームてづくり）へ直接避難します" in direct
    assert "開いたと確認できてから向かいます" in direct and "確認先：久留米市地域福祉課" in direct
    assert "福祉タクシー等で約18分" in direct and "歩いて" not in direct
    assert "訪問看護" in direct and "未登録" in direct  # power-dependent: missing contacts flagged
    assert "福祉避難所・福祉避難所" not in direct  # the kind is not printed twice under the name
    transfer = _text(pages["welfare_transfer"])
    assert "直接避難" not in transfer
    assert "まず手作り公民館の福祉スペースへ避難し、そこから福祉避難所（福祉ホームてづくり）へ移ります" in transfer


def test_unsafe_own_choice_is_kept_but_flagged_and_deaf_person_gets_information_by_text(pages) -> None:
    text = _text(pages["own_choice"])
    assert "長女宅（手作り町9-9）" in text
    assert "注意：この避難先は大雨のとき浸水するおそれがあります" in text
    assert "第2の避難先手作り小学校" in text
    assert "防災無線やサイレンは聞こえにくいため" in text
    assert "移動の方法が決まっていません" in text  # distance unknown: lines to fill in
    assert "警戒レベル3を待たずに出発します" in text


def test_not_workable_plan_shows_a_box_and_no_negative_time(pages) -> None:
    text = _text(pages["not_workable"])
    assert "この計画はまだ実行できません：" in text
    assert not re.search(r"(?<!\d)[-−－]\d+分", text)
    assert "避難を始める" not in text


def test_stay_plans_never_say_evacuation_is_done(pages) -> None:
    for key in ("stay", "stay_upstairs", "flat", "flat_high"):
        assert "避難を終えている" not in _text(pages[key]), key
        assert "危険な場所から必ず避難します" not in _text(pages[key]), key  # the note under the timeline too
    assert "自宅の安全な階へ移り終えます" in _text(pages["stay_upstairs"])
    assert "危険な場所から必ず避難します" in _text(pages["leave_walk"])
    assert "自宅の2階へ移る" in _text(pages["stay_upstairs"])
    flat = _text(pages["flat"])
    assert "自宅（1階）" in flat and "上の階" not in flat and "家の高い所" not in flat
    assert "避難を終えている" in _text(pages["leave_walk"])


def test_early_and_previous_day_triggers_move_the_departure(pages) -> None:
    early = _text(pages["no_stairs"])
    assert "警戒レベル3を待たずに出発します" in early and "避難を始める：明るいうちに" in early
    day_before = _text(pages["previous_day"])
    assert "前の日の明るいうちに避難先へ移ります" in day_before and "前の日のうちに" in day_before


def test_draft_is_watermarked_on_every_page(pages) -> None:
    draft = pages["draft"]
    assert len(draft) >= 2 and all("下書き" in page for page in draft)
    assert "本人・支援者に渡さないでください" in draft[0]
    assert all("下書き" not in page for page in pages["leave_walk"])


def test_bulk_skips_drafts_and_the_index_shows_consent(built, tmp_path: Path) -> None:
    sessions, _, _ = built
    report = write_district_plans(sessions, Principal.cli("402036"), F.DISTRICT, tmp_path, workers=2, today=F.TODAY)
    draft = F.SCENARIOS["draft"].number
    written = [number for number, *_ in report.written]
    assert draft not in written and len(written) == len(F.SCENARIOS) - 1
    assert not (tmp_path / plan_file(draft)).exists()
    with report.index.open(encoding="utf-8-sig") as handle:
        rows = {r["名簿番号"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {s.number for s in F.SCENARIOS.values()}
    assert rows[draft]["状態"].startswith("未作成") and rows[draft]["計画作成同意"] == "なし"
    issued = rows[F.SCENARIOS["leave_walk"].number]
    assert issued["状態"] == "作成" and issued["計画作成同意"] == "あり" and issued["計画作成同意日"] == "令和8年4月1日"
    assert issued["情報提供同意"] == "あり"

    with_drafts = write_district_plans(sessions, Principal.cli("402036"), F.DISTRICT, tmp_path / "all", workers=2, today=F.TODAY,
                                       include_drafts=True)
    assert with_drafts.drafts == [draft]
    assert all("下書き" in page for page in F.pdf_pages(tmp_path / "all" / plan_file(draft)))
    with with_drafts.index.open(encoding="utf-8-sig") as handle:
        status = {r["名簿番号"]: r["状態"] for r in csv.DictReader(handle)}
    assert status[draft].startswith("下書き")


def test_cli_plans_drafts_flag(built, tmp_path: Path) -> None:
    _, url, _ = built
    runner = CliRunner()
    result = runner.invoke(app, ["plans", "--district", F.DISTRICT, "--out", str(tmp_path / "a"), "--workers", "1"],
                           env={"DISASTER_DB": url})
    assert result.exit_code == 0, result.output
    assert "同意がない 1 人は作っていません" in result.output
    result = runner.invoke(app, ["plans", "--district", F.DISTRICT, "--out", str(tmp_path / "b"), "--workers", "1",
                                 "--drafts"], env={"DISASTER_DB": url})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / plan_file(F.SCENARIOS["draft"].number)).exists()
    one = runner.invoke(app, ["plan", F.SCENARIOS["draft"].number, "--out", str(tmp_path / "draft.pdf")],
                        env={"DISASTER_DB": url})
    assert one.exit_code == 0 and "下書き" in one.output and "渡せません" in one.output, one.output
    issued = runner.invoke(app, ["plan", F.SCENARIOS["leave_walk"].number, "--out", str(tmp_path / "issued.pdf")],
                           env={"DISASTER_DB": url})
    assert issued.exit_code == 0 and "下書き" not in issued.output, issued.output


def test_blank_form_has_every_statutory_item_and_all_warning_names(tmp_path: Path) -> None:
    out = tmp_path / "blank.pdf"
    pages = write_blank_form(out, KURUME, today=F.TODAY)
    text = _text(F.pdf_pages(out))
    assert pages <= 3
    for label in STATUTORY_LABELS + ("訪問看護", "医療機器の業者", "□防災行政無線", "□一戸建て", "□共同住宅"):
        assert label in text, label
    for name in ("レベル3大雨警報", "レベル4土砂災害危険警報", "レベル5氾濫特別警報", "レベル2土砂災害注意報"):
        assert name in text, name
    assert "None" not in text and "下書き" not in text


def _split_tables(document: Any) -> list[str]:
    """Tables whose boxes appear on more than one page."""
    seen: dict[int, set[int]] = {}
    names: dict[int, str] = {}

    def walk(box: Any, page: int) -> None:
        element = getattr(box, "element", None)
        if getattr(box, "element_tag", None) == "table" and element is not None:
            seen.setdefault(id(element), set()).add(page)
            names[id(element)] = element.get("class") or "table"
        for child in getattr(box, "children", []):
            walk(child, page)

    for number, page in enumerate(document.pages):
        walk(page._page_box, number)
    return [names[k] for k, pages in seen.items() if len(pages) > 1]


def test_large_print_scales_everything_and_keeps_three_pages_without_split_tables(built) -> None:
    sessions, _, _ = built
    plans = F.contexts(sessions, *F.SCENARIOS)
    with sessions() as session:
        renderer = PlanRenderer(map_data(session, KURUME, None))
    for key, plan in plans.items():
        normal = renderer.document(plan)
        large = renderer.document(plan, large_print=True)
        assert len(normal.pages) <= 3 and len(large.pages) <= 3, key
        assert not _split_tables(normal) and not _split_tables(large), key
    for key in ("leave_walk", "welfare_direct", "not_workable"):
        sizes = {large: _font_sizes(renderer.document(plans[key], large_print=large)) for large in (False, True)}
        assert set(sizes[False]) == set(sizes[True])
        for cls, size in sizes[False].items():  # every class: labels, warning names, ranks, boxes, lists
            assert sizes[True][cls] >= 1.19 * size, (key, cls)
        for cls in ("official", "explain", "num", "decision", "name", "kana", "arrange"):
            if cls in sizes[False]:
                assert sizes[True][cls] == pytest.approx(sizes[False][cls] * 16 / 12, rel=0.02), cls


def _font_sizes(document: Any) -> dict[str, float]:
    found: dict[str, float] = {}

    def walk(box: Any) -> None:
        element = getattr(box, "element", None)
        if element is not None and element.get("class") and hasattr(box, "style"):
            for cls in element.get("class").split():
                found.setdefault(cls, box.style["font_size"])
        for child in getattr(box, "children", []):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return found


def test_level_colours_are_printed(built) -> None:
    sessions, _, _ = built
    plan = F.contexts(sessions, "leave_walk")["leave_walk"]
    with sessions() as session:
        renderer = PlanRenderer(map_data(session, KURUME, None))
    html = renderer.pdf.html("plan.html.j2", renderer.context(plan))
    for colour, text in (("#F2E700", "#000000"), ("#FF2800", "#FFFFFF"), ("#AA00AA", "#FFFFFF"), ("#0C000C", "#FFFFFF")):
        assert f"background: {colour}; color: {text}" in html


def test_plans_keep_to_three_pages(pages, built) -> None:
    _, _, directory = built
    for key, texts in pages.items():
        assert len(texts) == len(PdfReader(directory / f"{key}.pdf").pages) <= 3, key
