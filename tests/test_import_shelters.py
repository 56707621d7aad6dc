"""GSI shelter files: GeoJSON and CSV, merging a facility listed in both files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from disaster.cli import app
from disaster.importers.problems import ImportRejected
from disaster.models import Shelter
from disaster.usecases.imports import import_shelters
from disaster.usecases.setup import init_store
from tests.helpers import snapshot, write_csv

GSI = ("raw/gsi_evacuation_402036.geojson", "raw/gsi_emergency_402036.geojson")


def _ids(shared: Path) -> tuple[set[str], set[str]]:
    files = [json.loads((shared / name).read_text(encoding="utf-8"))["features"] for name in GSI]
    return ({f["properties"]["共通ID"] for f in files[0]}, {f["properties"]["共通ID"] for f in files[1]})


def test_both_gsi_files_give_every_facility_once(store, shared_data: Path) -> None:
    shelter_ids, emergency_ids = _ids(shared_data)
    report = import_shelters(store.sessions, [shared_data / name for name in GSI], store.city_code)
    with store.sessions() as session:
        rows = session.scalars(select(Shelter)).all()
    assert len(rows) == 142
    # every GSI ID is stored exactly once, on one facility
    assert sorted(s.gsi_shelter_id for s in rows if s.gsi_shelter_id) == sorted(shelter_ids)
    assert sorted(s.gsi_emergency_id for s in rows if s.gsi_emergency_id) == sorted(emergency_ids)
    # every emergency site of Kurume is also a 指定避難所 at the same address (住所同一 = 1)
    merged = [s for s in rows if s.gsi_shelter_id and s.gsi_emergency_id]
    assert {s.gsi_emergency_id for s in merged} == emergency_ids
    assert all(s.code == s.gsi_shelter_id for s in rows)
    mii = next(s for s in rows if s.name == "御井校区コミュニティセンター")
    assert mii.is_designated_shelter and mii.is_emergency_site
    assert mii.hazard_landslide and not mii.hazard_flood
    # one school, two names: stored once under the 指定避難所 name, the other name kept
    takeno = [s for s in rows if s.name.startswith("竹野小学校")]
    assert [(s.name, s.remarks) for s in takeno] == [("竹野小学校体育館", "指定緊急避難場所としての名称: 竹野小学校(体育館)")]
    assert [n for n in report.notices if "竹野小学校体育館" in n and "E4020300132201" in n]
    assert not [n for n in report.notices if "離れています" in n]  # the points agree within 100 m
    # two facilities that share a serial (金丸小学校 …112, 金丸校区コミュニティセンター …111) stay apart
    assert {s.name for s in rows if s.code.startswith("E4020300010")} == {"金丸小学校", "金丸校区コミュニティセンター"}


def test_another_municipalitys_file_is_refused_once_with_its_name(store, shared_data: Path) -> None:
    """Not one problem per row (142 of them) but one reason: whose file it is."""
    init_store(store.engine, store.sessions, "402125", "大川市")
    with pytest.raises(ImportRejected) as caught:
        import_shelters(store.sessions, [shared_data / GSI[0]], "402125")
    (problem,) = caught.value.problems
    assert "他の市町村（福岡県久留米市、団体コード 40203）" in str(problem) and "402125" in str(problem)


def test_import_order_does_not_matter_and_reimport_is_idempotent(store, shared_data: Path) -> None:
    def facilities() -> list[tuple]:
        return sorted(row[1:] for row in snapshot(store)["shelter"])  # without the row id

    paths = [shared_data / name for name in GSI]
    import_shelters(store.sessions, paths, store.city_code)
    first = facilities()
    with store.sessions() as session, session.begin():
        session.execute(delete(Shelter))
    import_shelters(store.sessions, [paths[1]], store.city_code)  # 指定緊急避難場所 first
    import_shelters(store.sessions, [paths[0]], store.city_code)
    assert facilities() == first
    import_shelters(store.sessions, list(reversed(paths)), store.city_code)
    import_shelters(store.sessions, [paths[1]], store.city_code)
    assert facilities() == first
    with store.sessions() as session:
        codes = set(session.scalars(select(Shelter.code)))
    assert "E4020300012111" in codes and "E4020300012201" not in codes


def test_stats_json_shows_the_facilities(store, shared_data: Path) -> None:
    runner = CliRunner()
    env = {"DISASTER_DB": store.url}
    result = runner.invoke(app, ["import", "shelters", *(str(shared_data / n) for n in GSI)], env=env)
    assert result.exit_code == 0, result.output
    assert "竹野小学校(体育館)" in result.output  # the merge notice is printed
    stats = json.loads(runner.invoke(app, ["stats", "--json"], env=env).stdout)
    shelter_ids, emergency_ids = _ids(shared_data)
    assert stats["counts"]["shelters"] == len(shelter_ids) == 142
    assert stats["shelter_kinds"] == {"emergency_sites": len(emergency_ids),
                                      "designated_shelters": len(shelter_ids), "welfare_shelters": 0}


EMERGENCY_HEADER = ["共通ID", "施設・場所名", "住所", "洪水", "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波",
                    "大規模な火事", "内水氾濫", "火山現象", "指定避難所との住所同一", "緯度", "経度", "備考"]


def test_csv_flags_in_circle_notation_merge_with_geojson_shelter(store, tmp_path: Path) -> None:
    shelters = tmp_path / "shelters.csv"
    write_csv(shelters, ["共通ID", "施設・場所名", "住所", "緯度", "経度"],
              [["E4020300002111", "安武小学校", "福岡県久留米市安武町武島776-1", "33.292614", "130.476403"]],
              encoding="cp932")
    emergency = write_csv(tmp_path / "emergency.csv", EMERGENCY_HEADER, [
        ["E4020300002201", "安武小学校", "", "〇", "", "", "○", "", "", "1", "", "1", "33.292614", "130.476403", ""],
    ], encoding="utf-8-sig")
    import_shelters(store.sessions, [emergency, shelters], store.city_code)
    with store.sessions() as session:
        (shelter,) = session.scalars(select(Shelter)).all()
    assert shelter.code == "E4020300002111"
    assert (shelter.hazard_flood, shelter.hazard_earthquake, shelter.hazard_inland_flood) == (True, True, True)
    assert not shelter.hazard_landslide
    assert shelter.is_designated_shelter and shelter.is_emergency_site


def test_bad_rows_are_named_and_nothing_is_written(store, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "emergency.csv", EMERGENCY_HEADER, [
        ["E4020300002201", "安武小学校", "", "1", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
        ["E4010100001201", "よその市", "", "1", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
        ["E4020300003201", "", "", "maybe", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
        ["E4020300004201", "遠い所", "", "", "", "", "", "", "", "", "", "", "53.29", "130.47", ""],
        ["E4020300002201", "重複", "", "", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
    ])
    before = snapshot(store)
    with pytest.raises(ImportRejected) as caught:
        import_shelters(store.sessions, [bad], store.city_code)
    messages = [str(p) for p in caught.value.problems]
    assert any("3行目「共通ID」" in m and "他の市町村" in m for m in messages)
    assert any("4行目「施設・場所名」" in m for m in messages)
    assert any("4行目「洪水」" in m and "maybe" in m for m in messages)
    assert any("5行目「緯度」" in m and "範囲外" in m for m in messages)
    assert any("6行目「共通ID」" in m and "重複" in m for m in messages)
    assert snapshot(store) == before


def test_skip_bad_rows_writes_the_good_ones_and_a_rejects_file(store, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "emergency.csv", EMERGENCY_HEADER, [
        ["E4020300002201", "安武小学校", "", "1", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
        ["E4020300003201", "", "", "1", "", "", "", "", "", "", "", "", "33.29", "130.47", ""],
    ])
    rejects = tmp_path / "rejects.csv"
    report = import_shelters(store.sessions, [bad], store.city_code, skip_bad_rows=True, rejects=rejects)
    assert report.created == 1 and len(report.problems) == 1
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Shelter)) == 1
    text = rejects.read_text(encoding="utf-8-sig")
    assert "E4020300003201" in text and "名称が空です" in text
