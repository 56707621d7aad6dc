"""Benchmark: the assessment as a city's staff run it, through the command line, at scale.

    python -m bench.bench_scale [--sizes 10000,100000,300000] [--db sqlite|pg|both] [--rounds 3]
                                [--baseline-rev bd3168e | --skip-baseline]
                                [--edit-size 100000] [--cities 60] [--city-residents 5000]

Every figure is a `disaster` command run in a fresh process (interpreter start-up included), its
wall time and its peak RSS (VmHWM of the command's own process at exit; a PostgreSQL server's
memory is not counted, nor that of a child process the command forks: on SQLite its batches of
rows are made in one, which had ~100 MB of pages of its own at 100k). On PostgreSQL, each timed
command starts on a quiet server: the upkeep the commands before left (vacuuming every store and
gathering its statistics, writing changed pages) is done first, untimed (``Stores.settle``).

1. `disaster assess --json` on a store holding the demo city's data with N synthetic residents
   (``bench/synthetic.py``), for each size and database. The store is made by the same code's
   `disaster demo --bundle` (not timed; printed as "setup"). Two figures, both recomputing everyone:
   "changed", a run whose results differ from the stored ones for nearly every resident (``--night``
   and back in turns: the walking speed is stored per resident), and "again", the same command once
   more (every result as stored: a version that rewrites only changed results writes none).
   Each store is assessed ``--rounds`` times, the current code and the baseline in turns, and
   the median run is reported (the host's speed varies by the minute).
2. The baseline is today's path measured in the same run: ``--baseline-rev`` is checked out into a
   temporary ``git worktree`` and its command line runs (PYTHONPATH pointing there) against an
   identical store made from the same files by that revision's own `disaster demo`.
3. An incremental edit: a 名簿 file changing 10 residents is imported into the store of
   ``--edit-size`` residents (`disaster import residents`, which re-assesses), then the same file is
   imported again (nothing changes). The re-assessment part is the difference: exact when an
   import that changes nothing re-assesses nothing (a path that re-runs the whole city on every
   import shows ~0 there and its cost in the first figure). Edits alternate (changed, back as they
   were) so that every "changed" import really changes 10 residents; medians of ``--repeat`` rounds.
4. A store with ``--cities`` municipalities of 福岡県 (the demo city with ``--city-residents``
   synthetic residents, the others with as many fictional residents on their real N03 ground,
   ``../shared/data/raw/n03_fukuoka_2021_s0010.geojson``): one city re-assessed, timed, and every
   row of every other city compared before and after (current code only).

Sizes are large: run it on a quiet machine; develop with ``--sizes 2000 --edit-size 2000 --cities 3``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import create_engine, inspect, text

from bench.pg_server import postgres_database
from bench.synthetic import write_bundle, write_city_files
from disaster.codes import check_digit
from disaster.demodata.spec import demo_city_code
from disaster.resources import PROJECT_ROOT

N03_FILE = PROJECT_ROOT.parent / "shared" / "data" / "raw" / "n03_fukuoka_2021_s0010.geojson"
EDITED = 10
# The command's own peak memory is its VmHWM at exit, written to the file named by $BENCH_PEAK_FILE:
# the rusage of a child started from this (large) process also counts this process's pages,
# which the child shares until it executes Python (Linux records the old memory's peak at exec).
CLI = ("import atexit, os\n"
       "def _peak():\n"
       "    status = open('/proc/self/status').read()\n"
       "    kb = next(line.split()[1] for line in status.splitlines() if line.startswith('VmHWM:'))\n"
       "    open(os.environ['BENCH_PEAK_FILE'], 'w').write(kb)\n"
       "atexit.register(_peak)\n"
       "from disaster.cli import app; app(prog_name='disaster')")


@dataclass(frozen=True)
class Code:
    """A checkout whose `disaster` command line is measured."""

    label: str
    root: Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    stdout: str

    def __str__(self) -> str:
        return f"{self.seconds:7.2f} s {self.peak_mb:6.0f} MB"


class Runner:
    """Runs `disaster` of a checkout in a fresh process, in a scratch folder (city profiles written
    by `init` stay there)."""

    def __init__(self, scratch: Path, before_timed: Callable[[], None]):
        self.scratch = scratch
        self.before_timed = before_timed

    def timed(self, code: Code, url: str, *args: str | Path) -> Measured:
        """``run``, once the machine is quiet (``before_timed``)."""
        self.before_timed()
        return self.run(code, url, *args)

    def run(self, code: Code, url: str, *args: str | Path) -> Measured:
        env = {**os.environ, "PYTHONPATH": str(code.root), "DISASTER_DB": url,
               "DISASTER_PROFILES_DIR": str(self.scratch / f"profiles-{code.label}")}
        env.pop("DISASTER_CITY", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not at every command
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
                tempfile.NamedTemporaryFile("r") as peak:
            env["BENCH_PEAK_FILE"] = peak.name
            start = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", CLI, *map(str, args)], stdout=out, stderr=err,
                                       env=env, cwd=self.scratch)
            _, status, _ = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise SystemExit(f"[{code.label}] disaster {' '.join(map(str, args))} failed "
                                 f"({process.returncode}):\n{err.read().decode(errors='replace')[-3000:]}")
            return Measured(seconds, int(peak.read()) / 1024, out.read().decode(errors="replace"))


class Stores:
    """Fresh empty stores: SQLite files in the scratch folder, or databases on one PostgreSQL server."""

    def __init__(self, scratch: Path, stack: ExitStack):
        self.scratch = scratch
        self.stack = stack
        self.server: str | None = None
        self.count = 0
        self.databases: list[str] = []

    def new(self, db: str) -> str:
        self.count += 1
        name = f"store{self.count}"
        if db == "sqlite":
            return f"sqlite:///{self.scratch / f'{name}.sqlite3'}"
        if self.server is None:
            self.server = self.stack.enter_context(postgres_database("bench")).rsplit("/", 1)[0]
        admin = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.databases.append(f"{self.server}/{name}")
        return self.databases[-1]

    def settle(self) -> None:
        """PostgreSQL: the upkeep that the commands before left is done now, before the next timed
        one: every store vacuumed and its statistics gathered (what autovacuum does within a
        minute of large changes), and the server's changed pages written (CHECKPOINT). Left to
        the server, it ran during the next command, on one of the 2 cores (the baseline's runs
        delete and insert 100,000 rows). Before `26628ff`, whose imports and runs gather the
        statistics of the tables they fill (``disaster.db.gather_statistics``), the first
        commands after a store was loaded also ran without any: at 100k, reading the inputs took
        0.2 s longer and the summary 0.35 s (nested loops planned for 500 residents)."""
        for url in self.databases:
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("VACUUM ANALYZE"))
                conn.execute(text("CHECKPOINT"))
            engine.dispose()


@contextmanager
def checkout(rev: str, scratch: Path) -> Iterator[Code]:
    """``rev`` of this repository in a temporary git worktree (removed afterwards)."""
    path = scratch / f"baseline-{rev}"
    subprocess.run(["git", "-C", PROJECT_ROOT, "worktree", "add", "--detach", path, rev], check=True,
                   capture_output=True)
    try:
        yield Code(f"@{rev}", path)
    finally:
        subprocess.run(["git", "-C", PROJECT_ROOT, "worktree", "remove", "--force", path], capture_output=True)


def load_store(runner: Runner, code: Code, url: str, bundle: Path) -> Measured:
    return runner.run(code, url, "demo", "--bundle", bundle, "--no-outputs", "--no-accounts")


def edit_files(bundle: Path, out: Path, seed: int = 3) -> tuple[Path, Path]:
    """Two 名簿 files with the same 10 of the bundle's residents: with their mobility changed (a
    wheelchair now: no stairs, or the reverse), which changes what the assessment decides for them,
    and as they were."""
    with (bundle / "residents.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    chosen = np.random.default_rng(seed).choice(len(rows), EDITED, replace=False)
    original = [rows[index] for index in sorted(chosen)]
    edited = [row | dict(zip(("移動", "階段昇降"), ("自立", "はい") if row["移動"] in ("車いす", "寝たきり")
                                               else ("車いす", "いいえ"), strict=True)) for row in original]
    files = out.with_name(f"{out.stem}-edited.csv"), out.with_name(f"{out.stem}-original.csv")
    for path, chosen_rows in zip(files, (edited, original), strict=True):
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(chosen_rows)
    return files


def edit_imports(runner: Runner, code: Code, url: str, files: tuple[Path, Path], repeat: int) -> tuple[float, float]:
    """Median wall times of `disaster import residents` with 10 residents changed (edited, then
    back as they were, alternately) and of the same file imported again (nothing changes)."""
    edited, original = files
    changed, same = [], []
    for _ in range(repeat):
        changed.append(runner.timed(code, url, "import", "residents", edited).seconds)
        same.append(runner.timed(code, url, "import", "residents", edited).seconds)
        changed.append(runner.timed(code, url, "import", "residents", original).seconds)
    return float(np.median(changed)), float(np.median(same))


def other_cities_rows(url: str, city: str) -> dict[str, str]:
    """A digest of every row that belongs to a city other than ``city``, per table: tables with a
    ``city_code`` column, and tables keyed by a resident (``resident_id``) or a run (``run_id``)."""
    engine = create_engine(url)
    tables = inspect(engine).get_table_names()
    digests = {}
    with engine.connect() as conn:
        for table in tables:
            columns = [c["name"] for c in inspect(engine).get_columns(table)]
            if "city_code" in columns:
                where = f'"{table}".city_code <> :city'
            elif "resident_id" in columns and "resident" in tables:
                where = f'"{table}".resident_id IN (SELECT id FROM resident WHERE city_code <> :city)'
            elif "run_id" in columns and "assessment_run" in tables:
                where = f'"{table}".run_id IN (SELECT id FROM assessment_run WHERE city_code <> :city)'
            else:
                continue
            rows = conn.execute(text(f'SELECT * FROM "{table}" WHERE {where}'), {"city": city}).all()
            digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
            digests[table] = f"{len(rows)}:{digest}"
    engine.dispose()
    return digests


def municipalities(count: int) -> list[tuple[str, str, str, shapely.Geometry]]:
    """(6-digit code, name, prefecture, area) of ``count`` municipalities of the N03 file besides the
    demo city, in 団体コード order (the 区 of a 政令指定都市 count as municipalities: each has its code)."""
    features = json.loads(N03_FILE.read_text(encoding="utf-8"))["features"]
    demo = demo_city_code()[:5]
    by_code: dict[str, tuple[str, str, list[shapely.Geometry]]] = {}
    for feature in features:
        p = feature["properties"]
        if p["N03_007"] and p["N03_007"] != demo:
            name = (p["N03_003"] or "") + p["N03_004"] if p["N03_003"] and p["N03_003"].endswith("市") else p["N03_004"]
            by_code.setdefault(p["N03_007"], (name, p["N03_001"], []))[2].append(shapely.geometry.shape(feature["geometry"]))
    chosen = sorted(by_code)[:count]
    return [(code + check_digit(code), by_code[code][0], by_code[code][1], shapely.union_all(by_code[code][2]))
            for code in chosen]


def bench_sizes(args: argparse.Namespace, runner: Runner, stores: Stores, codes: list[Code], scratch: Path) -> None:
    print(f"\n== disaster assess --json (end to end; {' vs '.join(c.label for c in codes)}; "
          f"median of {args.rounds} runs, taken in turns) ==")
    print(f"{'residents':>10} {'db':<7} {'code':<10} {'setup (demo --bundle)':>22} {'changed':>20} "
          f"{'again':>20}  runs (changed; again)")
    results: dict[tuple[int, str, str, str], Measured] = {}
    edits: dict[tuple[str, str], tuple[float, float]] = {}
    for size in args.sizes:
        bundle = write_bundle(scratch / f"bundle-{size}", size)
        for db in args.db:
            urls = {code.label: stores.new(db) for code in codes}
            setups = {code.label: load_store(runner, code, urls[code.label], bundle) for code in codes}
            runs: dict[tuple[str, str], list[Measured]] = {(code.label, kind): [] for code in codes
                                                           for kind in ("changed", "again")}
            for round_ in range(args.rounds):  # in turns: a slower spell of the machine hits both
                night = ["--night"] if round_ % 2 == 0 else []  # the stored results were made by day
                for code in codes:
                    for kind in ("changed", "again"):
                        runs[code.label, kind].append(runner.timed(code, urls[code.label], "assess", "--json", *night))
            if args.rounds % 2:  # back to the day's results (not timed), which the edit's imports keep
                for code in codes:
                    runner.run(code, urls[code.label], "assess", "--json")
            for code in codes:
                figures = []
                for kind in ("changed", "again"):
                    measured = sorted(runs[code.label, kind], key=lambda m: m.seconds)
                    results[size, db, code.label, kind] = measured[len(measured) // 2]
                    figures.append(str(results[size, db, code.label, kind]))
                print(f"{size:>10,} {db:<7} {code.label:<10} {setups[code.label].seconds:>20.1f} s {figures[0]} "
                      f"{figures[1]}  " + "; ".join(" ".join(f"{m.seconds:.2f}" for m in runs[code.label, kind])
                                                    for kind in ("changed", "again")), flush=True)
                if size == args.edit_size:
                    files = edit_files(bundle, scratch / f"edit-{size}.csv")
                    edits[db, code.label] = edit_imports(runner, code, urls[code.label], files, args.repeat)
    if len(codes) == 2:
        print(f"\n{'residents':>10} {'db':<7} {'run':<8} {'speed-up':>9} {'memory':>9}   "
              f"(goal: ≥ 4×; 100k ≤ 5 s and ≤ 600 MB; 300k ≤ 15 s)")
        for size in args.sizes:
            for db in args.db:
                for kind in ("changed", "again"):
                    new, old = results[size, db, codes[0].label, kind], results[size, db, codes[1].label, kind]
                    print(f"{size:>10,} {db:<7} {kind:<8} {old.seconds / new.seconds:>8.1f}× "
                          f"{new.peak_mb / old.peak_mb:>8.2f}×")
    if edits:
        print(f"\n== {EDITED} residents edited at {args.edit_size:,} (disaster import residents; medians of "
              f"{2 * args.repeat} and {args.repeat} runs) ==")
        print(f"{'db':<7} {'code':<10} {'import + re-assessment':>24} {'same file again':>20} {'re-assessment part':>19}")
        for (db, label), (changed, again) in edits.items():
            print(f"{db:<7} {label:<10} {changed:>22.2f} s {again:>18.2f} s {changed - again:>17.2f} s   (goal ≤ 0.5 s)")


def bench_cities(args: argparse.Namespace, runner: Runner, stores: Stores, code: Code, scratch: Path) -> None:
    city = demo_city_code()
    others = municipalities(args.cities - 1)
    print(f"\n== {len(others) + 1} municipalities in one store, {args.city_residents:,} residents each ({code.label}) ==")
    bundle = write_bundle(scratch / "bundle-cities", args.city_residents)
    folders = {}
    for index, (other, name, prefecture, area) in enumerate(others):
        folders[other] = write_city_files(scratch / "cities" / other, other, name, prefecture, area,
                                          args.city_residents, seed=index)
    for db in args.db:
        url = stores.new(db)
        start = time.perf_counter()
        load_store(runner, code, url, bundle)
        for (other, name, _, _), files in zip(others, folders.values(), strict=True):
            runner.run(code, url, "--city", other, "init", "--name", name)
            runner.run(code, url, "--city", other, "import", "boundary", N03_FILE)
            runner.run(code, url, "--city", other, "import", "districts", files["districts"], "--name-column", "校区名")
            runner.run(code, url, "--city", other, "import", "shelters", files["shelters"], files["sites"])
            runner.run(code, url, "--city", other, "import", "residents", files["residents"])
        setup = time.perf_counter() - start
        before = other_cities_rows(url, city)
        assess = runner.timed(code, url, "--city", city, "assess", "--json")
        after = other_cities_rows(url, city)
        changed = sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))
        rows = sum(int(d.split(":")[0]) for d in before.values())
        print(f"{db:<7} setup {setup:.0f} s; re-assess {city}: {assess}; other cities' rows "
              f"({rows:,} in {len(before)} tables): {'unchanged' if not changed else 'CHANGED in ' + ', '.join(changed)}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",") if x], default=[10_000, 100_000, 300_000])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--baseline-rev", default="bd3168e", help="today's path, measured in the same run")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--edit-size", type=int, default=100_000, help="store size for the 10-resident edit (one of --sizes; 0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of `disaster assess` per store (median)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the edit imports (medians)")
    parser.add_argument("--cities", type=int, default=60, help="municipalities in the prefecture store (0: skip)")
    parser.add_argument("--city-residents", type=int, default=5_000)
    args = parser.parse_args()
    args.db = ["sqlite", "pg"] if args.db == "both" else [args.db]
    current = Code("current", PROJECT_ROOT)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="disaster-bench-scale-")))
        stores = Stores(scratch, stack)
        runner = Runner(scratch, stores.settle)
        codes = [current]
        if args.sizes and not args.skip_baseline:
            codes.append(stack.enter_context(checkout(args.baseline_rev, scratch)))
        print(f"{os.cpu_count()} CPUs; current = {PROJECT_ROOT}; baseline = "
              f"{codes[1].root if len(codes) > 1 else 'none'}; databases: {', '.join(args.db)}")
        if args.sizes:
            bench_sizes(args, runner, stores, codes, scratch)
        if args.cities > 0:
            bench_cities(args, runner, stores, current, scratch)


if __name__ == "__main__":
    main()
