"""Column types that keep money exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

from o2c.domain.aggregate import json_encoder
from o2c.domain.errors import InvalidInput

# Ids and counts are PostgreSQL integers: a larger number names nothing, and binding it would
# overflow the column type (SQLite: OverflowError). The edges refuse it first.
MAX_INTEGER = 2**31 - 1


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of decimals: NUMERIC on PostgreSQL, a scaled integer on
    SQLite (whose REAL would turn money into floats). A value with more decimals than the
    column holds raises instead of being rounded silently."""

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int, precision: int = 24) -> None:
        super().__init__()
        self.scale = scale
        self.precision = precision
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float | bool):
            raise TypeError(f"refusing to store {type(value).__name__} {value!r} as money")
        if isinstance(value, int):
            value = Decimal(value)
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        exact = value.quantize(self._quantum)
        if exact != value:
            raise ValueError(f"{value} has more than {self.scale} decimals for this column")
        if dialect.name == "sqlite":
            return _in_range(int(exact.scaleb(self.scale)), value)
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(self._quantum)

    # The two processors below do what process_bind_param / process_result_value do, as
    # plain closures: every amount of every row passes through them on the hot path.
    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        scale = self.scale
        check = self.process_bind_param

        def to_scaled_integer(value: Any) -> Any:
            if type(value) is Decimal:
                scaled = value.scaleb(scale)
                integer = int(scaled)
                if integer == scaled and -_INT64 <= integer <= _INT64:
                    return integer
            return check(value, dialect)  # None, ints, or a clear error

        return to_scaled_integer

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        scale = -self.scale

        def from_scaled_integer(value: Any) -> Decimal | None:
            return None if value is None else Decimal(value).scaleb(scale)

        return from_scaled_integer

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def __repr__(self) -> str:  # how Alembic writes the type into a migration
        return f"ExactDecimal({self.scale}, precision={self.precision})"


_INT64 = 2**63 - 1


def _in_range(scaled: int, value: Decimal) -> int:
    # SQLite integers are 64-bit: with 4 decimals that is about 9.2e14, far beyond any real
    # amount, but a typo must be refused clearly rather than overflow in the driver.
    if not -_INT64 <= scaled <= _INT64:
        raise InvalidInput(f"{value} is too large to store")
    return scaled


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name != "sqlite"))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        checked = super().bind_processor(dialect)
        if dialect.name != "sqlite" or checked is None:
            return checked

        # Every row written stamps a time: the common case (a UTC datetime) goes straight to
        # the text SQLAlchemy stores on SQLite ("2026-03-02 09:00:00.000000"). The rows of one
        # command share its clock reading, so the last one converted is kept, as one tuple
        # (replaced whole, so threads never see a time paired with another's text).
        last: list[tuple[Any, str]] = [(object(), "")]

        def to_text(value: Any) -> Any:
            seen, text = last[0]
            if value is seen:
                return text
            if type(value) is datetime and value.tzinfo is UTC:
                text = value.replace(tzinfo=None).isoformat(" ", "microseconds")
                last[0] = (value, text)
                return text
            return checked(value)

        return to_text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general

        def from_text(value: Any) -> Any:
            if type(value) is str and len(value) == 26:  # the text bind_processor writes
                return datetime.fromisoformat(value).replace(tzinfo=UTC)
            return general(value)

        return from_text

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


AMOUNT = ExactDecimal(4)  # ISO 4217 minor units never exceed 4 (CLF)
QUANTITY = ExactDecimal(4)
UNIT_PRICE = ExactDecimal(6)
PERCENT = ExactDecimal(4)
FX_RATE = ExactDecimal(10, precision=30)


# JSON columns (both engines' json_serializer): json.dumps' own settings, encoder built once.
json_dumps = json_encoder()
