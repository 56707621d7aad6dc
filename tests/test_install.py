"""The package ships its templates, reference data, city profiles, demo bundle and map assets: a
wheel installed (not editable) into an empty folder renders a plan, a map and an exercise pack
when run from another directory; a source checkout uses its own files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from disaster import resources
from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "disaster", "maps", "templates", "data")


def test_a_checkout_uses_its_own_files() -> None:
    """Run from a git worktree with PYTHONPATH=$PWD, the worktree's folders are used (not those
    of another checkout that is installed editable in the same virtualenv)."""
    assert resources.templates_dir() == ROOT / "templates"
    assert resources.cities_dir() == ROOT / "data" / "cities"
    assert resources.reference_dir() == ROOT / "data" / "reference"
    assert resources.demo_bundle_dir() == ROOT / "data" / "demo_bundle"
    assert resources.map_assets_dirs() == (ROOT / "maps" / "vendor", ROOT / "maps" / "static")


def test_every_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for folder in ("disaster", "maps")
             for p in (ROOT / folder).rglob("__init__.py")}
    assert listed == found | set(config["package-dir"])


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_wheel_installed_elsewhere_renders_plans_maps_and_exercises(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:  # a clean copy: the build writes build/ and *.egg-info beside the sources
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISASTER_") or k.startswith("DISASTER_TILE")}
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "wheel"),
          str(source)], tmp_path, env)
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    target = tmp_path / "target"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], tmp_path, env)

    run = tmp_path / "run"  # outside the checkout; no ./cities here
    run.mkdir()
    # -S: no site-packages processing, so another install of the package (an editable one) is invisible;
    # the dependencies come from this virtualenv's site-packages, after the installed wheel
    env |= {"PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]),
            "DISASTER_DB": f"sqlite:///{run / 'store.sqlite3'}"}
    python = [sys.executable, "-S"]
    where = _run([*python, "-c", "import json, disaster, maps, disaster.resources as r; print(json.dumps(["
                  "disaster.__file__, maps.__file__, str(r.templates_dir()), str(r.cities_dir()), str(r.demo_bundle_dir())]))"],
                 run, env)
    for path in json.loads(where):
        assert Path(path).is_relative_to(target), path

    cli = [*python, "-c", "import sys; from disaster.cli import app; sys.exit(app())"]
    _run([*cli, "demo", "--no-outputs"], run, env)
    bundle = target / "disaster" / "_data" / "demo_bundle"
    district = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["sample_district"]
    resident = next(line.split(",")[0] for line in (bundle / "residents.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
                    if f",{district}," in line)
    _run([*cli, "plan", resident, "--out", "plan.pdf"], run, env)
    _run([*cli, "map", "--district", district, "--out", "maps/district.html"], run, env)
    _run([*cli, "exercise", "new", "--district", district, "--out", "exercise"], run, env)

    assert (run / "plan.pdf").read_bytes().startswith(b"%PDF") and (run / "plan.pdf").stat().st_size > 10_000
    page = (run / "maps" / "district.html").read_text(encoding="utf-8")
    assert "assets/disaster-map.js" in page and (run / "maps" / "assets" / "disaster-map.js").is_file()
    assert (run / "maps" / "assets" / "leaflet.js").is_file()
    assert (run / "exercise" / "facilitator_guide.pdf").read_bytes().startswith(b"%PDF")
    # the pages: their templates and static files come with the wheel
    pages = _run([*python, "-c", "from fastapi.testclient import TestClient; from disaster.web import create_app; "
                  "c = TestClient(create_app(), base_url='http://127.0.0.1'); "
                  "print(c.get('/login').text); print(c.get('/static/pages.css').status_code)"], run, env)
    assert "パスワード" in pages and pages.rstrip().endswith("200")
