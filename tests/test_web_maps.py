"""Maps over HTTP: the district and city maps for the caller's view (as the CLI maps: public
counts, a leader's own 校区 with its consenting residents, the city everyone), audited when they
show residents; served with the vendored assets under a CSP without 'unsafe-inline', and loaded
in headless Chromium with every request answered in-process (none leaves the machine)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from disaster.csp import MAP_TILES as TILES
from tests.conftest import Store
from tests.web_fixtures import (
    Cast,
    app,  # noqa: F401  (fixture)
    chosen,  # noqa: F401  (fixture)
    clients,  # noqa: F401  (fixture)
    last_audit,
    web_store,  # noqa: F401  (fixture)
)

MAPS = "/api/v1/maps"
WATCH_CSP = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def _names(body: str, people: list[Any]) -> set[str]:
    return {p.resident_no for p in people if p.name in body or p.phone in body}


def test_each_view_shows_what_it_may_and_reads_of_residents_are_audited(
        clients: dict[str, TestClient], chosen: Cast, web_store: Store) -> None:  # noqa: F811
    home = [p for p in chosen.everyone if p.district == chosen.home]
    consenting = {p.resident_no for p in home if p.consent_share}
    leader = clients["leader"].get(f"{MAPS}/districts/{chosen.home}")
    assert leader.status_code == 200 and leader.headers["content-type"].startswith("text/html")
    assert leader.headers["cache-control"] == "no-store"
    assert _names(leader.text, home) == consenting
    entry = last_audit(web_store)
    assert (entry.actor, entry.action, entry.target_kind, set(entry.resident_ids)) == ("leader", "map.html", "district", consenting)
    staff = clients["city_staff"].get(f"{MAPS}/districts/{chosen.home}")
    assert _names(staff.text, home) == {p.resident_no for p in home}
    assert set(last_audit(web_store).resident_ids) == {p.resident_no for p in home}
    start = last_audit(web_store).id
    for role, district in (("trainer", chosen.home), ("leader", chosen.away)):
        public = clients[role].get(f"{MAPS}/districts/{district}")
        assert public.status_code == 200 and _names(public.text, chosen.everyone) == set(), role
    city = clients["leader"].get(f"{MAPS}/city")
    assert city.status_code == 200 and _names(city.text, chosen.everyone) == set()
    assert last_audit(web_store).id == start  # no one shown: nothing to audit
    missing = clients["leader"].get(f"{MAPS}/districts/存在しない校区")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_pages_run_under_a_csp_without_unsafe_inline_and_use_the_service_s_assets(
        clients: dict[str, TestClient], chosen: Cast) -> None:  # noqa: F811
    page = clients["city_admin"].get(f"{MAPS}/districts/{chosen.home}")
    csp = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'sha256-" in csp
    assert 'src="../assets/leaflet.js"' in page.text and "cdn" not in page.text.lower()
    c = clients["trainer"]
    for name, media in (("leaflet.js", "text/javascript"), ("disaster-map.css", "text/css"),
                        ("images/marker-icon.png", "image/png")):
        asset = c.get(f"{MAPS}/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media), name
    for bad in ("../__init__.py", "..%2F..%2Fassets.py", "LICENSE.leaflet", "nothing.js"):
        assert c.get(f"{MAPS}/assets/{bad}").status_code == 404, bad


class Browser:
    """A Chromium page whose every request is answered by a logged-in TestClient; requests for
    anything else are stopped and listed."""

    def __init__(self, browser: Any, c: TestClient, strip_hashes: bool = False) -> None:
        self.outside: list[str] = []
        self.served: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.add_init_script(WATCH_CSP)
        self.errors: list[str] = []

        def handle(route: Any) -> None:
            url = urlsplit(route.request.url)
            if url.netloc != "testserver":
                self.outside.append(route.request.url)
                route.abort()
                return
            answer = c.get(url.path + (f"?{url.query}" if url.query else ""))
            headers = dict(answer.headers)
            if strip_hashes and "content-security-policy" in headers:
                headers["content-security-policy"] = "default-src 'none'; script-src 'self'; style-src 'self'"
            self.served.append(url.path)
            route.fulfill(status=answer.status_code, headers=headers, body=answer.content)

        self.context.route("**/*", handle)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str) -> Any:
        self.page.goto(f"http://testserver{path}")
        return self.page


def test_the_served_district_map_loads_in_chromium(browser: Any, clients: dict[str, TestClient], chosen: Cast) -> None:  # noqa: F811
    tab = Browser(browser, clients["leader"])
    try:
        page = tab.open(f"{MAPS}/districts/{chosen.home}")
        page.wait_for_function("window.disasterLayers !== undefined", timeout=20_000)
        drawn = page.evaluate("disasterLayers.residents ? disasterLayers.residents.getLayers().length : 0")
        assert drawn == len([p for p in chosen.everyone if p.district == chosen.home and p.consent_share])
        assert page.locator(".leaflet-control-layers").count() == 1 and page.locator(".map-legend").count() == 1
        assert page.evaluate("window.__violations") == [] and tab.errors == []
        assert f"{MAPS}/assets/leaflet.js" in tab.served and f"{MAPS}/assets/disaster-map.js" in tab.served
        assert all(url.startswith(TILES) for url in tab.outside), tab.outside  # only tiles were asked for, and stopped
    finally:
        tab.context.close()


def test_the_city_map_links_to_district_maps_in_chromium(browser: Any, clients: dict[str, TestClient]) -> None:  # noqa: F811
    tab = Browser(browser, clients["city_staff"])
    try:
        page = tab.open(f"{MAPS}/city")
        page.wait_for_function("window.disasterLayers !== undefined", timeout=20_000)
        assert page.locator(".leaflet-interactive").count() >= 10
        assert page.evaluate("window.__violations") == [] and tab.errors == []
        assert all(url.startswith(TILES) for url in tab.outside)
    finally:
        tab.context.close()


def test_without_the_hashes_the_browser_refuses_the_inline_script(
        browser: Any, clients: dict[str, TestClient], chosen: Cast) -> None:  # noqa: F811
    """The check above is real: the same page under a CSP without its hashes does not run."""
    tab = Browser(browser, clients["leader"], strip_hashes=True)
    try:
        page = tab.open(f"{MAPS}/districts/{chosen.home}")
        page.wait_for_timeout(1500)
        assert page.evaluate("window.disasterLayers === undefined")
        assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
    finally:
        tab.context.close()
