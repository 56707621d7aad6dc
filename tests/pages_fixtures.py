"""Shared pieces of the page tests: the app served by a real uvicorn (in a thread of the test
process, on a copy of the demo store with an account of every role), Chromium tabs logged in as a
role at a tablet's size, and the checks every page must pass (axe-core, no horizontal scroll, no
script error or CSP violation, text ≥ 16 px, touch targets ≥ 44 px)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from disaster.web import create_app
from tests.conftest import Store
from tests.web_fixtures import PASSWORD, Cast, add_accounts, cast, settings_for

TABLET = {"width": 768, "height": 1024}
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
# Collect CSP violations in the page (the browser reports them as events, not as errors).
WATCH_CSP = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""
# Elements a finger must hit: at least 44×44 CSS px (WCAG 2.5.5), wherever they are on the page,
# unless inline in a sentence or off screen until focused (the skip link); a check box or radio
# button is hit through its label, which must be that large.
SMALL_TARGETS = """() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary')]
  .filter(e => e.offsetParent !== null && !(e.tagName === 'A' && getComputedStyle(e).display === 'inline'
                                            && e.closest('p, li, td, dd')))
  .map(e => [e, ['checkbox', 'radio'].includes(e.type) && e.closest('label') ? e.closest('label') : e])
  .filter(([e, target]) => { const r = target.getBoundingClientRect();
                             return r.right > 0 && (r.width < 44 || r.height < 44); })
  .map(([e]) => e.outerHTML.slice(0, 120))"""
SMALL_TEXT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .filter(e => parseFloat(getComputedStyle(e).fontSize) < 16)
  .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 40))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """The service under uvicorn at ``url`` on ``store``; ``people``: the accounts' cast."""

    url: str
    store: Store
    people: Cast
    app: Any


@contextmanager
def serve(store: Store, **settings: object) -> Iterator[tuple[str, Any]]:
    """The app on ``store`` under a real uvicorn in a thread; yields (base URL, app)."""
    app = create_app(settings_for(store, **settings).model_copy(update={"allowed_hosts": ["127.0.0.1"]}))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="page-tests-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield url, app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def site(web_store: Store) -> Iterator[Site]:
    """The demo city served with an account of every role (SQLite; the pages do not depend on the database)."""
    people = cast(web_store)
    add_accounts(web_store, people)
    with serve(web_store) as (url, app):
        yield Site(url, web_store, people, app)


@dataclass
class Tab:
    """A Chromium tab of its own (cookies included) on the site; ``problems`` collects script
    errors and CSP violations as they happen."""

    page: Any
    site: Site
    problems: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        self.page.goto(self.site.url + path)
        return self.page

    def log_in(self, login: str, password: str = PASSWORD) -> Any:
        self.open("/login")
        self.page.get_by_label("ログインID").fill(login)
        self.page.get_by_label("パスワード").fill(password)
        self.page.get_by_role("button", name="ログイン").click()
        self.page.wait_for_load_state()
        return self.page


@contextmanager
def tab(browser: Any, site: Site, login: str | None = None, viewport: dict[str, int] = TABLET) -> Iterator[Tab]:
    """A new browser context (its own cookies) at ``viewport``, logged in as ``login`` when given."""
    context = browser.new_context(viewport=viewport, locale="ja-JP", accept_downloads=True)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    opened = Tab(page, site)
    page.on("pageerror", lambda error: opened.problems.append(f"script error: {error}"))
    try:
        if login is not None:
            opened.log_in(login)
        yield opened
    finally:
        context.close()


def check_page(opened: Tab) -> None:
    """What every page must pass, as the user sees it now: axe-core finds no serious or critical
    violation of WCAG 2.1 A/AA, nothing scrolls sideways, no script error or CSP violation, body
    text of 16 px or more and touch targets of 44 px or more."""
    from axe_playwright_python.sync_playwright import Axe

    page = opened.page
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: {serious}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"
    assert page.evaluate("window.__violations") == [] and opened.problems == [], (opened.problems, page.evaluate("window.__violations"))
    assert (small := page.evaluate(SMALL_TEXT)) == [], f"{page.url}: text under 16 px: {small}"
    assert (small := page.evaluate(SMALL_TARGETS)) == [], f"{page.url}: touch targets under 44 px: {small}"


SHOT_HEIGHT = 2400  # px: the top of a long page is what a README reader needs


def screenshot(opened: Tab, name: str) -> None:
    """Save the page (its top ``SHOT_HEIGHT`` px) as ``$DISASTER_SCREENSHOTS/<name>.png`` when that
    variable is set (the README's screenshots: ``DISASTER_SCREENSHOTS=docs/screenshots pytest
    tests/test_pages*.py``)."""
    folder = os.environ.get("DISASTER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width, height = opened.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        opened.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True,
                               clip={"x": 0, "y": 0, "width": width, "height": min(height, SHOT_HEIGHT)})


def api(site: Site, login: str, password: str = PASSWORD) -> httpx.Client:
    """An API client of the site logged in as ``login`` (its CSRF header set)."""
    client = httpx.Client(base_url=site.url + "/api/v1", timeout=60)
    answer = client.post("/auth/login", json={"login": login, "password": password})
    answer.raise_for_status()
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client
