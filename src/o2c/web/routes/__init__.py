"""Pages of the back-office and the customer portal. Each route reads through the same
queries as the API or sends a command through the bus; no business rule lives here."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from fastapi import APIRouter, Depends, Path, Query, Request

from o2c.adapters.db.queries import MAX_LIMIT, PageRequest
from o2c.adapters.db.types import MAX_INTEGER
from o2c.domain.errors import InvalidInput
from o2c.domain.text import describe, unsafe_character
from o2c.web.render import formatter

PAGE_SIZE = 50
MAX_FORM_FIELD = 5000  # characters of one form field: the longest note fits
MAX_FORM_FIELDS = 500  # fields of one form: an order of 50 lines, a payment of 400 invoices

# An id in a page's path or query: a larger number names nothing (and would overflow).
PageId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]
IdParam = Annotated[int | None, Query(ge=1, le=MAX_INTEGER)]
_ID_TEXT = re.compile(r"[0-9]{1,10}")
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def web_router() -> APIRouter:
    return APIRouter(include_in_schema=False)


def paging(request: Request, size: int = PAGE_SIZE) -> PageRequest:
    text = request.query_params.get("offset", "0")
    offset = min(int(text), MAX_INTEGER) if _ID_TEXT.fullmatch(text) else 0
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
    """A decimal typed by a person, read in the page's language first ("1.234,56" and
    "1.234" are 1234.56 and 1234 in Italian), then as a plain "1234.56"; anything else is
    refused with an example of how the language writes a number."""
    raw = form.get(name, "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    value: Decimal | None
    try:
        value = parse_decimal(raw, locale=language, strict=True)
    except NumberFormatError:
        try:
            value = Decimal(raw) if _PLAIN_DECIMAL.fullmatch(raw) else None
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        example = format_decimal(Decimal("1234.5"), locale=language, format="#,##0.00")
        errors[name] = f"{message} ({example})"
        return None
    return value


def form_id(text: str) -> int | None:
    """An id typed into (or named by) a form field: plain digits within the id range."""
    if not _ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_INTEGER else None


async def form_of(request: Request) -> dict[str, str]:
    """The posted form; text no document can carry, an oversized field or a form of too many
    fields is refused before any page reads it."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    fields = {key: str(value) for key, value in form.items()}
    fmt = formatter(request)
    for key, value in fields.items():
        character = unsafe_character(key + value)
        if character is not None:
            raise InvalidInput(fmt.gettext(
                "{field} contains the control character {character}, which no document can "
                "carry", field=key, character=describe(character)), field=key)
        if len(value) > MAX_FORM_FIELD:
            raise InvalidInput(fmt.gettext("{field} is longer than {n} characters", field=key,
                                           n=MAX_FORM_FIELD), field=key)
    return fields


# A posted form as a dependency: it is read asynchronously, so the page's own (sync) function
# runs in the thread pool like every other route and may use the database and the bus.
FormData = Annotated[dict[str, str], Depends(form_of)]
