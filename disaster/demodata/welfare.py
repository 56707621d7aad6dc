"""Demo 福祉避難所 agreements (福祉避難所の確保・運営ガイドライン, 令和3年改定: 受入対象者の事前調整).

Some residents who need a 福祉避難所 have agreed with one in advance, dated. Only a facility
that takes people directly, lies outside every rain hazard and whose 受入対象者 fits the person
is chosen (the nearest such one, within reach), and never beyond half its capacity.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from disaster.geo import WGS84
from disaster.importers.roster import LIST_SEPARATORS, RESIDENT_COLUMNS

if TYPE_CHECKING:
    from disaster.demodata.build import RainHazards

# The 受入対象者 words that mark each need (as the assessment matches them)
NEED_WORDS = {"medical": ("医療",), "elderly_care": ("要介護", "高齢"), "disability": ("障害",)}
MEDICAL_CARE_DEVICES = frozenset({"人工呼吸器", "たん吸引器", "在宅酸素", "経管栄養"})
SEVERE_GRADES = frozenset({"1級", "2級", "A1", "A", "A2"})
REACH_M = 8_000  # straight-line distance within which an agreement is plausible
FIRST_AGREEMENT = dt.date(2024, 4, 1)


def welfare_needs(row: dict[str, Any]) -> set[str]:
    """Why this 名簿 row needs a 福祉避難所: medical care, 要介護3+ or bedridden, severe disability."""
    h = RESIDENT_COLUMNS
    devices = {d for d in LIST_SEPARATORS.split(row.get(h["medical_devices"], "")) if d}
    needs = set()
    if devices & MEDICAL_CARE_DEVICES:
        needs.add("medical")
    if row.get(h["care_level"], "") in ("要介護3", "要介護4", "要介護5") or row.get(h["mobility"]) == "寝たきり":
        needs.add("elderly_care")
    if row.get(h["disability_types"]) and row.get(h["disability_grade"], "") in SEVERE_GRADES:
        needs.add("disability")
    return needs


def fits(needs: set[str], accepted_groups: str | None) -> bool:
    """Whether a 福祉避難所's 受入対象者 text covers the person: medical care needs a place that
    takes it; otherwise any of the person's needs will do."""
    text = accepted_groups or ""
    if "medical" in needs:
        return any(word in text for word in NEED_WORDS["medical"])
    return any(word in text for need in needs for word in NEED_WORDS[need])


def add_welfare_agreements(rows: list[dict[str, Any]], shelters: gpd.GeoDataFrame, rain: RainHazards,
                           rng: np.random.Generator, today: dt.date, crs: CRS) -> int:
    """Fill 福祉避難所受入合意 / 受入合意日 for some residents (half of those at risk at home who
    consented to sharing, a tenth of the others); returns how many agreements were made."""
    h = RESIDENT_COLUMNS
    unsafe = rain.any
    shapely.prepare(unsafe)
    welfare = shelters[shelters["is_welfare_shelter"] & (shelters["accepts_direct"] == True)]  # noqa: E712
    welfare = welfare[~shapely.contains_xy(unsafe, welfare.geometry.x.to_numpy(), welfare.geometry.y.to_numpy())]
    sites = welfare.to_crs(crs).geometry
    site_xy = np.column_stack([sites.x.to_numpy(), sites.y.to_numpy()])
    room = {code: int(capacity) // 2 for code, capacity in zip(welfare["code"], welfare["capacity"], strict=True)}
    lons = np.array([float(r[h["lon"]]) for r in rows])
    lats = np.array([float(r[h["lat"]]) for r in rows])
    at_risk = shapely.contains_xy(unsafe, lons, lats)
    homes = gpd.GeoSeries(shapely.points(lons, lats), crs=WGS84).to_crs(crs)
    home_xy = np.column_stack([homes.x.to_numpy(), homes.y.to_numpy()])
    chance = rng.random(len(rows))
    days = rng.integers(0, (today - FIRST_AGREEMENT).days, len(rows))
    made = 0
    for i in rng.permutation(len(rows)):
        row = rows[i]
        row[h["welfare_agreement"]] = row.get(h["welfare_agreement"], "")
        row[h["welfare_agreement_date"]] = row.get(h["welfare_agreement_date"], "")
        needs = welfare_needs(row)
        if not needs or row[h["consent_share"]] != "はい" or chance[i] > (0.5 if at_risk[i] else 0.1):
            continue
        distance = np.linalg.norm(site_xy - home_xy[i], axis=1)
        for j in np.argsort(distance):
            code = welfare["code"].iloc[j]
            if distance[j] > REACH_M:
                break
            if room[code] > 0 and fits(needs, welfare["accepted_groups"].iloc[j]):
                room[code] -= 1
                day = FIRST_AGREEMENT + dt.timedelta(days=int(days[i]))
                row[h["welfare_agreement"]] = code
                row[h["welfare_agreement_date"]] = f"R{day.year - 2018}.{day.month}.{day.day}"
                made += 1
                break
    return made
