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


def _api_routes() -> set[str]:
    """``METHOD /api/v1/…`` of every API route, path parameters as the README names them."""
    from fastapi import FastAPI
    from fastapi.routing import APIRoute, iter_route_contexts

    from disaster.web.app import api_router

    names = {"{resident_no}": "{名簿番号}", "{district}": "{校区}", "{name:path}": "{name}", "{job_id}": "{id}",
             "{import_id}": "{id}", "{mode_id}": "{id}", "{session_id}": "{id}"}
    service = FastAPI()
    service.include_router(api_router())
    routes = set()
    for context in iter_route_contexts(service.routes):
        if isinstance(context.original_route, APIRoute):
            path = str(context.path)
            for name, shown in names.items():
                path = path.replace(name, shown)
            routes |= {f"{method} {path}" for method in context.methods or ()}
    return routes


def test_every_api_route_is_documented_and_every_documented_one_exists() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /api/v1/[^`\s?]+)", text))
    routes = _api_routes()
    assert len(routes) >= 40
    assert routes - documented == set(), "add these routes to the README's route table"
    assert documented - routes == set(), "the README names routes the service does not have"
