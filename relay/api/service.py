"""The API's HTTP server: uvicorn on the relay's own event loop, on a socket bound here so a
port in use stops start-up with a clear line, like the SMTP listeners."""

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from relay.errors import StartupError

# Open API connections at most (more are closed at once), and how long a connection may take
# from its start, or the end of its last response, to the end of its next response: a client
# that trickles a request or holds a socket idle cannot pile up file descriptors the SMTP
# listeners need.
MAX_CONNECTIONS = 256
REQUEST_DEADLINE = 30.0


class _GuardedH11(H11Protocol):
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(REQUEST_DEADLINE, self._expire)

    def _expire(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        self._arm()
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
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.app = app
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
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_graceful_shutdown=5,
                                http=_GuardedH11, limit_concurrency=MAX_CONNECTIONS,
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
