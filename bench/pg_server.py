"""A throwaway PostgreSQL server for the benchmarks, started the way tests/conftest.py starts the
test suite's (Debian's ``postgresql`` package, a cluster in a temporary directory, trust auth)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database(name: str = "bench") -> Iterator[str]:
    """Start a PostgreSQL cluster, create database ``name``; yield its URL; stop and remove it all."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        raise SystemExit("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    bindir = Path(binaries[-1]).parent
    workdir = Path(tempfile.mkdtemp(prefix="disaster-bench-pg-"))
    datadir = workdir / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
    port = _free_port()
    subprocess.run([*as_user, bindir / "initdb", "-D", datadir, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--locale=C"], check=True, capture_output=True)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run([*as_user, bindir / "pg_ctl", "-D", datadir, "-o", options, "-l", workdir / "log", "-w", "start"],
                   check=True, capture_output=True)
    try:
        base = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        yield f"{base}/{name}"
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", datadir, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
