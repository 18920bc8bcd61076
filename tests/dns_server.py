"""A real DNS server for tests: dnsmasq on a free loopback port, answering only for given records.

Not a test module. Typical use::

    with LocalDNS({"relay._domainkey.relay.test": [dkim_txt]}) as dns_server:
        ...  # point a resolver at dns_server.host / dns_server.port

Names that are not in the table get NXDOMAIN at once (``--local=/#/``), nothing is forwarded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import dns.resolver
import pytest
from support.ports import free_port

DKIM_VERIFY_PL = Path(__file__).with_name("dkim_verify.pl")

# dnsmasq reads its config with a fixed-size line buffer: lines over ~1024 bytes are cut and
# fail with 'missing "'. Stay below that (a 4096-bit DKIM key still fits).
_MAX_CONF_LINE = 1000
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


def dnsmasq_path() -> str | None:
    found = shutil.which("dnsmasq")
    if found:
        return found
    # /usr/sbin is often missing from a non-root PATH.
    return "/usr/sbin/dnsmasq" if os.access("/usr/sbin/dnsmasq", os.X_OK) else None


def mail_dkim_available() -> bool:
    """Whether `perl tests/dkim_verify.pl` can run (Perl with Mail::DKIM and Net::DNS)."""
    perl = shutil.which("perl")
    if perl is None:
        return False
    probe = subprocess.run([perl, "-MMail::DKIM::Verifier", "-MNet::DNS", "-e", "1"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def require(tool_available: bool, what: str) -> None:
    """Skip the calling test if a tool is missing; fail instead when REQUIRE_TEST_TOOLS=1.

    CI sets the variable so that a broken image cannot silently turn these tests into skips.
    """
    if tool_available:
        return
    if os.environ.get("REQUIRE_TEST_TOOLS") == "1":
        pytest.fail(f"{what} is not available, but REQUIRE_TEST_TOOLS=1 requires it")
    pytest.skip(f"{what} is not available (set REQUIRE_TEST_TOOLS=1 to make this a failure)")


def txt_strings(value: str) -> list[str]:
    """Split a TXT value into character-strings of at most 255 octets (RFC 1035 3.3.14).

    Splits on UTF-8 octets without cutting a character; "" gives one empty string.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in value:
        width = len(ch.encode())
        if size + width > 255:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    parts.append("".join(current))
    return parts


def _name(name: str) -> str:
    name = name.rstrip(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(f"not a DNS name dnsmasq can serve: {name!r}")
    return name


def _quote(part: str) -> str:
    # Config-file syntax: quotes keep commas and spaces; dnsmasq unescapes \" and \\.
    # (On the command line, quotes are NOT removed and every comma splits a string.)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in part):
        raise ValueError(f"control character in TXT value: {part!r}")
    return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(records: dict[str, list[str]], a_records: dict[str, str]) -> str:
    lines: list[str] = []
    for name, values in records.items():
        # One txt-record line per value: several lines for one name give an RRset of several
        # records; the strings within a line make up one record.
        for value in values:
            line = f"txt-record={_name(name)}," + ",".join(map(_quote, txt_strings(value)))
            if len(line.encode()) > _MAX_CONF_LINE:
                raise ValueError(f"TXT value for {name} too long for a dnsmasq config line")
            lines.append(line)
    for name, address in a_records.items():
        socket.inet_aton(address)  # an IPv4 literal, or OSError
        lines.append(f"host-record={_name(name)},{address}")
    return "\n".join(lines) + "\n"


class LocalDNS:
    """dnsmasq serving `records` (TXT) and `a_records` (A) on 127.0.0.1, UDP and TCP."""

    host: str = "127.0.0.1"
    port: int

    def __init__(self, records: dict[str, list[str]],
                 a_records: dict[str, str] | None = None) -> None:
        self.port = 0
        self._config_text = _config(records, a_records or {})  # validate before starting
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    def _command(self, binary: str, conf: Path) -> list[str]:
        return [
            binary,
            "--keep-in-foreground",           # stays our child, so stop() can wait for it
            f"--port={self.port}",
            f"--listen-address={self.host}",
            "--bind-interfaces",              # bind only 127.0.0.1, not the wildcard address
            f"--conf-file={conf}",            # ours only: /etc/dnsmasq.conf is never read
            "--no-resolv", "--no-poll",       # no upstream servers from /etc/resolv.conf
            "--no-hosts",                     # nothing from /etc/hosts
            "--local=/#/",                    # unknown names: NXDOMAIN now, not REFUSED
            "--pid-file=",                    # no pid file
            "--user=", "--group=",            # empty: keep our uid/gid (root or not)
            "--log-facility=-", "--log-queries",  # to stderr, which goes to a file
        ]

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("LocalDNS already started")
        binary = dnsmasq_path()
        if binary is None:
            raise RuntimeError("dnsmasq not found")
        self._dir = tempfile.TemporaryDirectory(prefix="localdns-")
        conf = Path(self._dir.name) / "dnsmasq.conf"
        conf.write_text(self._config_text)
        error = ""
        for _attempt in range(5):
            self.port = free_port()  # start() retries if another process takes it first
            self._log = open(Path(self._dir.name) / "dnsmasq.log", "w+b")  # noqa: SIM115
            self._proc = subprocess.Popen(
                self._command(binary, conf), stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True)  # its own group: stop() also reaps TCP children
            if self._wait_ready(deadline=time.monotonic() + 5.0):
                return
            error = self.log()
            self._terminate()
            if "in use" not in error:  # only a lost port race is worth another try
                break
        self.stop()
        raise RuntimeError(f"dnsmasq did not start:\n{error}")

    def _wait_ready(self, deadline: float) -> bool:
        assert self._proc is not None
        probe = dns.message.make_query("localdns-probe.invalid.", dns.rdatatype.TXT)
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                # Any answer (NXDOMAIN here) shows it is serving; check TCP as well.
                dns.query.udp(probe, self.host, port=self.port, timeout=0.2)
                dns.query.tcp(probe, self.host, port=self.port, timeout=0.5)
                return True
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        return False

    def log(self) -> str:
        """dnsmasq's output so far: startup errors and one line per query."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):  # already gone
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        self._terminate()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def resolver(self, lifetime: float = 2.0) -> dns.resolver.Resolver:
        """A dnspython resolver that asks only this server (no /etc/resolv.conf)."""
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [self.host]
        res.port = self.port
        res.lifetime = lifetime
        return res

    def dkim_dnsfunc(self, name: bytes, timeout: int = 5) -> bytes | None:
        """dkimpy's `dnsfunc`: the first TXT record at `name`, strings joined, or None."""
        try:
            answer = self.resolver(lifetime=timeout).resolve(
                name.decode().rstrip(".") + ".", "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(next(iter(answer)).strings)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
