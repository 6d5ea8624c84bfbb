"""What routes depend on: exact JSON parsing, the app, a read connection, paging, today's
date, and `Commands`, which sends a command through the bus (with Idempotency-Key)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine, Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Connection

from o2c.adapters.db.queries import MAX_LIMIT, PageRequest
from o2c.api.schemas.common import MAX_OFFSET
from o2c.bootstrap import App
from o2c.domain.commands import Command
from o2c.domain.money import plain
from o2c.services.bus import IdempotencyClaim
from o2c.services.uow import UnitOfWork

ACTOR = "api"  # commands run for the authenticated principal (o2c.api.auth)
REPLAYED_HEADER = "Idempotent-Replayed"


# -- exact numbers in request bodies -------------------------------------------------------------


def parse_json(body: bytes | str) -> Any:
    """JSON with every number that has a fraction or exponent as a Decimal, never a float."""
    return json.loads(body, parse_float=Decimal, parse_constant=Decimal)


class DecimalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class DecimalJSONRoute(APIRoute):
    """Every route of the API parses its body with `parse_json`: the stdlib default would turn
    12.10 into the float 12.0999999999999996447286321199499070644378662109375."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(DecimalJSONRequest(request.scope, request.receive))

        return exact_handler


# -- the app, reads, paging ----------------------------------------------------------------------


def get_app(request: Request) -> App:
    app: App = request.app.state.o2c
    return app


AppDep = Annotated[App, Depends(get_app)]


def read_connection(app: AppDep) -> Iterator[Connection]:
    """One read transaction per request: a page and its total come from the same snapshot."""
    with app.engine.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(read_connection)]


def today(app: AppDep) -> date:
    """The app clock's date: what `as_of` and omitted `on` dates default to."""
    return app.clock().date()


Today = Annotated[date, Depends(today)]


def paging(limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")] = 50,
           offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")] = 0
           ) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(paging)]


# -- commands ------------------------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """Equal requests look equal: Decimals normalised (12.5 == 12.50), dates ISO."""
    if isinstance(value, Decimal):
        return str(plain(value))
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def fingerprint(method: str, path: str, payload: BaseModel | None) -> str:
    body = None if payload is None else canonical(payload.model_dump())
    text = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


Presenter = Callable[[Connection, Any], BaseModel]


class Commands:
    """Runs one command in one transaction and renders the response inside it, so a replay
    of the same Idempotency-Key returns exactly what the first request returned."""

    def __init__(self, app: App, request: Request, key: str | None) -> None:
        self.app = app
        self.request = request
        self.key = key

    def run(self, command: Command, present: Presenter, *, payload: BaseModel | None = None,
            status_code: int = 200, location: Callable[[Any], str] | None = None
            ) -> JSONResponse:
        method, path = self.request.method, self.request.url.path

        def render(uow: UnitOfWork, result: Any) -> Any:
            return present(uow.conn, result).model_dump(mode="json")

        claim = None
        if self.key is not None:
            # The caller is part of the fingerprint: another user's key is a 409, never a
            # replay of someone else's response.
            who = getattr(getattr(self.request.state, "principal", None), "username", "")
            claim = IdempotencyClaim(self.key, fingerprint(method, f"{who}:{path}", payload),
                                     method, path, status_code)
        state = self.request.state
        outcome = self.app.bus.execute(command, actor=ACTOR, present=render,
                                       idempotency=claim,
                                       principal=getattr(state, "principal", None),
                                       request_id=getattr(state, "request_id", None))
        # Without a claim the bus does not know the status; a replay answers the stored one.
        status = outcome.status_code if claim else status_code
        headers = {}
        if outcome.replayed:
            headers[REPLAYED_HEADER] = "true"
        if location is not None and status == 201:
            headers["Location"] = location(outcome.response)
        return JSONResponse(outcome.response, status_code=status, headers=headers)


IDEMPOTENCY_DOC = ("Any string up to 200 characters, unique per intended operation (a UUID). "
                   "Repeating the request with the same key and body returns the stored "
                   "response (header `Idempotent-Replayed: true`) and writes nothing; the "
                   "same key with another body is a 409. Failed requests store nothing.")


def commands(app: AppDep, request: Request,
             idempotency_key: Annotated[str | None, Header(
                 alias="Idempotency-Key", min_length=1, max_length=200,
                 description=IDEMPOTENCY_DOC)] = None) -> Commands:
    return Commands(app, request, idempotency_key)


Bus = Annotated[Commands, Depends(commands)]
