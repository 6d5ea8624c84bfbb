"""Authentication and authorization failures as problem+json: 401 (with
`WWW-Authenticate: Bearer`), 403, and 429 for throttled logins (with `Retry-After`)."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from o2c.api.errors import problem
from o2c.domain.access import Forbidden
from o2c.services.auth import LoginThrottled, NotAuthenticated


def not_authenticated(request: Request, error: NotAuthenticated) -> JSONResponse:
    response = problem(request, 401, "not_authenticated", error.message,
                       title="Not authenticated")
    response.headers["WWW-Authenticate"] = 'Bearer realm="o2c"'
    return response


def forbidden(request: Request, error: Forbidden) -> JSONResponse:
    errors = [{"field": error.field, "message": error.message}] if error.field else None
    return problem(request, 403, "forbidden", error.message, title="Forbidden",
                   errors=errors, extra=error.details)


def throttled(request: Request, error: LoginThrottled) -> JSONResponse:
    o2c = request.app.state.o2c
    seconds = max(1, math.ceil((error.until - o2c.clock()).total_seconds()))
    response = problem(request, 429, "login_throttled", error.message,
                       title="Too many failed logins")
    response.headers["Retry-After"] = str(seconds)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotAuthenticated, not_authenticated)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(LoginThrottled, throttled)  # type: ignore[arg-type]
