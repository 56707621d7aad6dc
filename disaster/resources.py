"""Files the toolkit ships with: templates, reference data, city profiles, the demo bundle and
the map assets.

The repository keeps them in top-level folders (``templates/``, ``data/``, ``maps/``). A wheel
installs ``templates/`` and ``data/`` inside the package (``disaster/_templates``,
``disaster/_data``: see ``[tool.setuptools.package-dir]`` in pyproject.toml) and ``maps/`` is a
package of its own. In a source checkout (an editable install, or a git worktree run with
``PYTHONPATH=$PWD``) the checkout's own folders are used, so a worktree never reads another
checkout's files; otherwise the installed copies are found with ``importlib.resources``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from disaster.errors import NotReady

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # a source checkout: build-demo reads ../shared/data beside it
_INSTALLED = {"templates": "_templates", "data": "_data"}  # repository folder -> folder inside the package


class ResourceMissing(NotReady, FileNotFoundError):
    """A bundled resource folder is missing (a broken installation)."""


@cache
def _folder(name: str) -> Path:
    """The top-level folder ``name`` of the repository, or its installed copy."""
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / name).is_dir():
        return PROJECT_ROOT / name
    installed = Path(str(files("disaster") / _INSTALLED[name]))
    if not installed.is_dir():
        raise ResourceMissing(f"同梱のファイル（{name}/）が見つかりません: {installed}。パッケージを入れ直してください。")
    return installed


def templates_dir() -> Path:
    """Jinja2 templates and stylesheets (``templates/``)."""
    return _folder("templates")


def data_dir() -> Path:
    """The bundled data (``data/``)."""
    return _folder("data")


def reference_dir() -> Path:
    """Versioned reference tables (``data/reference/``), e.g. the 警戒レベル."""
    return data_dir() / "reference"


def cities_dir() -> Path:
    """The packaged city profiles (``data/cities/<団体コード>.toml``)."""
    return data_dir() / "cities"


def demo_specs_dir() -> Path:
    """The demo generator's city specs (``data/demo/<団体コード>.toml``)."""
    return data_dir() / "demo"


def demo_bundle_dir() -> Path:
    """The bundled demo dataset loaded by ``disaster demo``."""
    return data_dir() / "demo_bundle"


DEMO_DATA_DIR = demo_bundle_dir()


def map_assets_dirs() -> tuple[Path, Path]:
    """The vendored Leaflet files and the toolkit's own map script and stylesheet (``maps/vendor``,
    ``maps/static``), copied next to every HTML map."""
    package = Path(str(files("maps")))
    return package / "vendor", package / "static"
