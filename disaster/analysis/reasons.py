"""Reason records: a machine-readable code and plain Japanese text used verbatim in plans."""

from __future__ import annotations

from typing import TypedDict


class Reason(TypedDict):
    code: str
    text: str


def reason(code: str, text: str) -> Reason:
    return {"code": code, "text": text}
