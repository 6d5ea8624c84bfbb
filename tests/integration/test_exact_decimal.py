"""ExactDecimal keeps amounts exact on both databases and refuses what it cannot keep."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from o2c.adapters.db import tables as t
from o2c.adapters.db.types import ExactDecimal
from o2c.domain.errors import InvalidInput

D = Decimal
probe_metadata = MetaData()
probe = Table("exact_decimal_probe", probe_metadata,
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("amount", ExactDecimal(4)),
              Column("rate", ExactDecimal(10, precision=30)))


@pytest.fixture
def table(any_engine: Engine) -> Iterator[Table]:
    probe_metadata.create_all(any_engine)
    yield probe
    probe_metadata.drop_all(any_engine)


def _stored(engine: Engine) -> list[tuple[Decimal | None, Decimal | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(probe.c.amount, probe.c.rate).order_by(probe.c.id))]


VALUES = [D("0"), D("0.0001"), D("-0.0001"), D("354.89"), D("-146.40"), D("0.1"),
          D("99999999999999.9999"), D("-99999999999999.9999"), D(7)]


def test_values_come_back_exactly_with_the_column_scale(any_engine: Engine,
                                                        table: Table) -> None:
    with any_engine.begin() as conn:
        conn.execute(insert(table), [{"amount": v, "rate": D("1.0873000001")} for v in VALUES])
        conn.execute(insert(table), [{"amount": None, "rate": None}])
    stored = _stored(any_engine)
    assert [a for a, _ in stored] == [*VALUES, None]
    assert all(type(a) is Decimal and a.as_tuple().exponent == -4 for a, _ in stored[:-1])
    assert {r for _, r in stored[:-1]} == {D("1.0873000001")}


def test_sums_in_sql_stay_exact(any_engine: Engine, table: Table) -> None:
    with any_engine.begin() as conn:
        conn.execute(insert(table), [{"amount": D("0.1")} for _ in range(10)]
                     + [{"amount": D("0.0001")} for _ in range(3)])
        total = conn.execute(select(func.sum(table.c.amount))).scalar_one()
    assert D(total) == D("1.0003")


@pytest.mark.parametrize(("value", "error"), [
    (D("0.00001"), ValueError), (D("12.345678"), ValueError), (0.1, TypeError),
    (1.0, TypeError), (True, TypeError), ("12.00", TypeError),
])
def test_a_value_the_column_cannot_hold_exactly_is_refused_not_rounded(
        any_engine: Engine, table: Table, value: object, error: type[Exception]) -> None:
    with pytest.raises(StatementError) as raised, any_engine.begin() as conn:
        conn.execute(insert(table), {"amount": value})
    assert isinstance(raised.value.orig, error)
    assert _stored(any_engine) == []


def test_an_amount_beyond_the_column_range_raises_and_is_not_stored(
        any_engine: Engine, table: Table) -> None:
    with pytest.raises((InvalidInput, StatementError)), any_engine.begin() as conn:
        conn.execute(insert(table), {"amount": D("1" + "0" * 20)})
    assert _stored(any_engine) == []


def test_every_amount_and_quantity_column_is_exact() -> None:
    """No money or quantity column of the schema is a float or an unbounded numeric."""
    from sqlalchemy import Float, Numeric

    for table in t.metadata.sorted_tables:
        for column in table.columns:
            assert not isinstance(column.type, Float), column
            if isinstance(column.type, Numeric):
                raise AssertionError(f"{column} is a plain Numeric, not ExactDecimal")
