"""Who may see and do what — decided here and nowhere else.

A ``Principal`` is a role, a city and, for a 校区 leader / 民生委員, the 校区 they serve (plus the
校区 currently under 災害時モード). Every output (maps, plans, stats, exercise materials, the CLI
and the service) asks this module, and the answers are applied **in the queries**:

- ``resident_filter``: the residents a principal may load with their identity (name, address,
  phone, 名簿番号). City roles: the city's residents. Leader: the residents of their 校区 who
  consented to sharing their 名簿 data before a disaster (災害対策基本法 49条の11②), and everyone
  of a 校区 under 災害時モード (49条の11③). 福祉専門職: the residents whose CareProfessional rows
  name them. Trainer and public: nobody.
- ``counted_filter``: the residents a principal may count (aggregates, pseudonymised exercise
  people): the city's residents; counts are shown with small-number suppression
  (``count_label``, the rule of ``disaster.suppression``) unless the principal may see the
  校区's residents by name.
- ``allowed_fields``: the resident columns a principal may load.
- ``can`` / ``require``: the actions a principal may take.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, null, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from disaster import errors, suppression
from disaster.models import CareProfessional, District, Resident, Supporter


class Role(StrEnum):
    CITY_ADMIN = "city_admin"  # the city's administrator (the CLI acts as one)
    CITY_STAFF = "city_staff"  # 地域福祉課 and other city staff
    LEADER = "leader"  # 校区 leader / 民生委員 of one or more 校区
    TRAINER = "trainer"  # runs 図上訓練 for any 校区 with pseudonymised people
    CARE_PROFESSIONAL = "care_professional"  # 福祉専門職: the residents assigned to them
    PUBLIC = "public"  # no login


CITY_ROLES = frozenset({Role.CITY_ADMIN, Role.CITY_STAFF})

ROLE_LABELS = {Role.CITY_ADMIN: "市の管理者", Role.CITY_STAFF: "市職員", Role.LEADER: "校区リーダー・民生委員",
               Role.TRAINER: "訓練の進行役", Role.CARE_PROFESSIONAL: "福祉専門職", Role.PUBLIC: "公開"}


class Action(StrEnum):
    READ_RESIDENTS = "read_residents"  # named residents: lists, details
    ISSUE_PLAN = "issue_plan"  # the マイプラン of a resident who consented to plan-making
    DRAFT_PLAN = "draft_plan"  # a 下書き of a resident without that consent
    DISTRICT_PLANS = "district_plans"  # every plan of a 校区 at once
    DISTRICT_MAP = "district_map"  # what the map shows depends on the principal
    CITY_MAP = "city_map"
    EXERCISE_PACK = "exercise_pack"  # 図上訓練 materials with pseudonymised people
    CLOSED_SESSION = "closed_session"  # 図上訓練 materials naming consenting residents
    STATS = "stats"  # the store's counts (datasets, contacts, consents per 校区)
    AUDIT_PLANS = "audit_plans"  # the plan-safety audit, listing residents
    DECLARE_DISASTER_MODE = "declare_disaster_mode"  # declare or end 災害時モード (city administrator only)
    # --- the rest of the JSON API (issue 12 §7) ---
    READ_AUDIT = "read_audit"  # read and export the audit log (city administrator only)
    MANAGE_USERS = "manage_users"  # list and add accounts, disable them, set their passwords (city administrator only)
    IMPORT_DATA = "import_data"  # replace the city's data from files (city administrator only)
    EXERCISE_RECORDS = "exercise_records"  # record and read 図上訓練 sessions and their findings
    EXERCISE_REPORT = "exercise_report"  # participants per 年度 against the city's target (no one's identity)
    # --- 安否確認 (issue 13 §4) ---
    SAFETY_CHECK = "safety_check"  # record and read residents' safety during 災害時モード or a training
    SHELTER_COUNT = "shelter_count"  # report the number of people at a shelter (city staff)
    SAFETY_TRAINING = "safety_training"  # start a 安否確認 training on demo data (city staff)


ACTION_LABELS = {
    Action.READ_RESIDENTS: "名簿の閲覧", Action.ISSUE_PLAN: "マイプランの作成", Action.DRAFT_PLAN: "同意のない人の下書きの作成",
    Action.DISTRICT_PLANS: "校区のマイプランの一括作成", Action.DISTRICT_MAP: "校区の地図", Action.CITY_MAP: "市全体の地図",
    Action.EXERCISE_PACK: "図上訓練の教材の作成", Action.CLOSED_SESSION: "氏名を使う非公開の図上訓練",
    Action.STATS: "件数の集計", Action.AUDIT_PLANS: "計画の安全点検",
    Action.DECLARE_DISASTER_MODE: "災害時モードの宣言・終了",
    Action.READ_AUDIT: "監査ログの閲覧・書き出し", Action.MANAGE_USERS: "利用者の管理", Action.IMPORT_DATA: "データの取り込み",
    Action.EXERCISE_RECORDS: "図上訓練の実施記録", Action.EXERCISE_REPORT: "図上訓練の参加者数の集計",
    Action.SAFETY_CHECK: "安否確認", Action.SHELTER_COUNT: "避難所の避難者数の報告", Action.SAFETY_TRAINING: "安否確認の訓練の開始",
}

# actions only the city administrator may take (not other city staff)
_ADMIN_ACTIONS = frozenset({Action.DECLARE_DISASTER_MODE, Action.READ_AUDIT, Action.MANAGE_USERS, Action.IMPORT_DATA})

# actions of each role outside the city roles (which may do everything in their city);
# True: anywhere in the city, False: only in the principal's own 校区
_ROLE_ACTIONS: dict[Role, dict[Action, bool]] = {
    Role.LEADER: {Action.DISTRICT_MAP: True, Action.CITY_MAP: True, Action.READ_RESIDENTS: False,
                  Action.ISSUE_PLAN: False, Action.DISTRICT_PLANS: False, Action.EXERCISE_PACK: False,
                  Action.CLOSED_SESSION: False, Action.AUDIT_PLANS: False, Action.EXERCISE_RECORDS: False,
                  Action.EXERCISE_REPORT: True, Action.SAFETY_CHECK: False},
    Role.CARE_PROFESSIONAL: {Action.DISTRICT_MAP: True, Action.CITY_MAP: True, Action.READ_RESIDENTS: True,
                             Action.ISSUE_PLAN: True, Action.SAFETY_CHECK: True},
    Role.TRAINER: {Action.DISTRICT_MAP: True, Action.CITY_MAP: True, Action.EXERCISE_PACK: True,
                   Action.EXERCISE_RECORDS: True, Action.EXERCISE_REPORT: True},
    Role.PUBLIC: {Action.DISTRICT_MAP: True, Action.CITY_MAP: True},
}

IDENTITY_FIELDS = frozenset({"name", "kana", "address", "phone", "resident_no"})
RESIDENT_FIELDS = frozenset(c.name for c in Resident.__table__.columns)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role in a city, the 校区 a leader serves, the name a 福祉専門職 is
    recorded under, and the 校区 under 災害時モード (declared by the city; all when ``emergency_all``)."""

    login: str
    role: Role
    city_code: str
    districts: frozenset[str] = frozenset()
    professional_name: str | None = None
    emergency_districts: frozenset[str] = frozenset()
    emergency_all: bool = False

    def __post_init__(self) -> None:
        if self.role == Role.LEADER and not self.districts:
            raise errors.Rejected("校区リーダー・民生委員には担当の校区が必要です。")
        if self.role == Role.CARE_PROFESSIONAL and not self.professional_name:
            raise errors.Rejected("福祉専門職には名簿に記録された氏名（担当者名）が必要です。")

    @classmethod
    def cli(cls, city_code: str) -> Principal:
        """The local city administrator the command line acts as (login: the OS user)."""
        return cls(os.environ.get("USER") or getpass.getuser(), Role.CITY_ADMIN, city_code)

    @classmethod
    def public(cls, city_code: str) -> Principal:
        return cls("public", Role.PUBLIC, city_code)

    @classmethod
    def leader(cls, city_code: str, districts: Iterable[str], login: str | None = None) -> Principal:
        return cls(login or os.environ.get("USER") or getpass.getuser(), Role.LEADER, city_code, frozenset(districts))

    @property
    def is_city(self) -> bool:
        return self.role in CITY_ROLES

    def in_emergency(self, district: str) -> bool:
        return self.emergency_all or district in self.emergency_districts


def can(principal: Principal, action: Action, district: str | None = None) -> bool:
    """May ``principal`` take ``action`` (in ``district`` when given)?"""
    if action in _ADMIN_ACTIONS:
        return principal.role == Role.CITY_ADMIN
    if principal.is_city:
        return True
    if action == Action.DRAFT_PLAN:  # 災害時モード: a leader gets the plans of those who did not consent
        return (principal.role == Role.LEADER and district is not None and district in principal.districts
                and principal.in_emergency(district))
    anywhere = _ROLE_ACTIONS[principal.role].get(action)
    if anywhere is None:
        return False
    return anywhere or district is None or district in principal.districts


def require(principal: Principal, action: Action, district: str | None = None) -> None:
    """Raise ``errors.Forbidden`` unless ``can(principal, action, district)``."""
    if not can(principal, action, district):
        where = f"（{district}校区）" if district else ""
        raise errors.Forbidden(f"{ROLE_LABELS[principal.role]}（{principal.login}）には「{ACTION_LABELS[action]}」{where}"
                               "の権限がありません。")


def _district_ids(principal: Principal, names: Iterable[str]) -> Select[Any]:
    return select(District.id).where(District.city_code == principal.city_code, District.name.in_(sorted(names)))


def counted_filter(principal: Principal, district: str | None = None) -> ColumnElement[bool]:
    """The residents ``principal`` may count or use without their identity: the city's (in ``district``)."""
    clause = Resident.city_code == principal.city_code
    if district is not None:
        clause = and_(clause, Resident.district_id.in_(_district_ids(principal, [district])))
    return clause


def resident_filter(principal: Principal, district: str | None = None) -> ColumnElement[bool]:
    """A where-clause on ``Resident``: the residents ``principal`` may load with their identity
    (in ``district`` when given)."""
    scope = counted_filter(principal, district)
    if principal.is_city:
        return scope
    if principal.role == Role.LEADER:
        own = Resident.district_id.in_(_district_ids(principal, principal.districts))
        if principal.emergency_all:
            return and_(scope, own)
        consent: ColumnElement[bool] = Resident.consent_share.is_(True)
        emergency = principal.districts & principal.emergency_districts
        if emergency:
            consent = or_(consent, Resident.district_id.in_(_district_ids(principal, emergency)))
        return and_(scope, own, consent)
    if principal.role == Role.CARE_PROFESSIONAL:
        assigned = exists().where(CareProfessional.resident_id == Resident.id,
                                  CareProfessional.name == principal.professional_name)
        return and_(scope, assigned)
    return false()


def community_filter(principal: Principal, district: str) -> ColumnElement[bool]:
    """The residents whose names may go into material handed to a 校区 (closed 図上訓練): those
    ``principal`` may load who consented to sharing (everyone under 災害時モード)."""
    visible = resident_filter(principal, district)
    if principal.in_emergency(district):
        return visible
    return and_(visible, Resident.consent_share.is_(True))


def allowed_fields(principal: Principal) -> frozenset[str]:
    """The resident columns ``principal`` may load (the rows come from ``resident_filter``, or
    from ``counted_filter`` for pseudonymised use)."""
    if principal.role == Role.PUBLIC:
        return frozenset()
    if principal.role == Role.TRAINER:
        return RESIDENT_FIELDS - IDENTITY_FIELDS
    return RESIDENT_FIELDS


def loads_identity(principal: Principal) -> bool:
    """Whether ``principal`` may load any resident's identity at all (public and trainer may not:
    their outputs are built without running a query that selects one)."""
    return allowed_fields(principal) >= IDENTITY_FIELDS


def resident_columns(principal: Principal, names: Iterable[str]) -> list[Any]:
    """The ``Resident`` columns ``names``; ``errors.Forbidden`` if one is not allowed."""
    wanted = list(names)
    refused = [n for n in wanted if n not in allowed_fields(principal)]
    if refused:
        raise errors.Forbidden(f"{ROLE_LABELS[principal.role]}は名簿の項目（{'、'.join(refused)}）を読めません。")
    return [getattr(Resident, n) for n in wanted]


def named_column(principal: Principal, column: Any, district: str) -> ColumnElement[Any]:
    """``column`` (e.g. ``Resident.name``) for residents of ``community_filter``, NULL for the others."""
    return case((community_filter(principal, district), column), else_=null())


def supporter_name(principal: Principal) -> ColumnElement[Any] | InstrumentedAttribute[str]:
    """A supporter's name as ``principal`` may load it: city roles always, others only where the
    supporter consented (NULL otherwise)."""
    if principal.is_city:
        return Supporter.name
    return case((Supporter.consent.is_(True), Supporter.name), else_=null())


def shows_residents(principal: Principal, district: str | None) -> bool:
    """Whether an output about ``district`` (the city when None) draws or lists named residents."""
    if principal.is_city or principal.role == Role.CARE_PROFESSIONAL:
        return True
    return principal.role == Role.LEADER and district is not None and district in principal.districts


def suppresses_counts(principal: Principal, district: str | None = None) -> bool:
    """Whether counts about ``district`` (the city when None) hide small numbers for ``principal``."""
    return not (principal.is_city or (principal.role == Role.LEADER and district in principal.districts))


def count_cell(principal: Principal, n: int, district: str | None = None, whole: int | None = None) -> suppression.Cell:
    """A count as ``principal`` may see it: 1–4 become "5未満" where it could single someone out;
    a part of a shown ``whole`` whose rest is 1–4 becomes a range (``disaster.suppression``)."""
    if not suppresses_counts(principal, district):
        return suppression.exact(n)
    return suppression.count(n) if whole is None else suppression.part(n, whole)


def count_label(principal: Principal, n: int, district: str | None = None, whole: int | None = None) -> str:
    """``count_cell``'s label."""
    return str(count_cell(principal, n, district, whole))


def capacity_labels(principal: Principal, capacity: int, assigned: int, district: str | None = None) -> tuple[str, str]:
    """(people assigned, places left) of a place with a shown ``capacity``, as ``principal`` may see
    them: where counts are suppressed, the places left never give a withheld number away."""
    if not suppresses_counts(principal, district):
        return str(assigned), str(max(0, capacity - assigned))
    used, left = suppression.remaining(capacity, assigned)
    return str(used), str(left)


PUBLIC_LABEL = "公開用（個人情報なし）"


def view_label(principal: Principal, district: str | None = None) -> str:
    """What outputs for ``principal`` about ``district`` (all of theirs when None) show, in words."""
    if principal.is_city:
        return "市職員用"
    if principal.role == Role.LEADER and district is None:
        return "校区リーダー用（同意者のみ）"
    if not shows_residents(principal, district):
        return PUBLIC_LABEL
    if principal.role == Role.CARE_PROFESSIONAL:
        return "福祉専門職用（担当する人のみ）"
    if district is not None and principal.in_emergency(district):
        return "校区リーダー用（災害時モード：同意のない人を含む）"
    return "校区リーダー用（同意者のみ）"
