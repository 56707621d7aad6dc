"""Plain-Japanese plan content derived from the 名簿 fields and the assessment (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from disaster.analysis.decision import DECISION_LABELS, Decision
from disaster.codes import DURATION_RANKS, LANDSLIDE_CLASSES, LANDSLIDE_KINDS, LANDSLIDE_RED_CLASSES

DEPTH_WORDS = {1: "0.5m未満", 2: "0.5〜3m", 3: "3〜5m", 4: "5〜10m", 5: "10〜20m", 6: "20m以上"}


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


TERMS = {
    "浸水継続時間": "しんすいけいぞくじかん：水につかったままになる時間",
    "家屋倒壊等氾濫想定区域": "かおくとうかいとうはんらんそうていくいき：家が流されたり倒れたりするおそれのある区域",
    "屋内安全確保": "おくないあんぜんかくほ：家を出ずに、家の中の水が来ない安全な所にとどまること",
    "立退き避難": "たちのきひなん：家を出て安全な場所へ移ること",
}


def hazard_sentences(e: Exposure) -> list[dict[str, str]]:
    """What can happen at home in plain words (``text``) with the official rank as small print
    (``official``) and, for hard terms, a reading and one-line explanation (``term``)."""
    lines: list[dict[str, str]] = []

    def add(text: str, official: str = "", term: str = "") -> None:
        explained = any(line["term"] == term for line in lines)  # a term is explained once
        lines.append({"text": text, "official": official, "term": term, "explain": "" if explained else TERMS.get(term, "")})

    if e.flood_l2_rank:
        text = f"川があふれると、ご自宅は {DEPTH_WORDS[e.flood_l2_rank]} 水につかるおそれがあります。"
        official = f"洪水 想定最大規模 浸水深ランク{e.flood_l2_rank}"
        if e.flood_l1_rank:
            text += f"よくある規模の大雨でも {DEPTH_WORDS[e.flood_l1_rank]} つかるおそれがあります。"
            official += f"・計画規模 ランク{e.flood_l1_rank}"
        add(text, official)
    if e.duration_rank:
        add(f"水が引くまで {DURATION_RANKS[e.duration_rank]} かかるおそれがあります。",
            f"浸水継続時間ランク{e.duration_rank}", "浸水継続時間")
    if e.collapse_flow:
        add("堤防が切れると、家が流されるおそれのある区域です。", "家屋倒壊等氾濫想定区域（氾濫流）", "家屋倒壊等氾濫想定区域")
    if e.collapse_erosion:
        add("川岸が削られて、家が倒れるおそれのある区域です。", "家屋倒壊等氾濫想定区域（河岸侵食）", "家屋倒壊等氾濫想定区域")
    if e.inland_rank:
        add(f"大雨で水路や側溝があふれると、{DEPTH_WORDS[e.inland_rank]} 水につかるおそれがあります。",
            f"内水 浸水深ランク{e.inland_rank}")
    if e.landslide_class:
        kind = LANDSLIDE_KINDS.get(e.landslide_kind or 0, "土砂災害")
        zone = LANDSLIDE_CLASSES[e.landslide_class]
        danger = "がけ崩れや土石流で建物が壊れるおそれがあります。" if e.landslide_class in LANDSLIDE_RED_CLASSES \
            else "がけ崩れや土石流で土砂が流れ込むおそれがあります。"
        add(f"ご自宅は土砂災害の危険な区域にあり、{danger}", f"{zone}（{kind}）")
    if not lines:
        add("ご自宅は、洪水・内水・土砂災害の想定区域の外です。地震や想定を超える大雨には備えてください。")
    return lines


def home_hazard_keys(e: Exposure) -> tuple[str, ...]:
    """Hazard keys of the warning reference (rain / landslide / river) present at home."""
    keys = []
    if e.inland_rank:
        keys.append("rain")
    if e.landslide_class:
        keys.append("landslide")
    if e.flood_l1_rank or e.flood_l2_rank or e.collapse_flow or e.collapse_erosion:
        keys.append("river")
    return tuple(keys)


def decision_text(code: str, stay_floor: int | None, in_flat: bool, can_go_up: bool) -> dict[str, str]:
    """The decision in plain words, with the official term as small print and its explanation."""
    if code == Decision.LEAVE.value:
        return {"label": "大雨のときは、家を出て安全な場所へ避難します。", "official": "立退き避難",
                "explain": TERMS["立退き避難"]}
    if code == Decision.STAY_UPSTAIRS.value:
        floor = stay_floor or 1
        if in_flat:
            where = f"自宅（{floor}階）"
        elif can_go_up and floor >= 2:
            where = f"自宅の{floor}階"
        else:
            where = f"自宅（{floor}階）"
        return {"label": f"大雨のとき、{where}にとどまることもできます。", "official": "屋内安全確保",
                "explain": TERMS["屋内安全確保"]}
    return {"label": "ご自宅は想定区域の外です。自宅で過ごすこともできます。", "official": DECISION_LABELS[Decision.STAY],
            "explain": ""}


SUPPORTER_ACTIONS = {
    "NO_SUPPORTER": "民生委員・自治会と相談して、近くに住む支援者を決めてください。",
    "SUPPORTER_AT_RISK": "危険な区域の外に住む2人目の支援者を決めるか、支援者と一緒に早めに避難してください。",
    "SUPPORTER_OVERLOADED": "支援者1人に頼りすぎないよう、もう1人支援者を決めてください（民生委員・自治会に相談）。",
    "SUPPORTER_NO_CONSENT": "支援者に、名簿情報を受け取ることへの同意をもらってください（市へ届け出）。",
    "NO_SHARE_CONSENT": "同意いただける場合は、「9. 同意と署名」に記入してください。",
}


def supporter_warnings(issues: list[dict[str, Any]]) -> list[dict[str, str | None]]:
    """Supporter issues of the assessment in plain words with what to do (one item per kind)."""
    grouped: dict[str, list[str]] = {}
    for issue in issues:
        texts = grouped.setdefault(issue["code"], [])
        if issue["text"] not in texts:
            texts.append(issue["text"])
    warnings = []
    for code, texts in grouped.items():
        text = _merge_who(texts)
        # the engine's text may already say what to do; then it is not repeated
        action = None if "ください" in text else SUPPORTER_ACTIONS.get(code, "民生委員・市に相談してください。")
        warnings.append({"text": text, "action": action})
    return warnings


WHO = re.compile(r"^支援者（(?P<who>[^）]+)）(?P<rest>.*)$")


def _merge_who(texts: list[str]) -> str:
    """"支援者（A）の自宅も…" and "支援者（B）の自宅も…" -> "支援者（A・B）の自宅も…"."""
    matches = [WHO.match(t) for t in texts]
    if len(texts) > 1 and all(matches) and len({m["rest"] for m in matches if m}) == 1:
        who = "・".join(dict.fromkeys(m["who"] for m in matches if m))
        return f"支援者（{who}）{matches[0]['rest'] if matches[0] else ''}"
    return " ".join(texts)


POWER_DEVICES = ("人工呼吸器", "在宅酸素", "たん吸引器", "電動ベッド")
# Roles a plan lists for a power-dependent person (取組指針 様式例): the role, how it is found
# in CareProfessional.role, and the advice when it is missing.
MEDICAL_ROLES = (
    ("主治医", ("主治医", "医師", "かかりつけ")),
    ("訪問看護", ("訪問看護", "看護")),
    ("医療機器の業者", ("機器", "業者", "メーカー")),
)


def medical_contacts(devices: list[str], professionals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """主治医 (always) and, for power-dependent devices, 訪問看護 and the device supplier; a missing
    one is flagged (``missing``) and prints as a line to fill in."""
    power = any(d in POWER_DEVICES for d in devices)
    rows = []
    for label, words in MEDICAL_ROLES:
        if label != "主治医" and not power:
            continue
        found = next((p for p in professionals if any(w in (p["role"] or "") for w in words)), None)
        rows.append({"role": label, "person": found, "missing": found is None and power})
    return rows


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
               other: str | None, info_reception: list[str] | None = None) -> list[str]:
    """配慮事項: 介助, 服薬, 医療機器と電源, 意思疎通, and how 避難情報 must reach the person."""
    notes = []
    hearing = any(n.startswith("聴覚") for n in communication)
    seeing = any(n.startswith("視覚") for n in communication)
    if hearing and not info_reception:
        notes.append("避難情報: 防災無線やサイレンは聞こえにくいため、メール・FAX・支援者の訪問で伝えてください。")
    elif seeing and not info_reception:
        notes.append("避難情報: 文字の情報は読みにくいため、電話や支援者の声かけで伝えてください。")
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
