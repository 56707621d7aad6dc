"""Which GSI 指定避難所 and 指定緊急避難場所 entries are one facility, and how their values merge.

A facility listed in both GSI files has 共通IDs that share the first eleven characters (``E`` +
団体コード without check digit + facility serial) and differ in the last three (``1xx`` in the
指定避難所 file, ``2xx`` in the 指定緊急避難場所 file). Two facilities on one site can share a
serial (金丸小学校 ``…112`` and 金丸校区コミュニティセンター ``…111``), and the names of one
facility differ between the files (竹野小学校体育館 / 竹野小学校（体育館）). So an entry of one
file is the same facility as an entry of the other when the serials match and the addresses match
after normalisation, or either row says 住所同一 = 1, whatever the names say. When several
pairings are possible, equal names (ignoring brackets, spaces, 旧 and 体育館) come first, then the
nearer points.

Merging never loses information: kind flags are OR-ed, an empty value never overwrites one
that is set, and for the place (name, address, point, source) the 指定避難所
entry wins over the 指定緊急避難場所 one, whatever the import order. The other file's name is kept
in ``remarks``. The hazard flags are the exception: only the 指定緊急避難場所 file designates
hazards, so its row sets them as the file says. A designation the city withdraws (a school no
longer designated for 洪水) must not survive a re-import and send people there in a flood.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from disaster.codes import Hazard
from disaster.importers.shelters import GsiKind, ShelterRecord

HAZARD_COLUMNS = frozenset(f"hazard_{h.value}" for h in Hazard)
FLAG_COLUMNS = frozenset({"is_emergency_site", "is_designated_shelter", "is_welfare_shelter", *HAZARD_COLUMNS})
PLACE_COLUMNS = frozenset({"name", "address", "lon", "lat", "source"})  # the 指定避難所 entry's values win
POINT_TOLERANCE_M = 100.0
PREFECTURE = re.compile(r"^(北海道|東京都|京都府|大阪府|[^\d都道府県]{2,3}県)")
NUMBER_JOINERS = re.compile(r"(?<=\d)(?:丁目|番地の?|番|の|号|[‐‑‒–—―−ｰー-])(?=\d)")
BRACKETS = re.compile(r"[()（）［］\[\]「」【】〔〕]")
KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
KANJI_CHOME = re.compile(r"([〇一二三四五六七八九十]+)丁目")


@dataclass(frozen=True)
class Side:
    """One 指定避難所 or 指定緊急避難場所 entry taking part in pairing: a row being imported or
    a stored facility that lacks the other kind. ``where`` names it for the user (file and row,
    or 登録済み)."""

    gsi_id: str
    name: str
    address: str | None
    lon: float
    lat: float
    where: str
    locality: str | None = None  # 都道府県名及び市町村名 of the row, stripped from addresses
    same_address: bool = False  # the row's 指定(緊急)避難場所との住所同一 = 1

    @property
    def serial(self) -> str:
        return self.gsi_id[:11]


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def name_key(name: str) -> str:
    """A name without width, spaces, brackets, 旧 and 体育館: 竹野小学校（体育館） = 竹野小学校体育館."""
    return BRACKETS.sub("", _plain(name)).removeprefix("旧").replace("体育館", "")


def _kanji_number(text: str) -> str:
    if "十" not in text:
        return "".join(str(KANJI_DIGITS[c]) for c in text)
    tens, _, ones = text.partition("十")
    return str((KANJI_DIGITS[tens] if tens else 1) * 10 + (KANJI_DIGITS[ones] if ones else 0))


def address_key(address: str, locality: str | None = None) -> str:
    """An address without width, spaces, prefecture and municipality, with 丁目/番地/号 and
    hyphens written alike: 〇〇県〇〇市本町１６００番地の４ = 本町1600-4."""
    text = _plain(address)
    text = KANJI_CHOME.sub(lambda m: _kanji_number(m[1]) + "丁目", text)
    text = PREFECTURE.sub("", text)
    if locality:
        text = text.removeprefix(PREFECTURE.sub("", _plain(locality)))
    text = NUMBER_JOINERS.sub("-", text)
    return re.sub(r"(?<=\d)(?:番地?|号)$", "", text)


def distance_m(a: Side, b: Side) -> float:
    """Great-circle distance between two entries' points in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def same_facility(shelter: Side, emergency: Side) -> bool:
    """Serials match and (住所同一 = 1 on either row, or the addresses match)."""
    if shelter.serial != emergency.serial:
        return False
    if shelter.same_address or emergency.same_address:
        return True
    if not (shelter.address and emergency.address):
        return False
    locality = shelter.locality or emergency.locality
    return address_key(shelter.address, locality) == address_key(emergency.address, locality)


def pair(shelters: list[Side], emergencies: list[Side]) -> list[tuple[int | None, int | None]]:
    """Indices of (指定避難所, 指定緊急避難場所) that are one facility, each used at most once,
    then every unpaired entry alone. Ties go to equal names, then the nearer points, then IDs."""
    by_serial: dict[str, list[int]] = defaultdict(list)
    for j, emergency in enumerate(emergencies):
        by_serial[emergency.serial].append(j)
    candidates = sorted(
        (name_key(s.name) != name_key(emergencies[j].name), distance_m(s, emergencies[j]), s.gsi_id,
         emergencies[j].gsi_id, i, j)
        for i, s in enumerate(shelters) for j in by_serial.get(s.serial, []) if same_facility(s, emergencies[j])
    )
    pairs: list[tuple[int | None, int | None]] = []
    used_s: set[int] = set()
    used_e: set[int] = set()
    for *_, i, j in candidates:
        if i not in used_s and j not in used_e:
            pairs.append((i, j))
            used_s.add(i)
            used_e.add(j)
    pairs += [(i, None) for i in range(len(shelters)) if i not in used_s]
    pairs += [(None, j) for j in range(len(emergencies)) if j not in used_e]
    return pairs


def merge_values(facility: Any, values: dict[str, Any], keep_place: bool, designates_hazards: bool = False) -> None:
    """Set ``values`` on ``facility`` without losing what it has: flags are OR-ed, empty values
    are skipped, remarks are joined, and with ``keep_place`` (a 指定緊急避難場所 entry merging
    into a facility that has a 指定避難所 entry) name, address, point and source only fill gaps.
    With ``designates_hazards`` (a 指定緊急避難場所 row) the hazard flags are set as given."""
    for column, value in values.items():
        current = getattr(facility, column, None)
        if designates_hazards and column in HAZARD_COLUMNS:
            setattr(facility, column, bool(value))
        elif column in FLAG_COLUMNS:
            setattr(facility, column, bool(current) or bool(value))
        elif value is None or value == "":
            continue
        elif column == "remarks":
            setattr(facility, column, join_remarks(current, value))
        elif not (keep_place and column in PLACE_COLUMNS and current not in (None, "")):
            setattr(facility, column, value)


def join_remarks(*texts: str | None) -> str | None:
    """Distinct remark lines, sorted (so the result does not depend on the import order)."""
    lines = {line for text in texts if text for line in text.splitlines() if line.strip()}
    return "\n".join(sorted(lines)) or None


def other_name_remark(emergency_name: str) -> str:
    return f"指定緊急避難場所としての名称: {emergency_name}"


def names_differ(shelter: Side, emergency: Side) -> bool:
    return _plain(shelter.name) != _plain(emergency.name)


def merge_notice(shelter: Side, emergency: Side) -> str:
    return (f"指定避難所「{shelter.name}」（{shelter.where}、共通ID {shelter.gsi_id}）と指定緊急避難場所"
            f"「{emergency.name}」（{emergency.where}、共通ID {emergency.gsi_id}）は、共通IDの施設番号と住所が"
            f"同じなので1つの施設として登録しました（名称は「{shelter.name}」、もう一方の名称は備考に記録）。")


def point_notice(shelter: Side, emergency: Side) -> str | None:
    """A Japanese notice when the two entries' points are more than 100 m apart, else None."""
    distance = distance_m(shelter, emergency)
    if distance <= POINT_TOLERANCE_M:
        return None
    return (f"「{shelter.name}」の位置が指定避難所（{shelter.where}、共通ID {shelter.gsi_id}: "
            f"緯度 {shelter.lat:.6f} 経度 {shelter.lon:.6f}）と指定緊急避難場所（{emergency.where}、"
            f"共通ID {emergency.gsi_id}: 緯度 {emergency.lat:.6f} 経度 {emergency.lon:.6f}）で "
            f"{distance:.0f} m 離れています。指定避難所の位置を使いました。正しい位置を確認してください。")


@dataclass
class Group:
    """One facility after merging: the stored facility it continues (``home``; None: a new one),
    a stored duplicate merged into it and removed (``absorbed``), and the rows that update it
    (指定避難所 row first). ``other_name`` is the 指定緊急避難場所 name to keep in remarks."""

    code: str
    records: list[ShelterRecord]
    home: Any | None = None
    absorbed: Any | None = None
    has_shelter: bool = False
    other_name: str | None = None
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    side: Side
    record: ShelterRecord | None
    home: Any | None


def _record_side(record: ShelterRecord) -> Side:
    entry, values = record.gsi, record.values
    assert entry is not None
    return Side(entry.gsi_id, values["name"], values["address"], values["lon"], values["lat"], entry.where,
                entry.locality, entry.same_address)


def _stored_side(facility: Any, gsi_id: str) -> Side:
    return Side(gsi_id, facility.name, facility.address, facility.lon, facility.lat, f"登録済み（{facility.source}）")


def plan_merge(existing: list[Any], records: list[ShelterRecord]) -> list[Group]:
    """Group GSI ``records`` and the ``existing`` facilities (objects with ``models.Shelter``
    attributes) into facilities. A row whose 共通ID is stored updates that facility; 指定避難所
    and 指定緊急避難場所 entries of one facility (rows, or stored facilities with only one kind)
    are paired by ``pair``, so the result does not depend on the import order, and two stored
    facilities found to be one are merged."""
    by_id: dict[str, Any] = {}
    for facility in existing:
        by_id.setdefault(facility.code, facility)
        by_id.update({gsi_id: facility for gsi_id in (facility.gsi_shelter_id, facility.gsi_emergency_id) if gsi_id})
    complete: dict[int, tuple[Any, list[ShelterRecord]]] = {}
    pool: dict[GsiKind, list[_Item]] = {GsiKind.SHELTER: [], GsiKind.EMERGENCY: []}
    homed: set[int] = set()
    for record in sorted(records, key=lambda r: r.gsi.kind != GsiKind.SHELTER if r.gsi else False):
        assert record.gsi is not None
        home = by_id.get(record.gsi.gsi_id)
        if home is not None:
            homed.add(id(home))
        if home is not None and home.gsi_shelter_id and home.gsi_emergency_id:
            complete.setdefault(id(home), (home, []))[1].append(record)
        else:
            pool[record.gsi.kind].append(_Item(_record_side(record), record, home))
    serials = {item.side.serial for items in pool.values() for item in items}
    for facility in existing:
        if id(facility) in homed or bool(facility.gsi_shelter_id) == bool(facility.gsi_emergency_id):
            continue
        kind, gsi_id = ((GsiKind.SHELTER, facility.gsi_shelter_id) if facility.gsi_shelter_id
                        else (GsiKind.EMERGENCY, facility.gsi_emergency_id))
        if gsi_id[:11] in serials:
            pool[kind].append(_Item(_stored_side(facility, gsi_id), None, facility))
    groups = [_complete_group(home, own) for home, own in complete.values()]
    shelters, emergencies = pool[GsiKind.SHELTER], pool[GsiKind.EMERGENCY]
    for i, j in pair([item.side for item in shelters], [item.side for item in emergencies]):
        shelter = shelters[i] if i is not None else None
        emergency = emergencies[j] if j is not None else None
        group = _pair_group(shelter, emergency)
        if group.records or group.absorbed is not None:  # else a stored facility left as it is
            groups.append(group)
    return groups


def _complete_group(home: Any, records: list[ShelterRecord]) -> Group:
    """A stored facility with both kinds, updated by its own rows (指定避難所 row first)."""
    group = Group(home.gsi_shelter_id, records, home, has_shelter=True)
    shelter_record = next((r for r in records if r.gsi and r.gsi.kind == GsiKind.SHELTER), None)
    emergency_record = next((r for r in records if r.gsi and r.gsi.kind == GsiKind.EMERGENCY), None)
    if emergency_record is not None:
        shelter = _record_side(shelter_record) if shelter_record else _stored_side(home, home.gsi_shelter_id)
        _describe(group, shelter, _record_side(emergency_record))
    return group


def _pair_group(shelter: _Item | None, emergency: _Item | None) -> Group:
    first = shelter or emergency
    assert first is not None
    home = (shelter.home if shelter else None) or (emergency.home if emergency else None)
    group = Group(first.side.gsi_id, [item.record for item in (shelter, emergency) if item and item.record],
                  home, has_shelter=shelter is not None)
    if shelter is not None and emergency is not None:
        if emergency.home is not None and emergency.home is not home:
            group.absorbed = emergency.home
        _describe(group, shelter.side, emergency.side)
    return group


def _describe(group: Group, shelter: Side, emergency: Side) -> None:
    if names_differ(shelter, emergency):
        group.other_name = emergency.name
        group.notices.append(merge_notice(shelter, emergency))
    notice = point_notice(shelter, emergency)
    if notice:
        group.notices.append(notice)
