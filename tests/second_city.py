"""A second real municipality's input files, written the way its staff would download or export them.

大川市 (福岡県, 団体コード 402125): the boundary is the real N03 feature from
``../shared/data/raw/n03_fukuoka_2021_s0010.geojson``; everything else is test-written and **fictional**
(デモ): two 校区 cut from the boundary, GSI-format shelter files (指定避難所 and 指定緊急避難場所, one
facility listed in both under different names, one 指定福祉避難所), A31a flood and A33 landslide zones
of a made-up extent, a city profile with fictional phone numbers (0944-00-…), a CP932 名簿 as a
住民基本台帳 system exports it (a title line and a blank line above the header, a 合計 row, addresses
and no coordinates) and MLIT 位置参照情報 files (街区レベル and 大字・町丁目レベル, CP932, the published
headers) covering those addresses, some only at 大字 level.

``write_second_city(shared_data, directory)`` writes everything and returns what a test needs to know
about it (``SecondCity``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj
import shapely
from shapely.geometry import box, mapping, shape

N03_FILE = "raw/n03_fukuoka_2021_s0010.geojson"
N03_CODE = "40212"  # N03_007: the 5-digit code without check digit
NAME = "大川市"
PREFECTURE = "福岡県"
PLANE_ZONE = 2  # 平面直角座標系 II (福岡県): 位置参照情報 gives X/Y in it
PLANE_EPSG = 6670  # JGD2011 / Japan Plane Rectangular CS II
PHONE = "0944-00-"  # a fictional range, like the Kurume demo's 0942-00-


def check_digit(code5: str) -> str:
    """The 全国地方公共団体コード check digit: weights 6,5,4,3,2, then 11 - (sum mod 11), last digit."""
    total = sum(int(digit) * weight for digit, weight in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


CODE = N03_CODE + check_digit(N03_CODE)  # 402125

# --- 校区: two fictional halves of the city, named as the school-district file names them -------------
SPLIT_LAT = 33.205  # south of it 川口, north 三又
DISTRICTS = {"川口": ("大川市立川口小学校", "南部"), "三又": ("大川市立三又小学校", "北部")}
PLAN_DISTRICT = "川口"


@dataclass(frozen=True)
class Town:
    """A 大字 with its representative point and the 地番 that the 街区レベル file lists."""

    name: str
    district: str
    point: tuple[float, float]  # lon, lat
    blocks: dict[str, tuple[float, float]] = field(default_factory=dict)


TOWNS = (
    Town("榎津", "川口", (130.3580, 33.1920), {"101": (130.3560, 33.1900), "205": (130.3600, 33.1940)}),
    Town("小保", "川口", (130.3680, 33.1860), {"310": (130.3660, 33.1840), "455": (130.3700, 33.1880)}),
    Town("鐘ケ江", "川口", (130.3950, 33.1970), {"101": (130.3930, 33.1960), "620": (130.3980, 33.1990)}),
    Town("向島", "川口", (130.3850, 33.1920)),
    Town("三丸", "三又", (130.3950, 33.2220), {"150": (130.3960, 33.2210)}),
    Town("中古賀", "三又", (130.3850, 33.2280)),
)
TOWN_BY_NAME = {town.name: town for town in TOWNS}


@dataclass(frozen=True)
class Person:
    """One 名簿 row; ``town``/``block`` say which 位置参照情報 point the address must match."""

    no: str
    name: str
    kana: str
    birth: str  # as the export writes it
    sex: str
    address: str
    town: str
    block: str | None  # None: only the 大字 is known -> 町丁目の代表点
    care_level: str = ""
    mobility: str = "自立"
    alone: str = "いいえ"
    floors: str = "1"
    consent_plan: str = "はい"
    contact: tuple[str, str, str] = ("", "", "")

    @property
    def district(self) -> str:
        return TOWN_BY_NAME[self.town].district

    @property
    def level(self) -> str:
        return "block" if self.block else "town"


PEOPLE = (
    Person("OK0001", "蒲池 ミツ子", "かまち みつこ", "S.15.3.2", "女", "福岡県大川市榎津１０１番地", "榎津", "101",
           "要介護2", "杖・歩行器", "はい", contact=("蒲池 浩二", "長男", f"{PHONE}1101")),
    Person("OK0002", "江頭 義徳", "えがしら よしのり", "昭12.11.20", "男", "大川市榎津205-3", "榎津", "205",
           mobility="車いす", floors="2", contact=("江頭 和子", "妻", f"{PHONE}1102")),
    Person("OK0003", "荒巻 チヨ", "あらまき ちよ", "19380721", "女", "大川市小保310番地2", "小保", "310",
           "要介護3", "寝たきり", contact=("荒巻 誠", "長男", f"{PHONE}1103")),
    Person("OK0004", "城戸 キヨ", "きど きよ", "1936/05/06 0:00:00", "女", "福岡県大川市小保４５５－１", "小保", "455",
           "要支援1", "杖・歩行器", "はい", contact=("城戸 正人", "甥", f"{PHONE}1104")),
    Person("OK0005", "鬼塚 スミ", "おにつか すみ", "昭和9年1月15日", "女", "大川市鐘ヶ江101", "鐘ケ江", "101",
           "要介護1", "杖・歩行器", floors="2", contact=("鬼塚 健", "長男", f"{PHONE}1105")),
    Person("OK0006", "猿渡 重光", "さるわたり しげみつ", "S.10.8.30", "男", "大川市鐘ケ江620番地1", "鐘ケ江", "620",
           consent_plan="いいえ"),
    Person("OK0007", "陣内 トミ", "じんない とみ", "昭和14年9月9日", "女", "大川市向島1234番地", "向島", None,
           "要介護2", "杖・歩行器", "はい", contact=("陣内 由美", "長女", f"{PHONE}1107")),
    Person("OK0008", "馬場崎 要", "ばばさき かなめ", "19410210", "男", "福岡県大川市向島２０５０", "向島", None,
           mobility="杖・歩行器", contact=("馬場崎 良子", "妻", f"{PHONE}1108")),
    Person("OK0009", "百武 ユキ", "ひゃくたけ ゆき", "昭13.4.1", "女", "大川市三丸150番地", "三丸", "150",
           "要介護1", "杖・歩行器", "はい", contact=("百武 学", "長男", f"{PHONE}1109")),
    Person("OK0010", "樺島 政吉", "かばしま まさきち", "S.8.12.24", "男", "大川市中古賀88", "中古賀", None,
           mobility="車いす", contact=("樺島 恵", "次女", f"{PHONE}1110")),
)

ROSTER_HEADER = ["名簿番号", "氏名", "ふりがな", "生年月日", "性別", "住所", "電話番号", "要介護度", "移動", "独居",
                 "建物階数", "寝室の階", "階段昇降", "名簿情報提供同意", "名簿情報提供同意日", "計画作成同意",
                 "計画作成同意日", "緊急連絡先1氏名", "緊急連絡先1続柄", "緊急連絡先1電話"]

# --- GSI shelters: (serial, name in 指定避難所 file or None, name in 緊急避難場所 file or None, address, point,
#     指定避難所 type digits, 受入対象者, hazards designated in the 緊急避難場所 file) -------------------------------
GSI_HAZARDS = ("洪水", "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫", "火山現象")
FACILITIES: tuple[tuple[str, str | None, str | None, str, tuple[float, float], str, str | None, tuple[str, ...]], ...] = (
    ("00001", "デモ川口小学校", "デモ川口小学校（体育館）", "福岡県大川市鐘ケ江300", (130.3920, 33.1945), "111", None,
     ("洪水", "地震", "内水氾濫")),
    ("00002", "デモ川口コミュニティセンター", None, "福岡県大川市鐘ケ江410", (130.3885, 33.1985), "111", None, ()),
    ("00003", "デモ三又小学校", "デモ三又小学校体育館", "福岡県大川市三丸500", (130.3900, 33.2200), "111", None,
     ("地震", "大規模な火事")),
    ("00004", "デモ福祉センターみずほ", None, "福岡県大川市鐘ケ江700", (130.4000, 33.1960), "121",
     "要介護高齢者、障害者等の要配慮者", ()),
    ("00005", None, "デモ中央公園", "福岡県大川市向島3000", (130.3800, 33.2000), "", None, ("地震", "大規模な火事")),
)
EXPECTED_FACILITIES = len(FACILITIES)  # two are listed in both files and merge
EXPECTED_WELFARE_SHELTERS = 1

# --- hazards: A31a (a made-up 花宗川 flood) and A33 (one small made-up zone) ------------------------------------
RIVER = "花宗川"
RIVER_CODE = "8909069901"  # fictional
DEEP_WATER = (130.3390, 33.1700, 130.3720, 33.2050)  # west of 川口: homes in 榎津 and 小保 are inside
LANDSLIDE = (130.3940, 33.2195, 130.3980, 33.2225)  # around 三丸 150

# --- city profile -------------------------------------------------------------------------------------------------
CONTACTS = (("社協", "大川市社会福祉協議会（デモ）", f"{PHONE}0101", f"{PHONE}0102"),
            ("福祉課", "大川市 福祉課（デモ）", f"{PHONE}0201", None),
            ("防災課", "大川市 防災課（デモ）", f"{PHONE}0301", None))
GAUGE = "デモ水位観測所"
PARTICIPANT_TARGET = 200
CENTRE = ("大川市南部地域包括支援センター（デモ）", f"{PHONE}0401")


@dataclass
class SecondCity:
    """The written files and what the test expects from them."""

    directory: Path
    code: str
    name: str
    boundary: Path
    districts: Path
    district_table: Path
    shelters: list[Path]
    hazards: list[Path]
    address_points: list[Path]
    roster: Path
    profiles_dir: Path
    people: tuple[Person, ...] = PEOPLE
    plan_district: str = PLAN_DISTRICT
    district_names: tuple[str, ...] = tuple(DISTRICTS)
    facilities: int = EXPECTED_FACILITIES
    welfare_shelters: int = EXPECTED_WELFARE_SHELTERS
    contact_phones: tuple[str, ...] = tuple(c[2] for c in CONTACTS)
    gauge: str = GAUGE
    participant_target: int = PARTICIPANT_TARGET
    shelter_names: tuple[str, ...] = tuple(n for f in FACILITIES for n in f[1:3] if n)

    @property
    def profile(self) -> Path:
        return self.profiles_dir / f"{self.code}.toml"


def write_second_city(shared_data: Path, directory: Path) -> SecondCity:
    """Write 大川市's input files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    feature = _n03_feature(shared_data / N03_FILE)
    city = shape(feature["geometry"])
    parts = {"川口": city.intersection(box(130.0, 33.0, 131.0, SPLIT_LAT)),
             "三又": city.intersection(box(130.0, SPLIT_LAT, 131.0, 34.0))}
    _check_places(parts)
    return SecondCity(
        directory=directory,
        code=CODE,
        name=NAME,
        boundary=_geojson(directory / f"N03-21_{N03_CODE}.geojson", [(feature["geometry"], feature["properties"])]),
        districts=_geojson(directory / "shougakkouku.geojson",
                           [(mapping(parts[name]), {"校区名": school}) for name, (school, _) in DISTRICTS.items()]),
        district_table=_district_table(directory / "校区一覧.csv"),
        shelters=_gsi_files(directory),
        hazards=_hazard_files(directory, city),
        address_points=_address_point_files(directory),
        roster=_roster(directory / "youshiensha_meibo.csv"),
        profiles_dir=_profile(directory / "cities"),
    )


def _n03_feature(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return next(f for f in data["features"] if f["properties"]["N03_007"] == N03_CODE)


def _check_places(parts: dict[str, shapely.Geometry]) -> None:
    """Every home, town point and shelter lies in its 校区 (a wrong constant fails here, not in the test)."""
    for town in TOWNS:
        for lon, lat in [town.point, *town.blocks.values()]:
            if not parts[town.district].contains(shapely.Point(lon, lat)):
                raise ValueError(f"{town.name} ({lon}, {lat}) is not in {town.district}")
    for facility in FACILITIES:
        if not any(part.contains(shapely.Point(*facility[4])) for part in parts.values()):
            raise ValueError(f"{facility[1] or facility[2]} is outside the city")


def _geojson(path: Path, features: list[tuple[dict[str, Any], dict[str, Any]]]) -> Path:
    data = {"type": "FeatureCollection", "name": path.stem,
            "features": [{"type": "Feature", "properties": p, "geometry": g} for g, p in features]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _district_table(path: Path) -> Path:
    """The 校区 table as kept in Excel and saved as CSV (UTF-8 with BOM), Japanese headers."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["校区", "圏域", "地域包括支援センター", "地域包括支援センター電話"])
        for name, (_, area) in DISTRICTS.items():
            writer.writerow([name, area, *(CENTRE if name == PLAN_DISTRICT else ("", ""))])
    return path


def _gsi_files(directory: Path) -> list[Path]:
    """指定避難所 and 指定緊急避難場所 files with the GSI download's fields (NO, 共通ID …)."""
    shelters: list[tuple[dict[str, Any], dict[str, Any]]] = []
    sites: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for serial, shelter_name, site_name, address, (lon, lat), kind, accepted, hazards in FACILITIES:
        common = {"都道府県名及び市町村名": f"{PREFECTURE}{NAME}"}
        geometry = {"type": "Point", "coordinates": [lon, lat]}
        if shelter_name:
            shelters.append((geometry, {
                "NO": 90001 + len(shelters), "共通ID": f"E{N03_CODE}{serial}{kind}", **common, "施設・場所名": shelter_name,
                "住所": address, "指定緊急避難場所との住所同一": "1" if site_name else "",
                "その他市町村長が必要と認める事項": None, "受入対象者": accepted, "備考": "デモ（架空の施設）"}))
        if site_name:
            sites.append((geometry, {
                "NO": 95001 + len(sites), "共通ID": f"E{N03_CODE}{serial}201", **common, "施設・場所名": site_name,
                "住所": address, **{h: "1" if h in hazards else "" for h in GSI_HAZARDS},
                "指定避難所との住所同一": "1" if shelter_name else "", "備考": "デモ（架空の施設）"}))
    return [_geojson(directory / f"gsi_evacuation_{CODE}.geojson", shelters),
            _geojson(directory / f"gsi_emergency_{CODE}.geojson", sites)]


def _hazard_files(directory: Path, city: shapely.Geometry) -> list[Path]:
    """A31a layers 10 (計画規模), 20 (想定最大規模) and 30 (継続時間), and an A33 file (国土数値情報 schemas)."""
    deep = city.intersection(box(*DEEP_WATER))
    shallow_l1 = city.intersection(box(DEEP_WATER[0], DEEP_WATER[1], DEEP_WATER[2] - 0.004, DEEP_WATER[3]))

    def a31a(group: str, rank: int, geometry: shapely.Geometry) -> tuple[dict[str, Any], dict[str, Any]]:
        """One feature of layer group 1/2/3 (attributes A31a_<group>01 … <group>05)."""
        return mapping(geometry), {f"A31a_{group}01": RIVER_CODE, f"A31a_{group}02": RIVER, f"A31a_{group}03": "2",
                                   f"A31a_{group}04": "福岡県（デモ）", f"A31a_{group}05": rank}

    return [
        _geojson(directory / "A31a-10_demo_hanamunegawa.geojson", [a31a("1", 2, shallow_l1)]),
        _geojson(directory / "A31a-20_demo_hanamunegawa.geojson", [a31a("2", 3, deep)]),
        _geojson(directory / "A31a-30_demo_hanamunegawa.geojson", [a31a("3", 3, deep)]),
        _geojson(directory / "A33_demo_mitsumata.geojson", [(mapping(box(*LANDSLIDE)), {
            "A33_001": 1, "A33_002": 1, "A33_003": "40", "A33_004": "DEMO-O01", "A33_005": "三丸1（デモ）",
            "A33_006": f"{NAME}三丸地区（デモ）"})]),
    ]


def _address_point_files(directory: Path) -> list[Path]:
    """位置参照情報 as unzipped from the MLIT download: ``<code>-<version>/<code>_<year>.csv``, CP932, all
    fields quoted; 街区レベル (22.0a) and 大字・町丁目レベル (17.0b) use the same file name."""
    to_plane = pyproj.Transformer.from_crs(4326, PLANE_EPSG, always_xy=True)
    block_rows = []
    for town in TOWNS:
        for number, (lon, lat) in town.blocks.items():
            easting, northing = to_plane.transform(lon, lat)
            block_rows.append([PREFECTURE, NAME, town.name, "", number, str(PLANE_ZONE), f"{northing:.1f}",
                               f"{easting:.1f}", f"{lat:.6f}", f"{lon:.6f}", "0", "1", "0", "0"])
    town_rows = [["40", PREFECTURE, N03_CODE, NAME, f"{N03_CODE}{index:04d}000", town.name, f"{town.point[1]:.6f}",
                  f"{town.point[0]:.6f}", "1", "1"] for index, town in enumerate(TOWNS, start=1)]
    block = _quoted_csv(directory / f"{N03_CODE}-22.0a" / f"{N03_CODE}_2023.csv",
                        ["都道府県名", "市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番", "座標系番号", "Ｘ座標",
                         "Ｙ座標", "緯度", "経度", "住居表示フラグ", "代表フラグ", "更新前履歴フラグ", "更新後履歴フラグ"],
                        block_rows)
    town = _quoted_csv(directory / f"{N03_CODE}-17.0b" / f"{N03_CODE}_2023.csv",
                       ["都道府県コード", "都道府県名", "市区町村コード", "市区町村名", "大字町丁目コード", "大字町丁目名",
                        "緯度", "経度", "原典資料コード", "大字・字・丁目区分コード"],
                       town_rows)
    return [block, town]


def _quoted_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _roster(path: Path) -> Path:
    """The 名簿 as a 住民基本台帳 system exports it: CP932, a title line and a blank line, the header, the rows
    and a 合計 row; addresses only (no 緯度/経度, no 校区)."""
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"避難行動要支援者名簿　{NAME}（令和8年4月1日現在）　デモデータ（架空）"])
        writer.writerow([])
        writer.writerow(ROSTER_HEADER)
        for index, p in enumerate(PEOPLE, start=1):
            writer.writerow([p.no, p.name, p.kana, p.birth, p.sex, p.address, f"{PHONE}2{index:03d}", p.care_level,
                             p.mobility, p.alone, p.floors, "1", "はい" if p.floors == "2" else "いいえ", "はい",
                             "R7.6.1", p.consent_plan, "R7.6.1" if p.consent_plan == "はい" else "", *p.contact])
        writer.writerow(["合計", f"{len(PEOPLE)}人"])
    return path


def _profile(directory: Path) -> Path:
    """The city profile, in the format of ``data/cities/<団体コード>.toml``."""
    directory.mkdir(parents=True, exist_ok=True)
    contacts = "".join(
        f'\n[[contacts]]\nrole = "{role}"\nname = "{name}"\ntel = "{tel}"\n' + (f'fax = "{fax}"\n' if fax else "")
        for role, name, tel, fax in CONTACTS)
    text = f'''# City profile of {NAME} for the acceptance test (fictional contacts and figures: デモ).
code = "{CODE}"
name = "{NAME}"
prefecture = "{PREFECTURE}"
{contacts}
[welfare]
opening_confirmation = "福祉避難所が開いたかどうかは、市が施設に確認し、支援者またはご本人に電話で知らせます。知らせがあるまでは、まず指定避難所へ避難してください。"
confirmation_contact = "{CONTACTS[1][1]}"

[exercise]
earthquake_source = "想定地震（デモ）"
landslide_area = "三丸地区（デモ）"

[exercise.participants]
baseline_year = 2024
baseline = 120
target_year = 2030
target = {PARTICIPANT_TARGET}

[[exercise.gauges]]
name = "{GAUGE}"
river = "{RIVER}"
office = "福岡県（デモ）"
standby_m = 1.0
caution_m = 1.5
evacuation_m = 2.2
danger_m = 2.6
source = "訓練用の架空の値"
verified = false
'''
    (directory / f"{CODE}.toml").write_text(text, encoding="utf-8")
    return directory
