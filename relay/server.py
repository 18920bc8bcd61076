"""`relay serve`: store, SMTP listeners, delivery worker and HTTP API on one event loop.
SIGTERM drains; SIGHUP reloads what can change safely."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import shutil
import signal
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from relay.api.app import create_app
from relay.api.service import APIServer
from relay.api.tokens import Tokens
from relay.auth.exposure import unauthenticated_inbound
from relay.config import Config, load
from relay.delivery.maildir import MaildirTransport
from relay.delivery.smtp_client import SMTPTransport
from relay.delivery.transport import Transport
from relay.delivery.worker import Worker
from relay.errors import ConfigError, StartupError
from relay.marketplace import templates
from relay.ops import logs, reload
from relay.pipeline import memory
from relay.pipeline.intake import Intake
from relay.pipeline.spool import spool_dir
from relay.pipeline.workers import BigMessages
from relay.smtp.session import Handler, protocol_factory, submission_factory
from relay.smtp.tls import server_context
from relay.store.checkpoints import Checkpointer
from relay.store.db import Store
from relay.store.startup import connect, load_secret, prepare

log = logging.getLogger("relay.server")


def make_transport(config: Config) -> Transport:
    if config.delivery.mode == "smtp":
        return SMTPTransport(config.delivery)
    return MaildirTransport(config.delivery.maildir)


class Relay:
    """A running relay; `start` then `stop`. Tests drive it the same way `serve` does."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store: Store | None = None
        self.checkpointer: Checkpointer | None = None
        self.worker: Worker | None = None
        self.handler: Handler | None = None
        self.server: asyncio.Server | None = None
        self.submission: list[asyncio.Server] = []  # STARTTLS port, then implicit TLS
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self.api: APIServer | None = None
        self.templates: dict[str, templates.Template] = {}  # read at start and on SIGHUP
        self.stopped = False

    @property
    def smtp_port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def submission_port(self) -> int:
        return int(self.submission[0].sockets[0].getsockname()[1])

    @property
    def api_port(self) -> int:
        assert self.api is not None
        return self.api.bound_port

    async def _listen(self, factory: Any, host: str, port: int, keys: str,
                      **tls: Any) -> asyncio.Server:
        # asyncio's default backlog of 100 drops the SYNs of a burst (a queue run of a
        # big sender, a reconnect storm); those clients then wait 1, 3, 7, 15 s for the
        # kernel's retry before the relay even sees them. Every connection the relay
        # would take may queue; the kernel caps this at net.core.somaxconn.
        backlog = max(128, self.config.limits.connections_total)
        try:
            return await asyncio.get_running_loop().create_server(
                factory, host=host, port=port, backlog=backlog, **tls)
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {host}:{port} ({keys}): {exc.strerror or exc}") from None

    async def start(self, listening: Callable[[], None] = lambda: None) -> None:
        """Open the store, bind every listener and start the workers; `listening` runs once
        all of it is up, before the lines that announce it."""
        cfg = self.config
        try:
            self.templates = templates.load_all(cfg.template_dir)
        except ConfigError as exc:  # `relay serve` refuses this; an embedding may go on
            log.error("no templates for the API: %s", exc)
        memory.return_big_buffers()
        try:  # where big bodies wait for their turn (relay.pipeline.spool); only the relay reads it
            spool_dir(cfg).mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(f"cannot make the spool directory {spool_dir(cfg)}:"
                               f" {exc.strerror or exc}") from None
        secret = await load_secret(cfg.store, announce=True)
        self.store = await connect(cfg.store, secret)
        try:
            applied = await prepare(self.store, cfg.store)
        except BaseException:
            await self.store.close()
            raise
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        self.checkpointer = Checkpointer(self.store, cfg.store.log_path,
                                         cfg.store.checkpoint_every, cfg.store.checkpoint_interval)
        await self.checkpointer.write()  # what a kill -9 left unwritten, if anything
        self.worker = Worker(cfg, self.store, make_transport(cfg))
        big = BigMessages(cfg)
        intake = Intake.for_config(cfg, self.store, self.worker.wake, big)
        self.handler = Handler(cfg, self.store, intake)
        handler, sessions = self.handler, self.sessions
        try:
            self.server = await self._listen(
                lambda: protocol_factory(cfg, handler, sessions), cfg.smtp.host, cfg.smtp.port,
                "smtp.host/smtp.port")
            sub = cfg.submission
            if sub.enabled:
                tls = server_context(sub.tls_cert, sub.tls_key, cfg.domain)
                self.submission.append(await self._listen(
                    lambda: submission_factory(cfg, handler, sessions, tls), sub.host,
                    sub.port, "submission.host/submission.port"))
                if sub.tls_port:
                    self.submission.append(await self._listen(
                        lambda: submission_factory(cfg, handler, sessions, tls, implicit=True),
                        sub.host, sub.tls_port, "submission.tls_port", ssl=tls))
            if cfg.api.enabled:
                self.api = APIServer(create_app(self), cfg.api.host, cfg.api.port, cfg.api)
                await self.api.start()
        except StartupError:
            for server in [self.server, *self.submission]:
                if server is not None:
                    server.close()
            await self.store.close()
            raise
        self.checkpointer.start()
        self.worker.start()
        big.start()  # with smtp.workers, the processes start now, not under the first messages
        # Before the lines that say the relay is up: whoever reads them may `relay reload`.
        listening()
        log.info("relay for %s: SMTP on %s:%d, delivery by %s", cfg.domain, cfg.smtp.host,
                 self.smtp_port, cfg.delivery.mode)
        risk = unauthenticated_inbound(cfg)
        if risk is not None:
            log.warning("%s", risk)
        if self.submission:
            log.info("submission (AUTH after STARTTLS) on %s:%d", cfg.submission.host,
                     self.submission_port)
        if self.api is not None:
            log.info("HTTP API on http://%s:%d (%d tokens)", cfg.api.host, self.api_port,
                     len(cfg.api.tokens))

    async def readiness(self) -> dict[str, bool]:
        """What /readyz reports: every check must hold for the relay to take mail."""
        listeners = [s for s in [self.server, *self.submission] if s is not None]
        return {
            "accepting": not self.stopped,
            "listeners": bool(listeners) and all(s.is_serving() for s in listeners),
            "delivery_worker": self.worker is not None and self.worker.alive,
            "store_writable": self.store is not None and await self.store.writable(),
            # Room for a message of the largest size, and the WAL growing with it.
            "disk_space": self._disk_free() > 2 * self.config.smtp.max_message_size,
        }

    def _disk_free(self) -> int:
        try:
            return shutil.disk_usage(self.config.store.path.resolve().parent).free
        except OSError:
            return 0

    async def reload(self, new: Config) -> list[str]:
        """Apply the settings that can change while running (the rules and their lists,
        limits, templates, API tokens, log level); log what changed and what needs a
        restart. Returns the keys applied."""
        old = self.config
        changed = reload.differences(old, new)
        fresh = templates.load_all(new.template_dir)
        if fresh != self.templates and "templates" not in changed:
            changed.append("templates")  # the same directory, with files changed
        applied = [k for k in changed if reload.reloadable(k)]
        for key in changed:
            if not reload.reloadable(key):
                log.warning("config reload: %s changed; it takes effect at the next restart",
                            key)
        if not applied:
            log.info("config reload: nothing to apply")
            return []
        merged = reload.merge(old, new)
        assert self.handler is not None and self.store is not None
        self.handler.apply(merged)
        self.templates = fresh
        self.config = merged
        if self.api is not None:
            self.api.app.state.tokens["current"] = Tokens(merged.api.tokens, merged.domain)
        logs.set_level(merged.log_level)
        log.info("config reload: applied %s", ", ".join(applied))
        return applied

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
        """Stop accepting, finish open DATA and in-flight deliveries, close the store. A
        second call does nothing."""
        if self.stopped:
            return
        self.stopped = True
        grace = self.config.shutdown_grace
        listeners = [s for s in [self.server, *self.submission] if s is not None]
        for server in listeners:
            server.close()
        if self.handler is not None:
            self.handler.closing = True
            try:
                await asyncio.wait_for(self._transactions_done(), timeout=grace)
            except TimeoutError:
                log.warning("open transactions did not finish within %.0fs", grace)
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()
        for server in listeners:
            await server.wait_closed()
        if self.worker is not None:
            await self.worker.stop(grace)
        if self.api is not None:
            await self.api.stop()
        if self.handler is not None:
            await self.handler.intake.stop(grace)
            self.handler.intake.close()
        if self.checkpointer is not None:
            await self.checkpointer.stop()  # after the last write: it covers everything
        if self.store is not None:
            await self.store.close()
        log.info("relay stopped")


def _more_files() -> None:
    """The soft limit on open files up to the hard one: each SMTP and API connection is one,
    and the common soft limit of 1024 would be the relay's connection limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, 1 << 20), hard))


async def serve(config: Config, path: Path | None = None) -> None:
    _more_files()
    relay = Relay(config)
    stop = asyncio.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before start-up, so a signal during it (migrations, keys) is not fatal: a SIGTERM
    # stops the relay once started, a SIGHUP reloads once started.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    async def reload_when_started() -> None:
        await started.wait()
        await _reload(relay, path)

    def hangup() -> None:
        task = loop.create_task(reload_when_started())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    # Written once every port is bound (a start that fails on a port in use must not take
    # over the running relay's file).
    pid_file = PidFile(config.pid_path)
    await relay.start(listening=pid_file.write)
    started.set()
    try:
        await stop.wait()
        log.info("shutting down")
        await relay.stop()
    finally:
        pid_file.remove()


class PidFile:
    """The serving process's ID, for `relay reload`; removed at a clean stop (only if it is
    still ours: another relay may have started on the same files since)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pid = os.getpid()

    def write(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(self.path.name + ".tmp")
            partial.write_text(f"{self.pid}\n", encoding="ascii")
            partial.replace(self.path)  # never a half-written ID
        except OSError as exc:  # serving matters more than the convenience
            log.warning("cannot write the pid file %s: %s", self.path, exc.strerror or exc)

    def remove(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if int(self.path.read_text(encoding="ascii")) == self.pid:
                self.path.unlink()


async def _reload(relay: Relay, path: Path | None) -> None:
    log.info("SIGHUP: reading the configuration again")
    try:
        # reload() reads the templates before it changes anything: their problems too
        # refuse the whole reload.
        await relay.reload(await asyncio.to_thread(load, path))
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("config reload refused, nothing changed: %s", problem)
    except Exception:
        log.exception("config reload failed")
