"""Start-up: `disaster --help` and every `disaster <command> --help` load only light modules.

The heavy libraries (the analysis engine's SciPy/OR-Tools, GeoPandas, WeasyPrint, Alembic,
pydantic-settings, SQLAlchemy) are imported by the commands that use them, so help and argument
errors answer at once. Not a timed test: it lists the modules a fresh interpreter has loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("geopandas", "pandas", "numpy", "scipy", "shapely", "pyproj", "ortools", "weasyprint", "alembic",
         "pydantic_settings", "sqlalchemy", "networkx", "openpyxl", "pyogrio", "fastapi", "uvicorn")

# Runs `disaster --help`, then `disaster <command> --help` for every command and group of the
# command line (walked from the Click tree Typer builds), in one fresh interpreter; prints the
# commands it ran and the top-level packages loaded, as JSON on the last line of stdout.
PROBE = """
import contextlib, io, json, sys
import typer.main
from disaster.cli import app

def paths(command, prefix):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, [*prefix, name])

ran = []
for path in paths(typer.main.get_command(app), []):
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        app([*path, "--help"], prog_name="disaster")
    if "Usage:" in out.getvalue():
        ran.append(" ".join(path))
print(json.dumps({"ran": ran, "loaded": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def test_help_of_every_command_loads_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"", "assess", "plan", "import", "import residents", "serve", "worker", "mode declare"} <= set(result["ran"])
    assert len(result["ran"]) >= 40  # every command answered with its usage
    assert sorted(set(HEAVY) & set(result["loaded"])) == []


def test_the_assessment_path_loads_no_scipy() -> None:
    """SciPy's KD-tree alone costs ~0.3 s of every `disaster assess` and import: the engine finds
    nearest shelters with pykdtree, and SciPy is loaded only with a road network (shortest paths)."""
    probe = ("import sys, disaster.usecases.assess, disaster.analysis.engine, disaster.analysis.travel; "
             "print('scipy' in {name.split('.')[0] for name in sys.modules})")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.stdout.strip() == "False"


def test_a_command_closes_its_store_itself(tmp_path: Path) -> None:
    """The command line skips the cyclic collection at exit (``gc_pause.no_final_collection``),
    so closing the store must not depend on it: after each command SQLite has checkpointed and
    removed the store's write-ahead log, which it does when the last connection closes."""
    database = tmp_path / "store.sqlite3"
    command = [str(Path(sys.executable).with_name("disaster")), "--db", f"sqlite:///{database}"]
    for args in (["init", "--city", "402036", "--name", "久留米市"], ["stats"]):
        subprocess.run([*command, *args], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=120)
        assert database.exists()
        assert not database.with_name(database.name + "-wal").exists(), args
