"""Runtime settings, read from the environment (``DISASTER_*``) and, only when one is named by
``DISASTER_ENV_FILE`` (or the CLI's ``--env-file``), from an env file. A ``.env`` in the working
directory is never read by itself."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from disaster.errors import Rejected

DEFAULT_SECRET_KEY = "insecure-default-secret-for-the-demo-only"


class Settings(BaseSettings):
    """Toolkit settings. ``db`` is a SQLAlchemy URL; the default is an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="DISASTER_", extra="ignore")

    db: str = "sqlite:///disaster.sqlite3"
    # The city commands work on (団体コード, DISASTER_CITY or --city); unset: the store's only city.
    city: str | None = None
    # City profiles written or edited by the user (<団体コード>.toml); the packaged ones are the fallback.
    profiles_dir: Path = Path("cities")

    # Basemap tiles for the static maps (maps/tiles.py): an XYZ URL template, its attribution, the
    # zoom levels maps may use, a per-request timeout (s), the disk cache (default: the user cache),
    # the most tiles one map may use, and ``tile_offline`` = never fetch, use the cache only.
    tile_url: str = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"
    tile_attribution: str = "出典：国土地理院（淡色地図）"
    tile_zoom_min: int = 12
    tile_zoom_max: int = 16
    tile_timeout: float = 5.0
    tile_cache_dir: Path | None = None
    tile_max_tiles: int = 36
    tile_offline: bool = False

    # Accounts (disaster/accounts.py): after ``login_max_failures`` wrong passwords in a row an
    # account is locked for ``login_lockout_minutes``; passwords have at least ``password_min_length`` characters.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    password_min_length: int = 10

    # The web service (`disaster serve`, disaster.web). ``secret_key`` keys the hashes of the session
    # tokens stored in the database (changing it ends every session); the service refuses to start
    # with the default outside a demo store. A session ends after ``session_idle_minutes`` without a
    # request and at the latest ``session_max_hours`` after login. ``allowed_hosts``: the Host names
    # served (JSON list in the environment, e.g. DISASTER_ALLOWED_HOSTS='["bousai.example.jp"]');
    # ``https_only``: behind HTTPS, cookies are Secure and browsers are told to keep to HTTPS.
    # More than ``login_throttle_failures`` failed logins from one address within
    # ``login_throttle_minutes`` refuse that address's logins for a while (accounts lock on their own).
    secret_key: str = DEFAULT_SECRET_KEY
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    allowed_hosts: list[str] = ["127.0.0.1", "localhost"]
    https_only: bool = False
    login_throttle_failures: int = 20
    login_throttle_minutes: int = 15

    # Background jobs (disaster.jobs). ``job_queue``: "embedded" runs ``job_workers`` worker threads
    # in each `disaster serve` process (0: none; `disaster worker` can run them instead);
    # "procrastinate" (PostgreSQL only) defers each job to procrastinate and `disaster worker` runs
    # them on any machine using the same database. A running job's worker beats every
    # ``job_heartbeat_seconds``; a job whose heartbeat is older than ``job_stale_seconds`` is
    # marked interrupted. ``job_render_processes``: processes one 校区's plans render with.
    job_queue: Literal["embedded", "procrastinate"] = "embedded"
    job_workers: int = 2
    job_heartbeat_seconds: float = 5.0
    job_stale_seconds: float = 60.0
    job_render_processes: int = 1
    # A job's result (which may hold personal data) is deleted ``job_result_days`` after the job ended.
    job_result_days: float = 7.0

    # Plan PDFs asked of a `disaster serve` process render in ``pdf_processes`` processes of its own
    # (CPU-bound: about the number of cores), each replaced after ``pdf_recycle_after`` plans.
    pdf_processes: int = Field(default=2, ge=1)
    pdf_recycle_after: int = Field(default=200, ge=1)

    # Bounds on imported files (disaster/importers), checked before a file is loaded: the most
    # data rows of a table (a prefecture's 名簿 or a city's 位置参照情報 has fewer; Excel's own
    # limit, 1,048,576, is refused), the most bytes of a CSV or of a workbook once uncompressed
    # (the sum of its zip members), the most characters in one cell, and for geodata the
    # largest file and the most features.
    import_max_rows: int = Field(default=500_000, ge=1)
    import_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    import_max_cell_chars: int = Field(default=1_000, ge=1)
    import_max_geo_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    import_max_features: int = Field(default=500_000, ge=1)


ENV_FILE_VARIABLE = "DISASTER_ENV_FILE"


@lru_cache
def get_settings() -> Settings:
    """The settings; an env file only when ``DISASTER_ENV_FILE`` names one (it must exist)."""
    env_file = os.environ.get(ENV_FILE_VARIABLE)
    if env_file and not Path(env_file).is_file():
        raise Rejected(f"設定ファイル（{ENV_FILE_VARIABLE} / --env-file）が見つかりません: {env_file}")
    try:
        return Settings(_env_file=env_file or None)  # type: ignore[call-arg]
    except ValidationError as exc:  # the values are not repeated: a setting may be a secret
        names = "、".join(sorted({f"DISASTER_{str(e['loc'][0]).upper()}" for e in exc.errors() if e["loc"]}))
        raise Rejected(f"設定の値が正しくありません: {names}（環境変数または設定ファイル）。") from exc
