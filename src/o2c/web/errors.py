"""Errors on pages answer as pages: not signed in -> the sign-in page (and back afterwards),
refused -> a 403 page, not found or not possible -> an error page. API paths keep their
problem+json answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from o2c.domain.access import Forbidden
from o2c.domain.errors import DomainError, ErrorKind
from o2c.web.render import CsrfRejected, page

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
NOT_PAGES = ("/api/", "/docs", "/openapi.json", "/redoc", "/static/", "/login", "/logout",
             "/health")


# A page answers with the status the API gives the same error (o2c.api.errors; the web may
# not import the API).
PAGE_STATUS = {ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409,
               ErrorKind.RULE_VIOLATION: 422, ErrorKind.GONE: 410}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def install_page_errors(api: FastAPI) -> None:
    for error_type in list(api.exception_handlers):
        if not (isinstance(error_type, type) and issubclass(error_type, Exception)):
            continue
        if error_type.__name__ == "NotAuthenticated" or issubclass(error_type, DomainError):
            api.exception_handlers[error_type] = _page_or(api.exception_handlers[error_type])


def _page_or(api_handler: Handler) -> Handler:
    async def handle(request: Request, error: Any) -> Response:
        if not is_page(request):
            result = api_handler(request, error)
            return await result if isinstance(result, Awaitable) else result
        if type(error).__name__ == "NotAuthenticated":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        status = 403 if isinstance(error, Forbidden) else PAGE_STATUS[error.kind]
        return await run_in_threadpool(page, request, "error.html", status, error=error,
                                       forbidden=isinstance(error, Forbidden),
                                       expired=isinstance(error, CsrfRejected))

    return handle
