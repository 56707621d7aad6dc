"""The マイプラン made with the resident: its fields, statuses, the changes between two versions
and what changed in the data it was issued on (pure: values in, values out).

A record's ``content`` is a ``PlanContent`` as JSON. The leader confirms or overrides what the
assessment suggests; ``destination_code`` None follows the assessment's destination. Changes are
kept as raw values (shelter code, supporter number) and put into words when read
(``describe``), with names as the reader may see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from disaster.wareki import to_wareki


class Status(StrEnum):
    DRAFT = "下書き"
    ISSUED = "本人確認済"
    REVIEW = "要見直し"


MADE_WITH = ("本人・家族", "地域", "福祉専門職")
MadeWith = Literal["本人・家族", "地域", "福祉専門職"]
TRANSPORT_LABELS = {"walk": "歩いて", "car": "車で", "welfare_transport": "福祉タクシー等で"}
TransportMode = Literal["walk", "car", "welfare_transport"]
# 提供先 (49条の15②) a plan may be shared with; anything else is written as "その他：…"
RECIPIENTS = ("支援者", "民生委員", "自主防災組織・自治会", "社会福祉協議会", "消防", "警察")
OTHER_RECIPIENT = "その他："
TEXT_MAX = 400
LIST_MAX = 30


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    relation: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=40)


class PlanContent(BaseModel):
    """The fields of a plan record (every one optional: a 下書き is filled in over visits)."""

    model_config = ConfigDict(extra="forbid")
    destination_code: str | None = Field(default=None, max_length=40,
                                         description="避難先の施設コード（省略時は避難判定の避難先）")
    destination_reason: str | None = Field(default=None, max_length=TEXT_MAX,
                                           description="避難判定と違う避難先にする理由（違うときは必須）")
    transport_mode: TransportMode | None = Field(default=None, description="移動の方法")
    transport_note: str | None = Field(default=None, max_length=TEXT_MAX, description="移動の手配（誰の車で、など）")
    supporter_primary: str | None = Field(default=None, max_length=40, description="主な支援者（支援者番号）")
    supporter_backup: str | None = Field(default=None, max_length=40, description="予備の支援者（支援者番号）")
    contacts: list[Contact] = Field(default_factory=list, max_length=10, description="連絡先（電話する順）")
    info_reception: list[str] = Field(default_factory=list, max_length=LIST_MAX, description="避難情報の受け取り方")
    care_notes: list[str] = Field(default_factory=list, max_length=LIST_MAX, description="配慮事項")
    carry_items: list[str] = Field(default_factory=list, max_length=LIST_MAX, description="持ち出し品")
    notes: str | None = Field(default=None, max_length=2000, description="メモ")
    made_with: list[MadeWith] = Field(default_factory=list, description="誰と作ったか")
    consent_on: dt.date | None = Field(default=None, description="計画作成の同意日")
    recipients: list[str] = Field(default_factory=list, max_length=LIST_MAX,
                                  description=f"提供先（{'・'.join(RECIPIENTS)}、または「{OTHER_RECIPIENT}…」）")
    next_review_on: dt.date | None = Field(default=None, description="次の見直し日")

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


FIELD_LABELS = {
    "destination_code": "避難先", "destination_reason": "避難先の理由", "transport_mode": "移動の方法",
    "transport_note": "移動の手配", "supporter_primary": "主な支援者", "supporter_backup": "予備の支援者",
    "contacts": "連絡先", "info_reception": "避難情報の受け取り方", "care_notes": "配慮事項", "carry_items": "持ち出し品",
    "notes": "メモ", "made_with": "作成に加わった人", "consent_on": "同意日", "recipients": "提供先",
    "next_review_on": "次の見直し日", "status": "状態",
}
EMPTY = "（なし）"


def walking_problem(mode: str | None, distance_m: float | None, limit_m: float) -> str | None:
    """Why the person cannot walk there (None: walking is not planned, or is within their limit)."""
    if mode != "walk" or distance_m is None:
        return None
    if limit_m <= 0:
        return "この方に歩いての避難はお願いできません。車・福祉タクシー等を選び、移動の手配を書いてください。"
    if distance_m > limit_m:
        return (f"避難先まで約{distance_m / 1000:.1f}kmあり、この方が歩ける上限（約{limit_m / 1000:.1f}km）を超えます。"
                "車・福祉タクシー等を選ぶか、近い避難先にしてください。")
    return None


def rejected_reasons(content: PlanContent, *, assessed_code: str | None, supporters: set[str],
                     consent_share: bool, destination_problem: str | None, walking: str | None = None) -> list[str]:
    """Why ``content`` cannot be saved for this resident (empty: it can), one sentence per field.
    ``destination_problem``: why the chosen destination fails the safety rules (None: it passes);
    ``walking``: why the person cannot walk to it (``walking_problem``)."""
    problems = []
    if destination_problem:
        problems.append(f"避難先: {destination_problem}")
    if walking:
        problems.append(f"{FIELD_LABELS['transport_mode']}: {walking}")
    overridden = content.destination_code is not None and content.destination_code != assessed_code
    if overridden and not (content.destination_reason or "").strip():
        problems.append("避難先の理由: 避難判定と違う避難先にするときは、理由を書いてください。")
    for key in ("supporter_primary", "supporter_backup"):
        value = getattr(content, key)
        if value is not None and value not in supporters:
            problems.append(f"{FIELD_LABELS[key]}: この方の支援者として登録された人から選んでください。")
    if content.supporter_primary and content.supporter_primary == content.supporter_backup:
        problems.append("予備の支援者: 主な支援者とは別の人を選んでください。")
    odd = [r for r in content.recipients if r not in RECIPIENTS and not (r.startswith(OTHER_RECIPIENT) and len(r) > 3)]
    if odd:
        problems.append(f"提供先: 「{'」「'.join(odd)}」は選べません（{'・'.join(RECIPIENTS)}、または「{OTHER_RECIPIENT}…」）。")
    if content.recipients and not consent_share:
        problems.append("提供先: 情報提供の同意がない方の計画は、ふだんから渡すことはできません（災害対策基本法 第49条の15第2項）。")
    if content.next_review_on is not None and content.consent_on is not None and content.next_review_on < content.consent_on:
        problems.append("次の見直し日: 同意日より後の日にしてください。")
    return problems


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any

    def stored(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The fields whose values differ, in the order of ``FIELD_LABELS``."""
    return [Change(key, before.get(key), after.get(key)) for key in FIELD_LABELS
            if _norm(before.get(key)) != _norm(after.get(key))]


def _norm(value: Any) -> Any:
    return None if value in ("", [], None) else value


Namer = Callable[[str, Any], str | None]  # (field, raw value) -> display name, None: as is


def show(field: str, value: Any, name: Namer) -> str:
    """A value as a person reads it: names for codes, 和暦 for dates, lists joined by 、."""
    if _norm(value) is None:
        return EMPTY
    if field == "contacts":
        return "、".join(f"{c['name']}（{c.get('relation') or '続柄不明'}）{c.get('phone') or ''}" for c in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field in ("consent_on", "next_review_on"):
        return to_wareki(dt.date.fromisoformat(value))
    if field == "transport_mode":
        return TRANSPORT_LABELS.get(value, str(value))
    return name(field, value) or str(value)


def describe(change: Change | dict[str, Any], name: Namer) -> str:
    """「避難先: 〇〇小学校 → △△公民館」."""
    c = change if isinstance(change, Change) else Change(change["field"], change["before"], change["after"])
    label = FIELD_LABELS.get(c.field, c.field)
    return f"{label}: {show(c.field, c.before, name)} → {show(c.field, c.after, name)}"


# --- the data a plan was issued on ---

FINGERPRINT_LABELS = {
    "home": {"flood_l1_rank": "洪水（計画規模）の浸水深ランク", "flood_l2_rank": "洪水（想定最大規模）の浸水深ランク",
             "duration_rank": "浸水継続時間ランク", "collapse": "家屋倒壊等氾濫想定区域", "inland_rank": "内水の浸水深ランク",
             "landslide_class": "土砂災害警戒区域の区分"},
    "shelter": {"name": "名前", "flood": "洪水の指定", "inland_flood": "内水氾濫の指定", "landslide": "土砂災害の指定",
                "designated": "指定避難所", "welfare": "福祉避難所", "usable_floors": "使える階", "depth": "浸水深ランク",
                "zone": "危険な区域", "location": "位置"},
    "resident": {"address": "住所", "location": "家の位置", "mobility": "移動", "care_level": "要介護度",
                 "medical_devices": "医療機器", "floors": "住まいの階", "stairs": "階段", "consent_plan": "計画作成の同意",
                 "consent_share": "情報提供の同意", "supporters": "登録された支援者", "agreements": "福祉避難所の受け入れの約束"},
    "assessment": {"decision": "避難のしかた", "destination": "避難先", "second": "第2の避難先", "welfare": "福祉避難所",
                   "travel_mode": "移動の方法", "start_trigger": "出発の目安"},
}
PART_LABELS = {"home": "自宅の危険", "shelter": "避難先の施設", "resident": "本人の情報", "assessment": "避難判定"}


def _word(value: Any) -> str:
    if value is True:
        return "あり"
    if value is False:
        return "なし"
    if _norm(value) is None or value == 0:
        return EMPTY
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def what_changed(issued: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the fingerprint a plan was issued on and today's, in words:
    「避難先の施設（〇〇小学校）: 洪水の指定 あり → なし」."""
    lines = []
    for part, labels in FINGERPRINT_LABELS.items():
        before, after = issued.get(part) or {}, now.get(part) or {}
        where = PART_LABELS[part]
        if part == "shelter" and (before.get("name") or after.get("name")):
            where += f"（{before.get('name') or after.get('name')}）"
        for key, label in labels.items():
            if before.get(key) != after.get(key):
                lines.append(f"{where}: {label} {_word(before.get(key))} → {_word(after.get(key))}")
    return lines
