"""Who sees what on a map — decided here and nowhere else.

- ``public``: no personal data at all; per-district counts only, numbers 1–4 shown as "5未満".
- ``leader``: one 校区; only residents who consented to sharing their 名簿 data before a
  disaster (災害対策基本法 49条の11②); supporters' names only where the supporter consented.
- ``city``: everything (city staff, 地域福祉課).
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd

SMALL_NUMBER = 5


class View(StrEnum):
    PUBLIC = "public"
    LEADER = "leader"
    CITY = "city"


VIEW_LABELS = {View.PUBLIC: "公開用（個人情報なし）", View.LEADER: "校区リーダー用（同意者のみ）", View.CITY: "市職員用"}


def visible_residents(view: View, residents: pd.DataFrame, district: str | None) -> pd.DataFrame:
    """The residents a map of ``view`` may draw (columns: district, consent_share, …)."""
    if view == View.PUBLIC:
        return residents.iloc[0:0]
    if view == View.LEADER:
        if district is None:
            raise ValueError("校区リーダー用の地図は 1 つの校区についてだけ作れます（--district を指定）。")
        return residents[(residents["district"] == district) & residents["consent_share"].astype(bool)]
    return residents if district is None else residents[residents["district"] == district]


def shows_names(view: View) -> bool:
    return view in (View.LEADER, View.CITY)


def supporter_label(view: View, name: str | None, relation: str | None, consent: bool) -> str:
    """How a supporter appears in a resident's popup."""
    if view == View.CITY or (view == View.LEADER and consent):
        return f"{name}（{relation or '支援者'}）"
    return f"{relation or '支援者'}（氏名は同意確認後に表示）"


def count_label(view: View, n: int) -> str:
    """Counts on public maps suppress small numbers so nobody can be singled out."""
    if view == View.PUBLIC and 0 < n < SMALL_NUMBER:
        return f"{SMALL_NUMBER}未満"
    return str(n)
