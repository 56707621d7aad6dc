"""The domain model, stored with SQLAlchemy 2 (SQLite by default, PostgreSQL by URL).

Geometry is stored as WGS84 WKB (``geom``) with a bounding box for cheap SQL pre-filtering;
points are stored as ``lon``/``lat``. Spatial analysis happens in shapely/GeoPandas, so the
same code runs on every backend.

Personal data (Resident, Supporter, EmergencyContact, CareProfessional) follows the fields of
災害対策基本法 49条の10 (名簿) and 49条の14 (個別避難計画). Consents are dated: sharing the 名簿
with supporters before a disaster needs ``consent_share`` (49条の11②).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from disaster.analysis.reasons import shown, stored

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[dict[str, Any]]: JSON}


class BBoxMixin:
    """WGS84 WKB geometry with its bounding box."""

    geom: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class City(Base):
    """A municipality (団体コード with check digit) and its boundary (N03)."""

    __tablename__ = "city"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    boundary: Mapped[bytes | None] = mapped_column(LargeBinary)
    boundary_source: Mapped[str | None] = mapped_column(String(200))


district_centre = Table(
    "district_centre",
    Base.metadata,
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
    Column("centre_id", ForeignKey("consultation_centre.id", ondelete="CASCADE"), primary_key=True),
)


class District(BBoxMixin, Base):
    """校区: the unit of community work, 図上訓練 and leader access. ``area`` is its 圏域."""

    __tablename__ = "district"
    __table_args__ = (UniqueConstraint("city_code", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    name: Mapped[str] = mapped_column(String(40))
    area: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    centres: Mapped[list[ConsultationCentre]] = relationship(secondary=district_centre)


class ConsultationCentre(Base):
    """A consultation centre (地域包括支援センター etc.) serving one or more 校区."""

    __tablename__ = "consultation_centre"
    __table_args__ = (UniqueConstraint("city_code", "kind", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    kind: Mapped[str] = mapped_column(String(20))  # key of codes.CENTRE_KINDS
    name: Mapped[str] = mapped_column(String(80))
    tel: Mapped[str | None] = mapped_column(String(20))
    fax: Mapped[str | None] = mapped_column(String(20))


class Shelter(Base):
    """指定緊急避難場所 / 指定避難所 / 福祉避難所 (one row per facility, kinds as flags).

    ``code`` is the facility key: the GSI 共通ID without its 3-digit kind suffix
    (E4020300012 for E4020300012111 and E4020300012201), or a city-assigned code.
    Accessibility flags are nullable: unknown is not the same as "no".
    """

    __tablename__ = "shelter"
    __table_args__ = (UniqueConstraint("city_code", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    gsi_shelter_id: Mapped[str | None] = mapped_column(String(20))  # 指定避難所 共通ID
    gsi_emergency_id: Mapped[str | None] = mapped_column(String(20))  # 指定緊急避難場所 共通ID
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    is_emergency_site: Mapped[bool] = mapped_column(Boolean, default=False)
    is_designated_shelter: Mapped[bool] = mapped_column(Boolean, default=False)
    is_welfare_shelter: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_flood: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_landslide: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_storm_surge: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_earthquake: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_tsunami: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_fire: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_inland_flood: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard_volcano: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    accepted_groups: Mapped[str | None] = mapped_column(Text)  # 受入対象者
    barrier_free: Mapped[bool | None] = mapped_column(Boolean)
    elevator: Mapped[bool | None] = mapped_column(Boolean)
    backup_power: Mapped[bool | None] = mapped_column(Boolean)
    usable_floors: Mapped[int | None] = mapped_column(Integer)
    accepts_direct: Mapped[bool | None] = mapped_column(Boolean)  # 直接避難 (welfare shelters)
    remarks: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Dataset(Base):
    """One imported file (or bundle) of one city: the data version that results are computed from.
    Hazard zones belong to the city of their dataset."""

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("city_code", "kind", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    kind: Mapped[str] = mapped_column(String(20))  # shelters, districts, hazards, residents, ...
    source: Mapped[str] = mapped_column(String(200))  # user-facing label, default: file name
    sha256: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class HazardZone(BBoxMixin, Base):
    """A hazard polygon. ``rank`` is the A31a depth or duration rank; landslide zones carry
    the A33 phenomenon (``landslide_kind``) and 区域区分 (``landslide_class``)."""

    __tablename__ = "hazard_zone"
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    layer: Mapped[str] = mapped_column(String(30), index=True)  # codes.HazardLayer
    river_name: Mapped[str | None] = mapped_column(String(80))  # or area name for 内水/土砂
    rank: Mapped[int | None] = mapped_column(Integer)
    landslide_kind: Mapped[int | None] = mapped_column(Integer)
    landslide_class: Mapped[int | None] = mapped_column(Integer)
    source_feature: Mapped[str] = mapped_column(String(80))  # feature index/ID in the file
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


resident_supporter = Table(
    "resident_supporter",
    Base.metadata,
    Column("resident_id", ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True),
    Column("supporter_id", ForeignKey("supporter.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Residents whose assessment inputs changed since their city's last run: filled by triggers on
# resident, supporter, resident_supporter and welfare_agreement (migration 0014), taken by the
# run (usecases.assess), so that an edit reads and recomputes only them. No key: a resident may
# be listed many times, and one deleted since (its city tells which run re-plans the places).
assessment_pending = Table(
    "assessment_pending",
    Base.metadata,
    Column("resident_id", Integer, nullable=False),
    Column("city_code", String(6), nullable=False, index=True),
)


class Resident(Base):
    """A person on the 避難行動要支援者名簿 (49条の10) with household and consent data."""

    __tablename__ = "resident"
    __table_args__ = (
        UniqueConstraint("city_code", "resident_no"),
        # a city's residents district by district, e.g. for per-district figures (no sort)
        Index("ix_resident_city_code_district_id", "city_code", "district_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    resident_no: Mapped[str] = mapped_column(String(40))  # the 名簿's own ID
    name: Mapped[str] = mapped_column(String(80))  # 氏名
    kana: Mapped[str | None] = mapped_column(String(80))  # ふりがな
    birth_date: Mapped[dt.date | None] = mapped_column(Date)  # 生年月日
    sex: Mapped[str | None] = mapped_column(String(4))  # 性別: 男 / 女 / その他
    address: Mapped[str] = mapped_column(String(200))  # 住所又は居所
    phone: Mapped[str | None] = mapped_column(String(40))  # 電話番号その他の連絡先
    # 避難支援等を必要とする事由
    care_level: Mapped[str | None] = mapped_column(String(10))  # codes.CARE_LEVELS
    disability_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    disability_grade: Mapped[str | None] = mapped_column(String(20))  # e.g. 1級, A1
    intractable_disease: Mapped[str | None] = mapped_column(String(120))  # 難病
    medical_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    mobility: Mapped[str | None] = mapped_column(String(10))  # codes.MOBILITY_LEVELS
    communication_needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    other_needs: Mapped[str | None] = mapped_column(Text)
    # household and building
    lives_alone: Mapped[bool | None] = mapped_column(Boolean)
    building_floors: Mapped[int | None] = mapped_column(Integer)
    bedroom_floor: Mapped[int | None] = mapped_column(Integer)
    home_floor: Mapped[int | None] = mapped_column(Integer)  # 住戸の階 in a flat (共同住宅); None: a house
    can_use_stairs: Mapped[bool | None] = mapped_column(Boolean)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    # where lon/lat come from: "coordinates" (the 名簿), "block" (街区) or "town" (町丁目の代表点)
    location_level: Mapped[str] = mapped_column(String(12), default="coordinates")
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    # dated consents
    consent_share: Mapped[bool] = mapped_column(Boolean, default=False)  # 平常時の名簿情報提供
    consent_share_date: Mapped[dt.date | None] = mapped_column(Date)
    consent_plan: Mapped[bool] = mapped_column(Boolean, default=False)  # 個別避難計画の作成
    consent_plan_date: Mapped[dt.date | None] = mapped_column(Date)
    # the resident's own choice of destination overrides the suggested one
    preferred_shelter_code: Mapped[str | None] = mapped_column(String(40))  # a Shelter.code
    preferred_destination: Mapped[str | None] = mapped_column(String(200))  # e.g. 親戚・知人宅 (長女宅 …)
    # how and when help is needed (取組指針 様式例): how 避難情報 reaches the person, who is
    # there by day and by night, days away at a day service
    info_reception: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. 防災行政無線, 電話（支援者から）
    daytime_situation: Mapped[str | None] = mapped_column(String(200))  # e.g. 平日の日中はひとり
    night_situation: Mapped[str | None] = mapped_column(String(200))  # e.g. 長男と同居
    day_service: Mapped[str | None] = mapped_column(String(200))  # e.g. 月・木 デイサービス〇〇
    source: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    district: Mapped[District] = relationship()
    supporters: Mapped[list[Supporter]] = relationship(
        secondary=resident_supporter, back_populates="residents"
    )
    emergency_contacts: Mapped[list[EmergencyContact]] = relationship(
        cascade="all, delete-orphan", order_by="EmergencyContact.priority"
    )
    care_professionals: Mapped[list[CareProfessional]] = relationship(cascade="all, delete-orphan")
    welfare_agreements: Mapped[list[WelfareAgreement]] = relationship(cascade="all, delete-orphan")


class WelfareAgreement(Base):
    """A 福祉避難所 has agreed in advance to take this resident directly (福祉避難所の確保・運営
    ガイドライン, 令和3年改定). Only with such an agreement may a plan send the person there
    directly, and then only after the opening is confirmed."""

    __tablename__ = "welfare_agreement"
    __table_args__ = (UniqueConstraint("resident_id", "shelter_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id", ondelete="CASCADE"), index=True)
    agreed_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    shelter: Mapped[Shelter] = relationship()


class Supporter(Base):
    """避難支援等実施者. Supporters carry no legal liability; help depends on their own safety."""

    __tablename__ = "supporter"
    __table_args__ = (UniqueConstraint("city_code", "supporter_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    supporter_no: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    relation: Mapped[str | None] = mapped_column(String(20))  # codes.SUPPORTER_RELATIONS
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)  # agreed to receive 名簿 data
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    residents: Mapped[list[Resident]] = relationship(
        secondary=resident_supporter, back_populates="supporters"
    )


class EmergencyContact(Base):
    """緊急連絡先 of a resident (family etc.), in calling order."""

    __tablename__ = "emergency_contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    relation: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))


class CareProfessional(Base):
    """A care professional who knows the resident (ケアマネジャー, 相談支援専門員, 主治医 …)."""

    __tablename__ = "care_professional"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(80))
    organisation: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))


class StoredReasons(TypeDecorator[list[Any]]):
    """A list of reasons, stored as message keys with their parameters (``reasons.stored``:
    ``[["DISTANCE.walk", {"distance": 350.0, "minutes": 6}], ...]``) and read back as
    ``{"code", "text"}`` records whose text comes from the one message table (``reasons.shown``).

    JSON text, in a JSON column on SQLite and a ``text`` one on PostgreSQL (migration 0020): a
    ``json`` column has the server parse every value it stores, a quarter of a 100,000-result
    run's ``COPY``, for texts this code alone writes and reads."""

    impl = JSON().with_variant(Text(), "postgresql")
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        value = stored(value)
        if dialect.name == "postgresql" and value is not None:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Any] | None:
        if dialect.name == "postgresql" and value is not None:
            value = json.loads(value)
        return shown(value)


DIGESTS = "inputs"  # AssessmentRun.data_versions "inputs:…" keys: digests of what was assessed, not datasets


class AssessmentRun(Base):
    """One run of the evacuation assessment of one city: when, with which data versions and parameters."""

    __tablename__ = "assessment_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    data_versions: Mapped[dict[str, Any]] = mapped_column(JSON)  # dataset source -> sha256
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    resident_count: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """The current assessment of one resident (replaced when the resident is re-assessed).
    Reasons are stored as message keys with parameters and read as ``{"code": ..., "text": ...}``
    with plain-Japanese text used verbatim in plans (``StoredReasons``)."""

    __tablename__ = "assessment"
    # a run rewrites the rows whose result changed: on PostgreSQL each new row version fits on the
    # page of the old one, with no index entry to add (no index on run_id; migration 0017)
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    # the run that wrote the result (AssessmentRun.id). No foreign key (migration 0018): a run that
    # rewrites every result would have the database look the run up again for each row
    run_id: Mapped[int] = mapped_column(Integer)
    # exposure at home
    flood_l1_rank: Mapped[int | None] = mapped_column(Integer)
    flood_l2_rank: Mapped[int | None] = mapped_column(Integer)
    duration_rank: Mapped[int | None] = mapped_column(Integer)
    collapse_flow: Mapped[bool] = mapped_column(Boolean)
    collapse_erosion: Mapped[bool] = mapped_column(Boolean)
    inland_rank: Mapped[int | None] = mapped_column(Integer)
    landslide_kind: Mapped[int | None] = mapped_column(Integer)
    landslide_class: Mapped[int | None] = mapped_column(Integer)
    # leave or stay
    decision: Mapped[str] = mapped_column(String(20))  # analysis.decision.Decision
    decision_reasons: Mapped[list[dict[str, Any]]] = mapped_column(StoredReasons)
    required_floor: Mapped[int | None] = mapped_column(Integer)
    reachable_floor: Mapped[int | None] = mapped_column(Integer)
    # destination
    destination_kind: Mapped[str | None] = mapped_column(String(20))  # shelter / welfare / own_choice
    destination_shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id", ondelete="SET NULL"))
    destination_text: Mapped[str | None] = mapped_column(String(200))
    destination_reasons: Mapped[list[dict[str, Any]]] = mapped_column(StoredReasons)
    second_shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id", ondelete="SET NULL"))
    welfare_needed: Mapped[bool] = mapped_column(Boolean)
    welfare_unplaced: Mapped[bool] = mapped_column(Boolean)
    # distance and time
    distance_m: Mapped[float | None] = mapped_column(Float)
    walk_speed_mps: Mapped[float | None] = mapped_column(Float)
    travel_min: Mapped[float | None] = mapped_column(Float)
    prepare_min: Mapped[float | None] = mapped_column(Float)
    start_margin_min: Mapped[float | None] = mapped_column(Float)  # lead time left after leaving at level 3
    crosses_deep_water: Mapped[bool] = mapped_column(Boolean)
    # how the person gets there and when to start (analysis.transport)
    travel_mode: Mapped[str | None] = mapped_column(String(20))  # walk / car / welfare_transport; None: no trip
    walk_min: Mapped[float | None] = mapped_column(Float)  # on foot, for reference even when not walking
    start_trigger: Mapped[str | None] = mapped_column(String(20))  # analysis.transport.StartTrigger
    destination_floor: Mapped[int | None] = mapped_column(Integer)  # floor to use at the destination (flood zone)
    welfare_shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id", ondelete="SET NULL"))  # 福祉避難所 planned
    welfare_direct: Mapped[bool] = mapped_column(Boolean, default=False)  # agreed: go there directly once opened
    route: Mapped[bytes | None] = mapped_column(LargeBinary)  # WGS84 WKB LineString (road path or straight line)
    route_is_road: Mapped[bool] = mapped_column(Boolean, default=False)
    # plan-making priority and supporters
    priority_score: Mapped[int] = mapped_column(Integer)
    priority_reasons: Mapped[list[dict[str, Any]]] = mapped_column(StoredReasons)
    supporter_count: Mapped[int] = mapped_column(Integer)
    supporter_issues: Mapped[list[dict[str, Any]]] = mapped_column(StoredReasons)
    # what the result was computed from (usecases.assess.input_digests): unchanged -> not recomputed
    inputs_digest: Mapped[str | None] = mapped_column(String(32))
    # the resident's part in the city's 福祉避難所 planning, so that an edit re-plans the places
    # without recomputing everyone (analysis.engine.WelfareRequest): the places in reach as JSON
    # [[shelter_id, cost], ...] (NULL: not seeking a place) and the place their own choice takes
    welfare_candidates: Mapped[str | None] = mapped_column(Text)
    claimed_shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id", ondelete="SET NULL"))
    # digest of the row but run_id and itself (usecases.assess.result_digests): a run rewrites
    # only the results that changed; NULL (rows stored before migration 0016): rewritten. A
    # migration that changes stored results must set it to NULL, or runs would keep them as they are
    result_digest: Mapped[int | None] = mapped_column(BigInteger)

    resident: Mapped[Resident] = relationship()
    destination_shelter: Mapped[Shelter | None] = relationship(foreign_keys=[destination_shelter_id])
    second_shelter: Mapped[Shelter | None] = relationship(foreign_keys=[second_shelter_id])


class ExerciseSession(Base):
    """A 図上訓練 held in a 校区 (and so in its city): when, what hazard, who ran it, feedback (1–5 ratings)."""

    __tablename__ = "exercise_session"
    __table_args__ = (UniqueConstraint("district_id", "record_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_key: Mapped[str] = mapped_column(String(120))  # natural key: date|district|hazard|facilitator
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    hazard: Mapped[str] = mapped_column(String(20))  # exercises.scenario.ExerciseHazard
    facilitator: Mapped[str | None] = mapped_column(String(80))
    rating_overall: Mapped[int | None] = mapped_column(Integer)
    rating_understanding: Mapped[int | None] = mapped_column(Integer)
    rating_usefulness: Mapped[int | None] = mapped_column(Integer)
    strengths: Mapped[str | None] = mapped_column(Text)
    improvements: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    district: Mapped[District] = relationship()
    participants: Mapped[list[ExerciseParticipants]] = relationship(cascade="all, delete-orphan")
    findings: Mapped[list[ExerciseFinding]] = relationship(cascade="all, delete-orphan")


class ExerciseParticipants(Base):
    """Participant count of one role at a session (自治会, 民生委員, 消防団, 住民, …)."""

    __tablename__ = "exercise_participants"
    session_id: Mapped[int] = mapped_column(ForeignKey("exercise_session.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class ExerciseFinding(Base):
    """An improvement item from a session (課題, 対応, 担当, 期限, status); it may point at a
    resident, and then shows on that resident's plan as open work."""

    __tablename__ = "exercise_finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exercise_session.id", ondelete="CASCADE"), index=True)
    issue: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(80))
    due: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="未着手")  # 未着手 / 対応中 / 完了
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"), index=True)


class AddressPoint(Base):
    """A point of MLIT 位置参照情報 for geocoding the city's addresses: a 街区 (``level``
    "block", ``block`` its 街区符号・地番) or a 大字・町丁目 representative point ("town",
    ``block`` empty). ``town`` and ``block`` are in the normalised form of disaster.geocode."""

    __tablename__ = "address_point"
    __table_args__ = (UniqueConstraint("city_code", "level", "town", "block"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"))
    level: Mapped[str] = mapped_column(String(10))
    town: Mapped[str] = mapped_column(String(120))
    block: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))  # as written in the file
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A point in time, always UTC-aware in Python on every backend (SQLite keeps no offset:
    it stores naive UTC). Naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class User(Base):
    """An account of the service: a role (disaster.access.Role) in one city; a leader's 校区 names;
    a 福祉専門職's name as written on the residents' CareProfessional rows. ``password_hash`` is
    an Argon2id hash (disaster.accounts); the password itself is never stored."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    professional_name: Mapped[str | None] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, since the last success or lockout
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One entry of the append-only audit log (disaster.auditlog): who (login, role, city) did what
    (``action`` on ``target_kind``), to which residents (名簿番号), allowed or refused, from where
    (``origin``: "cli" or an address), when (UTC). Entries are numbered 1, 2, … and chained:
    ``hash`` is the SHA-256 of the entry's canonical JSON, which includes ``prev_hash`` (the hash
    of the entry before). Database triggers (migration 0007) refuse UPDATE and DELETE."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # set by auditlog.record: last + 1
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[str | None] = mapped_column(String(20))
    resident_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # 名簿番号
    allowed: Mapped[bool] = mapped_column(Boolean)
    origin: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # unique: the chain cannot fork
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DisasterMode(Base):
    """A declaration of 災害時モード (災害対策基本法 49条の11③, 49条の15③) by a city administrator:
    while it is on, the 校区 leaders and 民生委員 of ``districts`` (every 校区 of the city when
    empty) see the 名簿 and plans of residents who did not consent. It is on from ``starts_at``
    until ``ends_at`` (it ends by itself) or until ``ended_at`` when ``ended_by`` ended it early.
    Declarations and ends are audited (disaster.usecases.disaster_mode)."""

    __tablename__ = "disaster_mode"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    declared_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)  # 校区 names; empty: all
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- plan records (issue 12 §5) ---


class PlanRecord(Base):
    """The マイプラン made with the resident (issue 12 §5), distinct from the automatic assessment:
    the current version's fields (``content``, see disaster.plans.record), its status (下書き /
    本人確認済 / 要見直し) and, once issued, the fingerprint of the data it was issued on
    (hazards, destination, resident, assessment) so that a change turns it 要見直し with
    ``review_reasons``. ``version`` counts the saves (the ETag); each one is a ``PlanVersion``."""

    __tablename__ = "plan_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), index=True)  # record.Status
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_review_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date)  # 本人確認日 (at issue)
    fingerprint: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # inputs at issue time
    review_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[PlanVersion]] = relationship(cascade="all, delete-orphan", order_by="PlanVersion.version")


class PlanVersion(Base):
    """One save of a plan record: who (login, role) made it with whom, when, the status and
    fields after the save and what changed (``changes``: field, before, after — raw values,
    described in Japanese when read, so names follow the reader's view)."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("record_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("plan_record.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    author_login: Mapped[str] = mapped_column(String(80))
    author_role: Mapped[str] = mapped_column(String(20))
    made_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)  # e.g. why it turned 要見直し



class WebSession(Base):
    """A login to the web service (disaster.web): server-side, so logging out or disabling the
    account ends it at once. ``id`` is the HMAC-SHA256 (keyed with ``settings.secret_key``) of the
    random token in the browser's cookie, never the token itself; ``csrf_token`` must come back in
    the ``X-CSRF-Token`` header of every state-changing request. A session ends at ``ended_at``
    (logout, idle timeout, a new login in the same browser) or at ``expires_at``."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# --- background jobs (issue 12 §6) ---


class Job(Base):
    """A background job (disaster.jobs): long work off the request path — a 校区's マイプラン, a
    図上訓練 pack, a re-assessment. It runs as its creator (``created_by``; the principal is rebuilt
    from the account when it runs). ``state``: queued → running → succeeded / failed / cancelled,
    or interrupted (its worker died; rerun makes a new job). ``progress`` 0–100 with a Japanese
    ``message``; ``error`` is the Japanese reason a user sees (a bug's traceback goes to the log).
    ``worker`` ("host:pid") and ``heartbeat_at`` tell a live run from a dead one. The result is kept
    in the row (``result`` bytes, its file name and media type; ``result_residents``: the 名簿番号 of
    the residents whose personal data it holds, for the audit of downloads)."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80), index=True)
    creator_role: Mapped[str] = mapped_column(String(20))
    rerun_of: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(120))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    result_name: Mapped[str | None] = mapped_column(String(200))
    result_type: Mapped[str | None] = mapped_column(String(100))
    result_size: Mapped[int | None] = mapped_column(Integer)
    result_residents: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- 安否確認 (issue 13 §4) ---


class SafetyCheck(Base):
    """One report of a resident's safety (安否確認) during 災害時モード, or during a training on demo
    data (``training``): the status (disaster.usecases.safety.Status), where the person went (a
    shelter, whose name is kept in ``place`` too, or another place), a note, who reported it and
    when, the 災害時モード declarations in force, and ``based_on``: the newest report the reporter
    had seen when the form was opened (a later one by someone else is shown to them afterwards).

    The history is append-only (triggers of migration 0012 refuse changing a report): a resident's
    current status is their newest report (highest ``id``) of the disaster or training under way, so
    two people reporting at once both stay on record and the later one is the current status."""

    __tablename__ = "safety_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    training: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10))
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id", ondelete="SET NULL"), index=True)
    place: Mapped[str | None] = mapped_column(String(200))  # 避難先: the shelter's name or another place
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))  # login
    recorded_role: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    disaster_modes: Mapped[list[int]] = mapped_column(JSON, default=list)  # declarations in force
    based_on: Mapped[int | None] = mapped_column(Integer)  # the newest report the reporter had seen


class ShelterCount(Base):
    """The number of people at a shelter as reported (避難者数) during 災害時モード or a training;
    append-only like ``SafetyCheck``: the newest report is the shelter's current count."""

    __tablename__ = "shelter_count"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id", ondelete="CASCADE"), index=True)
    training: Mapped[bool] = mapped_column(Boolean)
    people: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_role: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    disaster_modes: Mapped[list[int]] = mapped_column(JSON, default=list)


class SafetyTraining(Base):
    """A 安否確認 training started by city staff on demo data: the training's statuses and shelter
    counts are those reported since the newest start (everyone is 未確認 again)."""

    __tablename__ = "safety_training"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(80))
