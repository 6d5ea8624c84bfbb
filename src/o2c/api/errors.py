"""Every error leaves the API as RFC 9457 `application/problem+json`.

    {"type": "urn:o2c:problem:<code>", "title": ..., "status": ..., "detail": ...,
     "instance": <request path>, "code": <code>, "errors": [{"field", "message"}], ...ids}

Domain errors map to a status by their kind, in the one table below. 422 responses always
carry `errors`; other problems carry it when the error names an input field (a customer_id
in the body that does not exist is a 404 whose `errors[0].field` is "customer_id").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException

from o2c.domain.aggregate import jsonable
from o2c.domain.errors import DomainError, ErrorKind

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.RULE_VIOLATION: 422,
    ErrorKind.GONE: 410,
}

_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def problem(request: Request, status: int, code: str, detail: str, *,
            title: str | None = None, errors: list[dict[str, Any]] | None = None,
            extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:o2c:problem:{code}",
        "title": title or code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    for key, value in (extra or {}).items():
        if key not in _RESERVED:
            body[key] = jsonable(value)
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_path(loc: Sequence[int | str]) -> str | None:
    """('body', 'lines', 0, 'quantity') -> 'lines[0].quantity'."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or None


def domain_error(request: Request, error: DomainError) -> JSONResponse:
    status = STATUS_OF_KIND[error.kind]
    errors = None
    if error.field is not None or status == 422:
        errors = [{"field": error.field, "message": error.message}]
    return problem(request, status, error.code, error.message, errors=errors,
                   extra=error.details)


def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [_broken_json(e, error.body) if e.get("type") == "json_invalid"
              else {"field": field_path(e.get("loc", ())) or "body", "message": _message(e)}
              for e in error.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(request, 422, "validation_error", detail,
                   title="The request is not valid", errors=errors)


def _broken_json(error: dict[str, Any], body: Any) -> dict[str, Any]:
    """A body that is not JSON: where it broke (line and column), not a field "[19]"."""
    loc = error.get("loc", ())
    position = loc[-1] if loc and isinstance(loc[-1], int) else None
    reason = str((error.get("ctx") or {}).get("error", "invalid JSON"))
    if position is None or not isinstance(body, str | bytes):
        return {"field": "body", "message": f"the body is not valid JSON: {reason}"}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return {"field": "body", "line": line, "column": column,
            "message": f"the body is not valid JSON: {reason} at line {line}, column {column}"}


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    # Pydantic prefixes messages of custom validators; the client needs only the reason.
    return re.sub(r"^Value error, ", "", message)


def http_error(request: Request, error: HTTPException) -> JSONResponse:
    try:
        phrase = HTTPStatus(error.status_code).phrase
    except ValueError:
        phrase = "Error"
    code = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
    response = problem(request, error.status_code, code, str(error.detail), title=phrase)
    for key, value in (error.headers or {}).items():
        response.headers[key] = value
    return response


def integrity_error(request: Request, error: IntegrityError) -> JSONResponse:
    log.warning("integrity error on %s: %s", request.url.path, error.orig)
    return problem(request, 409, "conflicting_write",
                   "the change conflicts with data stored meanwhile (a duplicate or a "
                   "concurrent change); reload and retry", title="Conflicting write")


def data_error(request: Request, error: DataError) -> JSONResponse:
    """The database refused a value the input checks let through (a text longer than its
    column): a bad request, not a server error; nothing was saved."""
    log.warning("data error on %s: %s", request.url.path, error.orig)
    return problem(request, 422, "value_does_not_fit", "a value is too long or too large for "
                   "what it is stored in; nothing was saved", title="Value does not fit",
                   errors=[{"field": None, "message": "a value does not fit its field"}])


def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=error)
    return problem(request, 500, "internal_error", "an unexpected error occurred; nothing was "
                   "saved", title="Internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, data_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
