"""The hot path's statements (adapters/db/fastpath.py) write and read exactly what
SQLAlchemy's own execution does: the same stored text for dates and timestamps, the same
exact decimals and JSON, and driver errors as SQLAlchemy's error family."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from o2c.adapters.db.fastpath import SerializedJSON, Statement
from o2c.adapters.db.types import ExactDecimal, UtcDateTime, json_dumps

probe_metadata = MetaData()
probe = Table("fastpath_probe", probe_metadata,
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("code", String(10), unique=True),
              Column("on_day", Date),
              Column("at", UtcDateTime()),
              Column("amount", ExactDecimal(4)),
              Column("data", JSON))

ROWS = [
    {"code": "A", "on_day": date(2026, 3, 2), "at": datetime(2026, 3, 2, 9, tzinfo=UTC),
     "amount": Decimal("146.40"), "data": {"lines": [1, 2], "note": "perché"}},
    {"code": "B", "on_day": date(999, 1, 9), "at": datetime(2026, 3, 2, 9, 0, 0, 7, tzinfo=UTC),
     "amount": Decimal("-0.0001"), "data": None},
]


@pytest.fixture
def table(any_engine: Engine) -> Iterator[Table]:
    probe_metadata.create_all(any_engine)
    yield probe
    probe_metadata.drop_all(any_engine)


def _raw(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(
            "SELECT code, on_day, at, amount, data FROM fastpath_probe ORDER BY code")]


def test_the_fast_path_stores_what_sqlalchemy_stores(any_engine: Engine, table: Table) -> None:
    with any_engine.begin() as conn:
        conn.execute(insert(table), ROWS)
    by_sqlalchemy = _raw(any_engine)
    with any_engine.begin() as conn:
        conn.execute(table.delete())
        Statement(insert(table)).run_many(conn, ROWS)
    assert _raw(any_engine) == by_sqlalchemy


def test_the_fast_path_reads_back_the_values_written(any_engine: Engine, table: Table) -> None:
    with any_engine.begin() as conn:
        Statement(insert(table)).run_many(conn, ROWS)
        found = Statement(select(table).where(table.c.on_day <= bindparam("day"))
                          .order_by(table.c.code)).all(conn, {"day": date(2026, 3, 2)})
    assert [{k: row[k] for k in ROWS[0]} for row in found] == ROWS


def test_driver_errors_come_out_as_sqlalchemy_errors(any_engine: Engine, table: Table) -> None:
    with pytest.raises(IntegrityError), any_engine.begin() as conn:
        Statement(insert(table)).run_many(conn, [ROWS[0], ROWS[0]])


def test_json_already_encoded_is_stored_as_it_is_and_reads_back(any_engine: Engine,
                                                                table: Table) -> None:
    # The audit trail encodes its changes once, for the hash and the column alike.
    text = '{"lines":[1,2],"note":"perché"}'
    with any_engine.begin() as conn:
        Statement(insert(table)).run_many(conn, [
            {**ROWS[0], "data": SerializedJSON(text)}, {**ROWS[1], "data": {"a": [1]}}])
        found = Statement(select(table.c.code, table.c.data).order_by(table.c.code)).all(conn)
    assert [row["data"] for row in found] == [{"lines": [1, 2], "note": "perché"}, {"a": [1]}]
    assert _raw(any_engine)[0][4] in (text, {"lines": [1, 2], "note": "perché"})


def test_literal_values_in_a_statement_are_bound_through_their_column_type(
        any_engine: Engine, table: Table) -> None:
    with any_engine.begin() as conn:
        Statement(insert(table)).run_many(conn, ROWS)
        # The literal amount is a bound default (scaled on SQLite); "skip" is a parameter.
        found = Statement(select(table.c.code).where(
            table.c.amount > Decimal("0.0000"), table.c.code != bindparam("skip"))
        ).scalars(conn, {"skip": "Z"})
    assert found == ["A"]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(value=_JSON_VALUES)
def test_json_columns_are_encoded_exactly_as_json_dumps_does(value: object) -> None:
    # The engines encode JSON columns with one reused encoder instead of json.dumps.
    assert json_dumps(value) == json.dumps(value)


def test_json_columns_refuse_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        json_dumps({"amount": Decimal("1.10")})
