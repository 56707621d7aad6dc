"""The city staff's pages in Chromium: the dashboard's figures against counts worked out here
from the tables (and the 年度 total after a session recorded over the API), an import with bad
rows that writes nothing and says where, then a good one committed and re-assessed as a job,
accounts, 災害時モード on and off (a leader's view follows), the audit log's filters and CSV
export; every page passes the page checks, shows a script-like name as text, and is audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from disaster.access import Principal, Role
from disaster.models import (
    AssessmentRun,
    AuditEntry,
    Dataset,
    District,
    ExerciseSession,
    Job,
    PlanRecord,
    Resident,
    User,
    WebSession,
    resident_supporter,
)
from disaster.profile import load_profile
from disaster.usecases.dashboard import dashboard
from disaster.usecases.users import add_user
from tests.conftest import KURUME
from tests.helpers import demo_roster as roster
from tests.helpers import snapshot
from tests.pages_fixtures import TABLET_LANDSCAPE, Site, Tab, check_page, screenshot, site, tab  # noqa: F401  (fixture)
from tests.web_fixtures import PASSWORD, audit_after, last_audit_id, web_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the pages, not the database
SCRIPT_NAME = "<img src=x onerror=alert(1)>"
LOGS = {AuditEntry.__tablename__, WebSession.__tablename__, User.__tablename__, Job.__tablename__}


# --- helpers ---


def fiscal(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def data_tables(site: Site) -> dict[str, list[tuple[object, ...]]]:  # noqa: F811
    return {table: rows for table, rows in snapshot(site.store).items() if table not in LOGS}


def form_client(site: Site, login: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:  # noqa: F811
    """A client of the pages logged in as ``login`` and its session's CSRF token (for the forms' field)."""
    client = httpx.Client(base_url=site.url, timeout=120)
    answer = client.post("/api/v1/auth/login", json={"login": login, "password": password})
    answer.raise_for_status()
    return client, str(answer.json()["csrf_token"])


def kpis(page: Any) -> dict[str, str]:
    """The dashboard's figures: label → the figure as shown."""
    items = page.evaluate("""() => [...document.querySelectorAll('.kpis li')].map(li =>
        [li.querySelector('.kpi-label').textContent.trim(), li.querySelector('strong').textContent.replace(/\\s+/g, '')])""")
    return dict(items)


def district_rows(page: Any) -> dict[str, list[str]]:
    """校区 → the cells of its row in the progress table, as shown."""
    rows = page.evaluate("""() => [...document.querySelectorAll('table.districts-table tbody tr')].map(tr =>
        [tr.querySelector('th').firstChild.textContent.trim(), ...[...tr.querySelectorAll('td')].map(td => td.innerText.trim())])""")
    return {row[0]: row[1:] for row in rows}


def watch_dialogs(opened: Tab) -> list[str]:
    """Alerts (a script that ran) are collected; the pages' own confirm questions are answered yes."""
    alerts: list[str] = []

    def handle(dialog: Any) -> None:
        if dialog.type != "confirm":
            alerts.append(dialog.message)
        dialog.accept()

    opened.page.on("dialog", handle)
    return alerts


def expected_figures(site: Site, today: dt.date) -> dict[str, dict[str, int]]:  # noqa: F811
    """Per 校区, counted here row by row from the tables (not with the dashboard's SQL)."""
    with site.store.sessions() as session:
        residents = session.execute(select(Resident.id, Resident.consent_plan, District.name)
                                    .join(District, Resident.district_id == District.id)).all()
        plans = {r.resident_id: r for r in session.execute(select(PlanRecord.resident_id, PlanRecord.status,
                                                                  PlanRecord.next_review_on))}
        supported = set(session.scalars(select(resident_supporter.c.resident_id)))
    out: dict[str, dict[str, int]] = {}
    for resident_id, consent, district in residents:
        figures = out.setdefault(district, dict.fromkeys(("residents", "eligible", "issued", "review", "alone"), 0))
        plan = plans.get(resident_id)
        figures["residents"] += 1
        figures["eligible"] += bool(consent)
        figures["issued"] += bool(consent and plan and plan.status == "本人確認済")
        figures["review"] += bool(plan and (plan.status == "要見直し" or (plan.next_review_on and plan.next_review_on < today)))
        figures["alone"] += resident_id not in supported
    return out


def participants_by_year(site: Site) -> dict[int, int]:  # noqa: F811
    with site.store.sessions() as session:
        sessions = session.scalars(select(ExerciseSession)).all()
        return_value: dict[int, int] = {}
        for record in sessions:
            return_value[fiscal(record.held_on)] = return_value.get(fiscal(record.held_on), 0) + sum(
                p.count for p in record.participants)
    return return_value


@pytest.fixture(scope="module")
def plans(site: Site) -> dict[str, list[str]]:  # noqa: F811
    """Plan records made with the use-cases the pages use: issued, 要見直し, a draft past its review
    date, and an issued plan of a resident whose consent was withdrawn later (not coverage)."""
    from disaster import errors
    from disaster.plans.record import PlanContent
    from disaster.usecases.plan_records import issue_plan, save_plan

    admin = Principal.cli(KURUME)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    made: dict[str, list[str]] = {"issued": [], "review": [], "due": [], "withdrawn": []}
    wanted = {"issued": 5, "review": 1, "due": 1, "withdrawn": 1}
    with site.store.sessions() as session:
        numbers = list(session.scalars(select(Resident.resident_no).where(Resident.consent_plan.is_(True))
                                       .order_by(Resident.resident_no)))
    for number in numbers[::7]:
        label = next((k for k, n in wanted.items() if len(made[k]) < n), None)
        if label is None:
            break
        review_on = today - dt.timedelta(days=3) if label == "due" else today + dt.timedelta(days=300)
        try:
            save_plan(site.store.sessions, admin, number, PlanContent(next_review_on=review_on), 0, now)
            if label != "due":
                issue_plan(site.store.sessions, admin, number, 1, now)
        except errors.DisasterError:  # a resident the rules leave without a plan to confirm: the next one
            continue
        made[label].append(number)
    assert all(len(made[k]) == n for k, n in wanted.items()), made
    with site.store.sessions() as session, session.begin():
        session.execute(update(PlanRecord).where(PlanRecord.resident_id.in_(
            select(Resident.id).where(Resident.resident_no.in_(made["review"])))).values(status="要見直し"))
        session.execute(update(Resident).where(Resident.resident_no.in_(made["withdrawn"])).values(consent_plan=False))
        # the contract's script-like name, shown as text wherever a page of the area shows it
        session.execute(update(Resident).where(Resident.resident_no == made["issued"][0]).values(name=SCRIPT_NAME))
    return made


# --- the dashboard ---


def test_the_dashboard_s_figures_are_the_tables_counts(browser: Any, site: Site, plans: dict[str, list[str]]) -> None:  # noqa: F811
    today = dt.date.today()
    expected = expected_figures(site, today)
    by_year = participants_by_year(site)
    goal = load_profile(KURUME).exercise.participants
    assert goal is not None  # the demo city's profile has the plan's target
    with tab(browser, site, "city_staff") as opened:
        page = opened.open("/city")
        check_page(opened)
        screenshot(opened, "city-dashboard")
        shown = kpis(page)
        year = fiscal(today)
        label = next(k for k in shown if k.startswith("図上訓練の参加者"))
        assert shown[label] == f"{by_year.get(year, 0):,}人"
        total = {key: sum(d[key] for d in expected.values()) for key in ("residents", "eligible", "issued", "review", "alone")}
        assert total["issued"] == len(plans["issued"])  # the withdrawn consent's plan does not count
        assert shown["マイプラン 本人確認済"] == f"{total['issued']:,}/{total['eligible']:,}人"
        assert shown["支援者のいない方"] == f"{total['alone']:,}人"
        assert shown["見直しが必要なマイプラン"] == f"{total['review']:,}件" and total["review"] == 2
        body = page.inner_text("main")
        assert f"目標 {goal.target:,}人" in body and f"{goal.baseline:,}人" in body  # the profile's figures
        rows = district_rows(page)
        assert set(rows) == set(expected)
        for name, figures in expected.items():
            residents, ratio, review, alone, _ = rows[name]
            assert residents == f"{figures['residents']:,}", name
            assert ratio.startswith(f"{figures['issued']:,} / {figures['eligible']:,}"), (name, ratio)
            assert review == str(figures["review"]) and alone == f"{figures['alone']:,}", name
        # the chart's description and the table give every 年度's participants
        description = page.locator("svg.chart desc").text_content() or ""
        for fiscal_year_, participants in by_year.items():
            assert f"令和{fiscal_year_ - 2018}年度 {participants:,}人" in description, fiscal_year_
        table = page.evaluate("""() => [...document.querySelectorAll('table.numbers tbody tr')].map(tr =>
            [tr.querySelector('th').textContent.trim(), tr.querySelectorAll('td')[1].textContent.trim()])""")
        first_year = min([*by_year, goal.baseline_year])
        assert table == [[f"令和{y - 2018}年度", f"{by_year.get(y, 0):,}人"] for y in range(first_year, year + 1)]
        assert page.locator("svg.chart rect.bar").count() == year - min([*by_year, goal.baseline_year]) + 1
        # 校区 without a session in the last N 年度: the SQL answer against the sessions' own dates
        with site.store.sessions() as session:
            last = {name: held for name, held in session.execute(select(District.name, ExerciseSession.held_on)
                                                                 .join(ExerciseSession, ExerciseSession.district_id == District.id))
                    if held >= dt.date(year - 1, 4, 1)}
        page.get_by_label("図上訓練がないとみなす期間").select_option("2")
        page.get_by_role("button", name="表示する").click()
        page.wait_for_load_state()
        idle = page.locator("ul.idle li").all_inner_texts()
        assert sorted(item.split("（")[0] for item in idle) == sorted(set(expected) - set(last))
        check_page(opened)
    with tab(browser, site, "city_admin", viewport=TABLET_LANDSCAPE) as opened:
        opened.open("/city?sort=coverage")
        check_page(opened)
        first = district_rows(opened.page)
        assert list(first)[0] in {n for n, f in expected.items() if f["eligible"] and not f["issued"]}


def test_the_year_s_total_follows_a_session_recorded_over_the_api(browser: Any, site: Site) -> None:  # noqa: F811
    today = dt.date.today()
    year = fiscal(today)
    with tab(browser, site, "city_staff") as opened:
        page = opened.open("/city")
        label = next(k for k in kpis(page) if k.startswith("図上訓練の参加者"))
        before = int(kpis(page)[label].removesuffix("人").replace(",", ""))
        assert before == participants_by_year(site).get(year, 0)
        trainer = httpx.Client(base_url=site.url + "/api/v1", timeout=60)
        answer = trainer.post("/auth/login", json={"login": "trainer", "password": PASSWORD})
        trainer.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        district = sorted(site.people.everyone, key=lambda p: p.district)[-1].district
        recorded = trainer.post("/exercises/sessions", json={
            "district": district, "held_on": today.isoformat(), "hazard": "flood", "facilitator": "ページの試験",
            "participants": {"住民": 12, "民生委員": 5}})
        assert recorded.status_code == 201, recorded.text
        page.reload()
        after = int(kpis(page)[label].removesuffix("人").replace(",", ""))
        assert after == before + 17 == participants_by_year(site)[year]
        assert f"{after:,}人" in (page.locator("svg.chart desc").text_content() or "")
        assert district not in [item.split("（")[0] for item in page.locator("ul.idle li").all_inner_texts()]


def test_the_dashboard_sees_an_import_awaiting_its_re_assessment_and_runs_it(
        browser: Any, site: Site) -> None:  # noqa: F811
    staff = Principal("city_staff", Role.CITY_STAFF, KURUME)
    board = dashboard(site.store.sessions, staff)
    assert not board.assessment_stale and board.assessment_at is not None
    with site.store.sessions() as session:
        runs = len(session.scalars(select(AssessmentRun.id)).all())
    with site.store.sessions() as session, session.begin():  # data changed outside an import (as an older version left it)
        dataset = session.scalars(select(Dataset).where(Dataset.kind == "supporters")).one()
        dataset.sha256 = "0" * 64
    assert dashboard(site.store.sessions, staff).assessment_stale
    with tab(browser, site, "city_staff") as opened:
        page = opened.open("/city")
        assert "避難判定が、いまのデータで計算されていません" in page.inner_text("main")
        check_page(opened)
        page.get_by_role("button", name="避難判定を計算し直す").click()
        page.wait_for_url(re.compile(r"/jobs/\d+$"))
        page.locator("[data-job-done]").wait_for(state="visible", timeout=180_000)
        opened.open("/city")
        assert page.locator(".warning-card, .notice-card").count() == 0
    with site.store.sessions() as session:
        assert len(session.scalars(select(AssessmentRun.id)).all()) == runs + 1
    assert not dashboard(site.store.sessions, staff).assessment_stale


def test_the_chart_without_a_target_in_the_profile(site: Site) -> None:  # noqa: F811
    """A city whose profile has no participant target: bars only, and the description says so."""
    import dataclasses

    from disaster.web.pages.city_chart import participants_chart

    board = dataclasses.replace(dashboard(site.store.sessions, Principal("city_staff", Role.CITY_STAFF, KURUME)),
                                target=None, progress_percent=None)
    chart = participants_chart(board)
    assert chart.path is None and "目標は市の設定ファイルにありません" in chart.description
    assert [bar.value for bar in chart.bars] == [f"{y.participants:,}" for y in board.years]
    tallest = max(board.years, key=lambda y: y.participants)
    top = min(bar.y for bar in chart.bars)
    assert chart.bars[board.years.index(tallest)].y == top >= chart.top  # the highest bar fits under the top gridline


# --- imports ---


def test_an_import_with_bad_rows_writes_nothing_and_says_where_then_a_good_one_is_committed_and_reassessed(
        browser: Any, site: Site) -> None:  # noqa: F811
    before = data_tables(site)
    bad = roster(5, {1: {"建物階数": "たくさん"}, 3: {"名簿情報提供同意": "たぶん"}})
    with tab(browser, site, "city_admin") as opened:
        watch_dialogs(opened)
        page = opened.open("/city/imports")
        check_page(opened)
        screenshot(opened, "city-imports")
        page.get_by_label("避難行動要支援者名簿").check()
        page.locator("#f-files").set_input_files(files=[{"name": "名簿_誤り.csv", "mimeType": "text/csv", "buffer": bad}])
        page.get_by_role("button", name="確かめる").click()
        page.wait_for_url(re.compile(r"/city/imports/[A-Za-z0-9_-]{22}$"))
        check_page(opened)
        screenshot(opened, "city-import-problems")
        assert "2 件の問題があるため、取り込めません" in page.inner_text("main") and "何も書き込んでいません" in page.inner_text("main")
        cells = page.evaluate("""() => [...document.querySelectorAll('table.problems tbody tr')].map(tr =>
            [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))""")
        assert "ファイル：名簿_誤り.csv" in page.inner_text("main")
        assert [(row, column) for row, column, _ in cells] == [("3行目", "建物階数"), ("5行目", "名簿情報提供同意")]
        assert "整数" in cells[0][2] and cells[1][2]  # what is wrong with the field, not the value read
        assert "たくさん" not in page.inner_text("main") and "たぶん" not in page.inner_text("main")
        assert page.get_by_role("button", name="取り込む").count() == 0
        assert data_tables(site) == before  # nothing written

        with site.store.sessions() as session:
            first = session.scalars(select(Resident).order_by(Resident.resident_no)).first()
            runs = len(session.scalars(select(AssessmentRun.id)).all())
        assert first is not None
        good = roster(3, {0: {"電話番号": "0942-99-0001"}})
        opened.open("/city/imports")
        page.get_by_label("避難行動要支援者名簿").check()
        page.locator("#f-files").set_input_files(files=[{"name": "名簿_更新.csv", "mimeType": "text/csv", "buffer": good}])
        page.get_by_role("button", name="確かめる").click()
        page.wait_for_url(re.compile(r"/city/imports/[A-Za-z0-9_-]{22}$"))
        assert "新規 0 件・更新 3 件" in page.inner_text("main")
        assert data_tables(site) == before
        check_page(opened)
        page.get_by_role("button", name="取り込む").click()
        page.wait_for_load_state()
        assert "取り込みました（新規 0 件・更新 3 件）。避難判定も計算し直しました。" in page.inner_text("main")
        check_page(opened)
        screenshot(opened, "city-import-done")
        with site.store.sessions() as session:
            assert session.scalar(select(Resident.phone).where(Resident.id == first.id)) == "0942-99-0001"
            latest = session.scalars(select(AssessmentRun.id).order_by(AssessmentRun.id)).all()
            commit = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.commit")
                                     .order_by(AuditEntry.id.desc())).first()
        assert len(latest) == runs + 1  # the import and its re-assessment were committed together
        assert commit is not None and commit.details["assessment_run"] == latest[-1] and commit.details["updated"] == 3
        opened.open("/city")
        assert opened.page.locator(".warning-card").count() == 0  # the assessment is up to date again


def test_the_upload_form_says_what_to_fix_next_to_the_field(site: Site) -> None:  # noqa: F811
    client, token = form_client(site, "city_admin")
    answer = client.post("/city/imports", data={"csrf_token": token, "kind": "shelters", "header_row": "二",
                                                "sheet": "名簿", "replace": "on"})
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text and "取り込むファイルを選んでください" in answer.text
    assert "見出しの行番号は 1 以上の整数で" in answer.text and 'value="二"' in answer.text
    # a 名簿's options for shelters: the sheet and the 名簿番号 take-over, each named at its field
    assert answer.text.count("避難所・避難場所の取り込みには使いません") == 2
    assert 'id="f-replace-problem"' in answer.text and 'name="replace" value="on" checked' in answer.text
    staff, staff_token = form_client(site, "city_staff")
    refused = staff.post("/city/imports", data={"csrf_token": staff_token, "kind": "residents"})
    assert refused.status_code == 403 and "データの取り込み" in refused.text


# --- accounts ---


def test_the_administrator_adds_an_account_sets_its_password_and_disables_it(browser: Any, site: Site) -> None:  # noqa: F811
    start = last_audit_id(site.store)
    home = site.people.home
    with tab(browser, site, "city_admin") as opened:
        watch_dialogs(opened)
        page = opened.open("/city/users")
        check_page(opened)
        screenshot(opened, "city-users")
        page.get_by_label("ログインID").fill("page-leader")
        page.get_by_label("役割").select_option(label="校区リーダー・民生委員")
        page.get_by_label("はじめのパスワード（必須）", exact=True).fill("short")
        page.get_by_label("はじめのパスワード（確認のためもう一度）（必須）").fill("short")
        page.get_by_role("button", name="登録する").click()
        page.wait_for_load_state()
        assert page.get_by_label("ログインID").input_value() == "page-leader"  # kept
        assert "担当する校区を 1 つ以上選んでください" in page.inner_text("main")
        assert page.get_by_label("はじめのパスワード（必須）", exact=True).get_attribute("aria-invalid") == "true"
        check_page(opened)
        page.get_by_label(home, exact=True).check()
        page.get_by_label("はじめのパスワード（必須）", exact=True).fill(PASSWORD)
        page.get_by_label("はじめのパスワード（確認のためもう一度）（必須）").fill(PASSWORD)
        page.get_by_role("button", name="登録する").click()
        page.wait_for_url("**/city/users/page-leader?done=added")
        check_page(opened)
        screenshot(opened, "city-user")
        with site.store.sessions() as session:
            made = session.scalars(select(User).where(User.login == "page-leader")).one()
        assert (made.role, made.districts, made.disabled) == ("leader", [home], False)
        page.get_by_label("新しいパスワード（必須）", exact=True).fill(PASSWORD + "2")
        page.get_by_label("新しいパスワード（確認のためもう一度）").fill(PASSWORD + "2")
        page.get_by_role("button", name="パスワードを設定する").click()
        page.wait_for_url("**/city/users/page-leader?done=password")
        assert form_client(site, "page-leader", PASSWORD + "2")[1]
        page.get_by_role("button", name="利用を停止する").click()
        page.wait_for_url("**/city/users/page-leader?done=disabled")
        assert "停止中" in page.inner_text("main")
        with pytest.raises(httpx.HTTPStatusError):
            form_client(site, "page-leader", PASSWORD + "2")
    actions = [(e.action, e.actor, e.details.get("login")) for e in audit_after(site.store, start) if e.action.startswith("user.")]
    assert ("user.add", "city_admin", "page-leader") in actions and ("user.set_password", "city_admin", "page-leader") in actions
    assert ("user.disable", "city_admin", "page-leader") in actions


# --- 災害時モード ---


def test_disaster_mode_on_shows_the_leader_the_non_consenting_and_off_hides_them_again(
        browser: Any, site: Site) -> None:  # noqa: F811
    hidden = site.people.inside_no.resident_no
    leader = httpx.Client(base_url=site.url + "/api/v1", timeout=60)
    leader.post("/auth/login", json={"login": "leader", "password": PASSWORD}).raise_for_status()
    assert leader.get(f"/residents/{hidden}").status_code == 403
    with tab(browser, site, "city_staff") as opened:  # city staff see the state, cannot declare
        opened.open("/city/mode")
        check_page(opened)
        assert "市の管理者が行います" in opened.page.inner_text("main")
        assert opened.page.get_by_role("button", name="災害時モードを宣言する").count() == 0
    with tab(browser, site, "city_admin") as opened:
        watch_dialogs(opened)
        page = opened.open("/city/mode")
        check_page(opened)
        page.get_by_label("理由").fill("河川の氾濫のおそれ（ページの試験）")
        page.get_by_label("校区を選ぶ（下の一覧から）").check()
        page.get_by_label(site.people.home, exact=True).check()
        too_late = (dt.datetime.now(dt.UTC) + dt.timedelta(days=9)).astimezone(dt.timezone(dt.timedelta(hours=9)))
        page.get_by_label("終了日時（日本時間）").fill(too_late.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="災害時モードを宣言する").click()
        page.wait_for_load_state()
        assert "最長 7 日間です" in page.inner_text("main")
        assert page.get_by_label("理由").input_value() == "河川の氾濫のおそれ（ページの試験）"  # kept
        assert page.get_by_label(site.people.home, exact=True).is_checked()
        check_page(opened)
        soon = too_late - dt.timedelta(days=8)
        page.get_by_label("終了日時（日本時間）").fill(soon.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="災害時モードを宣言する").click()
        page.wait_for_url("**/city/mode?done=declared")
        assert "災害時モード 実施中" in page.inner_text("main") and page.locator(".banner.emergency").count() == 1
        check_page(opened)
        screenshot(opened, "city-mode")
        assert leader.get(f"/residents/{hidden}").status_code == 200
        page.get_by_role("button", name=re.compile("終了する")).click()
        page.wait_for_url("**/city/mode?done=ended")
        assert "平常時" in page.inner_text("main")
    assert leader.get(f"/residents/{hidden}").status_code == 403
    client, token = form_client(site, "city_admin")
    empty = client.post("/city/mode", data={"csrf_token": token, "reason": " ", "scope": "some", "ends_at": "明日"})
    assert empty.status_code == 422
    for problem in ("理由を入力してください", "対象の校区を 1 つ以上選んでください", "終了日時を「2026-07-09 18:00」のように"):
        assert problem in empty.text


# --- the audit log ---


def test_the_audit_log_filters_and_exports_what_it_shows(browser: Any, site: Site) -> None:  # noqa: F811
    add_user(site.store.sessions, Principal.cli(KURUME), "@formula", "city_staff", PASSWORD)
    form_client(site, "@formula")[0].close()  # its login is in the city's log under a name a spreadsheet would run
    staff = httpx.Client(base_url=site.url + "/api/v1", timeout=60)
    staff.post("/auth/login", json={"login": "city_staff", "password": PASSWORD}).raise_for_status()
    number = site.people.inside_yes.resident_no
    assert staff.get(f"/residents/{number}").status_code == 200
    with site.store.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.city_code == KURUME)).all()
        naming = sorted(e.id for e in entries if number in e.resident_ids)
        logins = sorted(e.id for e in entries if e.action == "auth.login" and e.actor == "@formula")
    assert naming and logins
    with tab(browser, site, "city_admin") as opened:
        page = opened.open("/city/audit")
        check_page(opened)
        screenshot(opened, "city-audit")
        page.get_by_label("名簿番号").fill(number)
        page.get_by_role("button", name="絞り込む").click()
        page.wait_for_load_state()
        assert f"resident_no={number}" in page.url
        shown = [int(n.removeprefix("No. ")) for n in page.locator("table.audit td:first-child .muted").all_inner_texts()]
        assert sorted(shown) == naming[-50:]
        assert page.locator(".count strong").inner_text() == f"{len(naming):,}"
        check_page(opened)
        start = last_audit_id(site.store)
        href = page.get_by_role("link", name="この条件で CSV に書き出す").get_attribute("href")
        assert href is not None and f"resident_no={number}" in href
        exported = page.request.get(site.url + href)
        assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text().lstrip("\ufeff"))))
        assert sorted(int(r["id"]) for r in rows) == naming
        (export,) = [e for e in audit_after(site.store, start) if e.action == "audit.export"]
        assert (export.details["resident_no"], export.details["entries"]) == (number, len(naming))
        formula = page.request.get(site.url + "/city/audit/export.csv?actor=%40formula&action=auth.login")
        actors = {r["actor"] for r in csv.DictReader(io.StringIO(formula.text().lstrip("\ufeff")))}
        assert actors == {"'@formula"} and len(formula.text().strip().splitlines()) == len(logins) + 1
    read = [e for e in audit_after(site.store, 0) if e.action == "audit.read" and e.details.get("resident_no") == number]
    assert read and read[-1].actor == "city_admin"
    client, _ = form_client(site, "city_admin")
    wrong = client.get("/city/audit", params={"since": "2026-13-01", "until": "昨日"})
    assert wrong.status_code == 422 and "開始日を「2026-11-01」のように" in wrong.text and "終了日を" in wrong.text


# --- every page of the area ---


@pytest.fixture
def script_everywhere(site: Site) -> Iterator[str]:  # noqa: F811
    """The script-like name where the city's pages show text someone typed: a 災害時モード reason and an
    uploaded file's name (the resident of that name is in the store, see ``plans``)."""
    admin = httpx.Client(base_url=site.url + "/api/v1", timeout=60)
    answer = admin.post("/auth/login", json={"login": "city_admin", "password": PASSWORD})
    admin.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    mode = admin.post("/disaster-mode", json={"reason": SCRIPT_NAME, "all_districts": True, "ends_at": until})
    assert mode.status_code == 201, mode.text
    upload = admin.post("/imports", data={"kind": "residents"},
                        files={"files": (f"{SCRIPT_NAME}.csv", roster(2, {0: {"建物階数": "x"}}), "text/csv")})
    assert upload.status_code == 201, upload.text
    yield upload.json()["id"]
    admin.post(f"/disaster-mode/{mode.json()['id']}/end")
    admin.delete(f"/imports/{upload.json()['id']}")


@pytest.mark.parametrize(("login", "path", "shows"), [
    ("city_staff", "/city", False), ("city_staff", "/city/mode", True), ("city_admin", "/city/mode", True),
    ("city_admin", "/city/imports", True), ("city_admin", "/city/imports/{import}", True),
    ("city_admin", "/city/users", False), ("city_admin", "/city/users/city_staff", False),
    ("city_admin", "/city/audit?action=disaster_mode.declare", True)])
def test_a_script_like_name_is_text_on_every_page(browser: Any, site: Site, plans: dict[str, list[str]],  # noqa: F811
                                                   script_everywhere: str, login: str, path: str, shows: bool) -> None:
    with tab(browser, site, login) as opened:
        alerts = watch_dialogs(opened)
        page = opened.open(path.replace("{import}", script_everywhere))
        assert page.url.startswith(site.url + path.split("?")[0].replace("{import}", script_everywhere))
        check_page(opened)
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert alerts == []
        if shows:
            assert SCRIPT_NAME in page.inner_text("main")
