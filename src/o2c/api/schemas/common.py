"""Types every DTO shares: exact decimals in and out, pages, problems.

Numbers that are money, quantities, prices or rates are `Decimal`. Request bodies are parsed
with `parse_float=Decimal` (see `o2c.api.deps.DecimalJSONRoute`), so a JSON number never
becomes a float; a JSON string is accepted as well. Responses carry them as JSON strings in
plain notation ("12.50", "0.034567"), never as numbers a client would read as floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("amounts and quantities must be exact: send a string or a JSON number "
                         "parsed as decimal, never a float")
    return value


def _plain(value: Decimal) -> str:
    return format(value, "f")


_Out = PlainSerializer(_plain, return_type=str, when_used="json")
_In = BeforeValidator(_exact)

# Response side: any exact number, serialised as a plain string.
Dec = Annotated[Decimal, _Out]

# Request side: the precision the ledger stores; business rules (positive, rounded to the
# currency's minor units...) are checked by the domain and reported with the field path.
Amount = Annotated[Decimal, _In, Field(max_digits=20, decimal_places=4, examples=["1250.00"]),
                   _Out]
Quantity = Annotated[Decimal, _In, Field(max_digits=18, decimal_places=4, examples=["3"]), _Out]
UnitPrice = Annotated[Decimal, _In, Field(max_digits=20, decimal_places=6,
                                          examples=["0.034567"]), _Out]
Percent = Annotated[Decimal, _In, Field(max_digits=10, decimal_places=4, examples=["22"]), _Out]
Rate = Annotated[Decimal, _In, Field(max_digits=30, decimal_places=10, examples=["0.9"]), _Out]

Address = dict[str, str]
T = TypeVar("T")


class Model(BaseModel):
    """Responses: built from the read model's rows; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")


class Input(BaseModel):
    """Requests: unknown fields are an error (a typo must not be silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class Page(Model, Generic[T]):
    items: list[T]
    total: int = Field(description="rows matching the filters, over all pages")
    limit: int
    offset: int


class FieldError(BaseModel):
    field: str | None = Field(description="input path, e.g. `lines[0].quantity`; null when "
                                          "the rule concerns the request as a whole")
    message: str


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
