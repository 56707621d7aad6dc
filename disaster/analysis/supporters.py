"""Supporter gaps: nobody to help, helpers who must flee themselves, helpers with too many people."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.analysis.reasons import Reason, reason


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
) -> tuple[np.ndarray, list[list[Reason]]]:
    """(supporter count, issues) per resident. ``supporters`` has id, relation, consent;
    ``links`` has resident_id, supporter_id; ``max_load`` from the city profile. Each text says
    what to do about the gap. ``located``: per supporter, whether their home's position is
    known (an unknown one cannot be checked against the hazard zones, which the plan says)."""
    position = {rid: i for i, rid in enumerate(resident_ids)}
    supporter_row = {sid: i for i, sid in enumerate(supporters["id"])}
    load = links.groupby("supporter_id").size().to_dict()
    counts = np.zeros(len(resident_ids), dtype=int)
    issues: list[list[Reason]] = [[] for _ in resident_ids]
    relation = supporters["relation"].fillna("支援者").to_numpy()
    consent = supporters["consent"].to_numpy()
    for resident_id, supporter_id in zip(links["resident_id"], links["supporter_id"], strict=True):
        i = position.get(resident_id)
        if i is None:
            continue
        counts[i] += 1
        row = supporter_row[supporter_id]
        who = f"支援者（{relation[row]}）"
        if located is not None and not located[row]:
            issues[i].append(reason("SUPPORTER_LOCATION_UNKNOWN", f"{who}の自宅の位置が登録されていないため、支援者ご自身が避難の必要な場所に住んでいないか確かめられません。支援者の住所（または緯度・経度）を名簿に登録してください。"))
        elif at_risk[row]:
            issues[i].append(reason("SUPPORTER_AT_RISK", f"{who}の自宅も危険な区域にあり、ご自身の避難で手が回らないおそれがあります。区域の外に住む2人目の支援者を探しましょう。"))
        if load[supporter_id] > max_load:
            issues[i].append(reason("SUPPORTER_OVERLOADED", f"{who}は{load[supporter_id]}人の支援を担当していて、災害時に全員を手伝えないおそれがあります。地域で話し合い、支援者を増やすか担当を分けましょう。"))
        if not consent[row]:
            issues[i].append(reason("SUPPORTER_NO_CONSENT", f"{who}の同意（名簿情報の受け取り）が確認できていません。支援者に役割を説明し、同意書をいただきましょう。"))
    for k in np.flatnonzero(counts == 0):
        issues[k].insert(0, reason("NO_SUPPORTER", "避難を手伝う支援者が決まっていません。家族・近所の方・民生委員などと相談して、支援者を決めましょう。"))
    for k in np.flatnonzero(~consent_share.astype(bool)):
        issues[k].append(reason("NO_SHARE_CONSENT", "名簿情報の提供に同意がないため、災害の前に支援者へ情報を渡せません（災害時は同意なしで提供できます）。ご本人に説明し、同意をいただけるか確かめましょう。"))
    return counts, issues
