"""Authentication and authorization at the edge, for every route of the app:

* `authorize` (a global dependency) finds who calls — `Authorization: Bearer <token>` or the
  web session cookie (then unsafe methods need the `X-CSRF-Token` header) — and refuses
  (401) bad, expired or revoked credentials and malformed headers, before anything runs;
  then checks the operation against `o2c.api.permissions` (403) and, for portal customers,
  that the object in the path is theirs (404 otherwise).
* `RequestContext` middleware: the request id (`X-Request-ID`, or a new one) on the request
  and the response, and the security headers on every response.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.middleware.base import BaseHTTPMiddleware

from o2c.adapters import logs, metrics
from o2c.adapters.db import queries
from o2c.adapters.db.types import MAX_INTEGER
from o2c.api.errors import unexpected_error
from o2c.api.permissions import PERMISSIONS, PORTAL_OBJECTS, PORTAL_UNSCOPED, PUBLIC
from o2c.bootstrap import App
from o2c.domain.access import Forbidden, Principal
from o2c.services import auth
from o2c.services.auth import NotAuthenticated

SESSION_COOKIE = "o2c_session"
CSRF_HEADER = "X-CSRF-Token"
REQUEST_ID_HEADER = "X-Request-ID"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PATHS = ("/api/",)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_BEARER = re.compile(r"^Bearer ([A-Za-z0-9._~+/=-]{1,200})$")


# Declares the scheme in OpenAPI (the "Authorize" button of /docs); parsing is ours, below.
_BEARER_DOC = HTTPBearer(auto_error=False, description="an API token (o2c token create)")


def authorize(request: Request,
              _documented: Annotated[HTTPAuthorizationCredentials | None,
                                     Depends(_BEARER_DOC)] = None) -> None:
    route = request.scope.get("route")
    operation = getattr(route, "name", "")
    if operation in PUBLIC:
        return
    app: App = request.app.state.o2c
    principal = _authenticate(request, app)
    request.state.principal = principal
    if principal.role not in PERMISSIONS.get(operation, frozenset()):
        raise Forbidden(f"role {principal.role.value} may not {operation.replace('_', ' ')}",
                        operation=operation)
    if principal.customer_id is not None:
        _portal_scope(request, app, operation, principal.customer_id, route)


def _portal_scope(request: Request, app: App, operation: str, customer_id: int,
                  route: object) -> None:
    """A portal customer reaches only its own account: the object in the path must be its
    own (404 otherwise); lists must be scoped; anything else is refused."""
    owned = PORTAL_OBJECTS.get(operation)
    if owned is None:
        if operation in PORTAL_UNSCOPED or _takes_scope(route):
            return
        raise Forbidden(f"{operation.replace('_', ' ')} is not available to portal users",
                        operation=operation)
    object_type, parameter = owned
    try:
        object_id = int(request.path_params[parameter])
    except (KeyError, ValueError):
        return  # not an id: the route's own validation answers 422
    if not 1 <= object_id <= MAX_INTEGER:
        return  # nothing has it: the route's own validation answers 422
    with app.engine.connect() as conn:
        queries.ensure_visible(conn, object_type, object_id, customer_id)


@cache
def _scoped(endpoint: Callable[..., object]) -> bool:
    return "scope" in inspect.signature(endpoint).parameters


def _takes_scope(route: object) -> bool:
    endpoint = getattr(route, "endpoint", None)
    return endpoint is not None and _scoped(endpoint)


def _authenticate(request: Request, app: App) -> Principal:
    now = app.clock()
    header = request.headers.get("authorization")
    if header is not None:
        match = _BEARER.match(header.strip())
        if match is None:
            raise NotAuthenticated("the Authorization header must be `Bearer <token>`")
        return auth.authenticate_token(app.engine, match.group(1), now)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = auth.authenticate_session(app.engine, cookie, now)
        request.state.session_csrf = session.csrf_token
        if not request.url.path.startswith(API_PATHS):
            # Web pages post HTML forms: they check the session's token in the form field
            # (o2c.web.render.check_csrf) as well as in this header (htmx sends it).
            return session.principal
        if request.method not in SAFE_METHODS and not auth.same_secret(
                request.headers.get(CSRF_HEADER), session.csrf_token):
            raise Forbidden(f"a request with the session cookie needs the {CSRF_HEADER} "
                            "header of the session", field=CSRF_HEADER)
        return session.principal
    raise NotAuthenticated("authentication required: send `Authorization: Bearer <token>` "
                           "or log in (POST /api/v1/auth/login)")


def current_principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def portal_scope(request: Request) -> int | None:
    """The customer a portal user is tied to (lists are limited to it); None for staff."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return None if principal is None else principal.customer_id


Scope = Annotated[int | None, Depends(portal_scope)]


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


access_log = logging.getLogger("o2c.access")


def _route_template(request: Request) -> str:
    """The path with its parameters as names (/api/v1/orders/{order_id}): one series per
    route, whatever the ids; requests that matched no route are one series too."""
    if request.scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in request.scope.get("path_params", {}).items()}
    return "/".join(f"{{{names[part]}}}" if part in names else part
                    for part in request.url.path.split("/"))


def _observe(request: Request, status: int, seconds: float) -> None:
    """Latency by route (the path template, so /orders/{order_id} is one series) and one
    access log line with the request id and the user."""
    route = _route_template(request)
    metrics.REQUEST_SECONDS.labels(request.method, route, str(status)).observe(seconds)
    principal = getattr(request.state, "principal", None)
    access_log.info("%s %s %d %.1fms", request.method, request.url.path, status,
                    seconds * 1000, extra={
                        "request_id": request.state.request_id, "route": route,
                        "status": status, "duration_ms": round(seconds * 1000, 2),
                        "user": getattr(principal, "actor", None)})


# -- request id and security headers -----------------------------------------------------------

# /docs: Swagger UI from the package (api/docs.py); it sets inline styles, never scripts.
_DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "script-src 'self'; frame-ancestors 'none'; base-uri 'self'")
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'")


class RequestContext(BaseHTTPMiddleware):
    def __init__(self, app: object, *, hsts: bool) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.hsts = hsts

    async def dispatch(self, request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request.state.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = logs.request_id.set(request.state.request_id)  # for every log line below
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as error:  # the 500 problem gets the headers too
            response = unexpected_error(request, error)
        finally:
            logs.request_id.reset(token)
        _observe(request, response.status_code, time.perf_counter() - started)
        headers = response.headers
        headers[REQUEST_ID_HEADER] = request.state.request_id
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        headers.setdefault("Content-Security-Policy", _DOCS_CSP if docs else _CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.url.path.startswith("/api/") or request.url.path in ("/login", "/logout"):
            headers.setdefault("Cache-Control", "no-store")
        if self.hsts:
            headers.setdefault("Strict-Transport-Security",
                               "max-age=63072000; includeSubDomains")
        return response
