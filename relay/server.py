"""`relay serve`: store, SMTP listener and delivery worker on one event loop; SIGTERM drains."""

from __future__ import annotations

import asyncio
import logging
import signal
import weakref

from aiosmtpd.smtp import SMTP

from relay import pipeline
from relay.accept import Intake
from relay.config import Config
from relay.delivery.transport import make_transport
from relay.delivery.worker import Worker
from relay.errors import StartupError
from relay.smtp import Handler, protocol_factory
from relay.store.db import Store
from relay.store.migrate import migrate

log = logging.getLogger("relay.server")


class Relay:
    """A running relay; `start` then `stop`. Tests drive it the same way `serve` does."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store: Store | None = None
        self.worker: Worker | None = None
        self.handler: Handler | None = None
        self.server: asyncio.Server | None = None
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def smtp_port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        cfg = self.config
        self.store = await Store.open(cfg.store.path, cfg.store.busy_timeout)
        applied = await migrate(self.store)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        self.worker = Worker(cfg, self.store, make_transport(cfg))
        intake = Intake(cfg, self.store, pipeline.build(cfg, self.store), self.worker.wake)
        self.handler = Handler(cfg, self.store, intake)
        loop = asyncio.get_running_loop()
        handler, sessions = self.handler, self.sessions
        try:
            self.server = await loop.create_server(
                lambda: protocol_factory(cfg, handler, sessions),  # type: ignore[arg-type]
                host=cfg.smtp.host, port=cfg.smtp.port,
            )
        except OSError as exc:
            await self.store.close()
            raise StartupError(
                f"cannot listen on {cfg.smtp.host}:{cfg.smtp.port} (smtp.host/smtp.port):"
                f" {exc.strerror or exc}"
            ) from None
        self.worker.start()
        log.info("relay for %s: SMTP on %s:%d, delivery by %s", cfg.domain, cfg.smtp.host,
                 self.smtp_port, cfg.delivery.mode)

    async def _transactions_done(self) -> None:
        """Until no client is between MAIL FROM and the reply to its DATA."""
        assert self.handler is not None
        while True:
            await self.handler.idle.wait()
            if not any(s.envelope is not None and s.envelope.mail_from
                       and s.transport is not None for s in self.sessions):
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop accepting, finish open DATA and in-flight deliveries, close the store."""
        grace = self.config.shutdown_grace
        if self.server is not None:
            self.server.close()
        if self.handler is not None:
            self.handler.closing = True
            try:
                await asyncio.wait_for(self._transactions_done(), timeout=grace)
            except TimeoutError:
                log.warning("open transactions did not finish within %.0fs", grace)
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()
        if self.server is not None:
            await self.server.wait_closed()
        if self.worker is not None:
            await self.worker.stop(grace)
        if self.store is not None:
            await self.store.close()
        log.info("relay stopped")


async def serve(config: Config) -> None:
    relay = Relay(config)
    await relay.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await relay.stop()
