"""Creating and migrating the store, and registering a city."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from disaster import codes, errors, repo
from disaster.db import migrate
from disaster.profile import ProfileError, ensure_profile, load_profile


def init_store(engine: Engine, sessions: sessionmaker[Session], city_code: str, city_name: str | None = None) -> None:
    """Create or upgrade the schema and register the city (idempotent; ``city_name`` renames it)."""
    migrate(engine)
    with sessions() as session, session.begin():
        repo.ensure_city(session, city_code, city_name)


@dataclass(frozen=True)
class CityInit:
    code: str
    name: str  # "" while unknown: ``import boundary`` sets it from the N03 file
    profile: Path | None  # the city profile (None while the name is unknown)
    profile_created: bool  # a starter profile was written


def init_city(engine: Engine, sessions: sessionmaker[Session], city_code: str, city_name: str | None = None) -> CityInit:
    """``disaster init --city``: the store and the city, named by ``city_name``, else its stored
    name, else its profile; with a name, the city gets a starter profile if it has none.
    A 5-digit code gets its check digit; a wrong check digit is refused (errors.Rejected)."""
    city_code = codes.city_code(city_code)
    migrate(engine)
    with sessions() as session, session.begin():
        city = repo.ensure_city(session, city_code, city_name)
        if not city.name:
            city.name = _profile_name(city_code)
        name = city.name
    if not name:
        return CityInit(city_code, "", None, False)
    path, created = ensure_profile(city_code, name)
    return CityInit(city_code, name, path, created)


def _profile_name(city_code: str) -> str:
    try:
        return load_profile(city_code).name
    except ProfileError:
        return ""


def choose_city(engine: Engine, sessions: sessionmaker[Session], chosen: str | None) -> str:
    """The city a command works on: ``chosen`` (--city / DISASTER_CITY) if registered, else the
    store's only city. Errors (NotReady, NotFound, Rejected) say in Japanese how to choose one."""
    registered: list[tuple[str, str]] = []
    if inspect(engine).has_table("city"):  # else: a new, empty store
        with sessions() as session:
            registered = repo.cities(session)
    if chosen is not None:
        code = codes.city_code(chosen)
        if code not in dict(registered):
            raise errors.NotFound(f"団体コード {code} の市町村は登録されていません。"
                                f"`disaster init --city {code}` で登録してください。" + _listing(registered))
        return code
    if not registered:
        raise errors.NotReady("市町村が登録されていません。`disaster init --city 団体コード`"
                            "（6 桁の全国地方公共団体コード）で登録してください。")
    if len(registered) > 1:
        raise errors.NotReady("このデータベースには複数の市町村があります。--city 団体コード（または環境変数 "
                            "DISASTER_CITY）で選んでください。" + _listing(registered))
    return registered[0][0]


def _listing(registered: list[tuple[str, str]]) -> str:
    if not registered:
        return ""
    return "登録済み: " + "、".join(f"{code}（{name or '名称未設定'}）" for code, name in registered)
