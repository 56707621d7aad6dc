"""Choosing the city on the command line: `init --city`, the global --city / DISASTER_CITY, the
store's only city, and --db / --city before or after the subcommand (issue 11, scope 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.cli import app, hoist_global_options
from disaster.codes import check_digit, city_code
from disaster.db import make_engine, session_factory
from disaster.models import City
from tests.conftest import KURUME
from tests.helpers import square, write_geojson

runner = CliRunner()
OTHER = "402052"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A new SQLite store and an empty profiles folder; no city chosen by the environment."""
    monkeypatch.delenv("DISASTER_CITY", raising=False)
    profiles = tmp_path / "cities"
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(profiles))
    return {"DISASTER_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}", "DISASTER_PROFILES_DIR": str(profiles)}


def _cities(env: dict[str, str]) -> dict[str, str]:
    engine = make_engine(env["DISASTER_DB"])
    with session_factory(engine)() as session:
        found = dict(session.execute(select(City.code, City.name)).all())
    engine.dispose()
    return found


@pytest.mark.parametrize(("given", "code"), [("40203", "402036"), ("402036", "402036"), ("01100", "011002"),
                                             ("13101", "131016"), ("４０２０３６", "402036")])
def test_check_digit_is_computed_for_five_digits_and_checked_for_six(given: str, code: str) -> None:
    assert city_code(given) == code
    assert check_digit(code[:5]) == code[5]


@pytest.mark.parametrize("bad", ["402037", "4020", "40203６7", "abcde", ""])
def test_wrong_codes_are_refused_in_japanese(bad: str) -> None:
    with pytest.raises(ValueError, match="団体コード"):
        city_code(bad)


def test_init_registers_the_city_with_its_check_digit(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init", "--city", "40203"], env=env)
    assert result.exit_code == 0, result.output
    assert "402036" in result.stdout
    assert _cities(env) == {KURUME: "久留米市"}  # the name comes from the city's profile


def test_init_refuses_a_wrong_check_digit_and_writes_nothing(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init", "--city", "402037"], env=env)
    assert result.exit_code == 1
    assert "検査数字" in result.stderr and "402036" in result.stderr
    assert not Path(env["DISASTER_DB"].removeprefix("sqlite:///")).exists()


def test_init_with_a_name_writes_a_starter_profile(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init", "--name", "乙市", "--city", OTHER], env=env)
    assert result.exit_code == 0, result.output
    profile = Path(env["DISASTER_PROFILES_DIR"]) / f"{OTHER}.toml"
    assert profile.is_file() and "乙市" in profile.read_text(encoding="utf-8")
    assert str(profile) in result.stdout.replace("\n", "")
    assert _cities(env) == {OTHER: "乙市"}
    again = runner.invoke(app, ["init", "--city", OTHER], env=env)  # idempotent, keeps the name and profile
    assert again.exit_code == 0 and "作りました" not in again.stdout
    assert _cities(env) == {OTHER: "乙市"}


def test_init_without_a_name_says_where_the_name_comes_from(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init", "--city", OTHER], env=env)
    assert result.exit_code == 0, result.output
    assert "import boundary" in result.stdout and "--name" in result.stdout
    assert _cities(env) == {OTHER: ""}
    assert not (Path(env["DISASTER_PROFILES_DIR"]) / f"{OTHER}.toml").exists()


def test_without_a_city_commands_say_how_to_choose_one(env: dict[str, str]) -> None:
    for args in (["stats"], ["init"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1
        assert "disaster init --city 団体コード" in result.stderr and "Traceback" not in result.output


def test_the_only_city_is_used_and_several_need_a_choice(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["init", "--city", KURUME], env=env).exit_code == 0
    only = runner.invoke(app, ["stats", "--json"], env=env)
    assert only.exit_code == 0 and json.loads(only.stdout)["city"]["code"] == KURUME
    assert runner.invoke(app, ["init", "--city", OTHER, "--name", "乙市"], env=env).exit_code == 0
    several = runner.invoke(app, ["stats"], env=env)
    assert several.exit_code == 1
    assert "複数の市町村" in several.stderr and KURUME in several.stderr and f"{OTHER}（乙市）" in several.stderr
    assert "--city" in several.stderr and "DISASTER_CITY" in several.stderr
    chosen = runner.invoke(app, ["--city", OTHER, "stats", "--json"], env=env)
    assert chosen.exit_code == 0 and json.loads(chosen.stdout)["city"] == {"code": OTHER, "name": "乙市", "has_boundary": False}
    by_env = runner.invoke(app, ["stats", "--json"], env=env | {"DISASTER_CITY": KURUME})
    assert by_env.exit_code == 0 and json.loads(by_env.stdout)["city"]["code"] == KURUME
    unknown = runner.invoke(app, ["stats", "--city", "131016"], env=env)
    assert unknown.exit_code == 1
    assert "131016" in unknown.stderr and "disaster init --city 131016" in unknown.stderr and "登録済み" in unknown.stderr
    wrong = runner.invoke(app, ["stats", "--city", "402037"], env=env)
    assert wrong.exit_code == 1 and "検査数字" in wrong.stderr


def test_db_and_city_work_before_or_after_the_subcommand(env: dict[str, str], database_url: str) -> None:
    other_env = {"DISASTER_PROFILES_DIR": env["DISASTER_PROFILES_DIR"]}  # no DISASTER_DB: --db must be read
    assert runner.invoke(app, ["init", "--db", database_url, "--city", KURUME], env=other_env).exit_code == 0
    assert runner.invoke(app, ["--db", database_url, "init", "--city", OTHER, "--name", "乙市"], env=other_env).exit_code == 0
    for args in (["stats", "--json", f"--db={database_url}", f"--city={OTHER}"],
                 ["--city", OTHER, "stats", "--db", database_url, "--json"],
                 ["--db", database_url, "--city", OTHER, "stats", "--json"]):
        result = runner.invoke(app, args, env=other_env)
        assert result.exit_code == 0, (args, result.output)
        assert json.loads(result.stdout)["city"]["code"] == OTHER
    nested = runner.invoke(app, ["exercise", "report", "--json", "--city", KURUME, "--db", database_url], env=other_env)
    assert nested.exit_code == 0, nested.output
    assert json.loads(nested.stdout)["participants"] == 0


def test_global_options_are_moved_to_the_front_but_not_after_a_double_dash() -> None:
    assert hoist_global_options(["plan", "0001", "--db", "sqlite:///a", "--out", "p.pdf", "--city=402036"]) == [
        "--db", "sqlite:///a", "--city=402036", "plan", "0001", "--out", "p.pdf"]
    assert hoist_global_options(["import", "residents", "--", "--city"]) == ["import", "residents", "--", "--city"]



def test_a_city_registered_by_mistake_can_be_removed_but_never_one_with_data(env: dict[str, str], tmp_path: Path) -> None:
    assert runner.invoke(app, ["city", "list"], env=env).stdout == ""  # a new store
    assert runner.invoke(app, ["init", "--city", KURUME], env=env).exit_code == 0
    assert runner.invoke(app, ["init", "--city", "40226"], env=env).exit_code == 0  # a typo for 40225
    listed = runner.invoke(app, ["city", "list"], env=env)
    assert listed.exit_code == 0 and "402265" in listed.stdout and KURUME in listed.stdout
    removed = runner.invoke(app, ["city", "remove", "402265"], env=env)
    assert removed.exit_code == 0, removed.output
    assert _cities(env) == {KURUME: "久留米市"}
    assert runner.invoke(app, ["stats", "--json"], env=env).exit_code == 0  # the only city again, no --city needed
    districts = write_geojson(tmp_path / "d.geojson", [(square(130.47, 33.28, 0.01), {"校区名": "安武"})])
    assert runner.invoke(app, ["import", "districts", str(districts)], env=env).exit_code == 0
    kept = runner.invoke(app, ["city", "remove", KURUME], env=env)
    assert kept.exit_code == 1 and "校区 1 件" in kept.stderr and "取り消せません" in kept.stderr
    assert KURUME in _cities(env)
