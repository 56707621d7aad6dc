"""Test helpers: store snapshots and small hand-made input files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from disaster.models import Base
from tests.conftest import BUNDLE


def snapshot(store_or_engine: Any) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: equal snapshots mean an unchanged store."""
    engine = getattr(store_or_engine, "engine", store_or_engine)
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF (pdftotext), whitespace removed: what a reader sees, for `in` checks."""
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(text.split())


def write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_geojson(path: Path, features: list[tuple[dict, dict]], crs: str | None = None) -> Path:
    """Features as (geometry, properties); ``crs`` adds an old-style named CRS member."""
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def square(lon: float, lat: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def descendants(pid: int) -> set[int]:
    """The processes under ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # not a zombie
    except FileNotFoundError:
        return False


def processes_gone(pids: set[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = {pid for pid in pids if running(pid)}
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes {sorted(alive)} outlived their parent")


def demo_roster(rows: int, change: dict[int, dict[str, str]] | None = None) -> bytes:
    """The first ``rows`` residents of the demo 名簿 (the bundle's file) as CSV, with ``change`` {row index: {column: value}}."""
    with (BUNDLE / "residents.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        chosen = [row for _, row in zip(range(rows), reader, strict=False)]
        header = list(reader.fieldnames or [])
    for index, values in (change or {}).items():
        chosen[index] |= values
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(chosen)
    return out.getvalue().encode("utf-8")
