"""The pages' foundation: login and logout in a browser, each role's home, the error pages, the
CSRF token of every form, the layout's accessibility at a tablet's size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.pages_fixtures import TABLET_LANDSCAPE, Site, check_page, site, tab  # noqa: F401  (fixture)
from tests.web_fixtures import PASSWORD, web_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the pages, not the database


def test_the_login_page_passes_the_page_checks(browser: Any, site: Site) -> None:  # noqa: F811
    for viewport in (None, TABLET_LANDSCAPE):
        with tab(browser, site, **({"viewport": viewport} if viewport else {})) as opened:
            opened.open("/")
            assert opened.page.url.endswith("/login")
            check_page(opened)


def test_every_page_says_the_data_is_demo_data_on_a_demo_store(site: Site) -> None:  # noqa: F811
    with httpx.Client(base_url=site.url) as client:
        assert "デモデータです" in client.get("/login").text
        client.post("/api/v1/auth/login", json={"login": "city_staff", "password": PASSWORD})
        assert "デモデータです" in client.get("/city").text


def test_a_wrong_password_is_said_on_the_form_which_keeps_the_login(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site) as opened:
        opened.log_in("leader", "not the password at all")
        assert "ログインできませんでした" in opened.page.get_by_role("alert").inner_text()
        assert opened.page.get_by_label("ログインID").input_value() == "leader"
        assert opened.page.get_by_label("パスワード").input_value() == ""
        check_page(opened)


@pytest.mark.parametrize(("login", "home"), [("leader", "/leader"), ("care_professional", "/leader"),
                                             ("trainer", "/trainer"), ("city_staff", "/city"), ("city_admin", "/city")])
def test_each_role_lands_on_its_home_and_can_log_out(browser: Any, site: Site, login: str, home: str) -> None:  # noqa: F811
    with tab(browser, site, login) as opened:
        assert opened.page.url == site.url + home
        opened.page.get_by_role("button", name="ログアウト").click()
        opened.page.wait_for_url("**/login")
        opened.open(home)
        assert opened.page.url.startswith(site.url + "/login?next=")


def test_the_pages_work_with_the_keyboard_alone(browser: Any, site: Site) -> None:  # noqa: F811
    """Log in and open the first resident of the leader's list with Tab and Enter only: every step
    reachable in order, with a visible focus ring."""
    with tab(browser, site) as opened:
        page = opened.page
        opened.open("/login")
        focused: list[str] = []

        def press_tab_until(condition: str, most: int = 40) -> None:
            for _ in range(most):
                if page.evaluate(condition):  # e.g. the login field has the focus when the page opens
                    return
                page.keyboard.press("Tab")
                focused.append(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"no visible focus on {focused[-1]}"
            raise AssertionError(f"not reached by Tab: {condition}; focused {focused}")

        press_tab_until("document.activeElement.id === 'login'")
        page.keyboard.type("leader")
        press_tab_until("document.activeElement.id === 'password'")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/leader")
        press_tab_until("document.activeElement.matches('a[href^=\"/leader/residents/\"]')", most=80)
        target = page.evaluate("document.activeElement.getAttribute('href')")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**{target}")
        assert opened.problems == []


def test_a_page_asked_for_without_a_session_comes_back_after_login(browser: Any, site: Site) -> None:  # noqa: F811
    with tab(browser, site) as opened:
        opened.open("/jobs/1")
        assert "/login?next=/jobs/1" in opened.page.url
        opened.page.get_by_label("ログインID").fill("city_staff")
        opened.page.get_by_label("パスワード").fill(PASSWORD)
        opened.page.get_by_role("button", name="ログイン").click()
        opened.page.wait_for_load_state()
        assert opened.page.url == site.url + "/jobs/1"


def test_a_login_posted_from_another_site_is_refused(site: Site) -> None:  # noqa: F811
    for headers in ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, {"Origin": "https://evil.example"}):
        answer = httpx.post(site.url + "/login", data={"login": "leader", "password": PASSWORD}, headers=headers)
        assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
        assert "set-cookie" not in answer.headers


def test_a_form_without_the_session_s_csrf_token_changes_nothing(site: Site) -> None:  # noqa: F811
    with httpx.Client(base_url=site.url) as client:
        client.post("/api/v1/auth/login", json={"login": "leader", "password": PASSWORD})
        answer = client.post("/logout", data={"csrf_token": "forged"})
        assert answer.status_code == 403
        assert client.get("/api/v1/auth/me").status_code == 200  # still logged in


def test_a_form_too_large_is_refused_before_it_is_read(site: Site) -> None:  # noqa: F811
    with httpx.Client(base_url=site.url) as client:
        client.post("/api/v1/auth/login", json={"login": "leader", "password": PASSWORD})
        answer = client.post("/logout", data={"csrf_token": "x", "filler": "あ" * 400_000})
        assert answer.status_code == 413 and "大きすぎます" in answer.text
        assert client.get("/api/v1/auth/me").status_code == 200


def test_errors_of_pages_are_pages_and_the_api_keeps_json(site: Site) -> None:  # noqa: F811
    with httpx.Client(base_url=site.url) as client:
        client.post("/api/v1/auth/login", json={"login": "leader", "password": PASSWORD})
        page = client.get("/jobs/999999")
        assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "ジョブ 999999 はありません" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert client.get("/api/v1/jobs/999999").json()["error"]["code"] == "not_found"
