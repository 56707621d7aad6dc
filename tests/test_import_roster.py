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
    assert "要介護9" in fields["要介護度"]
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
