"""Disaster-preparedness planning toolkit for Japanese municipalities (each city described by its profile).

Layers (import direction is top to bottom only):

- ``disaster.cli`` — Typer commands; thin, no business logic.
- ``disaster.usecases`` — one function per user action; each owns its transaction.
- ``disaster.importers`` — readers/validators of official file formats (no database access).
- ``disaster.repo`` — data-layer helpers that add/flush/query but never commit.
- ``disaster.models`` — the domain model (SQLAlchemy ORM).
- ``disaster.codes``, ``disaster.wareki``, ``disaster.geo`` — pure functions and code tables.
"""

__version__ = "0.1.0"
