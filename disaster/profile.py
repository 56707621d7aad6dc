"""City profile: everything that differs between municipalities, one TOML file per city
(``<団体コード>.toml``; the packaged profiles in ``data/cities/`` are examples).

Code never names a city; plans, exercises, maps and reports read these values. A profile is
validated when loaded, and a missing or invalid one is a user error naming the file and field.
``load_profile`` looks in the profiles folder (``DISASTER_PROFILES_DIR``, default ``./cities``)
first, then among the packaged profiles. ``ensure_profile`` writes a documented starter profile
for a city that has none: generic texts with the city's name, no contacts, no river gauges, no
participant target — the outputs then use generic wording or leave the part out.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pyproj import CRS

from disaster.errors import NotReady
from disaster.geo import PREFECTURES, plane_rectangular_epsg
from disaster.resources import cities_dir
from disaster.settings import get_settings


class ProfileError(NotReady):
    """The city profile is missing or invalid (a user error, printed in Japanese)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    """A city-wide contact printed on every plan (社協, 福祉課, 防災課 …)."""

    role: str  # what it is, printed in the first column (社協, 福祉課 …)
    name: str  # the office's full name
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
    """Walking limits, speeds and lead times used by the assessment (``[evacuation]``)."""

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

    opening_confirmation: str  # the sentence printed on every plan with 福祉避難所 advice
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
    """The city plan's figures for 図上訓練 participants per 年度 (starting calendar year): the
    baseline when the plan was made and the target; the report measures progress between them."""

    baseline_year: int
    baseline: int = Field(ge=0)
    target_year: int
    target: int = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ParticipantTarget:
        if self.target_year <= self.baseline_year:
            raise ValueError("target_year は baseline_year より後の年度にしてください")
        if self.target == self.baseline:
            raise ValueError("target と baseline が同じでは進み具合を計れません")
        return self


class ExerciseProfile(_Strict):
    """What 図上訓練 scenarios name for this city: river gauges per 校区, the earthquake, the hills;
    and the participant target the report measures progress against. Everything is optional:
    without gauges a flood scenario speaks of "the river's reference gauge" without figures, without
    an earthquake source of "a large earthquake", and the report shows no progress figure."""

    gauges: list[Gauge] = Field(default_factory=list)
    earthquake_source: str | None = None  # the fault or scenario earthquake named in 地震 exercises
    earthquake_intensity: str = "6強"
    landslide_area: str = "山ぎわ"  # where landslide scenarios rain, e.g. a mountain foot
    sluice: str = "支川の水門"  # what is closed when the main river rises (内水)
    participants: ParticipantTarget | None = None
    # an open pack describes each pseudonymised person only as precisely as at least this many
    # residents of the 校区 (disaster.exercises.pseudonyms)
    pseudonym_k: int = Field(default=5, ge=2, le=50)

    def gauge_for(self, district: str) -> Gauge | None:
        """The district's own reference gauge (else the first gauge listed without districts, else
        the first gauge; None without gauges)."""
        for gauge in self.gauges:
            if district in gauge.districts:
                return gauge
        return next((g for g in self.gauges if not g.districts), self.gauges[0] if self.gauges else None)


class MapsProfile(_Strict):
    """Titles of the interactive maps. Empty: "<市の名前> 防災マップ"."""

    title: str = ""  # the maps index page and the city overview


class CityProfile(_Strict):
    code: str  # 団体コード with check digit (6 digits)
    name: str  # e.g. 〇〇市
    prefecture: str  # e.g. 〇〇県
    # EPSG code of the metric CRS for distances and areas; empty: the JGD2011 平面直角座標系 zone
    # that covers the city (computed from the 団体コード).
    metric_crs: int | None = None
    # School-name prefixes stripped from 校区 names (〇〇市立△△小学校 -> △△); empty: any
    # 〇〇市立 / 町立 / 村立 / 区立.
    school_prefixes: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)  # empty: no city-wide contacts printed
    evacuation: EvacuationProfile = Field(default_factory=EvacuationProfile)
    welfare: WelfareProfile
    exercise: ExerciseProfile = Field(default_factory=ExerciseProfile)
    maps: MapsProfile = Field(default_factory=MapsProfile)

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError("団体コードは6桁の数字です（検査数字を含む）")
        return value

    @field_validator("metric_crs")
    @classmethod
    def _projected(cls, value: int | None) -> int | None:
        if value is not None and not CRS.from_epsg(value).is_projected:
            raise ValueError(f"EPSG:{value} はメートル単位の投影座標系ではありません")
        return value

    @property
    def metric_epsg(self) -> int:
        """EPSG code of the metric CRS: ``metric_crs``, else the 平面直角座標系 zone of the city."""
        return self.metric_crs or plane_rectangular_epsg(self.code)

    @property
    def crs(self) -> CRS:
        """The metric CRS for this city's lengths and areas."""
        return CRS.from_epsg(self.metric_epsg)

    @property
    def school_prefix_pattern(self) -> str:
        """A regular expression for the school-name prefix to strip."""
        from disaster.importers.areas import GENERIC_SCHOOL_PREFIX  # the importers (pyogrio) only when importing

        if self.school_prefixes:
            return "|".join(re.escape(p) for p in self.school_prefixes)
        return GENERIC_SCHOOL_PREFIX

    @property
    def map_title(self) -> str:
        return self.maps.title or f"{self.name} 防災マップ"


def prefecture_of(city_code: str) -> str:
    """The prefecture a 団体コード belongs to (its first two digits)."""
    number = int(city_code[:2])
    if not 1 <= number <= len(PREFECTURES):
        raise ProfileError(f"団体コード {city_code} の都道府県コード（先頭2桁）が正しくありません。")
    return PREFECTURES[number - 1]


def profiles_dir() -> Path:
    """The user's profiles folder (``DISASTER_PROFILES_DIR``, default ``./cities``)."""
    return get_settings().profiles_dir


def find_profile(city_code: str) -> Path | None:
    """The profile file of ``city_code``: the user's folder first, then the packaged ones."""
    for folder in (profiles_dir(), cities_dir()):
        path = folder / f"{city_code}.toml"
        if path.is_file():
            return path
    return None


VALIDATION_MESSAGES = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "この項目は使えません（綴りを確かめてください）",
    "greater_than": "{gt} より大きい値にしてください",
    "greater_than_equal": "{ge} 以上の値にしてください",
    "less_than": "{lt} より小さい値にしてください",
    "less_than_equal": "{le} 以下の値にしてください",
    "string_type": "文字列（\"…\" で囲む）にしてください",
    "int_parsing": "整数にしてください",
    "int_type": "整数にしてください",
    "float_parsing": "数値にしてください",
    "float_type": "数値にしてください",
    "bool_parsing": "true または false にしてください",
    "bool_type": "true または false にしてください",
    "list_type": "リスト（[ … ]）にしてください",
}


def _japanese(error: Any) -> str:
    """A pydantic error in Japanese (the profile is edited by city staff)."""
    template = VALIDATION_MESSAGES.get(error["type"])
    if template is None:
        return str(error["msg"])  # our own validators already write Japanese
    return template.format(**error.get("ctx", {}))


@lru_cache
def load_profile(city_code: str) -> CityProfile:
    """The validated profile of ``city_code``."""
    path = find_profile(city_code)
    if path is None:
        raise ProfileError(
            f"団体コード {city_code} の市区町村の設定ファイル {city_code}.toml が見つかりません（探した場所: "
            f"{profiles_dir().resolve()} と同梱の設定）。設定ファイルのあるフォルダで実行するか、環境変数 "
            f"DISASTER_PROFILES_DIR にそのフォルダを指定してください。まだ作っていなければ "
            f"`disaster init --city {city_code}` で雛形を作れます。")
    try:
        profile = CityProfile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+)", str(exc))
        raise ProfileError(f"{path}: TOML として読めません（{where.group(1) + '行目付近、' if where else ''}{exc}）。") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {_japanese(e)}" for e in exc.errors())
        raise ProfileError(f"{path}: 設定の誤り — {problems}") from exc
    if profile.code != city_code:
        raise ProfileError(f"{path}: code = \"{profile.code}\" ですが、ファイル名の団体コードは {city_code} です。")
    return profile


def ensure_profile(city_code: str, name: str, prefecture: str | None = None) -> tuple[Path, bool]:
    """The profile of ``city_code``, written as a documented starter profile into the profiles
    folder when the city has none. Returns (path, whether it was written now)."""
    if (existing := find_profile(city_code)) is not None:
        return existing, False
    path = profiles_dir() / f"{city_code}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = starter_profile(city_code, name, prefecture or prefecture_of(city_code))
    CityProfile.model_validate(tomllib.loads(text))  # never write a profile that does not load
    path.write_text(text, encoding="utf-8")
    load_profile.cache_clear()
    return path, True


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_profile(city_code: str, name: str, prefecture: str) -> str:
    """The text of a starter profile: every setting documented, generic values only."""
    zone = plane_rectangular_epsg(city_code)
    return f"""\
# 市区町村の設定（団体コード {city_code}）。`disaster init` が作った雛形です。
# 市ごとに違うこと（連絡先、図上訓練の目標、河川の水位観測所など）をここに書きます。書かない項目は
# 一般的な表現になるか、作成物に出ません（架空の値は入りません）。記入例は同梱の data/cities/ の設定を参照。
code = "{city_code}"
name = {_quoted(name)}
prefecture = {_quoted(prefecture)}

# 距離・面積の計算に使うメートル単位の座標系（EPSG コード）。書かなければ、市を含む平面直角座標系
# （JGD2011、この市では EPSG:{zone}）を使います。
# metric_crs = {zone}

# 校区名から外す学校名の頭（例: ["〇〇市立"]）。書かなければ「〇〇市立・町立・村立・区立」を外します。
# school_prefixes = []

# マイプランに印刷する市全体の連絡先（社協、福祉課、防災課など）。校区ごとの窓口は校区の表から読みます。
# 書くまでは何も印刷されません。
# [[contacts]]
# role = "社協"              # 表の見出し
# name = "〇〇市社会福祉協議会"
# tel = "000-000-0000"
# fax = "000-000-0000"       # なければ省略

[welfare]
# 福祉避難所の開設の確かめ方（マイプランに印刷）と、確認先。
opening_confirmation = "福祉避難所が開いたかどうかは、市が施設に確認し、支援者またはご本人に知らせます。知らせがあるまでは、まず指定避難所（福祉スペース）へ避難してください。"
confirmation_contact = {_quoted(name + "の福祉担当課")}

[evacuation]
# 避難判定の前提。書かない項目は既定値（かっこ内）を使います。
# lead_time_min = 180            # 警戒レベル3 から道が危険になるまでの想定（分）
# early_window_min = 180         # レベル3 より前（明るいうち）に出るときに増える時間（分）
# previous_day_window_min = 720  # 前の日の明るいうちに出るときに増える時間（分）
# detour_factor = 1.3            # 道のり / 直線距離（道路データがないとき）
# car_speed_kmh = 20             # 大雨の中の車の速さ
# car_arrange_min = 20           # 運転する人が着くまで（分）
# welfare_max_travel_min = 45    # これより遠い福祉避難所は計画しない（分）
# welfare_candidates = 8         # 1人あたり検討する近い福祉避難所の数
# max_residents_per_supporter = 3
# review_months = 12             # 計画の見直しの間隔（月）

# [evacuation.walk_limits]       # 歩いて避難する道のりの上限（m）
# able_m = 2000
# supported_m = 500
# wheelchair_m = 500
# bedridden_m = 0
# power_device_m = 0

[exercise]
# 図上訓練のシナリオに出てくる、この市の事柄。
# earthquake_source = "〇〇断層帯"   # 書かなければ「大きな地震」
# earthquake_intensity = "6強"
# landslide_area = "山ぎわ"          # 土砂災害の想定の場所
# sluice = "支川の水門"              # 本川の水位が上がったときに閉める水門
# pseudonym_k = 5                    # 公開の教材の仮名の人物は、校区の少なくともこの人数に当てはまる書き方にする

# 図上訓練の参加者数の基準と目標（年度は始まりの西暦年）。書かなければ集計に進み具合を出しません。
# [exercise.participants]
# baseline_year = 2024
# baseline = 100
# target_year = 2030
# target = 120

# 河川の基準水位観測所と、それを目安にする校区（川の防災情報 https://www.river.go.jp/ で確認）。
# 書かなければ、洪水の訓練は観測所名・水位の数字なしで進みます。
# [[exercise.gauges]]
# name = "〇〇"                 # 観測所名
# river = "〇〇川"
# location = "〇〇町"
# office = "〇〇河川事務所"
# standby_m = 0.0               # 水防団待機水位
# caution_m = 0.0               # 氾濫注意水位
# evacuation_m = 0.0            # 避難判断水位
# danger_m = 0.0                # 氾濫危険水位
# districts = []                # この観測所を見る校区（空なら既定の観測所）
# source = ""
# verified = false

[maps]
# 地図の題名。書かなければ「{name} 防災マップ」。
# title = ""
"""
