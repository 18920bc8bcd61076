"""The relay leans on a few private parts of aiosmtpd, uvicorn and aiosqlite
(relay.smtp.session, relay.api.service, relay.store.quick). They are checked here against the
versions they were written for: an upgrade fails this test first, and whoever upgrades reads
the code named below again, rather than finding out from a timeout that no longer fires or a
cap that no longer holds."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import aiosqlite
from aiosmtpd.smtp import SMTP
from uvicorn.protocols.http.h11_impl import H11Protocol

# Versions whose internals below were read; add one after reading its code again.
AIOSMTPD = {"1.4.6"}
UVICORN = {"0.55.0"}
AIOSQLITE = {"0.22.1"}


def test_aiosmtpd_internals_the_relay_relies_on() -> None:
    assert version("aiosmtpd") in AIOSMTPD, (
        "aiosmtpd changed: check RelaySMTP (_timeout_cb, _reset_timeout, _reader._buffer,"
        " _cb_client_connected, _call_handler_hook, _set_post_data_state,"
        " _handler_coroutine) and add the version")
    # RelaySMTP._timeout_cb skips a message being processed; smtp_DATA re-arms the timer
    # with _reset_timeout() after it, and _handle_client resets it at each command.
    assert "self._timeout_cb" in inspect.getsource(SMTP._reset_timeout)
    assert "self._reset_timeout()" in inspect.getsource(SMTP._handle_client)
    # The command table is built from the instance's smtp_* attributes, so the wrapped
    # NOOP, RSET, ... of RelaySMTP are the ones run.
    assert 'm.startswith("smtp_")' in inspect.getsource(SMTP.__init__)
    # RelaySMTP._handler_ended closes a connection whose handler task was cancelled: the
    # task is made in connection_made, and EOF cancels it.
    assert "self._handler_coroutine = " in inspect.getsource(SMTP.connection_made)
    assert "self._handler_coroutine.cancel()" in inspect.getsource(SMTP.eof_received)
    for name in ("_call_handler_hook", "_set_post_data_state", "_cb_client_connected"):
        assert callable(getattr(SMTP, name))


def test_uvicorn_internals_the_api_guard_relies_on() -> None:
    assert version("uvicorn") in UVICORN, (
        "uvicorn changed: check relay.api.service._GuardedH11 (connections, client, app,"
        " cycle, handle_events, on_response_complete) and add the version")
    source = inspect.getsource(H11Protocol)
    # The guard swaps self.app for a health-only app: it must be read per request.
    assert "app = self.app" in inspect.getsource(H11Protocol.handle_events)
    for attribute in ("self.connections", "self.client", "self.cycle"):
        assert attribute in source
    for name in ("handle_events", "on_response_complete", "data_received"):
        assert callable(getattr(H11Protocol, name))


def test_aiosqlite_internals_quick_statements_rely_on() -> None:
    assert version("aiosqlite") in AIOSQLITE, (
        "aiosqlite changed: check relay.store.quick.QuickConnection (_execute, _running,"
        " _connection, _conn, _execute_fetchall, Cursor(connection, cursor)) and add the"
        " version")
    # Every call to the thread goes through _execute (so the idle count holds), and
    # execute_fetchall runs _execute_fetchall there.
    for method in (aiosqlite.Connection.execute, aiosqlite.Connection.commit,
                   aiosqlite.Connection.rollback, aiosqlite.Connection.close,
                   aiosqlite.Cursor.fetchall):
        assert "._execute(" in inspect.getsource(method)
    assert "self._execute_fetchall" in inspect.getsource(aiosqlite.Connection.execute_fetchall)
    assert "self._tx.put_nowait" in inspect.getsource(aiosqlite.Connection._execute)
