"""Log set-up: readable text or one JSON object per line, with an event's fields.

`event(logger, name, **fields)` logs one line that a log pipeline can read field by field:
in text as `name key=value ...`, in JSON as keys of the object. Fields are ids, codes,
counts and times; callers never pass an e-mail address or message content.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    if logger.isEnabledFor(level):
        text = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        logger.log(level, "%s %s", name, text, extra={"event": name, "fields": fields})


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value) or "-"
    value = str(value)
    return json.dumps(value) if (not value or " " in value or '"' in value) else value


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
        }
        name = getattr(record, "event", None)
        if name is not None:
            out["event"] = name
            out.update(getattr(record, "fields", {}))
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    set_level(level)


def set_level(level: str) -> None:
    """The log level, also on a SIGHUP: the loggers that write addresses stay quiet unless
    it is DEBUG."""
    logging.getLogger().setLevel(level.upper())
    quiet = logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
    # aiosmtpd logs every envelope address at INFO; real addresses stay out of the log.
    logging.getLogger("mail.log").setLevel(quiet)
    # uvicorn's access log has client addresses and paths; the API logs its own line.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
