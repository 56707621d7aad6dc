"""Printed materials beside the scenario: role cards, the materials list, the クロノロジー sheet,
the pseudonymised person sheet (stickers for DIG step ③) and the feedback form.

The feedback form asks exactly what `disaster exercise record` / `exercise import` store: the
participant's role (ROLES), three 1–5 ratings (総合評価 / 理解度 / 役立ち度), よかった点, 改善点 and
課題 (課題・対応・担当・期限)."""

from __future__ import annotations

from dataclasses import dataclass

from disaster.exercises.scenario import Person, Scenario

ROLES = ("自治会", "民生委員", "消防団", "住民", "福祉専門職", "学生", "行政", "その他")
# (column in the import sheet / record field, question on the form)
RATINGS = (
    ("総合評価", "rating_overall", "訓練全体はいかがでしたか"),
    ("理解度", "rating_understanding", "自分の役割と、いつ何をするかが分かりましたか"),
    ("役立ち度", "rating_usefulness", "地域の備えに役立つと思いますか"),
)
RATING_SCALE = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class RoleCard:
    role: str
    who: str  # who should take it
    tasks: list[str]
    tip: str


def role_cards(scenario: Scenario) -> list[RoleCard]:
    cards = [
        RoleCard("進行役（ファシリテーター）", "社協・市の職員、防災士など1人",
                 ["ねらいと進め方を説明し、時間割を守る", "状況付与の合図を出し、班の話し合いを止めすぎない",
                  "振り返りで「なぜそう判断したか」を聞く"],
                 "正解を教えるより、判断の理由を言葉にしてもらう。"),
        RoleCard("状況付与係（コントローラー）", "1〜2人（訓練の内容を前もって読んだ人）",
                 ["カードを配る目安の時刻（訓練開始から何分）に、宛先の班へ渡す",
                  "※のカードは、班の進み具合を見て使うか決める", "カードの想定時刻を読み上げ、時間が進んだことを伝える"],
                 "想定時刻（シナリオの時刻）と、訓練の経過時間を取り違えない。"),
        RoleCard("記録係（クロノロジー）", "1人（字が読みやすい人）",
                 ["カードの内容と各班の判断を、クロノロジー用紙に時刻順に書く", "決まったこと・決まらなかったことを分けて書く",
                  "振り返りで記録を読み上げる"],
                 "だれが・いつ・何を決めたかが後で分かるように書く。"),
        RoleCard("評価者", "1人（消防団・防災士・福祉専門職など）",
                 ["手引きの「評価メモ」を見ながら、各班の動きを観察する", "よかった点と課題を、振り返りで1つずつ伝える"],
                 "人ではなく、しくみの課題として伝える。"),
    ]
    group_tasks = {
        "情報班": ["気象・川の水位・市の避難情報を集め、全体に伝える", "通れない道や危ない場所を地図に書き込む",
                 "うわさと確かな情報を分ける"],
        "要支援者班": ["手助けが必要な人（人物シート）の避難の順番と支援者を決める", "支援者が来られないときの代わりを手配する",
                   "移動手段（歩き・車・福祉タクシー）と出発時刻を決める"],
        "避難所班": ["開いている避難所・使えない避難所を把握する", "満員や閉鎖のときの次の行き先を決める",
                  "福祉スペースの場所と、福祉避難所への移送を市と調整する"],
    }
    for group in scenario.groups:
        cards.append(RoleCard(group, "班員 4〜6人（自治会・民生委員・消防団・住民が混ざるように）",
                              group_tasks.get(group, ["カードを読み、班で判断してワークシートに書く"]),
                              "判断と理由をワークシートに書き、決まらないことは「課題」として残す。"))
    return cards


def materials_list(scenario: Scenario, dig_size: str, people: int) -> list[tuple[str, str, str]]:
    """(item, quantity, note) for preparing the session."""
    groups = len(scenario.groups)
    return [
        ("DIG 基図", f"{dig_size} を {groups}枚（班ごとに1枚）", "dig_map.pdf を印刷"),
        ("透明シート（OPシート）", f"{groups}枚", "基図に重ねて書き込む"),
        ("油性ペン", f"青・緑・赤・黒 各{groups}本", "青：川・水路、緑：避難路、赤：危ない場所、黒：書き込み"),
        ("人物シート（シール）", f"{groups}組", "person_sheet.pdf を印刷して切り取り、テープかのりで地図に貼る"),
        ("丸シール", "赤・黄・青 各1シート", "支援者の家・避難所の目印"),
        ("状況付与カード", "1組", "inject_cards.pdf を印刷し、切り取り線で切る"),
        ("ワークシート", f"{groups}枚", "worksheets.pdf"),
        ("クロノロジー用紙", "2枚", "chronology.pdf（A3 に拡大すると書きやすい）"),
        ("役割カード", "1組", "role_cards.pdf"),
        ("ジレンマカード", f"{groups}組", "dilemma_cards.pdf"),
        ("アンケート", f"{people}枚", "feedback_form.pdf"),
        ("進行役の手引き", "進行役・状況付与係・評価者の人数分", "facilitator_guide.pdf"),
        ("付箋・名札・タイマー", "適量", ""),
    ]


@dataclass(frozen=True)
class Sticker:
    label: str  # pseudonym
    descriptor: str
    cell: str


def person_stickers(people: list[Person], limit: int = 18) -> list[Sticker]:
    """Stickers for DIG step ③: pseudonym, the descriptor (age band, one need, kind of home,
    whether a supporter is registered, as precise as ``pseudonyms`` allows) and the grid cell of
    the home (never a name, address or phone number)."""
    return [Sticker(p.label, p.descriptor, p.cell or "—") for p in people[:limit]]
