"""What every aggregate root shares: identity, optimistic version and pending events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Event data is stored as JSON: keep Decimals exact as strings, dates as ISO text."""
    kind = type(value)
    if kind in _PLAIN:  # most values: checked by exact type first (enums are subclasses)
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def document_number(prefix: str, id_: int) -> str:
    """Numbers of documents that need no legal sequence (orders, shipments, payments)."""
    return f"{prefix}-{id_:06d}"


def parse_document_number(prefix: str, number: str) -> int | None:
    head, _, digits = number.strip().upper().partition("-")
    return int(digits) if head == prefix and digits.isdigit() else None


# Orders events raised by different aggregates in one transaction as they happened.
_sequence = itertools.count()


@dataclass(frozen=True, slots=True)
class PendingEvent:
    name: str
    data: dict[str, Any]
    sequence: int = field(default_factory=lambda: next(_sequence))


@dataclass(kw_only=True, eq=False)
class Aggregate:
    object_type: ClassVar[str] = "object"

    id: int | None = None
    version: int = 0
    events: list[PendingEvent] = field(default_factory=list, repr=False, compare=False)

    def record(self, name: str, **data: Any) -> None:
        self.events.append(PendingEvent(name, jsonable(data)))

    @property
    def label(self) -> str:
        number = getattr(self, "number", None)
        return str(number or self.id)
