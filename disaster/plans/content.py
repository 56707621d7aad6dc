"""Plain-Japanese plan content derived from the 名簿 fields and the assessment (pure)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from disaster.analysis.decision import DECISION_LABELS, Decision
from disaster.codes import DURATION_RANKS, LANDSLIDE_CLASSES, LANDSLIDE_KINDS, LANDSLIDE_RED_CLASSES
from disaster.settings import PROJECT_ROOT

REFERENCE = PROJECT_ROOT / "data" / "reference"
DEPTH_WORDS = {1: "0.5m未満", 2: "0.5〜3m", 3: "3〜5m", 4: "5〜10m", 5: "10〜20m", 6: "20m以上"}


@lru_cache
def warning_levels() -> list[dict[str, Any]]:
    """警戒レベル rows from ``data/reference/warning_levels.toml`` (JMA renames warnings in 2026)."""
    data = tomllib.loads((REFERENCE / "warning_levels.toml").read_text(encoding="utf-8"))
    return list(data["level"])


@lru_cache
def city_contacts() -> list[dict[str, str]]:
    data = tomllib.loads((REFERENCE / "city_contacts.toml").read_text(encoding="utf-8"))
    return list(data["contact"])


@dataclass(frozen=True)
class Exposure:
    flood_l1_rank: int | None
    flood_l2_rank: int | None
    duration_rank: int | None
    collapse_flow: bool
    collapse_erosion: bool
    inland_rank: int | None
    landslide_kind: int | None
    landslide_class: int | None


def hazard_sentences(e: Exposure) -> list[str]:
    """What can happen at home, in words an 80-year-old reads at a glance."""
    lines = []
    if e.flood_l2_rank:
        text = f"ご自宅は洪水のとき {DEPTH_WORDS[e.flood_l2_rank]} 浸かるおそれがあります（想定最大規模、浸水深ランク{e.flood_l2_rank}）。"
        if e.flood_l1_rank:
            text += f"よくある規模の大雨（計画規模）でも {DEPTH_WORDS[e.flood_l1_rank]} 浸かるおそれがあります。"
        lines.append(text)
    if e.duration_rank:
        lines.append(f"水が引くまで {DURATION_RANKS[e.duration_rank]} かかるおそれがあります（浸水継続時間ランク{e.duration_rank}）。")
    if e.collapse_flow:
        lines.append("堤防が切れると、家が流されるおそれのある区域です（家屋倒壊等氾濫想定区域・氾濫流）。")
    if e.collapse_erosion:
        lines.append("川岸が削られて、家が倒れるおそれのある区域です（家屋倒壊等氾濫想定区域・河岸侵食）。")
    if e.inland_rank:
        lines.append(f"大雨で水路や側溝があふれると（内水）、{DEPTH_WORDS[e.inland_rank]} 浸かるおそれがあります。")
    if e.landslide_class:
        kind = LANDSLIDE_KINDS.get(e.landslide_kind or 0, "土砂災害")
        zone = LANDSLIDE_CLASSES[e.landslide_class]
        danger = "建物が壊れるおそれがあります。" if e.landslide_class in LANDSLIDE_RED_CLASSES else "土砂が流れ込むおそれがあります。"
        lines.append(f"ご自宅は{zone}（{kind}）にあり、{danger}")
    if not lines:
        lines.append("ご自宅は、洪水・内水・土砂災害の想定区域の外です。地震や想定を超える大雨には備えてください。")
    return lines


def decision_label(code: str) -> str:
    return DECISION_LABELS[Decision(code)]


def timeline(decision: str, destination: str | None, floor: int | None, prepare: float | None,
             travel: float | None) -> list[dict[str, Any]]:
    """マイ・タイムライン: what the person and the supporters do at each 警戒レベル."""
    where = destination or "決めた避難先"
    timing = f"（支度{round(prepare)}分・移動{round(travel)}分）" if prepare is not None and travel is not None else ""
    level3 = {
        Decision.LEAVE.value: f"避難を始める{timing}。支援者と{where}へ。",
        Decision.STAY_UPSTAIRS.value: f"{floor or 2}階へ移り、水・食料・薬・トイレを上の階へ運ぶ。不安なときは{where}へ避難する。",
        Decision.STAY.value: "周りの様子とテレビ・ラジオの情報を確かめ、支援者と連絡を取り合う。",
    }[decision]
    person = {
        1: "天気予報と川の情報を確かめる。持ち出し品と薬をそろえる。",
        2: "避難先と道順を確かめる。支援者に連絡する。",
        3: level3,
        4: "この段階までに避難を終えている。まだなら、すぐに避難する。",
        5: "命を守る行動をとる（近くの高い建物や、家の高い所へ）。",
    }
    supporter = {
        1: "連絡の方法を確かめる。",
        2: "本人に声をかけ、避難の段取りを確かめる。",
        3: "自分と家族の安全を確かめたうえで、本人の避難を手伝う。",
        4: "自分も避難する。本人が避難したか確かめ、できないときは市や消防に伝える。",
        5: "自分の命を守ることを優先する。",
    }
    return [
        {**level, "person": person[level["level"]], "supporter": supporter[level["level"]]}
        for level in warning_levels()
    ]


def checklist(devices: list[str], communication: list[str], care_level: str | None, mobility: str | None,
              disability: list[str], age: int | None) -> list[str]:
    """持ち出し品, tailored to the person's needs."""
    items = ["お薬手帳・薬（1週間分）", "飲み水・食べ物（3日分）", "懐中電灯・携帯ラジオ", "携帯電話と充電器",
             "保険証・身分証のコピー", "現金（小銭も）", "着替え・タオル・マスク", "メガネ"]
    if age is not None and age >= 75:
        items.append("入れ歯とケース")
    if care_level:
        items += ["介護保険証", "おむつ・尿とりパッド"]
    if disability:
        items.append("障害者手帳")
    if mobility in ("杖・歩行器", "車いす"):
        items.append("杖・歩行器・車いす")
    device_items = {
        "在宅酸素": "酸素ボンベ・予備の酸素",
        "人工呼吸器": "人工呼吸器の予備バッテリー・外部電源",
        "たん吸引器": "吸引器・吸引カテーテル・バッテリー",
        "人工透析": "透析手帳・透析施設の連絡先",
        "経管栄養": "栄養剤・チューブ類",
    }
    items += [device_items[d] for d in devices if d in device_items]
    if any(n.startswith("聴覚") for n in communication):
        items.append("補聴器と予備の電池・筆談用具")
    if any(n.startswith("視覚") for n in communication):
        items.append("白杖")
    return items


def care_notes(devices: list[str], communication: list[str], care_level: str | None, mobility: str | None,
               other: str | None) -> list[str]:
    """配慮事項: 介助, 服薬, 医療機器と電源, 意思疎通."""
    notes = []
    if mobility in ("車いす", "寝たきり"):
        notes.append(f"移動: {mobility}。段差のない道・避難先が必要です。移動は2人以上で。")
    elif mobility == "杖・歩行器":
        notes.append("移動: 杖・歩行器を使います。ゆっくり歩くため、早めに出発します。")
    if care_level:
        notes.append(f"介助: {care_level}。トイレ・着替え・食事の介助が必要なことがあります。")
    power = [d for d in devices if d in ("人工呼吸器", "在宅酸素", "たん吸引器", "電動ベッド")]
    if power:
        notes.append(f"医療機器と電源: {'、'.join(power)}。停電に備え、予備バッテリーと非常用電源のある避難先を確認します。")
    if "人工透析" in devices:
        notes.append("服薬・治療: 人工透析。透析の日程と受けられる施設を事前に確認します。")
    for need in communication:
        notes.append(f"意思疎通: {need}。")
    if other:
        notes.append(f"その他: {other}")
    return notes
