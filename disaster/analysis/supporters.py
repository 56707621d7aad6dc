"""Supporter gaps: nobody to help, helpers who must flee themselves, helpers with too many people."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.reason_rows import per_row, reason_lists, same
from disaster.analysis.reasons import reason


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
) -> tuple[np.ndarray, np.ndarray]:
    """(supporter count, issues: lists as ``reason_lists`` gives them) per resident.
    ``supporters`` has id, relation, consent, load (how many residents the supporter helps: all
    of them, or those the reader may see); ``links`` has resident_id, supporter_id; ``max_load``
    from the city profile. Each text says what to do about the gap. ``located``: per supporter,
    whether their home's position is known (an unknown one cannot be checked against the hazard
    zones, which the plan says)."""
    n = len(resident_ids)
    person = pd.Index(resident_ids).get_indexer(links["resident_id"])  # -1: a resident not assessed now
    kept = person >= 0
    person = person[kept]
    row = pd.Index(supporters["id"]).get_indexer(links["supporter_id"].to_numpy()[kept])
    if (row < 0).any():
        raise KeyError("a link names a supporter that is not among the supporters")
    load = supporters["load"].to_numpy(dtype=int)[row]  # everyone the link's supporter helps, assessed now or not
    who = supporters["relation"].fillna("支援者").to_numpy(dtype=object)[row]
    unknown = np.zeros(len(row), dtype=bool) if located is None else ~np.asarray(located, dtype=bool)[row]
    risk = ~unknown & np.asarray(at_risk, dtype=bool)[row]
    over = load > max_load
    no_consent = ~supporters["consent"].to_numpy().astype(bool)[row]
    # per link, in this order: where the supporter lives, their load, their consent
    said = np.empty((len(row), 3), dtype=object)
    said[unknown, 0] = per_row(lambda w: reason("SUPPORTER_LOCATION_UNKNOWN", relation=w), who[unknown])
    said[risk, 0] = per_row(lambda w: reason("SUPPORTER_AT_RISK", relation=w), who[risk])
    said[over, 1] = per_row(lambda w, k: reason("SUPPORTER_OVERLOADED", relation=w, load=k), who[over], load[over])
    said[no_consent, 2] = per_row(lambda w: reason("SUPPORTER_NO_CONSENT", relation=w), who[no_consent])
    link, item = np.nonzero(np.column_stack([unknown | risk, over, no_consent]))  # link by link
    counts = np.bincount(person, minlength=n)
    alone = np.flatnonzero(counts == 0)
    unshared = np.flatnonzero(~np.asarray(consent_share).astype(bool))
    issues = reason_lists(n, [
        (alone, same(reason("NO_SUPPORTER"), len(alone))),
        (person[link], said[link, item]),
        (unshared, same(reason("NO_SHARE_CONSENT"), len(unshared))),
    ])
    return counts, issues
