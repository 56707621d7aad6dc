"""Creating and migrating the store, and registering a city."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import codes, errors, repo
from disaster.db import migrate
from disaster.models import AddressPoint, City, Dataset, District, Resident, Shelter, Supporter
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


def list_cities(engine: Engine, sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """(団体コード, name) of the registered cities; none in a new, empty store."""
    if not inspect(engine).has_table("city"):
        return []
    with sessions() as session:
        return repo.cities(session)


def choose_city(engine: Engine, sessions: sessionmaker[Session], chosen: str | None) -> str:
    """The city a command works on: ``chosen`` (--city / DISASTER_CITY) if registered, else the
    store's only city. Errors (NotReady, NotFound, Rejected) say in Japanese how to choose one."""
    registered = list_cities(engine, sessions)
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


CITY_DATA = {District: "校区", Resident: "名簿の人", Supporter: "支援者", Shelter: "避難所", AddressPoint: "位置参照情報の点",
             Dataset: "取り込んだファイル"}


def remove_city(sessions: sessionmaker[Session], city_code: str) -> None:
    """Unregister a city registered by mistake (e.g. a mistyped 団体コード). Only a city without
    data is removed: a city's data is never deleted by this command."""
    city_code = codes.city_code(city_code)
    with sessions() as session, session.begin():
        repo.get_city(session, city_code)
        held = {label: n for model, label in CITY_DATA.items()
                if (n := session.scalar(select(func.count()).select_from(model).where(model.city_code == city_code)))}
        if held:
            listing = "、".join(f"{label} {n} 件" for label, n in held.items())
            raise errors.Conflict(f"団体コード {city_code} の市町村にはデータがあるため、登録を取り消せません（{listing}）。")
        session.execute(delete(City).where(City.code == city_code))
