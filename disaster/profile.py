"""City profile: everything that differs between municipalities, read from ``data/cities/<code>.toml``.

Code never names a city; plans, exercises, maps and reports read these values. A profile is
validated when loaded, and a missing or invalid one is a user error naming the file and field.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from disaster.settings import PROJECT_ROOT

PROFILES_DIR = PROJECT_ROOT / "data" / "cities"


class ProfileError(LookupError):
    """The city profile is missing or invalid (a user error, printed in Japanese)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    """A city-wide contact printed on every plan (社協, 福祉課, 防災課 …)."""

    role: str
    name: str
    tel: str
    fax: str | None = None


class WalkLimits(_Strict):
    """The longest distance (m, along the route) a plan may ask a person to walk, by mobility.
    Beyond it the plan arranges a car (supporter, family) or welfare transport."""

    able_m: float = 2000.0  # no walking aid, no care level
    supported_m: float = 500.0  # 杖・歩行器, 要支援・要介護
    wheelchair_m: float = 500.0  # wheelchair pushed by a helper
    bedridden_m: float = 0.0  # never on foot
    power_device_m: float = 0.0  # power-dependent medical devices: the device travels by car


class WalkSpeeds(_Strict):
    """Walking speeds (m/s) after Japanese evacuation-planning guidance."""

    able_mps: float = 1.0
    supported_mps: float = 0.5  # 杖・歩行器, 要支援・要介護, bedridden (reference only)
    wheelchair_mps: float = 0.8  # pushed by a helper
    night_factor: float = 0.8  # all speeds at night


class PrepareMinutes(_Strict):
    """Time to get ready before leaving (minutes), added up by need."""

    base: float = 10.0
    care: float = 10.0  # 要介護3 or more, bedridden
    device: float = 10.0  # power-dependent devices, dialysis
    communication: float = 5.0  # hearing/visual/cognitive: explaining takes longer
    alone: float = 10.0  # the supporter must arrive first


class EvacuationProfile(_Strict):
    lead_time_min: float = 180.0  # from 警戒レベル3 until routes may become dangerous
    early_window_min: float = 180.0  # extra time when leaving before level 3 (レベル2・予報の段階、明るいうち)
    previous_day_window_min: float = 720.0  # extra time when leaving the day before, in daylight
    detour_factor: float = 1.3  # road distance / straight line, without a road graph
    walk_limits: WalkLimits = Field(default_factory=WalkLimits)
    walk_speeds: WalkSpeeds = Field(default_factory=WalkSpeeds)
    prepare: PrepareMinutes = Field(default_factory=PrepareMinutes)
    car_speed_kmh: float = 20.0  # door to door in heavy rain, without a road graph
    car_arrange_min: float = 20.0  # for the driver (supporter, family, welfare transport) to arrive
    welfare_max_travel_min: float = 45.0  # a 福祉避難所 farther than this (by the person's mode) is not planned
    welfare_candidates: int = 8  # nearest suitable 福祉避難所 offered to the assignment per person
    max_residents_per_supporter: int = 3  # more than this: SUPPORTER_OVERLOADED
    review_months: int = 12  # a plan is reviewed at least this often


class WelfareProfile(_Strict):
    """How a 福祉避難所 opening is confirmed (福祉避難所の確保・運営ガイドライン): printed on plans."""

    opening_confirmation: str
    confirmation_contact: str  # who to call to confirm, e.g. the city's welfare section


class Gauge(_Strict):
    """A river gauge and its official reference water levels (m), for exercise scenarios.
    ``districts``: the 校区 for which it is the reference station (upstream / downstream)."""

    name: str  # 観測所名
    river: str
    location: str = ""  # where the station is (町名), printed beside the name
    reach: str = ""  # 洪水予報の区域, e.g. 上中流部
    office: str  # who publishes its readings (河川事務所)
    standby_m: float  # 水防団待機水位
    caution_m: float  # 氾濫注意水位 (レベル2氾濫注意報)
    evacuation_m: float  # 避難判断水位 (レベル3氾濫警報, 高齢者等避難の目安)
    danger_m: float  # 氾濫危険水位 (レベル4氾濫危険警報, 避難指示の目安)
    districts: list[str] = Field(default_factory=list)  # 校区 it is the reference for; empty: the default gauge
    source: str = ""
    verified: bool = False  # False: the levels are placeholders, the materials say to check them

    @model_validator(mode="after")
    def _ordered(self) -> Gauge:
        if not self.standby_m < self.caution_m < self.evacuation_m < self.danger_m:
            raise ValueError(f"{self.name}: 水位は 待機 < 注意 < 避難判断 < 氾濫危険 の順です")
        return self


class ParticipantTarget(_Strict):
    """The city plan's figures for 図上訓練 participants per 年度 (starting calendar year)."""

    baseline_year: int
    baseline: int
    target_year: int
    target: int


class ExerciseProfile(_Strict):
    """What 図上訓練 scenarios name for this city: river gauges per 校区, the earthquake, the hills;
    and the participant target the report measures progress against."""

    gauges: list[Gauge]
    earthquake_source: str  # the fault or scenario earthquake named in 地震 exercises
    earthquake_intensity: str = "6強"
    landslide_area: str = "山ぎわ"  # where landslide scenarios rain, e.g. a mountain foot
    sluice: str = "支川の水門"  # what is closed when the main river rises (内水)
    participants: ParticipantTarget | None = None

    def gauge_for(self, district: str) -> Gauge:
        """The district's own reference gauge (else the first gauge listed without districts)."""
        for gauge in self.gauges:
            if district in gauge.districts:
                return gauge
        return next((g for g in self.gauges if not g.districts), self.gauges[0])


class CityProfile(_Strict):
    code: str  # 団体コード with check digit
    name: str  # e.g. 〇〇市
    prefecture: str
    contacts: list[Contact]
    evacuation: EvacuationProfile = Field(default_factory=EvacuationProfile)
    welfare: WelfareProfile
    exercise: ExerciseProfile


def profile_path(city_code: str) -> Path:
    return PROFILES_DIR / f"{city_code}.toml"


@lru_cache
def load_profile(city_code: str) -> CityProfile:
    """The validated profile of ``city_code``."""
    path = profile_path(city_code)
    if not path.is_file():
        raise ProfileError(f"市区町村の設定ファイル {path} がありません（団体コード {city_code}）。"
                           f"data/cities/ の例を写して作成してください。")
    try:
        return CityProfile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: TOML として読めません（{exc}）。") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"{path}: 設定の誤り — {problems}") from exc


# --- H1 placeholder (issue 11): minimal ensure_profile so `disaster init --city` works on the
# `store` branch. H4's full version in this file replaces it: resolve any conflict in favour of H4.
def ensure_profile(code: str, name: str, prefecture: str | None = None) -> tuple[Path, bool]:
    """The city's profile path and False if it has one; else write a minimal starter profile
    (to ``$DISASTER_PROFILES_DIR``, default ``./cities``) and return its path and True."""
    import os

    if profile_path(code).is_file():
        return profile_path(code), False
    path = Path(os.environ.get("DISASTER_PROFILES_DIR", "cities")) / f"{code}.toml"
    if path.is_file():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'code = "{code}"\nname = "{name}"\nprefecture = "{prefecture or ""}"\ncontacts = []\n',
                    encoding="utf-8")
    return path, True
