"""Real servers as fixtures: the relay on a loopback port, a capture server as the inbox."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosmtplib
import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from support import postgresql
from support.ports import free_port as free_port  # the tests import it from here
from support.relay_process import RelayProcess, relay_toml

from relay.config import (
    APISettings,
    Config,
    DeliverySettings,
    DKIMSettings,
    SMTPSettings,
    StoreSettings,
    SubmissionSettings,
)
from relay.marketplace import conversations
from relay.server import Relay

if TYPE_CHECKING:
    from support.api_client import Api

DOMAIN = "relay.test"
ORDER = "112-1234567-1234567"
BUYER = "Bob.Buyer@buyer-mail.example"
SELLER = "sally@seller-host.example"
SELLER2 = "support@seller-host.example"
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    smtputf8: bool

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.SMTP)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Capture:
    """The real inbox: an SMTP server that stores what it gets, or refuses as told."""

    messages: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 <x@y>: no such user", for everyone
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_reply: str | None = None
    server: asyncio.Server | None = None
    port: int = 0
    peers: list[int] = field(default_factory=list)  # client port of each message's connection
    sessions: list[SMTP] = field(default_factory=list)
    pipelining: bool = True  # offered in EHLO, as Postfix does (RFC 2920)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if self.rcpt_reply or address in self.refuse:
            return self.refuse.get(address) or str(self.rcpt_reply)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.peers.append(session.peer[1] if isinstance(session.peer, tuple) else 0)
        self.messages.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content),
            bool(envelope.smtp_utf8)))
        return "250 OK captured"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        def session() -> SMTP:
            smtp = SMTP(self, enable_SMTPUTF8=True, decode_data=False, hostname="inbox.test")
            self.sessions.append(smtp)
            return smtp

        self.server = await loop.create_server(session, host="127.0.0.1", port=self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    def drop_connections(self) -> None:
        """Close every open client connection, as a server does after its idle timeout."""
        for smtp in self.sessions:
            if smtp.transport is not None:
                smtp.transport.close()
        self.sessions.clear()

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(self.messages) >= count, f"inbox got {len(self.messages)} of {count}"
        return self.messages


@pytest.fixture
async def capture() -> AsyncIterator[Capture]:
    cap = Capture()
    await cap.start()
    yield cap
    await cap.stop()


VERP = re.compile(r"bounces\+[a-z2-7]{16}\.[0-9a-z]+\.[a-z2-7]{16}@relay\.test")


_DKIM_PEM: list[bytes] = []


def dkim_key(tmp_path: Path) -> Path:
    """One RSA key for the whole run (making a 2048-bit key costs ~0.1 s), copied per test."""
    from relay.delivery.dkim_sign import generate

    path = tmp_path / "dkim.pem"
    tmp_path.mkdir(parents=True, exist_ok=True)
    if not _DKIM_PEM:
        _DKIM_PEM.append(generate(tmp_path / "dkim-original.pem"))
    if not path.exists():
        path.write_bytes(_DKIM_PEM[0])
    return path


# The running test's PostgreSQL stores, when it runs on PostgreSQL (the store_backend fixture).
_PG_STORES: list[postgresql.TestStores] = []
# TEST_STORE_BACKEND=postgresql: every test's relays on PostgreSQL, not only the marked files'
# (to try the whole suite on it by hand; tests that read the SQLite file themselves fail then).
DEFAULT_BACKEND = os.environ.get("TEST_STORE_BACKEND", "sqlite")


def store_url(path: Path) -> str:
    """store.url for a store at `path` in the running test: "" on SQLite; on PostgreSQL a
    database of its own for each path (the same one for the same path)."""
    return _PG_STORES[-1].url(path) if _PG_STORES else ""


def store_section(store: StoreSettings) -> str:
    """The [store] table of a config file for the CLI on the same store as `store`."""
    text = f"[store]\npath = {json.dumps(str(store.path))}\n"
    return text + (f"url = {json.dumps(store.url)}\n" if store.url else "")


def make_config(tmp_path: Path, smarthost_port: int, **delivery: Any) -> Config:
    settings: dict[str, Any] = {
        "mode": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smarthost_port,
        "smtp_timeout": 5.0, "retry_initial": 0.2, "retry_max": 1.0, "poll_interval": 0.1,
        "maildir": tmp_path / "maildir", "bounce_key": tmp_path / "bounce.key",
    }
    settings.update(delivery)
    return Config(
        domain=DOMAIN, shutdown_grace=5.0,
        smtp=SMTPSettings(host="127.0.0.1", port=0, max_message_size=1_000_000),
        store=StoreSettings(path=tmp_path / "relay.db", url=store_url(tmp_path / "relay.db")),
        delivery=DeliverySettings(**settings),
        dkim=DKIMSettings(key=dkim_key(tmp_path)),
        submission=SubmissionSettings(port=0, tls_cert=tmp_path / "tls" / "cert.pem",
                                      tls_key=tmp_path / "tls" / "key.pem"),
        api=APISettings(enabled=False),  # tests of the API turn it on (port 0)
    )


def serve_config(tmp_path: Path, smtp_port: int, sink_port: int,
                 **changes: Any) -> Path:
    """A config file for `relay serve` run as a process: every file it writes in tmp_path,
    delivery by SMTP to `sink_port`, no submission port or API. `changes` replace top-level
    keys or keys of a section: serve_config(..., smtp={"timeout": 2.0}, shutdown_grace=3.0)."""
    settings: dict[str, Any] = {
        "domain": DOMAIN, "shutdown_grace": 5.0,
        "smtp": {"host": "127.0.0.1", "port": smtp_port},
        "store": {"path": tmp_path / "relay.db",
                  **({"url": url} if (url := store_url(tmp_path / "relay.db")) else {})},
        "delivery": {"mode": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink_port,
                     "smtp_timeout": 5.0, "smtp_starttls": "never", "retry_initial": 0.2,
                     "retry_max": 1.0, "poll_interval": 0.1, "maildir": tmp_path / "maildir",
                     "bounce_key": tmp_path / "bounce.key"},
        "dkim": {"key": dkim_key(tmp_path)},
        "api": {"enabled": False},
        "submission": {"enabled": False},
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            settings.setdefault(key, {}).update(value)
        else:
            settings[key] = value

    path = tmp_path / "serve.toml"
    path.write_text(relay_toml(settings), encoding="utf-8")
    return path


@pytest.fixture
async def relay_processes() -> AsyncIterator[list[RelayProcess]]:
    """`relay serve` processes a test starts (append them): killed at its end if still up."""
    started: list[RelayProcess] = []
    yield started
    for relay in started:
        relay.close()


RelayFactory = Callable[..., Awaitable[Relay]]


@pytest.fixture
async def relay_factory(tmp_path: Path) -> AsyncIterator[RelayFactory]:
    started: list[Relay] = []

    async def start(config: Config) -> Relay:
        relay = Relay(config)
        await relay.start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        if relay.store is not None and relay.server is not None:
            await relay.stop()


@pytest.fixture
async def start_api(relay_factory: RelayFactory, capture: Capture,
                    tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """start_api(**config changes): an in-process relay with its HTTP API on (api_config)."""
    from support.api_client import Api, api_config, http_client  # it imports conftest

    clients: list[httpx.AsyncClient] = []

    async def start(**changes: Any) -> Api:
        relay = await relay_factory(api_config(tmp_path, capture, **changes))
        clients.append(http_client(relay))
        return Api(relay, capture, clients[-1])

    yield start
    for client in clients:
        await client.aclose()


@pytest.fixture
async def relay(relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> Relay:
    return await relay_factory(make_config(tmp_path, capture.port))


async def open_conv(relay: Relay, buyer: str = BUYER, sellers: tuple[str, ...] = (SELLER,),
                    order: str = ORDER) -> conversations.Conversation:
    assert relay.store is not None
    conv, _ = await conversations.open_conversation(
        relay.store, relay.config.domain, order, buyer, list(sellers))
    return conv


@pytest.fixture
async def conv(relay: Relay) -> conversations.Conversation:
    return await open_conv(relay, sellers=(SELLER, SELLER2))


def compose(sender: str, to: str, subject: str = "Question about my order",
            body: str = "Hello, when will it ship?\n", **headers: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = headers.pop("message_id", f"<{time.time_ns()}@{sender.split('@')[1]}>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    utf8 = not (sender + to).isascii()  # an SMTPUTF8 message keeps its addresses raw
    return msg.as_bytes(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)


async def send(port: int, mail_from: str, rcpt: str | list[str], data: bytes,
               **kwargs: Any) -> tuple[int, str]:
    """One SMTP transaction; returns the final reply (the DATA reply when DATA ran).
    source="127.0.2.1": connect from that loopback address (another client network)."""
    source = kwargs.get("source")
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False,
                             source_address=(source, 0) if source else None)
    await client.connect()
    try:
        await client.ehlo(hostname="client.example")
        options = kwargs.get("mail_options") or []
        encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
        try:
            await client.mail(mail_from, options=options, encoding=encoding)
        except aiosmtplib.SMTPResponseException as exc:
            return exc.code, exc.message
        for address in [rcpt] if isinstance(rcpt, str) else rcpt:
            try:
                await client.rcpt(address, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as exc:
                return exc.code, exc.message
        try:
            reply = await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            return exc.code, exc.message
        return reply.code, reply.message
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()


def run_cli(*args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *args], capture_output=True, text=True,
        env=full_env, cwd=cwd or ROOT, timeout=60, check=False,
    )


# -- PostgreSQL (store.url) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[tuple[str, int]]:
    """(host, port) of a real PostgreSQL for the session (tests/support/postgresql.py)."""
    with postgresql.server() as found:
        yield found


@pytest.fixture(scope="session")
def postgresql_databases(postgresql_server: tuple[str, int]) -> Iterator[postgresql.Databases]:
    """Creates and drops the tests' databases (one template migrated once per process)."""
    databases = postgresql.Databases(*postgresql_server)
    yield databases
    databases.close()


@pytest.fixture
def postgresql_url(postgresql_databases: postgresql.Databases) -> Iterator[str]:
    """An empty database of the test's own, dropped after it."""
    url = postgresql_databases.create(migrated=False)
    yield url
    postgresql_databases.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSettings]:
    """The store settings of each backend in turn: a test taking this runs on both (SQLite in
    tmp_path, PostgreSQL in a migrated database of its own)."""
    settings = StoreSettings(path=tmp_path / "relay.db")
    if request.param != "postgresql":
        yield settings
        return
    databases: postgresql.Databases = request.getfixturevalue("postgresql_databases")
    url = databases.create()
    yield dataclasses.replace(settings, url=url)
    databases.drop(url)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends: runs twice, its relays on SQLite, then on"
                            " PostgreSQL (the store_backend fixture)")
    config.addinivalue_line("markers", "sqlite_only(why): in a file marked backends, runs on"
                            " SQLite only (it edits the SQLite file itself)")
    # xdist's loadfile hands out files in collection order, but by default first sorts them
    # by their number of tests: the few long corpus tests came last and one worker ran them
    # alone at the end. Off, so that LONG_FILES below decide.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# The files that take longest on one worker (seconds, wall, measured on the 2-core machine
# under load), handed out first so that the two workers end together; the rest keep their
# order. A guess is enough: a file left out only starts later.
LONG_FILES = {
    "tests/rules/test_contact_model.py": 150, "tests/rules/test_rules_needs.py": 100,
    "tests/ops/test_operations.py": 85, "tests/marketplace/test_templates.py": 75,
    "tests/smtp/test_slow_clients.py": 75, "tests/rules/test_intent_rules.py": 70,
    "tests/pipeline/test_fairness.py": 65, "tests/rules/test_policy_corpus.py": 60,
    "tests/api/test_api.py": 55, "tests/store/test_reliability.py": 55,
    "tests/smtp/test_submission.py": 50, "tests/stages/test_attachments.py": 50,
    "tests/pipeline/test_fuzz.py": 35, "tests/store/test_postgresql.py": 35,
    "tests/store/test_chain.py": 35, "tests/test_cli.py": 30, "tests/web/test_web_http.py": 30,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest files first (a stable sort: each file's tests keep their order)."""
    def weight(item: pytest.Item) -> int:
        return -LONG_FILES.get(item.nodeid.split("::")[0], 0)

    items.sort(key=weight)


# A test that starts a relay (in-process or `relay serve`) has one of these among its fixtures.
STARTS_A_RELAY = frozenset({"relay_factory", "relay_processes"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `backends` (a whole file: pytestmark) that starts a relay runs twice, its
    relays on SQLite, then on PostgreSQL, unless it is marked sqlite_only (why). Tests of the
    file that start none (pure functions) run once; so do those with a backend of their own."""
    node = metafunc.definition
    only = node.get_closest_marker("sqlite_only")
    if only is not None and not only.args:
        raise pytest.UsageError(f"{node.nodeid}: sqlite_only needs its reason")
    names = set(metafunc.fixturenames)
    own = {"backend", "postgresql_url"} & names
    if (node.get_closest_marker("backends") and only is None and not own
            and STARTS_A_RELAY & names):
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend of the relays a test configures with make_config, serve_config and the
    API helpers: "sqlite" unless the test is parametrized (backends) or TEST_STORE_BACKEND
    says otherwise. On PostgreSQL each store path gets a database of the test's own, dropped
    after it (set up before the test's other fixtures, so torn down after its relays)."""
    name = getattr(request, "param", DEFAULT_BACKEND)
    if name != "postgresql" or request.node.get_closest_marker("sqlite_only"):
        yield "sqlite"
        return
    stores = postgresql.TestStores(request.getfixturevalue("postgresql_databases"))
    _PG_STORES.append(stores)
    try:
        yield name
    finally:
        _PG_STORES.remove(stores)
        stores.close()
