"""Benchmark: the service under load (issue 12 §9). Builds the demo city in a fresh store (SQLite,
or with ``--pg`` a temporary PostgreSQL server started here), creates accounts, starts
``disaster serve --workers 2`` as a real uvicorn subprocess, then measures over HTTP:

- 50 concurrent users (each its own login) reading resident lists, resident details and plan JSON
  (GET /api/v1/residents/{no}/plan, when the OpenAPI schema has it), each pausing ``--think``
  seconds on average (default 1: a leader tapping through pages on a tablet) after each answer:
  p50/p95/max and errors. Target p95 <= 100 ms, 0 errors.
- the same 50 clients back to back, for the server's capacity (requests/s) and its latency when
  saturated: reported, no target (with the load generator on the same 2 cores, p95 <= 100 ms back
  to back would need ~500 requests/s, i.e. ~4 ms of CPU per audited read, generator included).
- plan PDF at 4 concurrent: target p95 <= 1 s.
- baseline measured in the same run, under the same load: GET /api/v1/auth/me (a session lookup
  and nothing else), interleaved with the reads by the same clients.
- a soak run (``--soak`` seconds, default 600) of the same mix, sampling the server processes'
  memory (PSS of the server's processes) every 10 s: target no growth beyond the warm-up (the first
  third of the run).

Every read of personal data writes an audit entry (hash-chained), so these "reads" also write.
The load generator runs on the same machine as the server (asyncio + httpx, one process).

    python -m bench.bench_service [--pg] [--clients 50] [--rounds 20] [--think 1] [--soak 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.pg_server import postgres_database
from disaster.access import Principal
from disaster.db import make_engine, session_factory
from disaster.models import District, Resident
from disaster.resources import DEMO_DATA_DIR
from disaster.usecases.demo import load_demo
from disaster.usecases.users import add_user

API = "/api/v1"
PASSWORD = "bench password that is long enough"
STAFF = "bench-staff"  # city staff: two clients in three; the third are leaders of the biggest 校区
PLAN_JSON = "/residents/{resident_no}/plan"
TARGET_READ_P95 = 0.100
TARGET_PDF_P95 = 1.0
MEMORY_EVERY = 10.0  # seconds between memory samples
MEMORY_TOLERANCE_MB = 10.0  # growth below this (after warm-up) is noise, not a leak
LEADER_DISTRICTS = 5


@dataclass
class Timings:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        self.latencies[kind].append(seconds)
        if error:
            self.errors[kind].append(error)


def build_store(url: str) -> tuple[str, list[str]]:
    """Load the demo city; add one account per role kind the clients use; return the city and the
    leaders' 校区 (those with the most residents)."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    city = load_demo(engine, sessions, DEMO_DATA_DIR).city_code
    with sessions() as session:
        districts = list(session.scalars(select(District.name).join(Resident, Resident.district_id == District.id)
                                         .group_by(District.name).order_by(func.count().desc(), District.name)
                                         .limit(LEADER_DISTRICTS)))
    actor = Principal.cli(city)
    add_user(sessions, actor, STAFF, "city_staff", PASSWORD)
    for n, district in enumerate(districts):
        add_user(sessions, actor, f"bench-leader{n}", "leader", PASSWORD, districts=[district])
    engine.dispose()
    return city, districts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str  # the API's URL
    pid: int
    log: Path  # its stdout and stderr

    def errors(self) -> Counter[str]:
        """The exceptions the server logged (last line of each traceback)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return Counter(line[:160] for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line))


@contextmanager
def server(url: str, workers: int, folder: Path) -> Iterator[Server]:
    """``disaster serve --workers N`` on a free port."""
    port = _free_port()
    env = os.environ | {
        "DISASTER_DB": url,
        "DISASTER_SECRET_KEY": "bench secret, not the default",
        # every client logs in from 127.0.0.1: no throttle or lockout may get in the way
        "DISASTER_LOGIN_THROTTLE_FAILURES": "1000000",
        "DISASTER_LOGIN_MAX_FAILURES": "1000000",
        "DISASTER_TILE_OFFLINE": "1",
    }
    disaster = str(Path(sys.executable).parent / "disaster")
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([disaster, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}{API}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield Server(base, process.pid, log)
    except BaseException:
        print(f"server log (end):\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def memory_mb(pid: int) -> float:
    """The memory of ``pid`` and its descendants: the sum of their PSS (a page shared by n processes
    counts 1/n in each: the render processes share the modules of the fork server they come from,
    which a sum of RSS would count once per process)."""
    total = 0
    for each in descendants(pid):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Client:
    """One user: its own login (session cookie and CSRF token), the residents in its view."""

    def __init__(self, base: str, login: str) -> None:
        # idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under a request
        self.http = httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(keepalive_expiry=4))
        self.login = login
        self.residents: list[str] = []

    async def start(self, rng: random.Random) -> None:
        answer = await self.http.post("/auth/login", json={"login": self.login, "password": PASSWORD})
        if answer.status_code != 200:
            raise SystemExit(f"login of {self.login}: {answer.status_code} {answer.text}")
        self.http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        answer = await self.http.get("/residents", params={"per_page": 200})
        if answer.status_code != 200:
            raise SystemExit(f"first list of {self.login}: {answer.status_code} {answer.text}")
        listing = answer.json()
        self.pages = listing["pages"]
        self.residents = [item["resident_no"] for item in listing["items"]]
        rng.shuffle(self.residents)

    async def timed(self, timings: Timings, kind: str, path: str, **params: int) -> None:
        start = time.perf_counter()
        error = None
        try:
            answer = await self.http.get(path, params=params or None)
            if answer.status_code != 200:
                error = f"{answer.status_code} {answer.text[:120]}"
            else:
                answer.read()
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        timings.add(kind, time.perf_counter() - start, error)

    async def read_round(self, timings: Timings, rng: random.Random, plan_json: bool, think: float) -> None:
        """The reads of one round: a page of the list, a resident, their plan; the baseline. A user
        pauses ``think`` seconds on average (exponentially distributed) after each request."""
        no = rng.choice(self.residents)
        reads = [("list", "/residents", {"page": rng.randint(1, self.pages), "per_page": 50}),
                 ("detail", f"/residents/{no}", {})]
        if plan_json:
            reads.append(("plan", PLAN_JSON.format(resident_no=no), {}))
        for kind, path, params in [*reads, ("me", "/auth/me", {})]:
            await self.timed(timings, kind, path, **params)
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))

    async def close(self) -> None:
        await self.http.aclose()


async def start_clients(base: str, count: int, leaders: int, rng: random.Random) -> list[Client]:
    logins = [f"bench-leader{n % leaders}" if n % 3 == 2 else STAFF for n in range(count)]
    clients = [Client(base, login) for login in logins]
    for c in clients:  # one after the other: setting up is not measured
        await c.start(rng)
    return clients


async def reads(clients: list[Client], rounds: int | None, until: float | None, plan_json: bool, seed: int,
                think: float = 0.0) -> Timings:
    """Every client reads round after round for ``rounds`` rounds or until ``until``."""
    timings = Timings()

    async def run(n: int, c: Client) -> None:
        rng = random.Random(seed + n)
        done = 0
        if think:  # users arrive spread out, not all at the same instant
            await asyncio.sleep(rng.uniform(0, 3 * think))
        while (rounds is None or done < rounds) and (until is None or time.monotonic() < until):
            await c.read_round(timings, rng, plan_json, think)
            done += 1

    await asyncio.gather(*(run(n, c) for n, c in enumerate(clients)))
    return timings


async def pdfs(clients: list[Client], each: int, seed: int) -> Timings:
    timings = Timings()

    async def run(n: int, c: Client) -> None:
        rng = random.Random(seed + n)
        for _ in range(each):
            await c.timed(timings, "pdf", f"/residents/{rng.choice(c.residents)}/plan.pdf")

    await asyncio.gather(*(run(n, c) for n, c in enumerate(clients)))
    return timings


async def soak(clients: list[Client], pdf_client: Client, seconds: float, pid: int, plan_json: bool,
               seed: int, think: float) -> tuple[Timings, list[tuple[float, float]]]:
    """The read mix by every client plus one client fetching PDFs, for ``seconds``; memory every 10 s."""
    start = time.monotonic()
    until = start + seconds
    samples = [(0.0, memory_mb(pid))]

    async def sample() -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(MEMORY_EVERY, max(0.0, until - time.monotonic())))
            samples.append((time.monotonic() - start, memory_mb(pid)))

    async def pdf_loop(timings: Timings) -> None:
        rng = random.Random(seed)
        while time.monotonic() < until:
            await pdf_client.timed(timings, "pdf", f"/residents/{rng.choice(pdf_client.residents)}/plan.pdf")

    pdf_timings = Timings()
    read_timings, *_ = await asyncio.gather(reads(clients, None, until, plan_json, seed, think), pdf_loop(pdf_timings),
                                            sample())
    read_timings.latencies["pdf"] = pdf_timings.latencies["pdf"]
    read_timings.errors["pdf"] = pdf_timings.errors["pdf"]
    return read_timings, samples


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], max(values)


def row(label: str, values: list[float], errors: int, target: str, ok: bool | None) -> str:
    p50, p95, top = quantiles(values)
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return (f"{label:<38} {len(values):>6} {p50 * 1000:>8.1f} {p95 * 1000:>8.1f} {top * 1000:>8.1f} {errors:>6}  "
            f"{target:<26} {verdict}")


def report_reads(title: str, timings: Timings, clients: int, seconds: float, plan_json: bool,
                 think: float, targeted: bool = True) -> list[bool]:
    """The figures of a read phase; with ``targeted``, its verdict against the p95 target."""
    kinds = ["list", "detail"] + (["plan"] if plan_json else [])
    labels = {"list": "list GET /residents?page=…", "detail": "detail GET /residents/{no}",
              "plan": "plan JSON GET /residents/{no}/plan", "me": "baseline GET /auth/me"}
    reads_all = [t for kind in kinds for t in timings.latencies[kind]]
    errors_all = sum(len(timings.errors[kind]) for kind in kinds)
    total = len(reads_all) + len(timings.latencies["me"])
    print(f"\n{title}: {clients} clients, {total} requests in {seconds:.1f} s = {total / seconds:.0f} req/s"
          f"{f', mean pause {think:.2f} s after each' if think else ', back to back'}")
    print(f"{'measure':<38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}  {'target':<26} result")
    for kind in kinds:
        print(row(labels[kind], timings.latencies[kind], len(timings.errors[kind]), "", None))
    passed = quantiles(reads_all)[1] <= TARGET_READ_P95 and errors_all == 0
    print(row("all reads", reads_all, errors_all, *(("p95 <= 100 ms, 0 errors", passed) if targeted else ("(no target)", None))))
    print(row(labels["me"], timings.latencies["me"], len(timings.errors["me"]), "(baseline)", None))
    for kind, errors in timings.errors.items():
        for error in sorted(set(errors))[:3]:
            print(f"  {kind} error: {error}")
    return [passed] if targeted else []


def report_pdfs(title: str, timings: Timings) -> list[bool]:
    values, errors = timings.latencies["pdf"], len(timings.errors["pdf"])
    passed = bool(values) and quantiles(values)[1] <= TARGET_PDF_P95 and errors == 0
    print(row(title, values, errors, "p95 <= 1 s, 0 errors", passed))
    for error in sorted(set(timings.errors["pdf"]))[:3]:
        print(f"  pdf error: {error}")
    return [passed]


def report_memory(samples: list[tuple[float, float]]) -> list[bool]:
    """Growth after the warm-up: the last sample against the highest of the warm-up (first third)."""
    print("\nserver memory (PSS of all its processes), MB: " + ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples))
    if len(samples) < 3:
        print("soak too short for a verdict (fewer than 3 samples)")
        return []
    warm = max(1, len(samples) // 3)
    after_warm_up = max(mb for _, mb in samples[:warm + 1])
    last = samples[-1][1]
    growth = last - after_warm_up
    passed = growth <= MEMORY_TOLERANCE_MB
    print(f"{'soak memory growth after warm-up':<38} {after_warm_up:>8.0f} MB -> {last:.0f} MB = {growth:+.1f} MB"
          f"  target <= +{MEMORY_TOLERANCE_MB:.0f} MB  {'PASS' if passed else 'FAIL'}")
    return [passed]


async def measure(base: str, pid: int, args: argparse.Namespace, leaders: int) -> list[bool]:
    schema = httpx.get(f"{base}/openapi.json").json()
    plan_json = f"{API}{PLAN_JSON}" in schema["paths"]
    if not plan_json:
        print(f"\nplan JSON: GET {API}{PLAN_JSON} is not in the OpenAPI schema (not merged yet): not measured")
    rng = random.Random(args.seed)
    clients = await start_clients(base, args.clients, leaders, rng)
    staff = [c for c in clients if c.login == STAFF]  # a plan PDF of anyone in view (drafts included)
    pdf_clients = staff[:args.pdf_clients]
    results: list[bool] = []
    try:
        await reads(clients, 2, None, plan_json, args.seed)  # warm-up: connections, caches, first PDFs
        await pdfs(pdf_clients, 1, args.seed)
        idle = Timings()
        for _ in range(20):
            await staff[0].timed(idle, "me", "/auth/me")
        print()
        print(row("GET /auth/me, 1 client, no other load", idle.latencies["me"], len(idle.errors["me"]),
                  "(the floor)", None))
        start = time.monotonic()
        timings = await reads(clients, args.rounds, None, plan_json, args.seed + 1000, args.think)
        results += report_reads("reads", timings, len(clients), time.monotonic() - start, plan_json, args.think)
        if args.think:
            start = time.monotonic()
            timings = await reads(clients, args.capacity_rounds, None, plan_json, args.seed + 1500)
            report_reads("capacity (reads back to back)", timings, len(clients), time.monotonic() - start, plan_json,
                         0.0, targeted=False)
        timings = await pdfs(pdf_clients, args.pdf_rounds, args.seed + 2000)
        print()
        results += report_pdfs(f"plan PDF, {len(pdf_clients)} concurrent", timings)
        if args.soak > 0:
            start = time.monotonic()
            timings, samples = await soak(clients, staff[-1], args.soak, pid, plan_json, args.seed + 3000,
                                          args.think)
            results += report_reads(f"soak ({args.soak:.0f} s, reads plus one client fetching PDFs)", timings,
                                    len(clients), time.monotonic() - start, plan_json, args.think)
            results += report_pdfs("plan PDF during the soak (1 client)", timings)
            results += report_memory(samples)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (a temporary server) instead of SQLite")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20, help="read rounds per client (list, detail, plan, me)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause of a user after each answer, seconds (0: back to back)")
    parser.add_argument("--capacity-rounds", type=int, default=5, help="read rounds per client back to back")
    parser.add_argument("--pdf-clients", type=int, default=4)
    parser.add_argument("--pdf-rounds", type=int, default=10, help="PDFs per PDF client")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--soak", type=float, default=600, help="seconds of soak (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="disaster-bench-")))
        url = stack.enter_context(postgres_database()) if args.pg else f"sqlite:///{folder}/bench.sqlite3"
        started = time.perf_counter()
        _, districts = build_store(url)
        print(f"store: {'PostgreSQL' if args.pg else 'SQLite'}, demo city loaded in {time.perf_counter() - started:.0f} s; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run; "
              f"server: disaster serve --workers {args.workers}")
        service = stack.enter_context(server(url, args.workers, folder))
        print(f"server memory (PSS) after start: {memory_mb(service.pid):.0f} MB ({len(descendants(service.pid))} processes)")
        results = asyncio.run(measure(service.base, service.pid, args, len(districts)))
        print(f"\nload average after the run: {os.getloadavg()[0]:.1f}")
        logged = service.errors()
        print(f"server log: {sum(logged.values())} exceptions" + "".join(f"\n  {n} x {line}" for line, n in logged.most_common(8)))
    print(f"overall: {'PASS' if all(results) else 'FAIL'} ({sum(results)}/{len(results)} targets met)")


if __name__ == "__main__":
    main()
