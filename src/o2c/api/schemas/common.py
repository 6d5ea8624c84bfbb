"""Types every DTO shares: exact decimals in and out, pages, problems.

Numbers that are money, quantities, prices or rates are `Decimal`. Request bodies are parsed
with `parse_float=Decimal` (see `o2c.api.deps.DecimalJSONRoute`), so a JSON number never
becomes a float; a JSON string is accepted as well. Responses carry them as JSON strings in
plain notation ("12.50", "0.034567"), never as numbers a client would read as floats.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from o2c.adapters.db.types import MAX_INTEGER

# Ids are PostgreSQL integers: a larger number can name nothing, and is refused as input
# before it reaches a query (where it would overflow the column type).
MAX_ID = MAX_INTEGER
MAX_OFFSET = MAX_ID

# Dates a business document, filter or report can carry. Outside this window a date is a
# typo or an attack ("0001-01-01", "9999-12-31"), never a business fact.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _exact(value: Any) -> Any:
    """Numbers come as JSON numbers (parsed as Decimal, never float) or as plain ASCII
    decimal strings: "1_000", " 5 ", "1e3" or Arabic-Indic digits are refused."""
    if isinstance(value, float):
        raise ValueError("amounts and quantities must be exact: send a string or a JSON number "
                         "parsed as decimal, never a float")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError("a number is written with the digits 0-9, an optional sign and an "
                         "optional decimal point, like \"1250.50\"")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("a number must be finite")
    return value


def _iso_day(value: Any) -> Any:
    """A date is a YYYY-MM-DD string (a timestamp such as 0 is not a date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date is written YYYY-MM-DD, like \"2026-03-31\"")


def _business_day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a date must lie between {FIRST_DAY.isoformat()} and "
                         f"{LAST_DAY.isoformat()}")
    return value


# A business date in a body or a query: YYYY-MM-DD between FIRST_DAY and LAST_DAY.
Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_business_day),
                WithJsonSchema({"type": "string", "format": "date",
                                "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})]

# An id in a path (404 when nothing has it), a filter of a list, a reference in a body.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Ref = Annotated[int, Field(ge=1, le=MAX_ID)]

# Search text of a list (`q`) and short codes in a query string.
Search = Annotated[str | None, Query(max_length=200)]


def _plain(value: Decimal) -> str:
    return format(value, "f")


_Out = PlainSerializer(_plain, return_type=str, when_used="json")
_In = BeforeValidator(_exact)

# Response side: any exact number, serialised as a plain string.
Dec = Annotated[Decimal, _Out]



def _decimal_schema(max_digits: int, places: int, example: str) -> WithJsonSchema:
    """What OpenAPI says of an exact number: a JSON number or a plain decimal string."""
    whole = max_digits - places
    return WithJsonSchema({
        "anyOf": [{"type": "number"},
                  {"type": "string", "pattern": rf"^[+-]?[0-9]{{1,{whole}}}"
                                                rf"(\.[0-9]{{1,{places}}})?$"}],
        "examples": [example],
        "description": f"exact decimal: at most {whole} digits before the point and "
                       f"{places} after"})


# Request side: the precision the ledger stores; business rules (positive, rounded to the
# currency's minor units...) are checked by the domain and reported with the field path.
Amount = Annotated[Decimal, _In, Field(max_digits=20, decimal_places=4),
                   _decimal_schema(20, 4, "1250.00"), _Out]
Quantity = Annotated[Decimal, _In, Field(max_digits=18, decimal_places=4),
                     _decimal_schema(18, 4, "3"), _Out]
UnitPrice = Annotated[Decimal, _In, Field(max_digits=20, decimal_places=6),
                      _decimal_schema(20, 6, "0.034567"), _Out]
Percent = Annotated[Decimal, _In, Field(max_digits=10, decimal_places=4),
                    _decimal_schema(10, 4, "22"), _Out]
Rate = Annotated[Decimal, _In, Field(max_digits=30, decimal_places=10),
                 _decimal_schema(30, 10, "0.9"), _Out]

Address = dict[str, str]  # responses
T = TypeVar("T")


class Model(BaseModel):
    """Responses: built from the read model's rows; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")


class Input(BaseModel):
    """Requests: unknown fields are an error (a typo must not be silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class Patch(Input):
    """A partial update: only the fields sent change. A field is null only where `nullable`
    says what null means (removing a limit); elsewhere null is refused, never stored."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_it_means_something(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value


class AddressIn(Input):
    """A postal address; the country defaults to the party's."""

    line1: str = Field("", max_length=200, description="street and number")
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    region: str = Field("", max_length=100, description="province, state or county")
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2")

    def as_dict(self) -> dict[str, str]:
        return self.model_dump(exclude_unset=True)


class Page(Model, Generic[T]):
    items: list[T]
    total: int = Field(description="rows matching the filters, over all pages")
    limit: int
    offset: int


class FieldError(BaseModel):
    field: str | None = Field(description="input path, e.g. `lines[0].quantity`; null when "
                                          "the rule concerns the request as a whole")
    message: str
    line: int | None = Field(None, description="a body that is not JSON: the line where it "
                                               "broke (1-based)")
    column: int | None = Field(None, description="and the column on that line (1-based)")


class Problem(BaseModel):
    """RFC 9457 problem details; `code` names the condition, extra members carry its ids."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:o2c:problem:insufficient_stock"])
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[FieldError] | None = None


class Reason(Input):
    reason: str = Field(min_length=1, max_length=500)
