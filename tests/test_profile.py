"""City profiles: where they are found, the starter profile for a new city, validation, the
metric CRS per city and the school-name prefixes."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyproj import CRS, Transformer

from disaster import profile as profile_module
from disaster.geo import plane_rectangular_epsg
from disaster.importers.areas import district_name_from
from disaster.profile import ProfileError, ensure_profile, load_profile
from disaster.settings import get_settings
from tests.conftest import ROOT
from tests.test_no_city_literals import forbidden_words


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cities"
    monkeypatch.setenv("DISASTER_PROFILES_DIR", str(folder))
    get_settings.cache_clear()
    load_profile.cache_clear()
    yield folder
    monkeypatch.undo()
    get_settings.cache_clear()
    load_profile.cache_clear()


def test_a_new_city_gets_a_documented_starter_profile(profiles: Path) -> None:
    path, written = ensure_profile("402125", "大川市")
    assert written and path == profiles / "402125.toml"
    text = path.read_text(encoding="utf-8")
    assert not [w for w in forbidden_words() if w in text]
    assert text.count("#") > 40  # every setting is explained
    profile = load_profile("402125")
    assert (profile.name, profile.prefecture) == ("大川市", "福岡県")
    assert profile.contacts == [] and profile.exercise.gauges == [] and profile.exercise.participants is None
    assert profile.exercise.earthquake_source is None
    assert "大川市" in profile.welfare.confirmation_contact and profile.map_title == "大川市 防災マップ"
    assert profile.metric_epsg == 6670  # 福岡県: 平面直角座標系 II系
    assert ensure_profile("402125", "別の名前") == (path, False)  # never overwritten
    assert load_profile("402125").name == "大川市"


def test_an_explicit_prefecture_is_written(profiles: Path) -> None:
    ensure_profile("402125", "大川市", prefecture="福岡県")
    assert tomllib.loads((profiles / "402125.toml").read_text(encoding="utf-8"))["prefecture"] == "福岡県"


def test_the_users_folder_comes_before_the_packaged_profiles(profiles: Path) -> None:
    assert load_profile("402036").name == "久留米市"  # packaged
    assert ensure_profile("402036", "久留米市") == (ROOT / "data" / "cities" / "402036.toml", False)
    profiles.mkdir()
    own = (ROOT / "data" / "cities" / "402036.toml").read_text(encoding="utf-8").replace(
        'title = "久留米市 防災マップ"', 'title = "自分の地図"')
    (profiles / "402036.toml").write_text(own, encoding="utf-8")
    load_profile.cache_clear()
    assert load_profile("402036").map_title == "自分の地図"


def test_a_missing_profile_says_where_it_looked_and_how_to_make_one(profiles: Path) -> None:
    with pytest.raises(ProfileError, match="disaster init --city 402125") as caught:
        load_profile("402125")
    assert str(profiles.resolve()) in str(caught.value) and "DISASTER_PROFILES_DIR" in str(caught.value)


def test_profile_mistakes_are_explained_in_japanese(profiles: Path) -> None:
    """City staff edit the profile: a typo or a missing field is explained in Japanese, and the
    starter profile's commented examples are valid once uncommented."""
    path, _ = ensure_profile("402125", "大川市")
    text = path.read_text(encoding="utf-8")
    uncommented = "\n".join(line[2:] if line.startswith(("# baseline", "# target", "# [exercise.participants]")) else line
                             for line in text.splitlines())
    path.write_text(uncommented, encoding="utf-8")
    load_profile.cache_clear()
    assert load_profile("402125").exercise.participants is not None
    path.write_text(uncommented + '\n[[contacts]]\nrol = "社協"\nname = "社協"\ntel = "000"\n', encoding="utf-8")
    load_profile.cache_clear()
    with pytest.raises(ProfileError) as caught:
        load_profile("402125")
    message = str(caught.value)
    assert "contacts.0.role: 必須の項目がありません" in message and "contacts.0.rol: この項目は使えません" in message
    assert "Field required" not in message and "Extra inputs" not in message


@pytest.mark.parametrize(("replace", "expected"), [
    (("code = \"402125\"", "code = \"402036\""), "ファイル名の団体コードは 402125"),
    (("# metric_crs = 6670", "metric_crs = 4326"), "metric_crs"),
    (("[exercise]", "[exercise]\n[exercise.participants]\nbaseline_year = 2024\nbaseline = 10\ntarget_year = 2030\n"
                    "target = 10\n[exercise.x]"), "exercise.participants"),
    (("[welfare]", "[welfare]\nunknown = 1"), "welfare.unknown"),
])
def test_an_invalid_profile_names_the_file_and_field(profiles: Path, replace: tuple[str, str], expected: str) -> None:
    path, _ = ensure_profile("402125", "大川市")
    text = path.read_text(encoding="utf-8")
    assert replace[0] in text
    path.write_text(text.replace(replace[0], replace[1], 1), encoding="utf-8")
    load_profile.cache_clear()
    with pytest.raises(ProfileError) as caught:
        load_profile("402125")
    assert str(path) in str(caught.value) and expected in str(caught.value)


@pytest.mark.parametrize(("code", "zone"), [
    ("402036", 2),  # 久留米市
    ("131016", 9),  # 千代田区
    ("271004", 6),  # 大阪市
    ("011002", 12),  # 札幌市
    ("012025", 11),  # 函館市
    ("012068", 13),  # 釧路市
    ("016411", 13),  # 十勝: 芽室町
    ("472018", 15),  # 那覇市
    ("472077", 16),  # 石垣市
    ("473570", 17),  # 南大東村
    ("134210", 14),  # 小笠原村
    ("462012", 2),  # 鹿児島市
    ("462225", 1),  # 奄美市
    ("422011", 1),  # 長崎市
])
def test_the_metric_crs_is_the_plane_rectangular_zone_of_the_city(code: str, zone: int) -> None:
    epsg = plane_rectangular_epsg(code)
    assert epsg == 6668 + zone
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI",
             "XVII", "XVIII", "XIX"][zone - 1]
    assert CRS.from_epsg(epsg).name == f"JGD2011 / Japan Plane Rectangular CS {roman}"


def test_distances_use_the_zone_of_the_city() -> None:
    """Kurume's CRS (II系, origin 131°E 33°N) puts the city hall some 40 km west of the origin."""
    x, y = Transformer.from_crs(4326, load_profile("402036").crs, always_xy=True).transform(130.508, 33.319)
    assert -50_000 < x < -40_000 and 30_000 < y < 40_000


def test_school_prefixes_are_stripped_for_any_municipality() -> None:
    assert district_name_from("大木町立大溝小学校") == "大溝"
    assert district_name_from("大町町立大町小学校") == "大町"
    assert district_name_from("世田谷区立桜小学校") == "桜"
    assert district_name_from("立花小学校") == "立花"  # no prefix: the name is kept
    kurume = load_profile("402036")
    assert district_name_from("久留米市立安武小学校", kurume.school_prefix_pattern) == "安武"
    assert district_name_from("大木町立大溝小学校", kurume.school_prefix_pattern) == "大木町立大溝"


def test_the_packaged_profiles_all_load() -> None:
    for path in (ROOT / "data" / "cities").glob("*.toml"):
        assert profile_module.load_profile(path.stem).code == path.stem
