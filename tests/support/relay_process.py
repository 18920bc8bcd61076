"""`relay serve` as a child process, as an operator runs it: from a config file, its output
in a log file that can be read while it runs.

    async with serving(config) as relay:      # started, and listening on smtp.port
        ...relay.smtp_port, relay.log(), await relay.terminate()...

RelayProcess on its own starts without waiting (a test of a failed start), and starts again
after a kill (the crash tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
# How long a test waits for a relay process to start, log a line or exit before calling it
# hung: a limit for hangs, not a speed check (a loaded CI machine needs well over 10 s to
# start a Python process with its imports and migrations).
PATIENCE = 60.0


def relay_toml(settings: dict[str, Any]) -> str:
    """A config file's text: the top-level keys, then a [table] for each dict."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return str(item)
        if isinstance(item, list | tuple):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return json.dumps(str(item))  # a JSON string is a TOML basic string

    top = [f"{k} = {value(v)}" for k, v in settings.items() if not isinstance(v, dict)]
    tables = [f"[{name}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in table.items())
              for name, table in settings.items() if isinstance(table, dict)]
    return "\n".join(top) + "\n\n" + "\n".join(tables)


class RelayProcess:
    """`relay --config CONFIG serve`; stdout and stderr appended to `log` (default: relay.log
    beside the config)."""

    def __init__(self, config: Path, log: Path | None = None) -> None:
        self.config = config
        self.log_path = log or config.with_name("relay.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.smtp_port = 0
        self.api_port = 0

    def settings(self) -> dict[str, Any]:
        """The config file as it is now (a reload may have changed it)."""
        return tomllib.loads(self.config.read_text(encoding="utf-8"))

    def start(self) -> None:
        """Start it (again, after it stopped); the ports are those of the file now."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        settings = self.settings()
        self.smtp_port = int(settings.get("smtp", {}).get("port", 0))
        self.api_port = int(settings.get("api", {}).get("port", 0))
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "relay.cli", "--config", str(self.config), "serve"],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """None while it runs."""
        assert self.proc is not None
        return self.proc.poll()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> None:
        assert self.returncode is None, f"relay exited {self.returncode}:\n{self.log()[-3000:]}"

    async def wait_listening(self, timeout: float = PATIENCE) -> None:
        """Until a connection to smtp.port succeeds (that probe connection is closed again)."""
        deadline = time.monotonic() + timeout
        while True:
            self.alive()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.smtp_port)
            except OSError:
                assert time.monotonic() < deadline, f"relay not listening:\n{self.log()}"
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def wait_log(self, text: str, start: int = 0, timeout: float = PATIENCE) -> int:
        """Until `text` is in the log after position `start`; returns where it ends."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.log().find(text, start)
            if found >= 0:
                return found + len(text)
            self.alive()
            assert time.monotonic() < deadline, f"no {text!r} in the log:\n{self.log()}"
            await asyncio.sleep(0.03)

    def rewrite(self, settings: dict[str, Any] | str) -> None:
        """Write the config file anew (the relay reads it at its next start or SIGHUP)."""
        text = settings if isinstance(settings, str) else relay_toml(settings)
        self.config.write_text(text, encoding="utf-8")

    async def reload(self, settings: dict[str, Any] | str | None = None) -> tuple[int, str]:
        """SIGHUP, after writing `settings` to the config file when given; returns where the
        reload's lines start in the log, and those lines."""
        if settings is not None:
            self.rewrite(settings)
        mark = len(self.log())
        self.send_signal(signal.SIGHUP)
        await self.wait_log("SIGHUP: reading the configuration again", mark)
        end = await self.reloaded(mark)
        return mark, self.log()[mark:end]

    async def reloaded(self, mark: int, timeout: float = PATIENCE) -> int:
        """Until a reload logged after `mark` has its outcome: where its last line ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()[mark:]
            applied = re.search(r"config reload: (applied|nothing to apply)[^\n]*\n", text)
            if applied:
                return mark + applied.end()
            if re.search(r"config reload refused, nothing changed[^\n]*\n", text):
                await asyncio.sleep(0.3)  # one line per problem: wait until no more arrive
                last = list(re.finditer(r"config reload refused[^\n]*\n", self.log()[mark:]))
                return mark + last[-1].end()
            await asyncio.sleep(0.03)
        raise AssertionError(f"reload did not finish:\n{self.log()[mark:]}")

    def api(self, token: str | None = None) -> httpx.AsyncClient:
        """A client of its HTTP API (api.port), with the token when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.api_port}",
                                 headers=headers, timeout=10)

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = PATIENCE) -> int:
        """Until it exits: its exit code."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout)

    async def terminate(self, timeout: float = PATIENCE) -> int:
        """SIGTERM (drain, then exit); its exit code."""
        self.send_signal(signal.SIGTERM)
        return await self.wait(timeout)

    async def kill(self, timeout: float = PATIENCE) -> int:
        """SIGKILL: no shutdown code runs. Its exit code (-9)."""
        self.send_signal(signal.SIGKILL)
        return await self.wait(timeout)

    def close(self, grace: float = 0.0) -> None:
        """A test's cleanup, without an event loop: if it still runs, SIGTERM and `grace`
        seconds to exit (when grace is given), then SIGKILL."""
        if self.proc is None or self.proc.poll() is not None:
            return
        if grace:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextlib.asynccontextmanager
async def serving(config: Path, log: Path | None = None,
                  timeout: float = PATIENCE) -> AsyncIterator[RelayProcess]:
    """`relay serve` started and listening on smtp.port; killed at the end if it still runs."""
    relay = RelayProcess(config, log)
    relay.start()
    try:
        await relay.wait_listening(timeout)
        yield relay
    finally:
        relay.close()
