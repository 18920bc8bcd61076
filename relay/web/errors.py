"""What a web page answers when something stops it: a page in plain words with the right
status, never the relay's internal error text; a sign-in page when there is no session."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from relay.api.errors import APIError
from relay.errors import NotFound, UsageError
from relay.store.db import StoreError
from relay.web.pages import render
from relay.web.sessions import Forbidden, SignIn

log = logging.getLogger("relay.web")

PAGES = {
    400: ("That did not work", "The page could not make sense of that request."),
    403: ("Not allowed", "This is not allowed. If a form was open for long, reload the page"
          " and try again."),
    404: ("Not found", "There is no such page, or it is not yours to see."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "That is more than the relay takes at once. Attach smaller files."),
    429: ("Too many tries", "Wait a few minutes, then try again."),
    500: ("Something went wrong", "The page could not be shown. Try again; if it keeps"
          " happening, tell the relay's operator."),
    503: ("Try again soon", "The relay cannot do this right now. Try again in a minute."),
}


class WebError(Exception):
    def __init__(self, status: int, text: str | None = None) -> None:
        super().__init__(text or str(status))
        self.status, self.text = status, text


def error_page(request: Request, status: int, text: str | None = None) -> Response:
    title, default = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    response = render(request, "error.html", status, title=title, text=text or default)
    if status == 503:
        response.headers["Retry-After"] = "60"
    return response


def sign_in(request: Request, admin: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = "/admin/login" if admin else "/login"
    if request.method != "GET" or target in ("/", "/admin"):
        return RedirectResponse(page, 303)
    return RedirectResponse(f"{page}?next={quote(target, safe='/')}", 303)


def _answer(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignIn):
        return sign_in(request, exc.admin)
    if isinstance(exc, Forbidden):
        return error_page(request, 403, f"Not allowed: {exc}.")
    if isinstance(exc, WebError):
        return error_page(request, exc.status, exc.text)
    if isinstance(exc, APIError | HTTPException):
        return error_page(request, exc.status if isinstance(exc, APIError)
                          else exc.status_code)
    if isinstance(exc, NotFound):
        return error_page(request, 404)
    if isinstance(exc, UsageError | RequestValidationError):
        return error_page(request, 400)
    if isinstance(exc, StoreError):  # locked, full: like SMTP's 451, a reason to try again
        log.warning("web request failed on the store: %s", exc)
        return error_page(request, 503)
    log.exception("web request failed", exc_info=exc)
    return error_page(request, 500)


class WebRoute(APIRoute):
    """An APIRoute whose failures are pages (the API's own handlers answer JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                return _answer(request, exc)

        return handler


def page_for_http_errors(app: Any, is_web: Callable[[str], bool]) -> None:
    """A 404 or 405 on a web path (no route matched) is a page too; elsewhere the API's
    JSON answer stands."""
    api_handler = app.exception_handlers[HTTPException]

    async def either(request: Request, exc: HTTPException) -> Response:
        if is_web(request.url.path):
            return error_page(request, exc.status_code)
        response: Response = await api_handler(request, exc)
        return response

    app.add_exception_handler(HTTPException, either)
