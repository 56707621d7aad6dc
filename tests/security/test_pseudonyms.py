"""Issue 14 §5: pseudonyms that really hide people.

- Open 図上訓練 packs and public outputs carry no identifier of anyone in the store (internal
  ids, 名簿番号, 支援者番号, names, addresses, phones, birth dates).
- Every pseudonymised person's printed descriptor fits at least k residents of the 校区, counted
  here by the test's own reading of the printed words (a property over generated packs, and over
  random populations for the pure function).
- Small numbers are withheld consistently: no withheld count can be recovered by subtraction from
  what is printed (totals, capacities, shares).
- A supporter's count in a leader's view counts only the residents that view may show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from disaster import access, suppression
from disaster.access import Principal, Role
from disaster.exercises import pseudonyms
from disaster.exercises.materials import person_stickers
from disaster.exercises.scenario import ExerciseHazard
from disaster.models import AssessmentRun, District, Resident, Supporter, resident_supporter
from disaster.usecases.exercises import district_facts, new_pack
from disaster.usecases.maps import city_map_page, district_file, district_map_page
from disaster.usecases.public import public_figures
from disaster.wareki import to_wareki
from tests.conftest import KURUME
from tests.plans_fixtures import X0, Y0, _assessment, _bbox, _resident, _shelter

START = dt.datetime(2026, 7, 8, 18, 0)
K = 5  # the bundled profile's [exercise] pseudonym_k (the default)
PACK_DISTRICT = "安武"


# --- the test's own reading of a printed descriptor ---------------------------------------------

def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _word_fits(word: str, r: Resident, supported: bool, today: dt.date) -> bool:
    """Does resident ``r`` fit one printed word? An unknown word fails the test: a new word
    printed about people must be taught here before it ships."""
    age = _age(r.birth_date, today)
    devices = list(r.medical_devices or [])
    fixed: dict[str, Callable[[], bool]] = {
        "65歳以上": lambda: age is not None and age >= 65, "65歳未満": lambda: age is not None and age < 65,
        "医療機器を使う": lambda: bool(devices), "移動に手助けが必要": lambda: r.mobility not in (None, "自立"),
        "杖や歩行器": lambda: r.mobility == "杖・歩行器", "独居": lambda: bool(r.lives_alone),
        "平屋": lambda: r.home_floor is None and r.building_floors == 1,
        "一戸建て": lambda: r.home_floor is None and bool(r.building_floors),
        "集合住宅": lambda: r.home_floor is not None,
        "支援者あり": lambda: supported, "支援者なし": lambda: not supported, "支援が必要な方": lambda: True,
    }
    if word in fixed:
        return fixed[word]()
    if m := re.fullmatch(r"(\d+)代", word):
        return age is not None and age // 10 * 10 == int(m[1])
    if m := re.fullmatch(r"(\d+)階建て", word):
        return r.home_floor is None and r.building_floors == int(m[1])
    if m := re.fullmatch(r"集合住宅の(\d+)階", word):
        return r.home_floor == int(m[1])
    if word in ("車いす", "寝たきり", "介助が必要"):
        return r.mobility == word
    if word in ("人工呼吸器", "在宅酸素", "たん吸引器", "電動ベッド", "胃ろう", "人工透析"):
        return word in devices
    pytest.fail(f"the test does not know the printed word 「{word}」")


def _fitting(descriptor: str, people: list[tuple[Resident, bool]], today: dt.date) -> int:
    """How many of ``people`` fit every word of a printed descriptor (words are joined with ・)."""
    words = descriptor.split("・")
    return sum(1 for r, supported in people if all(_word_fits(w, r, supported, today) for w in words))


def _district_people(store, district: str) -> list[tuple[Resident, bool]]:
    """Every resident of ``district`` in the store, with whether a supporter is linked."""
    with store.sessions() as session:
        residents = list(session.scalars(select(Resident).join(District, Resident.district_id == District.id)
                                         .where(District.name == district, District.city_code == store.city_code)))
        supported = set(session.scalars(select(resident_supporter.c.resident_id)))
        session.expunge_all()
    return [(r, r.id in supported) for r in residents]


MENTION = re.compile(r"([A-Z]\d*さん)（([^）]+)）")


# --- identifiers in open packs and public outputs -----------------------------------------------

def _identifiers(store) -> dict[str, set[str]]:
    """What must never be printed in an open or public output, by kind (spaces removed)."""
    found: dict[str, set[str]] = {"名簿番号": set(), "氏名": set(), "住所": set(), "電話": set(), "生年月日": set(),
                                  "支援者番号": set()}
    with store.sessions() as session:
        for r in session.scalars(select(Resident).where(Resident.city_code == store.city_code)):
            found["名簿番号"].add(r.resident_no)
            found["氏名"].add(r.name)
            found["住所"].add(r.address or "")
            found["電話"].add(r.phone or "")
            if r.birth_date is not None:
                found["生年月日"] |= {r.birth_date.isoformat(), f"{r.birth_date:%Y/%m/%d}", to_wareki(r.birth_date)}
        for s in session.scalars(select(Supporter).where(Supporter.city_code == store.city_code)):
            found["支援者番号"].add(s.supporter_no)
            found["氏名"].add(s.name)
            found["住所"].add(s.address or "")
            found["電話"].add(s.phone or "")
    return {kind: {"".join(v.split()) for v in values if v and len("".join(v.split())) >= 4}
            for kind, values in found.items()}


def _printed(path: Path) -> str:
    if path.suffix == ".pdf":
        return "".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _leaks(texts: dict[str, str], identifiers: dict[str, set[str]]) -> list[str]:
    leaks = []
    for name, text in texts.items():
        squeezed = "".join(text.split())
        leaks += [f"{name}: {kind} {value}" for kind, values in identifiers.items() for value in values
                  if value in squeezed]
    return leaks


INT_KEYS = {"number", "scenario_min", "session_min", "level", "duration_h", "difficulty", "seed", "start_min",
            "minutes"}


def _int_fields(value: object, key: str = "") -> Iterable[str]:
    """The keys under which ``value`` (parsed JSON) holds an integer."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _int_fields(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _int_fields(v, key)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield key


@pytest.fixture(scope="module")
def open_pack(demo_store, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    out = tmp_path_factory.mktemp("open_pack")
    pack = new_pack(demo_store.sessions, Principal.cli(demo_store.city_code), PACK_DISTRICT, ExerciseHazard.FLOOD, out,
                    START, duration_h=3, difficulty=3, seed=2)
    return pack, out


def test_an_open_pack_carries_no_identifier_and_no_internal_id(demo_store, open_pack) -> None:
    pack, out = open_pack
    data = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert set(_int_fields(data)) <= INT_KEYS  # no database id anywhere (refs name people by their label)
    mentioned = {label for i in data["injects"] for label in i["refs"]["residents"]}
    assert mentioned and all(re.fullmatch(r"[A-Z]\d*さん", label) for label in mentioned)
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".csv", ".html", ".pdf", ".js")]
    assert {p.name for p in pack.files} <= {p.name for p in files}
    texts = {p.name: _printed(p) for p in files}
    assert _leaks(texts, _identifiers(demo_store)) == []


def test_public_outputs_carry_no_identifier(demo_store) -> None:
    public = Principal.public(demo_store.city_code)
    figures = public_figures(demo_store.sessions, demo_store.city_code, dt.datetime(2026, 7, 8, 12, 0, tzinfo=dt.UTC))
    texts = {"public_figures": repr(figures), "city_map": city_map_page(demo_store.sessions, public, link=district_file).html}
    for district in (PACK_DISTRICT, "城島"):
        texts[district] = district_map_page(demo_store.sessions, public, district).html
    assert _leaks(texts, _identifiers(demo_store)) == []


# --- k residents fit every printed descriptor ---------------------------------------------------

def test_every_person_of_an_open_pack_is_described_as_at_least_k_residents(demo_store, open_pack) -> None:
    """The property on a generated pack: for every pseudonymised person the pack prints (stickers
    and cards), count the residents of the 校区 who fit the printed words."""
    pack, out = open_pack
    today = dt.date.today()
    people = _district_people(demo_store, PACK_DISTRICT)
    with demo_store.sessions() as session:
        facts = district_facts(session, Principal.cli(demo_store.city_code), PACK_DISTRICT, ExerciseHazard.FLOOD)
    stickers = person_stickers(facts.at_risk)
    sheet = "".join(_printed(out / "person_sheet.pdf").split())
    assert stickers and all("".join(s.descriptor.split()) in sheet for s in stickers)  # what is printed
    text = (out / "scenario.json").read_text(encoding="utf-8")
    mentions = {(m[1], m[2]) for m in MENTION.finditer(text)} | {(s.label, s.descriptor) for s in stickers}
    assert len({label for label, _ in mentions}) == len(mentions)  # one descriptor per pseudonym
    for label, descriptor in mentions:
        assert _fitting(descriptor, people, today) >= K, (label, descriptor)


@pytest.mark.parametrize("hazard", [ExerciseHazard.FLOOD, ExerciseHazard.EARTHQUAKE])
def test_every_pseudonymised_person_of_every_district_fits_k_residents(demo_store, hazard) -> None:
    """The same property over every 校区 of the demo (the people a pack would print), and no
    descriptor names more than one need."""
    today = dt.date(2026, 4, 1)
    principal = Principal.cli(demo_store.city_code)
    with demo_store.sessions() as session:
        districts = list(session.scalars(select(District.name).where(District.city_code == demo_store.city_code)))
    needs = {"車いす", "寝たきり", "杖や歩行器", "介助が必要", "移動に手助けが必要", "医療機器を使う", "独居",
             "人工呼吸器", "在宅酸素", "たん吸引器", "電動ベッド"}
    checked = 0
    for district in districts:
        with demo_store.sessions() as session:
            facts = district_facts(session, principal, district, hazard, today=today)
        people = _district_people(demo_store, district)
        for person in facts.at_risk:
            assert _fitting(person.descriptor, people, today) >= K, (district, person.label, person.descriptor)
            assert sum(1 for w in person.descriptor.split("・") if w in needs) <= 1, person.descriptor
            checked += 1
    assert checked >= 100


def test_descriptors_are_as_precise_as_k_allows() -> None:
    person = pseudonyms.Traits(83, "車いす", ("在宅酸素",), True, 1, None, False)
    assert pseudonyms.describe(person, [person] * 5, 5).text == "80代・在宅酸素・平屋・支援者なし"  # type: ignore[union-attr]
    others = [pseudonyms.Traits(70 + i, "自立", (), False, 2, None, True) for i in range(4)]
    assert pseudonyms.describe(person, [person, *others], 5).text == "65歳以上・一戸建て"  # type: ignore[union-attr]
    assert pseudonyms.describe(person, [person] * 4, 5) is None  # a 校区 of four hides nobody
    assert [pseudonyms.pseudonym(i) for i in (0, 25, 26, 27)] == ["Aさん", "Zさん", "A2さん", "B2さん"]


TRAITS = st.builds(
    pseudonyms.Traits,
    age=st.one_of(st.none(), st.integers(0, 105)),
    mobility=st.sampled_from([None, "自立", "杖・歩行器", "車いす", "寝たきり"]),
    devices=st.lists(st.sampled_from(["人工呼吸器", "在宅酸素", "電動ベッド"]), max_size=2, unique=True).map(tuple),
    lives_alone=st.one_of(st.none(), st.booleans()),
    building_floors=st.one_of(st.none(), st.integers(1, 3)),
    home_floor=st.one_of(st.none(), st.integers(1, 4)),
    has_supporter=st.booleans(),
)


class _Row:
    """A resident as the test's reader sees one (from random traits)."""

    def __init__(self, t: pseudonyms.Traits, today: dt.date) -> None:
        self.birth_date = None if t.age is None else dt.date(today.year - t.age, 1, 1)
        self.mobility, self.medical_devices, self.lives_alone = t.mobility, list(t.devices), t.lives_alone
        self.building_floors, self.home_floor = t.building_floors, t.home_floor


@settings(max_examples=150, deadline=None)
@given(population=st.lists(TRAITS, min_size=1, max_size=40), k=st.integers(2, 8))
def test_a_descriptor_always_fits_k_of_the_population_as_printed(population, k) -> None:
    today = dt.date(2026, 6, 1)
    rows = [(_Row(t, today), t.has_supporter) for t in population]
    for t in population:
        descriptor = pseudonyms.describe(t, population, k)
        if descriptor is None:
            assert len(population) < k
            continue
        assert descriptor.fits(t)
        assert _fitting(descriptor.text, rows, today) >= k  # type: ignore[arg-type]


# --- small numbers cannot be recovered by subtraction -------------------------------------------

def _interval(label: str) -> tuple[int, int] | None:
    """What a reader learns from a printed count (None: nothing)."""
    if label == suppression.WITHHELD:
        return 1, suppression.SMALL_NUMBER - 1
    if m := re.fullmatch(r"(\d+)〜(\d+)", label):
        return int(m[1]), int(m[2])
    if label.isdigit():
        return int(label), int(label)
    return None


def _bounds(label: str) -> tuple[int, int]:
    found = _interval(label)
    assert found is not None, label
    return found


def _recovered(cells: list[str], total: str) -> list[int]:
    """The withheld cells a reader pins down from the printed total and the other cells, by brute
    force over every value the printed cells allow."""
    known = _interval(total)
    ranges = [_bounds(c) for c in cells]
    if known is None or known[0] != known[1]:
        return []
    feasible: list[set[int]] = [set() for _ in cells]
    for values in itertools.product(*(range(lo, hi + 1) for lo, hi in ranges)):
        if sum(values) == known[0]:
            for i, v in enumerate(values):
                feasible[i].add(v)
    return [i for i, (lo, hi) in enumerate(ranges) if lo != hi and len(feasible[i]) == 1]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(0, 9), min_size=1, max_size=5))
def test_no_withheld_count_is_recovered_from_a_printed_total(values) -> None:
    cells = [suppression.count(v) for v in values]
    assert _recovered([str(c) for c in cells], str(suppression.total(cells))) == []


@settings(max_examples=200, deadline=None)
@given(wholes=st.lists(st.integers(0, 12), min_size=1, max_size=4), data=st.data())
def test_no_withheld_part_is_recovered_from_its_whole_or_the_total(wholes, data) -> None:
    parts = [data.draw(st.integers(0, w)) for w in wholes]
    cells = [suppression.part(p, w) for p, w in zip(parts, wholes, strict=True)]
    for p, w, cell in zip(parts, wholes, cells, strict=True):
        lo, hi = _interval(str(cell)) or (0, w)
        assert lo <= p <= hi
        if suppression.count(w).exact:  # the rest (whole − part) a reader derives is never 1–4 exactly
            rests = {w - x for x in range(lo, hi + 1)}
            assert len(rests) > 1 or not suppression.is_small(rests.pop()), (p, w, str(cell))
    assert _recovered([str(c) for c in cells], str(suppression.total(cells))) == []


def test_the_places_left_never_give_the_assigned_people_away() -> None:
    public = Principal.public(KURUME)
    for capacity, assigned in ((100, 3), (100, 97), (50, 0), (50, 50), (8, 2)):
        used, left = access.capacity_labels(public, capacity, assigned)
        lo, hi = _interval(left) or (0, capacity)
        derived = {capacity - x for x in range(lo, hi + 1)}  # capacity − left = assigned
        if suppression.is_small(assigned) or suppression.is_small(capacity - assigned):
            assert used != str(assigned) and len(derived) > 1, (capacity, assigned, used, left)
        else:
            assert used == str(assigned) and derived == {assigned}
    city = Principal("staff", Role.CITY_STAFF, KURUME)
    assert access.capacity_labels(city, 100, 3) == ("3", "97")


def test_public_figures_give_no_withheld_count_away(demo_store) -> None:
    figures = public_figures(demo_store.sessions, demo_store.city_code, dt.datetime(2026, 7, 8, 12, 0, tzinfo=dt.UTC))
    for key in ("residents", "at_risk", "issued", "unsupported"):
        bounds = [_bounds(str(getattr(d, key))) for d in figures.districts]
        total = _interval(str(figures.totals[key]))
        if total is None:
            continue
        # interval arithmetic (exact for sums of integer ranges; too many cells to enumerate): a
        # cell is pinned when the total and the others' bounds leave it one value
        for i, (lo, hi) in enumerate(bounds):
            if lo == hi:
                continue
            rest_lo = sum(b[0] for k, b in enumerate(bounds) if k != i)
            rest_hi = sum(b[1] for k, b in enumerate(bounds) if k != i)
            assert max(lo, total[0] - rest_hi) < min(hi, total[1] - rest_lo), (key, figures.districts[i].name)
    with demo_store.sessions() as session:  # a rate is a count too: shown only when neither side is 1–4
        counted = select(District.name, func.count()).select_from(Resident).join(Resident.district)
        planned = dict(session.execute(counted.where(Resident.consent_plan.is_(True)).group_by(District.name)).all())
        everyone = dict(session.execute(counted.group_by(District.name)).all())
    for d in figures.districts:
        if d.plan_rate.endswith("%"):
            n, yes = everyone.get(d.name, 0), planned.get(d.name, 0)
            assert not suppression.is_small(yes) and not suppression.is_small(n - yes), (d.name, yes, n)


def test_the_open_pack_prints_the_districts_small_counts_withheld(demo_store, open_pack) -> None:
    with demo_store.sessions() as session:
        facts = district_facts(session, Principal.cli(demo_store.city_code), PACK_DISTRICT, ExerciseHazard.FLOOD)
    small = dataclasses.replace(facts, unsupported=3, welfare_shortage=2)
    printed = small.figures(closed_session=False)
    assert printed["unsupported"] == printed["shortage"] == "5人未満"
    assert small.figures(closed_session=True)["unsupported"] == "3人"
    guide = "".join(_printed(open_pack[1] / "facilitator_guide.pdf").split())
    shown = facts.figures(closed_session=False)
    assert all(value in guide for value in shown.values())


def _hand_districts(store, spec: dict[str, list[tuple[bool, bool]]]) -> None:
    """Districts side by side, each with residents given as (at risk in a flood, consented to plan-making)."""
    with store.sessions() as session, session.begin():
        run = AssessmentRun(city_code=KURUME, computed_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC), data_versions={},
                            parameters={}, resident_count=sum(len(people) for people in spec.values()))
        session.add_all([run, _shelter("T-S1", "手作り小学校", X0 + 0.01, Y0 + 0.02)])  # maps need a shelter
        for k, (name, people) in enumerate(spec.items()):
            area = shapely.box(X0 + 0.03 * k, Y0, X0 + 0.03 * (k + 1), Y0 + 0.03)
            district = District(city_code=KURUME, name=name, source="test", is_demo=True, **_bbox(area))
            session.add(district)
            session.flush()
            for i, (at_risk, planned) in enumerate(people):
                resident = _resident(f"{name}{i:03d}", f"{name} {i}", district, consent_plan=planned,
                                     lon=X0 + 0.03 * k + 0.001 * (i + 1), lat=Y0 + 0.01)
                session.add(resident)
                session.flush()
                session.add(_assessment(resident, run, flood_l2_rank=2 if at_risk else None))


def test_public_figures_hide_what_subtraction_would_reveal(store) -> None:
    """Two 校区 of one resident each beside one of ten: the city total would pin both withheld
    cells (10 + 1 + 1), 8 at risk of 10 would give the 2 not at risk, 10% the one planner."""
    _hand_districts(store, {"東": [(False, False)], "西": [(False, False)],
                            "中": [(i < 8, i == 0) for i in range(10)]})
    figures = public_figures(store.sessions, KURUME, dt.datetime(2026, 7, 8, 12, 0, tzinfo=dt.UTC))
    cells = [str(d.residents) for d in figures.districts]
    assert cells.count(suppression.WITHHELD) == 2
    assert _recovered(cells, str(figures.totals["residents"])) == []
    (middle,) = [d for d in figures.districts if d.name == "中"]
    assert str(middle.residents) == "10" and str(middle.at_risk) == "6〜9"  # not 8: 10 − 8 = 2 not at risk
    assert middle.plan_rate == suppression.HIDDEN_SHARE  # not 10%: one person
    public = Principal.public(KURUME)
    assert "危険な区域に住む人 6〜9 人" in district_map_page(store.sessions, public, "中").html  # the public map too
    city = city_map_page(store.sessions, public, link=district_file).html
    assert "中：6〜9" in city and "中：8" not in city and "中：10%" not in city


def test_an_open_pack_lists_nobody_when_few_people_are_at_risk(store) -> None:
    """With 1–4 people at risk the number of stickers would give the withheld count away."""
    _hand_districts(store, {"少数": [(i < 3, True) for i in range(8)]})
    with store.sessions() as session:
        facts = district_facts(session, Principal.cli(KURUME), "少数", ExerciseHazard.FLOOD, today=dt.date(2026, 4, 1))
        named = district_facts(session, Principal.cli(KURUME), "少数", ExerciseHazard.FLOOD, closed_session=True,
                               today=dt.date(2026, 4, 1))
    assert facts.at_risk == [] and facts.figures(closed_session=False)["at_risk"] == "5人未満"
    assert len(named.at_risk) == 3 and named.figures(closed_session=True)["at_risk"] == "3人"


# --- a supporter's count in a leader's view -----------------------------------------------------

LEADER = Principal("leader", Role.LEADER, KURUME, frozenset({"北"}))


def _shared_supporters(store) -> None:
    """Two supporters in 北: 近所 helps 5 consenting and 2 non-consenting residents, 長男 helps 1
    consenting and 3 non-consenting ones (the city's limit is 3). The assessments hold the issues
    the engine writes (``supporter_issues``, over every link)."""
    import numpy as np
    import pandas as pd

    from disaster.analysis.supporters import supporter_issues

    with store.sessions() as session, session.begin():
        area = shapely.box(X0, Y0, X0 + 0.03, Y0 + 0.03)
        district = District(city_code=KURUME, name="北", source="test", is_demo=True, **_bbox(area))
        session.add(district)
        run = AssessmentRun(city_code=KURUME, computed_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC), data_versions={},
                            parameters={}, resident_count=11)
        near = Supporter(city_code=KURUME, supporter_no="H1", name="支援 近所", relation="近所", consent=True,
                         source="test", lon=X0 + 0.001, lat=Y0 + 0.001)
        son = Supporter(city_code=KURUME, supporter_no="H2", name="支援 長男", relation="長男", consent=True,
                        source="test", lon=X0 + 0.002, lat=Y0 + 0.002)
        session.add_all([run, near, son])
        session.flush()
        plan = [("A", 5, True, near), ("N", 2, False, near), ("B", 1, True, son), ("M", 3, False, son)]
        residents: list[Resident] = []
        for prefix, n, consent, supporter in plan:
            for i in range(n):
                resident = _resident(f"{prefix}{i:03d}", f"北 {prefix}{i}", district, consent_share=consent,
                                     consent_plan=consent, lon=X0 + 0.001 * (len(residents) + 1), lat=Y0 + 0.01,
                                     supporters=[supporter])
                session.add(resident)
                residents.append(resident)
        session.flush()
        ids = np.array([r.id for r in residents])
        links = pd.DataFrame({"resident_id": [r.id for r in residents],
                              "supporter_id": [r.supporters[0].id for r in residents]})
        supporters = pd.DataFrame({"id": [near.id, son.id], "relation": ["近所", "長男"], "consent": [True, True],
                                   "load": [int((links["supporter_id"] == s).sum()) for s in (near.id, son.id)]})
        _, issues = supporter_issues(ids, np.array([r.consent_share for r in residents]), supporters, links,
                                     np.zeros(2, dtype=bool), 3)
        for resident, found in zip(residents, issues, strict=True):
            session.add(_assessment(resident, run, supporter_issues=found, supporter_count=1))


def _overloaded(texts: list[str]) -> list[str]:
    return [t for t in texts if "人の支援を担当" in t]


def test_a_leader_counts_only_the_residents_the_view_may_show(store) -> None:
    from disaster.usecases.plan_sheet import plan_sheet
    from disaster.usecases.residents import resident_detail

    _shared_supporters(store)
    city = Principal("staff", Role.CITY_STAFF, KURUME)
    emergency = Principal("leader", Role.LEADER, KURUME, frozenset({"北"}), emergency_districts=frozenset({"北"}))

    def issues(principal: Principal, number: str) -> list[str]:
        assessment = resident_detail(store.sessions, principal, number)["assessment"]
        return _overloaded([i["text"] for i in assessment["supporter_issues"]])

    def warnings(principal: Principal, number: str) -> list[str]:
        plan = plan_sheet(store.sessions, principal, number, dt.date(2026, 4, 1), with_map=False).plan
        assert plan is not None
        return _overloaded([w["text"] for w in plan["supporter_warnings"]])

    # 近所 helps 7: the city (and a leader under 災害時モード) reads 7, the leader the 5 it may see
    assert [re.search(r"(\d+)人の支援", t)[1] for t in issues(city, "A000")] == ["7"]  # type: ignore[index]
    assert [re.search(r"(\d+)人の支援", t)[1] for t in issues(emergency, "A000")] == ["7"]  # type: ignore[index]
    assert [re.search(r"(\d+)人の支援", t)[1] for t in issues(LEADER, "A000")] == ["5"]  # type: ignore[index]
    assert [re.search(r"(\d+)人の支援", t)[1] for t in warnings(LEADER, "A000")] == ["5"]  # type: ignore[index]
    # 長男 helps 4 (over the limit of 3), of whom the leader may see 1: no count, no warning
    assert len(issues(city, "B000")) == 1 and "4人" in issues(city, "B000")[0]
    assert issues(LEADER, "B000") == [] and warnings(LEADER, "B000") == []
