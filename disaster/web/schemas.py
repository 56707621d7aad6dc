"""The API's request and response models (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored point in time with its offset: SQLite gives back the UTC it stored without one."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


# A point in time in an answer: always with an offset (OpenAPI's date-time, RFC 3339), on every backend.
Instant = Annotated[dt.datetime, AfterValidator(_utc)]


class ErrorDetail(BaseModel):
    code: str = Field(description="not_found / not_ready / rejected / forbidden / conflict / unauthorized / throttled / internal")
    message: str = Field(description="利用者向けの説明（日本語）")


class ErrorOut(BaseModel):
    error: ErrorDetail


class LoginIn(BaseModel):
    login: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class EmergencyOut(BaseModel):
    active: bool
    all_districts: bool
    districts: list[str]


class MeOut(BaseModel):
    login: str
    role: str
    role_label: str
    city_code: str
    districts: list[str]
    professional_name: str | None
    csrf_token: str = Field(description="状態を変える要求の X-CSRF-Token ヘッダーに付ける値")
    session_expires_at: Instant
    idle_timeout_minutes: int
    view: str = Field(description="この利用者に見える範囲（言葉で）")
    disaster_mode: EmergencyOut


class Page(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class ResidentItem(BaseModel):
    resident_no: str
    name: str
    kana: str | None
    address: str
    phone: str | None
    district: str
    care_level: str | None
    mobility: str | None
    consent_share: bool
    consent_plan: bool
    priority_score: int | None
    decision: str | None
    supporter_count: int | None
    plan_status: str | None = Field(description="計画の記録の状態（下書き / 本人確認済 / 要見直し、記録がなければ null）")
    plan_version: int | None = Field(description="計画の記録の版")
    next_review_on: dt.date | None = Field(description="次の見直し日")


class ResidentList(Page):
    items: list[ResidentItem]


class Reason(BaseModel):
    code: str | None = None
    text: str


class SupporterOut(BaseModel):
    name: str | None = Field(description="同意のない支援者の氏名は市職員にだけ示します")
    relation: str | None
    consent: bool


class ContactOut(BaseModel):
    name: str
    relation: str | None
    phone: str | None


class ProfessionalOut(BaseModel):
    role: str
    name: str | None
    organisation: str | None
    phone: str | None


class AssessmentOut(BaseModel):
    computed_at: Instant
    decision: str
    decision_reasons: list[Reason]
    destination_kind: str | None
    destination: str | None
    second_shelter: str | None
    welfare_needed: bool
    welfare_shelter: str | None
    welfare_unplaced: bool
    travel_mode: str | None
    distance_m: float | None
    travel_min: float | None
    start_trigger: str | None
    crosses_deep_water: bool
    priority_score: int
    priority_reasons: list[Reason]
    supporter_count: int
    supporter_issues: list[Reason]


class ResidentDetail(BaseModel):
    resident_no: str
    name: str
    kana: str | None
    birth_date: dt.date | None
    sex: str | None
    address: str
    phone: str | None
    district: str
    care_level: str | None
    disability_types: list[str]
    medical_devices: list[str]
    mobility: str | None
    communication_needs: list[str]
    lives_alone: bool | None
    location_level: str
    consent_share: bool
    consent_share_date: dt.date | None
    consent_plan: bool
    consent_plan_date: dt.date | None
    supporters: list[SupporterOut]
    emergency_contacts: list[ContactOut]
    care_professionals: list[ProfessionalOut]
    assessment: AssessmentOut | None


class DistrictOut(BaseModel):
    name: str
    area: str | None
    residents: str = Field(description="人数（特定の人がわかりうる少数は「5未満」）")
    assigned: bool = Field(description="この利用者の担当の校区か")
    disaster_mode: bool


class CityOut(BaseModel):
    code: str
    name: str | None
    has_boundary: bool


class DistrictStats(BaseModel):
    name: str
    area: str | None
    residents: int
    residents_sharing_consent: int
    residents_without_supporter: int
    shelters: int


class DatasetOut(BaseModel):
    kind: str
    source: str
    features: int
    demo: bool
    imported_at: Instant


class StatsOut(BaseModel):
    city: CityOut
    counts: dict[str, int]
    shelter_kinds: dict[str, int]
    districts: list[DistrictStats]
    datasets: list[DatasetOut]


class AuditEntryOut(BaseModel):
    id: int
    at: Instant
    actor: str
    role: str
    action: str
    target_kind: str | None
    resident_ids: list[str]
    allowed: bool
    origin: str
    details: dict[str, Any]
    hash: str


class AuditList(Page):
    items: list[AuditEntryOut]
