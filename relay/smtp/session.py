"""The SMTP front door (aiosmtpd): RCPT checks, DATA -> intake, dispositions -> replies."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from email._header_value_parser import get_angle_addr
from email.errors import HeaderParseError
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from relay.auth import passwords, throttle
from relay.config import Config
from relay.delivery.verp import PREFIX
from relay.marketplace import conversations
from relay.ops import prometheus
from relay.pipeline.intake import Intake
from relay.pipeline.lanes import FairLanes
from relay.pipeline.parcel import Envelope as RelayEnvelope
from relay.pipeline.spool import Body, Budget, spool_dir
from relay.replies import (
    AUTH_FAILED,
    BAD_BOUNCE_ADDRESS,
    BAD_RECIPIENT,
    CANNOT_VRFY,
    CLOSED_ALIAS,
    DATA_SYNTAX,
    IDLE_COMMANDS,
    IN_FLIGHT_FULL,
    LINE_TOO_LONG,
    LOGIN_THROTTLED,
    MAX_LINE,
    NEED_RCPT,
    NOT_YOUR_CONVERSATION,
    OK,
    ONE_CONVERSATION,
    RATE_LIMITED,
    RATE_NETWORK,
    RCPT_OK,
    RELAY_DENIED,
    SENDER_OK,
    SESSION_TOO_LONG,
    SHUTTING_DOWN,
    START_DATA,
    TEMPFAIL,
    TOO_BIG,
    TOO_BUSY,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_FROM_NETWORK,
    UNKNOWN_ALIAS,
)
from relay.smtp import rate_limits
from relay.smtp.networks import client_network
from relay.store.db import Store
from relay.unicode import storable

log = logging.getLogger("relay.smtp.session")

# aiosmtpd's own wording for a few replies, turned into ours with enhanced status codes.
_DATA_TOO_BIG = "552 Error: Too much mail data"
_DATA_LINE_TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
_REWORDED = {
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,
    _DATA_TOO_BIG: TOO_BIG,
    _DATA_LINE_TOO_LONG: LINE_TOO_LONG,
}
# aiosmtpd discards these bodies without calling handle_DATA; the attempt is still recorded.
_DISCARDED = {_DATA_TOO_BIG: "size", _DATA_LINE_TOO_LONG: "line_length"}


# MAIL and RCPT arguments as the parser read them: a sender's recur, and the stdlib's address
# parser takes some 50 us a call (three calls a message). Short ones only, and at most
# _KEEP of them (then the table starts again), so a client cannot fill memory with them.
_READ: dict[tuple[str, str, int], Any] = {}
_KEEP, _KEEP_LENGTH = 4096, 512


def _kept(kind: str, arg: str, limit: int, read: Callable[[], Any]) -> Any:
    """read(), the same for the same argument: kept when the argument is short."""
    key = (kind, arg, limit)
    found = _READ.get(key, _READ)
    if found is _READ:
        found = read()
        if len(arg) <= _KEEP_LENGTH:
            if len(_READ) >= _KEEP:
                _READ.clear()
            _READ[key] = found
    return found


def has_source_route(arg: str) -> bool:
    """Whether a RCPT argument carries a source route (<@hop,@hop:user@domain>).

    Read with the parser aiosmtpd uses, which accepts comments, spaces and a leading comma
    before the route ("<(c)@evil.example:alias@...>") and then drops the route: a pattern
    on the raw text missed those forms."""
    return bool(_kept("route", arg, 0, lambda: _has_source_route(arg)))


def _has_source_route(arg: str) -> bool:
    rest = arg.lstrip()
    if rest[:3].upper() != "TO:":
        return False
    rest = rest[3:].lstrip()
    if not rest.startswith("<"):
        return False
    try:
        address, _ = get_angle_addr(rest)
    except (HeaderParseError, IndexError):
        return False  # malformed: aiosmtpd refuses it itself
    return any(token.token_type == "obs-route" for token in address)


# RFC 5321 4.5.2: the first character of a line is deleted when it is a period "and there are
# other characters on the line". A "." line that did not end the data (after a bare LF, or
# ended by CR CR LF) keeps its dot, so the record shows the false end as it came.
_STUFFED = re.compile(rb"\n\.(?!\r*\n)")

# A refused or expired connection is closed after its last reply is sent, or after this many
# seconds should the client not read it.
_CLOSE_GRACE = 5.0

_Command = Callable[[Any, Any], Awaitable[None]]


def _no_progress(command: _Command) -> _Command:
    """A command that moves no message on: smtp.max_idle_commands of them in a row, and the
    next is answered 421 and the connection closed. (functools.wraps keeps aiosmtpd's syntax
    attributes, which its HELP reads.)"""

    @functools.wraps(command)
    async def counted(self: RelaySMTP, arg: Any) -> None:
        self.idle_commands += 1
        handler = self.event_handler
        if isinstance(handler, Handler) and self.idle_commands > handler.max_idle_commands:
            self.close_with(IDLE_COMMANDS)
            return
        await command(self, arg)

    return counted


def _progress(command: _Command) -> _Command:
    """A command that moves a message on: the count of idle ones starts again."""

    @functools.wraps(command)
    async def reset(self: RelaySMTP, arg: Any) -> None:
        self.idle_commands = 0
        await command(self, arg)

    return reset


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with our replies and source routes refused."""

    # Set by protocol_factory: the open sessions (the handler's limits say how many one
    # client address may hold; a SIGHUP may change them).
    open_sessions: set[SMTP] | None = None
    listener = "smtp"  # the metrics label
    address = ""  # the client's address and network, set when the connection is admitted
    network = ""
    admitted = False
    idle_commands = 0  # commands in a row that moved no message on
    body: Body | None = None  # the body of the DATA being received or processed
    processing = False  # between the end of a body and its reply: not timed
    expired = False  # smtp.max_session_time passed while processing: closed after the reply
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.admitted:  # the TLS transport after STARTTLS: the same connection
            return
        self.admitted = True
        if self._handler_coroutine is not None:
            self._handler_coroutine.add_done_callback(self._handler_ended)
        peer = transport.get_extra_info("peername")
        handler = self.event_handler
        if self.open_sessions is None or not peer or not isinstance(handler, Handler):
            return
        self.address = str(peer[0])
        self.network = client_network(self.address)
        # Until connection_lost (transport None), closing ones too: a socket being closed
        # still holds its buffers, and a client that never reads would keep it so.
        others = [s for s in list(self.open_sessions) if s is not self
                  and s.transport is not None and isinstance(s, RelaySMTP)]
        limits = handler.limits
        refusal = (
            TOO_MANY_CONNECTIONS
            if sum(s.address == self.address for s in others) >= limits.connections_per_ip
            else TOO_MANY_FROM_NETWORK
            if sum(s.network == self.network for s in others) >= limits.connections_per_network
            else TOO_BUSY if len(others) >= limits.connections_total else None)
        if refusal is not None:
            # Before the greeting: the client reads this instead, and the line closes.
            transport.write(f"{refusal}\r\n".encode("ascii"))  # type: ignore[attr-defined]
            prometheus.SMTP_REPLIES.labels(self.listener, refusal[:3]).inc()
            transport.close()
            return
        # However busy a client keeps it (a NOOP every few seconds resets smtp.timeout), a
        # connection ends: else a few clients could hold every slot for ever.
        self._deadline = self.loop.call_later(handler.max_session_time, self._session_over)

    def _handler_ended(self, task: asyncio.Task[None]) -> None:
        """aiosmtpd closes the connection from inside its handler when the client's EOF
        cancels it. A handler cancelled before its first step never runs that code: with
        uvloop a client that connects and closes at once is read (EOF) before the handler
        starts, and its connection was held until smtp.timeout."""
        transport = self.transport
        if task.cancelled() and transport is not None and not transport.is_closing():
            transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self.body is not None:  # gone mid-DATA: the bytes it held are free again
            self.body.drop()
        super().connection_lost(error)

    def close_with(self, reply: str) -> None:
        """Send a last reply and close; a client that does not read it is cut off soon."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(f"{reply}\r\n".encode("ascii"))  # type: ignore[attr-defined]
        prometheus.SMTP_REPLIES.labels(self.listener, reply[:3]).inc()
        transport.close()
        self.loop.call_later(_CLOSE_GRACE, transport.abort)  # type: ignore[attr-defined]

    def _session_over(self) -> None:
        if self.processing:  # a message being processed is answered first
            self.expired = True
        else:
            log.info("closing a connection from %s after smtp.max_session_time", self.address)
            self.close_with(SESSION_TOO_LONG)

    def _cb_client_connected(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        super()._cb_client_connected(reader, writer)
        # aiosmtpd ends a command line at a bare LF, so "MAIL FROM:<a>\nRCPT TO:<b>" from
        # an application that pasted user input into a command would run as two commands.
        # Only CRLF ends a line here (RFC 5321 2.3.8): the LF stays in the argument, which
        # is then refused as malformed. (DATA reads its lines itself: _read_body.)
        read = reader.readuntil

        async def crlf_line(separator: bytes = b"\r\n") -> bytes:
            return await read(separator)

        reader.readuntil = crlf_line  # type: ignore[method-assign]

    # Lines over 1000 octets are common in generated HTML and accepted by the big
    # providers; Encode re-encodes such parts so that none goes out (RFC 5322 2.1.1).
    line_length_limit = MAX_LINE

    def _timeout_cb(self) -> None:
        if self.processing:
            # smtp.timeout times the client, not the relay: a message waiting for its turn
            # at a worker, or being processed, is answered (the timer starts again then).
            return
        # aiosmtpd closes gracefully, which waits for unsent replies: a client that stops
        # reading would hold its socket for ever. After the timeout nothing is owed to it.
        super()._timeout_cb()
        if self.transport is not None:
            self.transport.abort()

    # Bytes of the last DATA body as received (the body itself may have been discarded).
    data_bytes = 0

    async def push(self, status: Any) -> None:
        if status in _DISCARDED and isinstance(self.event_handler, Handler):
            recorded = await self.event_handler.record_discarded(
                self.session, self.envelope, _DISCARDED[status], self.data_bytes)
            if not recorded:  # the refusal must be on the record before it is final
                status = TEMPFAIL
        if isinstance(status, str):
            status = _REWORDED.get(status, status)
            if status[3:4] != "-":  # a multi-line reply (EHLO's) is one reply, its last line
                prometheus.SMTP_REPLIES.labels(self.listener, status[:3]).inc()
        await super().push(status)

    smtp_NOOP = _no_progress(SMTP.smtp_NOOP)
    smtp_RSET = _no_progress(SMTP.smtp_RSET)
    smtp_HELP = _no_progress(SMTP.smtp_HELP)
    smtp_VRFY = _no_progress(SMTP.smtp_VRFY)
    smtp_EXPN = _no_progress(SMTP.smtp_EXPN)
    smtp_HELO = _no_progress(SMTP.smtp_HELO)
    smtp_EHLO = _no_progress(SMTP.smtp_EHLO)
    smtp_MAIL = _progress(SMTP.smtp_MAIL)
    smtp_AUTH = _progress(SMTP.smtp_AUTH)
    smtp_STARTTLS = _progress(SMTP.smtp_STARTTLS)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA with the body read in runs of lines: every complete line already
        buffered is taken at once, where aiosmtpd awaits each line. A 20 MB body is 270,000
        lines; read one by one they kept the event loop from other sessions for seconds.
        The body goes to a Body (past 256 KiB on disk), within the budget of bytes in flight."""
        self.idle_commands = 0
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push(NEED_RCPT)
            return
        if arg:
            await self.push(DATA_SYNTAX)
            return
        handler = self.event_handler
        budget = handler.budget if isinstance(handler, Handler) else None
        if budget is not None and budget.full:
            await self.push(IN_FLIGHT_FULL)
            return
        await self.push(START_DATA)
        self.body = body = Body(handler.spool if isinstance(handler, Handler) else None, budget)
        try:
            trouble = await self._read_body(body)
            if trouble is not None:  # told after the end of data (RFC 5321 4.2.5)
                await self.push(trouble)
                self._set_post_data_state()
                return
            self.processing = True
            try:
                status = await self._call_handler_hook("DATA")
            finally:
                self.processing = False
            self._reset_timeout()  # the client is timed again, from its reply on
        finally:
            self.body = None
            body.drop()
        self._set_post_data_state()
        await self.push(OK if status is MISSING else status)
        if self.expired:
            self.close_with(SESSION_TOO_LONG)

    async def _read_body(self, body: Body) -> str | None:
        """Into `body`: up to the end of data, dot-stuffing undone. What follows the end (a
        pipelined command) stays in the reader. Returns the reply for a body refused (too
        big, a line too long, past the budget).

        Only <CRLF>.<CRLF> ends the data, as in aiosmtpd (RFC 5321 4.1.1.4): a "." line after
        a bare LF, or ended by one or by CR CR LF, is data, so no false end can smuggle a
        second message in. Otherwise a line ends at a LF, with or without CRs before it, as
        Postfix 3.9 reads lines (smtpd_forbid_bare_newline = normalize): for the line length
        limit, and for the dot a client put in front of a line that starts with one
        (_STUFFED)."""
        reader = self._reader
        buffer: bytearray = reader._buffer  # type: ignore[attr-defined]
        limit = self.data_size_limit
        size = 0
        trouble: str | None = None
        # The last two bytes read (the DATA command's CRLF at first): an end of data may
        # straddle two reads.
        before = b"\r\n"
        while True:
            try:
                chunk = await reader.readuntil(b"\n")
            except asyncio.CancelledError:
                self._writer.close()
                raise
            except asyncio.LimitOverrunError as overrun:  # one line longer than the limit
                trouble = trouble or _DATA_LINE_TOO_LONG
                body.drop()
                skipped = await reader.read(overrun.consumed)
                size += len(skipped)  # received: it counts
                before = (before + skipped)[-2:]
                continue
            cut = buffer.rfind(b"\n") + 1  # the complete lines already here, at once
            if cut:
                chunk += bytes(buffer[:cut])
                del buffer[:cut]
                reader._maybe_resume_transport()  # type: ignore[attr-defined]
            found = (before + chunk).find(b"\r\n.\r\n")
            end = found + 2 - len(before) if found >= 0 else -1  # where the "." line starts
            taken = chunk if end < 0 else chunk[:end]
            if end >= 0 and end + 3 < len(chunk):
                buffer[0:0] = chunk[end + 3:]  # not ours: the next command's
            size += len(taken)
            if trouble is None and limit and size > limit:
                trouble = _DATA_TOO_BIG
                body.drop()
            if trouble is None and taken:
                # `taken` is whole lines: it starts after a LF (or at the start of the data).
                longest = max(map(len, taken.split(b"\n"))) + 1
                if longest > self.line_length_limit:
                    trouble = _DATA_LINE_TOO_LONG
                    body.drop()
                # RFC 5321 4.5.2: a line's leading dot is the sender's, added for
                # transparency. `before` ends in a LF here, so no dot of it is removed.
                elif not body.write(_STUFFED.sub(b"\n", before + taken)[len(before):]):
                    trouble = IN_FLIGHT_FULL
                    log.info("DATA from %s past smtp.max_bytes_in_flight; answering 452",
                             self.address)
            before = (before + taken)[-2:]
            if end >= 0:
                break
        self.data_bytes = size
        return trouble

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's reading of a MAIL or RCPT argument, kept per argument (_kept)."""
        found: tuple[str | None, str | None] = _kept(
            "address", arg, self.local_part_limit, lambda: super(RelaySMTP, self)._getaddr(arg))
        return found

    async def smtp_RCPT(self, arg: str | None) -> None:
        self.idle_commands = 0
        # The address parser silently drops a source route (<@a,@b:u@d>): refuse it first.
        if arg and self.envelope and self.envelope.mail_from and has_source_route(arg):
            await self.push(RELAY_DENIED)
            return
        await super().smtp_RCPT(arg)


class SubmissionSMTP(RelaySMTP):
    """The submission port: AUTH PLAIN/LOGIN after STARTTLS, and the account is the sender.

    aiosmtpd's authenticator hook is synchronous; a password check takes ~50 ms of scrypt,
    so its parsers hand the pair back here and the check runs in a thread."""

    store: Store | None = None
    listener = "submission"
    MAX_FAILURES = 3  # then the connection closes: guessing costs a reconnect each time
    failures = 0

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False, auth_data=auth_data)

    async def _checked(self, result: AuthResult) -> AuthResult:
        pair = result.auth_data
        if not isinstance(pair, LoginPassword):
            return result  # aiosmtpd already answered (bad base64, aborted)
        assert self.store is not None and isinstance(self.event_handler, Handler)
        peer = self.session.peer if self.session is not None else None
        client = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        login = pair.login.decode("utf-8", "replace").strip()
        if await throttle.blocked(self.store, self.event_handler.limits, client, login):
            return AuthResult(success=False, handled=False, message=LOGIN_THROTTLED)
        try:
            account = await passwords.verify(self.store, login, pair.password.decode("utf-8"))
        except UnicodeDecodeError:
            account = None
        if account is not None:
            return AuthResult(success=True, auth_data=account)
        recent = await throttle.failed(self.store, client, login)
        log.info("failed submission login from %s (%d from its network in %.0f min)", client,
                 recent, throttle.WINDOW / 60)
        self.failures += 1
        if self.failures >= self.MAX_FAILURES and self.transport is not None:
            asyncio.get_running_loop().call_soon(self.transport.close)
        return AuthResult(success=False, handled=False, message=AUTH_FAILED)

    async def auth_PLAIN(self, server: Any, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_PLAIN(server, args))

    async def auth_LOGIN(self, server: Any, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_LOGIN(server, args))


def login_of(session: Session) -> str:
    """The authenticated seller account, or "" (port 25, or not authenticated)."""
    return session.auth_data if session.authenticated and isinstance(session.auth_data,
                                                                     str) else ""


class Handler:
    def __init__(self, config: Config, store: Store, intake: Intake) -> None:
        self.domain = config.domain
        self.limits = config.limits
        self.max_session_time = config.smtp.max_session_time
        self.max_idle_commands = config.smtp.max_idle_commands
        self.budget = Budget(config.smtp.max_bytes_in_flight)
        self.spool = spool_dir(config)
        self.store = store
        self.intake = intake
        self.lanes = FairLanes(intake.big.slots if intake.big is not None else {})
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.closing = False

    def apply(self, config: Config) -> None:
        """A reloaded config: the limits count from the next connection and command on,
        and new messages go through the stages it asks for."""
        self.limits = config.limits
        self.intake.apply(config)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:
        if self.closing:  # draining: no new transactions on old connections either
            if server.transport is not None:
                # close() sends what is buffered (this 421) first.
                asyncio.get_running_loop().call_soon(server.transport.close)
            return SHUTTING_DOWN
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in ("", "<>"):
            return BAD_RECIPIENT
        local, at, domain = address.rpartition("@")
        if not at or domain.lower() != self.domain:
            return RELAY_DENIED
        local = local.lower()
        login = login_of(session)
        # A client whose messages were refused too often waits before it may send more: here,
        # before it can push another body, and before anything tells it whether an alias exists.
        over = await self._refusals_exceeded(session, login)
        if over:
            return RATE_NETWORK.format(over)
        if local.startswith(PREFIX):
            if login:  # reports come from mail servers, not from a seller's account
                return NOT_YOUR_CONVERSATION
            return await self._bounce_rcpt(envelope, address, local, rcpt_options)
        if envelope.rcpt_tos and envelope.rcpt_tos[0].lower().startswith(PREFIX):
            return ONE_CONVERSATION
        return await self._alias_rcpt(envelope, address, local, login, rcpt_options)

    async def _refusals_exceeded(self, session: Session, login: str) -> str | None:
        client = rate_limits.refusal_client(_peer(session), login)
        if client is None:
            return None
        return await rate_limits.refusals_exceeded(self.store, self.limits, client)

    async def _alias_rcpt(self, envelope: Envelope, address: str, local: str, login: str,
                          options: list[str]) -> str:
        """A conversation alias (its lower-cased local part) as a recipient."""
        if not conversations.ALIAS_LOCAL.match(local):
            # %-hacks, quoted local parts with @, bang paths: relaying attempts, not typos.
            return RELAY_DENIED if re.search(r'[%!@"\\/:]', local) else UNKNOWN_ALIAS
        hit = await conversations.find_alias(self.store, self.domain, local)
        if hit is None:
            return UNKNOWN_ALIAS
        if hit.conversation.closed_at is not None:
            return CLOSED_ALIAS
        if login and not (hit.role == "buyer"
                          and hit.conversation.is_registered("seller", login)):
            return NOT_YOUR_CONVERSATION
        if envelope.rcpt_tos:  # the same alias twice: deliver once
            same = envelope.rcpt_tos[0].rpartition("@")[0].lower() == local
            return RCPT_OK if same else ONE_CONVERSATION
        over = await rate_limits.exceeded(self.store, self.limits, hit.conversation.id,
                                          login or envelope.mail_from or "")
        if over:
            return RATE_LIMITED.format(over)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return RCPT_OK

    async def _bounce_rcpt(self, envelope: Envelope, address: str, local: str,
                           options: list[str]) -> str:
        message_id = self.intake.verp.message_id(local)
        if message_id is None:
            return BAD_BOUNCE_ADDRESS
        if envelope.rcpt_tos:  # a report is about one message: alone in its transaction
            return RCPT_OK if envelope.rcpt_tos[0].lower() == address.lower() \
                else ONE_CONVERSATION
        over = await rate_limits.reports_exceeded(self.store, self.limits, message_id)
        if over:
            return RATE_LIMITED.format(over)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return RCPT_OK

    async def handle_VRFY(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str) -> str:
        return CANNOT_VRFY

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # Even while draining: a transaction that has begun is finished.
        self.in_flight += 1
        self.idle.clear()
        try:
            assert isinstance(server, RelaySMTP) and server.body is not None
            body = server.body
            big = self.intake.big
            # The body stays where it is (on disk, when big) until its turn at a worker.
            async with self.lanes.turn(big.lane(body.size) if big else None, server.network):
                raw = await body.read()
                local = envelope.rcpt_tos[0].rpartition("@")[0].lower()
                original = self.intake.verp.message_id(local)
                if original is not None:
                    return await self.intake.receive_report(_envelope(session, envelope), raw,
                                                            original)
                return await self.intake.receive(_envelope(session, envelope), raw)
        except Exception:
            log.exception("DATA failed; answering 451")
            return TEMPFAIL
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()

    async def record_discarded(
        self, session: Session | None, envelope: Envelope | None, reason: str, size: int
    ) -> bool:
        """Whether the refusal is on the record (or there is nothing to record)."""
        if session is None or envelope is None or not envelope.rcpt_tos:
            return True
        try:
            await self.intake.record_discarded(_envelope(session, envelope), reason, size)
        except Exception:
            log.exception("could not record a refused message (%s); answering 451", reason)
            return False
        return True

    async def handle_exception(self, error: Exception) -> str:
        # Without this hook aiosmtpd would answer a permanent 500 to an internal error.
        log.error("SMTP session error: %r", error)
        return TEMPFAIL


def _peer(session: Session) -> str:
    """The client's address (its IP)."""
    return str(session.peer[0] if isinstance(session.peer, tuple) else session.peer)


def _envelope(session: Session, envelope: Envelope) -> RelayEnvelope:
    peer = _peer(session)
    login = login_of(session)
    # aiosmtpd spells the null sender "<>"; the relay spells it "". On the submission port
    # the account is the sender, whatever MAIL FROM said.
    mail_from = login or ("" if envelope.mail_from in (None, "<>") else envelope.mail_from)
    return RelayEnvelope(
        peer=storable(peer), helo=storable(session.host_name or ""),
        mail_from=storable(mail_from), rcpt_to=tuple(storable(r) for r in envelope.rcpt_tos),
        smtputf8=bool(envelope.smtp_utf8), login=storable(login),
    )


def protocol_factory(config: Config, handler: Handler, sessions: set[SMTP]) -> RelaySMTP:
    protocol = RelaySMTP(handler, **_options(config))
    _track(protocol, sessions)
    return protocol


def submission_factory(config: Config, handler: Handler, sessions: set[SMTP],
                       tls: ssl.SSLContext, implicit: bool = False) -> SubmissionSMTP:
    """STARTTLS first (or TLS from the start on the implicit-TLS port), then AUTH, then
    mail: aiosmtpd answers 530 to anything else."""
    protocol = SubmissionSMTP(
        handler, **_options(config), tls_context=None if implicit else tls,
        require_starttls=not implicit, auth_required=True, auth_require_tls=True,
    )
    if implicit:
        # TLS is the transport's own here, which aiosmtpd does not see: it would refuse AUTH
        # as unencrypted (and warns at every connection when told not to require TLS).
        protocol._auth_require_tls = False
    protocol.store = handler.store
    _track(protocol, sessions)
    return protocol


def _options(config: Config) -> dict[str, Any]:
    return {
        "hostname": config.domain, "ident": "ESMTP relay",
        "data_size_limit": config.smtp.max_message_size, "enable_SMTPUTF8": True,
        "decode_data": False, "timeout": config.smtp.timeout,
    }


def _track(protocol: RelaySMTP, sessions: set[SMTP]) -> None:
    protocol.open_sessions = sessions
    sessions.add(protocol)
