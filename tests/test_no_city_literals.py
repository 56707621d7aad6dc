"""No output for another city mentions 久留米, Kurume or one of Kurume's phone numbers: a small
synthetic city with its own (starter) profile goes through import → assess → plans → maps →
exercise → report, and every file written is searched, as is the CLI help. A source scan keeps
the literals out of the package (they belong in data/ and tests/ only)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from disaster import profile as profile_module
from disaster.access import Principal
from disaster.db import make_engine, session_factory
from disaster.settings import get_settings
from tests.conftest import ROOT
from tests.helpers import square, write_csv, write_geojson
from tests.plans_fixtures import pdf_pages

CODE = "402125"  # a real 団体コード (大川市) for a synthetic city: the data below is invented
NAME = "例示市"
X0, Y0 = 130.38, 33.19
EAST, WEST = "東例示", "西例示"


def forbidden_words() -> list[str]:
    """久留米, Kurume and every phone and fax number in Kurume's profile."""
    kurume = tomllib.loads((ROOT / "data" / "cities" / "402036.toml").read_text(encoding="utf-8"))
    numbers = [c[key] for c in kurume["contacts"] for key in ("tel", "fax") if c.get(key)]
    assert numbers, "the Kurume profile lists phone numbers"
    return ["久留米", "Kurume", "kurume", *numbers]


def _found(text: str) -> list[str]:
    return [w for w in forbidden_words() if w in text]


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "profiles"
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(folder))
    get_settings.cache_clear()
    profile_module.load_profile.cache_clear()
    yield folder
    monkeypatch.undo()
    get_settings.cache_clear()
    profile_module.load_profile.cache_clear()


def _write_city_files(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    city = {"N03_001": "福岡県", "N03_004": NAME, "N03_007": CODE[:5]}
    east, west = square(X0 + 0.03, Y0, 0.03), square(X0, Y0, 0.03)
    files = {
        "boundary": write_geojson(folder / "n03.geojson", [(square(X0, Y0, 0.06), city)]),
        "districts": write_geojson(folder / "kouku.geojson", [(east, {"name": EAST}), (west, {"name": WEST})]),
        "shelters": write_csv(folder / "shelters.csv", ["共通ID", "施設・場所名", "住所", "緯度", "経度"], [
            [f"E{CODE[:5]}00001111", "東例示小学校", f"福岡県{NAME}東例示1", f"{Y0 + 0.025:.6f}", f"{X0 + 0.055:.6f}"],
            [f"E{CODE[:5]}00002111", "西例示小学校", f"福岡県{NAME}西例示1", f"{Y0 + 0.025:.6f}", f"{X0 + 0.005:.6f}"],
        ]),
        # deep water over the low south-east corner (where two of the residents live)
        "hazard": write_geojson(folder / "A31a-20.geojson", [(square(X0 + 0.03, Y0, 0.012), {
            "A31a_201": "0000000000", "A31a_202": "例示川", "A31a_203": "1", "A31a_204": "国土交通省", "A31a_205": 4})]),
    }
    header = ["名簿番号", "氏名", "ふりがな", "生年月日", "性別", "住所", "電話番号", "校区", "緯度", "経度", "要介護度",
              "移動", "独居", "建物階数", "寝室の階", "名簿情報提供同意", "名簿情報提供同意日", "計画作成同意", "計画作成同意日",
              "緊急連絡先1氏名", "緊急連絡先1電話"]
    people = [("R001", 0.004, 0.004, "要介護３", "車いす"), ("R002", 0.008, 0.006, "", "自立"),
              ("R003", 0.020, 0.020, "要支援１", "杖・歩行器"), ("R004", -0.015, 0.015, "", "自立")]
    files["residents"] = write_csv(folder / "meibo.csv", header, [
        [no, f"例示 {i}子", "れいじ", "昭和15年3月2日", "女", f"福岡県{NAME}東例示{i}-1", f"0944-99-000{i}", "",
         f"{Y0 + dy:.6f}", f"{X0 + 0.03 + dx:.6f}", care, mobility, "○", "1", "1", "1", "R5.4.1", "1", "R5.4.1",
         f"例示 {i}郎", "090-0000-9999"]
        for i, (no, dx, dy, care, mobility) in enumerate(people, start=1)
    ], encoding="cp932")
    files["sessions"] = write_csv(folder / "sessions.csv", ["実施日", "校区", "災害", "進行役", "住民", "民生委員"],
                                  [["2025-06-01", EAST, "洪水", "例示進行役", "20", "5"]])
    return files


def _texts(folder: Path) -> dict[str, str]:
    """The text of every file written under ``folder``."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".pdf":
            texts[str(path)] = "".join(pdf_pages(path))
        elif path.suffix == ".xlsx":
            cells = (str(c) for sheet in load_workbook(path).worksheets for row in sheet.iter_rows(values_only=True)
                     for c in row if c is not None)
            texts[str(path)] = " ".join(cells) + " " + " ".join(load_workbook(path).sheetnames)
        elif path.suffix in {".png", ".zip"}:
            continue
        else:
            texts[str(path)] = path.read_text(encoding="utf-8-sig")
    return texts


def test_another_city_outputs_never_name_kurume(profiles: Path, tmp_path: Path) -> None:
    from disaster.exercises.scenario import ExerciseHazard
    from disaster.usecases import imports
    from disaster.usecases.assess import run_assessment
    from disaster.usecases.exercises import export_report, import_sessions, new_pack, report
    from disaster.usecases.maps import write_all_maps, write_district_map
    from disaster.usecases.plans import write_blank_form, write_district_plans
    from disaster.usecases.setup import init_store

    path, written = profile_module.ensure_profile(CODE, NAME)
    assert written and path.parent == profiles
    with path.open("a", encoding="utf-8") as handle:  # the city's own contact, as its staff would add it
        handle.write('\n[[contacts]]\nrole = "社協"\nname = "例示市社会福祉協議会"\ntel = "0944-11-2222"\n')
    profile_module.load_profile.cache_clear()
    assert [c.name for c in profile_module.load_profile(CODE).contacts] == ["例示市社会福祉協議会"]

    files = _write_city_files(tmp_path / "in")
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    sessions = session_factory(engine)
    init_store(engine, sessions, CODE, NAME)
    imports.import_boundary(sessions, files["boundary"], CODE)
    imports.import_districts(sessions, files["districts"], CODE)
    imports.import_shelters(sessions, [files["shelters"]], CODE)
    imports.import_hazards(sessions, [files["hazard"]], city_code=CODE)
    imports.import_residents(sessions, files["residents"], CODE, today=dt.date(2026, 4, 1))
    import_sessions(sessions, CODE, files["sessions"])
    run_assessment(sessions, CODE)

    out = tmp_path / "out"
    plans = write_district_plans(sessions, Principal.cli(CODE), EAST, out / "plans")
    assert plans.written
    write_blank_form(out / "blank.pdf", city_code=CODE)
    write_all_maps(sessions, Principal.public(CODE), out / "maps")
    write_district_map(sessions, Principal.leader(CODE, [EAST]), EAST, out / "leader" / f"{EAST}.html")
    for hazard in (ExerciseHazard.FLOOD, ExerciseHazard.EARTHQUAKE):
        new_pack(sessions, Principal.cli(CODE), EAST, hazard, out / "exercise" / hazard.value, dt.datetime(2026, 7, 8, 18, 0))
    result = report(sessions, CODE, 2025)
    export_report(result, out / "report")
    engine.dispose()

    texts = _texts(out)
    assert any(p.endswith(".svg") for p in texts) and any(p.endswith(".csv") for p in texts)
    assert any(p.endswith(".xlsx") for p in texts) and any(p.endswith(".html") for p in texts)
    assert {p: found for p, t in texts.items() if (found := _found(t))} == {}

    plan_text = next(t for p, t in texts.items() if "/plans/" in p and p.endswith(".pdf"))
    assert "例示市社会福祉協議会" in plan_text and "0944-11-2222" in plan_text
    assert "例示市防災マップ" in re.sub(r"\s", "", texts[str(out / "maps" / "index.html")])
    flood = "".join(t for p, t in texts.items() if "/exercise/flood/" in p)
    assert "基準の水位観測所" in flood and not re.search(r"水位（\d", flood)  # no gauge in the profile: no figures
    quake = "".join(t for p, t in texts.items() if "/exercise/earthquake/" in p)
    assert "大きな地震" in quake
    # no participant target in the profile: the report shows none (never a made-up percentage)
    assert result["target"] is None and result["progress_percent"] is None
    assert "%" not in texts[str(out / "report" / "参加者数_年度別.svg")]


def _commands(command: Any, path: list[str]) -> Iterator[list[str]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, [*path, name])


def test_cli_help_names_no_city() -> None:
    from disaster.cli import app

    runner = CliRunner()
    paths = list(_commands(typer.main.get_command(app), []))
    assert len(paths) > 10
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        assert _found(result.output) == [], path


def test_no_city_literal_in_the_package_source() -> None:
    """Code, templates and map assets name no city: what differs between cities is in data/."""
    words = ["久留米", "Kurume", *forbidden_words()[3:], "筑後川", "耳納", "水縄", "瀬ノ下", "片ノ瀬"]
    offenders = {}
    for folder in ("disaster", "maps", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".j2", ".css", ".js", ".html", ".toml", ".json", ".mako"}:
                continue
            if found := [w for w in words if w in path.read_text(encoding="utf-8")]:
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
