"""The README's commands exist (docs checked by tests)."""

from __future__ import annotations

import re
import shlex

from typer.testing import CliRunner

from disaster.cli import app
from tests.conftest import ROOT


def _commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [shlex.split(line.split("#")[0])[1:] for block in blocks for line in block.splitlines()
            if line.startswith("disaster ")]


def test_every_disaster_command_in_the_readme_parses() -> None:
    commands = _commands()
    assert len(commands) >= 8
    global_help = CliRunner().invoke(app, ["--help"]).output  # --db / --city go before or after the command
    for args in commands:
        words = [a for a in args if not a.startswith("-")][:2]
        groups = {group.name for group in app.registered_groups}
        path = words[:2] if words and words[0] in groups else words[:1]  # command groups
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (args, result.output)
        for option in (a for a in args if a.startswith("--")):
            assert option in result.output or option in global_help, (args, option)


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert lines == ["./kurume demo", "./kurume test"]
    assert "./kurume test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
