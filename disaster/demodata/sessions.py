"""Fictional past 図上訓練 records (the baseline 年度 and the years before and after it). The
baseline year's total equals the city plan's baseline (the demo city's profile,
``[exercise.participants]``); how it splits across 校区 and dates is invented."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from disaster.profile import ParticipantTarget

ROLE_SHARES = {"自治会": 0.25, "民生委員": 0.15, "消防団": 0.08, "住民": 0.35, "福祉専門職": 0.07, "学生": 0.04,
               "行政": 0.04, "その他": 0.02}
HAZARDS = ("洪水", "内水", "土砂災害", "地震")
COLUMNS = ("実施日", "校区", "災害", "進行役", *ROLE_SHARES, "総合評価", "理解度", "役立ち度", "よかった点", "改善点")


def generate_sessions(districts: list[str], rng: np.random.Generator, goal: ParticipantTarget) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for year in (goal.baseline_year - 1, goal.baseline_year, goal.baseline_year + 1):
        chosen = sorted(rng.choice(len(districts), size=30, replace=False))
        sizes = rng.integers(18, 48, len(chosen)).astype(float)
        if year == goal.baseline_year:  # match the plan's baseline figure exactly
            sizes = np.floor(sizes / sizes.sum() * goal.baseline)
            sizes[: int(goal.baseline - sizes.sum())] += 1
        for index, size in zip(chosen, sizes.astype(int), strict=True):
            day = dt.date(year, 4, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
            counts = {role: int(share * size) for role, share in ROLE_SHARES.items()}
            counts["住民"] += int(size) - sum(counts.values())
            rows.append({
                "実施日": day.isoformat(), "校区": districts[index], "災害": HAZARDS[int(rng.integers(len(HAZARDS)))],
                "進行役": f"デモ進行役{'ABCDE'[int(rng.integers(5))]}", **counts,
                "総合評価": int(rng.integers(3, 6)), "理解度": int(rng.integers(3, 6)), "役立ち度": int(rng.integers(3, 6)),
                "よかった点": "地図で危ない場所が分かった", "改善点": "夜間の想定も話し合いたい",
            })
    return sorted(rows, key=lambda r: (r["実施日"], r["校区"]))
