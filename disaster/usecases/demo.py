"""Loading the bundled demo dataset (its city included) through the real importers."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors
from disaster.access import Principal, Role
from disaster.codes import HazardLayer
from disaster.demodata.people import TODAY
from disaster.models import CareProfessional, Dataset, District, Resident, User
from disaster.usecases import imports
from disaster.usecases.exercises import import_sessions
from disaster.usecases.setup import init_city
from disaster.usecases.users import add_user, set_password


@dataclass
class DemoLoad:
    city_code: str  # the bundle's city, registered by the load
    reports: list[imports.ImportReport] = field(default_factory=list)


def load_demo(
    engine: Engine,
    sessions: sessionmaker[Session],
    bundle: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoLoad:
    """Create the store if needed, register the bundle's city (named by its profile) and
    (re)load every file of the bundle; idempotent."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    city = manifest["city_code"]
    files = manifest["files"]
    init_city(engine, sessions, city)
    loaded = DemoLoad(city)
    reports = loaded.reports

    def step(label: str, action: Callable[[], imports.ImportReport]) -> None:
        progress(label)
        reports.append(action())

    step("市の区域", lambda: imports.import_boundary(sessions, bundle / "city_boundary.geojson", city))
    step("校区", lambda: imports.import_districts(
        sessions, bundle / "districts.geojson", city, table=bundle / "district_centres.csv", is_demo=True))
    step("避難所", lambda: imports.import_shelters(sessions, [bundle / "shelters.geojson"], city))
    for name, entry in files.items():
        if entry["kind"] == "hazards":
            layer = HazardLayer(entry["layer"]) if "layer" in entry else None
            progress(f"災害区域 {name}")
            reports.append(imports.import_hazards(sessions, [bundle / name], layer=layer, is_demo=True, city_code=city))
    step("名簿", lambda: imports.import_residents(
        sessions, bundle / "residents.csv", city, is_demo=True, today=TODAY))
    step("避難支援等実施者", lambda: imports.import_supporters(
        sessions, bundle / "supporters.csv", city, is_demo=True, today=TODAY))
    if "exercise_sessions.csv" in files:
        progress("図上訓練の記録")
        created, updated = import_sessions(sessions, city, bundle / "exercise_sessions.csv", is_demo=True)
        reports.append(imports.ImportReport("exercises", ["exercise_sessions.csv"], created, updated))
    return loaded


def sample_district(bundle: Path) -> str:
    """The 校区 the demo writes sample outputs for (the bundle's manifest)."""
    return str(json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["sample_district"])


def is_demo_store(sessions: sessionmaker[Session]) -> bool:
    """Whether the store holds only demo data: datasets, all of them demo (the city boundary,
    public N03 data, aside)."""
    with sessions() as session:
        flags = session.scalars(select(Dataset.is_demo).where(Dataset.kind != "boundary")).all()
    return bool(flags) and all(flags)


@dataclass(frozen=True)
class DemoAccount:
    login: str
    role: Role
    password: str
    scope: str  # what the account may see, in Japanese


def demo_accounts(sessions: sessionmaker[Session], city_code: str, district: str) -> list[DemoAccount]:
    """One account per role for trying the service on the demo store, each with a new random
    password (an existing demo account gets a new one). Refused on a store with real data."""
    if not is_demo_store(sessions):
        raise errors.Rejected("デモ用のアカウントは、デモデータだけのデータベースにしか作れません。")
    with sessions() as session:
        names = session.scalars(select(CareProfessional.name).join(Resident, CareProfessional.resident_id == Resident.id)
                                .join(District, Resident.district_id == District.id)
                                .where(District.city_code == city_code, District.name == district,
                                       CareProfessional.name.is_not(None))).all()
        existing = set(session.scalars(select(User.login).where(User.city_code == city_code)))
    professional = Counter(names).most_common(1)[0][0] if names else None
    wanted: list[tuple[str, Role, list[str], str | None, str]] = [
        ("demo-admin", Role.CITY_ADMIN, [], None, "市全体（市の管理者）"),
        ("demo-staff", Role.CITY_STAFF, [], None, "市全体（市職員）"),
        ("demo-leader", Role.LEADER, [district], None, f"{district}校区の同意者（校区リーダー・民生委員）"),
        ("demo-trainer", Role.TRAINER, [], None, "氏名なし（図上訓練の進行役）"),
    ]
    if professional:
        wanted.append(("demo-care", Role.CARE_PROFESSIONAL, [], professional, f"福祉専門職（{professional}さん）が担当する方"))
    admin = Principal.cli(city_code)
    accounts = []
    for login, role, districts, name, scope in wanted:
        password = secrets.token_urlsafe(9)
        if login in existing:
            set_password(sessions, admin, login, password)
        else:
            add_user(sessions, admin, login, role.value, password, districts, name)
        accounts.append(DemoAccount(login, role, password, scope))
    return accounts
