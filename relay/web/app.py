"""Puts the web pages on the API's FastAPI app (relay.api.app.create_app calls install when
web.enabled): the routers, the templates and static files, the security headers, and pages
(not JSON) for what goes wrong on a web path."""

from __future__ import annotations

from fastapi import FastAPI

from relay.web.errors import page_for_http_errors
from relay.web.headers import SecurityHeaders
from relay.web.pages import Static, environment
from relay.web.paths import is_web
from relay.web.routes import admin, answer, center, response_time, signin, static, thread

ROUTERS = (static, signin, center, thread, answer, response_time, admin)


def install(app: FastAPI) -> None:
    app.state.web_static = Static()
    app.state.web_pages = environment(app.state.web_static)
    for module in ROUTERS:
        app.include_router(module.router)
    page_for_http_errors(app, is_web)
    app.add_middleware(SecurityHeaders)
