"""No script from data, anywhere a name or a text reaches a browser (issue 14 §2).

Every probe of ``probes/hostile_names.txt`` is put into every text field that reaches a page or a
map, as a hostile import file would store it: 校区 names and 圏域, shelter names, addresses and
remarks, hazard river names, consultation centres, residents' names, ふりがな, addresses and notes,
their emergency contacts, supporters' names and addresses, exercise sessions and findings, and so
the injects generated from them. Then Chromium opens the maps as the CLI writes them (index, city,
district, exercise map) and as the service serves them (each view), and the service pages that
show those fields, opens every tooltip and popup (they are rendered lazily), steps through the
injects, and fails on any dialog, any Content-Security-Policy violation, any element made from a
probe, or a probe that does not show literally."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pypdf import PdfReader
from sqlalchemy import String, cast, literal, select, true, update

from disaster.access import Principal
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import (
    ConsultationCentre,
    District,
    EmergencyContact,
    ExerciseFinding,
    ExerciseSession,
    HazardZone,
    Resident,
    Shelter,
    Supporter,
)
from disaster.usecases import exercises
from disaster.usecases.maps import write_all_maps
from disaster.usecases.users import add_user
from tests.conftest import KURUME, Store
from tests.pages_fixtures import WATCH_CSP, serve
from tests.web_fixtures import PASSWORD, copy_store

pytestmark = pytest.mark.parametrize("demo_store", ["sqlite"], indirect=True)  # the browser, not the database

PROBES = [line for line in (Path(__file__).parent / "probes" / "hostile_names.txt").read_text(encoding="utf-8").split("\n")
          if line and not line.startswith("# ")]
# a 校区 name is also an identifier (URLs, file names): no path separator, no control or format character
IDENTIFIERS = [p for p in PROBES if len(p) <= 40 and not any(c in "/\\" or unicodedata.category(c)[0] in "CZ" and c != " "
                                                             for c in p)]
HOME = "安武"  # a demo 校区 with residents, shelters and hazard zones; renamed to IDENTIFIERS[0]

# Page-side helpers, installed before any script of the page (and whatever its CSP): the elements
# a probe would have made (inline handlers, javascript: URLs, the probes' own tags and scripts), and
# the text a reader sees (text nodes, scripts and styles left out).
HELPERS = WATCH_CSP + """
window.__probe = {
  injected(root) {
    const bad = [];
    for (const e of (root || document).querySelectorAll('*')) {
      for (const a of e.attributes) {
        const url = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(a.name);
        if (a.name.startsWith('on') || url && /^\\s*javascript:/i.test(a.value)) { bad.push(e.outerHTML.slice(0, 160)); }
      }
      if (e.matches('img[src="x"], iframe, .injected, [data-x]')) { bad.push(e.outerHTML.slice(0, 160)); }
      if (e.tagName === 'SCRIPT' && e.textContent.trim().startsWith('alert(')) { bad.push('script: ' + e.textContent); }
    }
    return bad;
  },
  text(root) {
    const walker = document.createTreeWalker(root || document.body, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!['SCRIPT', 'STYLE', 'TEMPLATE'].includes(n.parentElement.tagName)) { out.push(n.nodeValue); }
    }
    return out.join('\\n');
  },
};"""
# Show every overlay, then open each tooltip and popup of the map (resident markers hidden in a
# cluster are put on the map for it); the text of each and what it made.
OPEN_ALL = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  document.querySelectorAll('.leaflet-control-layers-overlays input[type=checkbox]').forEach(i => { if (!i.checked) { i.click(); } });
  const layers = new Set();
  map.eachLayer(l => { if (l.getTooltip && (l.getTooltip() || l.getPopup())) { layers.add(l); } });
  if (window.disasterLayers) {
    for (const group of Object.values(disasterLayers)) { group.getLayers().forEach(l => layers.add(l)); }
  }
  const texts = [], bad = [];
  let opened = 0;
  for (const l of layers) {
    const added = !l._map;
    if (added) { l.addTo(map); }
    const at = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
    for (const [get, open, close] of [['getTooltip', 'openTooltip', 'closeTooltip'], ['getPopup', 'openPopup', 'closePopup']]) {
      if (!l[get]()) { continue; }
      l[open](at);
      const element = l[get]().getElement();
      texts.push(__probe.text(element));
      bad.push(...__probe.injected(element));
      l[close]();
      opened += 1;
    }
    if (added) { map.removeLayer(l); }
  }
  return {texts, bad, opened};
}"""


def _spread(session: Any, model: Any, *fields: str, where: Any = None, unique: bool = False) -> None:
    """Every row of ``model`` gets probes in ``fields``: row ``id`` the probe ``id % n`` (each field
    shifted by one), followed by the id where names are unique."""
    n = len(PROBES)
    for k in range(n):
        values = {name: literal(PROBES[(k + shift) % n], String) + cast(model.id, String) if unique else PROBES[(k + shift) % n]
                  for shift, name in enumerate(fields)}
        session.execute(update(model).where(true() if where is None else where, model.id % n == k).values(**values))


def plant(store: Store) -> None:
    """Store the probes as hostile import files would (the importers keep names and texts as they are)."""
    with store.sessions() as session, session.begin():
        districts = list(session.scalars(select(District).where(District.city_code == KURUME).order_by(District.name)))
        others = [d for d in districts if d.name != HOME]
        for district, name in zip([next(d for d in districts if d.name == HOME), *others], IDENTIFIERS, strict=False):
            district.name = name
        session.flush()
        _spread(session, District, "area", where=District.city_code == KURUME)
        _spread(session, Shelter, "name", "address", "remarks", where=Shelter.city_code == KURUME)
        session.execute(update(Shelter).where(Shelter.accepted_groups.is_not(None)).values(accepted_groups=PROBES[-1]))
        _spread(session, HazardZone, "river_name")
        _spread(session, ConsultationCentre, "name", where=ConsultationCentre.city_code == KURUME, unique=True)
        _spread(session, Resident, "name", "kana", "address", "other_needs", "preferred_destination",
                where=Resident.city_code == KURUME)
        _spread(session, EmergencyContact, "name")
        _spread(session, Supporter, "name", "address", where=Supporter.city_code == KURUME)
        _spread(session, ExerciseSession, "facilitator", "strengths", "improvements")
        _spread(session, ExerciseFinding, "issue", "action", "owner")


@dataclass(frozen=True)
class Hostile:
    url: str
    store: Store
    home: str
    maps: Path  # `disaster maps` output
    pack: Path  # an exercise pack of the home 校区
    resident: str  # a 名簿番号 in the leader's view, named with a probe
    session: int  # an exercise session of the home 校区, with findings
    session_texts: tuple[str, ...]  # its facilitator, strengths and improvements
    finding: int  # one of its findings
    issue: str  # the finding's


@pytest.fixture(scope="module")
def hostile(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    folder = tmp_path_factory.mktemp("hostile")
    for store in copy_store(demo_store, folder):
        plant(store)
        home = IDENTIFIERS[0]
        actor = Principal.cli(KURUME)
        for role in ("leader", "city_staff", "trainer", "city_admin"):
            add_user(store.sessions, actor, role, role, PASSWORD, districts=[home] if role == "leader" else [])
        write_all_maps(store.sessions, actor, folder / "maps")
        exercises.new_pack(store.sessions, actor, home, ExerciseHazard.FLOOD, folder / "pack", dt.datetime(2026, 7, 8, 18))
        n = len(PROBES)
        recorded = exercises.record_session(store.sessions, actor, exercises.SessionInput(
            dt.date(2026, 6, 1), home, ExerciseHazard.FLOOD, PROBES[1], {"住民": 12}, strengths=PROBES[2],
            improvements=PROBES[3], findings=[{"issue": p, "action": PROBES[(i + 1) % n], "owner": PROBES[(i + 2) % n][:80]}
                                              for i, p in enumerate(PROBES)]))  # as the trainer's form records it
        with store.sessions() as session:
            resident = session.scalars(select(Resident.resident_no).join(District, Resident.district_id == District.id)
                                       .where(District.name == home, Resident.consent_share.is_(True),
                                              Resident.name == PROBES[0])).first()
            finding = session.scalars(select(ExerciseFinding.id).where(ExerciseFinding.session_id == recorded.id)
                                      .order_by(ExerciseFinding.id)).first()
        assert resident is not None and finding is not None
        hostile = Hostile("", store, home, folder / "maps", folder / "pack", resident, recorded.id, tuple(PROBES[1:4]),
                          finding, PROBES[0])
        with serve(store) as (url, _):
            yield dataclasses.replace(hostile, url=url)


class Browser:
    """A Chromium context watching for dialogs, script errors and CSP violations; the service's
    pages are logged in as ``login``; nothing outside the machine is fetched."""

    def __init__(self, browser: Any, hostile: Hostile, login: str | None = None) -> None:
        self.hostile = hostile
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
        self.context.add_init_script(HELPERS)
        self.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", hostile.url))
                           else route.abort())
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", lambda dialog: (self.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", lambda message: self.problems.append(f"console: {message.text}")
                     if "Content Security Policy" in message.text or "Refused to" in message.text else None)
        if login is not None:
            self.open("/login")
            self.page.get_by_label("ログインID").fill(login)
            self.page.get_by_label("パスワード").fill(PASSWORD)
            self.page.get_by_role("button", name="ログイン").click()
            self.page.wait_for_load_state()

    def open(self, where: str | Path) -> Any:
        self.page.goto(where.as_uri() if isinstance(where, Path) else self.hostile.url + where)
        return self.page

    def check(self, *shown: str) -> str:
        """Nothing ran or was made from a probe; ``shown`` (probes) are on the page as text. The page's text."""
        self.page.wait_for_timeout(200)  # an <img onerror> fires after its load failed
        where = self.page.url
        assert self.page.evaluate("__probe.injected()") == [], where
        assert self.problems == [] and self.page.evaluate("window.__violations") == [], (where, self.problems)
        text = str(self.page.evaluate("__probe.text()"))
        assert [p for p in shown if p not in text] == [], where
        return text

    def check_map(self, *shown: str) -> None:
        """As ``check``, after opening every tooltip and popup of the map (``shown``: in the page or in one of them)."""
        self.page.wait_for_function("() => window.disasterLayers !== undefined", timeout=20_000)
        found = self.page.evaluate(OPEN_ALL)
        assert found["opened"] > 0 and found["bad"] == [], (self.page.url, found["bad"][:5])
        text = self.check() + "\n" + "\n".join(found["texts"])
        assert [p for p in shown if p not in text] == [], self.page.url


@pytest.fixture
def chromium(browser: Any, hostile: Hostile) -> Iterator[Any]:
    opened: list[Browser] = []

    def make(login: str | None = None) -> Browser:
        opened.append(Browser(browser, hostile, login))
        return opened[-1]

    yield make
    for tab in opened:
        tab.context.close()


def test_the_maps_the_cli_writes_show_every_name_as_text(chromium: Any, hostile: Hostile) -> None:
    tab = chromium()
    tab.open(hostile.maps / "index.html")
    tab.check(*IDENTIFIERS)
    links = tab.page.locator("a[href^='district_']")
    assert links.count() >= len(IDENTIFIERS)
    tab.page.get_by_role("link", name=hostile.home, exact=True).click()  # the link finds the file of its 校区
    tab.check_map(*PROBES)  # the city view of the 校区: every resident, shelter and river named with a probe
    tab.open(hostile.maps / "city.html")
    tab.check_map(*IDENTIFIERS)


def test_the_exercise_map_shows_each_inject_as_text(chromium: Any, hostile: Hostile) -> None:
    injects = json.loads((hostile.pack / "scenario.json").read_text(encoding="utf-8"))["injects"]
    assert any(p in inject["message"] + inject["synopsis"] for inject in injects for p in PROBES)  # names reach the injects
    tab = chromium()
    tab.open(hostile.pack / "exercise_map.html")
    tab.check_map(hostile.home)
    for inject in injects:
        tab.page.get_by_role("button", name="次へ").click()
        assert tab.page.evaluate("__probe.injected(document.querySelector('.km-inject-body'))") == []
        text = tab.page.evaluate("__probe.text(document.querySelector('.km-inject-body'))")
        assert inject["synopsis"] in text and inject["message"] in text, text
    tab.check()
    dig = "".join(page.extract_text() for page in PdfReader(hostile.pack / "dig_map.pdf").pages)
    compact = lambda text: "".join(text.split())  # noqa: E731  (the PDF's text comes back with line breaks)
    assert compact(f"{hostile.home}校区") in compact(dig)  # the printed DIG map names the 校区 as it is


@pytest.mark.parametrize("login", ["leader", "city_staff", "trainer", None])
def test_the_served_maps_of_each_view_show_every_name_as_text(chromium: Any, hostile: Hostile, login: str | None) -> None:
    tab = chromium(login)
    prefix = "/public/maps" if login is None else "/api/v1/maps"
    tab.open(f"{prefix}/districts/{quote(hostile.home, safe='')}")
    tab.check_map(hostile.home, *(PROBES if login in ("leader", "city_staff") else ()))
    tab.open(f"{prefix}/city")
    tab.check_map(*IDENTIFIERS)
    district = tab.page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map);
        let href = null; map.eachLayer(l => { if (!href && l.getPopup && l.getPopup() && l.getBounds) { l.openPopup(l.getBounds().getCenter());
          const a = l.getPopup().getElement().querySelector('a'); href = a && a.href; l.closePopup(); } }); return href; }""")
    assert district is not None and district.startswith(hostile.url)
    tab.page.goto(district)
    tab.check_map()


def test_the_service_pages_show_every_name_as_text(chromium: Any, hostile: Hostile) -> None:
    home = quote(hostile.home, safe="")
    leader = chromium("leader")
    for path in ("/leader", "/leader/print", "/leader/map", f"/leader/residents/{hostile.resident}",
                 f"/leader/residents/{hostile.resident}/history", "/safety", "/safety/map", "/safety/shelters"):
        leader.open(path)
        leader.check(hostile.home)
    leader.open(f"/leader/residents/{hostile.resident}")
    leader.check(PROBES[0])
    leader.open("/leader/map")
    leader.page.get_by_role("link", name=f"{hostile.home}の地図を開く").click()
    leader.check_map(hostile.home)
    staff = chromium("city_staff")
    for path in ("/city", f"/safety?district={home}", f"/safety/map?district={home}", "/trainer", "/trainer/sessions",
                 "/trainer/findings?status=all", f"/trainer/sessions/{hostile.session}",
                 f"/trainer/sessions/{hostile.session}/edit", f"/trainer/findings/{hostile.finding}",
                 f"/trainer/sessions/new?district={home}&hazard=flood", "/trainer/packs/new"):
        staff.open(path)
        staff.check()
    staff.open(f"/trainer/sessions/{hostile.session}")
    staff.check(*hostile.session_texts)
    staff.open("/trainer/findings?status=all")
    staff.check(hostile.issue)
    admin = chromium("city_admin")
    for path in ("/city/audit", "/city/users", "/city/users/leader", "/city/mode", "/city/imports"):
        admin.open(path)
        admin.check()
    admin.open("/city/users/leader")
    admin.check(hostile.home)  # the leader's 校区
    public = chromium()
    public.open("/public")
    public.check(*IDENTIFIERS)


def test_a_written_map_carries_a_policy_that_stops_inline_handlers(chromium: Any, hostile: Hostile) -> None:
    """The second line of defence: were a handler ever to get into a written map, its own policy
    (a <meta> element: a file has no headers) would stop it, while the map itself still works."""
    city = hostile.maps / "city.html"
    page = city.read_text(encoding="utf-8")
    policy = page[page.index('<meta http-equiv="Content-Security-Policy"'):].split(">", 1)[0]
    assert page.index(policy) < page.index("<script") and "'unsafe-inline'" not in policy
    assert all(d in policy for d in ("default-src 'none'", "script-src 'self' 'sha256-", "object-src 'none'", "base-uri 'none'"))
    planted = city.with_name("planted.html")
    planted.write_text(page.replace("<body>", '<body><img src=x onerror=alert("planted")><div onclick=alert(2)></div>', 1),
                       encoding="utf-8")
    tab = chromium()
    tab.open(planted)
    tab.page.wait_for_function("() => window.disasterLayers !== undefined", timeout=20_000)
    tab.page.locator("div[onclick]").dispatch_event("click")
    tab.page.wait_for_timeout(300)
    assert not any(p.startswith("dialog") for p in tab.problems)
    assert any(v.startswith("script-src") for v in tab.page.evaluate("window.__violations")), tab.problems
