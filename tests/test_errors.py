"""One error hierarchy (disaster.errors): user errors are DisasterErrors, the CLI prints them in
one line and exits 1, and a bug's ValueError is not shown as a user message."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from disaster import codes, errors
from disaster.cli import app
from disaster.geo import CrsError
from disaster.importers.geofile import GeoFileError
from disaster.importers.problems import ImportRejected, Problem
from disaster.importers.roster import MappingError
from disaster.importers.tabular import TableError
from disaster.pdf.fonts import FontMissing
from disaster.profile import ProfileError
from disaster.resources import ResourceMissing
from disaster.wareki import DateFormatError, parse_date
from maps.tiles import TooManyTiles, default_source, parse_zooms


@pytest.mark.parametrize(("error", "kind"), [
    (ImportRejected, errors.Rejected), (GeoFileError, errors.Rejected), (TableError, errors.Rejected),
    (MappingError, errors.Rejected), (CrsError, errors.Rejected), (DateFormatError, errors.Rejected),
    (TooManyTiles, errors.Rejected), (ProfileError, errors.NotReady), (ResourceMissing, errors.NotReady),
    (FontMissing, errors.NotReady),
])
def test_user_errors_belong_to_the_hierarchy(error: type[Exception], kind: type[errors.DisasterError]) -> None:
    assert issubclass(error, kind) and issubclass(error, errors.DisasterError)


def test_deliberate_user_value_errors_are_rejections() -> None:
    with pytest.raises(errors.Rejected, match="検査数字"):
        codes.city_code("402030")
    with pytest.raises(errors.Rejected, match="--zoom"):
        parse_zooms("十五", default_source())
    with pytest.raises(errors.Rejected):
        parse_date("きのう")
    rejected = ImportRejected([Problem("meibo.csv", 3, "氏名", "空欄です。")])
    assert isinstance(rejected, errors.DisasterError) and "取り込みを中止" in str(rejected)


@pytest.mark.parametrize("kind", [errors.NotFound, errors.NotReady, errors.Rejected, errors.Forbidden, errors.Conflict])
def test_the_cli_prints_a_user_error_in_one_line(store, monkeypatch: pytest.MonkeyPatch,
                                                 kind: type[errors.DisasterError]) -> None:
    def fail(*args: object) -> None:
        raise kind("これは利用者向けの説明です。")

    monkeypatch.setattr("disaster.usecases.stats.store_stats", fail)
    result = CliRunner().invoke(app, ["stats"], env={"DISASTER_DB": store.url})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["エラー: これは利用者向けの説明です。"]


def test_a_real_user_error_from_a_use_case(store) -> None:
    result = CliRunner().invoke(app, ["plan", "Z9999", "--out", "never.pdf"], env={"DISASTER_DB": store.url})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["エラー: 名簿番号「Z9999」の方は名簿にいません。"]


def test_a_bugs_value_error_is_not_shown_as_a_user_message(store, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*args: object) -> None:
        raise ValueError("invalid literal for int() with base 10: 'x'")

    monkeypatch.setattr("disaster.usecases.stats.store_stats", bug)
    result = CliRunner().invoke(app, ["stats"], env={"DISASTER_DB": store.url})
    assert result.exit_code != 0 and isinstance(result.exception, ValueError)
    assert "エラー:" not in result.output and "invalid literal" not in result.output


def test_bad_options_are_rejections_not_tracebacks(store) -> None:
    from disaster.exercises.tracking import parse_fiscal

    assert parse_fiscal("R8") == 2026 and parse_fiscal("令和元年度") == 2019
    with pytest.raises(errors.Rejected, match="年度"):
        parse_fiscal("来年")
    env = {"DISASTER_DB": store.url}
    result = CliRunner().invoke(app, ["exercise", "report", "--year", "来年"], env=env)
    assert result.exit_code == 1 and result.output.strip().splitlines() == [
        "エラー: 年度「来年」は R8・令和8年度・2026 のように指定してください。"]
    result = CliRunner().invoke(app, ["exercise", "record", "--district", "北", "--date", "2026-06-14",
                                      "--hazard", "tsunami"], env=env)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1 and "--hazard" in result.output
