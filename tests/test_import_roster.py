"""避難行動要支援者名簿 and supporters: encodings, 和暦, column mapping, all-or-nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from disaster.importers.problems import ImportRejected
from disaster.importers.tabular import TableError
from disaster.models import Resident, Supporter
from disaster.usecases.imports import import_boundary, import_districts, import_residents, import_supporters
from tests.conftest import BUNDLE
from tests.helpers import snapshot, write_csv

TODAY = dt.date(2026, 4, 1)
HEADER = ["名簿番号", "氏名", "ふりがな", "生年月日", "性別", "住所", "電話番号", "校区", "緯度", "経度",
          "要介護度", "医療機器", "移動", "独居", "建物階数", "寝室の階", "名簿情報提供同意", "名簿情報提供同意日",
          "緊急連絡先1氏名", "緊急連絡先1電話"]
# Points inside the demo 校区 安武 and 荒木
YASUTAKE = ("33.292000", "130.476000")
ARAKI = ("33.270249", "130.501258")


def _row(no: str, name: str = "久留米 花子", birth: str = "昭和15年3月2日", district: str = "安武",
         where: tuple[str, str] = YASUTAKE) -> list[str]:
    return [no, name, "くるめ はなこ", birth, "女", "福岡県久留米市安武町武島1-1", "0942-00-0001", district, *where,
            "要介護３", "在宅酸素、電動ベッド", "車いす", "○", "2", "1", "1", "R5.4.1", "久留米 一郎", "090-0000-0001"]


@pytest.fixture
def kurume(store):
    """A store with the demo city boundary and 校区."""
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


def test_cp932_roster_with_wareki_imports(kurume, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "meibo.csv", HEADER, [_row("001"), _row("002", "筑後 太郎", "S5.1.20", "", ARAKI)],
                     encoding="cp932")
    report = import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert (report.created, report.updated) == (2, 0)
    with kurume.sessions() as session:
        first, second = session.scalars(select(Resident).order_by(Resident.resident_no)).all()
        assert first.birth_date == dt.date(1940, 3, 2) and second.birth_date == dt.date(1930, 1, 20)
        assert first.care_level == "要介護3"  # full-width digit normalised
        assert first.medical_devices == ["在宅酸素", "電動ベッド"]
        assert first.lives_alone is True and first.mobility == "車いす"
        assert first.consent_share and first.consent_share_date == dt.date(2023, 4, 1)
        assert [(c.name, c.phone) for c in first.emergency_contacts] == [("久留米 一郎", "090-0000-0001")]
        assert first.district.name == "安武"
        assert second.district.name == "荒木"  # 校区 left empty: derived from the location
    # re-import: same rows, updated not duplicated
    report = import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert (report.created, report.updated) == (0, 2)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom(kurume, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "meibo.csv", HEADER, [_row("001")], encoding=encoding)
    assert import_residents(kurume.sessions, path, kurume.city_code, today=TODAY).created == 1


def test_bad_rows_are_each_named_and_the_store_is_unchanged(kurume, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "ok.csv", HEADER, [_row("001")], encoding="cp932")
    import_residents(kurume.sessions, good, kurume.city_code, today=TODAY)
    rows = [
        _row("001"),
        _row("002", birth="令和5年2月30日"),  # impossible date
        _row("003", where=("33.5904", "130.4017")),  # 福岡市役所: outside the city
        _row("001"),  # duplicate ID
        _row("004", district="どこか"),  # unknown district
        _row("005"),
    ]
    bad = write_csv(tmp_path / "meibo.csv", HEADER, rows, encoding="cp932")
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, bad, kurume.city_code, today=TODAY)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(3, "生年月日"), (4, "緯度"), (5, "名簿番号"), (6, "校区")}
    messages = " ".join(str(p) for p in caught.value.problems)
    assert "meibo.csv 3行目「生年月日」" in messages and "存在しない日付" in messages
    assert "市の区域外" in messages and "2 行目と重複" in messages and "「どこか」は登録されていません" in messages
    assert snapshot(kurume) == before


def test_skip_bad_rows_imports_the_rest_and_writes_rejects(kurume, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "meibo.csv", HEADER, [_row("001"), _row("002", birth="R5.2.30"), _row("003")])
    rejects = tmp_path / "rejects.csv"
    report = import_residents(kurume.sessions, bad, kurume.city_code, skip_bad_rows=True, rejects=rejects, today=TODAY)
    assert report.created == 2 and [p.row for p in report.problems] == [3]
    content = rejects.read_text(encoding="utf-8-sig")
    assert "R5.2.30" in content and "存在しない日付" in content


def test_value_checks_on_enumerations_floors_and_future_dates(kurume, tmp_path: Path) -> None:
    row = _row("001", birth="2030/1/1")
    row[HEADER.index("要介護度")] = "要介護9"
    row[HEADER.index("寝室の階")] = "3"
    bad = write_csv(tmp_path / "m.csv", HEADER, [row])
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, bad, kurume.city_code, today=TODAY)
    fields = {p.field: p.message for p in caught.value.problems}
    assert "未来の日付" in fields["生年月日"]
    assert "要介護5 のいずれか" in fields["要介護度"] and "要介護9" not in fields["要介護度"]  # the value is not echoed
    assert "建物階数" in fields["寝室の階"]


def test_column_mapping_file_for_the_citys_own_headers_and_codes(kurume, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nresident_no = "整理番号"\nname = "氏名（漢字）"\nbirth_date = "生年月日（和暦）"\n'
        'sex = "性別コード"\n\n[values.sex]\n"1" = "男"\n"2" = "女"\n', encoding="utf-8")
    header = ["整理番号", "氏名（漢字）", "生年月日（和暦）", "性別コード", "住所", "緯度", "経度"]
    path = write_csv(tmp_path / "city.csv", header, [["A-1", "筑後 次郎", "昭和10年5月5日", "1", "久留米市", *YASUTAKE]],
                     encoding="cp932")
    import_residents(kurume.sessions, path, kurume.city_code, mapping=mapping, today=TODAY)
    with kurume.sessions() as session:
        resident = session.scalars(select(Resident)).one()
    assert (resident.resident_no, resident.sex, resident.birth_date) == ("A-1", "男", dt.date(1935, 5, 5))


def test_missing_required_column_names_it_and_the_mapping_option(kurume, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["番号", "氏名"], [["1", "x"]])
    with pytest.raises(TableError, match="名簿番号.*--mapping"):
        import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)


def test_excel_roster_with_real_date_cells(kurume, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名簿"
    sheet.append(HEADER)
    row: list[object] = _row("001")
    row[HEADER.index("生年月日")] = dt.datetime(1940, 3, 2)
    sheet.append(row)
    path = tmp_path / "meibo.xlsx"
    workbook.save(path)
    import_residents(kurume.sessions, path, kurume.city_code, sheet="名簿", today=TODAY)
    with kurume.sessions() as session:
        assert session.scalars(select(Resident.birth_date)).one() == dt.date(1940, 3, 2)


SUPPORTER_HEADER = ["支援者番号", "氏名", "住所", "電話番号", "関係", "緯度", "経度", "同意", "同意日", "支援対象者番号"]


def test_supporters_link_to_residents_many_to_many(kurume, tmp_path: Path) -> None:
    import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", HEADER, [_row("001"), _row("002")]),
                     kurume.city_code, today=TODAY)
    path = write_csv(tmp_path / "s.csv", SUPPORTER_HEADER, [
        ["S1", "近所 一郎", "", "", "近隣住民", *YASUTAKE, "はい", "R6.1.1", "001"],
        ["S2", "民生 二郎", "", "", "民生委員", "", "", "はい", "", "001、002"],
    ])
    import_supporters(kurume.sessions, path, kurume.city_code, today=TODAY)
    import_supporters(kurume.sessions, path, kurume.city_code, today=TODAY)  # idempotent links
    with kurume.sessions() as session:
        residents = {r.resident_no: sorted(s.supporter_no for s in r.supporters) for r in session.scalars(select(Resident))}
        assert residents == {"001": ["S1", "S2"], "002": ["S2"]}
        assert session.scalars(select(Supporter).where(Supporter.supporter_no == "S1")).one().consent_date == dt.date(2024, 1, 1)


def test_supporter_for_an_unknown_resident_is_rejected(kurume, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", SUPPORTER_HEADER, [["S1", "近所 一郎", "", "", "近隣住民", "", "", "", "", "999"]])
    before = snapshot(kurume)
    with pytest.raises(ImportRejected, match="1 件") as caught:
        import_supporters(kurume.sessions, path, kurume.city_code, today=TODAY)
    assert "999" in caught.value.problems[0].message and caught.value.problems[0].row == 2
    assert snapshot(kurume) == before


def test_residents_own_destination_by_shelter_code_or_name(kurume, tmp_path: Path) -> None:
    from disaster.usecases.imports import import_shelters

    import_shelters(kurume.sessions, [BUNDLE / "shelters.geojson"], kurume.city_code)
    header = [*HEADER, "希望避難所", "避難先の希望"]
    rows = [[*_row("001"), "安武小学校", ""], [*_row("002"), "E4020300002111", ""], [*_row("003"), "", "長女宅（小郡市）"]]
    import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", header, rows), kurume.city_code, today=TODAY)
    with kurume.sessions() as session:
        chosen = {r.resident_no: (r.preferred_shelter_code, r.preferred_destination) for r in session.scalars(select(Resident))}
    assert chosen == {"001": ("E4020300002111", None), "002": ("E4020300002111", None), "003": (None, "長女宅(小郡市)")}  # text is NFKC-normalised
    bad = write_csv(tmp_path / "bad.csv", header, [[*_row("004"), "どこかの体育館", ""]])
    with pytest.raises(ImportRejected, match="1 件") as caught:
        import_residents(kurume.sessions, bad, kurume.city_code, today=TODAY)
    assert caught.value.problems[0].field == "希望避難所"


# --- how and when help is needed, the flat's floor, professionals, 福祉避難所 agreements ---

NEW_HEADER = [*HEADER, "避難情報の受け取り方", "日中の状況", "夜間の状況", "通所サービス", "住戸の階",
              "主治医氏名", "主治医所属", "主治医電話", "訪問看護氏名", "訪問看護所属", "訪問看護電話",
              "医療機器業者氏名", "医療機器業者所属", "医療機器業者電話"]


def _new_row(no: str, reception: str = "防災メール、FAX", floors: str = "2", home_floor: str = "") -> list[str]:
    row = _row(no)
    row[HEADER.index("建物階数")] = floors
    return [*row, reception, "平日の日中はひとり", "夜間は長男と同居", "月・木 デイサービス", home_floor,
            "筑後 医師", "デモ内科医院", "0942-00-1111", "久留米 看護", "デモ訪問看護ステーション", "0942-00-2222",
            "", "デモ医療機器株式会社", "0942-00-3333"]


def _welfare_shelters() -> list[dict]:
    import json

    features = json.loads((BUNDLE / "shelters.geojson").read_text(encoding="utf-8"))["features"]
    return [f["properties"] for f in features if f["properties"]["is_welfare_shelter"]]


def test_information_situations_day_service_flat_floor_and_professionals(kurume, tmp_path: Path) -> None:
    rows = [_new_row("001", "防災メール、ＦＡＸ、文字表示"), _new_row("002", "テレビ、防災行政無線、電話", "8", "5")]
    import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", NEW_HEADER, rows, encoding="cp932"),
                     kurume.city_code, today=TODAY)
    with kurume.sessions() as session:
        first, second = session.scalars(select(Resident).order_by(Resident.resident_no)).all()
        assert first.info_reception == ["防災メール", "FAX", "文字表示"]  # full-width ＦＡＸ normalised
        assert second.info_reception == ["テレビ・ラジオ", "防災行政無線（屋外）", "電話（支援者・家族から）"]  # short forms
        assert (first.daytime_situation, first.night_situation, first.day_service) == (
            "平日の日中はひとり", "夜間は長男と同居", "月・木 デイサービス")
        assert first.home_floor is None and (second.building_floors, second.home_floor) == (8, 5)
        roles = {p.role: (p.name, p.organisation, p.phone) for p in first.care_professionals}
        assert roles == {"主治医": ("筑後 医師", "デモ内科医院", "0942-00-1111"),
                         "訪問看護": ("久留米 看護", "デモ訪問看護ステーション", "0942-00-2222"),
                         "医療機器業者": (None, "デモ医療機器株式会社", "0942-00-3333")}


def test_unknown_information_channel_and_a_flat_floor_above_the_building_are_errors(kurume, tmp_path: Path) -> None:
    rows = [_new_row("001", "防災メール、のろし"), _new_row("002", floors="3", home_floor="4")]
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, write_csv(tmp_path / "m.csv", NEW_HEADER, rows), kurume.city_code, today=TODAY)
    found = {(p.row, p.field): p.message for p in caught.value.problems}
    assert set(found) == {(2, "避難情報の受け取り方"), (3, "住戸の階")}
    assert "使えない値が 1 個" in found[(2, "避難情報の受け取り方")] and "FAX" in found[(2, "避難情報の受け取り方")]
    assert "のろし" not in found[(2, "避難情報の受け取り方")]  # the value is not echoed
    assert "建物階数（3）を超えています" in found[(3, "住戸の階")]
    assert snapshot(kurume) == before


AGREEMENT_HEADER = [*HEADER, "福祉避難所受入合意", "受入合意日"]


def test_welfare_agreement_by_code_or_name_is_stored_dated(kurume, tmp_path: Path) -> None:
    from disaster.models import WelfareAgreement
    from disaster.usecases.imports import import_shelters

    import_shelters(kurume.sessions, [BUNDLE / "shelters.geojson"], kurume.city_code)
    first, second = _welfare_shelters()[:2]
    rows = [[*_row("001"), first["code"], "R7.5.1"], [*_row("002"), second["name"], "2025/6/2"], [*_row("003"), "", ""]]
    path = write_csv(tmp_path / "m.csv", AGREEMENT_HEADER, rows)
    import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)
    import_residents(kurume.sessions, path, kurume.city_code, today=TODAY)  # re-import: replaced, not duplicated

    def agreements() -> set[tuple[str, str, dt.date]]:
        with kurume.sessions() as session:
            return {(r.resident_no, a.shelter.code, a.agreed_on)
                    for r in session.scalars(select(Resident)) for a in r.welfare_agreements}

    assert agreements() == {("001", first["code"], dt.date(2025, 5, 1)), ("002", second["code"], dt.date(2025, 6, 2))}
    with kurume.sessions() as session:
        assert session.scalar(select(WelfareAgreement.id).limit(1)) is not None
    # a 名簿 without the agreement columns leaves the stored agreements alone
    import_residents(kurume.sessions, write_csv(tmp_path / "plain.csv", HEADER, [_row("001")]), kurume.city_code, today=TODAY)
    assert ("001", first["code"], dt.date(2025, 5, 1)) in agreements()
    # an emptied agreement cell removes it
    import_residents(kurume.sessions, write_csv(tmp_path / "m2.csv", AGREEMENT_HEADER, [[*_row("001"), "", ""]]),
                     kurume.city_code, today=TODAY)
    assert agreements() == {("002", second["code"], dt.date(2025, 6, 2))}


def test_bad_welfare_agreement_names_file_row_and_column_and_writes_nothing(kurume, tmp_path: Path) -> None:
    from disaster.usecases.imports import import_shelters

    import_shelters(kurume.sessions, [BUNDLE / "shelters.geojson"], kurume.city_code)
    welfare = _welfare_shelters()[0]
    rows = [
        [*_row("001"), welfare["code"], "R7.5.1"],  # fine
        [*_row("002"), "デモ福祉避難所 どこにもない園", "R7.5.1"],  # unknown shelter
        [*_row("003"), "E4020300002111", "R7.5.1"],  # 安武小学校: a 指定避難所, not a 福祉避難所
        [*_row("004"), welfare["name"], ""],  # no date
        [*_row("005"), "", "R7.5.1"],  # a date without a shelter
    ]
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, write_csv(tmp_path / "meibo.csv", AGREEMENT_HEADER, rows),
                         kurume.city_code, today=TODAY)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(3, "福祉避難所受入合意"), (4, "福祉避難所受入合意"), (5, "受入合意日"), (6, "福祉避難所受入合意")}
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("meibo.csv 3行目「福祉避難所受入合意」") and "どこにもない園" in m and "登録されていません" in m
               for m in messages)
    assert any("福祉避難所として登録されていません" in m for m in messages)
    assert snapshot(kurume) == before


def test_a_number_given_to_another_person_never_carries_the_first_persons_plan(store, tmp_path: Path) -> None:
    """A 名簿番号 reused for a different person (氏名 and 生年月日 both differ) is refused, naming the
    row and column, unless ``replace``. Then the first person is removed with their plan record,
    supporters' links and results: the new person starts with none of them (a plan naming the
    first person's supporters and 福祉避難所 for someone else would send help to the wrong home)."""
    from sqlalchemy import func

    from disaster.access import Principal
    from disaster.models import Assessment, PlanRecord, resident_supporter
    from disaster.plans.record import PlanContent
    from disaster.usecases.demo import load_demo
    from disaster.usecases.plan_records import save_plan

    load_demo(store.engine, store.sessions, BUNDLE)
    with store.sessions() as session:
        old_id, number = session.execute(
            select(Resident.id, Resident.resident_no).join(resident_supporter, resident_supporter.c.resident_id == Resident.id)
            .where(Resident.consent_plan.is_(True)).order_by(Resident.id)).first()
    save_plan(store.sessions, Principal.cli(store.city_code), number, PlanContent(carry_items=["補聴器の電池"]), 0,
              dt.datetime(2026, 4, 1, 10, 0, tzinfo=dt.UTC))
    path = write_csv(tmp_path / "m.csv", HEADER, [_row(number, name="筑後 新太", birth="平成2年5月5日")])
    with pytest.raises(ImportRejected) as rejected:
        import_residents(store.sessions, path, store.city_code, today=TODAY)
    assert [(p.row, p.field) for p in rejected.value.problems] == [(2, "名簿番号")]
    report = import_residents(store.sessions, path, store.city_code, today=TODAY, replace=True)
    assert any(number in notice and "別の方" in notice for notice in report.notices)
    with store.sessions() as session:
        new = session.scalars(select(Resident).where(Resident.resident_no == number,
                                                     Resident.city_code == store.city_code)).one()
        assert new.name == "筑後 新太" and new.id != old_id and session.get(Resident, old_id) is None
        ids = [old_id, new.id]
        assert session.scalar(select(func.count()).select_from(PlanRecord).where(PlanRecord.resident_id.in_(ids))) == 0
        assert session.scalar(select(func.count()).select_from(resident_supporter)
                              .where(resident_supporter.c.resident_id.in_(ids))) == 0
        result = session.get(Assessment, new.id)
        assert result is not None and result.supporter_count == 0  # assessed as who they are
