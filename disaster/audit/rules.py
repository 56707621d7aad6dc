"""Audit rules: codes, labels and who must act (the toolkit's fault or a to-do for the leader)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TOOLKIT = "toolkit"  # the toolkit produced something unsafe or wrong: do not hand the plan out
    DATA = "data"  # data is missing or the situation needs a person to act: a to-do for the leader


KIND_LABELS = {Kind.TOOLKIT: "ツールの不具合", Kind.DATA: "データ・対応の不足"}

# What to do about a toolkit violation (the same for every rule): the plan must not be handed out.
TOOLKIT_ACTION = "この計画は配らないでください。ツールの不具合として開発担当に報告し、修正後に判定をやり直してください。"


class Rule(StrEnum):
    DEST_UNSAFE = "DEST_UNSAFE"
    DEST_FLOOR = "DEST_FLOOR"
    SECOND_UNSAFE = "SECOND_UNSAFE"
    WELFARE_UNSAFE = "WELFARE_UNSAFE"
    OWN_CHOICE_UNSAFE = "OWN_CHOICE_UNSAFE"
    STAY_UNSAFE = "STAY_UNSAFE"
    NO_DESTINATION = "NO_DESTINATION"
    ACCESS = "ACCESS"
    ROUTE = "ROUTE"
    WALK_TOO_FAR = "WALK_TOO_FAR"
    WALK_TOO_LONG = "WALK_TOO_LONG"
    TRAVEL_MODE = "TRAVEL_MODE"
    TRAVEL_TIME = "TRAVEL_TIME"
    START_TRIGGER = "START_TRIGGER"
    NEGATIVE_MARGIN = "NEGATIVE_MARGIN"
    NOT_WORKABLE = "NOT_WORKABLE"
    WELFARE_DIRECT = "WELFARE_DIRECT"
    WELFARE_UNPLACED = "WELFARE_UNPLACED"
    WELFARE_CAPACITY = "WELFARE_CAPACITY"
    TIMELINE_DONE = "TIMELINE_DONE"
    TIMELINE_FLOOR = "TIMELINE_FLOOR"
    TIMELINE_HIGH_PLACE = "TIMELINE_HIGH_PLACE"
    TIMELINE_START = "TIMELINE_START"
    TIMELINE_UNDER_WATER = "TIMELINE_UNDER_WATER"
    TEXT_WALK = "TEXT_WALK"
    TEXT_NEGATIVE = "TEXT_NEGATIVE"
    TEXT_DIRECT = "TEXT_DIRECT"
    WARNING_HIDDEN = "WARNING_HIDDEN"
    PLAN_MISSING = "PLAN_MISSING"
    CONSENT_GATE = "CONSENT_GATE"
    NO_PLAN_CONSENT = "NO_PLAN_CONSENT"
    RESIDENT_FIELDS = "RESIDENT_FIELDS"
    NO_SUPPORTER = "NO_SUPPORTER"
    SUPPORTER_FIELDS = "SUPPORTER_FIELDS"
    SUPPORTER_ISSUE = "SUPPORTER_ISSUE"
    NO_EMERGENCY_CONTACT = "NO_EMERGENCY_CONTACT"
    NO_INFO_RECEPTION = "NO_INFO_RECEPTION"
    MEDICAL_CONTACTS = "MEDICAL_CONTACTS"


RULE_LABELS: dict[Rule, str] = {
    Rule.DEST_UNSAFE: "避難先が大雨のときに安全でない",
    Rule.DEST_FLOOR: "浸水する避難先で使う階が足りない・書かれていない",
    Rule.SECOND_UNSAFE: "第2の避難先が安全でない",
    Rule.WELFARE_UNSAFE: "予定の福祉避難所が安全でない",
    Rule.OWN_CHOICE_UNSAFE: "本人が希望する避難先が危険（見直しの相談）",
    Rule.STAY_UNSAFE: "自宅にとどまる判定が危険",
    Rule.NO_DESTINATION: "立退き避難なのに避難先がない",
    Rule.ACCESS: "車いす・電源の必要な方の避難先の設備が未確認",
    Rule.ROUTE: "地図の経路が自宅から避難先になっていない",
    Rule.WALK_TOO_FAR: "歩ける距離を超えて歩かせている",
    Rule.WALK_TOO_LONG: "歩く時間が長すぎる",
    Rule.TRAVEL_MODE: "移動手段が決まっていない",
    Rule.TRAVEL_TIME: "移動・支度の時間が短すぎる",
    Rule.START_TRIGGER: "出発の目安が決まっていない",
    Rule.NEGATIVE_MARGIN: "時間が足りないのに警戒レベル3で出発",
    Rule.NOT_WORKABLE: "計画が成り立たない（地域・市の対応が必要）",
    Rule.WELFARE_DIRECT: "協定のない福祉避難所への直接避難",
    Rule.WELFARE_UNPLACED: "福祉避難所の受け入れ先がない",
    Rule.WELFARE_CAPACITY: "福祉避難所の受け入れ枠を超えている",
    Rule.TIMELINE_DONE: "とどまる人に「避難を終えている」",
    Rule.TIMELINE_FLOOR: "行けない階・ない階を案内している",
    Rule.TIMELINE_HIGH_PLACE: "階段を使えない人に「高い所へ」",
    Rule.TIMELINE_START: "出発の目安とタイムラインが食い違う",
    Rule.TIMELINE_UNDER_WATER: "水につかる階にとどまるよう案内している",
    Rule.TEXT_WALK: "歩かない人に「歩いて」",
    Rule.TEXT_NEGATIVE: "マイナスの時間を表示している",
    Rule.TEXT_DIRECT: "条件なしに「直接避難できます」",
    Rule.WARNING_HIDDEN: "判定の注意（支援者・避難先の危険）が計画に載っていない",
    Rule.PLAN_MISSING: "判定結果・計画の内容がない",
    Rule.CONSENT_GATE: "計画作成の同意がないのに下書きになっていない",
    Rule.NO_PLAN_CONSENT: "計画作成の同意がない",
    Rule.RESIDENT_FIELDS: "本人の住所・連絡先がない",
    Rule.NO_SUPPORTER: "避難支援等実施者がいない",
    Rule.SUPPORTER_FIELDS: "支援者の氏名・住所・電話がない",
    Rule.SUPPORTER_ISSUE: "支援者についての注意（判定の指摘）",
    Rule.NO_EMERGENCY_CONTACT: "緊急連絡先がない",
    Rule.NO_INFO_RECEPTION: "避難情報の受け取り方が決まっていない",
    Rule.MEDICAL_CONTACTS: "医療機器の主治医・業者の連絡先がない",
}


@dataclass(frozen=True)
class Violation:
    """One finding about one resident's assessment or plan."""

    resident_no: str
    district: str | None
    rule: Rule
    kind: Kind
    message: str  # what is wrong, in Japanese
    action: str  # what to do, in Japanese

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rule"] = self.rule.value
        out["kind"] = self.kind.value
        return out


def toolkit(resident_no: str, district: str | None, rule: Rule, message: str) -> Violation:
    return Violation(resident_no, district, rule, Kind.TOOLKIT, message, TOOLKIT_ACTION)


def todo(resident_no: str, district: str | None, rule: Rule, message: str, action: str) -> Violation:
    return Violation(resident_no, district, rule, Kind.DATA, message, action)
