"""Pages of the back-office and the customer portal. Each route reads through the same
queries as the API or sends a command through the bus; no business rule lives here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from babel.numbers import NumberFormatError, parse_decimal
from fastapi import APIRouter, Depends, Request

from o2c.adapters.db.queries import MAX_LIMIT, PageRequest

PAGE_SIZE = 50


def web_router() -> APIRouter:
    return APIRouter(include_in_schema=False)


def paging(request: Request, size: int = PAGE_SIZE) -> PageRequest:
    try:
        offset = max(int(request.query_params.get("offset", "0")), 0)
    except ValueError:
        offset = 0
    return PageRequest(limit=min(size, MAX_LIMIT), offset=offset)


def query_date(request: Request, name: str) -> date | None:
    """A date filter from the query string; a malformed one is ignored (the form shows it)."""
    value = request.query_params.get(name, "")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def decimal_field(form: dict[str, str], name: str, errors: dict[str, str], message: str,
                  language: str = "en") -> Decimal | None:
    """A decimal typed by a person, read in the page's language ("1.234,56" in Italian),
    with a plain "1234.56" accepted everywhere."""
    raw = form.get(name, "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        try:
            value = parse_decimal(raw, locale=language, strict=True)
        except NumberFormatError:
            errors[name] = message
            return None
    if not value.is_finite():
        errors[name] = message
        return None
    return value


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


# A posted form as a dependency: it is read asynchronously, so the page's own (sync) function
# runs in the thread pool like every other route and may use the database and the bus.
FormData = Annotated[dict[str, str], Depends(form_of)]
