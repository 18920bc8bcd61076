"""Text that came in as bytes, made safe to store and compare."""

from __future__ import annotations


def storable(value: object) -> str:
    """Undo surrogate escapes: raw header values and 8-bit SMTP arguments reach Python with
    undecodable bytes as lone surrogates, which SQLite and UTF-8 encoders refuse. UTF-8 is
    decoded as such; anything else is kept as \\x.. escapes."""
    return str(value).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
