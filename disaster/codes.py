"""Official code tables and the project's controlled vocabularies.

Sources: 国土数値情報 A31a (洪水浸水想定区域), A33 (土砂災害警戒区域), GSI 指定緊急避難場所データ,
MLIT 重ねるハザードマップ colour palette, 災害対策基本法 49条の10 (名簿 fields).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from disaster.errors import Rejected

CHECK_DIGIT_WEIGHTS = (6, 5, 4, 3, 2)  # 全国地方公共団体コード (JIS X 0402) check digit, modulus 11


def check_digit(code5: str) -> str:
    """The check digit of a 5-digit 団体コード: the last digit of 11 − (weighted sum mod 11)."""
    total = sum(int(digit) * weight for digit, weight in zip(code5, CHECK_DIGIT_WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def city_code(text: str) -> str:
    """The 6-digit 団体コード (with check digit) of ``text``: 6 digits are checked, 5 digits get
    their check digit. Full-width digits are accepted; anything else is ``errors.Rejected`` (Japanese)."""
    code = unicodedata.normalize("NFKC", text).strip()
    if not code.isascii() or not code.isdigit() or len(code) not in (5, 6):
        raise Rejected(f"団体コード「{text}」は 6 桁（検査数字つき）または 5 桁の数字です（総務省の全国地方公共団体コード）。")
    if len(code) == 5:
        return code + check_digit(code)
    if check_digit(code[:5]) != code[5]:
        raise Rejected(f"団体コード「{text}」の検査数字（6 桁目）が合いません: {code[:5]} の検査数字は "
                       f"{check_digit(code[:5])} です（{code[:5]}{check_digit(code[:5])}）。")
    return code

# Japan's extent (incl. remote islands), for rejecting misplaced or unprojected data.
JAPAN_BOUNDS = (122.0, 20.0, 154.0, 46.0)  # min lon, min lat, max lon, max lat

# CRSs the importers accept besides WGS84; everything is stored as WGS84 (EPSG:4326).
ACCEPTED_GEOGRAPHIC_CRS = {
    4326: "WGS84",
    6668: "JGD2011",
    4612: "JGD2000",
    4301: "Tokyo datum (旧日本測地系)",
}


class Hazard(StrEnum):
    """The eight hazard kinds of 指定緊急避難場所 designation (GSI column order)."""

    FLOOD = "flood"
    LANDSLIDE = "landslide"
    STORM_SURGE = "storm_surge"
    EARTHQUAKE = "earthquake"
    TSUNAMI = "tsunami"
    FIRE = "fire"
    INLAND_FLOOD = "inland_flood"
    VOLCANO = "volcano"


HAZARD_LABELS: dict[Hazard, str] = {
    Hazard.FLOOD: "洪水",
    Hazard.LANDSLIDE: "崖崩れ、土石流及び地滑り",
    Hazard.STORM_SURGE: "高潮",
    Hazard.EARTHQUAKE: "地震",
    Hazard.TSUNAMI: "津波",
    Hazard.FIRE: "大規模な火事",
    Hazard.INLAND_FLOOD: "内水氾濫",
    Hazard.VOLCANO: "火山現象",
}


class HazardLayer(StrEnum):
    """Stored hazard-zone layers (A31a layer numbers and A33 in brackets)."""

    FLOOD_L1_DEPTH = "flood_l1_depth"  # A31a-10 計画規模 浸水深
    FLOOD_L2_DEPTH = "flood_l2_depth"  # A31a-20 想定最大規模 浸水深
    FLOOD_DURATION = "flood_duration"  # A31a-30 浸水継続時間
    COLLAPSE_FLOW = "collapse_flow"  # A31a-41 家屋倒壊等氾濫想定区域（氾濫流）
    COLLAPSE_EROSION = "collapse_erosion"  # A31a-42 家屋倒壊等氾濫想定区域（河岸侵食）
    INLAND_FLOOD = "inland_flood"  # 内水浸水想定区域 (depth rank as A31a)
    LANDSLIDE = "landslide"  # A33 土砂災害警戒区域


# A31a depth ranks (A31a_105 / A31a_205): rank -> (label, lower m, upper m or None)
DEPTH_RANKS: dict[int, tuple[str, float, float | None]] = {
    1: ("0.5m未満", 0.0, 0.5),
    2: ("0.5m以上3.0m未満", 0.5, 3.0),
    3: ("3.0m以上5.0m未満", 3.0, 5.0),
    4: ("5.0m以上10.0m未満", 5.0, 10.0),
    5: ("10.0m以上20.0m未満", 10.0, 20.0),
    6: ("20.0m以上", 20.0, None),
}
# MLIT 重ねるハザードマップ palette for depth ranks 1-6.
DEPTH_COLOURS: dict[int, str] = {
    1: "#F7F5A9",
    2: "#FFD8C0",
    3: "#FFB7B7",
    4: "#FF9191",
    5: "#F285C9",
    6: "#DC7ADC",
}
# A31a duration ranks (A31a_305): rank -> label
DURATION_RANKS: dict[int, str] = {
    1: "12時間未満",
    2: "12時間以上1日未満",
    3: "1日以上3日未満",
    4: "3日以上1週間未満",
    5: "1週間以上2週間未満",
    6: "2週間以上4週間未満",
    7: "4週間以上",
}

# Old A31 (平成24年度) depth codes -> A31a rank. Where an old band straddles two A31a ranks
# the deeper one is taken: for evacuation, under-stating depth is the dangerous error.
OLD_A31_DEPTH_CODES: dict[int, int] = {
    11: 1,  # 0.5m未満
    12: 2,  # 0.5-1.0m
    13: 2,  # 1.0-2.0m
    14: 3,  # 2.0-5.0m (straddles ranks 2 and 3)
    15: 4,  # 5.0m以上 (at least rank 4)
    21: 1,  # 0.5m未満
    22: 2,  # 0.5-1.0m
    23: 2,  # 1.0-2.0m
    24: 2,  # 2.0-3.0m
    25: 3,  # 3.0-4.0m
    26: 3,  # 4.0-5.0m
    27: 4,  # 5.0m以上
}


# A33_001 phenomenon codes.
LANDSLIDE_KINDS: dict[int, str] = {1: "急傾斜地の崩壊", 2: "土石流", 3: "地滑り"}
# A33_002 区域区分: 1/3 警戒区域 (yellow), 2/4 特別警戒区域 (red); 3/4 are the 指定前 (基礎調査) variants.
LANDSLIDE_CLASSES: dict[int, str] = {
    1: "土砂災害警戒区域",
    2: "土砂災害特別警戒区域",
    3: "土砂災害警戒区域（指定前）",
    4: "土砂災害特別警戒区域（指定前）",
}
LANDSLIDE_RED_CLASSES = frozenset({2, 4})
LANDSLIDE_COLOURS = {"yellow": "#FFE300", "red": "#E60000"}



# --- 名簿 vocabularies (災害対策基本法 49条の10; values as written on Japanese forms) ---

SEX_VALUES = {"男": "男", "男性": "男", "M": "男", "1": "男", "女": "女", "女性": "女", "F": "女", "2": "女",
              "その他": "その他", "回答しない": "その他", "9": "その他"}

CARE_LEVELS = ("要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5")

MOBILITY_LEVELS = ("自立", "杖・歩行器", "車いす", "寝たきり")

DISABILITY_TYPES = ("肢体不自由", "視覚障害", "聴覚障害", "内部障害", "知的障害", "精神障害", "発達障害")

MEDICAL_DEVICES = ("人工呼吸器", "在宅酸素", "たん吸引器", "人工透析", "電動ベッド", "経管栄養", "その他")
POWER_DEPENDENT_DEVICES = frozenset({"人工呼吸器", "在宅酸素", "たん吸引器", "電動ベッド"})

COMMUNICATION_NEEDS = ("聴覚（筆談・手話）", "視覚（音声・点字）", "認知症", "知的（やさしい説明）", "日本語以外")

SUPPORTER_RELATIONS = ("家族", "親族", "近隣住民", "自治会", "民生委員", "自主防災組織", "福祉専門職", "その他")

# Kinds of consultation centre in the 校区 table (seeds 相談窓口一覧).
CENTRE_KINDS = {
    "houkatsu": "地域包括支援センター",
    "kikan": "障害者基幹相談支援センター",
    "seikatsu": "生活自立支援センター",
}
