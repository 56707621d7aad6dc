"""The errors a user may see: one hierarchy, printed by the CLI in one line and mapped to status
codes by the web service. Every message is Japanese and addressed to the user; anything that is
not a ``DisasterError`` (a plain ``ValueError``, ``KeyError`` …) is a bug and is not shown as a
user message.
"""

from __future__ import annotations

from typing import Any


class DisasterError(Exception):
    """A user-facing error; ``str(error)`` is the Japanese message."""


class NotFound(DisasterError):
    """The thing asked for (a resident, a 校区, a file) does not exist."""


class NotReady(DisasterError):
    """A prerequisite (city, districts, assessment, profile, font) is missing."""


class Rejected(DisasterError, ValueError):
    """The input is wrong (a file, an option, a value). Also a ``ValueError`` so that parsers
    and validators that catch ``ValueError`` keep treating it as bad input."""


class Forbidden(DisasterError):
    """The principal may not do this (see ``disaster.access``); the message names no one."""


class Conflict(DisasterError):
    """The change clashes with the stored state (e.g. a concurrent edit). ``current``, when given,
    shows the stored state the change clashed with (JSON data; the API adds it to the error)."""

    def __init__(self, message: str, current: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.current = current
