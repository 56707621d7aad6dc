"""安否確認 and the public pages in Chromium (issue 13 §4, §5), on the demo city under a real uvicorn.

Workflows end to end: two leaders report on the same person under 災害時モード from two browsers
and neither report is lost (the later one is the status; the stale form is told what changed);
the list puts who needs someone first and its counts match the API's; a report with a problem
keeps what was typed and says what to fix; the map and the shelters (city staff report a count);
the Excel and CSV downloads for the 災害対策本部; a training started afresh; the public pages
without login (aggregate figures, small numbers withheld, the maps and their assets). Every page
passes ``check_page`` at 768×1024; a resident named like a script shows as text everywhere."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from disaster.access import Principal
from disaster.models import District, Resident
from disaster.usecases.users import add_user
from tests.conftest import KURUME
from tests.pages_fixtures import TABLET_LANDSCAPE, Site, Tab, api, check_page, screenshot, site, tab  # noqa: F401
from tests.web_fixtures import PASSWORD, audit_after, last_audit_id, web_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the pages; the database: test_pages_safety_store

XSS = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("https://example.com/","開く")'
ORDER = ["要救助", "未確認", "連絡不通", "不在", "避難済", "無事・在宅"]


@pytest.fixture(scope="module")
def town(site: Site) -> dict[str, Any]:  # noqa: F811
    """A second leader of the home 校区; a resident named like a script and one like a formula."""
    people = site.people
    add_user(site.store.sessions, Principal.cli(KURUME), "leader2", "leader", PASSWORD, districts=[people.home])
    consenting = [p for p in people.everyone if p.district == people.home and p.consent_share and p != people.inside_yes]
    formula = consenting[0]
    with site.store.sessions() as session, session.begin():
        session.execute(update(Resident).where(Resident.resident_no == people.inside_yes.resident_no).values(name=XSS))
        session.execute(update(Resident).where(Resident.resident_no == formula.resident_no).values(name=FORMULA))
    return {"xss": people.inside_yes, "formula": formula, "consenting": consenting}


@contextmanager
def disaster_mode(site: Site) -> Iterator[int]:  # noqa: F811
    """災害時モード declared for the home 校区 by the city administrator (through the API), ended after."""
    admin = api(site, "city_admin")
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    answer = admin.post("/disaster-mode", json={"reason": "筑後川の氾濫のおそれ（避難指示）", "districts": [site.people.home],
                                                "ends_at": ends})
    assert answer.status_code == 201, answer.text
    try:
        yield answer.json()["id"]
    finally:
        assert admin.post(f"/disaster-mode/{answer.json()['id']}/end").status_code == 200


@contextmanager
def real_names(site: Site, town: dict[str, Any]) -> Iterator[None]:  # noqa: F811
    """The residents renamed by the module (like a script, like a formula) with their own names
    back for a while (the README's screenshot)."""
    def name(person: Any, value: str) -> None:
        with site.store.sessions() as session, session.begin():
            session.execute(update(Resident).where(Resident.resident_no == person.resident_no).values(name=value))
    for person in (town["xss"], town["formula"]):
        name(person, person.name)
    try:
        yield
    finally:
        name(town["xss"], XSS)
        name(town["formula"], FORMULA)


def tablet_shot(opened: Tab, name: str, height: int = 1800) -> None:
    """Like ``screenshot``, but the top ``height`` px of the page only (a list of 60 people is
    9,000 px long; the README shows its top: the counts and the first rows)."""
    folder = os.environ.get("DISASTER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tall = int(opened.page.evaluate("document.documentElement.scrollHeight"))
        opened.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True,
                               clip={"x": 0, "y": 0, "width": opened.page.viewport_size["width"], "height": min(height, tall)})


def statuses_of(opened: Tab) -> list[str]:
    return [s.strip() for s in opened.page.locator("table.safety-list tbody td:first-child .status").all_inner_texts()]


def watch_dialogs(opened: Tab) -> list[str]:
    seen: list[str] = []
    opened.page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def test_two_leaders_report_on_the_same_person_and_no_report_is_lost(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    person = site.people.inside_no  # did not consent to sharing: in the leaders' view only under 災害時モード
    path = f"/safety/residents/{person.resident_no}"
    start = last_audit_id(site.store)
    with disaster_mode(site) as mode, tab(browser, site, "leader") as first, tab(browser, site, "leader2") as second:
        for opened in (first, second):
            opened.open(path)
            assert opened.page.locator(".current .status").inner_text() == "未確認"
        # the first leader reports 要救助 while the second one's form is still open
        first.page.locator("#status-rescue").check()
        first.page.get_by_label("メモ", exact=True).fill("1階が浸水。2階に取り残されている")
        first.page.get_by_role("button", name="記録する").click()
        first.page.wait_for_load_state()
        assert "記録しました：要救助" in first.page.locator(".saved").inner_text()
        assert first.page.locator(".conflict").count() == 0
        check_page(first)
        # the second leader reports from the stale form: saved too, and told what changed
        second.page.locator("#status-safe").check()
        second.page.get_by_role("button", name="記録する").click()
        second.page.wait_for_load_state()
        conflict = second.page.locator(".conflict")
        told = conflict.inner_text()
        assert "ほかの人も記録していました" in told and "要救助" in told and "1階が浸水" in told and "leader（" in told
        assert "いまの状態は 無事・在宅" in told
        check_page(second)
        screenshot(second, "safety-conflict")
        history = second.page.locator("table.history tbody tr").all_inner_texts()
        assert len(history) == 2 and "無事・在宅" in history[0] and "leader2" in history[0]
        assert "要救助" in history[1] and "1階が浸水" in history[1]
        # the first leader's page now shows the later report as the status, both in the history
        first.open(path)
        assert first.page.locator(".current .status").inner_text() == "無事・在宅"
        assert len(first.page.locator("table.history tbody tr").all()) == 2
        # the list (under 災害時モード, the non-consenting too), with a few more reports for the screenshot
        reporter = api(site, "leader")
        others = [p for p in site.people.everyone if p.district == site.people.home
                  and p not in (person, town["xss"], town["formula"])][:5]
        for other, body in zip(others, [{"status": "要救助", "note": "酸素の残りが少ない"}, {"status": "避難済", "place": "長女の家"},
                                        {"status": "連絡不通"}, {"status": "無事・在宅"}, {"status": "不在"}], strict=True):
            assert reporter.post(f"/safety/residents/{other.resident_no}", json=body).status_code == 201
        first.open("/safety")
        row = first.page.locator("table.safety-list tbody tr").filter(has=first.page.get_by_role("link", name=person.name, exact=True))
        assert row.locator(".status").inner_text() == "無事・在宅"
        shown = statuses_of(first)
        assert [ORDER.index(s) for s in shown] == sorted(ORDER.index(s) for s in shown)
        assert "災害時モード" in first.page.locator(".round").inner_text()
        check_page(first)
        with real_names(site, town):
            first.page.reload()
            tablet_shot(first, "safety-list")
    with tab(browser, site, "leader") as after:  # the mode is over: the person is out of her view again
        answer = after.page.goto(site.url + path)
        assert answer is not None and answer.status == 403
        assert person.name not in after.page.content()
    # every read and report is in the audit log, naming the person; under the mode with its number
    entries = [(e.actor, e.action, e.allowed, e.details.get("disaster_mode")) for e in audit_after(site.store, start)
               if person.resident_no in e.resident_ids]
    assert ("leader", "safety.record", True, [mode]) in entries and ("leader2", "safety.record", True, [mode]) in entries
    assert ("leader", "safety.read", True, [mode]) in entries and ("leader2", "safety.read", True, [mode]) in entries
    assert entries[-1] == ("leader", "safety.read", False, None)  # the refusal after the end
    listed = [e for e in audit_after(site.store, start) if e.action == "safety.list" and e.actor == "leader"]
    assert any(person.resident_no in e.resident_ids for e in listed)


def test_the_api_answers_a_stale_report_with_what_changed(site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    person = town["consenting"][9].resident_no
    first, second = api(site, "leader"), api(site, "leader2")
    seen = first.get(f"/safety/residents/{person}").json()["seen"]
    assert second.get(f"/safety/residents/{person}").json()["seen"] == seen
    one = first.post(f"/safety/residents/{person}", json={"status": "不在", "note": "鍵がかかっている", "based_on": seen})
    assert one.status_code == 201 and one.json()["changed_since_seen"] == []
    two = second.post(f"/safety/residents/{person}", json={"status": "避難済", "shelter_code": None, "place": "長女の家",
                                                           "based_on": seen})
    assert two.status_code == 201
    answer = two.json()
    assert answer["status"] == "避難済" and answer["current"]["id"] == answer["report"]["id"]
    assert [(r["id"], r["status"], r["note"], r["recorded_by"]) for r in answer["changed_since_seen"]] == \
        [(one.json()["report"]["id"], "不在", "鍵がかかっている", "leader")]
    read = first.get(f"/safety/residents/{person}").json()
    assert [r["status"] for r in read["history"][:2]] == ["避難済", "不在"] and read["seen"] == answer["report"]["id"]
    refused = second.post(f"/safety/residents/{person}", json={"status": "避難済"})  # no place
    assert refused.status_code == 422 and "避難先" in refused.json()["error"]["message"]
    assert len(first.get(f"/safety/residents/{person}").json()["history"]) == len(read["history"])


def test_the_list_puts_who_needs_someone_first_and_its_counts_are_the_api_s(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    reporter = api(site, "leader")
    people = town["consenting"][1:7]
    for person, status in zip(people, ["無事・在宅", "要救助", "避難済", "不在", "連絡不通", "無事・在宅"], strict=True):
        body = {"status": status} | ({"place": "自宅の2階"} if status == "避難済" else {})
        assert reporter.post(f"/safety/residents/{person.resident_no}", json=body).status_code == 201
    expected = reporter.get("/safety/residents", params={"per_page": 500}).json()
    for viewport in (None, TABLET_LANDSCAPE):
        with tab(browser, site, "leader", **({"viewport": viewport} if viewport else {})) as opened:
            opened.open("/safety")
            assert "訓練" in opened.page.locator(".round").inner_text()
            shown = statuses_of(opened)  # the first page of the list: 100 people
            assert len(shown) == min(expected["total"], 100) and shown == [i["status"] for i in expected["items"][:100]]
            assert [ORDER.index(s) for s in shown] == sorted(ORDER.index(s) for s in shown)
            for status, n in expected["counts"].items():
                tile = opened.page.locator(".status-counts .count").filter(has_text=status).first
                assert tile.locator("strong").inner_text() == str(n)
            check_page(opened)
        # the counts filter the list
        with tab(browser, site, "leader") as opened:
            opened.open("/safety")
            opened.page.locator(".status-counts .count.rescue").click()
            opened.page.wait_for_load_state()
            assert set(statuses_of(opened)) == {"要救助"} and len(statuses_of(opened)) == expected["counts"]["要救助"]
            opened.page.get_by_role("link", name="全員を表示する").click()
            opened.page.wait_for_load_state()
            assert len(statuses_of(opened)) == min(expected["total"], 100)


def test_every_page_reads_in_landscape_too(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    pages = [("leader", "/safety"), ("leader", f"/safety/residents/{town['consenting'][2].resident_no}"),
             ("leader", "/safety/map"), ("city_staff", f"/safety/shelters?district={site.people.home}"),
             ("city_staff", "/safety"), (None, "/public")]
    for login, path in pages:
        with tab(browser, site, login, viewport=TABLET_LANDSCAPE) as opened:
            opened.open(path)
            assert opened.page.url.startswith(site.url + path.split("?")[0])
            check_page(opened)


def test_a_report_with_a_problem_keeps_what_was_typed_and_says_what_to_fix(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    person = town["consenting"][8]
    with tab(browser, site, "leader") as opened:
        opened.open(f"/safety/residents/{person.resident_no}")
        opened.page.locator("#status-evacuated").check()
        opened.page.get_by_label("メモ", exact=True).fill("車で出たと近所の人の話")
        with opened.page.expect_response(lambda r: r.request.method == "POST") as posted:
            opened.page.get_by_role("button", name="記録する").click()
        assert posted.value.status == 422
        opened.page.wait_for_load_state()
        assert opened.page.locator("#status-evacuated").is_checked()
        assert opened.page.get_by_label("メモ", exact=True).input_value() == "車で出たと近所の人の話"
        place = opened.page.get_by_label("そのほかの避難先")
        assert place.get_attribute("aria-invalid") == "true"
        assert "避難先" in opened.page.locator("#place-problem").inner_text()
        check_page(opened)
        place.fill("長男の家（荒木町）")
        opened.page.get_by_role("button", name="記録する").click()
        opened.page.wait_for_load_state()
        assert "記録しました：避難済" in opened.page.locator(".saved").inner_text()
        assert "長男の家（荒木町）" in opened.page.locator(".current").inner_text()


def test_the_map_draws_everyone_in_view_and_city_staff_report_a_shelter_count(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    listed = api(site, "leader").get("/safety/residents", params={"per_page": 500}).json()
    with tab(browser, site, "leader") as opened:
        opened.open("/safety/map")
        symbols = opened.page.locator("svg.status-map :is(circle, rect, polygon):is(.rescue, .unconfirmed, .unreachable, .absent, .evacuated, .safe)")
        assert symbols.count() == listed["total"]
        for status, n in listed["counts"].items():
            assert opened.page.locator(".legend li").filter(has_text=status).locator("strong").inner_text() == f"{n} 人"
        assert opened.page.locator("svg.status-map").get_attribute("role") == "img"
        check_page(opened)
        screenshot(opened, "safety-map")
    with tab(browser, site, "city_staff") as opened:
        opened.open(f"/safety/shelters?district={site.people.home}")
        cards = opened.page.locator("ul.shelters > li")
        if cards.count() == 0:  # no shelter in the 校区: the whole city's
            opened.open(f"/safety/shelters?district={site.people.home}&all=1")
        assert cards.count() >= 1
        card = cards.first
        code = (card.get_attribute("id") or "").removeprefix("shelter-")
        card.get_by_label("いまの避難者数（人）").fill("-3")
        card.get_by_role("button", name="報告する").click()
        opened.page.wait_for_load_state()
        card = opened.page.locator(f"#shelter-{code}")
        assert card.get_by_label("いまの避難者数（人）").input_value() == "-3"
        assert "0〜" in card.locator(".problem").inner_text()
        check_page(opened)
        card.get_by_label("いまの避難者数（人）").fill("12")
        card.get_by_role("button", name="報告する").click()
        opened.page.wait_for_load_state()
        card = opened.page.locator(f"#shelter-{code}")
        assert "避難者 12 人" in card.locator(".load").inner_text() and "city_staff" in card.inner_text()
        shelters = api(site, "city_staff").get("/safety/shelters", params={"district": site.people.home}).json()["items"]
        assert next(s for s in shelters if s["code"] == code)["people"] == 12
        check_page(opened)
        screenshot(opened, "safety-shelters")


def test_the_downloads_open_in_excel_and_keep_formula_like_names_as_text(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    from openpyxl import load_workbook

    start = last_audit_id(site.store)
    with tab(browser, site, "city_staff") as opened:
        opened.open(f"/safety?district={site.people.home}")
        with opened.page.expect_download() as got:
            opened.page.get_by_role("link", name="Excel で書き出す").click()
        book = load_workbook(io.BytesIO(got.value.path().read_bytes()))
        with opened.page.expect_download() as got_csv:
            opened.page.get_by_role("link", name="CSV で書き出す").click()
        text = got_csv.value.path().read_bytes().decode("utf-8-sig")
    assert book.sheetnames == ["集計", "安否確認", "避難所"]
    rows = {row[2].value: row for row in book["安否確認"].iter_rows(min_row=2)}
    with site.store.sessions() as session:
        everyone = session.scalar(select(func.count()).select_from(Resident).join(District)
                                  .where(District.name == site.people.home)) or 0
    assert len(rows) == everyone
    formula = rows[town["formula"].resident_no][3]
    assert formula.value == FORMULA and formula.data_type == "s"
    assert rows[town["xss"].resident_no][3].value == XSS
    statuses = [row[0].value for row in book["安否確認"].iter_rows(min_row=2)]
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)
    lines = text.splitlines()
    assert len(lines) == everyone + 1 and lines[0].startswith("状態,校区,名簿番号,氏名")
    assert f"'{FORMULA}".replace('"', '""') in text  # the CSV cell is quoted and prefixed
    exports = [e for e in audit_after(site.store, start) if e.action == "safety.export"]
    assert [(e.actor, e.details["format"], len(e.resident_ids)) for e in exports] == [("city_staff", "xlsx", everyone),
                                                                                   ("city_staff", "csv", everyone)]


def test_a_resident_named_like_a_script_shows_as_text_on_every_page(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    xss = town["xss"]
    pages = [("leader", "/safety", True), ("leader", f"/safety/residents/{xss.resident_no}", True), ("leader", "/safety/map", False),
             ("leader", "/safety/shelters", False), ("city_staff", f"/safety?district={site.people.home}", True),
             ("city_staff", f"/safety/residents/{xss.resident_no}", True), (None, "/public", False)]
    for login, path, named in pages:
        with tab(browser, site, login) as opened:
            dialogs = watch_dialogs(opened)
            opened.open(path)
            assert dialogs == [], path
            assert opened.page.locator("img[src='x']").count() == 0, path
            if named:
                assert opened.page.get_by_text(XSS).first.is_visible(), path
            else:
                assert XSS not in opened.page.inner_text("body"), path
            check_page(opened)


def test_the_public_pages_need_no_login_and_show_counts_only(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    names = [p.name for p in site.people.everyone[:200]]
    with tab(browser, site) as opened:
        failed: list[str] = []
        opened.page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.url.startswith(site.url) and r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        opened.open("/public")
        assert opened.page.url == site.url + "/public"
        check_page(opened)
        screenshot(opened, "public")
        cells = opened.page.locator("table.figures tbody td").all_inner_texts()
        assert cells and not [c for c in cells if re.fullmatch(r"[1-4]", c.strip())]  # 1–4 are withheld
        with site.store.sessions() as session:
            home = session.scalar(select(func.count()).select_from(Resident).join(District)
                                  .where(District.name == site.people.home)) or 0
        row = opened.page.locator("table.figures tbody tr").filter(has=opened.page.get_by_role("rowheader", name=site.people.home, exact=True))
        assert row.locator("td").first.inner_text() == (str(home) if home >= 5 else "5未満")
        body = opened.page.content()
        assert not [n for n in names if n in body]
        opened.page.get_by_role("link", name="市全体の地図を開く").click()
        opened.page.wait_for_load_state("load")
        assert opened.page.evaluate("typeof L") == "object"  # Leaflet came from the public assets
        opened.open(f"/public/maps/districts/{site.people.home}")
        opened.page.wait_for_load_state("load")
        assert opened.page.evaluate("typeof L") == "object"
        html = opened.page.content()
        assert not [n for n in names if n in html] and XSS not in html
        assert failed == []


def test_city_staff_start_a_new_training_and_everyone_is_unconfirmed_again(browser: Any, site: Site, town: dict[str, Any]) -> None:  # noqa: F811
    staff = api(site, "city_staff")
    assert staff.post(f"/safety/residents/{town['formula'].resident_no}", json={"status": "要救助"}).status_code == 201
    before = staff.get("/safety/residents", params={"district": site.people.home}).json()
    assert before["counts"]["未確認"] < before["total"]
    with tab(browser, site, "city_staff") as opened:
        opened.page.on("dialog", lambda dialog: dialog.accept())
        opened.open("/safety")
        opened.page.get_by_role("button", name="新しい訓練を始める").click()
        opened.page.wait_for_load_state()
        assert "訓練を始めました" in opened.page.locator(".notice").inner_text()
        check_page(opened)
    after = staff.get("/safety/residents", params={"district": site.people.home}).json()
    assert after["counts"]["未確認"] == after["total"] > 0
    assert api(site, "leader").post("/safety/training").status_code == 403
