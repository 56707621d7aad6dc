"""Merging the GSI 指定避難所 and 指定緊急避難場所 files: one rule per test, on small GSI-format files."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from shapely import box
from sqlalchemy import delete, select

from disaster.geo import wkb
from disaster.importers.problems import ImportRejected
from disaster.importers.shelter_merge import address_key, name_key
from disaster.importers.shelters import read_shelters
from disaster.models import District, Resident, Shelter, WelfareAgreement
from disaster.repo import upsert_shelters
from disaster.usecases.imports import ImportReport, import_shelters
from tests.helpers import point, write_geojson

LOCALITY = "福岡県久留米市"
HAZARDS = ("洪水", "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫", "火山現象")
LON, LAT = 130.5, 33.3
METRES_PER_DEG_LAT = 111_000


def shelter_row(gsi_id: str, name: str, address: str, north_m: float = 0.0, same: str = "",
                accepted: str | None = None, remarks: str = "") -> tuple[dict, dict]:
    """A feature as in the GSI 指定避難所 GeoJSON (gsi_evacuation_*.geojson)."""
    return point(LON, LAT + north_m / METRES_PER_DEG_LAT), {
        "NO": 1, "共通ID": gsi_id, "都道府県名及び市町村名": LOCALITY, "施設・場所名": name, "住所": address,
        "指定緊急避難場所との住所同一": same, "その他市町村長が必要と認める事項": None, "受入対象者": accepted,
        "備考": remarks,
    }


def emergency_row(gsi_id: str, name: str, address: str, north_m: float = 0.0, same: str = "",
                  hazards: tuple[str, ...] = ("洪水",), remarks: str = "") -> tuple[dict, dict]:
    """A feature as in the GSI 指定緊急避難場所 GeoJSON (gsi_emergency_*.geojson)."""
    return point(LON, LAT + north_m / METRES_PER_DEG_LAT), {
        "NO": 1, "共通ID": gsi_id, "都道府県名及び市町村名": LOCALITY, "施設・場所名": name, "住所": address,
        **{label: "1" if label in hazards else "" for label in HAZARDS},
        "指定避難所との住所同一": same, "備考": remarks,
    }


def facilities(store: Any) -> list[dict[str, Any]]:
    with store.sessions() as session:
        rows = session.scalars(select(Shelter).order_by(Shelter.code)).all()
        return [{c.name: getattr(s, c.name) for c in Shelter.__table__.columns if c.name != "id"} for s in rows]


def both_orders(
    store: Any, first: Path, second: Path
) -> tuple[list[dict[str, Any]], list[ImportReport], ImportReport]:
    """Import ``first`` then ``second`` (two imports), then into an emptied store both in one
    import the other way round: the facilities must be the same. Returns them, the two reports
    of the separate imports and the report of the joint one."""
    forward = [import_shelters(store.sessions, [first], store.city_code),
               import_shelters(store.sessions, [second], store.city_code)]
    result = facilities(store)
    with store.sessions() as session, session.begin():
        session.execute(delete(Shelter))
    backward = import_shelters(store.sessions, [second, first], store.city_code)
    assert facilities(store) == result
    return result, forward, backward


def test_names_and_addresses_are_compared_after_normalisation() -> None:
    names = ["竹野小学校（体育館）", "竹野小学校体育館", "竹野小学校 (体育館)", "旧竹野小学校", "竹野小学校"]
    assert len({name_key(n) for n in names}) == 1
    addresses = ["福岡県久留米市御井町１６００番地の４", "久留米市御井町1600-4", "御井町 1600‐4", "御井町1600番4号"]
    assert len({address_key(a, LOCALITY) for a in addresses}) == 1
    assert address_key("山川追分二丁目10番16号") == address_key("山川追分2-10-16")
    assert address_key("御井町1600-4") != address_key("御井町1600-5")


@pytest.mark.parametrize(("emergency_name", "kept_as"), [
    ("竹野小学校（体育館）", "竹野小学校(体育館)"), ("ﾀｹﾉ小学校", "タケノ小学校"), ("旧竹野小学校", "旧竹野小学校"),
    ("竹野小学校\u3000体育館", None),  # the same name but for the space: nothing to keep
])
def test_same_serial_and_address_is_one_facility_whatever_the_names(
    store, tmp_path: Path, emergency_name: str, kept_as: str | None
) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300132111", "竹野小学校体育館", "福岡県久留米市田主丸町竹野1823-1")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300132201", emergency_name, "福岡県久留米市田主丸町竹野１８２３番地１", north_m=7)])
    (facility,), separate, together = both_orders(store, shelters, emergency)
    assert (facility["code"], facility["gsi_shelter_id"], facility["gsi_emergency_id"]) == (
        "E4020300132111", "E4020300132111", "E4020300132201")
    assert facility["is_designated_shelter"] and facility["is_emergency_site"] and facility["hazard_flood"]
    assert facility["name"] == "竹野小学校体育館"
    if kept_as is None:
        assert facility["remarks"] is None and together.notices == separate[1].notices == []
        return
    assert facility["remarks"] == f"指定緊急避難場所としての名称: {kept_as}"
    (notice,) = together.notices
    assert "竹野小学校体育館" in notice and kept_as in notice and "E4020300132111" in notice and "E4020300132201" in notice
    assert "evacuation.geojson 地物1" in notice and "emergency.geojson 地物1" in notice
    (notice,) = separate[1].notices
    assert "登録済み（evacuation.geojson）" in notice


def test_same_address_flag_joins_rows_whose_addresses_are_written_differently(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300012111", "御井校区コミュニティセンター", "福岡県久留米市御井町1600-4", same="1")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300012201", "御井校区コミセン", "御井町字高良山1600番地4", same="1")])
    (facility,), _, _ = both_orders(store, shelters, emergency)
    assert facility["address"] == "福岡県久留米市御井町1600-4"
    assert facility["gsi_emergency_id"] == "E4020300012201"


def test_same_serial_at_another_address_stays_apart_even_with_the_same_name(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300040111", "北野公民館", "福岡県久留米市北野町中3-1")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300040201", "北野公民館", "福岡県久留米市北野町高良1-1"),
        emergency_row("E4020300041201", "北野公民館", "福岡県久留米市北野町中3-1")])
    rows, separate, _ = both_orders(store, shelters, emergency)
    assert (separate[1].created, separate[1].updated) == (2, 0)  # the stored 指定避難所 is left alone
    assert [(r["gsi_shelter_id"], r["gsi_emergency_id"]) for r in rows] == [
        ("E4020300040111", None), (None, "E4020300040201"), (None, "E4020300041201")]


def test_two_shelters_on_one_site_take_the_emergency_site_of_the_same_name(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300010111", "金丸校区コミュニティセンター", "福岡県久留米市原古賀町28-2", north_m=40),
        shelter_row("E4020300010112", "金丸小学校", "福岡県久留米市原古賀町28-2")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300010201", "金丸小学校（体育館）", "福岡県久留米市原古賀町28-2", north_m=40, same="1")])
    rows, _, _ = both_orders(store, shelters, emergency)
    assert {r["name"]: r["gsi_emergency_id"] for r in rows} == {
        "金丸校区コミュニティセンター": None, "金丸小学校": "E4020300010201"}


def test_welfare_rows_by_type_digits_or_accepted_people(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300201121", "ふくしの里", "福岡県久留米市諏訪野町1-1"),
        shelter_row("E4020300202111", "老人ホームみのう", "福岡県久留米市山本町2-2", accepted="高齢者、障害者等の要配慮者"),
        shelter_row("E4020300203111", "長門石小学校", "福岡県久留米市長門石3-3", accepted="地域住民"),
    ])
    import_shelters(store.sessions, [shelters], store.city_code)
    kinds = {r["name"]: (r["is_welfare_shelter"], r["is_designated_shelter"], r["accepted_groups"])
             for r in facilities(store)}
    assert kinds == {
        "ふくしの里": (True, False, None),
        "老人ホームみのう": (True, False, "高齢者、障害者等の要配慮者"),
        "長門石小学校": (False, True, "地域住民"),
    }


def test_welfare_facility_keeps_its_kind_and_people_when_merged_in_either_order(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300201121", "ふくしの里", "福岡県久留米市諏訪野町1-1", accepted="要介護者", remarks="要予約")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300201201", "ふくしの里", "福岡県久留米市諏訪野町1-1", hazards=("地震",), remarks="屋外")])
    (facility,), _, _ = both_orders(store, shelters, emergency)
    assert facility["is_welfare_shelter"] and facility["is_emergency_site"] and not facility["is_designated_shelter"]
    assert facility["accepted_groups"] == "要介護者" and facility["hazard_earthquake"]
    assert set(facility["remarks"].splitlines()) == {"要予約", "屋外"}


def test_a_later_row_never_erases_what_an_earlier_row_set(store, tmp_path: Path) -> None:
    first = write_geojson(tmp_path / "evacuation_2023.geojson", [
        shelter_row("E4020300202121", "老人ホームみのう", "福岡県久留米市山本町2-2", accepted="要介護者", remarks="要予約")])
    later = write_geojson(tmp_path / "evacuation_2024.geojson", [
        shelter_row("E4020300202121", "老人ホームみのう", "", accepted=None)])
    flood = write_geojson(tmp_path / "emergency_2023.geojson", [
        emergency_row("E4020300202201", "老人ホームみのう", "福岡県久留米市山本町2-2", hazards=("洪水",))])
    landslide = write_geojson(tmp_path / "emergency_2024.geojson", [
        emergency_row("E4020300202201", "老人ホームみのう", "福岡県久留米市山本町2-2", hazards=("崖崩れ、土石流及び地滑り",))])
    for path in (first, flood, later, landslide):
        import_shelters(store.sessions, [path], store.city_code)
    (facility,) = facilities(store)
    assert (facility["accepted_groups"], facility["remarks"], facility["address"]) == (
        "要介護者", "要予約", "福岡県久留米市山本町2-2")
    assert facility["is_welfare_shelter"] and facility["is_emergency_site"] and facility["hazard_landslide"]


def test_a_new_emergency_file_withdraws_a_hazard_designation(store, tmp_path: Path) -> None:
    """Only the 指定緊急避難場所 file designates hazards: when the city withdraws 洪水 from a site,
    importing the new file must clear it, or plans would send people there in a flood."""
    site = ("E4020300203201", "中央公園", "福岡県久留米市中央町3-3")
    for year, hazards in (("2023", ("洪水", "地震")), ("2024", ("地震",))):
        path = write_geojson(tmp_path / f"emergency_{year}.geojson", [emergency_row(*site, hazards=hazards)])
        import_shelters(store.sessions, [path], store.city_code)
    (facility,) = facilities(store)
    assert facility["hazard_earthquake"] and not facility["hazard_flood"]


@pytest.mark.parametrize("north_m", [80, 350])
def test_points_more_than_100_m_apart_are_reported_and_the_shelter_point_wins(
    store, tmp_path: Path, north_m: float
) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300101111", "大橋小学校", "福岡県久留米市大橋町1-1")])
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300101201", "大橋小学校", "福岡県久留米市大橋町1-1", north_m=north_m)])
    (facility,), _, together = both_orders(store, shelters, emergency)
    assert (facility["lon"], facility["lat"]) == pytest.approx((LON, LAT))
    notices = [n for n in together.notices if "離れています" in n]
    if north_m <= 100:
        assert notices == []
        return
    (notice,) = notices
    distance = round(math.radians(north_m / METRES_PER_DEG_LAT) * 6_371_008.8)
    assert f"{distance} m" in notice
    assert "evacuation.geojson 地物1" in notice and "emergency.geojson 地物1" in notice
    assert f"緯度 {LAT:.6f}" in notice and f"緯度 {LAT + north_m / METRES_PER_DEG_LAT:.6f}" in notice


def test_a_facility_stored_twice_by_an_older_import_is_merged(store, tmp_path: Path) -> None:
    emergency = write_geojson(tmp_path / "emergency.geojson", [
        emergency_row("E4020300132201", "竹野小学校（体育館）", "福岡県久留米市田主丸町竹野1823-1", same="1")])
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300132111", "竹野小学校体育館", "福岡県久留米市田主丸町竹野1823-1", same="1")])
    import_shelters(store.sessions, [emergency], store.city_code)
    with store.sessions() as session, session.begin():  # what the importer stored before 2 names were merged
        session.add(Shelter(code="E4020300132111", city_code=store.city_code, gsi_shelter_id="E4020300132111",
                            name="竹野小学校体育館", address="福岡県久留米市田主丸町竹野1823-1", lon=LON, lat=LAT,
                            is_designated_shelter=True, source="evacuation.geojson"))
    assert len(facilities(store)) == 2
    import_shelters(store.sessions, [shelters], store.city_code)
    (facility,) = facilities(store)
    assert (facility["gsi_shelter_id"], facility["gsi_emergency_id"]) == ("E4020300132111", "E4020300132201")
    assert facility["hazard_flood"] and facility["is_designated_shelter"]


def test_merging_a_stored_duplicate_keeps_its_welfare_agreements(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300201121", "ふくしの里", "福岡県久留米市諏訪野町1-1", accepted="要介護者")])
    with store.sessions() as session, session.begin():  # two halves of one facility, as stored before the fix
        halves = [Shelter(code=code, city_code=store.city_code, name=name, address="福岡県久留米市諏訪野町1-1", lon=LON,
                          lat=LAT, source="old.geojson", **ids)
                  for code, name, ids in (("E4020300201121", "ふくしの里", {"gsi_shelter_id": "E4020300201121"}),
                                          ("E4020300201201", "ふくしの里(体育館)", {"gsi_emergency_id": "E4020300201201"}))]
        district = District(city_code=store.city_code, name="諏訪野", source="test", geom=wkb(box(130, 33, 131, 34)),
                            min_lon=130, min_lat=33, max_lon=131, max_lat=34)
        people = [Resident(city_code=store.city_code, resident_no=f"R{n}", name=f"住民{n}", address="諏訪野町",
                           lon=LON, lat=LAT, district=district, source="test") for n in (1, 2)]
        session.add_all([*halves, district, *people])
        session.flush()
        session.add_all([WelfareAgreement(resident_id=people[0].id, shelter_id=halves[0].id, agreed_on=dt.date(2024, 4, 1)),
                         WelfareAgreement(resident_id=people[0].id, shelter_id=halves[1].id, agreed_on=dt.date(2024, 4, 1)),
                         WelfareAgreement(resident_id=people[1].id, shelter_id=halves[1].id, agreed_on=dt.date(2024, 5, 1))])
    with store.sessions() as session, session.begin():
        created, updated, notices = upsert_shelters(session, store.city_code, read_shelters(shelters, store.city_code).records)
    assert (created, updated) == (0, 1) and "ふくしの里(体育館)" in notices[0]
    (facility,) = facilities(store)
    assert facility["remarks"] == "指定緊急避難場所としての名称: ふくしの里(体育館)"
    with store.sessions() as session:
        agreements = session.execute(select(Resident.resident_no, WelfareAgreement.shelter_id, WelfareAgreement.agreed_on)
                                     .join(Resident).order_by(Resident.resident_no)).all()
        shelter_id = session.scalar(select(Shelter.id))
    assert agreements == [("R1", shelter_id, dt.date(2024, 4, 1)), ("R2", shelter_id, dt.date(2024, 5, 1))]


def test_the_same_file_twice_is_refused(store, tmp_path: Path) -> None:
    shelters = write_geojson(tmp_path / "evacuation.geojson", [
        shelter_row("E4020300101111", "大橋小学校", "福岡県久留米市大橋町1-1")])
    copy = tmp_path / "copy.geojson"
    copy.write_bytes(shelters.read_bytes())
    with pytest.raises(ImportRejected) as caught:
        import_shelters(store.sessions, [shelters, copy], store.city_code)
    assert any("copy.geojson 1行目「共通ID」" in str(p) and "evacuation.geojson" in str(p) for p in caught.value.problems)
    assert facilities(store) == []
