"""Interactive maps: audience views (who sees what), offline rendering in Chromium, escaping."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from disaster.access import Principal, count_label
from disaster.cli import app
from disaster.codes import HazardLayer
from disaster.usecases.maps import load_map_inputs
from maps.assets import copy_assets
from maps.interactive import NOT_FOR_RAIN_COLOUR, DataLayers, city_map, district_map, html, shelter_features

TILE_HOST = "cyberjapandata.gsi.go.jp"


@pytest.fixture(scope="module")
def views(demo_store) -> dict[str, Principal]:
    code = demo_store.city_code
    return {"city": Principal.cli(code), "leader": Principal.leader(code, ["安武"], "leader"),
            "public": Principal.public(code)}


@pytest.fixture(scope="module")
def all_inputs(demo_store, views):
    """The map inputs each view loads."""
    with demo_store.sessions() as session:
        return {name: load_map_inputs(session, principal) for name, principal in views.items()}


@pytest.fixture(scope="module")
def inputs(all_inputs):
    return all_inputs["city"]


def _page(all_inputs, views, district: str, view: str) -> str:
    return html(district_map(all_inputs[view], district, views[view]))


def test_public_map_has_no_personal_data(all_inputs, views) -> None:
    page = _page(all_inputs, views, "安武", "public")
    residents = all_inputs["city"].residents
    assert all_inputs["public"].residents.empty and all_inputs["public"].supporters.empty  # nothing loaded
    assert not re.search(r"D\d{6}", page)  # no 名簿番号
    for name in residents.loc[residents["district"] == "安武", "name"]:
        assert name not in page
    assert "0942-00-" not in page and "090-0000-" not in page  # resident and supporter phones
    city = html(city_map(all_inputs["public"], views["public"]))
    assert not re.search(r"D\d{6}", city)


def test_leader_map_shows_only_consenting_residents_of_the_district(all_inputs, views) -> None:
    page = _page(all_inputs, views, "安武", "leader")
    shown = set(re.findall(r"D\d{6}", page))
    residents = all_inputs["city"].residents.set_index("resident_no")
    expected = set(residents[(residents["district"] == "安武") & residents["consent_share"]].index)
    assert shown == expected and shown
    assert set(all_inputs["leader"].residents["resident_no"]) == expected  # the query loaded no one else
    hidden = residents[(residents["district"] == "安武") & ~residents["consent_share"]]
    assert len(hidden) > 0
    assert f"地図に表示：情報提供に同意した {len(expected)} 人" in page


def test_city_view_shows_everyone_in_the_district(all_inputs, views) -> None:
    page = _page(all_inputs, views, "安武", "city")
    residents = all_inputs["city"].residents
    expected = set(residents.loc[residents["district"] == "安武", "resident_no"])
    assert set(re.findall(r"D\d{6}", page)) == expected


def test_a_shelter_in_deep_water_or_a_landslide_zone_is_shown_as_not_for_heavy_rain(inputs, views) -> None:
    """The residents' map must not show a school in 3 m of water as an ordinary shelter."""
    zones = inputs.zones
    dangerous = zones[((zones["layer"] == HazardLayer.FLOOD_L2_DEPTH.value) & (zones["rank"] >= 2))
                      | (zones["layer"] == HazardLayer.LANDSLIDE.value)]
    features = shelter_features(inputs.shelters, views["public"])["features"]
    inside = [f for f in features if dangerous.geometry.contains(shapely.Point(f["geometry"]["coordinates"])).any()]
    assert len(inside) >= 3  # the demo has such places: the test must look at some
    for feature in inside:
        rain = dict(feature["properties"]["rows"])["大雨のとき"]
        floor = "階以上を使います" in rain  # flood-designated with a usable floor above the water
        assert floor or (rain.startswith("使えません") and feature["properties"]["colour"] == NOT_FOR_RAIN_COLOUR), rain
    outside = [f for f in features if f not in inside and dict(f["properties"]["rows"])["大雨のとき"].startswith("使えます")]
    assert outside and all(f["properties"]["colour"] != NOT_FOR_RAIN_COLOUR for f in outside)


def test_small_numbers_are_suppressed_only_in_public(views) -> None:
    assert [count_label(views["public"], n) for n in (0, 1, 4, 5, 12)] == ["0", "5未満", "5未満", "5", "12"]
    assert count_label(views["city"], 3) == "3"
    assert count_label(views["leader"], 3, "安武") == "3" and count_label(views["leader"], 3, "高良内") == "5未満"


def _city_data(inputs, principal: Principal) -> dict:
    """The data the city map's page hands to disaster-map.js."""
    layers = next(c for c in city_map(inputs, principal)._children.values() if isinstance(c, DataLayers))
    return json.loads(layers.data_json)


def test_public_city_map_colours_tell_no_more_than_its_figures(inputs, views) -> None:
    """Under 「5未満」 a colour must not tell 1 from 4, nor a range 「36〜39」 its value: 校区 whose
    figures read the same are coloured the same. Counts are set so that every layer has
    withheld figures, ranges and shown ones."""
    counts = inputs.counts.copy()
    for i, name in enumerate(counts.index):
        residents = 40 + i
        counts.loc[name, ["residents", "at_risk", "planned", "unsupported"]] = [
            residents, i % 9, residents - i % 7, residents - i % 6]
    crafted = replace(inputs, counts=counts, exercise_participants={name: i % 8 for i, name in enumerate(counts.index)})
    data = _city_data(crafted, views["public"])
    assert len(data["choropleths"]) >= 3
    for layer in data["choropleths"]:
        colours: dict[str, set[str]] = {}
        for feature in layer["geojson"]["features"]:
            figure = feature["properties"]["label"].split("：", 1)[1]
            colours.setdefault(figure, set()).add(feature["properties"]["color"])
        assert any(figure in ("5未満", "非表示（人数が少ないため）") or "〜" in figure for figure in colours), layer["label"]
        assert all(len(seen) == 1 for seen in colours.values()), (layer["label"], colours)
        assert layer["legendTitle"] == f"凡例（{layer['label']}）" and layer["legend"]
    exact = _city_data(crafted, views["city"])  # city staff see the figures, and colours from them
    figures = {f["properties"]["label"].split("：", 1)[1] for f in exact["choropleths"][0]["geojson"]["features"]}
    assert {"1", "4"} <= figures


def test_assets_are_local_and_tiles_are_the_only_remote_urls(inputs, views, tmp_path: Path) -> None:
    page = html(district_map(inputs, "安武", views["city"]))
    remote = set(re.findall(r"https?://[^\"' )]+", page))
    assert remote and all(TILE_HOST in url or "maps.gsi.go.jp" in url for url in remote), remote
    for ref in re.findall(r'(?:src|href)="(assets/[^"]+)"', page):
        copy_assets(tmp_path)
        assert (tmp_path / ref).exists(), ref


def _open(browser, path: Path) -> tuple:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
    page = context.new_page()
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and TILE_HOST not in m.location.get("url", "")
            else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function("window.disasterLayers !== undefined", timeout=15_000)
    return context, page, problems, dialogs


def _write(tmp_path: Path, name: str, content: str) -> Path:
    copy_assets(tmp_path)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("view", ["city", "leader", "public"])
def test_district_map_renders_offline_with_all_features(browser, all_inputs, views, tmp_path: Path, view: str) -> None:
    inputs = all_inputs[view]
    path = _write(tmp_path, "d.html", _page(all_inputs, views, "安武", view))
    context, page, problems, _ = _open(browser, path)
    try:
        assert problems == []
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".map-legend").count() == 1
        district = inputs.districts.set_index("name").geometry["安武"]
        minx, miny, maxx, maxy = district.bounds
        s = inputs.shelters
        near = s[(s["lon"] >= minx - 0.01) & (s["lon"] <= maxx + 0.01) & (s["lat"] >= miny - 0.01) & (s["lat"] <= maxy + 0.01)]
        assert page.evaluate("disasterLayers.shelters.getLayers().length") == len(near)
        expected = int((inputs.residents["district"] == "安武").sum())
        drawn = page.evaluate("disasterLayers.residents ? disasterLayers.residents.getLayers().length : 0")
        assert drawn == expected
        assert (expected > 0) == (view != "public")
    finally:
        context.close()


def test_city_overview_renders_offline(browser, inputs, views, tmp_path: Path) -> None:
    from playwright.sync_api import expect  # (with the browser fixture)

    page_html = html(city_map(inputs, views["city"]))
    assert inputs.exercise_participants and "図上訓練の参加者（人、" in page_html  # demo has past sessions
    path = _write(tmp_path, "city.html", page_html)
    context, page, problems, _ = _open(browser, path)
    try:
        assert problems == []
        assert page.locator(".leaflet-interactive").count() >= 46
        assert page.locator(".map-legend").count() == 1
        assert page.locator(".km-legend-title").inner_text() == "凡例（危険な区域に住む要支援者（人））"
        # choosing another figure shows it alone, with its own legend
        overlays = page.locator(".leaflet-control-layers-overlays label")
        overlays.filter(has_text="マイプラン作成の同意率").locator("input").check()
        expect(page.locator(".km-legend-title")).to_have_text("凡例（マイプラン作成の同意率（%））")  # (the page's CSP: no eval)
        assert page.locator(".map-legend").count() == 1
        assert not overlays.filter(has_text="危険な区域に住む要支援者").locator("input").is_checked()
        assert problems == []
    finally:
        context.close()


def test_hostile_name_is_shown_as_text_and_never_runs(browser, all_inputs, views, tmp_path: Path) -> None:
    inputs = all_inputs["leader"]
    hostile = "<img src=x onerror=alert(1)>"
    residents = inputs.residents.copy()
    first = residents.index[(residents["district"] == "安武") & residents["consent_share"]][0]
    residents.loc[first, "name"] = hostile
    residents.loc[first, "needs"] = '</script><script>alert("needs")</script>'
    altered = type(inputs)(inputs.districts, inputs.zones, inputs.shelters, residents, inputs.supporters,
                           inputs.counts, inputs.centres, inputs.is_demo)
    page_html = html(district_map(altered, "安武", views["leader"]))
    assert "<img src=x" not in page_html and "</script><script>alert" not in page_html
    path = _write(tmp_path, "xss.html", page_html)
    context, page, problems, dialogs = _open(browser, path)
    try:
        number = residents.loc[first, "resident_no"]
        text = page.evaluate(
            """(number) => { let found = null;
                 disasterLayers.residents.eachLayer(m => { const box = m.getPopup().getContent()();
                   if (box.textContent.includes(number)) { found = box.textContent; } });
                 return found; }""", number)
        assert hostile in text and "alert(\"needs\")" in text
        page.wait_for_timeout(300)
        assert dialogs == [] and problems == []
        assert page.locator("img[src='x']").count() == 0
    finally:
        context.close()


def test_cli_map_and_maps(demo_store, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DISASTER_DB": demo_store.url}
    result = runner.invoke(app, ["map", "--district", "安武", "--view", "leader", "--out", str(tmp_path / "m.html")], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "assets" / "leaflet.js").exists()
    result = runner.invoke(app, ["maps", "--out", str(tmp_path / "all")], env=env)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "all").glob("district_*.html"))) == 46
    assert (tmp_path / "all" / "city.html").exists() and (tmp_path / "all" / "index.html").exists()
    result = runner.invoke(app, ["map", "--district", "安武", "--view", "everyone"], env=env)
    assert result.exit_code == 2


def test_exercise_map_steps_through_injects(browser, demo_store, inputs, tmp_path: Path) -> None:
    import datetime as dt

    from disaster.exercises.scenario import ExerciseHazard, generate
    from disaster.usecases.exercises import district_facts
    from maps.interactive import exercise_map

    with demo_store.sessions() as session:
        facts = district_facts(session, Principal.cli(demo_store.city_code), "安武", ExerciseHazard.FLOOD)
    scenario = generate(facts, ExerciseHazard.FLOOD, dt.datetime(2026, 7, 8, 18), seed=4)
    path = _write(tmp_path, "exercise.html", html(exercise_map(inputs, "安武", scenario, demo_store.city_code)))
    context, page, problems, _ = _open(browser, path)
    try:
        assert page.evaluate("disasterInjects.count") == len(scenario.injects)
        page.get_by_role("button", name="次へ").click()
        page.get_by_role("button", name="次へ").click()
        body = page.locator(".km-inject-body").inner_text()
        assert scenario.injects[1].synopsis in body
        assert page.locator(".leaflet-interactive").count() > 0 and problems == []
        assert not re.search(r"D\d{6}", path.read_text(encoding="utf-8"))
    finally:
        context.close()
