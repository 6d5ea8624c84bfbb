"""Routes: parse the request, send a command through the bus or read through `queries`, and
shape the response. No business rule lives here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from o2c.api.deps import DecimalJSONRoute
from o2c.api.errors import PROBLEM_JSON
from o2c.api.schemas.common import Problem


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _problem("Something the request refers to does not exist"),
    409: _problem("Conflict: illegal state transition, concurrent change, duplicate, or an "
                  "Idempotency-Key reused with another body"),
    422: _problem("Invalid input or a business rule violated; `errors` lists the fields"),
}


def router(tag: str) -> APIRouter:
    return APIRouter(route_class=DecimalJSONRoute, tags=[tag], responses=PROBLEM_RESPONSES)


PREFIX = "/api/v1"


def location(collection: str) -> Any:
    """The Location of a created resource, from the response body's id."""

    def of(body: dict[str, Any]) -> str:
        return f"{PREFIX}/{collection}/{body['id']}"

    return of
