"""The committed demo 名簿 and supporters read like real, consistent (fictional) people.

Checked on the committed bundle, i.e. on what users load: contacts are other people whose
relation fits the resident and whose name fits the relation; supporters are not the resident
and have addresses; how 避難情報 reaches a deaf or blind person does not depend on the sense
they lack; flats have floors; agreements point at a 福祉避難所 that takes the person and is
safe in heavy rain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from disaster.demodata.people import TODAY
from disaster.demodata.spec import load_spec
from disaster.importers.roster import INFO_RECEPTION
from disaster.wareki import parse_date
from tests.conftest import BUNDLE

MALE_RELATIONS = {"夫", "父", "長男", "次男", "三男", "兄", "弟", "甥"}
FEMALE_RELATIONS = {"妻", "母", "長女", "次女", "三女", "姉", "妹", "姪"}
CHILDREN = {"長男", "次男", "三男", "長女", "次女", "三女"}


def _given_names() -> tuple[set[str], set[str]]:
    from faker.providers.person.ja_JP import Provider

    return {p[0] for p in Provider.first_name_male_pairs}, {p[0] for p in Provider.first_name_female_pairs}


@pytest.fixture(scope="module")
def residents() -> pd.DataFrame:
    return pd.read_csv(BUNDLE / "residents.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def supporters() -> pd.DataFrame:
    return pd.read_csv(BUNDLE / "supporters.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _contacts(residents: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for n in (1, 2, 3):
        part = residents[["名簿番号", "氏名", "電話番号", "性別", "生年月日"]].copy()
        part["contact"] = residents[f"緊急連絡先{n}氏名"]
        part["relation"] = residents[f"緊急連絡先{n}続柄"]
        part["contact_phone"] = residents[f"緊急連絡先{n}電話"]
        parts.append(part[part["contact"] != ""])
    frame = pd.concat(parts, ignore_index=True)
    frame["age"] = [(TODAY - parse_date(b)).days // 365 for b in frame["生年月日"]]
    return frame


def test_no_contact_is_the_resident_and_each_is_a_different_person(residents: pd.DataFrame) -> None:
    contacts = _contacts(residents)
    assert len(contacts) > len(residents)  # most people have one, many two or three
    assert (contacts["contact"] != contacts["氏名"]).all()
    assert (contacts["contact_phone"] != contacts["電話番号"]).all()
    assert (contacts["contact_phone"] != "").all() and (contacts["relation"] != "").all()
    assert not contacts.duplicated(["名簿番号", "contact"]).any()
    assert not contacts.duplicated(["名簿番号", "contact_phone"]).any()


def test_relations_fit_the_residents_sex_and_age_and_the_contacts_name(residents: pd.DataFrame) -> None:
    contacts = _contacts(residents)
    male, female = _given_names()
    given = contacts["contact"].str.split(" ").str[1]
    assert given[contacts["relation"].isin(MALE_RELATIONS)].isin(male).all()
    assert given[contacts["relation"].isin(FEMALE_RELATIONS)].isin(female).all()
    assert set(contacts["relation"]) <= MALE_RELATIONS | FEMALE_RELATIONS | {"知人"}
    # a husband only for a woman, a wife only for a man
    assert (contacts.loc[contacts["relation"] == "夫", "性別"] == "女").all()
    assert (contacts.loc[contacts["relation"] == "妻", "性別"] == "男").all()
    # grown-up children only for people old enough, parents only for the young
    assert contacts.loc[contacts["relation"].isin(CHILDREN), "age"].min() >= 50
    assert contacts.loc[contacts["relation"].isin({"父", "母"}), "age"].max() < 60
    # a spouse and a son carry the family name
    surname = contacts["氏名"].str.split(" ").str[0]
    same = contacts["contact"].str.split(" ").str[0] == surname
    assert same[contacts["relation"].isin({"夫", "妻", "長男", "次男", "三男"})].all()
    kinds = Counter(contacts["relation"])
    assert kinds["長男"] > 100 and kinds["長女"] > 100 and kinds["妻"] > 0 and kinds["夫"] > 0 and kinds["知人"] > 0


def test_own_choice_of_a_childs_home_names_a_child_the_resident_has(residents: pd.DataFrame) -> None:
    chosen = residents[residents["避難先の希望"] != ""]
    assert len(chosen) > 20
    for _, row in chosen.iterrows():
        assert row["避難先の希望"].split("宅")[0] in CHILDREN, row["名簿番号"]
        assert (TODAY - parse_date(row["生年月日"])).days // 365 >= 50, row["名簿番号"]


def test_supporters_are_other_people_with_addresses_and_mostly_consent(residents: pd.DataFrame,
                                                                     supporters: pd.DataFrame) -> None:
    by_no = residents.set_index("名簿番号")
    links = supporters.assign(no=supporters["支援対象者番号"].str.split("、")).explode("no")
    helped = by_no.loc[links["no"]]
    assert (links["氏名"].to_numpy() != helped["氏名"].to_numpy()).all()
    assert (links["電話番号"].to_numpy() != helped["電話番号"].to_numpy()).all()
    assert (supporters["住所"] != "").all()
    assert 0.8 < (supporters["同意"] == "はい").mean() < 1.0
    assert ((supporters["同意"] == "はい") == (supporters["同意日"] != "")).all()
    family = supporters[supporters["関係"].isin(["家族", "親族"])]
    assert len(family) > 100
    assert (family["支援対象者番号"].str.count("、") == 0).all()  # family helps its own relative only
    # a family supporter listed among the contacts is listed as family, with the same phone
    contacts = _contacts(residents).set_index(["名簿番号", "contact"])
    matched = 0
    for _, s in family.iterrows():
        key = (s["支援対象者番号"], s["氏名"])
        if key in contacts.index:
            contact = contacts.loc[key]
            assert contact["relation"] != "知人" and contact["contact_phone"] == s["電話番号"]
            assert (contact["relation"] in {"甥", "姪"}) == (s["関係"] == "親族")
            matched += 1
    assert matched > len(family) * 0.7


def test_information_never_only_by_sound_for_the_deaf_nor_only_by_text_for_the_blind(residents: pd.DataFrame) -> None:
    channels = residents["避難情報の受け取り方"].map(lambda t: [c for c in t.split("、") if c])
    assert set(channels.explode().dropna()) <= set(INFO_RECEPTION)
    deaf = residents["障害種別"].str.contains("聴覚障害") | residents["意思疎通"].str.contains("聴覚")
    blind = residents["障害種別"].str.contains("視覚障害") | residents["意思疎通"].str.contains("視覚")
    assert deaf.sum() > 10 and blind.sum() > 10
    for row_channels, is_deaf, is_blind in zip(channels, deaf, blind, strict=True):
        kinds = {INFO_RECEPTION[c] for c in row_channels}
        if is_deaf and row_channels:
            assert kinds != {"sound"}, row_channels
        if is_blind and row_channels:
            assert kinds != {"text"}, row_channels
    assert 0 < (channels.map(len) == 0).mean() < 0.06  # a few blanks: a to-do for the leader


def test_flats_floor_and_day_services(residents: pd.DataFrame) -> None:
    floors = residents["建物階数"].astype(int)
    flat = residents["住戸の階"] != ""
    assert flat.sum() > 50
    assert (flat == (floors >= 3)).all()
    home = residents.loc[flat, "住戸の階"].astype(int)
    assert ((home >= 1) & (home <= floors[flat])).all()
    assert (residents.loc[flat, "寝室の階"] == residents.loc[flat, "住戸の階"]).all()
    assert (home == 1).any() and (home >= 3).any()
    service = residents["通所サービス"] != ""
    assert service.sum() > 100
    assert (residents.loc[service, "要介護度"] != "").all()
    assert (residents["日中の状況"] != "").all() and (residents["夜間の状況"] != "").all()
    alone = residents["独居"] == "はい"
    assert residents.loc[alone, "夜間の状況"].eq("夜間もひとり").all()
    assert residents.loc[~alone, "夜間の状況"].str.endswith("と同居").all()


def test_life_support_devices_have_nurse_and_supplier_for_most_but_not_all(residents: pd.DataFrame) -> None:
    life = residents["医療機器"].str.contains("人工呼吸器|在宅酸素|たん吸引器")
    assert life.sum() > 50
    nurse = residents.loc[life, "訪問看護所属"] != ""
    supplier = residents.loc[life, "医療機器業者所属"] != ""
    assert 0.6 < nurse.mean() < 1.0 and 0.6 < supplier.mean() < 1.0
    assert (residents["主治医所属"] != "").mean() > 0.6
    assert (residents.loc[residents["要介護度"].str.startswith("要介護"), "ケアマネジャー所属"] != "").all()


def _rain_hazards() -> shapely.Geometry:
    """Every place unsafe in heavy rain, read from the bundle's own hazard files."""
    def read(name: str) -> gpd.GeoDataFrame:
        return gpd.read_file(BUNDLE / name)

    l1, l2 = read("A31a-10_demo_chikugogawa.geojson"), read("A31a-20_demo_chikugogawa.geojson")
    inland = read("inland_demo.geojson")
    parts = [*l1.geometry[l1["A31a_105"].astype(int) >= 2], *l2.geometry[l2["A31a_205"].astype(int) >= 2],
             *inland.geometry[inland["A31a_205"].astype(int) >= 2],
             *read("A31a-41_demo_chikugogawa.geojson").geometry, *read("A31a-42_demo_chikugogawa.geojson").geometry,
             *read("A33_demo_minou.geojson").geometry]
    return shapely.union_all(parts)


@pytest.fixture(scope="module")
def welfare_shelters() -> pd.DataFrame:
    features = json.loads((BUNDLE / "shelters.geojson").read_text(encoding="utf-8"))["features"]
    rows = [f["properties"] | {"lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
            for f in features if f["properties"]["is_welfare_shelter"]]
    frame = pd.DataFrame(rows).set_index("code")
    unsafe = _rain_hazards()
    frame["safe"] = ~shapely.intersects(shapely.points(frame["lon"], frame["lat"]).tolist(), unsafe)
    return frame


def test_some_demo_welfare_shelters_are_safe_from_every_rain_hazard(welfare_shelters: pd.DataFrame) -> None:
    assert welfare_shelters.index.str.startswith("DEMO-W").all() and welfare_shelters["name"].str.startswith("デモ").all()
    safe = welfare_shelters[welfare_shelters["safe"] & welfare_shelters["accepts_direct"].eq(True)]
    assert len(safe) >= 6
    for words in (("要介護", "高齢"), ("障害",), ("医療",)):  # a safe place for every kind of need
        assert safe["accepted_groups"].map(lambda t, w=words: any(x in t for x in w)).any(), words
    assert (~welfare_shelters["safe"]).sum() >= 2  # some deliberately are not: the tools must skip them
    assert welfare_shelters["capacity"].between(5, 40).all()


def _needs(row: pd.Series) -> set[str]:
    needs = set()
    if any(d in row["医療機器"] for d in ("人工呼吸器", "たん吸引器", "在宅酸素", "経管栄養")):
        needs.add("医療")
    if row["要介護度"] in ("要介護3", "要介護4", "要介護5") or row["移動"] == "寝たきり":
        needs.add("要介護")
    if row["障害種別"] and row["障害等級"] in ("1級", "2級", "A1", "A2"):
        needs.add("障害")
    return needs


def test_agreements_point_at_a_safe_welfare_shelter_whose_accepted_groups_fit(residents: pd.DataFrame,
                                                                             welfare_shelters: pd.DataFrame) -> None:
    agreed = residents[residents["福祉避難所受入合意"] != ""]
    assert len(agreed) >= 30
    per_shelter = Counter(agreed["福祉避難所受入合意"])
    assert len(per_shelter) >= 4
    for _, row in agreed.iterrows():
        shelter = welfare_shelters.loc[row["福祉避難所受入合意"]]
        needs = _needs(row)
        assert needs, row["名簿番号"]
        if "医療" in needs:
            assert "医療" in shelter["accepted_groups"], row["名簿番号"]
        else:
            assert any(w in shelter["accepted_groups"] for w in needs | ({"高齢"} if "要介護" in needs else set()))
        assert shelter["safe"] and bool(shelter["accepts_direct"])
        assert row["名簿情報提供同意"] == "はい"
        assert dt.date(2024, 4, 1) <= parse_date(row["受入合意日"]) <= TODAY
    for code, count in per_shelter.items():
        assert count <= welfare_shelters.loc[code, "capacity"]


def test_everything_is_fictional_and_labelled(residents: pd.DataFrame, supporters: pd.DataFrame) -> None:
    assert residents["電話番号"].str.startswith(load_spec().landline_prefix).all()
    phones = pd.concat([residents[f"緊急連絡先{n}電話"] for n in (1, 2, 3)] + [supporters["電話番号"]])
    assert phones[phones != ""].str.match(r"0[89]0-0000-\d{4}$").all()
    for role in ("ケアマネジャー", "相談支援専門員", "主治医", "訪問看護", "医療機器業者"):
        organisations = residents[f"{role}所属"]
        assert organisations[organisations != ""].str.startswith("デモ").all(), role
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["label"] == "デモデータ（架空）"
