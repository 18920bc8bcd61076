"""A real PostgreSQL for the tests (never a mock): the server on 127.0.0.1:5432 (trust
authentication, user postgres) where one answers, else a private cluster made with
initdb/pg_ctl in a temporary directory for the session. Each test gets a database of its own,
with a random name, dropped after it. Without either the tests skip, saying so; under
REQUIRE_TEST_TOOLS=1 (CI) they fail instead."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.ports import free_port

SHARED = ("127.0.0.1", 5432)


def _answers(host: str, port: int) -> bool:
    found = subprocess.run(
        ["psql", "-h", host, "-p", str(port), "-U", "postgres", "-d", "postgres", "-Atc",
         "SELECT 1"], capture_output=True, text=True, timeout=20, check=False)
    return found.returncode == 0 and found.stdout.strip() == "1"


def _as_owner(args: list[str], owner: str | None) -> list[str]:
    """initdb and the server refuse to run as root: as `owner` then."""
    return ["runuser", "-u", owner, "--", *args] if owner else args


@dataclasses.dataclass
class Cluster:
    """A private PostgreSQL cluster (initdb) this session started and stops."""
    host: str
    port: int
    data: Path
    owner: str | None

    def restart(self) -> None:
        """Stop it (fast: connections are cut) and start it again."""
        # -l: the server's output to its log, not to the pipes run() waits on
        subprocess.run(_as_owner(["pg_ctl", "-D", str(self.data), "-l",
                                  str(self.data.parent / "log"), "-m", "fast", "-w",
                                  "restart"], self.owner),
                       capture_output=True, check=True, timeout=120)


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A cluster of its own (a test that restarts its server must not restart the shared
    one). Skips, or fails under REQUIRE_TEST_TOOLS=1, without initdb and pg_ctl."""
    missing = [tool for tool in ("psql", "initdb", "pg_ctl") if not shutil.which(tool)]
    if missing:
        message = f"no {', '.join(missing)} to start a PostgreSQL (Debian: postgresql)"
        if os.environ.get("REQUIRE_TEST_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with _private_cluster() as cluster:
        yield cluster


@contextlib.contextmanager
def _private_cluster() -> Iterator[Cluster]:
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres").pw_name
        except KeyError:
            owner = "nobody"
    base = Path(tempfile.mkdtemp(prefix="relay-pg-"))
    data = base / "data"
    if owner:
        shutil.chown(base, owner)
    port = free_port()
    subprocess.run(_as_owner(["initdb", "-D", str(data), "-U", "postgres", "-A", "trust",
                              "--no-sync"], owner),
                   capture_output=True, check=True, timeout=120)
    with (data / "postgresql.conf").open("a") as conf:  # kept by a restart
        conf.write(f"port = {port}\nunix_socket_directories = '{base}'\n"
                   "listen_addresses = '127.0.0.1'\nfsync = off\n")
    subprocess.run(_as_owner(["pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w",
                              "start"], owner),
                   capture_output=True, check=True, timeout=120)
    try:
        yield Cluster("127.0.0.1", port, data, owner)
    finally:
        subprocess.run(_as_owner(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"], owner),
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[tuple[str, int]]:
    """(host, port) of a PostgreSQL with user postgres and trust authentication."""
    if shutil.which("psql") and _answers(*SHARED):
        yield SHARED
        return
    missing = [tool for tool in ("psql", "initdb", "pg_ctl") if not shutil.which(tool)]
    if missing:
        message = (f"no PostgreSQL on {SHARED[0]}:{SHARED[1]} and no {', '.join(missing)} to"
                   " start one (Debian: postgresql)")
        if os.environ.get("REQUIRE_TEST_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with _private_cluster() as cluster:
        yield cluster.host, cluster.port


def psql(host: str, port: int, sql: str, database: str = "postgres") -> str:
    done = subprocess.run(["psql", "-h", host, "-p", str(port), "-U", "postgres", "-d",
                           database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def database(host: str, port: int) -> Iterator[str]:
    """The URL of a new, empty database, dropped (with whoever is still connected) after."""
    name = f"relay_test_{secrets.token_hex(6)}"
    psql(host, port, f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@{host}:{port}/{name}"
    finally:
        psql(host, port, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
