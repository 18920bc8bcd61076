"""Every API error is JSON {code, message[, field]} with the status that fits; never a bare 500."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from relay.errors import ConfigError, NotFound, UsageError
from relay.store.db import StoreError

log = logging.getLogger("relay.api")


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def not_found(what: str) -> APIError:
    return APIError(404, "not_found", f"no {what}")


def _safe(text: str) -> str:
    """Input echoed in a message may hold lone surrogates, which JSON in UTF-8 cannot."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    out = {"code": code, "message": _safe(message)}
    if field:
        out["field"] = _safe(field)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message, exc.field), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        # A JSON decode error's location is a character position, not a field.
        where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")
                 and not isinstance(p, int)] if first.get("type") != "json_invalid" else []
        field = ".".join(where) or None
        message = str(first.get("msg", "invalid request"))
        return JSONResponse(_body("invalid", f"{field}: {message}" if field else message,
                                  field), 400)

    @app.exception_handler(NotFound)
    async def missing(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(_body("not_found", str(exc)), 404)

    @app.exception_handler(UsageError)
    async def bad_input(request: Request, exc: UsageError) -> JSONResponse:
        return JSONResponse(_body("invalid", str(exc), exc.field), 400)

    @app.exception_handler(ConfigError)
    async def misconfigured(request: Request, exc: ConfigError) -> JSONResponse:
        log.error("API request failed on the relay's configuration: %s", exc)
        return JSONResponse(_body("config", "the relay's configuration is incomplete; see its"
                                  " log"), 503)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return JSONResponse(_body(code, str(exc.detail)), exc.status_code, exc.headers)

    @app.exception_handler(StoreError)
    async def store_failed(request: Request, exc: StoreError) -> JSONResponse:
        # Locked, disk full, read-only: like SMTP's 451, a reason to try again, not a bug.
        log.warning("API request failed on the store: %s", exc)
        return JSONResponse(_body("temporary", "the store cannot take this now; try again"
                                  " later"), 503, {"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API request failed")
        return JSONResponse(_body("internal", "internal error; see the relay's log"), 500)
