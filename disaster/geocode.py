"""Addresses to points with MLIT 位置参照情報, by normalised matching (pure: no database).

An address such as ``福岡県大川市大字酒見１２３番地の４`` or ``本町一丁目2-3`` is normalised
(NFKC, no spaces, ヶ→ケ, one hyphen, 漢数字 before 丁目/番/号 as digits, 大字 dropped), its
都道府県 and 市区町村 are removed when present, and the longest known 町丁目/大字 name that
starts it is taken. The first number after it is the 街区符号・地番: a 街区 point gives level
``"block"``; otherwise the 大字・町丁目 representative point gives level ``"town"``.
``本町1-2-3`` means 本町一丁目 2番 when the reference has 本町一丁目.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVEL_COORDINATES = "coordinates"  # given in the 名簿
LEVEL_BLOCK = "block"  # 街区レベル位置参照情報
LEVEL_TOWN = "town"  # 大字・町丁目レベル位置参照情報 (representative point)
LEVELS = (LEVEL_COORDINATES, LEVEL_BLOCK, LEVEL_TOWN)
TOWN_POINT_NOTE = "位置は町丁目の代表点です"  # shown on plans and the leader's map for LEVEL_TOWN

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_RUN = "[〇零一二三四五六七八九十百千]+"
# 漢数字 that are numbers of the address: before 丁目/番/号/地割/の/a hyphen/the end, or after の/-
_KANJI_NUMBER = re.compile(rf"{_KANJI_RUN}(?=丁目|番|号|地割|の|-|$)|(?<=[の-]){_KANJI_RUN}")
_DASHES = re.compile(r"[‐‑‒–—―−─━]|(?<=[\d〇一二三四五六七八九十])ー")
_PREFECTURE = re.compile(r"^(?:北海道|東京都|京都府|大阪府|.{2,3}県)")
_GUN = re.compile(r"^[^市区町村郡]{1,6}郡")  # 三井郡 of 三井郡大刀洗町
_CHOME_SHORT = re.compile(r"^(\d+)[-の](?=\d)")  # 本町1-2-3: the 丁目 written as a number
_BLOCK = re.compile(r"^(?:第)?(\d+[A-Z]?)")
# what may follow the 町丁目/大字 name in an address
_AFTER_TOWN = re.compile(r"^(?:$|\d|字|番|-|第)")


def kanji_number(text: str) -> int:
    """二十三 -> 23, 百五 -> 105, 一〇五 -> 105."""
    if not any(ch in _KANJI_UNITS for ch in text):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[ch]
            digit = 0
        else:
            digit = digit * 10 + _KANJI_DIGITS[ch]
    return total + digit


def normalise(text: str) -> str:
    """The comparable form of an address or a place name."""
    value = "".join(unicodedata.normalize("NFKC", text).split())
    value = value.replace("ヶ", "ケ").replace("ヵ", "カ")
    value = _DASHES.sub("-", value)
    value = _KANJI_NUMBER.sub(lambda m: str(kanji_number(m.group())), value)
    return value.replace("大字", "")


def town_key(name: str) -> str:
    """A 大字・町丁目 (with its 小字 or ward prefix) as matched: 本町一丁目 -> 本町1丁目."""
    return normalise(name).removeprefix("字")


def block_keys(code: str) -> list[str]:
    """街区符号・地番 as matched; a cell may list several (``24,29``)."""
    return [key for part in re.split(r"[,、]", unicodedata.normalize("NFKC", code)) if (key := normalise(part))]


def city_part(municipality: str, city_name: str) -> str | None:
    """The part of a 位置参照情報 市区町村名 below the city (a 政令市's ward, else ""), or None
    when the row belongs to another municipality."""
    name, city = _without_gun(normalise(municipality)), _without_gun(normalise(city_name))
    if not city:
        return None
    if name == city:
        return ""
    if name.startswith(city) and name.endswith("区"):
        return name[len(city) :]
    return None


def _without_gun(name: str) -> str:
    """A town or village without its 郡 (三井郡大刀洗町 -> 大刀洗町); cities are left alone."""
    gun = _GUN.match(name)
    return name[gun.end() :] if gun and name.endswith(("町", "村")) else name


@dataclass(frozen=True)
class Located:
    lon: float
    lat: float
    level: str  # LEVEL_BLOCK or LEVEL_TOWN


class AddressIndex:
    """The city's 街区 and 大字・町丁目 points, keyed by normalised names."""

    def __init__(
        self,
        city_name: str,
        blocks: Iterable[tuple[str, str, float, float]],  # town key, block key, lon, lat
        towns: Iterable[tuple[str, float, float]],  # town key, lon, lat
    ):
        self.city = normalise(city_name)
        self.city_short = _without_gun(self.city)
        self.blocks = {(town, block): (lon, lat) for town, block, lon, lat in blocks}
        self.towns = {town: (lon, lat) for town, lon, lat in towns}
        self.names = {town for town, _ in self.blocks} | set(self.towns)
        self.longest = max((len(n) for n in self.names), default=0)

    def __bool__(self) -> bool:
        return bool(self.names)

    def same_address(self, first: str, second: str) -> bool:
        """Whether two spellings are one address (都道府県/市区町村 written or not)."""
        return self._below_city(normalise(first)) == self._below_city(normalise(second))

    def locate(self, addresses: Sequence[str]) -> list[Located | None]:
        """The point of each address (None when neither its 街区 nor its 町丁目 is known)."""
        return [self._locate(address) for address in addresses]

    def _locate(self, address: str) -> Located | None:
        rest = self._below_city(normalise(address))
        town = self._town(rest)
        if town is None:
            return None
        rest = rest[len(town) :]
        if (short := _CHOME_SHORT.match(rest)) and (chome := f"{town}{short.group(1)}丁目") in self.names:
            town, rest = chome, rest[short.end() :]
        if (block := _BLOCK.match(rest)) and (point := self.blocks.get((town, block.group(1)))):
            return Located(*point, LEVEL_BLOCK)
        if point := self.towns.get(town):
            return Located(*point, LEVEL_TOWN)
        return None

    def _below_city(self, address: str) -> str:
        if not self.city_short:
            return address
        rest = _PREFECTURE.sub("", address) if not address.startswith(self.city_short) else address
        for city in (self.city, self.city_short):
            if rest.startswith(city):
                return rest[len(city) :]
        gun = _GUN.match(rest)
        if gun and rest[gun.end() :].startswith(self.city_short):
            return rest[gun.end() + len(self.city_short) :]
        return rest

    def _town(self, rest: str) -> str | None:
        """The longest known 町丁目/大字 name that starts ``rest`` and is followed by a number,
        字, 番 or nothing (so 本町 does not match 本町通り)."""
        for length in range(min(self.longest, len(rest)), 0, -1):
            name = rest[:length]
            if name in self.names and _AFTER_TOWN.match(rest[length:]):
                return name
        return None
