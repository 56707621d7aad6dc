"""The trainer's pages in Chromium, end to end: record a 図上訓練 session and the 年度 total the
city reports changes; findings (課題 / 対応 / 担当 / 期限 / status) on the board, updated, closed
and reopened, two people updating one finding; an exercise pack made by a job, downloaded and its
exercise map opened; a form keeps what was typed and says what to fix; a trainer sees no one's
identity (a finding points at a pseudonymised person); text that looks like a script stays text.
Every page passes ``check_page`` at 768×1024 (and the record form in landscape too)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from disaster.access import Principal
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import ExerciseFinding, Job, Resident
from disaster.usecases import exercises
from tests.conftest import KURUME
from tests.jobs_fixtures import small_district
from tests.pages_fixtures import TABLET_LANDSCAPE, Site, Tab, api, check_page, screenshot, site, tab  # noqa: F401  (fixture)
from tests.web_fixtures import PASSWORD, audit_after, last_audit_id, web_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the pages, not the database

SCRIPT = "<img src=x onerror=alert(1)>"


def _report(site: Site, login: str = "city_staff") -> dict[str, Any]:  # noqa: F811
    with closing(api(site, login)) as client:
        answer = client.get("/exercises/report")
        answer.raise_for_status()
        return dict(answer.json())


def _people(site: Site, district: str) -> list[Any]:  # noqa: F811
    return exercises.pseudonymised_people(site.store.sessions, Principal.cli(KURUME), district, ExerciseHazard.FLOOD)


def _record(site: Site, login: str, district: str, facilitator: str, **extra: Any) -> int:  # noqa: F811
    body = {"district": district, "held_on": dt.date.today().isoformat(), "hazard": "flood",
            "facilitator": facilitator, "participants": {"住民": 7}} | extra
    with closing(api(site, login)) as client:
        answer = client.post("/exercises/sessions", json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def _findings_of(site: Site, session_id: int) -> list[ExerciseFinding]:  # noqa: F811
    with site.store.sessions() as session:
        return list(session.scalars(select(ExerciseFinding).where(ExerciseFinding.session_id == session_id)
                                    .order_by(ExerciseFinding.id)))


def _check(opened: Tab) -> None:
    """``check_page`` on the whole page: from its top, so that nothing it measures is scrolled out above."""
    opened.page.evaluate("window.scrollTo(0, 0)")
    check_page(opened)


def _dialogs(opened: Tab) -> list[str]:
    seen: list[str] = []
    opened.page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


@pytest.fixture
def scripted(site: Site) -> Iterator[tuple[str, str]]:  # noqa: F811
    """The highest-priority person of the home 校区's pseudonymised list renamed like a script;
    yields (their 名簿番号, the real name put back afterwards)."""
    person = _people(site, site.people.home)[0]
    with site.store.sessions() as session, session.begin():
        number, name = session.execute(select(Resident.resident_no, Resident.name)
                                       .where(Resident.id == person.resident_id)).one()
        session.execute(update(Resident).where(Resident.id == person.resident_id).values(name=SCRIPT))
    yield number, name
    with site.store.sessions() as session, session.begin():
        session.execute(update(Resident).where(Resident.id == person.resident_id).values(name=name))


# --- the KPI workflow: a session recorded on the page counts in the city's 年度 total ---

def test_a_trainer_records_a_session_and_the_year_total_the_city_reports_changes(browser: Any, site: Site) -> None:  # noqa: F811
    home = site.people.home
    before = _report(site)
    person = _people(site, home)[0]
    start = last_audit_id(site.store)
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        assert f"{before['participants']:,}人" in page.locator("#year-title + .counts").inner_text()
        _check(opened)
        page.get_by_role("link", name="訓練の実施記録をつける").click()
        page.get_by_label("校区", exact=True).select_option(home)
        page.get_by_label("洪水（川の氾濫）").check()
        page.get_by_role("button", name="次へ").click()
        assert home in page.locator(".chosen").inner_text()
        page.get_by_label("進行役").fill("社協 山田")
        page.get_by_label("住民", exact=True).fill("18")
        page.get_by_label("民生委員", exact=True).fill("６")  # full-width digits, as a Japanese keyboard may type them
        assert page.locator("[data-total-value]").inner_text() == "24"  # the script's running total
        page.get_by_role("group", name=re.compile("^総合評価")).get_by_label("4", exact=True).check()
        page.get_by_label("よかった点").fill("地図で危ない場所がわかった")
        first = page.get_by_role("group", name="課題 1")
        first.get_by_label("課題", exact=True).fill("夜間に支援者がいない")
        first.get_by_label("対応（何をするか）").fill("2人目の支援者を探す")
        first.get_by_label("担当").fill("民生委員")
        first.get_by_label("期限").fill("2027-03-31")
        choice = first.get_by_label("関わる方（いれば）")
        choice.select_option(str(person.resident_id))
        assert person.label in choice.locator("option:checked").inner_text()
        _check(opened)
        page.evaluate("document.activeElement.blur()")
        screenshot(opened, "trainer-session")
        page.set_viewport_size(TABLET_LANDSCAPE)
        _check(opened)
        page.get_by_role("button", name="記録する", exact=True).last.click()
        page.wait_for_url(re.compile(r"/trainer/sessions/\d+\?saved=1$"))
        session_id = int(page.url.rsplit("/", 1)[1].split("?")[0])
        done = page.get_by_role("status").first.inner_text()
        assert "記録しました" in done and f"合計 {before['participants'] + 24:,}人" in done
        assert "夜間に支援者がいない" in page.locator("#findings").inner_text()
        _check(opened)
        screenshot(opened, "trainer-session-saved")
        after = _report(site)
        assert after["participants"] == before["participants"] + 24 and after["sessions"] == before["sessions"] + 1
        assert after["by_district"].get(home, 0) == before["by_district"].get(home, 0) + 24
        (finding,) = _findings_of(site, session_id)
        assert (finding.issue, finding.owner, finding.due, finding.status, finding.resident_id) == (
            "夜間に支援者がいない", "民生委員", dt.date(2027, 3, 31), "未着手", person.resident_id)
        recorded = [e for e in audit_after(site.store, start) if e.action == "exercise.record"]
        assert [(e.actor, e.resident_ids, e.details["pseudonymised_residents"]) for e in recorded] == [
            ("trainer", [], [person.resident_id])]
        # a count corrected afterwards: the total follows, the finding stays
        page.get_by_role("link", name=re.compile("記録を直す")).click()
        assert page.get_by_label("住民", exact=True).input_value() == "18"
        page.get_by_label("住民", exact=True).fill("20")
        _check(opened)
        page.get_by_role("button", name="保存する").click()
        page.wait_for_url(re.compile(rf"/trainer/sessions/{session_id}\?edited=1$"))
        assert f"合計 {before['participants'] + 26:,}人" in page.get_by_role("status").first.inner_text()
        assert _report(site)["participants"] == before["participants"] + 26 and len(_findings_of(site, session_id)) == 1
        # recorded by mistake: removed from the page (it asks first), and the 年度 total falls back
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="この記録を取り消す").click()
        page.wait_for_url(re.compile(r"/trainer/sessions\?deleted=1$"))
        assert "取り消しました" in page.get_by_role("status").first.inner_text()
        _check(opened)
    assert _report(site)["participants"] == before["participants"] and _findings_of(site, session_id) == []


# --- forms keep what was typed and say what to fix ---

def test_the_record_form_keeps_the_input_and_says_next_to_each_field_what_to_fix(browser: Any, site: Site) -> None:  # noqa: F811
    home = site.people.home
    before = _report(site)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        opened.open(f"/trainer/sessions/new?district={home}&hazard=inland")
        page.get_by_label("実施日").fill(tomorrow)
        page.get_by_label("住民", exact=True).fill("たくさん")
        page.get_by_label("進行役").fill("社協 山田")
        first = page.get_by_role("group", name="課題 1")
        first.get_by_label("担当").fill("自治会長")  # a finding without its 課題
        page.get_by_role("button", name="課題の欄を増やす").click()  # more rows: nothing is checked or saved yet
        assert page.get_by_role("group", name="課題 6").count() == 1 and page.get_by_role("alert").count() == 0
        assert page.get_by_label("進行役").input_value() == "社協 山田"
        page.get_by_label("進行役").press("Enter")  # Enter records (the form's default button), it adds no rows
        page.wait_for_load_state()
        assert page.get_by_role("group", name="課題 7").count() == 0
        summary = page.get_by_role("alert").inner_text()
        assert "3か所" in summary, summary
        for label, problem in (("実施日", "先の日付"), ("住民", "整数")):
            field = page.get_by_label(label, exact=True)
            assert field.get_attribute("aria-invalid") == "true"
            described = field.get_attribute("aria-describedby") or ""
            assert problem in page.locator(f"#{described.split()[0]}").inner_text()
        issue = page.get_by_role("group", name="課題 1").get_by_label("課題", exact=True)
        assert issue.get_attribute("aria-invalid") == "true"
        assert page.get_by_role("group", name="課題 1").get_by_label("担当").input_value() == "自治会長"
        assert page.get_by_label("住民", exact=True).input_value() == "たくさん"
        assert page.get_by_label("実施日").input_value() == tomorrow
        _check(opened)
    assert _report(site)["participants"] == before["participants"]


def test_the_same_session_is_not_recorded_twice_from_the_page(browser: Any, site: Site) -> None:  # noqa: F811
    home = site.people.home
    recorded = _record(site, "trainer", home, "二重記録の確認", findings=[{"issue": "進捗のある課題", "status": "対応中"}])
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        opened.open(f"/trainer/sessions/new?district={home}&hazard=flood")
        page.get_by_label("進行役").fill("二重記録の確認")
        page.get_by_label("住民", exact=True).fill("3")
        page.get_by_role("button", name="記録する", exact=True).last.click()
        assert "すでにあります" in page.get_by_role("alert").inner_text()
        page.get_by_role("link", name="すでにある記録を開く").click()
        assert page.url.endswith(f"/trainer/sessions/{recorded}")
    assert [f.status for f in _findings_of(site, recorded)] == ["対応中"]  # the findings' progress is kept
    with closing(api(site, "trainer")) as client:
        client.delete(f"/exercises/sessions/{recorded}")


def test_a_pack_form_with_a_bad_value_keeps_the_rest(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        opened.open("/trainer/packs/new")
        assert page.get_by_text("名簿の氏名を使う").count() == 0  # a trainer makes no closed session's pack
        _check(opened)
        page.get_by_label("校区", exact=True).select_option(site.people.away)
        page.get_by_label("土砂災害").check()
        page.get_by_label("シナリオの番号").fill("三")
        page.get_by_role("button", name="教材を作る").click()
        field = page.get_by_label("シナリオの番号")
        assert field.get_attribute("aria-invalid") == "true" and field.input_value() == "三"
        assert "0 以上の整数" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("校区", exact=True).input_value() == site.people.away
        assert page.get_by_label("土砂災害").is_checked()
        _check(opened)


# --- the findings board ---

def test_the_findings_board_shows_open_work_first_and_closes_and_reopens_items(browser: Any, site: Site) -> None:  # noqa: F811
    today = dt.date.today()
    recorded = _record(site, "city_staff", site.people.away, "課題一覧の確認", findings=[
        {"issue": "期限の過ぎた課題", "action": "連絡網を作る", "owner": "自治会", "due": (today - dt.timedelta(days=3)).isoformat()},
        {"issue": "期限のない課題"},
        {"issue": "終わった課題", "status": "完了"}])
    late, open_, closed = _findings_of(site, recorded)
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        opened.open(f"/trainer/findings?district={site.people.away}")
        cards = page.locator("article.finding")
        titles = cards.locator(".issue").all_inner_texts()
        assert titles.index("期限の過ぎた課題") < titles.index("期限のない課題") and "終わった課題" not in titles
        card = page.locator(f"#finding-{late.id}")
        text = card.inner_text()
        for words in ("未着手", "期限切れ", "連絡網を作る", "自治会", "期限"):
            assert words in text, (words, text)
        _check(opened)
        screenshot(opened, "trainer-findings")
        card.get_by_role("button", name="完了にする").click()
        page.wait_for_load_state()
        assert "「期限の過ぎた課題」を「完了」にしました" in page.get_by_role("status").first.inner_text()
        assert page.locator(f"#finding-{late.id}").count() == 0  # no longer open work
        _check(opened)
        page.get_by_role("button", name="元に戻す（対応中にする）").click()
        page.wait_for_load_state()
        assert "対応中" in page.locator(f"#finding-{late.id} .finding-head").inner_text()
        page.get_by_role("link", name=re.compile("^完了 ")).click()
        assert page.locator(f"#finding-{closed.id}").count() == 1 and page.locator(f"#finding-{open_.id}").count() == 0
        # the content: 対応, 担当 and 期限 changed on the finding's page, back to the board
        opened.open(f"/trainer/findings?district={site.people.away}")
        page.locator(f"#finding-{open_.id}").get_by_role("link", name="内容を直す").click()
        _check(opened)
        page.get_by_label("対応（何をするか）").fill("集会所に鍵箱をつける")
        page.get_by_label("担当").fill("公民館長")
        page.get_by_label("期限").fill("2027-01-31")
        page.get_by_label("対応中").check()
        page.get_by_role("button", name="保存する").click()
        page.wait_for_url(re.compile(r"/trainer/findings\?"))
        updated = page.locator(f"#finding-{open_.id}").inner_text()
        assert "集会所に鍵箱をつける" in updated and "公民館長" in updated and "令和9年1月31日" in updated
    states = {f.id: (f.status, f.owner) for f in _findings_of(site, recorded)}
    assert states == {late.id: ("対応中", "自治会"), open_.id: ("対応中", "公民館長"), closed.id: ("完了", None)}
    with closing(api(site, "city_staff")) as client:
        client.delete(f"/exercises/sessions/{recorded}")


def test_two_people_updating_one_finding_lose_nothing(browser: Any, site: Site) -> None:  # noqa: F811
    recorded = _record(site, "trainer", site.people.home, "同時更新の確認", findings=[{"issue": "避難所の鍵"}])
    (finding,) = _findings_of(site, recorded)
    with tab(browser, site, "trainer") as first, tab(browser, site, "city_staff") as second:
        first.open(f"/trainer/findings/{finding.id}")
        second.open(f"/trainer/findings/{finding.id}")
        first.page.get_by_label("担当").fill("自治会長")
        first.page.get_by_role("button", name="保存する").click()
        first.page.wait_for_url(re.compile(r"/trainer/findings\?"))
        second.page.get_by_label("担当").fill("公民館長")
        second.page.get_by_label("完了").check()
        second.page.get_by_role("button", name="保存する").click()
        alert = second.page.get_by_role("alert").first.inner_text()
        assert "ほかの人が更新しました" in alert and "自治会長" in alert  # what the other saved
        assert second.page.get_by_label("担当").input_value() == "公民館長"  # what this user typed
        assert second.page.get_by_label("完了").is_checked()
        _check(second)
        assert [(f.owner, f.status) for f in _findings_of(site, recorded)] == [("自治会長", "未着手")]
        second.page.get_by_role("button", name="保存する").click()  # knowingly: this user's input wins
        second.page.wait_for_url(re.compile(r"/trainer/findings\?"))
    assert [(f.owner, f.status) for f in _findings_of(site, recorded)] == [("公民館長", "完了")]
    with closing(api(site, "trainer")) as client:
        client.delete(f"/exercises/sessions/{recorded}")


# --- who sees whom ---

def test_a_trainer_sees_no_one_s_identity_and_a_leader_sees_her_residents_number(browser: Any, site: Site) -> None:  # noqa: F811
    home, resident = site.people.home, site.people.inside_yes
    recorded = _record(site, "city_staff", home, "仮名の確認",
                       findings=[{"issue": "この方の避難先を確かめる", "resident_no": resident.resident_no}])
    (finding,) = _findings_of(site, recorded)
    for login, shows_number in (("trainer", False), ("leader", True), ("city_staff", True)):
        start = last_audit_id(site.store)
        with tab(browser, site, login) as opened:
            opened.open(f"/trainer/sessions/{recorded}")
            card = opened.page.locator(f"#finding-{finding.id}").inner_text()
            assert "関わる方" in card  # who, in words (80代・車いす…), never by name
            assert (resident.resident_no in card) == shows_number, login
            body = opened.page.content()
            assert resident.name not in body and (not resident.address or resident.address not in body)
            opened.open(f"/trainer/sessions/new?district={home}&hazard=flood")
            options = opened.page.locator("select[name='f0-person'] option").all_inner_texts()
            assert len(options) == len(_people(site, home)) + 1 and all("さん（" in o for o in options[1:])
            assert not any(p.name in " ".join(options) for p in site.people.everyone if p.district == home)
        reads = [e for e in audit_after(site.store, start)
                 if e.action == "exercise.read" and e.actor == login and e.details.get("session") == recorded]
        assert [e.resident_ids for e in reads] == [[resident.resident_no] if shows_number else []], login
    with closing(api(site, "city_staff")) as client:
        client.delete(f"/exercises/sessions/{recorded}")


def test_a_leader_records_only_for_her_own_district(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site, "leader") as opened:
        opened.open("/trainer/sessions/new")
        options = opened.page.get_by_label("校区", exact=True).locator("option").all_inner_texts()
        assert options[1:] == [site.people.home]
        _check(opened)
        opened.open(f"/trainer/findings?district={site.people.away}")
        assert "権限がありません" in opened.page.get_by_role("alert").inner_text()
    with httpx.Client(base_url=site.url) as client:
        csrf = client.post("/api/v1/auth/login", json={"login": "leader", "password": PASSWORD}).json()["csrf_token"]
        refused = client.post("/trainer/sessions", data={"csrf_token": csrf, "district": site.people.away, "hazard": "flood",
                                                         "held_on": "2026-06-14", "p3": "5"})
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]


# --- an exercise pack: a job with a progress bar, the ZIP, the exercise map ---

def test_a_trainer_makes_a_pack_downloads_it_and_opens_the_exercise_map(browser: Any, site: Site) -> None:  # noqa: F811
    district = small_district(site.people)
    with tab(browser, site, "trainer") as opened:
        page = opened.page
        opened.open("/trainer")
        page.get_by_role("link", name="訓練の教材を作る").click()
        page.get_by_label("校区", exact=True).select_option(district)
        page.get_by_label("洪水（川の氾濫）").check()
        page.get_by_label("日付").fill("2026-08-20")
        page.get_by_label("開始時刻").fill("19:30")
        page.get_by_label("むずかしい").check()
        page.get_by_label("シナリオの番号").fill("7")
        page.get_by_role("button", name="教材を作る").click()
        page.wait_for_url(re.compile(r"/trainer/packs/\d+$"))
        job_id = int(page.url.rsplit("/", 1)[1])
        assert "令和8年8月20日（木） 19:30" in page.locator("dl.facts").inner_text()
        assert page.locator("progress").count() == 1
        _check(opened)
        page.locator("[data-job-done]:not([hidden])").wait_for(timeout=600_000)  # the script follows the job
        page.locator("[data-job-done] a").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="教材ができました").count() == 1, page.locator("main").inner_text()
        _check(opened)
        screenshot(opened, "trainer-pack")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("ZIP をダウンロード")).click()
        with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
            names = set(archive.namelist())
            scenario = archive.read("scenario.json").decode("utf-8")
        assert {"scenario.json", "facilitator_guide.pdf", "dig_map.pdf", "exercise_map.html"} <= names
        assert '"seed": 7' in scenario and '"difficulty": 3' in scenario and "2026-08-20T19:30" in scenario
        with page.context.expect_page() as opened_map:
            page.get_by_role("link", name=re.compile("状況付与の地図を開く")).click()
        map_page = opened_map.value
        map_page.wait_for_load_state("domcontentloaded")
        map_page.wait_for_function("typeof window.L === 'object'")
        assert map_page.url.endswith(f"/trainer/packs/{job_id}/map")
        assert map_page.evaluate("window.__violations") == []
        assert district in map_page.content()


# --- text like a script is text, on every page of the area ---

def _stored_pack(site: Site, district: str) -> int:  # noqa: F811
    """A finished pack of the trainer's, written straight into the job table (its ZIP holds a small map)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("exercise_map.html", "<!doctype html><title>map</title>")
    data = archive.getvalue()
    parameters = {"district": district, "hazard": "flood", "start": "2026-07-08T18:00:00", "duration": 2,
                  "difficulty": 2, "seed": 1, "closed_session": False, "monochrome": False, "dig_size": "A1"}
    with site.store.sessions() as session, session.begin():
        job = Job(city_code=KURUME, kind="exercise_pack", parameters=parameters, state="succeeded", progress=100,
                  message="完了しました", created_by="trainer", creator_role="trainer", created_at=dt.datetime.now(dt.UTC),
                  cancel_requested=False, result=data, result_name="pack.zip", result_type="application/zip",
                  result_size=len(data), result_residents=[])
        session.add(job)
        session.flush()
        return int(job.id)


def test_a_name_or_text_like_a_script_shows_as_text_on_every_trainer_page(
        browser: Any, site: Site, scripted: tuple[str, str]) -> None:  # noqa: F811
    home = site.people.home
    person = _people(site, home)[0]  # the one now named like a script
    recorded = _record(site, "city_staff", home, SCRIPT, strengths=SCRIPT,
                       findings=[{"issue": SCRIPT, "action": SCRIPT, "owner": SCRIPT}])
    with closing(api(site, "trainer")) as client:  # a finding pointing at the person named like a script
        answer = client.post(f"/exercises/sessions/{recorded}/findings", json={"issue": "この方の支援者"})
        assert answer.status_code == 201
    exercises.add_finding(site.store.sessions, Principal.cli(KURUME), recorded,
                          {"issue": "仮名の方の課題", "resident_id": person.resident_id})
    finding = _findings_of(site, recorded)[0]
    shown = lambda page: page.locator("main").inner_text()  # noqa: E731
    expect = {  # where the text typed like a script must show, as text
        f"/trainer/sessions/{recorded}": shown, "/trainer/findings": shown,
        f"/trainer/sessions/{recorded}/edit": lambda page: page.get_by_label("よかった点").input_value(),
        f"/trainer/findings/{finding.id}": lambda page: page.get_by_label("課題", exact=True).input_value(),
        "/trainer": shown, "/trainer/sessions": shown, f"/trainer/sessions/new?district={home}&hazard=flood": None,
        "/trainer/packs/new": None, f"/trainer/packs/{_stored_pack(site, home)}": None,
    }
    for login in ("trainer", "city_staff"):
        with tab(browser, site, login) as opened:
            dialogs = _dialogs(opened)
            for path, text in expect.items():
                if path.startswith("/trainer/packs/") and path != "/trainer/packs/new" and login != "trainer":
                    continue  # the trainer's own pack
                opened.open(path)
                page = opened.page
                assert page.locator("img[src='x']").count() == 0, path
                if text is None:  # nothing typed shows here, and no name: not even the one like a script
                    assert SCRIPT not in page.locator("main").inner_text(), path
                else:
                    assert SCRIPT in text(page), path
                _check(opened)
            assert dialogs == []
    with tab(browser, site, "trainer") as opened:  # the pseudonymised list names no one
        opened.open(f"/trainer/sessions/new?district={home}&hazard=flood")
        options = opened.page.locator("select[name='f0-person'] option").all_inner_texts()
        assert any(o.startswith(person.label) for o in options) and SCRIPT not in " ".join(options)
    with closing(api(site, "city_staff")) as client:
        client.delete(f"/exercises/sessions/{recorded}")


def test_audit_entries_of_the_pages_name_only_what_the_page_showed(site: Site) -> None:  # noqa: F811
    start = last_audit_id(site.store)
    with httpx.Client(base_url=site.url) as client:
        client.post("/api/v1/auth/login", json={"login": "trainer", "password": PASSWORD})
        assert client.get("/trainer/findings", params={"status": "all"}).status_code == 200
    entries = [e for e in audit_after(site.store, start) if e.actor == "trainer" and e.action == "exercise.read"]
    assert len(entries) == 1 and entries[0].resident_ids == [] and entries[0].details["status"] == "all"
