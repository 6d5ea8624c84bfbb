"""What every aggregate root shares: identity, optimistic version and pending events."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from json import encoder as json_encoder_module
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


def json_encoder(*, sort_keys: bool = False, separators: tuple[str, str] = (", ", ": "),
                 ensure_ascii: bool = True, default: Callable[[Any], Any] | None = None
                 ) -> Callable[[Any], str]:
    """json.dumps with these settings, with its C encoder built once: json.dumps builds a new
    one on every call, which costs more than encoding a typical event, address or audit
    record. No circular-reference check (values are trees). Without the C accelerator,
    json's own encoder."""
    make_encoder = getattr(json_encoder_module, "c_make_encoder", None)
    if make_encoder is None:
        return json.JSONEncoder(sort_keys=sort_keys, separators=separators,
                                ensure_ascii=ensure_ascii, default=default).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # Arguments in the order JSONEncoder.iterencode passes them (NaN allowed, as json.dumps).
    encode = make_encoder(
        None, default or refuse,
        json_encoder_module.encode_basestring_ascii if ensure_ascii
        else json_encoder_module.encode_basestring,
        None, separators[1], separators[0], sort_keys, False, True)

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps


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
