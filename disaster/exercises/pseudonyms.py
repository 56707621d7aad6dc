"""Pseudonyms that hide: how an exercise pack describes a person it does not name.

A pseudonymised person is a letter (Aさん, Bさん … Z, then A2さん …) and a descriptor of at most
four words: an age band, ONE need, the kind of home and whether a supporter is registered. Each
descriptor is chosen so that at least ``k`` residents of the 校区 fit it (k-anonymity, ``k`` from the
city profile's ``[exercise] pseudonym_k``, default 5): the words are coarsened one step at a time
(80代 → 65歳以上 → left out; 車いす → 移動に手助けが必要 → left out; 2階建て → 一戸建て → left out,
集合住宅の3階 → 集合住宅 → left out; 支援者なし → left out) until enough residents fit; when even the bare 「支援が必要な方」 fits fewer
than ``k`` (a 校区 with fewer residents), the person is left out of the pack.

The scenario may only use what the descriptor prints: a person's home storeys, stairs and powered
medical device reach the cards only when the descriptor says them at their most precise
(``Descriptor.exact``). Pure functions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_K = 5
ELDERLY = 65
GENERIC = "支援が必要な方"
POWER_DEVICES = ("人工呼吸器", "在宅酸素", "たん吸引器")
MOBILITY_WORDS = {"杖・歩行器": "杖や歩行器"}  # the descriptor itself is joined with "・"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def pseudonym(index: int) -> str:
    """The ``index``-th pseudonym of a pack: Aさん … Zさん, A2さん … (never two people alike)."""
    round_, letter = divmod(index, len(LETTERS))
    return f"{LETTERS[letter]}{round_ + 1 if round_ else ''}さん"


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    """Age in full years on ``today``."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Traits:
    """What a descriptor may say about a resident (nothing else is looked at)."""

    age: int | None
    mobility: str | None
    devices: tuple[str, ...]
    lives_alone: bool | None
    building_floors: int | None
    home_floor: int | None  # the floor of the unit in a flat; None: a house
    has_supporter: bool


Fits = Callable[[Traits], bool]


@dataclass(frozen=True)
class Word:
    """One word of a descriptor and the residents it fits."""

    text: str
    fits: Fits
    kind: str  # age / device / mobility / alone / house / flat / supporter
    exact: bool = True  # the facet's most precise word


def _age(t: Traits, level: int) -> Word | None:
    if t.age is None or level >= 2:
        return None
    if level == 0:
        band = t.age // 10
        return Word(f"{band * 10}代", lambda o: o.age is not None and o.age // 10 == band, "age")
    old = t.age >= ELDERLY
    return Word(f"{ELDERLY}歳以上" if old else f"{ELDERLY}歳未満",
                lambda o: o.age is not None and (o.age >= ELDERLY) == old, "age", False)


def _need(t: Traits, level: int) -> Word | None:
    """ONE need: a powered medical device first (the scenario's power cut needs it), then moving,
    then another device, then living alone."""
    powered = [d for d in t.devices if d in POWER_DEVICES]
    moving = t.mobility if t.mobility and t.mobility != "自立" else None
    device = next(iter(powered or t.devices), None)
    if level >= 2:
        return None
    if device is not None and (powered or not moving):
        if level == 0:
            return Word(device, lambda o: device in o.devices, "device")
        return Word("医療機器を使う", lambda o: bool(o.devices), "device", False)
    if moving:
        if level == 0:
            return Word(MOBILITY_WORDS.get(moving, moving), lambda o: o.mobility == moving, "mobility")
        return Word("移動に手助けが必要", lambda o: bool(o.mobility) and o.mobility != "自立", "mobility", False)
    if t.lives_alone and level == 0:
        return Word("独居", lambda o: bool(o.lives_alone), "alone")
    return None


def _home(t: Traits, level: int) -> Word | None:
    if level >= 2 or (not t.building_floors and t.home_floor is None):
        return None
    if t.home_floor is not None:
        if level == 1:
            return Word("集合住宅", lambda o: o.home_floor is not None, "flat", False)
        floor = t.home_floor
        return Word(f"集合住宅の{floor}階", lambda o: o.home_floor == floor, "flat")
    floors = t.building_floors
    if level == 1:
        return Word("一戸建て", lambda o: o.home_floor is None and bool(o.building_floors), "house", False)
    return Word("平屋" if floors == 1 else f"{floors}階建て",
                lambda o: o.home_floor is None and o.building_floors == floors, "house")


def _supporter(t: Traits, level: int) -> Word | None:
    if level >= 1:
        return None
    has = t.has_supporter
    return Word("支援者あり" if has else "支援者なし", lambda o: o.has_supporter == has, "supporter")


# coarsening steps per facet; among descriptors equally coarse, the home is coarsened first, then
# the supporter, then the age, and the need last (what the exercise is about)
FACETS = (("need", _need, 3), ("age", _age, 3), ("supporter", _supporter, 2), ("home", _home, 3))
PRINTED = ("age", "need", "home", "supporter")  # the order of the words: 80代・車いす・平屋・支援者なし
_ORDER = sorted(itertools.product(*(range(n) for _, _, n in FACETS)),
                key=lambda levels: (sum(levels), -levels[3], -levels[2], -levels[1]))


@dataclass(frozen=True)
class Descriptor:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "・".join(w.text for w in self.words) or GENERIC

    def fits(self, t: Traits) -> bool:
        return all(w.fits(t) for w in self.words)

    def exact(self, kind: str) -> bool:
        """Whether the descriptor says ``kind`` (age, device, mobility, house, flat …) at its most precise."""
        return any(w.kind == kind and w.exact for w in self.words)


def describe(t: Traits, population: Sequence[Traits], k: int = DEFAULT_K) -> Descriptor | None:
    """The most precise descriptor of ``t`` that at least ``k`` of ``population`` (the 校区's
    residents, ``t`` among them) fit; None when not even the bare one does."""
    if len(population) < k:
        return None
    for levels in _ORDER:
        descriptor = _descriptor(t, levels)
        if sum(1 for other in population if descriptor.fits(other)) >= k:
            return descriptor
    return None  # pragma: no cover - the last candidate has no words and fits everyone


def _descriptor(t: Traits, levels: Sequence[int]) -> Descriptor:
    words = {name: facet(t, level) for (name, facet, _), level in zip(FACETS, levels, strict=True)}
    return Descriptor(tuple(w for w in (words[name] for name in PRINTED) if w is not None))


def full(t: Traits) -> Descriptor:
    """Every word at its most precise (a named person of a closed session)."""
    return _descriptor(t, [0] * len(FACETS))
