"""The pages' Jinja2 environment and static files, read from the package (relay/web/templates,
relay/web/static: package data, like the migrations), and the answer a page is sent as."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(str(resources.files("relay") / "web" / "templates"))
STATIC_DIR = Path(str(resources.files("relay") / "web" / "static"))
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}


class Static:
    """The static files, read once: by name, (bytes, media type), and a URL that changes
    with the content (so a browser may keep them a day)."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.urls: dict[str, str] = {}
        for path in sorted(directory.iterdir()):
            if path.suffix in STATIC_TYPES:
                data = path.read_bytes()
                self.files[path.name] = (data, STATIC_TYPES[path.suffix])
                self.urls[path.name] = (f"/static/{path.name}"
                                        f"?v={hashlib.sha256(data).hexdigest()[:12]}")

    def url(self, name: str) -> str:
        return self.urls[name]


def environment(static: Static) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["static"] = static.url
    env.filters["when"] = when
    return env


def when(iso: str | None) -> str:
    """A record's time (ISO, UTC) as the pages show it: 2026-12-08 14:03."""
    return iso[:16].replace("T", " ") if iso else ""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `name` with `context`, plus what every page shows: who is signed in and the
    CSRF token of their forms (relay.web.sessions puts the visitor on request.state)."""
    env: Environment = request.app.state.web_pages
    visitor = getattr(request.state, "visitor", None)
    context.setdefault("visitor", visitor)
    context.setdefault("csrf", visitor.csrf if visitor is not None else "")
    context.setdefault("path", request.url.path)
    return HTMLResponse(env.get_template(name).render(**context), status)
