"""Scenario generator: a Master Scenario Events List (MSEL) for one 校区 and hazard.

Timelines follow Kurume's real sequences (2018–2023 floods: rain -> 筑後川 rising at 片ノ瀬 ->
水門閉鎖 -> 内水 -> boat rescue; the 2023 竹野 土石流 under a 大雨特別警報; an earthquake on the
水縄断層帯). People and places come from the district's own data: residents at risk appear
pseudonymised ("Aさん（80代・車いす・独居）") unless the trainer runs a closed session with
consented data. The same inputs and seed give the same scenario.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class ExerciseHazard(StrEnum):
    FLOOD = "flood"  # 洪水（筑後川）
    INLAND = "inland"  # 内水
    LANDSLIDE = "landslide"  # 土砂災害
    EARTHQUAKE = "earthquake"  # 地震（水縄断層帯）


HAZARD_TITLES = {
    ExerciseHazard.FLOOD: "洪水（筑後川の氾濫）",
    ExerciseHazard.INLAND: "内水氾濫（大雨で水路があふれる）",
    ExerciseHazard.LANDSLIDE: "土砂災害（大雨特別警報・土石流）",
    ExerciseHazard.EARTHQUAKE: "地震（水縄断層帯）",
}
INJECT_TYPES = ("情報", "事案", "報道", "住民からの通報")


@dataclass(frozen=True)
class Person:
    """A resident as the scenario may show them."""

    resident_id: int
    label: str  # pseudonym, or name (名簿番号) in a closed session
    descriptor: str  # 80代・車いす・独居
    has_supporter: bool
    power_device: bool


@dataclass(frozen=True)
class DistrictFacts:
    """What the scenario draws on, taken from the district's data."""

    district: str
    area: str | None
    residents: int
    at_risk: list[Person]  # highest priority first
    unsupported: int
    shelters: list[str]
    unusable_shelters: list[str]  # in a disqualifying zone for the hazard
    welfare_shelters: list[str]
    welfare_shortage: int
    landslide_zones: list[str]
    grid: list[str] = field(default_factory=lambda: [f"{c}{r}" for c in "ABCDEF" for r in range(1, 7)])


@dataclass
class Inject:
    number: int
    time: str  # scenario clock, e.g. 19:30
    offset_min: int
    level: int | None  # 警戒レベル (None for earthquakes)
    synopsis: str
    type: str
    delivery: str
    sender: str
    to: str
    message: str
    expected_actions: str
    objective: str
    contingency: bool
    map_ref: str
    evaluator_notes: str
    eased: bool = False
    refs: dict[str, Any] = field(default_factory=dict)  # resident ids and place names used


@dataclass
class Scenario:
    district: str
    hazard: str
    title: str
    start: str
    duration_h: int
    difficulty: int
    seed: int
    closed_session: bool
    groups: list[str]
    injects: list[Inject]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# (offset min, level, type, delivery, sender, to, synopsis, message, expected actions, objective, contingency, map, minimum difficulty)
Step = tuple[int, int | None, str, str, str, str, str, str, str, str, bool, str, int]

TIMELINES: dict[ExerciseHazard, list[Step]] = {
    ExerciseHazard.FLOOD: [
        (0, 2, "情報", "テレビ・防災メール", "気象庁", "全グループ", "大雨・洪水注意報",
         "久留米市に大雨注意報・洪水注意報（レベル2）。夜にかけて線状降水帯が発生するおそれ。",
         "連絡網・持ち出し品・避難先を確認する", "早めの情報収集", False, "{grid0}", 1),
        (40, 3, "情報", "防災行政無線", "久留米市", "全グループ", "高齢者等避難の発令",
         "{district}校区に高齢者等避難（警戒レベル3）を発令。避難に時間のかかる人と支援者は避難を始めてください。",
         "要支援者への声かけと避難支援を始める。{person0}の避難先と移動手段を決める", "レベル3で動き出す", False, "{grid1}", 1),
        (70, 3, "情報", "河川防災情報", "筑後川河川事務所", "情報班", "片ノ瀬観測所 避難判断水位",
         "筑後川 片ノ瀬観測所の水位が避難判断水位に到達。さらに上昇の見込み。",
         "水位の見通しを全体に共有し、避難の前倒しを判断する", "川の情報を行動に結びつける", False, "{grid2}", 1),
        (90, 3, "住民からの通報", "電話", "近所の住民", "要支援者班", "連絡が取れない",
         "{person0}に電話がつながりません。いつもの支援者は自宅の片付けで手が離せないようです。",
         "代わりの支援者を手配し、複数人で訪問する", "支援者が動けないときの代わり", True, "{grid3}", 1),
        (110, 3, "事案", "口頭", "避難所担当", "避難所班", "避難所が使えない",
         "{unusable}は浸水のおそれがあるため開設を見送ります。",
         "避難先を{shelter0}に切り替え、住民・支援者に伝える", "使えない避難所の見極め", False, "{grid4}", 1),
        (150, 4, "情報", "防災行政無線・エリアメール", "久留米市", "全グループ", "避難指示",
         "筑後川が氾濫危険水位に到達。{district}校区に避難指示（警戒レベル4）。",
         "危険な場所から全員避難。まだ自宅にいる要支援者を確認する", "レベル4までに避難を終える", False, "{grid5}", 1),
        (165, 4, "事案", "消防団", "消防団", "情報班", "水門閉鎖と内水",
         "支川の水門を閉鎖。水路があふれ、道路が0.5m以上冠水し始めました。",
         "冠水した道を避ける経路に変え、車での移動を中止する", "内水で道が使えなくなる", False, "{grid6}", 1),
        (180, 4, "報道", "テレビ", "地元テレビ局", "全グループ", "氾濫のおそれの報道",
         "「筑後川 久留米市で氾濫のおそれ」と繰り返し報道。問い合わせの電話が増えています。",
         "正しい情報の確認先を住民に伝える", "情報の混乱への対応", True, "{grid7}", 2),
        (200, 4, "住民からの通報", "電話", "家族", "要支援者班", "医療機器の電源",
         "{person1}の家が停電。医療機器のバッテリーが残り少ないと家族から連絡。",
         "非常用電源のある避難先へ移送する手段を確保する", "電源が必要な人の優先", False, "{grid8}", 1),
        (215, 4, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の不足",
         "{welfare}から「受け入れは満員」との連絡。あと{shortage}人分の場所が足りません。",
         "一般の避難所の福祉スペースを用意し、市に調整を依頼する", "福祉避難所の限られた枠", False, "{grid9}", 1),
        (240, 5, "情報", "エリアメール", "久留米市", "全グループ", "氾濫発生・緊急安全確保",
         "筑後川で氾濫が発生。緊急安全確保（警戒レベル5）。",
         "避難できていない人は命を守る行動（高い所へ）", "レベル5では避難は困難", False, "{grid10}", 1),
        (260, 5, "住民からの通報", "電話", "本人", "要支援者班", "取り残し・ボート救助",
         "{person2}が自宅の2階で孤立しています。1階は胸の高さまで水が来ています。",
         "消防にボート救助を要請し、場所と状態を正確に伝える", "救助要請の伝え方", True, "{grid11}", 2),
        (280, 5, "事案", "口頭", "訓練進行", "全グループ", "振り返りへ",
         "状況を一時停止します。だれが・いつ・何をしたかを地図に書き込んでください。",
         "各班の対応を地図で確認する", "振り返り", False, "{grid0}", 1),
    ],
    ExerciseHazard.INLAND: [
        (0, 2, "情報", "防災メール", "気象庁", "全グループ", "大雨注意報", "大雨注意報（レベル2）。短時間に強い雨のおそれ。",
         "側溝・水路の近くの要支援者を確認する", "内水の起きやすい場所を知る", False, "{grid0}", 1),
        (30, 3, "情報", "テレビ", "気象庁", "全グループ", "大雨警報", "レベル3大雨警報（浸水害）。1時間に80mmの猛烈な雨。",
         "避難に時間のかかる人に声をかける", "早めの声かけ", False, "{grid1}", 1),
        (45, 3, "情報", "防災行政無線", "久留米市", "全グループ", "高齢者等避難", "{district}校区に高齢者等避難（警戒レベル3）。",
         "{person0}の避難を始める", "レベル3で動く", False, "{grid2}", 1),
        (70, 3, "住民からの通報", "電話", "近所の住民", "情報班", "側溝があふれた",
         "{district}の低い道で側溝があふれ、くるぶしまで水が来ています。", "通れない道を地図に記入し共有する",
         "危ない道の共有", False, "{grid3}", 1),
        (90, 4, "事案", "消防団", "消防団", "全グループ", "水門閉鎖",
         "筑後川の水位が上がり水門を閉鎖。水路の水が川へ流れず、内水が広がっています。",
         "車の避難をやめ、上の階か近くの高い建物へ", "水門閉鎖で内水が増える仕組み", False, "{grid4}", 1),
        (100, 4, "情報", "エリアメール", "久留米市", "全グループ", "避難指示", "{district}校区に避難指示（警戒レベル4）。",
         "{unusable}が使えないことを踏まえ、避難先を{shelter0}へ", "避難先の切り替え", False, "{grid5}", 1),
        (125, 4, "住民からの通報", "電話", "家族", "要支援者班", "車いすで外に出られない",
         "{person1}の家の前が膝まで冠水。車いすでは出られません。", "屋内で安全を確保する判断と見守りの手配",
         "無理に外へ出ない判断", True, "{grid6}", 1),
        (150, 4, "報道", "ラジオ", "ラジオ局", "全グループ", "道路冠水の報道", "市内各地で道路が冠水。車の立ち往生が相次いでいます。",
         "車での移動をしないよう呼びかける", "車の危険", True, "{grid7}", 2),
        (200, 3, "情報", "テレビ", "気象庁", "全グループ", "雨が弱まる",
         "雨は弱まりました。ただし水はまだ引いていません（状況が落ち着いた）。", "安否確認を続け、避難者の受け入れを続ける",
         "引き際の判断", False, "{grid8}", 1),
    ],
    ExerciseHazard.LANDSLIDE: [
        (0, 3, "情報", "テレビ", "気象庁", "全グループ", "大雨警報（土砂災害）", "レベル3大雨警報（土砂災害）。耳納山麓で雨が続いています。",
         "土砂災害警戒区域の要支援者を確認する", "区域を知る", False, "{grid0}", 1),
        (20, 3, "情報", "防災行政無線", "久留米市", "全グループ", "高齢者等避難", "{district}校区に高齢者等避難（警戒レベル3）。",
         "{person0}の避難を始める", "レベル3で動く", False, "{grid1}", 1),
        (50, 4, "情報", "エリアメール", "福岡県・気象庁", "全グループ", "土砂災害警戒情報・避難指示",
         "レベル4土砂災害危険警報（土砂災害警戒情報）。{district}校区に避難指示。", "区域の外の避難先へ全員避難",
         "レベル4で全員避難", False, "{grid2}", 1),
        (70, 4, "住民からの通報", "電話", "近所の住民", "情報班", "前兆現象",
         "{zone}の近くで、沢の水が急に濁り、小石が落ちてくると連絡。", "近くの住民をすぐに区域の外へ", "前兆現象の知識",
         False, "{grid3}", 1),
        (90, 5, "情報", "エリアメール", "気象庁", "全グループ", "大雨特別警報", "レベル5大雨特別警報。命の危険があります。",
         "まだ避難していない人は、家の中でがけから離れた2階へ", "レベル5では外に出ない", False, "{grid4}", 1),
        (105, 5, "事案", "消防団", "消防団", "全グループ", "土石流の発生",
         "{zone}で土石流が発生。道路がふさがれ、{shelter0}への道が通れません。", "別の避難先と経路を決め、孤立した家を把握する",
         "道路寸断と孤立", False, "{grid5}", 1),
        (130, 5, "住民からの通報", "電話", "家族", "要支援者班", "安否不明", "{person1}と連絡が取れません（支援者も避難中）。",
         "消防に状況を伝え、救助を要請する", "安否確認の手順", True, "{grid6}", 1),
        (160, 5, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の不足", "{welfare}の受け入れはあと{shortage}人分不足。",
         "一般の避難所での配慮スペースを準備する", "限られた受け入れ枠", True, "{grid7}", 2),
    ],
    ExerciseHazard.EARTHQUAKE: [
        (0, None, "情報", "緊急地震速報", "気象庁", "全グループ", "地震発生",
         "水縄断層帯で地震。久留米市で震度6強。", "身の安全を守り、揺れが収まってから安否確認を始める", "発災直後の行動",
         False, "{grid0}", 1),
        (10, None, "住民からの通報", "口頭", "近所の住民", "要支援者班", "家屋の倒壊", "{district}で古い家が倒れ、{person0}の家の玄関が開きません。",
         "複数人で救出を試み、消防に連絡する", "近所での救出", False, "{grid1}", 1),
        (25, None, "事案", "口頭", "避難所担当", "避難所班", "避難所の建物被害", "{unusable}の体育館の天井材が落下。安全確認まで使えません。",
         "{shelter0}を開設し、誘導する", "避難所の安全確認", False, "{grid2}", 1),
        (45, None, "住民からの通報", "電話", "家族", "要支援者班", "停電と医療機器", "停電で{person1}の医療機器がバッテリー運転に。",
         "非常用電源のある場所へ移送する", "電源が必要な人", False, "{grid3}", 1),
        (70, None, "情報", "テレビ", "気象庁", "全グループ", "余震", "震度5強の余震。倒壊のおそれのある家に入らないでください。",
         "安否確認の途中の人員の安全を確認する", "二次被害の防止", True, "{grid4}", 2),
        (90, None, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の受け入れ調整", "{welfare}は職員が集まらず、受け入れはあと{shortage}人分。",
         "配慮が必要な人の受け入れ先を市と調整する", "福祉避難所の開設遅れ", False, "{grid5}", 1),
    ],
}

DELIVERY_GROUPS = ["情報班", "要支援者班", "避難所班"]


def _age_band(age: int | None) -> str:
    return f"{(age // 10) * 10}代" if age is not None else "年代不明"


def describe(age: int | None, mobility: str | None, devices: list[str], lives_alone: bool | None) -> str:
    parts = [_age_band(age)]
    if mobility and mobility != "自立":
        parts.append(mobility)
    parts += devices[:1]
    if lives_alone:
        parts.append("独居")
    return "・".join(parts)


def generate(facts: DistrictFacts, hazard: ExerciseHazard, start: dt.datetime, duration_h: int = 2,
             difficulty: int = 2, seed: int = 1, closed_session: bool = False) -> Scenario:
    """The MSEL for ``facts``; injects beyond the exercise's duration (scaled) are dropped."""
    rng = np.random.default_rng(seed)
    people = list(facts.at_risk)
    pool = people[:10]  # the highest-priority people; the seed picks three of them
    picks = sorted(rng.choice(len(pool), size=min(3, len(pool)), replace=False)) if pool else []
    chosen = [pool[i] for i in picks]
    powered = next((p for p in people if p.power_device), None)
    if powered is not None and powered not in chosen:  # the power-cut inject needs such a person
        chosen = [*chosen[:1], powered, *chosen[2:]] if len(chosen) >= 2 else [*chosen, powered]
    shelters = facts.shelters or ["近くの指定避難所"]
    usable = [s for s in shelters if s not in facts.unusable_shelters] or shelters
    unusable = facts.unusable_shelters[0] if facts.unusable_shelters else shelters[-1]
    zone = facts.landslide_zones[int(rng.integers(len(facts.landslide_zones)))] if facts.landslide_zones else f"{facts.district}の山ぎわ"
    grid = list(rng.permutation(facts.grid))
    values: dict[str, Any] = {
        "district": facts.district, "unusable": unusable, "shelter0": usable[int(rng.integers(len(usable)))],
        "welfare": facts.welfare_shelters[0] if facts.welfare_shelters else "福祉避難所",
        "shortage": max(facts.welfare_shortage, 1), "zone": zone,
        **{f"grid{i}": grid[i % len(grid)] for i in range(12)},
    }
    for i in range(3):
        person = chosen[i] if i < len(chosen) else None
        values[f"person{i}"] = f"{person.label}（{person.descriptor}）" if person else "近所の一人暮らしの高齢者"
    last = max(step[0] for step in TIMELINES[hazard])
    scale = min(1.0, duration_h * 60 / last)  # a short exercise runs the same story faster
    injects: list[Inject] = []
    for offset, level, kind, delivery, sender, to, synopsis, message, actions, objective, contingency, map_ref, minimum in TIMELINES[hazard]:
        if minimum > difficulty:
            continue
        minutes = int(round(offset * scale))
        refs: dict[str, Any] = {"residents": [], "places": []}
        text = " ".join((synopsis, message, actions))
        for i in range(3):
            if f"{{person{i}}}" in text and i < len(chosen):
                refs["residents"].append(chosen[i].resident_id)
        for key in ("unusable", "shelter0", "welfare", "zone"):
            if f"{{{key}}}" in text:
                refs["places"].append(values[key])
        injects.append(Inject(
            number=len(injects) + 1, time=(start + dt.timedelta(minutes=minutes)).strftime("%H:%M"), offset_min=minutes,
            level=level, synopsis=synopsis.format(**values), type=kind, delivery=delivery, sender=sender, to=to,
            message=message.format(**values), expected_actions=actions.format(**values), objective=objective,
            contingency=contingency, map_ref=map_ref.format(**values),
            evaluator_notes=f"{to}が{objective}をできたか。判断の理由を記録する。",
            eased="状況が落ち着いた" in message, refs=refs,
        ))
    return Scenario(
        district=facts.district, hazard=hazard.value, title=f"{facts.district}校区 図上訓練：{HAZARD_TITLES[hazard]}",
        start=start.strftime("%Y-%m-%d %H:%M"), duration_h=duration_h, difficulty=difficulty, seed=seed,
        closed_session=closed_session, groups=DELIVERY_GROUPS, injects=injects,
    )


def levels_consistent(scenario: Scenario) -> bool:
    """警戒レベル never decreases before the climax unless an inject says the situation eased."""
    levels = [(i.level, i.eased) for i in scenario.injects if i.level is not None]
    if not levels:
        return True
    climax = max(range(len(levels)), key=lambda k: (levels[k][0], -k))
    return all(levels[k + 1][0] >= levels[k][0] or levels[k + 1][1] for k in range(climax))
