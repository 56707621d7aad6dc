"""Formula injection (issue 14, class 3): no CSV or Excel file the toolkit writes lets a spreadsheet
run text from the data. Hostile values (probes/formula_cells.json) go in through the real
importers on the command line — names, addresses, notes, a 校区 name, a facilitator — then every
command that writes a CSV or a workbook runs, and every cell of every file it produced is checked.
A code check makes sure no module writes CSV or Excel around ``disaster.exports``."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from disaster import exports
from disaster.cli import app
from tests.conftest import BUNDLE, KURUME, ROOT
from tests.helpers import write_csv

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the files matter, not the database
PAYLOADS: list[str] = json.loads((Path(__file__).with_name("probes") / "formula_cells.json").read_text(encoding="utf-8"))
DISTRICT = "@SUM(1)"  # a 校区 name a spreadsheet would run
RENAMED = "城島"
NUMBER = re.compile(r"-?\d+(\.\d+)?")
WRITERS = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|openpyxl import .*\bWorkbook\b|\.to_excel\(|xlsxwriter")
# generates the importers' own input files (the demo bundle), which must read back as written: not an export
NOT_EXPORTS = {"disaster/demodata/build.py"}


def _hostile_inputs(folder: Path) -> dict[str, Path]:
    """The demo 校区 and a few of its residents, renamed and filled with the payloads."""
    districts = json.loads((BUNDLE / "districts.geojson").read_text(encoding="utf-8"))
    for feature in districts["features"]:
        if feature["properties"]["name"] == RENAMED:
            feature["properties"]["name"] = DISTRICT
    (folder / "districts.geojson").write_text(json.dumps(districts, ensure_ascii=False), encoding="utf-8")
    table = (BUNDLE / "district_centres.csv").read_text(encoding="utf-8-sig").replace(f"\n{RENAMED},", f"\n{DISTRICT},")
    (folder / "district_centres.csv").write_text(table, encoding="utf-8")
    with (BUNDLE / "residents.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if row[header.index("校区")] == RENAMED][:len(PAYLOADS) + 1]
    for row, payload in zip(rows, PAYLOADS, strict=False):
        row[header.index("校区")] = DISTRICT
        for column in ("氏名", "住所", "その他配慮事項", "日中の状況", "緊急連絡先1氏名"):
            row[header.index(column)] = payload
        row[header.index("計画作成同意")] = "はい"
    bad = rows[-1]  # a rejected row: its raw cells go to the rejects file
    bad[header.index("校区")] = DISTRICT
    bad[header.index("生年月日")] = "=NOW()"
    bad[header.index("住所")] = PAYLOADS[0]
    sessions = [[f"2026-06-0{i + 1}", DISTRICT, "洪水", payload, "5", "3", "2", "10", "1", "0", "1", "0", "4", "4", "4",
                 payload, payload] for i, payload in enumerate(PAYLOADS[:3])]
    with (BUNDLE / "exercise_sessions.csv").open(encoding="utf-8-sig") as handle:
        session_header = next(csv.reader(handle))
    return {"residents": write_csv(folder / "residents.csv", header, rows),
            "sessions": write_csv(folder / "sessions.csv", session_header, sessions)}


def _cells(path: Path) -> list[tuple[str, object, object]]:
    """(where, value, openpyxl cell or None) of every cell of a CSV or workbook."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [(f"{path.name}:{r}:{c}", value, None) for r, row in enumerate(csv.reader(handle))
                    for c, value in enumerate(row)]
    from openpyxl import load_workbook

    book = load_workbook(path)
    return [(f"{path.name}:{sheet.title}!{cell.coordinate}", cell.value, cell)
            for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]


@SQLITE
def test_no_exported_cell_runs_as_a_formula(store, tmp_path: Path) -> None:
    inputs = _hostile_inputs(tmp_path)
    out = tmp_path / "out"
    env = {"DISASTER_DB": store.url, "DISASTER_CITY": KURUME, "COLUMNS": "200"}
    runner = CliRunner()
    for args in (["import", "boundary", str(BUNDLE / "city_boundary.geojson")],
                 ["import", "districts", str(tmp_path / "districts.geojson"), "--table", str(tmp_path / "district_centres.csv")],
                 ["import", "shelters", str(BUNDLE / "shelters.geojson")],
                 ["import", "hazards", str(BUNDLE / "A31a-20_demo_chikugogawa.geojson")],
                 ["import", "residents", str(inputs["residents"]), "--skip-bad-rows", "--rejects", str(out / "rejects.csv")],
                 ["assess"],
                 ["plans", "--district", DISTRICT, "--out", str(out / "plans"), "--workers", "1", "--drafts"],
                 ["exercise", "import", str(inputs["sessions"])],
                 ["exercise", "report", "--year", "R8", "--out", str(out / "report")],
                 ["exercise", "new", "--district", DISTRICT, "--closed", "--out", str(out / "pack")]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, (args, result.output, result.exception)
    written = sorted(p for p in out.rglob("*") if p.suffix in (".csv", ".xlsx"))
    assert {p.name for p in written} >= {"rejects.csv", "msel.csv", "図上訓練_令和8年度.csv", "図上訓練_令和8年度.xlsx"}
    assert any(p.parent.name == "plans" for p in written)
    seen: set[str] = set()
    for path in written:
        for where, value, cell in _cells(path):
            if cell is not None:
                assert cell.data_type != "f", where  # type: ignore[attr-defined]
                if isinstance(value, str) and exports.is_formula_like(value):
                    assert cell.data_type == "s" and cell.quotePrefix, where  # type: ignore[attr-defined]
                    seen.add(value)
            else:
                text = str(value)
                assert not exports.is_formula_like(text) or NUMBER.fullmatch(text), (where, text)
                if text.startswith("'"):
                    seen.add(text[1:])
    # the payloads did reach the files (as text): the check above was not vacuous
    assert DISTRICT in seen and PAYLOADS[0] in seen and "=NOW()" in seen


@pytest.mark.parametrize("value", PAYLOADS)
def test_each_payload_is_neutralised_and_numbers_stay_numbers(value: str) -> None:
    from openpyxl import load_workbook

    data = exports.csv_bytes(["名前", "数"], [[value, -2], [value.strip(), 3.5]])
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines(keepends=True)))
    assert rows[1] == ["'" + value, "-2"] and rows[2][1] == "3.5"
    book = exports.workbook()
    exports.sheet(book, "表", [[value, -2]])
    cell, number = load_workbook(io.BytesIO(exports.workbook_bytes(book)))["表"]["A1":"B1"][0]
    assert cell.value == value.replace("\r", "\n")  # XML reads a carriage return as a line feed
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
    assert (number.value, number.data_type) == (-2, "n")


def test_no_module_writes_csv_or_excel_around_disaster_exports() -> None:
    offenders = []
    for path in sorted([*(ROOT / "disaster").rglob("*.py"), *(ROOT / "maps").rglob("*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name == "disaster/exports.py" or name in NOT_EXPORTS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if WRITERS.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "write CSV and Excel through disaster.exports:\n" + "\n".join(offenders)
