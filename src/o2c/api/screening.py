"""Checks every API request passes before its route runs, whatever the route, in this order:

* the caller's role may set each field it sends (o2c.api.permissions.FIELD_PERMISSIONS):
  a portal customer sending `unit_price` gets 403 naming the field, and nothing runs;
* a JSON body is an object (a bare number must not be read as "every field omitted");
* every query parameter is one the operation has (a typo in a filter must not silently list
  everything);
* text anywhere in it (path, query, JSON body, keys included) is text a document can carry
  (o2c.domain.text): a NUL or a BEL is refused with 422 naming where it is;
* the body is not larger than a request of its kind needs (413, `BodyLimit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from o2c.api.deps import DecimalJSONRoute, parse_json
from o2c.api.errors import problem
from o2c.api.permissions import refused_fields
from o2c.domain.access import Forbidden, Principal
from o2c.domain.text import describe, unsafe_character

Location = tuple[str | int, ...]
Problem = dict[str, Any]  # one error, as Pydantic reports them


async def screen_input(request: Request) -> None:
    """A global dependency, after `authorize` (which knows the caller)."""
    body = await _json_body(request)
    _refuse_fields_of_other_roles(request, body)
    problems = (_not_an_object(body) or _unknown_parameters(request)
                or _unsafe_text(request, body))
    if problems:
        raise RequestValidationError(problems)


def _refuse_fields_of_other_roles(request: Request, body: Any) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or not isinstance(body, dict):
        return
    operation = getattr(request.scope.get("route"), "name", "")
    refused = refused_fields(operation, principal.role, body)
    if refused:
        raise Forbidden(f"role {principal.role.value} may not set {', '.join(refused)}",
                        field=refused[0], fields=refused)


def _not_an_object(body: Any) -> list[Problem]:
    if body is None or isinstance(body, dict):
        return []
    return [{"type": "model_type", "loc": ("body",), "input": body,
             "msg": "the body is a JSON object"}]


def _unknown_parameters(request: Request) -> list[Problem]:
    route = request.scope.get("route")
    if not isinstance(route, DecimalJSONRoute):
        return []  # a web page reads its own query string (?lang=, ?aging=...)
    known = _query_parameters(route)
    return [{"type": "unknown_parameter", "loc": ("query", name), "input": value,
             "msg": "is not a parameter of this operation"}
            for name, value in request.query_params.multi_items() if name not in known]


def _unsafe_text(request: Request, body: Any) -> list[Problem]:
    found = [_unsafe(("path", name), value) for name, value in request.path_params.items()]
    found += [_unsafe(("query", name), f"{name}{value}")
              for name, value in request.query_params.multi_items()]
    if body is not None:
        found += [_unsafe(("body", *where), text) for where, text in _texts(body)]
    return [problem for problem in found if problem is not None]


_DECLARED: dict[int, frozenset[str]] = {}  # by id(route): routes are not hashable


def _query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters an operation declares, its dependencies' (paging) included."""
    found = _DECLARED.get(id(route))
    if found is None:
        names: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            names |= {param.alias for param in dependant.query_params}
            pending += dependant.dependencies
        found = _DECLARED[id(route)] = frozenset(names)
    return found


def _unsafe(where: Location, text: str) -> Problem | None:
    character = unsafe_character(text)
    if character is None:
        return None
    return {"type": "unsafe_character", "loc": where, "input": text,
            "msg": f"contains the control character {describe(character)}, which no "
                   "invoice or document can carry"}


async def _json_body(request: Request) -> Any:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    raw = await request.body()
    if not raw:
        return None
    try:
        return parse_json(raw)
    except (ValueError, json.JSONDecodeError):
        return None  # the route's own parsing answers 422


def _texts(value: Any, where: Location = ()) -> Iterator[tuple[Location, str]]:
    """Every string of a JSON document (object keys too) with where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*where, key), key
            yield from _texts(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*where, index))


# -- request size ------------------------------------------------------------------------------

MAX_JSON_BYTES = 1 * 2**20  # 500 order lines with long descriptions fit in a tenth of it
MAX_UPLOAD_BYTES = 201 * 2**20  # a bank statement file (200 MiB) and its form fields


class BodyLimit:
    """Refuses (413) a request whose body is larger than its kind needs, before a route or a
    parser holds it in memory: by its Content-Length, or (a chunked body, which has none) by
    reading it up to the limit first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        upload = headers.get("content-type", "").startswith("multipart/form-data")
        limit = MAX_UPLOAD_BYTES if upload else MAX_JSON_BYTES
        declared = headers.get("content-length")
        if declared is not None:
            if declared.strip().isdigit() and int(declared) > limit:
                await _too_large(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    request = Request(scope, receive)
    response = problem(request, 413, "request_too_large",
                       f"the request body is larger than {limit // 2**10} KiB",
                       title="Request too large")
    await response(scope, receive, send)
