"""Run Core statements on the hot path without SQLAlchemy's general execution machinery.

A statement is compiled once per dialect (and, for INSERT/UPDATE, per set of parameter
names); each execution then goes straight to the DBAPI cursor, applying the column types'
own bind and result processors (ExactDecimal scaling, dates and JSON on SQLite). SQLAlchemy
spends ~40 us preparing each execution; the order-to-cash flow runs ~70 statements per order,
and this path cuts that cost to a few microseconds (see bench/core_flow.py).

Only plain statements are supported: no expanding IN lists (use Connection.execute for those).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass
class _Prepared:
    sql: str
    positional: bool
    names: tuple[str, ...]
    bind: tuple[tuple[str, Processor, Any], ...]  # name, processor, value when not given
    columns: tuple[str, ...]
    types: tuple[Any, ...]
    results: tuple[Processor, ...] | None = None  # known after the first execution

    def result_processors(self, dialect: Dialect, description: Any) -> tuple[Processor, ...]:
        # Some drivers (psycopg) pick the processor from the column type code they report.
        if self.results is None:
            self.results = tuple(
                type_._cached_result_processor(dialect, column[1])
                for type_, column in zip(self.types, description, strict=True))
        return self.results

    def params(self, values: Mapping[str, Any]) -> Any:
        processed = {}
        for name, processor, default in self.bind:
            value = values.get(name, default)
            processed[name] = processor(value) if processor is not None else value
        if self.positional:
            return tuple(processed[name] for name in self.names)
        return processed

    def rows(self, dialect: Dialect, cursor: Any) -> list[dict[str, Any]]:
        raw_rows = cursor.fetchall()
        if not raw_rows:
            return []
        processors = self.result_processors(dialect, cursor.description)
        columns = self.columns
        return [{name: (proc(value) if proc is not None and value is not None else value)
                 for name, proc, value in zip(columns, processors, raw, strict=True)}
                for raw in raw_rows]


class Statement:
    """A reusable statement; parameters are passed by bind name."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._prepared: dict[tuple[str, tuple[str, ...]], _Prepared] = {}

    def _prepare(self, dialect: Dialect, keys: tuple[str, ...]) -> _Prepared:
        cache_key = (dialect.name, keys)
        prepared = self._prepared.get(cache_key)
        if prepared is not None:
            return prepared
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys) or None)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ()) if compiled.positional else ()
        bind = tuple((name, param.type._cached_bind_processor(dialect),
                      None if param.callable else param.value)
                     for name, param in compiled.binds.items())
        result_columns = getattr(compiled, "_result_columns", [])
        prepared = _Prepared(
            sql=compiled.string, positional=bool(compiled.positional), names=names, bind=bind,
            columns=tuple(rc.keyname for rc in result_columns),
            types=tuple(rc.type for rc in result_columns))
        self._prepared[cache_key] = prepared
        return prepared

    def _keys(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        # An INSERT names the columns it is given; other statements bind explicit parameters.
        return tuple(sorted(values)) if getattr(self.statement, "is_insert", False) else ()

    def all(self, conn: Connection, values: Mapping[str, Any] | None = None
            ) -> list[dict[str, Any]]:
        values = values or {}
        prepared = self._prepare(conn.dialect, self._keys(values))
        cursor = _cursor(conn)
        try:
            cursor.execute(prepared.sql, prepared.params(values))
            return prepared.rows(conn.dialect, cursor)
        finally:
            cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None
              ) -> dict[str, Any] | None:
        rows = self.all(conn, values)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, values)
        return None if row is None else next(iter(row.values()))

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Execute once; returns the number of rows affected."""
        prepared = self._prepare(conn.dialect, self._keys(values))
        cursor = _cursor(conn)
        try:
            cursor.execute(prepared.sql, prepared.params(values))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        prepared = self._prepare(conn.dialect, self._keys(rows[0]))
        cursor = _cursor(conn)
        try:
            cursor.executemany(prepared.sql, [prepared.params(r) for r in rows])
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _cursor(conn: Connection) -> Any:
    # The DBAPI connection SQLAlchemy holds for this Connection, inside its transaction.
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
