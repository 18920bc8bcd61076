"""A real PostgreSQL for the tests (never a mock): the server on 127.0.0.1:5432 (trust
authentication, user postgres) where one answers, else a private cluster made with
initdb/pg_ctl in a temporary directory for the session. Each test gets a database of its own,
dropped after it (Databases: a copy of a template migrated once per pytest process). Without
either the tests skip, saying so; under REQUIRE_TEST_TOOLS=1 (CI) they fail instead."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from support.ports import free_port

T = TypeVar("T")

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

    def _processes(self) -> list[int]:
        """The server's process ids: the postmaster, then its children (backends included)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # pid (comm) state ppid ...: the name may hold spaces, the rest does not
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    @contextlib.contextmanager
    def hung(self) -> Iterator[None]:
        """The whole server stopped (SIGSTOP) for the block, as a machine that hangs: open
        connections get no answer, new ones no greeting, and no connection is reset."""
        stopped = []
        try:
            for pid in self._processes():
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            yield
        finally:
            for pid in stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)


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


class Databases:
    """The databases of one pytest process's tests. A test's database is a copy of a template
    migrated once (CREATE DATABASE ... TEMPLATE: 0.1 to 0.3 s, where migrating an empty one
    takes ~0.4 s), made ahead while the test before runs, and dropped in the background after
    the test. A DROP DATABASE waits for a checkpoint (~0.75 s each on the shared server, one
    after the other), so the drops waiting go together, on connections of their own, and share
    checkpoints (6 at once: 0.23 s). close() waits for every drop. Names hold the pytest-xdist
    worker and the process id, so parallel workers and runs never share one.

    The statements run in a thread of its own with an event loop of its own (a test's loop
    comes and goes with the test): one connection creates, a pool drops."""

    DROPS_AT_ONCE = 8

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        worker = re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
        self._prefix = f"relay_t_{worker}_{os.getpid()}_{secrets.token_hex(2)}"
        self._count = 0
        self._to_drop: list[str] = []
        self._spare: concurrent.futures.Future[str] | None = None  # the next test's, made ahead
        self._create_lock = asyncio.Lock()  # one statement at a time on the creating connection
        self._dropping: asyncio.Task[None] | None = None
        self._drop_errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="test-databases")
        self._thread.start()
        admin = self.url("postgres")
        self._creating: asyncpg.Connection = self._run(asyncpg.connect(admin))
        self._droppers: asyncpg.Pool = self._run(self._pool(admin))
        self.template = f"{self._prefix}_template"
        self._template_made = False

    async def _pool(self, url: str) -> asyncpg.Pool:
        return await asyncpg.create_pool(url, min_size=0, max_size=self.DROPS_AT_ONCE)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{name}"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    async def _make_template(self) -> None:
        from relay.store.migrate import migrate
        from relay.store.pg import PgStore

        await self._creating.execute(f"CREATE DATABASE {self.template}")
        self._template_made = True
        store = await PgStore.connect(self.url(self.template), 1)
        try:
            await migrate(store)
        finally:
            await store.close()  # a template with a session open cannot be copied

    async def _create(self, name: str, migrated: bool) -> str:
        async with self._create_lock:
            if migrated and not self._template_made:
                await self._make_template()
            template = f" TEMPLATE {self.template}" if migrated else ""
            await self._creating.execute(f"CREATE DATABASE {name}{template}")
        return self.url(name)

    def _start_create(self, migrated: bool) -> concurrent.futures.Future[str]:
        self._count += 1
        return asyncio.run_coroutine_threadsafe(
            self._create(f"{self._prefix}_{self._count}", migrated), self._loop)

    def create(self, migrated: bool = True) -> str:
        """The URL of a new database: migrated (a copy of the template), or empty."""
        if not migrated:
            return self._start_create(False).result(timeout=120)
        made, self._spare = self._spare or self._start_create(True), None
        url = made.result(timeout=120)
        self._spare = self._start_create(True)  # the next one, while this test runs
        return url

    def drop(self, url: str) -> None:
        """Drop it (with whoever is still connected) in the background."""
        self._loop.call_soon_threadsafe(self._queue_drop, url.rsplit("/", 1)[1])

    def _queue_drop(self, name: str) -> None:
        self._to_drop.append(name)
        self._queue_drop_task()

    def _queue_drop_task(self) -> None:
        if self._dropping is None or self._dropping.done():
            self._dropping = self._loop.create_task(self._drop_waiting())

    async def _drop_waiting(self) -> None:
        while self._to_drop:
            batch = self._to_drop[:self.DROPS_AT_ONCE]
            del self._to_drop[:self.DROPS_AT_ONCE]
            done = await asyncio.gather(*(self._drop(name) for name in batch),
                                        return_exceptions=True)
            self._drop_errors += [error for error in done if isinstance(error, BaseException)]

    async def _drop(self, name: str) -> None:
        async with self._droppers.acquire() as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def _finish(self) -> None:
        if self._spare is not None:
            self._to_drop.append((await asyncio.wrap_future(self._spare)).rsplit("/", 1)[1])
            self._queue_drop_task()
        while self._dropping is not None and not self._dropping.done():
            await self._dropping
        if self._template_made:
            self._to_drop.append(self.template)
            await self._drop_waiting()
        await self._creating.close()
        await self._droppers.close()
        if self._drop_errors:
            raise self._drop_errors[0]

    def close(self) -> None:
        """Wait for the drops, drop the template, end the connections and the thread."""
        try:
            self._run(self._finish())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


class TestStores:
    """The PostgreSQL stores of one test: a database for each store path it configures (two
    relays with stores of their own get two, a relay started again on its path the same)."""

    __test__ = False  # not a test class, for pytest

    def __init__(self, databases: Databases) -> None:
        self._databases = databases
        self._urls: dict[Path, str] = {}

    def url(self, path: Path) -> str:
        if path not in self._urls:
            self._urls[path] = self._databases.create()
        return self._urls[path]

    def close(self) -> None:
        for url in self._urls.values():
            self._databases.drop(url)
        self._urls.clear()
