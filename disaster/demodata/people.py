"""Fictional residents (名簿) and supporters, seeded, in the canonical roster columns.

Mixes are plausible for a 避難行動要支援者名簿 (mostly 75+, many with 要介護, some living
alone, a few with power-dependent medical devices). Names come from Faker's ja_JP lists;
phone numbers use unassigned ranges (the spec's landline prefix, 090-0000-…). Scales to 100,000
residents. City facts (address prefix, neighbouring towns) come from the demo spec.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from disaster.codes import CARE_LEVELS, COMMUNICATION_NEEDS, DISABILITY_TYPES
from disaster.demodata.spec import DemoSpec, load_spec
from disaster.geo import WGS84
from disaster.importers.roster import INFO_RECEPTION, RESIDENT_COLUMNS, SUPPORTER_COLUMNS

TODAY = dt.date(2026, 4, 1)  # the demo 名簿's reference date


def _name_lists() -> tuple[list, list, list]:
    from faker.providers.person.ja_JP import Provider

    return list(Provider.last_name_pairs), list(Provider.first_name_female_pairs), list(Provider.first_name_male_pairs)


def _hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


FOOTHILL_SHARE = 0.3  # share of a hillside district's residents living at the foot of slopes


def sample_points(districts: gpd.GeoDataFrame, seeds: gpd.GeoDataFrame, counts: np.ndarray,
                  rng: np.random.Generator, crs: CRS, foothills: shapely.Geometry | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points inside each district (clustered around its seed, like settlements around a
    school; in districts touching ``foothills`` (WGS84), a share along the slopes); returns
    lon, lat, district index. Points closer than 1 m to an edge are redrawn."""
    metric = districts.to_crs(crs)
    seed_m = seeds.to_crs(crs)
    slopes = gpd.GeoSeries([foothills], crs=WGS84).to_crs(crs).iloc[0] if foothills is not None else None
    lons, lats, which = [], [], []
    for index, (geom, seed, count) in enumerate(zip(metric.geometry, seed_m.geometry, counts, strict=True)):
        inner = geom.buffer(-1.0)
        shapely.prepare(inner)
        minx, miny, maxx, maxy = inner.bounds
        hill = inner.intersection(slopes) if slopes is not None else shapely.Polygon()
        on_hill = 0 if hill.is_empty else int(round(FOOTHILL_SHARE * count))
        got: list[np.ndarray] = [_uniform_in(hill, on_hill, rng)] if on_hill else []
        have = on_hill
        while have < count:
            n = max(64, 2 * (count - have))
            draw = rng.random(n)
            clustered = draw < 0.6
            x = np.where(clustered, rng.normal(seed.x, 900, n), rng.uniform(minx, maxx, n))
            y = np.where(clustered, rng.normal(seed.y, 900, n), rng.uniform(miny, maxy, n))
            keep = shapely.contains_xy(inner, x, y)
            pts = np.column_stack([x[keep], y[keep]])[: count - have]
            got.append(pts)
            have += len(pts)
        xy = np.concatenate(got) if got else np.empty((0, 2))
        if on_hill:
            xy = xy[rng.permutation(len(xy))]
        wgs = gpd.GeoSeries(shapely.points(xy), crs=crs).to_crs(WGS84)
        lons.append(wgs.x.to_numpy())
        lats.append(wgs.y.to_numpy())
        which.append(np.full(len(xy), index))
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(which)


def _uniform_in(area: shapely.Geometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points spread uniformly over ``area`` (prepared, metric)."""
    minx, miny, maxx, maxy = area.bounds
    got: list[np.ndarray] = []
    have = 0
    while have < count:
        n = max(256, 8 * (count - have))
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        keep = shapely.contains_xy(area, x, y)
        pts = np.column_stack([x[keep], y[keep]])[: count - have]
        got.append(pts)
        have += len(pts)
    return np.concatenate(got)


def district_counts(districts: gpd.GeoDataFrame, total: int, rng: np.random.Generator, crs: CRS) -> np.ndarray:
    """Residents per district, proportional to sqrt(area) with noise (sums to ``total``)."""
    weights = np.sqrt(districts.to_crs(crs).area.to_numpy()) * rng.uniform(0.7, 1.3, len(districts))
    counts = np.floor(weights / weights.sum() * total).astype(int)
    counts[np.argsort(-weights)[: total - counts.sum()]] += 1
    return counts


class ResidentRow(dict[str, Any]):
    """A 名簿 row (canonical headers -> text) that also remembers the fictional family it was
    drawn from, so supporters can be the same people as the contacts."""

    relatives: list[Relative]


@dataclass
class Relative:
    """A family member or acquaintance, named from the resident's point of view (長男, 妻 …)."""

    relation: str
    name: str
    phone: str
    place: str  # 同居 / 市内 / a neighbouring town / far away


# Relation labels and the sex they imply (None: either)
RELATION_SEX: dict[str, str | None] = {
    "夫": "男", "妻": "女", "父": "男", "母": "女",
    "長男": "男", "次男": "男", "三男": "男", "長女": "女", "次女": "女", "三女": "女",
    "兄": "男", "弟": "男", "姉": "女", "妹": "女", "甥": "男", "姪": "女", "知人": None,
}
CHILD_RELATIONS = ("長男", "次男", "三男", "長女", "次女", "三女")
SPOUSE_OF = {"男": "妻", "女": "夫"}
WEEKDAYS = ("月", "火", "水", "木", "金", "土")


def generate_residents(districts: gpd.GeoDataFrame, seeds: gpd.GeoDataFrame, total: int,
                       rng: np.random.Generator, foothills: shapely.Geometry | None = None,
                       spec: DemoSpec | None = None) -> list[dict[str, Any]]:
    """``total`` fictional 名簿 rows keyed by the canonical Japanese headers (``ResidentRow``)."""
    h = RESIDENT_COLUMNS
    spec = spec or load_spec()
    names = _Names()
    counts = district_counts(districts, total, rng, spec.crs)
    lons, lats, which = sample_points(districts, seeds, counts, rng, spec.crs, foothills)
    n = len(lons)
    elderly = rng.random(n) < 0.85
    age = np.where(elderly, rng.triangular(65, 82, 101, n), rng.uniform(18, 65, n)).astype(int)
    female_mask = rng.random(n) < np.where(elderly, 0.62, 0.48)
    care = rng.choice([-1, 0, 1, 2, 3, 4, 5, 6], n, p=[0.25, 0.07, 0.08, 0.16, 0.14, 0.12, 0.10, 0.08])
    floors = rng.choice([1, 2, 3, 5, 8], n, p=[0.50, 0.40, 0.04, 0.04, 0.02])
    draw = random.Random(int(rng.integers(2**62)))  # fast scalar draws for the per-person details
    rows: list[dict[str, Any]] = []
    for i in range(n):
        sex = "女" if female_mask[i] else "男"
        surname, given = names.person(sex, draw)
        care_level = CARE_LEVELS[care[i]] if care[i] >= 0 else ""
        heavy = care[i] >= 5
        mobility = (
            rng.choice(["寝たきり", "車いす"], p=[0.45, 0.55]) if heavy
            else rng.choice(["車いす", "杖・歩行器", "自立"], p=[0.25, 0.55, 0.20]) if care[i] >= 2
            else rng.choice(["杖・歩行器", "自立"], p=[0.4, 0.6])
        )
        disability = [] if rng.random() > (0.55 if not elderly[i] else 0.18) else [
            str(rng.choice(DISABILITY_TYPES, p=[0.35, 0.12, 0.13, 0.15, 0.12, 0.10, 0.03]))
        ]
        grade = ""
        if disability:
            grade = {"知的障害": str(rng.choice(["A1", "A2", "B1", "B2"])),
                     "精神障害": f"{rng.integers(1, 4)}級"}.get(disability[0], f"{rng.integers(1, 7)}級")
        devices = []
        r = rng.random()
        if r < 0.05:
            devices.append("在宅酸素")
        elif r < 0.065:
            devices.append("人工呼吸器")
        elif r < 0.085:
            devices.append("たん吸引器")
        elif r < 0.105:
            devices.append("人工透析")
        if heavy and rng.random() < 0.4:
            devices.append("電動ベッド")
        communication = [str(rng.choice(COMMUNICATION_NEEDS, p=[0.35, 0.15, 0.35, 0.1, 0.05]))] if rng.random() < 0.12 else []
        for kind, need in (("聴覚障害", "聴覚（筆談・手話）"), ("視覚障害", "視覚（音声・点字）")):
            if kind in disability and need not in communication and draw.random() < 0.8:
                communication.append(need)
        flat = floors[i] >= 3  # a flat (共同住宅): the person lives and sleeps on their own unit's floor
        home_floor = draw.randint(1, int(floors[i])) if flat else None
        bedroom = home_floor if home_floor is not None else (
            1 if floors[i] <= 2 and rng.random() < 0.8 else int(rng.integers(1, floors[i] + 1)))
        stairs = "" if mobility in ("車いす", "寝たきり") else ("はい" if rng.random() < 0.65 else "いいえ")
        if mobility in ("車いす", "寝たきり"):
            stairs = "いいえ"
        birth = TODAY - dt.timedelta(days=int(age[i] * 365.25 + rng.integers(0, 365)))
        consent_share = rng.random() < 0.76
        consent_plan = consent_share and rng.random() < 0.55
        district = districts["name"].iloc[which[i]]
        town = seeds["address"].iloc[which[i]].removeprefix(spec.address_prefix)
        town = town.rstrip("0123456789-−ー")
        lives_alone = rng.random() < (0.38 if elderly[i] else 0.15)
        own_phone = f"{spec.landline_prefix}{rng.integers(0, 10000):04d}"
        relatives = _family(int(age[i]), sex, surname, given, lives_alone, names, draw, spec)
        lives_alone = not any(r.place == "同居" for r in relatives)
        row = ResidentRow({
            h["resident_no"]: f"D{i + 1:06d}",
            h["name"]: f"{surname[0]} {given[0]}",
            h["kana"]: f"{_hiragana(surname[1])} {_hiragana(given[1])}",
            h["birth_date"]: _wareki_short(birth) if rng.random() < 0.5 else f"{birth.year}/{birth.month}/{birth.day}",
            h["sex"]: sex,
            h["address"]: f"{spec.address_prefix}{town}{rng.integers(1, 3000)}-{rng.integers(1, 30)}"
                          + (f" デモハイツ{home_floor}0{draw.randint(1, 8)}号" if home_floor is not None else ""),
            h["phone"]: own_phone,
            h["district"]: district,
            h["lat"]: f"{lats[i]:.6f}",
            h["lon"]: f"{lons[i]:.6f}",
            h["care_level"]: care_level,
            h["disability_types"]: "、".join(disability),
            h["disability_grade"]: grade,
            h["intractable_disease"]: "パーキンソン病" if rng.random() < 0.02 else "",
            h["medical_devices"]: "、".join(devices),
            h["mobility"]: str(mobility),
            h["communication_needs"]: "、".join(communication),
            h["other_needs"]: "",
            h["lives_alone"]: "はい" if lives_alone else "いいえ",
            h["building_floors"]: str(floors[i]),
            h["bedroom_floor"]: str(bedroom),
            h["home_floor"]: "" if home_floor is None else str(home_floor),
            h["can_use_stairs"]: stairs,
            h["consent_share"]: "はい" if consent_share else "いいえ",
            h["consent_share_date"]: _consent_date(rng) if consent_share else "",
            h["consent_plan"]: "はい" if consent_plan else "いいえ",
            h["consent_plan_date"]: _consent_date(rng) if consent_plan else "",
        })
        row.relatives = relatives
        choice = rng.random()
        hosts = [r for r in relatives if r.relation in CHILD_RELATIONS and r.place != "同居" and r.place not in spec.far_places]
        if choice < 0.05 and hosts:  # the resident's own choice: a child's home nearby
            host = hosts[0]
            row[h["preferred_destination"]] = f"{host.relation}宅（{host.place}）"
        elif 0.05 <= choice < 0.08 and "seed" in seeds.columns:
            row[h["preferred_shelter"]] = seeds["seed"].iloc[which[i]]  # the 校区's own school or centre
        contacts = _contacts(relatives, names, surname, draw, spec)
        for number, contact in enumerate(contacts, start=1):
            row[h[f"contact{number}_name"]] = contact.name
            row[h[f"contact{number}_relation"]] = contact.relation
            row[h[f"contact{number}_phone"]] = contact.phone
        service = _day_service(care_level, district, draw)
        row[h["day_service"]] = service[1] if service else ""
        row[h["daytime_situation"]], row[h["night_situation"]] = _situations(relatives, service, int(age[i]), draw)
        deaf = "聴覚障害" in disability or "聴覚（筆談・手話）" in communication
        blind = "視覚障害" in disability or "視覚（音声・点字）" in communication
        row[h["info_reception"]] = "、".join(_info_reception(int(age[i]), deaf, blind, bool(contacts), draw))
        _professionals(row, care[i], bool(disability) and not elderly[i], devices, district, names, draw, spec)
        rows.append(row)
    return rows


class _Names:
    """Faker's ja_JP name lists (kanji, katakana) by sex."""

    def __init__(self) -> None:
        last, female, male = _name_lists()
        self.last, self.given = last, {"女": female, "男": male}

    def surname(self, draw: random.Random, avoid: str = "") -> tuple[str, str]:
        while True:
            name = self.last[draw.randrange(len(self.last))]
            if name[0] != avoid:
                return name[:2]

    def given_name(self, sex: str, draw: random.Random, used: set[str]) -> tuple[str, str]:
        pool = self.given[sex]
        while True:
            name = pool[draw.randrange(len(pool))]
            if name[0] not in used:
                used.add(name[0])
                return name[:2]

    def person(self, sex: str, draw: random.Random) -> tuple[tuple[str, str], tuple[str, str]]:
        return self.surname(draw), self.given_name(sex, draw, set())


def _mobile(draw: random.Random, used: set[str]) -> str:
    while True:
        phone = f"{draw.choice(('090', '080'))}-0000-{draw.randrange(10000):04d}"
        if phone not in used:
            used.add(phone)
            return phone


def _family(age: int, sex: str, surname: tuple[str, str], given: tuple[str, str], lives_alone: bool,
            names: _Names, draw: random.Random, spec: DemoSpec) -> list[Relative]:
    """The resident's family as relatives with relations that fit the resident's age and sex:
    a spouse of the other sex, grown-up children only for people of 50+, parents only for the young,
    older siblings rarely for the very old. Sons keep the family name, married daughters and
    sisters often carry another one."""
    used_given, phones = {given[0]}, set[str]()
    family: list[Relative] = []

    def add(relation: str, place: str, same_name: bool) -> Relative:
        relative_sex = RELATION_SEX[relation] or "男"
        family_name = surname[0] if same_name else names.surname(draw, avoid=surname[0])[0]
        person = Relative(relation, f"{family_name} {names.given_name(relative_sex, draw, used_given)[0]}",
                          _mobile(draw, phones), place)
        family.append(person)
        return person

    def place_away() -> str:
        r = draw.random()
        return "市内" if r < 0.6 else draw.choice(spec.near_towns) if r < 0.8 else draw.choice(spec.far_places)

    married = age >= 30 and draw.random() < (0.75 if age < 65 else 0.95)
    spouse_alive = married and not lives_alone and draw.random() < (0.8 if sex == "男" else 0.55)
    if spouse_alive:
        add(SPOUSE_OF[sex], "同居", same_name=True)
    if married and age >= 50:  # grown-up children (a contact is an adult)
        count = draw.choices((0, 1, 2, 3), weights=(0.12, 0.33, 0.38, 0.17))[0]
        order = {"男": 0, "女": 0}
        for _ in range(count):
            child_sex = draw.choice(("男", "女"))
            label = ("長", "次", "三")[order[child_sex]] + ("男" if child_sex == "男" else "女")
            order[child_sex] += 1
            add(label, place_away(), same_name=child_sex == "男" or age < 60 or draw.random() < 0.4)
    if age < 55:
        for parent in ("母", "父"):
            if draw.random() < (0.85 if age < 40 else 0.55):
                # a married woman usually took her husband's name: her parents carry another one
                add(parent, "同居" if not married and not lives_alone else "市内", same_name=sex == "男" or not married)
    for _ in range(draw.choices((0, 1, 2), weights=(0.3, 0.45, 0.25))[0]):
        older = draw.random() < (0.5 if age < 75 else 0.15)
        sibling_sex = draw.choice(("男", "女"))
        label = {("男", True): "兄", ("男", False): "弟", ("女", True): "姉", ("女", False): "妹"}[(sibling_sex, older)]
        same = sex == "男" and sibling_sex == "男" or (not married and draw.random() < 0.7)
        add(label, place_away(), same_name=same)
    if draw.random() < 0.35:
        add(draw.choice(("甥", "姪")), place_away(), same_name=draw.random() < 0.3)
    if not lives_alone and not any(r.place == "同居" for r in family):
        helpers = [r for r in family if r.relation in CHILD_RELATIONS or r.relation in ("兄", "姉", "弟", "妹")]
        if helpers:  # someone must share the home: the eldest child (or a sibling) does
            helpers[0].place = "同居"
    return family


def _contacts(relatives: list[Relative], names: _Names, surname: tuple[str, str], draw: random.Random,
              spec: DemoSpec) -> list[Relative]:
    """Up to three 緊急連絡先 in calling order: a young person's parents, then children and siblings
    living apart (nearest first), then the household, then a nephew or niece; a 知人 for people
    with no family."""
    if draw.random() > 0.88:
        return []
    rank = {"市内": 0, "同居": 2}
    parents = [r for r in relatives if r.relation in ("母", "父")]  # a young person's parents come first
    away = sorted((r for r in relatives if r.place != "同居" and r.relation not in ("甥", "姪", "母", "父")),
                  key=lambda r: (rank.get(r.place, 1 if r.place in spec.near_towns else 3)))
    household = [r for r in relatives if r.place == "同居" and r.relation not in ("母", "父")]
    order = parents + away + household + [r for r in relatives if r.relation in ("甥", "姪")]
    if not order:
        used = {r.name for r in relatives}
        friend_sex = draw.choice(("男", "女"))
        while True:
            name = f"{names.surname(draw, avoid=surname[0])[0]} {names.given_name(friend_sex, draw, set())[0]}"
            if name not in used:
                break
        return [Relative("知人", name, _mobile(draw, {r.phone for r in relatives}), "市内")]
    return order[: draw.choice((1, 2, 2, 3))]


def _day_service(care_level: str, district: str, draw: random.Random) -> tuple[list[str], str] | None:
    """通所サービス days, only for people with a care level (要支援: 通所型サービス)."""
    if not care_level or draw.random() > (0.35 if care_level.startswith("要支援") else 0.55):
        return None
    days = sorted(draw.sample(range(len(WEEKDAYS)), 1 if care_level.startswith("要支援") else draw.choice((2, 2, 3))))
    labels = [WEEKDAYS[d] for d in days]
    kind = "通所型サービス" if care_level.startswith("要支援") else "デイサービス"
    return labels, f"{'・'.join(labels)} {kind}（デモ通所事業所{district}）"


def _situations(relatives: list[Relative], service: tuple[list[str], str] | None, age: int,
                draw: random.Random) -> tuple[str, str]:
    """Who is with the person by day and by night, in the 名簿's plain words (an old person's
    spouse is mostly at home by day; working-age relatives mostly are not)."""
    home = [r for r in relatives if r.place == "同居"]
    at_home = {"夫": 0.8 if age >= 65 else 0.3, "妻": 0.8 if age >= 65 else 0.3, "父": 0.6, "母": 0.7}
    at_home_by_day = [r for r in home if draw.random() < at_home.get(r.relation, 0.2)]
    if not home:
        weekdays, core, night = False, "ひとり", "夜間もひとり"
    else:
        night = f"夜間は{'・'.join(r.relation for r in home)}と同居"
        if at_home_by_day:
            weekdays, core = False, f"{'・'.join(r.relation for r in at_home_by_day)}が在宅"
        else:
            weekdays, core = True, f"ひとり（{'・'.join(r.relation for r in home)}は仕事）"
    if service:
        day = f"{'・'.join(service[0])}曜の日中はデイサービス（9時〜16時）、それ以外の日中は{core}"
    else:
        day = f"{'平日の' if weekdays else ''}日中は{core}"
    return day, night


INFO_BASE = (("テレビ・ラジオ", 0.85), ("防災行政無線（屋外）", 0.45), ("防災ラジオ（戸別受信機）", 0.1))


def _info_reception(age: int, deaf: bool, blind: bool, has_contact: bool, draw: random.Random) -> list[str]:
    """How 避難情報 reaches the person: never by sound alone for the deaf or hard of hearing,
    never by text alone for the blind; a few are left blank (a to-do for the leader)."""
    if draw.random() < 0.03:
        return []
    if deaf and blind:  # 盲ろう: someone must come and tell them (触手話 etc.)
        return ["訪問（支援者が直接伝える）"]
    young = age < 75
    wanted = [(name, p) for name, p in INFO_BASE]
    wanted += [("防災メール", 0.45 if young else 0.12), ("緊急速報メール", 0.3 if young else 0.08)]
    if has_contact:
        wanted.append(("電話（支援者・家族から）", 0.6))
    if deaf:
        wanted = [(name, p) for name, p in wanted if INFO_RECEPTION[name] != "sound"]
        wanted += [("文字表示", 0.6), ("FAX", 0.4), ("防災メール", 0.5), ("訪問（支援者が直接伝える）", 0.3)]
    if blind:
        wanted = [(name, p) for name, p in wanted if INFO_RECEPTION[name] != "text"]
        wanted += [("電話（支援者・家族から）", 0.5)]
    chosen = list(dict.fromkeys(name for name, p in wanted if draw.random() < p))
    if not chosen:
        chosen = ["文字表示" if deaf else "テレビ・ラジオ"]
    return sorted(chosen, key=list(INFO_RECEPTION).index)


LIFE_SUPPORT_DEVICES = ("人工呼吸器", "在宅酸素", "たん吸引器")  # need 訪問看護 and a device supplier


def _professionals(row: dict[str, Any], care: int, young_disabled: bool, devices: list[str], district: str,
                   names: _Names, draw: random.Random, spec: DemoSpec) -> None:
    """Care professionals: ケアマネジャー (要介護), 相談支援専門員 (disabled under 65), 主治医 for most,
    訪問看護 and the device supplier for most users of a life-support device (a few left
    missing: the audit lists them as data to-dos)."""
    h = RESIDENT_COLUMNS

    def person(key: str, organisation: str, named: bool = True) -> None:
        sex = draw.choice(("男", "女"))
        row[h[f"{key}_name"]] = f"{names.surname(draw)[0]} {names.given_name(sex, draw, set())[0]}" if named else ""
        row[h[f"{key}_organisation"]] = organisation
        row[h[f"{key}_phone"]] = f"{spec.landline_prefix}{draw.randrange(10000):04d}"

    life_support = any(d in LIFE_SUPPORT_DEVICES for d in devices)
    if care >= 2:
        person("care_manager", f"デモ居宅介護支援事業所{district}")
    if young_disabled and draw.random() < 0.7:
        person("counsellor", f"デモ相談支援事業所{district}")
    if draw.random() < (0.95 if devices else 0.7):
        person("doctor", f"デモ{draw.choice(('内科', '整形外科', '在宅', '循環器内科'))}クリニック{district}")
    if draw.random() < (0.85 if life_support else 0.2 if care >= 4 else 0.0):
        person("visiting_nurse", f"デモ訪問看護ステーション{district}")
    if life_support and draw.random() < 0.8:
        person("device_supplier", "デモ在宅医療機器サービス", named=draw.random() < 0.5)


def _wareki_short(date: dt.date) -> str:
    from disaster.wareki import to_wareki

    return to_wareki(date)


def _consent_date(rng: np.random.Generator) -> str:
    day = dt.date(2021, 4, 1) + dt.timedelta(days=int(rng.integers(0, (TODAY - dt.date(2021, 4, 1)).days)))
    return f"R{day.year - 2018}.{day.month}.{day.day}"


def generate_supporters(residents: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Supporters near their residents: ~18 % of residents get none, most supporters help one
    person, 民生委員 and 自主防災組織 members help many. A 家族 supporter is one of the resident's
    own relatives living in the city (the same person as in the contacts); nobody supports
    themself."""
    h, s = RESIDENT_COLUMNS, SUPPORTER_COLUMNS
    names = _Names()
    draw = random.Random(int(rng.integers(2**62)))
    by_district: dict[str, list[int]] = {}
    for index, row in enumerate(residents):
        by_district.setdefault(row[h["district"]], []).append(index)
    supporters: list[dict[str, Any]] = []
    for _district, members in by_district.items():
        helped = [m for m in members if rng.random() > 0.18]
        rng.shuffle(helped)
        volunteers = max(1, len(helped) // 12)
        for v in range(volunteers):  # 民生委員 with many residents each
            group = helped[v::volunteers][: int(rng.integers(4, 12))]
            supporters.append(_supporter(len(supporters), "民生委員", residents, group, rng, names, draw))
        for m in helped:
            if rng.random() < 0.75:
                relation = str(rng.choice(["近隣住民", "家族", "自治会", "自主防災組織"], p=[0.5, 0.25, 0.15, 0.1]))
                kin = _nearby_kin(residents[m], relation)
                if kin is not None:
                    supporters.append(_supporter(len(supporters), relation, residents, [m], rng, names, draw, kin))
                    continue
                relation = "近隣住民" if relation in ("家族", "親族") else relation
                group = [m] + ([helped[int(rng.integers(len(helped)))]] if rng.random() < 0.1 else [])
                supporters.append(_supporter(len(supporters), relation, residents, group, rng, names, draw))
    return [row for row in supporters if row[s["resident_nos"]]]


def _nearby_kin(resident: dict[str, Any], relation: str) -> Relative | None:
    """A relative in the city, living apart, who can be the 家族 (child, sibling) or 親族
    (nephew, niece) supporter."""
    if relation != "家族":
        return None
    relatives = getattr(resident, "relatives", [])
    for wanted in (set(CHILD_RELATIONS) | {"兄", "姉", "弟", "妹", "父", "母"}, {"甥", "姪"}):
        for relative in relatives:
            if relative.relation in wanted and relative.place == "市内":
                return relative
    return None


def _supporter(number: int, relation: str, residents: list[dict[str, Any]], group: list[int],
               rng: np.random.Generator, names: _Names, draw: random.Random,
               kin: Relative | None = None) -> dict[str, Any]:
    h, s = RESIDENT_COLUMNS, SUPPORTER_COLUMNS
    anchor = residents[group[0]] if group else residents[0]
    spread = 0.006 if kin is not None else 0.0015  # family lives a little further away than neighbours
    lat = float(anchor[h["lat"]]) + rng.normal(0, spread)
    lon = float(anchor[h["lon"]]) + rng.normal(0, spread)
    consent = rng.random() < (0.95 if kin is not None else 0.9)
    taken = {residents[g][h["name"]] for g in group}
    if kin is not None:
        name, phone = kin.name, kin.phone
        relation = "家族" if kin.relation not in ("甥", "姪") else "親族"
    else:
        while True:
            name = f"{names.surname(draw)[0]} {names.given_name(draw.choice(('男', '女')), draw, set())[0]}"
            if name not in taken:
                break
        phone = f"090-0000-{draw.randrange(10000):04d}"
    street = anchor[h["address"]].split(" ")[0].rsplit("-", 1)[0]
    return {
        s["supporter_no"]: f"S{number + 1:06d}",
        s["name"]: name,
        s["address"]: f"{street}-{draw.randint(30, 60)}",
        s["phone"]: phone,
        s["relation"]: relation,
        s["lat"]: f"{lat:.6f}",
        s["lon"]: f"{lon:.6f}",
        s["consent"]: "はい" if consent else "いいえ",
        s["consent_date"]: _consent_date(rng) if consent else "",
        s["resident_nos"]: "、".join(dict.fromkeys(residents[g][h["resident_no"]] for g in group)),
    }
