"""Normalised address matching against 位置参照情報 points (pure, no store)."""

from __future__ import annotations

import pytest

from disaster.geocode import AddressIndex, block_keys, city_part, kanji_number, normalise, town_key

BLOCK_HONMACHI = (130.511, 33.311)
BLOCK_SAKEMI = (130.322, 33.222)
BLOCK_KASUMI = (130.433, 33.233)
TOWN_HONMACHI_1 = (130.5101, 33.3101)
TOWN_SAKEMI = (130.3201, 33.2201)
TOWN_HONMACHI = (130.5, 33.3)


@pytest.fixture
def index() -> AddressIndex:
    return AddressIndex(
        "大川市",
        [(town_key("本町一丁目"), "2", *BLOCK_HONMACHI), (town_key("酒見"), "123", *BLOCK_SAKEMI),
         (town_key("霞ヶ丘三丁目"), "12", *BLOCK_KASUMI)],
        [(town_key("本町一丁目"), *TOWN_HONMACHI_1), (town_key("酒見"), *TOWN_SAKEMI), (town_key("本町"), *TOWN_HONMACHI)],
    )


@pytest.mark.parametrize(
    ("address", "point", "level"),
    [
        ("福岡県大川市本町一丁目2番3号", BLOCK_HONMACHI, "block"),
        ("大川市本町1丁目2-3", BLOCK_HONMACHI, "block"),
        ("本町１丁目２番地", BLOCK_HONMACHI, "block"),  # 都道府県・市区町村 omitted, full-width digits
        ("本町1-2-3", BLOCK_HONMACHI, "block"),  # the 丁目 written as a number
        ("本町一丁目二番三号 ハイツ本町101", BLOCK_HONMACHI, "block"),
        ("福岡県大川市大字酒見１２３番地の４", BLOCK_SAKEMI, "block"),
        ("大川市酒見123－4", BLOCK_SAKEMI, "block"),  # full-width hyphen
        ("酒見123ー4", BLOCK_SAKEMI, "block"),  # a long-vowel mark used as a hyphen
        ("酒見百二十三番地", BLOCK_SAKEMI, "block"),
        ("霞ケ丘3丁目12−5", BLOCK_KASUMI, "block"),  # ケ for ヶ, minus sign
        ("霞ヶ丘三丁目十二番五号", BLOCK_KASUMI, "block"),
        ("本町1丁目9番1号", TOWN_HONMACHI_1, "town"),  # 街区 unknown: the 町丁目's point
        ("大川市大字酒見字北5", TOWN_SAKEMI, "town"),
        ("本町4-1", TOWN_HONMACHI, "town"),  # no 本町四丁目: 4 is a 番地 of 本町
    ],
)
def test_addresses_in_every_usual_form_find_their_point(index: AddressIndex, address: str,
                                                       point: tuple[float, float], level: str) -> None:
    (found,) = index.locate([address])
    assert found is not None, address
    assert ((found.lon, found.lat), found.level) == (point, level)


@pytest.mark.parametrize("address", ["本町通り5", "福岡市本町1-2", "柳川市酒見123", "城島町下田1", ""])
def test_unknown_towns_and_other_cities_are_not_matched(index: AddressIndex, address: str) -> None:
    assert index.locate([address]) == [None]


def test_an_empty_index_matches_nothing() -> None:
    empty = AddressIndex("大川市", [], [])
    assert not empty and empty.locate(["本町1-2-3"]) == [None]


@pytest.mark.parametrize(("text", "number"), [("二十三", 23), ("百五", 105), ("一〇五", 105), ("千二百三十四", 1234), ("十", 10)])
def test_kanji_numbers(text: str, number: int) -> None:
    assert kanji_number(text) == number


def test_normalisation_keeps_names_and_turns_address_numbers_to_digits() -> None:
    assert normalise("本町 一丁目 二番 三号") == "本町1丁目2番3号"
    assert normalise("大字三潴町玉満２７７８‐１") == "三潴町玉満2778-1"  # 三潴 is a name, not a number
    assert town_key("大字酒見") == town_key("酒見") == "酒見"
    assert block_keys("24,29") == ["24", "29"] and block_keys("１２") == ["12"]


def test_city_part_keeps_the_city_its_wards_and_towns_of_a_gun() -> None:
    assert city_part("大川市", "大川市") == ""
    assert city_part("福岡市中央区", "福岡市") == "中央区"
    assert city_part("三井郡大刀洗町", "大刀洗町") == ""
    assert city_part("柳川市", "大川市") is None
