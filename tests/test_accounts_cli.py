"""`disaster user add/list/disable/set-password`: the password comes from stdin and is never
echoed, stored or logged; refusals are one Japanese line and exit 1."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from disaster.accounts import AuthFailed, authenticate
from disaster.cli import app
from disaster.models import User
from tests import plans_fixtures as F
from tests.helpers import snapshot

runner = CliRunner()
CLI_LOGIN = os.environ.get("USER") or getpass.getuser()  # the CLI acts as this city administrator
PASSWORD = "yama-no-ue-no-2026"
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _cli(store, *args: str, password: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=None if password is None else password + "\n",
                         env={"DISASTER_DB": store.url})


def test_user_commands_from_add_to_disable(store) -> None:
    F.build(store.sessions)
    added = _cli(store, "user", "add", "minsei", "--role", "leader", "--district", "手作り", "--password-stdin",
                 password=PASSWORD)
    assert added.exit_code == 0, added.output
    assert "minsei（校区リーダー・民生委員：手作り）を登録しました" in added.output
    with store.sessions() as session:
        assert authenticate(session, "minsei", PASSWORD, T0).role == "leader"

    listed = _cli(store, "user", "list")
    assert listed.exit_code == 0 and "minsei" in listed.output and "有効" in listed.output, listed.output

    changed = _cli(store, "user", "set-password", "minsei", "--password-stdin", password="another-one-2026")
    assert changed.exit_code == 0, changed.output
    with store.sessions() as session:
        assert authenticate(session, "minsei", "another-one-2026", T0).login == "minsei"

    disabled = _cli(store, "user", "disable", "minsei")
    assert disabled.exit_code == 0, disabled.output
    assert "停止" in _cli(store, "user", "list").output
    with store.sessions() as session, pytest.raises(AuthFailed):
        authenticate(session, "minsei", "another-one-2026", T0)

    log = _cli(store, "audit", "log", "--json")
    assert log.exit_code == 0, log.output
    entries = json.loads(log.output)
    changes = [(e["action"], e["details"].get("login")) for e in entries
               if e["action"].startswith("user.") and e["action"] != "user.list"]
    assert changes == [("user.add", "minsei"), ("user.set_password", "minsei"), ("user.disable", "minsei")]
    assert [e["action"] for e in entries].count("user.list") == 2  # each `user list` is recorded too
    assert {e["actor"] for e in entries if e["action"].startswith("user.")} == {CLI_LOGIN}
    for output in (added.output, changed.output, log.output):
        assert PASSWORD not in output and "another-one-2026" not in output
    assert all(PASSWORD not in cell for rows in snapshot(store).values() for row in rows for cell in row)


def test_user_add_refusals_exit_1_and_write_nothing(store) -> None:
    F.build(store.sessions)
    before = snapshot(store)
    unknown = _cli(store, "user", "add", "minsei", "--role", "leader", "--district", "どこか", "--password-stdin",
                   password=PASSWORD)
    assert unknown.exit_code == 1 and "校区「どこか」はこの市町村に登録されていません" in unknown.output, unknown.output
    weak = _cli(store, "user", "add", "minsei", "--role", "city_staff", "--password-stdin", password="abc")
    assert weak.exit_code == 1 and "10 文字以上" in weak.output, weak.output
    role = _cli(store, "user", "add", "minsei", "--role", "mayor", "--password-stdin", password=PASSWORD)
    assert role.exit_code == 1 and "役割「mayor」はありません" in role.output
    missing = _cli(store, "user", "disable", "nobody")
    assert missing.exit_code == 1 and "この市町村にはいません" in missing.output
    assert snapshot(store) == before
    assert all(PASSWORD not in r.output for r in (unknown, role))


def test_user_add_without_the_flag_asks_twice_without_echo(store) -> None:
    result = runner.invoke(app, ["user", "add", "kakari", "--role", "city_staff"],
                           input=f"{PASSWORD}\n{PASSWORD}\n", env={"DISASTER_DB": store.url})
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "もう一度" in result.output
    with store.sessions() as session:
        assert session.scalars(select(User.login)).all() == ["kakari"]
