"""Reasons are stored as message keys with parameters and read as the same texts as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from disaster.analysis.reasons import MESSAGES, code_of, render, said_from_text
from tests.assess_fixtures import REASON_FIELDS, golden_texts, stored_texts
from tests.conftest import KURUME


@pytest.fixture
def demo(demo_store):
    """Read-only use of the shared demo store."""
    return demo_store


def test_the_demo_reads_exactly_the_texts_the_previous_code_stored(demo) -> None:
    """Every reason of every demo resident, rendered from the stored keys and parameters, is the
    text the code that stored whole texts stored (same codes, same order, same wording)."""
    assert stored_texts(demo.sessions, KURUME) == golden_texts()


def test_stored_reasons_are_keys_and_parameters_not_texts(demo) -> None:
    with demo.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {', '.join(REASON_FIELDS)} FROM assessment")).all()
    sizes = []
    for row in rows:
        for raw in row:
            stored = json.loads(raw) if isinstance(raw, str) else raw
            sizes.append(len(json.dumps(stored, ensure_ascii=False).encode()))
            for entry in stored:
                assert isinstance(entry, list) and entry[0] in MESSAGES, entry
                assert all(not isinstance(v, str) or len(v) < 80 for v in (entry[1] if len(entry) > 1 else {}).values())
    assert sum(sizes) / len(rows) < 700  # bytes per resident; whole texts took ~3,000


def test_every_stored_text_of_the_demo_reads_back_into_its_key() -> None:
    """What migration 0013 relies on: each text the previous code stored is found again as a key
    with parameters giving exactly that text."""
    for fields in golden_texts().values():
        for reasons in fields.values():
            for code, shown in reasons:
                said = said_from_text(code, shown)
                assert said is not None and said["code"] == code and said["text"] == shown, (code, shown)


def test_every_message_renders_and_names_its_code() -> None:
    assert render("DISTANCE.walk", {"distance": 1234.5, "minutes": 17}) == "距離は約1.2km、歩いて約17分です。"
    assert render("START.early", {"leave": False, "total": 95}).startswith("避難する場合は、支度と移動に約95分")
    assert {code_of(key) for key in MESSAGES} >= {"DISTANCE", "START", "NO_SUPPORTER", "WELFARE_UNPLACED"}
    assert said_from_text("DISTANCE", "距離は約1.2km、歩いて約17分です。")["text"] == "距離は約1.2km、歩いて約17分です。"
    assert said_from_text("DISTANCE", "まったく別の文です。") is None
