"""Runtime settings, read from the environment (``DISASTER_*``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA_DIR = PROJECT_ROOT / "data" / "kurume_demo"


class Settings(BaseSettings):
    """Toolkit settings. ``db`` is a SQLAlchemy URL; the default is an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="DISASTER_", env_file=".env", extra="ignore")

    db: str = "sqlite:///disaster.sqlite3"
    city_code: str = "402036"


@lru_cache
def get_settings() -> Settings:
    return Settings()
