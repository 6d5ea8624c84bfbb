"""Timestamps are stored in UTC, as the same text whatever the writer's time zone, and come
back timezone-aware; a naive datetime is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from o2c.adapters.db.fastpath import Statement
from o2c.adapters.db.types import UtcDateTime

probe_metadata = MetaData()
probe = Table("timestamp_probe", probe_metadata,
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("at", UtcDateTime()))

ROME = timezone(timedelta(hours=1))
MOMENTS = [
    (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "2026-03-02 09:00:00.000000"),
    (datetime(2026, 3, 2, 9, 0, 0, 5, tzinfo=UTC), "2026-03-02 09:00:00.000005"),
    (datetime(2026, 3, 2, 10, 30, tzinfo=ROME), "2026-03-02 09:30:00.000000"),
    (datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "0999-12-31 23:59:59.999999"),
]


@pytest.fixture
def table(any_engine: Engine) -> Iterator[Table]:
    probe_metadata.create_all(any_engine)
    yield probe
    probe_metadata.drop_all(any_engine)


def test_timestamps_come_back_as_the_same_instant_in_utc(any_engine: Engine,
                                                           table: Table) -> None:
    with any_engine.begin() as conn:
        conn.execute(insert(table), [{"at": moment} for moment, _ in MOMENTS])
        back = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert back == [moment for moment, _ in MOMENTS]
    assert all(value.utcoffset() == timedelta(0) for value in back)


def test_sqlite_stores_utc_timestamps_as_fixed_width_text(engine: Engine) -> None:
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(probe), [{"at": moment} for moment, _ in MOMENTS])
        stored = [row[0] for row in conn.exec_driver_sql(
            "SELECT at FROM timestamp_probe ORDER BY id")]
    assert stored == [text for _, text in MOMENTS]


def test_a_naive_timestamp_is_refused(any_engine: Engine, table: Table) -> None:
    with pytest.raises(StatementError, match="timezone-aware"), any_engine.begin() as conn:
        conn.execute(insert(table), {"at": datetime(2026, 3, 2, 9, 0)})


def test_repeated_timestamps_and_nulls_are_stored_right(engine: Engine) -> None:
    # The SQLite bind processor keeps the last conversion (a command's rows share its clock
    # reading): the same object again, NULL, or another instant must not reuse it wrongly.
    probe_metadata.create_all(engine)
    moment, text = MOMENTS[0]
    later, later_text = MOMENTS[1]
    with engine.begin() as conn:
        Statement(insert(probe)).run_many(conn, [{"at": value} for value in (
            None, moment, moment, None, moment, later, None, later)])
        stored = [row[0] for row in conn.exec_driver_sql(
            "SELECT at FROM timestamp_probe ORDER BY id")]
    assert stored == [None, text, text, None, text, later_text, None, later_text]
