"""Names are data, not paths (issue 14, class 1, output side): whatever a 名簿番号 or a 校区 name
says, plan PDFs, index CSVs, ZIPs and maps are written inside the output folder, under names
``disaster.outputs`` derives; a symlink planted in the folder is never written through; an
existing file is kept unless ``--force``. Storage does not matter here: SQLite only."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from disaster import errors
from disaster.access import Principal
from disaster.cli import app
from disaster.outputs import OutputFolder, file_name, slug
from disaster.usecases.maps import district_file, write_all_maps
from disaster.usecases.plans import index_file, plan_file, write_district_plans
from tests.conftest import KURUME
from tests.security import outputs_town as town

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the files matter, not the database
CONTROL = re.compile(r"[\x00-\x1f\x7f\u202e]")


@pytest.fixture
def hostile(store, tmp_path: Path):  # type: ignore[no-untyped-def]
    numbers = town.build(store.sessions, tmp_path / "abs")
    return store, numbers


def test_file_names_are_slugs_with_a_stable_id() -> None:
    names = town.hostile_names()
    made = {name: file_name("plan", name, ".pdf") for name in names}
    for name, made_name in made.items():
        assert "/" not in made_name and "\\" not in made_name and not CONTROL.search(made_name), name
        assert made_name.startswith("plan_") and made_name.endswith(".pdf") and ".." not in made_name, name
        assert Path(made_name).name == made_name and len(made_name.encode()) < 200, name
        assert file_name("plan", name, ".pdf") == made_name  # stable
    assert len(set(made.values())) == len(names)  # two names never share a file …
    assert len({n.casefold() for n in made.values()}) == len(names)  # … on a case-insensitive disk either
    assert slug("北野校区（第二）") == "北野校区_第二" and "北野" in file_name("district", "北野", ".html")  # readable


@SQLITE
def test_names_from_the_data_never_leave_the_output_folder(hostile, tmp_path: Path) -> None:
    store, numbers = hostile
    out = tmp_path / "deep" / "out"
    report = write_district_plans(store.sessions, Principal.cli(KURUME), town.HOSTILE_DISTRICT, out, archive=True,
                                  workers=1)
    maps = write_all_maps(store.sessions, Principal.cli(KURUME), out / "maps")
    assert sorted(n for n, *_ in report.written) == sorted(numbers) and not report.failed
    assert all(p.is_relative_to(out) for p in town.files_under(tmp_path) if not p.name.endswith((".sqlite3", "-wal", "-shm")))
    assert not (tmp_path / "abs").exists() and not (tmp_path / "escape.pdf").exists()
    assert {p.name for p in out.iterdir() if p.is_file()} == {plan_file(n) for n in numbers} | {
        index_file(town.HOSTILE_DISTRICT), report.archive.name if report.archive else ""}
    with report.index.open(encoding="utf-8-sig") as handle:  # type: ignore[union-attr]
        rows = list(csv.DictReader(handle))
    assert {r["名簿番号"] for r in rows} == set(numbers)
    assert all((out / r["ファイル"]).is_file() and r["ファイル"] == plan_file(r["名簿番号"]) for r in rows)
    with zipfile.ZipFile(report.archive) as archive:  # type: ignore[arg-type]
        assert sorted(archive.namelist()) == sorted([plan_file(n) for n in numbers] + [index_file(town.HOSTILE_DISTRICT)])
    # one bad 校区 name does not break the maps: every map written, every link of the index and the city map resolves
    assert {p.name for p in maps.files} >= {district_file(town.HOSTILE_DISTRICT), district_file(town.PLAIN_DISTRICT)}
    index = (out / "maps" / "index.html").read_text(encoding="utf-8")
    city = (out / "maps" / "city.html").read_text(encoding="utf-8")
    links = [unquote(link) for link in re.findall(r'href="([^"]+)"', index) if "://" not in link]  # URL-encoded
    assert set(links) >= {"city.html", district_file(town.HOSTILE_DISTRICT), district_file(town.PLAIN_DISTRICT)}
    assert all((out / "maps" / link).is_file() for link in links)
    city_links = re.findall(r'"href": ?"([^"]+)"', city)
    assert set(city_links) == {district_file(town.HOSTILE_DISTRICT), district_file(town.PLAIN_DISTRICT)}


@SQLITE
def test_a_symlink_planted_in_the_output_folder_is_never_written_through(hostile, tmp_path: Path) -> None:
    store, _ = hostile
    outside = tmp_path / "outside.txt"
    outside.write_text("original", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    planted = out / plan_file(town.PLAIN_NUMBER)
    planted.symlink_to(outside)
    with pytest.raises(errors.Rejected, match="--force"):  # refused before anything is rendered
        write_district_plans(store.sessions, Principal.cli(KURUME), town.HOSTILE_DISTRICT, out, workers=1)
    assert planted.is_symlink() and len(list(out.iterdir())) == 1
    write_district_plans(store.sessions, Principal.cli(KURUME), town.HOSTILE_DISTRICT, out, workers=1, force=True)
    assert outside.read_text(encoding="utf-8") == "original"
    assert not planted.is_symlink() and planted.read_bytes()[:5] == b"%PDF-"  # the link replaced, its target untouched
    # a planted folder link (the maps' assets) is refused, nothing lands behind it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "assets").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(errors.Rejected, match="シンボリックリンク"):
        write_all_maps(store.sessions, Principal.public(KURUME), maps)
    assert not list(elsewhere.iterdir())
    # and a single file write never follows a link either
    folder = OutputFolder(tmp_path / "single")
    (folder.root / "x.csv").symlink_to(outside)
    with pytest.raises(errors.Rejected):
        folder.write_bytes("x.csv", b"new")
    with pytest.raises(errors.Rejected):
        folder.write_bytes("../x.csv", b"new")
    assert outside.read_text(encoding="utf-8") == "original"


@SQLITE
def test_the_command_line_keeps_an_existing_file_unless_forced(hostile, tmp_path: Path) -> None:
    store, _ = hostile
    env = {"DISASTER_DB": store.url, "DISASTER_CITY": KURUME, "COLUMNS": "200"}
    runner = CliRunner()
    target = tmp_path / "plan.pdf"
    target.write_bytes(b"keep me")
    result = runner.invoke(app, ["plan", town.PLAIN_NUMBER, "--out", str(target)], env=env)
    assert result.exit_code == 1 and "--force" in result.stderr and "Traceback" not in result.output
    assert target.read_bytes() == b"keep me"
    result = runner.invoke(app, ["plan", town.PLAIN_NUMBER, "--out", str(target), "--force"], env=env)
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"%PDF-"
    maps = tmp_path / "maps"
    assert runner.invoke(app, ["maps", "--out", str(maps)], env=env).exit_code == 0
    before = (maps / "index.html").stat().st_mtime_ns
    again = runner.invoke(app, ["maps", "--out", str(maps)], env=env)
    assert again.exit_code == 1 and "--force" in again.stderr and (maps / "index.html").stat().st_mtime_ns == before
    assert runner.invoke(app, ["maps", "--out", str(maps), "--force"], env=env).exit_code == 0
