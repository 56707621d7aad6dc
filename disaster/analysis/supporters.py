"""Supporter gaps: nobody to help, helpers who must flee themselves, helpers with too many people."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.reasons import Said, reason


def supporter_at_risk(exposure: pd.DataFrame) -> np.ndarray:
    """A supporter whose own home is in a zone where they must leave (0.5 m+, collapse, landslide)."""
    return (
        (exposure["flood_l2_rank"] >= 2) | (exposure["inland_rank"] >= 2) | exposure["collapse_flow"]
        | exposure["collapse_erosion"] | (exposure["landslide_class"] > 0)
    ).to_numpy()


def supporter_issues(
    resident_ids: np.ndarray,
    consent_share: np.ndarray,
    supporters: pd.DataFrame,
    links: pd.DataFrame,
    at_risk: np.ndarray,
    max_load: int,
    located: np.ndarray | None = None,
) -> tuple[np.ndarray, list[list[Said]]]:
    """(supporter count, issues) per resident. ``supporters`` has id, relation, consent, load (how
    many residents the supporter helps: all of them, or those the reader may see);
    ``links`` has resident_id, supporter_id; ``max_load`` from the city profile. Each text says
    what to do about the gap. ``located``: per supporter, whether their home's position is
    known (an unknown one cannot be checked against the hazard zones, which the plan says)."""
    position = {rid: i for i, rid in enumerate(resident_ids)}
    supporter_row = {sid: i for i, sid in enumerate(supporters["id"])}
    load = dict(zip(supporters["id"].tolist(), supporters["load"].tolist(), strict=True))
    counts = np.zeros(len(resident_ids), dtype=int)
    issues: list[list[Said]] = [[] for _ in resident_ids]
    relation = supporters["relation"].fillna("支援者").to_numpy()
    consent = supporters["consent"].to_numpy()
    for resident_id, supporter_id in zip(links["resident_id"], links["supporter_id"], strict=True):
        i = position.get(resident_id)
        if i is None:
            continue
        counts[i] += 1
        row = supporter_row[supporter_id]
        who = str(relation[row])
        if located is not None and not located[row]:
            issues[i].append(reason("SUPPORTER_LOCATION_UNKNOWN", relation=who))
        elif at_risk[row]:
            issues[i].append(reason("SUPPORTER_AT_RISK", relation=who))
        if load[supporter_id] > max_load:
            issues[i].append(reason("SUPPORTER_OVERLOADED", relation=who, load=int(load[supporter_id])))
        if not consent[row]:
            issues[i].append(reason("SUPPORTER_NO_CONSENT", relation=who))
    for k in np.flatnonzero(counts == 0):
        issues[k].insert(0, reason("NO_SUPPORTER"))
    for k in np.flatnonzero(~consent_share.astype(bool)):
        issues[k].append(reason("NO_SHARE_CONSENT"))
    return counts, issues
