"""Fictional residents (名簿) and supporters, seeded, in the canonical roster columns.

Mixes are plausible for a 避難行動要支援者名簿 (mostly 75+, many with 要介護, some living
alone, a few with power-dependent medical devices). Names come from Faker's ja_JP lists;
phone numbers use unassigned ranges (0942-00-…, 090-0000-…). Scales to 100,000 residents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from disaster.codes import CARE_LEVELS, COMMUNICATION_NEEDS, DISABILITY_TYPES
from disaster.geo import METRIC_CRS, WGS84
from disaster.importers.roster import RESIDENT_COLUMNS, SUPPORTER_COLUMNS

TODAY = dt.date(2026, 4, 1)  # the demo 名簿's reference date


def _name_lists() -> tuple[list, list, list]:
    from faker.providers.person.ja_JP import Provider

    return list(Provider.last_name_pairs), list(Provider.first_name_female_pairs), list(Provider.first_name_male_pairs)


def _hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


FOOTHILL_SHARE = 0.3  # share of a hillside district's residents living at the foot of slopes


def sample_points(districts: gpd.GeoDataFrame, seeds: gpd.GeoDataFrame, counts: np.ndarray,
                  rng: np.random.Generator, foothills: shapely.Geometry | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points inside each district (clustered around its seed, like settlements around a
    school; in districts touching ``foothills`` (WGS84), a share along the slopes); returns
    lon, lat, district index. Points closer than 1 m to an edge are redrawn."""
    metric = districts.to_crs(METRIC_CRS)
    seed_m = seeds.to_crs(METRIC_CRS)
    slopes = gpd.GeoSeries([foothills], crs=WGS84).to_crs(METRIC_CRS).iloc[0] if foothills is not None else None
    lons, lats, which = [], [], []
    for index, (geom, seed, count) in enumerate(zip(metric.geometry, seed_m.geometry, counts, strict=True)):
        inner = geom.buffer(-1.0)
        shapely.prepare(inner)
        minx, miny, maxx, maxy = inner.bounds
        hill = inner.intersection(slopes) if slopes is not None else shapely.Polygon()
        shapely.prepare(hill)
        got: list[np.ndarray] = []
        have = 0
        while have < count:
            n = max(64, 2 * (count - have))
            draw = rng.random(n)
            clustered = draw < 0.6
            x = np.where(clustered, rng.normal(seed.x, 900, n), rng.uniform(minx, maxx, n))
            y = np.where(clustered, rng.normal(seed.y, 900, n), rng.uniform(miny, maxy, n))
            if not hill.is_empty:
                hx0, hy0, hx1, hy1 = hill.bounds
                on_hill = draw > 1 - FOOTHILL_SHARE
                x = np.where(on_hill, rng.uniform(hx0, hx1, n), x)
                y = np.where(on_hill, rng.uniform(hy0, hy1, n), y)
                keep_hill = shapely.contains_xy(hill, x, y)
                x, y = x[~on_hill | keep_hill], y[~on_hill | keep_hill]
            keep = shapely.contains_xy(inner, x, y)
            pts = np.column_stack([x[keep], y[keep]])[: count - have]
            got.append(pts)
            have += len(pts)
        xy = np.concatenate(got) if got else np.empty((0, 2))
        wgs = gpd.GeoSeries(shapely.points(xy), crs=METRIC_CRS).to_crs(WGS84)
        lons.append(wgs.x.to_numpy())
        lats.append(wgs.y.to_numpy())
        which.append(np.full(len(xy), index))
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(which)


def district_counts(districts: gpd.GeoDataFrame, total: int, rng: np.random.Generator) -> np.ndarray:
    """Residents per district, proportional to sqrt(area) with noise (sums to ``total``)."""
    weights = np.sqrt(districts.to_crs(METRIC_CRS).area.to_numpy()) * rng.uniform(0.7, 1.3, len(districts))
    counts = np.floor(weights / weights.sum() * total).astype(int)
    counts[np.argsort(-weights)[: total - counts.sum()]] += 1
    return counts


def generate_residents(districts: gpd.GeoDataFrame, seeds: gpd.GeoDataFrame, total: int,
                       rng: np.random.Generator, foothills: shapely.Geometry | None = None) -> list[dict[str, Any]]:
    """``total`` fictional 名簿 rows keyed by the canonical Japanese headers."""
    h = RESIDENT_COLUMNS
    last, female, male = _name_lists()
    counts = district_counts(districts, total, rng)
    lons, lats, which = sample_points(districts, seeds, counts, rng, foothills)
    n = len(lons)
    elderly = rng.random(n) < 0.85
    age = np.where(elderly, rng.triangular(65, 82, 101, n), rng.uniform(18, 65, n)).astype(int)
    female_mask = rng.random(n) < np.where(elderly, 0.62, 0.48)
    care = rng.choice([-1, 0, 1, 2, 3, 4, 5, 6], n, p=[0.25, 0.07, 0.08, 0.16, 0.14, 0.12, 0.10, 0.08])
    floors = rng.choice([1, 2, 3, 5, 8], n, p=[0.50, 0.40, 0.04, 0.04, 0.02])
    rows = []
    for i in range(n):
        surname = last[rng.integers(len(last))]
        given = (female if female_mask[i] else male)[rng.integers(len(female if female_mask[i] else male))]
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
        bedroom = 1 if floors[i] <= 2 and rng.random() < 0.8 else int(rng.integers(1, floors[i] + 1))
        stairs = "" if mobility in ("車いす", "寝たきり") else ("はい" if rng.random() < 0.65 else "いいえ")
        if mobility in ("車いす", "寝たきり"):
            stairs = "いいえ"
        birth = TODAY - dt.timedelta(days=int(age[i] * 365.25 + rng.integers(0, 365)))
        consent_share = rng.random() < 0.76
        consent_plan = consent_share and rng.random() < 0.55
        district = districts["name"].iloc[which[i]]
        town = seeds["address"].iloc[which[i]].removeprefix("福岡県久留米市")
        town = town.rstrip("0123456789-−ー")
        row = {
            h["resident_no"]: f"D{i + 1:06d}",
            h["name"]: f"{surname[0]} {given[0]}",
            h["kana"]: f"{_hiragana(surname[1])} {_hiragana(given[1])}",
            h["birth_date"]: _wareki_short(birth) if rng.random() < 0.5 else f"{birth.year}/{birth.month}/{birth.day}",
            h["sex"]: "女" if female_mask[i] else "男",
            h["address"]: f"福岡県久留米市{town}{rng.integers(1, 3000)}-{rng.integers(1, 30)}",
            h["phone"]: f"0942-00-{rng.integers(0, 10000):04d}",
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
            h["lives_alone"]: "はい" if rng.random() < (0.38 if elderly[i] else 0.15) else "いいえ",
            h["building_floors"]: str(floors[i]),
            h["bedroom_floor"]: str(bedroom),
            h["can_use_stairs"]: stairs,
            h["consent_share"]: "はい" if consent_share else "いいえ",
            h["consent_share_date"]: _consent_date(rng) if consent_share else "",
            h["consent_plan"]: "はい" if consent_plan else "いいえ",
            h["consent_plan_date"]: _consent_date(rng) if consent_plan else "",
        }
        choice = rng.random()
        if choice < 0.04:
            row[h["preferred_destination"]] = str(rng.choice(["長女宅（市内）", "長男宅（市内）", "次女宅（小郡市）", "親戚宅（近所）"]))
        elif choice < 0.07 and "seed" in seeds.columns:
            row[h["preferred_shelter"]] = seeds["seed"].iloc[which[i]]  # the 校区's own school or centre
        if rng.random() < 0.8:
            family = last[rng.integers(len(last))] if rng.random() < 0.3 else surname
            row[h["contact1_name"]] = f"{family[0]} {male[rng.integers(len(male))][0]}"
            row[h["contact1_relation"]] = str(rng.choice(["長男", "長女", "次男", "次女", "妻", "夫", "甥", "姪"]))
            row[h["contact1_phone"]] = f"090-0000-{rng.integers(0, 10000):04d}"
        if care[i] >= 2:
            row[h["care_manager_name"]] = f"{last[rng.integers(len(last))][0]} {female[rng.integers(len(female))][0]}"
            row[h["care_manager_organisation"]] = f"デモ居宅介護支援事業所{district}"
            row[h["care_manager_phone"]] = f"0942-00-{rng.integers(0, 10000):04d}"
        rows.append(row)
    return rows


def _wareki_short(date: dt.date) -> str:
    from disaster.wareki import to_wareki

    return to_wareki(date)


def _consent_date(rng: np.random.Generator) -> str:
    day = dt.date(2021, 4, 1) + dt.timedelta(days=int(rng.integers(0, (TODAY - dt.date(2021, 4, 1)).days)))
    return f"R{day.year - 2018}.{day.month}.{day.day}"


def generate_supporters(residents: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Supporters near their residents: ~18 % of residents get none, most supporters help one
    person, 民生委員 and 自主防災組織 members help many."""
    h, s = RESIDENT_COLUMNS, SUPPORTER_COLUMNS
    last, female, male = _name_lists()
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
            supporters.append(_supporter(len(supporters), "民生委員", residents, group, rng, last, female, male))
        for m in helped:
            if rng.random() < 0.75:
                relation = str(rng.choice(["近隣住民", "家族", "自治会", "自主防災組織"], p=[0.5, 0.25, 0.15, 0.1]))
                group = [m] + ([helped[int(rng.integers(len(helped)))]] if rng.random() < 0.1 else [])
                supporters.append(_supporter(len(supporters), relation, residents, group, rng, last, female, male))
    return [row for row in supporters if row[s["resident_nos"]]]


def _supporter(number: int, relation: str, residents: list[dict[str, Any]], group: list[int],
               rng: np.random.Generator, last: list, female: list, male: list) -> dict[str, Any]:
    h, s = RESIDENT_COLUMNS, SUPPORTER_COLUMNS
    anchor = residents[group[0]] if group else residents[0]
    given = (female if rng.random() < 0.5 else male)
    lat = float(anchor[h["lat"]]) + rng.normal(0, 0.0015)
    lon = float(anchor[h["lon"]]) + rng.normal(0, 0.0015)
    consent = rng.random() < 0.9
    return {
        s["supporter_no"]: f"S{number + 1:06d}",
        s["name"]: f"{last[rng.integers(len(last))][0]} {given[rng.integers(len(given))][0]}",
        s["address"]: anchor[h["address"]].rsplit("-", 1)[0] + f"-{rng.integers(1, 40)}",
        s["phone"]: f"090-0000-{rng.integers(0, 10000):04d}",
        s["relation"]: relation,
        s["lat"]: f"{lat:.6f}",
        s["lon"]: f"{lon:.6f}",
        s["consent"]: "はい" if consent else "いいえ",
        s["consent_date"]: _consent_date(rng) if consent else "",
        s["resident_nos"]: "、".join(dict.fromkeys(residents[g][h["resident_no"]] for g in group)),
    }
