"""`disaster mode declare|end|list` and the CLI's reads under 災害時モード, on SQLite and
PostgreSQL: the CLI acts as the city administrator; its audited reads under the mode carry
``details["disaster_mode"]``; a leader map drawn under the mode shows (and records) the residents
who did not consent; bad input gives a Japanese message and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select
from typer.testing import CliRunner

from disaster import auditlog, repo
from disaster.cli import app
from disaster.db import alembic_config, make_engine, session_factory
from disaster.models import DisasterMode
from disaster.usecases.maps import district_file
from tests.conftest import KURUME
from tests.test_access import BY_NUMBER, _build

runner = CliRunner()


@pytest.fixture
def town(store) -> Any:
    _build(store)
    return store


def _invoke(store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"DISASTER_DB": store.url, "DISASTER_CITY": KURUME, "COLUMNS": "200"})


def _cli(store, *args: str):  # type: ignore[no-untyped-def]
    result = _invoke(store, *args)
    assert result.exit_code == 0, result.output
    return result


def _log(store) -> list[dict[str, Any]]:
    with store.sessions() as session:
        return [auditlog.as_dict(e) for e in auditlog.entries(session, KURUME)]


def _listing(store) -> list[dict[str, Any]]:
    return json.loads(_cli(store, "mode", "list", "--json").stdout)


def _later(**delta: float) -> str:
    return (dt.datetime.now().astimezone() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def test_declare_list_and_end(town) -> None:
    assert _listing(town) == []
    until = _later(hours=6)
    declared = _cli(town, "mode", "declare", "--reason", "北川の氾濫のおそれ", "--district", "北", "--until", until)
    assert "災害時モード #1 を宣言しました" in declared.output and "北" in declared.output
    (mode,) = _listing(town)
    assert mode | {"ends_at": None, "starts_at": None} == {
        "id": 1, "city_code": KURUME, "status": "実施中", "on": True, "reason": "北川の氾濫のおそれ", "districts": ["北"],
        "all_districts": False, "declared_by": mode["declared_by"], "starts_at": None, "ends_at": None,
        "ended_at": None, "ended_by": None, "reads": 0}
    assert dt.datetime.fromisoformat(mode["ends_at"]) == dt.datetime.fromisoformat(until).astimezone()
    table = _cli(town, "mode", "list").output
    assert "実施中" in table and "北川の氾濫のおそれ" in table
    ended = _cli(town, "mode", "end", "1")
    assert "災害時モード #1（北）を終了しました" in ended.output
    (mode,) = _listing(town)
    assert (mode["status"], mode["on"], mode["ended_by"]) == ("早期に終了", False, mode["declared_by"])
    again = _invoke(town, "mode", "end", "1")
    assert again.exit_code == 1 and "すでに終了しています" in again.output
    assert [e["action"] for e in _log(town)] == ["disaster_mode.declare", "disaster_mode.end"]
    assert "つながりは保たれています" in _cli(town, "audit", "verify").output


def test_a_declaration_for_all_districts(town) -> None:
    _cli(town, "mode", "declare", "--reason", "震度6強", "--until", _later(days=6, hours=23))
    (mode,) = _listing(town)
    assert mode["districts"] == [] and mode["all_districts"]
    assert "全校区" in _cli(town, "mode", "list").output


def test_reads_under_the_mode_are_marked_and_a_leader_map_shows_those_without_consent(town, tmp_path: Path) -> None:
    before = tmp_path / "before.html"
    _cli(town, "map", "--district", "北", "--view", "leader", "--out", str(before))
    assert BY_NUMBER["A0002"].name not in before.read_text(encoding="utf-8")
    _cli(town, "mode", "declare", "--reason", "避難指示", "--district", "北", "--until", _later(hours=2))
    during = tmp_path / "during.html"
    drawn = _cli(town, "map", "--district", "北", "--view", "leader", "--out", str(during))
    assert "災害時モード" in drawn.output
    page = during.read_text(encoding="utf-8")
    assert BY_NUMBER["A0002"].name in page and BY_NUMBER["A0001"].name in page
    _cli(town, "map", "--district", "北", "--view", "city", "--out", str(tmp_path / "city.html"))
    all_maps = _cli(town, "maps", "--view", "leader", "--out", str(tmp_path / "maps"))
    assert "災害時モード中（北）" in all_maps.output
    assert BY_NUMBER["A0002"].name in (tmp_path / "maps" / district_file("北")).read_text(encoding="utf-8")
    assert BY_NUMBER["A0004"].name not in (tmp_path / "maps" / district_file("南")).read_text(encoding="utf-8")
    _cli(town, "mode", "end", "1")
    _cli(town, "map", "--district", "北", "--view", "leader", "--out", str(tmp_path / "after.html"))
    assert BY_NUMBER["A0002"].name not in (tmp_path / "after.html").read_text(encoding="utf-8")

    map_before, declared, map_during, map_city, maps_leader, ended, map_after = _log(town)
    assert declared["action"] == "disaster_mode.declare" and ended["action"] == "disaster_mode.end"
    assert map_before["resident_ids"] == ["A0001"] and "disaster_mode" not in map_before["details"]
    assert map_during["resident_ids"] == ["A0001", "A0002"] and map_during["details"]["disaster_mode"] == 1
    assert map_city["details"]["disaster_mode"] == 1
    assert maps_leader["details"]["disaster_mode"] == 1 and {"A0002", "A0003"} <= set(maps_leader["resident_ids"])
    assert "A0004" not in maps_leader["resident_ids"]
    assert map_after["resident_ids"] == ["A0001"] and "disaster_mode" not in map_after["details"]
    assert _listing(town)[0]["reads"] == 3
    assert _cli(town, "audit", "verify").exit_code == 0


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--reason", "", "--district", "北", "--until", "+6h"], 2, "--until「+6h」は日時"),
    (["--reason", "", "--district", "北", "--until", "FUTURE"], 1, "理由を入力してください"),
    (["--reason", "理由", "--district", "北", "--until", "2020-01-01T00:00"], 1, "過ぎています"),
    (["--reason", "理由", "--district", "北", "--until", "FAR"], 1, "最長 7 日間"),
    (["--reason", "理由", "--district", "東", "--until", "FUTURE"], 1, "校区「東」はこの市町村に登録されていません"),
])
def test_bad_input_is_refused_in_japanese_and_writes_nothing(town, args: list[str], code: int, message: str) -> None:
    args = [{"FUTURE": _later(hours=1), "FAR": _later(days=8)}.get(a, a) for a in args]
    result = _invoke(town, "mode", "declare", *args)
    assert result.exit_code == code and message in result.output, result.output
    assert "Traceback" not in result.output
    with town.sessions() as session:
        assert session.scalar(select(func.count(DisasterMode.id))) == 0
    assert _log(town) == []


def test_end_of_an_unknown_declaration(town) -> None:
    result = _invoke(town, "mode", "end", "7")
    assert result.exit_code == 1 and "災害時モード #7 はこの市町村にはありません" in result.output
    assert _log(town) == []


def test_a_store_of_the_previous_version_is_refused_until_init(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0008")  # before 災害時モード
    with session_factory(engine)() as session, session.begin():
        repo.ensure_city(session, KURUME, "久留米市")
    engine.dispose()
    env = {"DISASTER_DB": database_url}
    for args in (["mode", "list"], ["mode", "end", "1"],
                 ["mode", "declare", "--reason", "理由", "--until", _later(hours=1)]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "disaster init" in result.output and "Traceback" not in result.output, args
    stats = runner.invoke(app, ["stats"], env=env)  # every command: the store must be upgraded first
    assert stats.exit_code == 1 and "disaster init" in stats.output, stats.output
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    stats = runner.invoke(app, ["stats"], env=env)
    assert stats.exit_code == 0, stats.output
