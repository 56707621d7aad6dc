"""The leader's pages in Chromium: the list in priority order with counts, filters and a search
that keeps names out of URLs; a plan made, saved, issued and printed (the PDF shows the edit);
two browsers saving the same plan (the second sees the conflict and loses nothing); destinations
only from the safety rules and no walk beyond the person's limit; 要見直し after the data changed;
a new supporter only with consent; 災害時モード on and off; bulk print as a job; the version
history; a resident named like a script shown as text everywhere; the audit entries of it all.

Expectations come from the tables (and, for what the safety rules allow, from the rules' own
judge), never from the pages' code."""

from __future__ import annotations

import base64
import datetime as dt
import io
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import exists, func, select, update

from disaster.access import Principal, Role
from disaster.models import Assessment, District, PlanRecord, Resident, Shelter, Supporter, resident_supporter
from disaster.usecases import plan_records
from disaster.usecases.plans import plan_file
from disaster.usecases.users import add_user
from tests.conftest import KURUME
from tests.pages_fixtures import TABLET_LANDSCAPE, Site, Tab, api, check_page, screenshot, site, tab  # noqa: F401
from tests.web_fixtures import PASSWORD, Person, audit_after, last_audit_id, web_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the pages, not the database

SCRIPT_NAME = "<img src=x onerror=alert(1)>"
JAPAN = ZoneInfo("Asia/Tokyo")


# --- the test's own reading of the tables ---


def leader(site: Site) -> Principal:  # noqa: F811
    return Principal("leader", Role.LEADER, KURUME, frozenset({site.people.home}))


def in_view(site: Site) -> list[tuple[str, str]]:  # noqa: F811
    """(名簿番号, 氏名) of the leader's residents (own 校区, 名簿情報提供の同意), most urgent plan first."""
    with site.store.sessions() as session:
        rows = session.execute(
            select(Resident.resident_no, Resident.name).join(District, Resident.district_id == District.id)
            .outerjoin(Assessment, Assessment.resident_id == Resident.id)
            .where(District.name == site.people.home, Resident.consent_share.is_(True))
            .order_by(func.coalesce(Assessment.priority_score, -1).desc(), Resident.resident_no)).all()
    return [(r[0], r[1]) for r in rows]


def matching(site: Site, part: str) -> list[str]:  # noqa: F811
    """名簿番号 of the leader's residents whose 名簿番号, 氏名 or ふりがな (spaces ignored) hold ``part``, in list order."""
    with site.store.sessions() as session:
        kana = dict(session.execute(select(Resident.resident_no, Resident.kana)).all())
    return [number for number, name in in_view(site)
            if any(part in "".join((text or "").split()) for text in (number, name, kana.get(number)))]


def without_supporter(site: Site) -> set[str]:  # noqa: F811
    with site.store.sessions() as session:
        return set(session.scalars(
            select(Resident.resident_no).join(District, Resident.district_id == District.id)
            .where(District.name == site.people.home, Resident.consent_share.is_(True),
                   ~exists().where(resident_supporter.c.resident_id == Resident.id))))


def plan_of(site: Site, number: str) -> PlanRecord | None:  # noqa: F811
    with site.store.sessions() as session:
        return session.scalar(select(PlanRecord).join(Resident).where(Resident.resident_no == number))


def unused(site: Site, taken: set[str], **wanted: Any) -> Person:  # noqa: F811
    """A resident of the leader's 校区 with both consents, not used by another test, with a unique name."""
    names = [p.name for p in site.people.everyone]
    for person in site.people.everyone:
        if (person.district == site.people.home and person.consent_share and person.consent_plan
                and person.resident_no not in taken and names.count(person.name) == 1
                and person.resident_no != site.people.inside_yes.resident_no
                and all(getattr(person, k) == v for k, v in wanted.items())):
            taken.add(person.resident_no)
            return person
    raise AssertionError("no such resident in the demo data")


TAKEN: set[str] = set()


def listed(opened: Tab) -> list[str]:
    """The 名簿番号 of the residents listed, in order (from the links to their pages)."""
    hrefs = opened.page.locator("ol.residents a.who").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [href.rsplit("/", 1)[1] for href in hrefs]


def tally(opened: Tab) -> dict[str, int]:
    """The counts at the top of the list: label -> number."""
    found = {}
    for text in opened.page.locator("ul.tally a").all_inner_texts():
        number, label = text.split(maxsplit=1)
        found["".join(label.split())] = int(number)
    return found


def pdf_text(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        Path(handle.name).write_bytes(data)
        text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


@pytest.fixture(scope="module")
def second_leader(site: Site) -> str:  # noqa: F811
    add_user(site.store.sessions, Principal.cli(KURUME), "leader2", "leader", PASSWORD, districts=[site.people.home])
    return "leader2"


# --- わたしの名簿 ---


def test_the_list_is_in_priority_order_with_counts_filters_and_no_name_in_urls(browser: Any, site: Site) -> None:  # noqa: F811
    expected = in_view(site)
    start = last_audit_id(site.store)
    with tab(browser, site, "leader") as opened:
        page = opened.page
        assert page.url == site.url + "/leader"
        assert listed(opened) == [number for number, _ in expected][:50]
        counts = tally(opened)
        assert counts["人（全員）"] == len(expected) and counts["支援者なし"] == len(without_supporter(site))
        assert counts["未作成"] == len(expected) - sum(counts[s] for s in ("下書き", "本人確認済", "要見直し"))
        check_page(opened)
        screenshot(opened, "leader-home")
        # a filter: only those without a supporter, still most urgent first
        page.get_by_text("条件で絞り込む").click()
        page.get_by_label("支援者がいない方").check()
        page.get_by_role("button", name="この条件で表示").click()
        page.wait_for_load_state()
        order = [n for n, _ in expected]
        shown = listed(opened)
        assert set(shown) == without_supporter(site) and shown == sorted(shown, key=order.index)
        assert "no_supporter=1" in page.url
        check_page(opened)
        # a search by part of a name is posted: the name is on the page, never in the URL
        number, name = expected[3]
        part = name.replace(" ", "").replace("　", "")[:2]
        page.get_by_label("名前・ふりがな・名簿番号で探す").fill(part)
        page.get_by_role("button", name="探す", exact=True).click()
        page.wait_for_load_state()
        assert page.url == site.url + "/leader/search" and part not in page.url
        assert number in listed(opened) and listed(opened) == matching(site, part)
        check_page(opened)
        page.get_by_label("名前・ふりがな・名簿番号で探す").fill("  ")
        page.get_by_role("button", name="探す", exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_text("探す名前・ふりがな・名簿番号を入れてください。").is_visible()
        assert page.get_by_label("名前・ふりがな・名簿番号で探す").get_attribute("aria-invalid") == "true"
    entries = [e for e in audit_after(site.store, start) if e.action == "residents.list"]
    assert entries and entries[0].actor == "leader" and entries[0].resident_ids == [n for n, _ in expected][:50]
    assert all(part not in str(e.details) for e in entries)  # the search is logged, not what was searched
    assert any(e.details.get("search") for e in entries)


def test_search_results_hold_exactly_the_matching_residents(browser: Any, site: Site) -> None:  # noqa: F811
    expected = in_view(site)
    number, name = expected[-1]
    with tab(browser, site, "leader") as opened:
        opened.page.get_by_label("名前・ふりがな・名簿番号で探す").fill(number)
        opened.page.get_by_role("button", name="探す", exact=True).click()
        opened.page.wait_for_load_state()
        assert listed(opened) == [n for n, _ in expected if number in n]
        assert opened.page.get_by_role("link", name=name).first.is_visible()
        # someone outside the view is not found by their 名簿番号
        outside = site.people.outside_yes
        opened.page.get_by_label("名前・ふりがな・名簿番号で探す").fill(outside.resident_no)
        opened.page.get_by_role("button", name="探す", exact=True).click()
        opened.page.wait_for_load_state()
        assert listed(opened) == [] and outside.name not in opened.page.content()


def test_the_list_and_the_plan_page_read_well_in_landscape(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site, "leader", viewport=TABLET_LANDSCAPE) as opened:
        check_page(opened)
        opened.open(f"/leader/residents/{site.people.inside_yes.resident_no}")
        check_page(opened)


# --- one resident's plan ---


def _allowed_and_refused(site: Site, number: str) -> tuple[set[str], set[str]]:  # noqa: F811
    """The shelters the safety rules allow for the resident, and those they refuse (the rules' own judge)."""
    view = plan_records.get_plan(site.store.sessions, leader(site), number)
    with site.store.sessions() as session:
        everything = set(session.scalars(select(Shelter.code).where(Shelter.city_code == KURUME)))
    allowed = {v.code for v in view.destinations}
    return allowed, everything - allowed


def offered(opened: Tab) -> list[str]:
    return opened.page.locator("input[name=destination]").evaluate_all("radios => radios.map(r => r.value)")


def test_a_leader_edits_and_issues_a_plan_and_the_pdf_shows_the_edit(browser: Any, site: Site) -> None:  # noqa: F811
    person = site.people.inside_yes
    allowed, refused = _allowed_and_refused(site, person.resident_no)
    start = last_audit_id(site.store)
    with tab(browser, site, "leader") as opened:
        page = opened.page
        page.get_by_label("名前・ふりがな・名簿番号で探す").fill(person.resident_no)
        page.get_by_role("button", name="探す", exact=True).click()
        page.wait_for_load_state()
        page.get_by_role("link", name=person.name).click()
        page.wait_for_load_state()
        assert page.url == site.url + f"/leader/residents/{person.resident_no}"
        assert person.name not in page.title() and person.name not in page.locator("h1").inner_text()
        assert page.get_by_text(person.name, exact=True).first.is_visible()
        # the assessment in plain words, a map, and only the safe destinations
        assert page.locator("#assessment-title").is_visible() and page.get_by_role("heading", name="ご自宅の危険").is_visible()
        drawn = page.locator("figure.plan-map img")
        assert drawn.evaluate("img => img.complete && img.naturalWidth > 0")
        svg = base64.b64decode(drawn.get_attribute("src").removeprefix("data:image/svg+xml;base64,")).decode()
        assert svg.startswith("<svg") and "自宅" in svg and "避難先" in svg and "<script" not in svg
        codes = [c for c in offered(opened) if c]
        assert codes and set(codes) <= allowed and not set(codes) & refused
        check_page(opened)
        screenshot(opened, "leader-resident")
        # the form starts from the assessment: the assessed destination is chosen
        view = plan_records.get_plan(site.store.sessions, leader(site), person.resident_no)
        assert page.locator("input[name=destination]:checked").get_attribute("value") == view.suggestion["destination_code"]
        page.get_by_label("持ち出し品（1行に1つ）").fill("お薬手帳\n補聴器の予備の電池")
        page.get_by_label("メモ").fill("夜は長男が同居")
        page.get_by_label("本人・家族").check()
        page.get_by_role("button", name="下書きとして保存").click()
        page.wait_for_load_state()
        assert "?saved=1" in page.url
        status = page.locator("#plan-status")
        assert "第1版として保存しました" in status.inner_text() and "補聴器の予備の電池" in status.inner_text()
        check_page(opened)
        # 本人確認済: the checks are asked for, the date is kept
        confirmed = dt.datetime.now(JAPAN).date()
        page.get_by_label("本人と確かめた日").fill("")
        page.get_by_role("button", name="本人確認済にする").click()
        page.wait_for_load_state()
        talked = page.get_by_label("本人（または家族）と一緒に、計画の内容を確かめました")
        assert talked.get_attribute("aria-invalid") == "true"
        assert page.get_by_text("本人（または家族）と一緒に内容を確かめてから").is_visible()
        assert page.get_by_text("本人と確かめた日を入れてください。").is_visible()
        check_page(opened)
        screenshot(opened, "leader-issue-problems")
        page.get_by_label("本人と確かめた日").fill(confirmed.isoformat())
        talked.check()
        page.get_by_label("計画作成への同意を確かめました", exact=False).check()
        page.get_by_role("button", name="本人確認済にする").click()
        page.wait_for_load_state()
        assert "?issued=2" in page.url and "本人確認済にしました" in page.locator("#plan-status").inner_text()
        record = plan_of(site, person.resident_no)
        assert record is not None and record.status == "本人確認済" and record.confirmed_on == confirmed
        assert record.content["carry_items"] == ["お薬手帳", "補聴器の予備の電池"]
        # the printed plan shows the edit
        with page.expect_download() as download:
            page.get_by_role("link", name="PDFを保存する").click()
        text = pdf_text(Path(download.value.path()).read_bytes())
        assert "補聴器の予備の電池" in text and "夜は長男が同居" in text and "本人確認済" in text
        # the history says who changed what
        page.get_by_role("link", name="計画の変更の記録を見る").click()
        page.wait_for_load_state()
        history = page.locator("ol.history > li")
        assert history.count() == 2
        assert "第2版" in history.nth(0).inner_text() and "状態: 下書き → 本人確認済" in history.nth(0).inner_text()
        assert "持ち出し品: （なし） → お薬手帳、補聴器の予備の電池" in history.nth(1).inner_text()
        check_page(opened)
        screenshot(opened, "leader-history")
    actions = [(e.action, e.resident_ids, e.allowed) for e in audit_after(site.store, start)
               if e.resident_ids == [person.resident_no]]
    for action in ("resident.read", "plan.read", "plan.save", "plan.issue", "plan.pdf", "plan.history"):
        assert (action, [person.resident_no], True) in actions, action


def test_two_browsers_save_the_same_plan_the_second_sees_the_conflict_and_loses_nothing(
        browser: Any, site: Site, second_leader: str) -> None:  # noqa: F811
    person = unused(site, TAKEN)
    url = f"/leader/residents/{person.resident_no}"
    with tab(browser, site, "leader") as first, tab(browser, site, second_leader) as second:
        first.open(url)
        second.open(url)
        first.page.get_by_label("メモ").fill("鍵は郵便受けの中")
        first.page.get_by_role("button", name="下書きとして保存").click()
        first.page.wait_for_load_state()
        assert "?saved=1" in first.page.url
        second.page.get_by_label("持ち出し品（1行に1つ）").fill("老眼鏡\n入れ歯ケース")
        second.page.get_by_label("移動の手配（誰の車で、どこに頼むか）").fill("長男の車")
        second.page.get_by_role("button", name="下書きとして保存").click()
        second.page.wait_for_load_state()
        page = second.page
        assert page.get_by_role("heading", name="ほかの人が先に保存しました").is_visible()
        conflict = page.locator("section.merge").inner_text()
        assert "メモ: （なし） → 鍵は郵便受けの中" in conflict and "leader" in conflict
        # nothing lost: what the second typed, and the first's note, are in the form
        assert page.get_by_label("持ち出し品（1行に1つ）").input_value() == "老眼鏡\n入れ歯ケース"
        assert page.get_by_label("移動の手配（誰の車で、どこに頼むか）").input_value() == "長男の車"
        assert page.get_by_label("メモ").input_value() == "鍵は郵便受けの中"
        assert plan_of(site, person.resident_no).version == 1  # the stale save wrote nothing
        check_page(second)
        screenshot(second, "leader-conflict")
        page.get_by_role("button", name="下書きとして保存").click()
        page.wait_for_load_state()
        assert "?saved=2" in page.url
        # the first browser still shows version 1: issuing it is refused, and it is told why
        first.page.get_by_label("本人（または家族）と一緒に、計画の内容を確かめました").check()
        first.page.get_by_label("計画作成への同意を確かめました", exact=False).check()
        first.page.get_by_role("button", name="本人確認済にする").click()
        first.page.wait_for_load_state()
        assert first.page.get_by_text("ほかの人が計画を保存しました", exact=False).is_visible()
        assert first.page.url.endswith("/plan/issue#issue-title")
        assert first.page.locator("input[name=version]").first.get_attribute("value") == "2"
    record = plan_of(site, person.resident_no)
    assert record is not None and record.version == 2 and record.status == "下書き"
    assert record.content["notes"] == "鍵は郵便受けの中" and record.content["carry_items"] == ["老眼鏡", "入れ歯ケース"]
    assert record.content["transport_note"] == "長男の車"


def _walk_case(site: Site) -> tuple[str, str, str | None]:  # noqa: F811
    """A resident who may walk somewhere, with a destination the rules allow that is too far to walk
    to, and one within the limit if there is one: (名簿番号, far code, near code or None)."""
    planned = {p.resident_no for p in site.people.everyone if p.consent_plan}  # the leader may make their plan
    for number, _ in in_view(site):
        if number in TAKEN or number == site.people.inside_yes.resident_no or number not in planned:
            continue
        walking = plan_records.walking(site.store.sessions, leader(site), number)
        if walking.limit_m <= 0:
            continue
        view = plan_records.get_plan(site.store.sessions, leader(site), number)
        far = [v for v in view.destinations if (walking.distance_to(v) or 0) > walking.limit_m]
        near = [v for v in view.destinations if (walking.distance_to(v) or 0) <= walking.limit_m]
        if not view.content and far:
            TAKEN.add(number)
            return number, far[0].code, near[0].code if near else None
    raise AssertionError("no resident with a destination beyond the walking limit in the demo data")


def test_a_walk_beyond_the_limit_is_never_the_plan(browser: Any, site: Site) -> None:  # noqa: F811
    number, far, near = _walk_case(site)
    with tab(browser, site, "leader") as opened:
        page = opened.open(f"/leader/residents/{number}")
        walk = page.locator("input[name=transport_mode][value=walk]")
        if near is not None:
            page.locator(f"input[name=destination][value='{near}']").check()
            assert walk.is_enabled()
        page.locator(f"input[name=destination][value='{far}']").check()
        assert walk.is_disabled()  # the page's script: no walk to a place too far
        assert page.locator(f"input[name=destination][value='{far}'] + label .walk-no").is_visible()
        check_page(opened)
        # without the script (or with a crafted form) the server refuses it, next to 移動の方法
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = httpx.post(f"{site.url}/leader/residents/{number}/plan", cookies=cookies, data={
        "csrf_token": token, "version": "0", "destination": far, "destination_reason": "本人の希望",
        "transport_mode": "walk"})
    assert answer.status_code == 422 and "歩ける上限" in answer.text and 'id="transport_mode-problem"' in answer.text
    assert plan_of(site, number) is None
    # a person who cannot walk at all is not offered "歩いて"
    with site.store.sessions() as session:
        someone = session.scalar(select(Resident.resident_no).join(District).where(
            District.name == site.people.home, Resident.consent_share.is_(True), Resident.consent_plan.is_(True),
            Resident.mobility == "寝たきり", Resident.resident_no.not_in(TAKEN)))
    if someone is None:  # the demo data may have none in this 校区: make one
        someone = unused(site, TAKEN).resident_no
        with site.store.sessions() as session, session.begin():
            session.execute(update(Resident).where(Resident.resident_no == someone).values(mobility="寝たきり"))
    assert plan_records.walking(site.store.sessions, leader(site), someone).limit_m == 0
    with tab(browser, site, "leader") as opened:
        page = opened.open(f"/leader/residents/{someone}")
        assert page.locator("input[name=transport_mode][value=walk]").count() == 0
        assert page.get_by_text("この方には、歩いての避難はお願いできません。").is_visible()


def test_an_issued_plan_whose_data_changed_says_it_needs_review(browser: Any, site: Site) -> None:  # noqa: F811
    person = unused(site, TAKEN)
    client = api(site, "leader")
    url = f"/residents/{person.resident_no}/plan"
    current = client.get(url)
    saved = client.put(url, json={"made_with": ["本人・家族"]}, headers={"If-Match": current.headers["etag"]})
    assert client.post(f"{url}/issue", headers={"If-Match": saved.headers["etag"]}).status_code == 200
    with site.store.sessions() as session, session.begin():  # the person's mobility changed since
        before = session.scalar(select(Resident.mobility).where(Resident.resident_no == person.resident_no))
        after = "車いす" if before != "車いす" else "杖・歩行器"
        session.execute(update(Resident).where(Resident.resident_no == person.resident_no).values(mobility=after))
    assert person.resident_no in plan_records.review_issued(site.store.sessions, KURUME)
    with tab(browser, site, "leader") as opened:
        page = opened.open(f"/leader/residents/{person.resident_no}")
        status = page.locator("#plan-status")
        assert "要見直し" in status.inner_text() and f"本人の情報: 移動 {before or '（なし）'} → {after}" in status.inner_text()
        check_page(opened)
        page = opened.open("/leader?status=要見直し")
        assert person.resident_no in listed(opened)
        item = page.locator("ol.residents > li", has=page.get_by_role("link", name=person.name))
        assert "要見直し" in item.inner_text() and "見直しの時期" in item.inner_text()


def test_a_new_supporter_is_registered_only_with_consent(browser: Any, site: Site) -> None:  # noqa: F811
    person = unused(site, TAKEN)
    start = last_audit_id(site.store)
    with tab(browser, site, "leader") as opened:
        page = opened.open(f"/leader/residents/{person.resident_no}")
        page.get_by_text("新しい支援者を登録する").click()
        page.get_by_label("主な支援者【主】").select_option("new")
        page.get_by_label("氏名", exact=True).fill("隣の田中さん")
        page.get_by_label("電話番号").fill("0942-00-0000")
        page.get_by_role("button", name="下書きとして保存").click()
        page.wait_for_load_state()
        consent = page.get_by_label("支援者本人が、名簿の情報を受け取ることに同意しました")
        assert consent.get_attribute("aria-invalid") == "true"
        assert page.get_by_label("氏名", exact=True).input_value() == "隣の田中さん"  # what was typed stays
        assert page.get_by_label("主な支援者【主】").input_value() == "new"
        check_page(opened)
        with site.store.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Supporter).where(Supporter.name == "隣の田中さん")) == 0
        consent.check()
        page.get_by_label("同意をもらった日").fill("2026-01-10")
        page.get_by_role("button", name="下書きとして保存").click()
        page.wait_for_load_state()
        assert "?saved=1" in page.url
        primary = page.get_by_label("主な支援者【主】")
        assert "隣の田中さん" in primary.locator("option:checked").inner_text()
    with site.store.sessions() as session:
        supporter = session.scalars(select(Supporter).where(Supporter.name == "隣の田中さん")).one()
        linked = session.scalar(select(Resident.resident_no).join(resident_supporter).where(
            resident_supporter.c.supporter_id == supporter.id))
    assert supporter.consent and supporter.consent_date == dt.date(2026, 1, 10) and linked == person.resident_no
    assert plan_of(site, person.resident_no).content["supporter_primary"] == supporter.supporter_no
    added = [e for e in audit_after(site.store, start) if e.action == "supporter.add"]
    assert [(e.actor, e.resident_ids, e.details["supporter_no"]) for e in added] == [
        ("leader", [person.resident_no], supporter.supporter_no)]


def test_disaster_mode_shows_the_non_consenting_residents_then_hides_them(browser: Any, site: Site) -> None:  # noqa: F811
    hidden = site.people.inside_no
    admin = api(site, "city_admin")
    with tab(browser, site, "leader") as opened:
        opened.open("/leader")
        assert hidden.resident_no not in listed(opened) and hidden.name not in opened.page.content()
        ends = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
        declared = admin.post("/disaster-mode", json={"reason": "大雨特別警報（テスト）", "districts": [site.people.home],
                                                      "ends_at": ends})
        assert declared.status_code in (200, 201), declared.text
        try:
            page = opened.open("/leader")
            assert page.get_by_role("alert").first.is_visible()
            assert hidden.resident_no in listed(opened)
            item = page.locator("ol.residents > li", has=page.get_by_role("link", name=hidden.name))
            assert "同意なし" in item.inner_text()
            page = opened.open(f"/leader/residents/{hidden.resident_no}")
            assert page.get_by_text(hidden.name, exact=True).first.is_visible()
            check_page(opened)
        finally:
            assert admin.post(f"/disaster-mode/{declared.json()['id']}/end").status_code == 200
        opened.open("/leader")
        assert hidden.resident_no not in listed(opened) and hidden.name not in opened.page.content()
        answer = opened.open(f"/leader/residents/{hidden.resident_no}")
        assert hidden.name not in answer.content() and "見られる範囲にいません" in answer.content()


def test_bulk_print_is_a_job_with_a_progress_bar_and_a_zip(browser: Any, site: Site) -> None:  # noqa: F811
    with site.store.sessions() as session:
        consenting = set(session.scalars(select(Resident.resident_no).join(District).where(
            District.name == site.people.home, Resident.consent_share.is_(True), Resident.consent_plan.is_(True))))
    with tab(browser, site, "leader") as opened:
        page = opened.open("/leader")
        page.get_by_role("link", name="マイプランの一括印刷").click()
        page.wait_for_load_state()
        check_page(opened)
        screenshot(opened, "leader-print")
        page.get_by_role("button", name="作り始める").click()
        page.wait_for_url("**/jobs/*")
        assert page.locator("progress").count() == 1
        page.get_by_role("link", name="最新の状態を表示する").wait_for(timeout=600_000)  # the page follows the job
        assert page.locator("progress").get_attribute("value") == "100"
        page.get_by_role("link", name="最新の状態を表示する").click()
        page.wait_for_load_state()
        with page.expect_download() as download:
            page.get_by_role("link", name="結果をダウンロード", exact=False).click()
        with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
            pdfs = {name for name in archive.namelist() if name.endswith(".pdf")}
    assert pdfs == {plan_file(number) for number in consenting}


def test_the_map_page_opens_the_leader_view_of_the_district(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site, "leader") as opened:
        page = opened.open("/leader/map")
        check_page(opened)
        screenshot(opened, "leader-map")
        page.get_by_role("link", name=f"{site.people.home}の地図を開く").click()
        page.wait_for_load_state()
        assert unquote(page.url) == f"{site.url}/api/v1/maps/districts/{site.people.home}"
        assert page.locator("#map, .leaflet-container").count() >= 1


def test_a_resident_named_like_a_script_is_text_on_every_page(browser: Any, site: Site) -> None:  # noqa: F811
    person = unused(site, TAKEN)
    with site.store.sessions() as session, session.begin():
        session.execute(update(Resident).where(Resident.resident_no == person.resident_no).values(name=SCRIPT_NAME))
    try:
        with tab(browser, site, "leader") as opened:
            dialogs: list[str] = []
            opened.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page = opened.page

            def shows_the_name_as_text() -> None:
                assert page.get_by_text(SCRIPT_NAME).first.is_visible(), page.url
                assert page.locator("img[src=x]").count() == 0 and dialogs == []
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

            opened.open("/leader")
            page.get_by_label("名前・ふりがな・名簿番号で探す").fill(person.resident_no)
            page.get_by_role("button", name="探す", exact=True).click()
            page.wait_for_load_state()
            shows_the_name_as_text()
            opened.open("/leader")
            if person.resident_no in listed(opened):
                shows_the_name_as_text()
            opened.open(f"/leader/residents/{person.resident_no}")
            shows_the_name_as_text()
            page.get_by_label("次の見直し日").fill("2020-01-01")
            page.get_by_label("計画作成の同意日").fill("2026-01-01")
            page.get_by_role("button", name="下書きとして保存").click()  # refused: the form again (422)
            page.wait_for_load_state()
            assert page.get_by_text("同意日より後の日にしてください").is_visible()
            shows_the_name_as_text()
            opened.open(f"/leader/residents/{person.resident_no}/history")
            shows_the_name_as_text()
            for path in ("/leader/print", "/leader/map"):
                opened.open(path)
                assert page.locator("img[src=x]").count() == 0 and dialogs == []
    finally:
        with site.store.sessions() as session, session.begin():
            session.execute(update(Resident).where(Resident.resident_no == person.resident_no).values(name=person.name))


def test_a_care_professional_sees_only_the_residents_assigned_to_them(browser: Any, site: Site) -> None:  # noqa: F811
    with site.store.sessions() as session:
        from disaster.models import CareProfessional

        assigned = set(session.scalars(select(Resident.resident_no).join(CareProfessional).where(
            CareProfessional.name == site.people.professional)))
    with tab(browser, site, "care_professional") as opened:
        assert opened.page.url == site.url + "/leader"
        assert 0 < len(assigned) <= 50 and set(listed(opened)) == assigned
        check_page(opened)
        assert opened.page.get_by_role("link", name="マイプランの一括印刷").count() == 0


def test_city_staff_get_the_same_list_for_every_district(browser: Any, site: Site) -> None:  # noqa: F811
    with site.store.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Resident).where(Resident.city_code == KURUME))
        away = session.scalar(select(func.count()).select_from(Resident).join(District).where(
            District.name == site.people.away))
    with tab(browser, site, "city_staff") as opened:
        page = opened.open("/leader")
        assert tally(opened)["人（全員）"] == total
        check_page(opened)
        page.get_by_text("条件で絞り込む").click()
        page.get_by_label("校区").select_option(site.people.away)
        page.get_by_role("button", name="この条件で表示").click()
        page.wait_for_load_state()
        assert tally(opened)["人（全員）"] == away
        assert len(listed(opened)) == min(away, 50)
        check_page(opened)
