"""The command line: exit codes and user-facing Japanese messages."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from disaster.cli import app
from tests.conftest import BUNDLE, KURUME
from tests.helpers import write_csv

runner = CliRunner()


def test_import_before_init_explains_what_to_do(tmp_path: Path) -> None:
    env = {"DISASTER_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = runner.invoke(app, ["init", "--city", KURUME], env=env)
    assert result.exit_code == 0
    result = runner.invoke(app, ["import", "residents", str(BUNDLE / "residents.csv")], env=env)
    assert result.exit_code == 1
    assert "校区が登録されていません" in result.stderr and "disaster import districts" in result.stderr


def test_rejected_import_lists_rows_and_exits_nonzero(database_url: str, tmp_path: Path) -> None:
    env = {"DISASTER_DB": database_url}
    for args in (["init", "--city", KURUME], ["import", "boundary", str(BUNDLE / "city_boundary.geojson")],
                 ["import", "districts", str(BUNDLE / "districts.geojson"), "--table", str(BUNDLE / "district_centres.csv")]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    bad = write_csv(tmp_path / "m.csv", ["名簿番号", "氏名", "生年月日", "住所", "緯度", "経度"],
                    [["1", "a", "R5.2.30", "x", "33.29", "130.476"], ["2", "", "S10.1.1", "x", "33.29", "130.476"]],
                    encoding="cp932")
    result = runner.invoke(app, ["import", "residents", str(bad)], env=env)
    assert result.exit_code == 1
    assert "m.csv 2行目「生年月日」" in result.stderr
    assert "m.csv 3行目「氏名」" in result.stderr
    assert "何も書き込んでいません" in result.stderr
    result = runner.invoke(app, ["import", "residents", str(bad), "--skip-bad-rows", "--rejects", str(tmp_path / "r.csv")], env=env)
    assert result.exit_code == 0 and "2 件の問題" in result.stdout
    assert (tmp_path / "r.csv").exists()


def test_missing_file_and_unknown_format_are_errors_not_tracebacks(tmp_path: Path) -> None:
    env = {"DISASTER_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    runner.invoke(app, ["init", "--city", KURUME], env=env)
    result = runner.invoke(app, ["import", "hazards", str(tmp_path / "nope.geojson")], env=env)
    assert result.exit_code == 1 and "ファイルがありません" in result.stderr
    (tmp_path / "x.txt").write_text("not a table\nreally not\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "shelters", str(tmp_path / "x.txt")], env=env)
    assert result.exit_code == 1 and "「共通ID」列がありません" in result.stderr
    assert "Traceback" not in result.output
