"""Scenario generator: a Master Scenario Events List (MSEL) for one 校区 and hazard.

Each scenario follows the real order of a rain event as the 2026 JMA system words it (レベル2
注意報 -> レベル3警報 -> 高齢者等避難 -> レベル4危険警報 -> 避難指示 -> レベル5特別警報), over
realistic hours: a flood takes an evening and a night from the first 注意報 to the 氾濫. Scenario
time (想定時刻) is kept apart from session time (the card is handed out N minutes into a
two-hour session). For floods, the district's own reference gauge and its levels come from the
city profile, and level 3 is issued when 避難判断水位 is reached, as the inject says.

Places never contradict each other: a shelter that is closed, full or cut off is never
recommended again, only shelters safe against every rain hazard at their own location are
recommended, and when no safe place is left the card says so and asks the group to decide.
People appear pseudonymised ("Aさん（80代・車いす・平屋）", see ``pseudonyms``) with what they can
do at home (a one-storey house has no upper floor; a flat only its own floor); cards refer to
them by that label, never by an internal id. The same inputs and seed give the same scenario.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from disaster import suppression


class ExerciseHazard(StrEnum):
    FLOOD = "flood"  # 洪水（大河川の氾濫）
    INLAND = "inland"  # 内水
    LANDSLIDE = "landslide"  # 土砂災害
    EARTHQUAKE = "earthquake"  # 地震


RAIN_HAZARDS = (ExerciseHazard.FLOOD, ExerciseHazard.INLAND, ExerciseHazard.LANDSLIDE)
INJECT_TYPES = ("情報", "事案", "報道", "住民からの通報", "進行")


@dataclass(frozen=True)
class GaugeInfo:
    """The district's reference river gauge (from the city profile)."""

    name: str
    river: str
    location: str
    office: str
    standby_m: float
    caution_m: float
    evacuation_m: float
    danger_m: float
    verified: bool
    source: str = ""


@dataclass(frozen=True)
class CitySetting:
    """City facts a scenario names, all from the city profile (no city in code)."""

    city: str
    gauge: GaugeInfo | None  # None: the profile names no gauge; cards speak of "the reference gauge"
    earthquake_source: str | None  # None: "a large earthquake"
    earthquake_intensity: str
    landslide_area: str
    sluice: str


def hazard_title(hazard: ExerciseHazard, setting: CitySetting) -> str:
    return {
        ExerciseHazard.FLOOD: f"洪水（{setting.gauge.river if setting.gauge else '川'}の氾濫）",
        ExerciseHazard.INLAND: "内水氾濫（大雨で水路・側溝があふれる）",
        ExerciseHazard.LANDSLIDE: f"土砂災害（{setting.landslide_area}の大雨・土石流）",
        ExerciseHazard.EARTHQUAKE: f"地震（{setting.earthquake_source}）" if setting.earthquake_source else "地震",
    }[hazard]


@dataclass(frozen=True)
class Person:
    """A resident as the scenario may show them (no name unless a closed session). For a
    pseudonymised person, the home, stairs and device are set only where the descriptor says them;
    ``resident_id`` stays in memory (a trainer points a finding at the person) and is never written."""

    resident_id: int
    label: str  # pseudonym, or name (名簿番号) in a closed session
    descriptor: str  # 80代・車いす・平屋
    power_device: bool
    building_floors: int | None = None  # storeys of the building (house or flat)
    home_floor: int | None = None  # floor of the person's unit in a flat; None: a house
    can_use_stairs: bool | None = None
    cell: str | None = None  # exercise grid cell of the home

    @property
    def upper_floor(self) -> int | None:
        """The floor above ground this person can reach at home (None: none): a house's upper
        floor only with stairs; in a flat, never another floor than their own."""
        if self.home_floor is not None:
            return self.home_floor if self.home_floor >= 2 else None
        if self.building_floors and self.building_floors >= 2 and self.can_use_stairs is not False:
            return 2
        return None


@dataclass(frozen=True)
class Place:
    """A shelter as the scenario may use it. ``safe``: designated for the exercise's disaster and,
    in a rain disaster, outside every rain hazard zone at its own location (or flood-designated
    with a usable floor above the water: ``floor``)."""

    name: str
    cell: str | None
    safe: bool
    reason: str = ""  # why it is not safe (for the card), or how it is used
    floor: int | None = None
    welfare: bool = False
    backup_power: bool | None = None
    inside: bool = True  # inside the district

    @property
    def label(self) -> str:
        notes = ([] if self.inside else ["校区の外"]) + ([f"{self.floor}階以上を使う"] if self.floor and self.floor > 1 else [])
        return f"{self.name}（{'・'.join(notes)}）" if notes else self.name


@dataclass
class DistrictFacts:
    """What the scenario draws on, taken from the district's data and the city profile."""

    district: str
    area: str | None
    residents: int
    at_risk: list[Person]  # highest priority first
    unsupported: int
    shelters: list[Place]  # 指定避難所 in or near the district, inside first
    welfare: list[Place]  # 福祉避難所, nearest first
    welfare_shortage: int
    landslide_zones: list[str]
    setting: CitySetting
    zone_cells: dict[str, str] = field(default_factory=dict)
    district_cell: str | None = None
    is_demo: bool = False  # drawn from demo data (fictional people and zones): every page says so
    at_risk_total: int | None = None  # residents at risk, when ``at_risk`` leaves some out (None: all listed)

    def figures(self, closed_session: bool) -> dict[str, str]:
        """The 校区's counts as the pack prints them ("12人"): exact in a closed session, else with
        small numbers withheld (``disaster.suppression``; every count is part of the 名簿's whole)."""
        whole = self.residents
        counts = {"at_risk": len(self.at_risk) if self.at_risk_total is None else self.at_risk_total,
                  "unsupported": self.unsupported, "shortage": self.welfare_shortage}
        if closed_session:
            return {"residents": f"{whole}人"} | {key: f"{n}人" for key, n in counts.items()}
        return ({"residents": suppression.persons(suppression.count(whole))}
                | {key: suppression.persons(suppression.part(n, whole)) for key, n in counts.items()})

    @property
    def safe_shelters(self) -> list[str]:
        return [p.name for p in self.shelters if p.safe]

    @property
    def unusable_shelters(self) -> list[str]:
        return [p.name for p in self.shelters if not p.safe]

    @property
    def welfare_shelters(self) -> list[str]:
        return [p.name for p in self.welfare]


@dataclass
class Inject:
    number: int
    time: str  # scenario clock (想定時刻), e.g. 7月8日 22:10
    scenario_min: int  # minutes after the scenario starts
    session_min: int  # minutes after the session starts when the card is handed out
    level: int | None  # 警戒レベル (None for earthquakes and facilitator cards)
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
    refs: dict[str, Any] = field(default_factory=dict)  # residents (labels), places, recommended, closed, gauge_level


@dataclass(frozen=True)
class SessionBlock:
    start_min: int
    minutes: int
    title: str
    content: str


@dataclass
class Scenario:
    district: str
    hazard: str
    title: str
    start: str  # scenario start (想定), ISO
    span: str  # e.g. 7月8日 18:00 〜 7月9日 05:00（約11時間）
    duration_h: int  # the session
    difficulty: int
    seed: int
    closed_session: bool
    groups: list[str]
    injects: list[Inject]
    session: list[SessionBlock]
    gauge: dict[str, Any] | None
    no_safe_place: bool  # some card had to say that no safe place is left

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Step:
    """One line of a timeline template. Texts use the placeholders of ``_values``; ``alt_*`` are
    used instead when the text needs a recommended place and none is left."""

    minute: int  # scenario minute
    level: int | None
    type: str
    delivery: str
    sender: str
    to: str
    synopsis: str
    message: str
    actions: str
    objective: str
    evaluator: str
    contingency: bool = False
    minimum: int = 1  # lowest difficulty that uses the card
    map: str | None = None  # person0/1/2, recommend, closed, welfare, zone, district
    effect: str | None = None  # unsafe / full / cut / welfare_full / damaged
    alt_message: str | None = None
    alt_actions: str | None = None
    gauge_level: str | None = None  # caution / evacuation / danger / flood
    eased: bool = False


NO_PLACE = "安全な避難先で、開いている所はもう残っていません。"
DECIDE = ("班で話し合って決める（例：近くの頑丈な建物の上の階、自宅の上の階、親戚・知人宅）。"
          "決めたことと理由を全体に伝える")

TIMELINES: dict[ExerciseHazard, list[Step]] = {
    ExerciseHazard.FLOOD: [
        Step(0, 2, "情報", "テレビ・防災メール", "気象台", "全グループ", "レベル2大雨注意報・大雨の予報",
             "{city}にレベル2大雨注意報が出ました。今夜から明日の朝にかけて線状降水帯が発生するおそれがあり、"
             "{river}の水位が上がる見込みです。",
             "連絡網・持ち出し品・避難先を確かめる。明るいうちに動いたほうがよい人（{person0}など）に声をかける",
             "早めの情報収集と声かけ",
             "情報班が注意報と予報を全体に伝えたか。要支援者班が、明るいうちに動いたほうがよい人を挙げたか。",
             map="person0"),
        Step(120, 2, "情報", "川の防災情報", "{office}・気象台", "情報班", "レベル2氾濫注意報（{station}）",
             "{river}の{station}{station_place}の水位が氾濫注意水位{caution}に達しました。"
             "水位はこの後も上がる見込みです。",
             "{station}の水位を見続ける係を決める。避難判断水位{evacuation}に近づいたら全体に知らせる",
             "自分の校区の基準観測所を知る",
             "情報班が、{district}校区が見る観測所{station_name}と避難判断水位{evacuation}を確かめたか。",
             gauge_level="caution"),
        Step(240, 3, "情報", "川の防災情報・テレビ", "{office}・気象台", "全グループ", "レベル3氾濫警報（避難判断水位に到達）",
             "{station}の水位が避難判断水位{evacuation}に達しました。この後も上がり、"
             "氾濫危険水位{danger}に達する見込みです。",
             "高齢者等避難が出る前提で、支援に動く人をそろえる",
             "レベル3で動き出す準備",
             "各班が、避難判断水位への到達を「避難を始める合図」として受け止めたか。",
             gauge_level="evacuation"),
        Step(250, 3, "情報", "防災行政無線・防災メール", "{city}", "全グループ", "高齢者等避難の発令",
             "{station}の水位が避難判断水位に達したため、{district}校区に高齢者等避難（警戒レベル3）を発令しました。"
             "{open_list}を開設しました。避難に時間のかかる人と支援する人は避難を始めてください。",
             "要支援者への声かけと避難支援を始める。{person0}の避難先（{recommend}）と移動手段・出発時刻を決める",
             "レベル3で動き出す",
             "要支援者班が、{person0}の避難先・移動手段・出発時刻を決め、支援者に連絡したか。",
             map="recommend",
             alt_message="{station}の水位が避難判断水位に達したため、{district}校区に高齢者等避難（警戒レベル3）を"
                         "発令しました。ただし{district}校区の中の避難所は、どれも大雨のときの想定区域の中にあります。",
             alt_actions="要支援者への声かけを始める。{person0}をどこへ避難させるか、" + DECIDE),
        Step(280, 3, "住民からの通報", "電話", "近所の住民", "要支援者班", "連絡が取れない",
             "{person0}に電話がつながりません。いつもの支援者は自宅の片付けで手が離せないようです。",
             "代わりの支援者を手配し、2人以上で訪ねる。訪ねる人の帰り道の安全も決めておく",
             "支援者が動けないときの代わり",
             "要支援者班が、代わりの支援者と訪問の手順（2人以上・帰る時刻）を決めたか。",
             contingency=True, map="person0"),
        Step(300, 3, "事案", "口頭", "避難所担当", "避難所班", "{closed}は開設しません",
             "{closed}は{closed_reason}ため、大雨のときは避難所として開設しません。",
             "{closed}に向かおうとしている人に、{recommend}へ向かうよう伝える",
             "使えない避難所の見極め",
             "避難所班が、使えない避難所と代わりの行き先を全体に伝えたか。",
             map="closed", effect="unsafe",
             alt_actions="{closed}に向かおうとしている人を止める。" + NO_PLACE + "行き先を" + DECIDE),
        Step(390, 4, "情報", "川の防災情報・テレビ", "{office}・気象台", "全グループ", "レベル4氾濫危険警報",
             "{station}の水位が氾濫危険水位{danger}に達しました。いつ氾濫してもおかしくない状態です。",
             "避難指示を待たずに、まだ自宅にいる要支援者の避難を急ぐ",
             "危険な状態を行動に結びつける",
             "各班が、まだ自宅にいる要支援者を数え直したか。",
             gauge_level="danger"),
        Step(400, 4, "情報", "防災行政無線・緊急速報メール", "{city}", "全グループ", "避難指示の発令",
             "{district}校区に避難指示（警戒レベル4）を発令しました。危険な場所から全員避難してください。",
             "まだ自宅にいる要支援者を確かめ、{recommend}へ避難する。外の移動が危ないときは近くの頑丈な建物の上の階へ",
             "レベル4までに避難を終える",
             "各班が、避難を終えていない人の数と、その人たちの行き先を言えるか。",
             map=None,
             alt_actions="まだ自宅にいる要支援者を確かめる。" + NO_PLACE + "行き先を" + DECIDE),
        Step(420, 4, "事案", "消防団", "消防団", "情報班", "水門の閉鎖と内水",
             "{river}の水位が上がったため{sluice}を閉めました。水路があふれ、{district}校区の低い道路が冠水し始めました"
             "（深さ30cm以上）。",
             "冠水した道を避ける経路に変える。水につかった道を車で通らない",
             "内水で道が使えなくなる",
             "情報班が、通れない道を地図に書き込み、全体に伝えたか。",
             map="district"),
        Step(450, 4, "報道", "テレビ", "地元テレビ局", "全グループ", "「{river}が氾濫のおそれ」の報道",
             "「{city}で{river}が氾濫するおそれ」と繰り返し報道されています。自治会長への問い合わせの電話が増えています。",
             "報道は市の避難指示（警戒レベル4）と同じ内容だと確かめ、まだ家にいる人に「今すぐ避難」を伝える。問い合わせには市の発表と{station}の水位を案内する",
             "報道を行動につなげる",
             "情報班が、報道と市の発表・観測所の水位が合っていることを確かめ、まだ避難していない人への声かけにつなげたか。",
             contingency=True, minimum=2),
        Step(480, 4, "住民からの通報", "電話", "家族", "要支援者班", "医療機器の電源",
             "{person1}の家が停電しました。医療機器のバッテリーが残り少ないと家族から連絡がありました。",
             "{power_action}",
             "電源が必要な人の優先",
             "要支援者班が、電源のある行き先と移動手段を決め、だれが運ぶかを決めたか。",
             map="person1"),
        Step(500, 4, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の受け入れ枠",
             "{welfare}から「受け入れはいっぱいです」と連絡がありました。あと{shortage}分の場所が足りません。",
             "指定避難所に福祉スペースを用意し、福祉避難所への移送を市と調整する",
             "福祉避難所の限られた枠",
             "避難所班が、福祉スペースの場所と、移送を市に頼む人の順番を決めたか。",
             map="welfare", effect="welfare_full"),
        Step(520, 4, "事案", "電話", "避難所担当", "避難所班", "{closed}が満員",
             "{closed}が満員になりました。これから来る人は{recommend}へ案内してください。",
             "{recommend}への案内を全体に伝える。移動できない人の安全確保も考える",
             "満員の避難所を案内から外す",
             "避難所班が、満員の避難所を案内から外し、次の行き先（ない場合はその対応）を決めたか。",
             minimum=2, map="closed", effect="full",
             alt_message="{closed}が満員になりました。" + NO_PLACE,
             alt_actions="これから避難する人をどこへ向かわせるか、" + DECIDE),
        Step(600, 5, "情報", "緊急速報メール", "{city}", "全グループ", "レベル5氾濫特別警報・緊急安全確保",
             "{river}で氾濫が発生しました（レベル5氾濫特別警報）。{district}校区に緊急安全確保（警戒レベル5）を発令しました。",
             "まだ避難していない人は、いる場所で命を守る行動をとる（外に出るのが危ないときは建物の高い所へ）",
             "レベル5では外への避難はかえって危ない",
             "各班が、この段階で外へ避難させることの危険を理解し、残っている人への連絡を続けたか。",
             gauge_level="flood"),
        Step(620, 5, "住民からの通報", "電話", "本人", "要支援者班", "取り残された人",
             "{stranded}",
             "消防に救助を要請し、場所（地図の格子）と本人の状態・いる階を正確に伝える",
             "救助要請の伝え方",
             "要支援者班が、救助要請に必要なこと（場所・人数・状態・いる階）を落とさず伝えたか。",
             contingency=True, minimum=2, map="person2"),
        Step(660, None, "進行", "口頭", "進行役", "全グループ", "振り返りへ",
             "状況をここで止めます。だれが・いつ・何をしたかを地図に書き込んでください。",
             "各班の対応を地図で確かめる",
             "振り返り",
             "各班が、自分たちの判断の理由を説明できたか。"),
    ],
    ExerciseHazard.INLAND: [
        Step(0, 2, "情報", "防災メール", "気象台", "全グループ", "レベル2大雨注意報",
             "{city}にレベル2大雨注意報が出ました。短い時間に強い雨が降るおそれがあります。",
             "側溝・水路の近くに住む要支援者を確かめる", "内水の起きやすい場所を知る",
             "情報班が、水があふれやすい場所を地図で確かめたか。", map="district"),
        Step(60, 3, "情報", "テレビ", "気象台", "全グループ", "レベル3大雨警報",
             "{city}にレベル3大雨警報（浸水害）が出ました。1時間に80mmの猛烈な雨が降っています。",
             "避難に時間のかかる人に声をかける", "早めの声かけ",
             "要支援者班が、声をかける人とその順番を決めたか。"),
        Step(70, 3, "情報", "防災行政無線", "{city}", "全グループ", "高齢者等避難の発令",
             "大雨警報と市内の中小河川の水位の上昇を受けて、{district}校区に高齢者等避難（警戒レベル3）を発令しました。"
             "{open_list}を開設しました。",
             "{person0}の避難を始める（行き先：{recommend}）", "レベル3で動く",
             "要支援者班が、{person0}の行き先と移動手段を決めたか。", map="recommend",
             alt_message="大雨警報と市内の中小河川の水位の上昇を受けて、{district}校区に高齢者等避難（警戒レベル3）を"
                         "発令しました。ただし{district}校区の中の避難所は、どれも大雨のときの想定区域の中にあります。",
             alt_actions="{person0}をどこへ避難させるか、" + DECIDE),
        Step(100, 3, "住民からの通報", "電話", "近所の住民", "情報班", "側溝があふれた",
             "{district}校区の低い道で側溝があふれ、くるぶしの高さまで水が来ています。",
             "通れない道を地図に書き込み、全体に伝える", "危ない道の共有",
             "情報班が、冠水した道を地図に書き込み、避難の経路を変えたか。", map="person0"),
        Step(130, 4, "事案", "消防団", "消防団", "全グループ", "水門の閉鎖",
             "{river}の水位が上がったため{sluice}を閉めました。水路の水が川へ流れず、内水が広がっています。",
             "車での避難をやめる。外の移動が危ないときは、自宅の上の階か近くの頑丈な建物の上の階へ",
             "水門の閉鎖で内水が増える仕組み",
             "各班が、車での移動をやめる判断をしたか。", map="district"),
        Step(140, 4, "情報", "緊急速報メール", "{city}", "全グループ", "レベル4大雨危険警報・避難指示",
             "{city}にレベル4大雨危険警報が出ました。{district}校区に避難指示（警戒レベル4）を発令しました。",
             "まだ自宅にいる要支援者を確かめ、{recommend}へ避難する", "レベル4までに避難を終える",
             "各班が、避難を終えていない人の数と、その人たちの行き先を言えるか。", map=None,
             alt_actions="まだ自宅にいる要支援者を確かめる。" + NO_PLACE + "行き先を" + DECIDE),
        Step(150, 4, "事案", "口頭", "避難所担当", "避難所班", "{closed}は開設しません",
             "{closed}は{closed_reason}ため、大雨のときは避難所として開設しません。",
             "{closed}に向かおうとしている人に、{recommend}へ向かうよう伝える", "使えない避難所の見極め",
             "避難所班が、使えない避難所と代わりの行き先を全体に伝えたか。", map="closed", effect="unsafe",
             alt_actions="{closed}に向かおうとしている人を止める。" + NO_PLACE + "行き先を" + DECIDE),
        Step(170, 4, "住民からの通報", "電話", "家族", "要支援者班", "家の前が冠水",
             "{person1}の家の前が膝の高さまで冠水しています。{person1_way}",
             "{stay_action1}", "無理に外へ出ない判断",
             "要支援者班が、外へ出るか家の中にとどまるかを、水の深さと本人の状態から決めたか。",
             contingency=True, map="person1"),
        Step(200, 4, "報道", "ラジオ", "ラジオ局", "全グループ", "道路冠水の報道",
             "市内の各地で道路が冠水し、車の立ち往生が相次いでいます。",
             "車での移動をしないよう呼びかける", "車の危険",
             "情報班が、車で避難しようとしている人に止めるよう伝えたか。", contingency=True, minimum=2),
        Step(230, 4, "事案", "電話", "避難所担当", "避難所班", "{closed}が満員",
             "{closed}が満員になりました。これから来る人は{recommend}へ案内してください。",
             "{recommend}への案内を全体に伝える", "満員の避難所を案内から外す",
             "避難所班が、満員の避難所を案内から外し、次の行き先（ない場合はその対応）を決めたか。",
             minimum=2, map="closed", effect="full",
             alt_message="{closed}が満員になりました。" + NO_PLACE,
             alt_actions="これから避難する人をどこへ向かわせるか、" + DECIDE),
        Step(300, 3, "情報", "テレビ", "気象台", "全グループ", "雨が弱まる",
             "雨は弱まり、レベル3大雨警報に切り替わりました（状況が落ち着いた）。ただし水はまだ引いていません。",
             "安否確認を続ける。水が引くまで、避難した人を家に帰さない", "引き際の判断",
             "各班が、水が引く前に家へ戻る危険を伝えたか。", eased=True),
        Step(330, None, "進行", "口頭", "進行役", "全グループ", "振り返りへ",
             "状況をここで止めます。だれが・いつ・何をしたかを地図に書き込んでください。",
             "各班の対応を地図で確かめる", "振り返り", "各班が、自分たちの判断の理由を説明できたか。"),
    ],
    ExerciseHazard.LANDSLIDE: [
        Step(0, 2, "情報", "テレビ", "気象台", "全グループ", "レベル2大雨注意報・レベル2土砂災害注意報",
             "{city}にレベル2大雨注意報とレベル2土砂災害注意報が出ました。{area}では雨が降り続いています。",
             "土砂災害警戒区域に住む要支援者を確かめる", "区域を知る",
             "要支援者班が、区域の中に住む要支援者を地図で確かめたか。", map="zone"),
        Step(90, 3, "情報", "テレビ", "気象台", "全グループ", "レベル3土砂災害警報",
             "{city}にレベル3土砂災害警報が出ました。{area}では土砂災害の危険度が高まっています。",
             "避難に時間のかかる人に声をかける", "早めの声かけ",
             "要支援者班が、声をかける人とその順番を決めたか。"),
        Step(95, 3, "情報", "防災行政無線", "{city}", "全グループ", "高齢者等避難の発令",
             "{district}校区に高齢者等避難（警戒レベル3）を発令しました。{open_list}を開設しました。",
             "{person0}の避難を始める（行き先：{recommend}。土砂災害警戒区域の外）", "レベル3で動く",
             "要支援者班が、{person0}の行き先と移動手段を決めたか。", map="recommend",
             alt_message="{district}校区に高齢者等避難（警戒レベル3）を発令しました。ただし{district}校区の中の避難所は、"
                         "どれも大雨のときの想定区域の中にあります。",
             alt_actions="{person0}をどこへ避難させるか、" + DECIDE),
        Step(150, 3, "事案", "口頭", "避難所担当", "避難所班", "{closed}は開設しません",
             "{closed}は{closed_reason}ため、大雨のときは避難所として開設しません。",
             "{closed}に向かおうとしている人に、{recommend}へ向かうよう伝える", "使えない避難所の見極め",
             "避難所班が、使えない避難所と代わりの行き先を全体に伝えたか。", map="closed", effect="unsafe",
             alt_actions="{closed}に向かおうとしている人を止める。" + NO_PLACE + "行き先を" + DECIDE),
        Step(180, 4, "情報", "緊急速報メール", "{city}", "全グループ", "レベル4土砂災害危険警報・避難指示",
             "{city}にレベル4土砂災害危険警報が出ました。{district}校区に避難指示（警戒レベル4）を発令しました。",
             "区域の中の全員が、区域の外の{recommend}へ避難する", "レベル4で全員避難",
             "各班が、区域の中に残っている人の数と、その人たちの行き先を言えるか。", map=None,
             alt_actions="区域の中の全員に避難を呼びかける。" + NO_PLACE + "行き先を" + DECIDE),
        Step(210, 4, "住民からの通報", "電話", "近所の住民", "情報班", "前ぶれ",
             "{zone}の近くで、沢の水が急に濁り、小石がぱらぱら落ちてくると連絡がありました。",
             "近くの住民をすぐに区域の外へ避難させる", "土砂災害の前ぶれを知る",
             "情報班が、前ぶれを聞いてすぐ近くの住民に伝えたか。", map="zone"),
        Step(270, 5, "情報", "緊急速報メール", "{city}", "全グループ", "レベル5土砂災害特別警報・緊急安全確保",
             "{city}にレベル5土砂災害特別警報が出ました。{district}校区に緊急安全確保（警戒レベル5）を発令しました。",
             "まだ避難していない人は外に出ず、がけから離れた部屋（2階建てなら2階）で身を守る",
             "レベル5では外に出ない",
             "各班が、この段階で外へ避難させることの危険を理解し、残っている人への連絡を続けたか。"),
        Step(285, 5, "事案", "消防団", "消防団", "全グループ", "土石流の発生",
             "{zone}で土石流が発生し、道路がふさがれました。{closed}への道が通れません。",
             "別の避難先（{recommend}）と経路を決め、孤立した家を把握する", "道路の寸断と孤立",
             "各班が、孤立した家を地図で数え、次の行き先（ない場合はその対応）を決めたか。", map="zone", effect="cut",
             alt_actions=NO_PLACE + "孤立した家の人にどう身を守ってもらうか、班で話し合って決め、電話で伝える"),
        Step(310, 5, "住民からの通報", "電話", "家族", "要支援者班", "安否不明",
             "{person1}と連絡が取れません（支援者も避難中）。",
             "消防に状況を伝え、救助を要請する", "安否確認の手順",
             "要支援者班が、最後に連絡が取れた時刻と家の場所を消防に伝えたか。", contingency=True, map="person1"),
        Step(330, 5, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の受け入れ枠",
             "{welfare}の受け入れは、あと{shortage}分足りません。",
             "指定避難所に福祉スペースを用意する", "限られた受け入れ枠",
             "避難所班が、福祉スペースの場所と、移送を市に頼む人の順番を決めたか。",
             contingency=True, minimum=2, map="welfare", effect="welfare_full"),
        Step(360, None, "進行", "口頭", "進行役", "全グループ", "振り返りへ",
             "状況をここで止めます。だれが・いつ・何をしたかを地図に書き込んでください。",
             "各班の対応を地図で確かめる", "振り返り", "各班が、自分たちの判断の理由を説明できたか。"),
    ],
    ExerciseHazard.EARTHQUAKE: [
        Step(0, None, "情報", "緊急地震速報", "気象庁", "全グループ", "地震の発生",
             "{eq_event}が発生し、{city}で震度{eq_intensity}を観測しました。",
             "身の安全を守り、揺れが収まってから安否確認を始める", "発災直後の行動",
             "各班が、まず自分と家族の安全を確かめてから動く手順を確かめたか。"),
        Step(10, None, "住民からの通報", "口頭", "近所の住民", "要支援者班", "家屋の倒壊",
             "{district}校区で古い家が倒れ、{person0}の家の玄関が開きません。",
             "2人以上で救出を試み、消防に連絡する", "近所での救出",
             "要支援者班が、無理をしない救出の手順と消防への連絡を決めたか。", map="person0"),
        Step(25, None, "事案", "口頭", "避難所担当", "避難所班", "避難所の建物被害",
             "{closed}の建物で天井材が落ちました。安全が確かめられるまで使えません。",
             "{recommend}を開設し、誘導する", "避難所の安全確認",
             "避難所班が、使えない避難所を案内から外し、次の避難所へ誘導したか。", map="closed", effect="damaged",
             alt_actions=NO_PLACE + "避難してきた人をどこで受け入れるか（屋外の広場、別の公共施設など）を" + DECIDE),
        Step(45, None, "住民からの通報", "電話", "家族", "要支援者班", "停電と医療機器",
             "停電で{person1}の医療機器がバッテリーで動いています。",
             "{power_action}", "電源が必要な人",
             "要支援者班が、電源のある行き先と移動手段を決め、だれが運ぶかを決めたか。", map="person1"),
        Step(70, None, "情報", "テレビ", "気象庁", "全グループ", "余震",
             "震度5強の余震がありました。傷んだ家には入らないでください。",
             "安否確認に出ている人の安全を確かめる", "二次被害を防ぐ",
             "各班が、安否確認に出ている人を呼び戻す・数える手順を決めたか。", contingency=True, minimum=2),
        Step(90, None, "事案", "電話", "福祉避難所", "避難所班", "福祉避難所の開設の遅れ",
             "{welfare}は職員が集まらず、受け入れはあと{shortage}分足りません。",
             "配慮が必要な人の受け入れ先を市と調整する", "福祉避難所の開設の遅れ",
             "避難所班が、福祉スペースの場所と、移送を市に頼む人の順番を決めたか。", map="welfare", effect="welfare_full"),
        Step(120, None, "進行", "口頭", "進行役", "全グループ", "振り返りへ",
             "状況をここで止めます。だれが・いつ・何をしたかを地図に書き込んでください。",
             "各班の対応を地図で確かめる", "振り返り", "各班が、自分たちの判断の理由を説明できたか。"),
    ],
}

DELIVERY_GROUPS = ["情報班", "要支援者班", "避難所班"]


def session_plan(duration_h: int) -> list[SessionBlock]:
    """The session timetable: introduction, DIG map work, injects, review and wrap-up."""
    total = duration_h * 60
    long = total >= 180
    intro, dig, review, wrap = 10, (40 if long else 30), (25 if long else 15), (10 if long else 5)
    injects = max(30, total - intro - dig - review - wrap)
    blocks = [(intro, "はじめに", "ねらい・進め方・グループ分け・役割カードの配布"),
              (dig, "地図づくり（DIG）", "①道路・水路・川 → ②避難所・危ない場所 → ③手助けが必要な人と支援者（人物シート）"),
              (injects, "状況付与", "カードを配り、各班が判断と行動をワークシートに、全体の流れをクロノロジーに書く"),
              (review, "振り返り", "地図の上で、だれが・いつ・何をしたかを確かめる"),
              (wrap, "まとめ・アンケート", "課題を「課題・対応・担当・期限」に整理し、アンケートに記入する")]
    out, start = [], 0
    for minutes, title, content in blocks:
        out.append(SessionBlock(start, minutes, title, content))
        start += minutes
    return out


def _clock(start: dt.datetime, minutes: int) -> str:
    t = start + dt.timedelta(minutes=minutes)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def _metres(value: float) -> str:
    return f"（{value:.2f}m）"


def _gauge_values(gauge: GaugeInfo | None) -> dict[str, str]:
    """What flood cards say about the river and its gauge; without a gauge in the city profile,
    generic words and no water levels (never another city's figures)."""
    if gauge is None:
        return {"river": "川", "station": "基準の水位観測所", "station_place": "", "station_name": "", "office": "河川事務所",
                "caution": "", "evacuation": "", "danger": ""}
    return {"river": gauge.river, "station": f"{gauge.name}観測所",
            "station_place": f"（{gauge.location or gauge.name}）", "station_name": f"（{gauge.name}）",
            "office": gauge.office, "caution": _metres(gauge.caution_m), "evacuation": _metres(gauge.evacuation_m),
            "danger": _metres(gauge.danger_m)}


def _stranded(person: Person | None) -> str:
    """A stranded-person report that fits the person's home."""
    if person is None:
        return "近所の一人暮らしの高齢者が自宅に取り残されています。家のまわりが深く浸水し、外に出られません。"
    who = f"{person.label}（{person.descriptor}）"
    if person.home_floor is not None:
        if person.home_floor >= 2:
            return (f"{who}は集合住宅の{person.home_floor}階の自宅にいます。建物の入口まわりが深く浸水し、"
                    "外に出られません。薬が残り少ないそうです。")
        return f"{who}の集合住宅の1階の自宅に、水が入り始めました。上の階に知り合いはいません。"
    if person.upper_floor:
        return f"{who}が自宅の2階に上がったまま孤立しています。1階は胸の高さまで水が来ています。"
    if person.building_floors == 1:
        return f"{who}の家（平屋）に水が入り始め、床の上まで来ています。上がれる階はありません。"
    if person.building_floors and person.can_use_stairs is False:
        return f"{who}の家の1階に水が入り始めました。階段を使えないため、2階へ上がれません。"
    return f"{who}が自宅に取り残されています。家のまわりが深く浸水し、外に出られません。"


def _stay_at_home(person: Person | None) -> tuple[str, str]:
    """(what the person can do, the action) when the street in front is flooded."""
    if person is None:
        return "", "家の中で安全を確保できるか確かめ、見守りの連絡方法を決める"
    if person.upper_floor and person.home_floor is None:
        return ("家は2階建てで、本人は階段を使えます。",
                "外に出ず、自宅の2階で安全を確保する。見守りの連絡方法（だれが・何時に電話するか）を決める")
    if person.home_floor is not None and person.home_floor >= 2:
        return (f"自宅は集合住宅の{person.home_floor}階です。",
                "外に出ず、自宅で安全を確保する。水・薬・電気が足りるかと、見守りの連絡方法を決める")
    return ("上の階へは上がれません。",
            "家の中にとどまって大丈夫か（浸水の深さ）を確かめる。危ないときは消防に救助を頼む。見守りの連絡方法を決める")


class _Places:
    """The places a scenario can still recommend: safe (for rain) and not closed."""

    def __init__(self, candidates: list[Place], start: int):
        rotated = candidates[start:] + candidates[:start] if candidates else []
        self.order = sorted(rotated, key=lambda p: not p.inside)  # inside the district first
        self.closed: set[str] = set()
        self.last: Place | None = None

    def open(self) -> list[Place]:
        return [p for p in self.order if p.name not in self.closed]

    def recommend(self) -> Place | None:
        places = self.open()
        if self.last is not None and self.last.name not in self.closed:
            return self.last
        self.last = places[0] if places else None
        return self.last

    def close(self, place: Place) -> None:
        self.closed.add(place.name)
        if self.last is not None and self.last.name == place.name:
            self.last = None


def generate(facts: DistrictFacts, hazard: ExerciseHazard, start: dt.datetime, duration_h: int = 2,
             difficulty: int = 2, seed: int = 1, closed_session: bool = False) -> Scenario:
    """The MSEL for ``facts``: realistic scenario time, cards spread over the session's inject block."""
    rng = np.random.default_rng(seed)
    setting, gauge = facts.setting, facts.setting.gauge
    people = list(facts.at_risk)
    pool = people[:10]  # the highest-priority people; the seed picks three of them
    picks = sorted(rng.choice(len(pool), size=min(3, len(pool)), replace=False)) if pool else []
    chosen: list[Person] = [pool[i] for i in picks]
    powered = next((p for p in people if p.power_device), None)
    if powered is not None and powered not in chosen:  # the power-cut inject needs such a person
        chosen = [*chosen[:1], powered, *chosen[2:]] if len(chosen) >= 2 else [*chosen, powered]
    rain = hazard in RAIN_HAZARDS
    candidates = [p for p in facts.shelters if p.safe]
    places = _Places(candidates, int(rng.integers(len(candidates))) if candidates else 0)
    unsafe = [p for p in facts.shelters if not p.safe and p.inside] if rain else []
    welfare = [p for p in facts.welfare if p.safe]
    zone = facts.landslide_zones[int(rng.integers(len(facts.landslide_zones)))] if facts.landslide_zones else None
    values: dict[str, Any] = {
        "city": setting.city, "district": facts.district, **_gauge_values(gauge),
        "eq_event": f"{setting.earthquake_source}を震源とする地震" if setting.earthquake_source else "大きな地震",
        "eq_intensity": setting.earthquake_intensity,
        "area": setting.landslide_area, "sluice": setting.sluice,
        "welfare": welfare[0].name if welfare else "市内の福祉避難所", "shortage": replace(facts, welfare_shortage=max(facts.welfare_shortage, 1)).figures(closed_session)["shortage"],
        "zone": zone or f"{facts.district}校区の山ぎわ",
    }
    for i in range(3):
        person = chosen[i] if i < len(chosen) else None
        values[f"person{i}"] = f"{person.label}（{person.descriptor}）" if person else "近所の一人暮らしの高齢者"
    values["stranded"] = _stranded(chosen[2] if len(chosen) > 2 else None)
    values["person1_way"], values["stay_action1"] = _stay_at_home(chosen[1] if len(chosen) > 1 else None)

    steps = [s for s in TIMELINES[hazard] if s.minimum <= difficulty]
    blocks = session_plan(duration_h)
    inject_block = next(b for b in blocks if b.title == "状況付与")
    gap = (inject_block.minutes - 5) / max(len(steps) - 1, 1)
    injects: list[Inject] = []
    no_safe_place = False
    for step in steps:
        refs: dict[str, Any] = {"residents": [], "places": [], "recommended": [], "closed": [],
                                "gauge_level": step.gauge_level}
        closed: Place | None = None
        if "{power_action}" in step.actions and (powered is None or len(chosen) < 2 or chosen[1] != powered):
            continue  # the power-cut card needs a person who depends on a powered device
        if step.effect == "unsafe":
            closed = unsafe.pop(0) if unsafe else None
            if closed is None:
                continue  # every shelter of the district is usable: nothing to close
        elif step.effect in ("full", "cut", "damaged"):
            closed = places.recommend()
            if closed is None:
                continue  # nothing open to fill or cut off: the earlier card already said so
        elif step.effect == "welfare_full" and welfare:
            closed = welfare[0]
        if closed is not None:
            if step.effect != "welfare_full":
                places.close(closed)
            refs["closed"].append(closed.name)
            refs["places"].append(closed.name)
            values["closed"], values["closed_reason"] = closed.name, closed.reason or "想定区域の中にある"
        text = " ".join((step.synopsis, step.message, step.actions))
        recommend = places.recommend() if ("{recommend}" in text or "{open_list}" in text) else None
        use_alt = ("{recommend}" in text or "{open_list}" in text) and recommend is None
        if recommend is not None:
            values["recommend"] = recommend.label
            opened = places.open()[:3]
            values["open_list"] = "、".join(p.label for p in opened)
            refs["recommended"] += [p.name for p in opened] if "{open_list}" in text else [recommend.name]
            if "{open_list}" not in text:
                refs["places"].append(recommend.name)
            else:
                refs["places"] += [p.name for p in opened]
        power_place = next((p for p in places.open() if p.backup_power), None)
        if "{power_action}" in text:
            if power_place is not None:
                values["power_action"] = f"非常用電源のある{power_place.label}へ移る手段（車・福祉タクシーなど）を確保する"
                refs["recommended"].append(power_place.name)
                refs["places"].append(power_place.name)
            else:
                values["power_action"] = ("開いている避難所に非常用電源があるかを市に確かめる。なければ、電源のある病院などへの"
                                          "移送を家族・主治医・市と相談する")
        message = step.alt_message if use_alt and step.alt_message else step.message
        actions = step.alt_actions if use_alt and step.alt_actions else step.actions
        if use_alt:
            no_safe_place = True
            refs["recommended"] = []
        if "{welfare}" in text and welfare:
            refs["places"].append(welfare[0].name)
        if "{zone}" in text and zone:
            refs["places"].append(zone)
        for i in range(3):
            if f"{{person{i}}}" in text and i < len(chosen):
                refs["residents"].append(chosen[i].label)
        if step.map == "person2" and len(chosen) > 2:
            refs["residents"].append(chosen[2].label)
        map_ref = _map_ref(step.map, chosen, recommend, closed, welfare, zone, facts)
        number = len(injects) + 1
        injects.append(Inject(
            number=number, time=_clock(start, step.minute), scenario_min=step.minute,
            session_min=inject_block.start_min + round((number - 1) * gap),
            level=step.level, synopsis=step.synopsis.format(**values), type=step.type, delivery=step.delivery,
            sender=step.sender.format(**values), to=step.to, message=message.format(**values),
            expected_actions=actions.format(**values), objective=step.objective, contingency=step.contingency,
            map_ref=map_ref, evaluator_notes=step.evaluator.format(**values), eased=step.eased, refs=refs,
        ))
        if step.effect == "welfare_full" and welfare:
            welfare.pop(0)
            values["welfare"] = welfare[0].name if welfare else "市内の福祉避難所"
    if injects:  # spread the cards over the inject block (skipped cards leave no holes)
        gap = (inject_block.minutes - 5) / max(len(injects) - 1, 1)
        for k, inject in enumerate(injects):
            inject.session_min = inject_block.start_min + round(k * gap)
    last = injects[-1].scenario_min if injects else 0
    hours = last / 60
    span = f"{_clock(start, 0)} 〜 {_clock(start, last)}（約{hours:.0f}時間）" if hours >= 1 else \
        f"{_clock(start, 0)} 〜 {_clock(start, last)}（約{last}分）"
    return Scenario(
        district=facts.district, hazard=hazard.value,
        title=f"{facts.district}校区 図上訓練：{hazard_title(hazard, setting)}",
        start=start.isoformat(timespec="minutes"), span=span, duration_h=duration_h, difficulty=difficulty, seed=seed,
        closed_session=closed_session, groups=list(DELIVERY_GROUPS), injects=injects, session=blocks,
        gauge=asdict(gauge) if gauge is not None and hazard == ExerciseHazard.FLOOD else None, no_safe_place=no_safe_place,
    )


def _map_ref(kind: str | None, chosen: list[Person], recommend: Place | None, closed: Place | None,
             welfare: list[Place], zone: str | None, facts: DistrictFacts) -> str:
    """The grid cell of what the card is about ("—" when it is not one place in the district)."""
    cell: str | None = None
    if kind and kind.startswith("person"):
        index = int(kind[-1])
        cell = chosen[index].cell if index < len(chosen) else None
    elif kind == "recommend" and recommend is not None:
        cell = recommend.cell
    elif kind == "closed" and closed is not None:
        cell = closed.cell
    elif kind == "welfare" and welfare:
        cell = welfare[0].cell
    elif kind == "zone" and zone:
        cell = facts.zone_cells.get(zone)
    elif kind == "district":
        cell = facts.district_cell
    if cell is None and kind == "recommend" and recommend is not None and not recommend.inside:
        return "格子の外（校区の外）"
    return cell or "—"


def levels_consistent(scenario: Scenario) -> bool:
    """警戒レベル never decreases before the climax unless an inject says the situation eased."""
    levels = [(i.level, i.eased) for i in scenario.injects if i.level is not None]
    if not levels:
        return True
    climax = max(range(len(levels)), key=lambda k: (levels[k][0], -k))
    return all(levels[k + 1][0] >= levels[k][0] or levels[k + 1][1] for k in range(climax))


def recommendation_conflicts(scenario: Scenario) -> list[str]:
    """Places recommended after a card closed them (full, cut off, not opened): must be empty."""
    closed: set[str] = set()
    problems = []
    for inject in scenario.injects:
        for name in inject.refs.get("recommended", []):
            if name in closed:
                problems.append(f"カード{inject.number}: {name}")
        closed |= set(inject.refs.get("closed", []))
    return problems
