"""The parse of a message, with each header field's value parsed once.

The stdlib's EmailMessage parses a header field at every read: get_content_type() parses
Content-Type again each time it is asked, and so do get_param(), get_filename(),
get_content_charset() and get_payload() (Content-Transfer-Encoding); each read also makes a
new class (HeaderRegistry.__getitem__). The stages ask a 2 KB message for its Content-Type
some twenty times. Here a message gets a header factory of its own that keeps what it made,
by field name and value: a field read again is the same object, a field the relay writes anew
has a new value and is parsed anew. The parse is policy.SMTP's and its header objects are
immutable, so every reader sees what it saw before, for less.

The MIME fields that say how a part is written (Content-Type, Content-Transfer-Encoding,
MIME-Version) take the same few values in message after message ("text/plain;
charset=utf-8", "7bit"), and their parse is some 0.1 ms each: short values of these are kept
across messages too, a bounded few hundred, none that names a file.
"""

from __future__ import annotations

import functools
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, _parseparam  # type: ignore[attr-defined]
from email.parser import BytesParser
from email.utils import decode_params
from typing import Any

# The class for each field name, made once (the stdlib makes one per read). Made from the
# default map only, so one table serves every message.
_CLASSES: dict[str, type[BaseHeader]] = {}
# Fields whose values repeat from message to message, up to this length (a multipart
# boundary makes a value unique: it only passes through). A value naming a file is not kept.
_SHARED = frozenset({"content-type", "content-transfer-encoding", "mime-version"})
_SHARED_LONGEST = 128


@functools.lru_cache(maxsize=256)
def _shared(cls: type[BaseHeader], name: str, value: str) -> BaseHeader:
    """A header object for every message (an exception is not kept: raised at every read)."""
    return cls(name, value)


class ParsedOnce(HeaderRegistry):
    """policy.SMTP's header factory, for one message: each (name, value) parsed once."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = _CLASSES.get(key)
        if cls is None:
            cls = _CLASSES[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if type(value) is not str:  # an Address or Group stored by the relay: not kept
            return self[name](name, value)
        key = (name, value)
        made = self._made.get(key)
        if made is None:  # a value that fails to parse raises at every read, as before
            cls = self[name]
            if (len(value) <= _SHARED_LONGEST and name.lower() in _SHARED
                    and "name" not in value.lower()):
                made = _shared(cls, name, value)
            else:
                made = cls(name, value)
            self._made[key] = made
        return made


_MISSING = object()


@functools.lru_cache(maxsize=256)
def _params(value: str) -> tuple[tuple[str, Any], ...]:
    """EmailMessage._get_params_preserve's reading of a field's text, kept for the short
    values that name no file (as _shared)."""
    return tuple(_Message._read_params(value))


class _Message(EmailMessage):
    """EmailMessage, with a field's parameters read once per value: the stdlib splits the
    text again at every get_param() (get_filename, get_content_charset, get_boundary...),
    a dozen times per message."""

    @staticmethod
    def _read_params(value: str) -> list[tuple[str, Any]]:
        params = []
        for p in _parseparam(value):  # as EmailMessage._get_params_preserve reads them
            try:
                name, val = p.split("=", 1)
                name = name.strip()
                val = val.strip()
            except ValueError:  # a bare attribute
                name = p.strip()
                val = ""
            params.append((name, val))
        return decode_params(params)  # type: ignore[no-any-return]

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        value = self.get(header, _MISSING)
        if value is _MISSING:
            return failobj
        text = str(value)
        if len(text) <= _SHARED_LONGEST and "name" not in text.lower():
            return list(_params(text))  # a list of its own: the caller may change it
        return self._read_params(text)


def parse(raw: bytes) -> EmailMessage:
    """raw (CRLF line ends) as policy.SMTP reads it, with a header factory of its own; every
    part shares it."""
    message = BytesParser(policy=policy.SMTP.clone(
        header_factory=ParsedOnce(), message_factory=_Message)).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message
