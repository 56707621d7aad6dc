"""Issue 14, class 1 (import side): identifiers and names used as keys (名簿番号, 支援者番号, 校区,
shelter codes) that would act as paths or hold control characters are refused at import, with
the file, row and field named, by one function (``importers.problems.identifier_problem``).

The probes are tests/security/probes/inputs/identifiers.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from disaster.importers.areas import read_district_table, read_districts
from disaster.importers.geofile import GeoFileError
from disaster.importers.problems import ImportRejected, identifier_problem
from disaster.importers.shelters import read_shelters
from disaster.usecases.imports import import_boundary, import_districts, import_residents, import_supporters
from tests.conftest import BUNDLE
from tests.helpers import point, snapshot, square, write_csv, write_geojson

PROBES = json.loads((Path(__file__).parent / "probes" / "inputs" / "identifiers.json").read_text(encoding="utf-8"))
HOSTILE: list[str] = PROBES["hostile"]
HEADER = ["名簿番号", "氏名", "生年月日", "住所", "校区", "緯度", "経度"]
YASUTAKE = ["33.292000", "130.476000"]


def _resident(number: str, district: str = "安武") -> list[str]:
    return [number, "久留米 花子", "昭和15年3月2日", "福岡県久留米市安武町武島1-1", district, *YASUTAKE]


@pytest.fixture
def kurume(store):
    import_boundary(store.sessions, BUNDLE / "city_boundary.geojson", store.city_code)
    import_districts(store.sessions, BUNDLE / "districts.geojson", store.city_code, table=BUNDLE / "district_centres.csv")
    return store


def test_the_one_check_refuses_every_probe_and_accepts_ordinary_identifiers() -> None:
    assert all(identifier_problem(_as_read(value)) for value in HOSTILE)
    assert not any(identifier_problem(value) for value in PROBES["fine"])


def _as_read(value: str) -> str:
    """A cell as the readers give it: NFKC-normalised and stripped (｜／ becomes /)."""
    from disaster.importers.tabular import cell_text

    return cell_text(value)


def test_hostile_resident_numbers_and_districts_are_refused_naming_row_and_field(kurume, tmp_path: Path) -> None:
    rows = [_resident("001")] + [_resident(value) for value in HOSTILE] + [_resident("002", "安武/../x")]
    path = write_csv(tmp_path / "meibo.csv", HEADER, rows)
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_residents(kurume.sessions, path, kurume.city_code)
    found = {(p.row, p.field) for p in caught.value.problems}
    assert {(row, "名簿番号") for row in range(3, 3 + len(HOSTILE))} <= found
    assert (3 + len(HOSTILE), "校区") in found
    assert (2, "名簿番号") not in found
    assert all(p.file == "meibo.csv" for p in caught.value.problems)
    assert snapshot(kurume) == before


def test_hostile_supporter_numbers_and_target_numbers_are_refused(kurume, tmp_path: Path) -> None:
    import_residents(kurume.sessions, write_csv(tmp_path / "meibo.csv", HEADER, [_resident("001")]), kurume.city_code)
    header = ["支援者番号", "氏名", "支援対象者番号"]
    rows = [["S-1", "支援 一郎", "001"], ["../S-2", "支援 二郎", "001"], ["S-3", "支援 三郎", "001、..\\x"],
            ["S-4\x00", "支援 四郎", "001"]]
    before = snapshot(kurume)
    with pytest.raises(ImportRejected) as caught:
        import_supporters(kurume.sessions, write_csv(tmp_path / "s.csv", header, rows), kurume.city_code)
    assert {(p.row, p.field) for p in caught.value.problems} == {(3, "支援者番号"), (4, "支援対象者番号"), (5, "支援者番号")}
    assert snapshot(kurume) == before


@pytest.mark.parametrize("name", ["北/南", "../x", "..", "川\n口", "川口\x1b", "安武\u202e"])
def test_a_hostile_district_name_in_a_polygon_file_or_the_table_is_refused(tmp_path: Path, name: str) -> None:
    path = write_geojson(tmp_path / "d.geojson", [(square(130.47, 33.28, 0.01), {"name": "安武"}),
                                                  (square(130.50, 33.28, 0.01), {"name": name})])
    parsed = read_districts(path, "402036")
    assert [(p.row, p.field) for p in parsed.problems] == [(2, "name")]
    assert [r.name for r in parsed.records] == ["安武"]
    table = write_csv(tmp_path / "t.csv", ["校区", "圏域"], [["安武", "西"], [name, "東"]])
    with pytest.raises(GeoFileError, match="t.csv 3行目「校区」"):
        read_district_table(table)


def test_a_hostile_shelter_code_is_refused(tmp_path: Path) -> None:
    props = {"name": "体育館", "is_emergency_site": "1", "is_designated_shelter": "1", "is_welfare_shelter": "0"}
    path = write_geojson(tmp_path / "s.geojson", [(point(130.5, 33.3), props | {"code": "S-1"}),
                                                  (point(130.5, 33.3), props | {"code": "../../S-2"}),
                                                  (point(130.5, 33.3), props | {"code": "S\x1b3"})])
    parsed = read_shelters(path, "402036")
    assert [(p.row, p.field) for p in parsed.problems] == [(2, "code"), (3, "code")]
    assert [r.code for r in parsed.records] == ["S-1"]
