"""Acceptance (issue 11): a second real municipality, 大川市, set up from its own files through the real
``disaster`` command in a store that also holds the Kurume demo, on SQLite and PostgreSQL.

Every output of the second city (PDF text, HTML, SVG, CSV, XLSX, the command's own output and the CLI
help) must be free of Kurume: its name, its profile's phone numbers, gauges and places, the phone numbers
of its 校区 centres and the names of its (demo) residents and supporters. The two cities must stay apart:
Kurume's counts, assessment and exercise figures are unchanged by the second city's imports, assessment
and exercise, and Kurume's outputs name no one and nothing of the second city.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import typer
import typer.main
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from disaster.outputs import file_name
from tests.conftest import BUNDLE, ROOT
from tests.second_city import check_digit, write_second_city

DISASTER = Path(sys.executable).with_name("disaster")
KURUME = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))["city_code"]
KURUME_DISTRICT = "安武"  # the demo's sample 校区
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".woff", ".woff2", ".ttf", ".otf", ".zip", ".ico"}


def test_check_digit_follows_the_national_rule() -> None:
    assert "40203" + check_digit("40203") == KURUME  # the bundle's city, 402036
    assert [check_digit(c) for c in ("01100", "13101", "40212", "40225")] == ["2", "6", "5", "7"]


def test_a_second_city_beside_kurume_shows_no_kurume_and_both_stay_apart(
        database_url: str, shared_data: Path, tmp_path: Path) -> None:
    city = write_second_city(shared_data, tmp_path / "input")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISASTER_DB": database_url,
           "DISASTER_PROFILES_DIR": str(city.profiles_dir), "DISASTER_TILE_OFFLINE": "1"}
    env.pop("DISASTER_CITY", None)

    def run(*args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(DISASTER), *map(str, args)], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=600)
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        return result

    # Kurume, from its demo bundle
    run("demo", "--no-outputs")
    kurume_before = _state(run, KURUME)

    # the second city, step by step as the README's "Setting up your city" says
    wrong = city.code[:5] + str((int(city.code[5]) + 1) % 10)
    refused = run("init", "--city", wrong, ok=False)
    assert refused.returncode != 0 and wrong in refused.stderr
    profile = city.profile.read_text(encoding="utf-8")
    run("init", "--city", city.code)
    assert city.profile.read_text(encoding="utf-8") == profile  # the city's own profile is used, not replaced
    mine = ("--city", city.code)
    printed = [
        run(*mine, "import", "boundary", city.boundary).stdout,
        run(*mine, "import", "districts", city.districts, "--table", city.district_table).stdout,
        run(*mine, "import", "shelters", *city.shelters).stdout,
        run(*mine, "import", "hazards", *city.hazards).stdout,
        run(*mine, "import", "address-points", *city.address_points).stdout,
    ]
    foreign = shared_data / "raw" / f"gsi_evacuation_{KURUME}.geojson"
    refused = run(*mine, "import", "shelters", foreign, ok=False)  # another municipality's file
    assert refused.returncode == 1 and foreign.name in refused.stderr
    residents = run(*mine, "import", "residents", city.roster).stdout
    assert "合計" in residents  # the total row is ignored with a notice
    printed.append(residents)
    assessed = _json(run(*mine, "assess", "--json").stdout)
    stats = _json(run(*mine, "stats", "--json").stdout)
    assert stats["city"]["code"] == city.code and stats["city"]["name"] == city.name
    assert stats["counts"]["districts"] == len(city.district_names)
    assert stats["counts"]["residents"] == len(city.people)
    assert stats["counts"]["shelters"] == city.facilities
    assert stats["shelter_kinds"]["welfare_shelters"] == city.welfare_shelters
    assert assessed["totals"]["residents"] == len(city.people)
    by_district = {row["name"]: row["residents"] for row in assessed["districts"]}
    assert by_district == {name: sum(p.district == name for p in city.people) for name in city.district_names}

    district = city.plan_district
    printed += [
        run(*mine, "plans", "--district", district, "--out", out / "plans").stdout,
        run(*mine, "plan", "--blank", "--out", out / "blank_form.pdf").stdout,
        run(*mine, "map", "--district", district, "--view", "leader", "--out", out / "leader" / f"{district}.html").stdout,
        run(*mine, "maps", "--view", "city", "--out", out / "maps").stdout,
        run(*mine, "exercise", "new", "--district", district, "--hazard", "flood", "--out", out / "exercise").stdout,
        run(*mine, "exercise", "record", "--district", district, "--date", "R8.6.14", "--participants", "住民=12",
            "--participants", "民生委員=3").stdout,
    ]
    report = _json(run(*mine, "exercise", "report", "--year", "R8", "--json", "--out", out / "report").stdout)
    assert report["participants"] == 15 and report["target"] == city.participant_target

    # plans: one per resident of the 校区 with 計画作成同意; the 町丁目-level location is said on the plan
    plans = {p.no: _pdf_text(out / "plans" / file_name("plan", p.no, ".pdf")) for p in city.people
             if p.district == district and p.consent_plan == "はい"}
    assert sorted(path.name for path in (out / "plans").glob("*.pdf")) == sorted(file_name("plan", no, ".pdf") for no in plans)
    for person in city.people:
        if person.no in plans:
            assert _plain(person.name) in plans[person.no]
            assert ("町丁目の代表点" in plans[person.no]) == (person.level == "town"), person
    assert all(phone in text for phone in city.contact_phones[:1] for text in plans.values())
    assert "町丁目の代表点" in (out / "leader" / f"{district}.html").read_text(encoding="utf-8")
    guide = "".join(_text(path) for path in (out / "exercise").rglob("*.pdf"))
    assert _plain(city.gauge) in guide

    # nothing of Kurume anywhere in the second city's outputs, its command output or the CLI help
    forbidden = _kurume_strings()
    people = {_plain(name) for name in _kurume_people()}
    assert not people & {_plain(p.name) for p in city.people}  # precondition: no namesakes
    for name, text in [*_outputs(out), *(("stdout", t) for t in printed), *_cli_help()]:
        plain = _plain(text)
        assert "kurume" not in plain.casefold(), name
        assert not [s for s in forbidden if s in plain], name
        assert not [s for s in people if s in plain], name

    # the two cities stay apart
    assert _state(run, KURUME) == kurume_before
    undecided = run("stats", ok=False)
    assert undecided.returncode != 0 and KURUME in undecided.stderr and city.code in undecided.stderr
    resident = next(row["名簿番号"] for row in _rows(BUNDLE / "residents.csv")
                    if row["校区"] == KURUME_DISTRICT and row["計画作成同意"] == "はい")
    kurume_out = tmp_path / "kurume"
    run("--city", KURUME, "plan", resident, "--out", kurume_out / "plan.pdf")
    run("--city", KURUME, "map", "--district", KURUME_DISTRICT, "--view", "city", "--out", kurume_out / "map.html")
    theirs = {_plain(p.name) for p in city.people} | {_plain(c) for p in city.people for c in p.contact[:1] if c}
    theirs |= {_plain(name) for name in city.shelter_names} | set(city.contact_phones)
    for name, text in _outputs(kurume_out):
        assert not [s for s in theirs if s in _plain(text)], name


def _state(run: Any, code: str) -> dict[str, Any]:
    """What must not change for a city when another city is set up beside it."""
    stats = _json(run("--city", code, "stats", "--json").stdout)
    assessed = _json(run("--city", code, "assess", "--json", "--no-recompute").stdout)
    report = _json(run("--city", code, "exercise", "report", "--year", "2024", "--json").stdout)
    return {"stats": {k: stats[k] for k in ("city", "counts", "shelter_kinds")},
            "assess": {k: assessed[k] for k in ("districts", "totals")},
            "report": {k: report[k] for k in ("participants", "sessions", "by_year", "target")}}


def _json(stdout: str) -> Any:
    return json.loads(stdout[stdout.index("{"):])


def _plain(text: str) -> str:
    """Without whitespace: PDF text extraction breaks lines and spaces where the layout does."""
    return re.sub(r"\s+", "", text)


def _pdf_text(path: Path) -> str:
    return _plain("".join(page.extract_text() for page in PdfReader(path).pages))


def _text(path: Path) -> str:
    """The text of an output file: PDF pages, workbook cells, or the file itself (HTML, SVG, CSV, JSON, JS)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(path)
    if suffix == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        return "\n".join([ws.title for ws in workbook.worksheets] + [
            str(value) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for value in row
            if value is not None])
    return path.read_bytes().decode("utf-8-sig")


def _outputs(directory: Path) -> Iterator[tuple[str, str]]:
    """(file name, text) of every file written under ``directory``, its relative path included."""
    files = [path for path in sorted(directory.rglob("*")) if path.is_file()]
    assert files, directory
    for path in files:
        name = str(path.relative_to(directory))
        yield name, name if path.suffix.lower() in BINARY else f"{name}\n{_text(path)}"


def _cli_help() -> Iterator[tuple[str, str]]:
    """The help of every command and command group."""
    from disaster.cli import app

    def walk(command: Any, path: list[str]) -> Iterable[list[str]]:
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    runner = CliRunner()
    for path in walk(typer.main.get_command(app), []):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        yield f"disaster {' '.join(path)} --help", result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _kurume_strings() -> set[str]:
    """Kurume's name, the phone numbers and places of its profile, and its 校区 centres' phone numbers."""
    profile = tomllib.loads((ROOT / "data" / "cities" / f"{KURUME}.toml").read_text(encoding="utf-8"))
    found = {"久留米", profile["name"]}

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif key in {"tel", "fax", "location", "earthquake_source", "landslide_area", "confirmation_contact"} \
                and isinstance(value, str) and value:
            found.add(value)

    walk(profile)
    found |= {gauge["name"] for gauge in profile["exercise"]["gauges"]}
    found |= {value for row in _rows(BUNDLE / "district_centres.csv") for key, value in row.items()
              if key.endswith(("_tel", "_fax")) and value}
    return {_plain(s) for s in found}


def _kurume_people() -> set[str]:
    return {row["氏名"] for name in ("residents.csv", "supporters.csv") for row in _rows(BUNDLE / name)}
