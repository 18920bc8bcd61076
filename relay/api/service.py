"""The API's HTTP server: uvicorn on the relay's own event loop, on a socket bound here so a
port in use stops start-up with a clear line, like the SMTP listeners."""

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from relay.config import APISettings
from relay.errors import StartupError

# Open API connections at most, and how long a request may take from the end of its head to
# the end of its response; the head itself must come within api.header_timeout (and this) of
# the connection's start or the end of its last response. A client that trickles a request
# or holds a socket idle cannot pile up file descriptors the SMTP listeners need.
MAX_CONNECTIONS = 256
REQUEST_DEADLINE = 30.0
# Past MAX_CONNECTIONS in all or api.connections_per_ip from one address, up to SPARE more
# connections may still ask /healthz or /readyz, for SPARE_DEADLINE seconds, and are closed
# after the answer: a crowd of idle sockets must not make a health check fail. Anything
# else on them is closed at its first bytes (or 503 once its head is in), and when all
# SPARE are taken a newcomer takes the place of the oldest one that has sent nothing yet (a
# health check sends its request at once; a socket held idle is what it displaces).
SPARE = 16
SPARE_DEADLINE = 2.0
HEALTH = ("/healthz", "/readyz")
_HEALTH_STARTS = tuple(f"{method} {path}".encode() for method in ("GET", "HEAD")
                       for path in HEALTH)
_BUSY = b'{"code":"busy","message":"too many connections; try again later"}'


def _health_only(app: ASGIApp) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in HEALTH:
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BUSY)),
            (b"retry-after", b"5"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": _BUSY})

    return guarded


class _GuardedH11(H11Protocol):
    # api.connections_per_ip and api.header_timeout: set on a subclass per server.
    per_ip = 64
    header_timeout = 10.0
    spare = False  # over a cap: health checks only
    _opened = 0.0  # when a spare connection was let in
    _deadline: asyncio.TimerHandle | None = None
    _timed: object = None  # the request whose head has come in
    _start = b""  # a spare connection's first bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        mine = self.client[0] if self.client else None
        full = [c for c in self.connections if c is not self
                and not getattr(c, "spare", False)]
        if len(full) < MAX_CONNECTIONS and (mine is None or sum(
                1 for c in full if c.client and c.client[0] == mine) < self.per_ip):
            self._arm(min(self.header_timeout, REQUEST_DEADLINE))
            return
        spares = [c for c in self.connections if isinstance(c, _GuardedH11) and c.spare]
        if len(spares) >= SPARE:
            silent = [c for c in spares if not c._start]
            if not silent:
                transport.close()
                return
            min(silent, key=lambda c: c._opened).transport.close()
        self.spare = True
        self._opened = self.loop.time()
        self.app = _health_only(self.app)
        self._arm(SPARE_DEADLINE)

    def _arm(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _expire(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.spare and len(self._start) < 16:
            self._start += data[:16]
            if not any(s.startswith(self._start[:len(s)]) for s in _HEALTH_STARTS):
                self.transport.close()  # not a health check: nothing to wait for
                return
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._timed \
                and not self.cycle.response_complete and not self.spare:
            self._timed = self.cycle  # its head is in: the rest has REQUEST_DEADLINE
            self._arm(REQUEST_DEADLINE)

    def on_response_complete(self) -> None:
        if self.spare:
            super().on_response_complete()
            self._expire()
            return
        self._arm(min(self.header_timeout, REQUEST_DEADLINE))
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)


class _Server(uvicorn.Server):
    stopping: asyncio.Event

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The relay handles SIGTERM, SIGINT and SIGHUP itself (relay.server.serve).
        yield

    async def main_loop(self) -> None:
        # uvicorn's loop notices should_exit at its next 0.1 s tick; this one at once.
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.1)


class APIServer:
    def __init__(self, app: FastAPI, host: str, port: int,
                 settings: APISettings | None = None) -> None:
        self.host, self.port = host, port
        self.app = app
        self.settings = settings or APISettings()
        self.sock: socket.socket | None = None
        self.server: _Server | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only then,
        # and without it every response after the first on a connection waits ~40 ms.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise StartupError(f"cannot listen on {self.host}:{self.port} (api.host/api.port):"
                               f" {exc.strerror or exc}") from None
        sock.listen(128)
        sock.setblocking(False)
        self.sock = sock
        protocol = type("GuardedH11", (_GuardedH11,), {
            "per_ip": self.settings.connections_per_ip,
            "header_timeout": self.settings.header_timeout})
        # uvicorn's own limit answers 503 to every request, health checks too: past the
        # connections the guard lets in, so only its count of requests being run applies.
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_graceful_shutdown=5,
                                http=protocol, limit_concurrency=MAX_CONNECTIONS + SPARE + 1,
                                h11_max_incomplete_event_size=16_384)
        self.server = _Server(config)
        self.server.stopping = asyncio.Event()
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]), name="api")
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()  # raises what stopped it

    @property
    def bound_port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])

    @property
    def serving(self) -> bool:
        return self.task is not None and not self.task.done()

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        self.server.stopping.set()
        with contextlib.suppress(Exception):
            await self.task
        if self.sock is not None:
            self.sock.close()
