"""Run Core statements on the hot path without SQLAlchemy's general execution machinery.

A statement is compiled once per dialect (and, for INSERT, per set of columns given); each
execution then goes straight to the DBAPI cursor, applying the column types' own bind and
result processors (ExactDecimal scaling, dates and JSON on SQLite). SQLAlchemy spends tens of
microseconds preparing each execution; the order-to-cash flow runs ~70 statements per order,
so this path is what lets one process carry hundreds of orders a second (bench/core_flow.py).

Expanding IN lists are rendered per list length and cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import JSON, Connection, Date, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from o2c.adapters.db.engine import sqlalchemy_error

Processor = Callable[[Any], Any] | None


@dataclass
class _Bind:
    name: str
    processor: Processor
    default: Any
    expanding: bool


@dataclass
class _Prepared:
    sql: str
    dialect: Dialect
    positional: bool
    names: tuple[str, ...]  # positional order
    binds: dict[str, _Bind]
    columns: tuple[str, ...]
    types: tuple[Any, ...]
    variants: dict[tuple[int, ...], str] = field(default_factory=dict)  # SQL per list lengths
    expanding: tuple[str, ...] = ()
    # Positional statements without expanding binds: values -> DBAPI parameters.
    build_params: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
    build_rows: Callable[[list[Any]], list[dict[str, Any]]] | None = None  # once known

    def __post_init__(self) -> None:
        self.expanding = tuple(name for name, b in self.binds.items() if b.expanding)
        if self.positional and not self.expanding:
            self.build_params = _params_builder(
                [(name, self.binds[name].processor, self.binds[name].default)
                 for name in self.names])

    def render(self, values: Mapping[str, Any]) -> tuple[str, Any]:
        """SQL and DBAPI parameters for these values."""
        expanding = self.expanding
        if not expanding:
            return self.sql, self._params(values)
        lengths = tuple(len(values.get(name, self.binds[name].default)) for name in expanding)
        variant = self.variants.get(lengths)
        if variant is None:
            sql = self.sql
            for name, length in zip(expanding, lengths, strict=True):
                if self.positional:
                    marks = ", ".join(["?"] * length)
                else:
                    marks = ", ".join(f"%({name}__{i})s" for i in range(length))
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks or "NULL")
            variant = self.variants[lengths] = sql
        return variant, self._params(values)

    def _params(self, values: Mapping[str, Any]) -> Any:
        if self.build_params is not None:
            return self.build_params(values)
        get = values.get
        if self.positional:
            result: list[Any] = []
            for name in self.names:
                bind = self.binds[name]
                value = get(name, bind.default)
                proc = bind.processor
                if bind.expanding:
                    result.extend(value if proc is None else [proc(v) for v in value])
                else:
                    result.append(value if proc is None else proc(value))
            return tuple(result)
        params: dict[str, Any] = {}
        for name, bind in self.binds.items():
            value = get(name, bind.default)
            proc = bind.processor
            if bind.expanding:
                for i, item in enumerate(value):
                    params[f"{name}__{i}"] = item if proc is None else proc(item)
            else:
                params[name] = value if proc is None else proc(value)
        return params

    def rows(self, cursor: Any) -> list[dict[str, Any]]:
        raw_rows = cursor.fetchall()
        if not raw_rows:
            return []
        if self.build_rows is None:
            # Some drivers (psycopg) pick the processor from the type code they report.
            if len(cursor.description) != len(self.columns):
                raise AssertionError(f"{len(cursor.description)} columns returned, "
                                     f"{len(self.columns)} expected: {self.sql}")
            self.build_rows = _rows_builder(
                [(name, type_._cached_result_processor(self.dialect, column[1]))
                 for name, type_, column in zip(self.columns, self.types, cursor.description,
                                                strict=True)])
        return self.build_rows(raw_rows)


# Each prepared statement gets two small functions written for its own columns, as
# collections.namedtuple and dataclasses do: a tuple display of `values.get(name)` calls and a
# dict display per row are about a third faster than the equivalent generic loops, and every
# row read or written on the hot path goes through one of them.

def _params_builder(plan: list[tuple[str, Processor, Any]]
                    ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """values -> DBAPI parameters, for (bind name, processor, default) in positional order."""
    namespace: dict[str, Any] = {}
    items = []
    for i, (name, processor, default) in enumerate(plan):
        item = f"get({name!r})" if default is None else f"get({name!r}, d{i})"
        namespace[f"d{i}"] = default
        if processor is not None:
            namespace[f"p{i}"] = processor
            item = f"p{i}({item})"
        items.append(item)
    source = ("def build_params(values):\n    get = values.get\n"
              f"    return ({''.join(item + ', ' for item in items)})\n")
    exec(source, namespace)  # the text is built from bind names only
    return namespace["build_params"]  # type: ignore[no-any-return]


def _rows_builder(columns: list[tuple[str, Processor]]
                  ) -> Callable[[list[Any]], list[dict[str, Any]]]:
    """Raw rows -> dicts by column name; a processor converts values that are not NULL."""
    namespace: dict[str, Any] = {}
    items = []
    for i, (name, processor) in enumerate(columns):
        if processor is None:
            items.append(f"{name!r}: r[{i}]")
        else:
            namespace[f"p{i}"] = processor
            items.append(f"{name!r}: None if r[{i}] is None else p{i}(r[{i}])")
    source = ("def build_rows(raw_rows):\n"
              f"    return [{{{', '.join(items)}}} for r in raw_rows]\n")
    exec(source, namespace)  # the text is built from column names only
    return namespace["build_rows"]  # type: ignore[no-any-return]


class Statement:
    """A reusable statement; parameters are passed by bind name."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._is_insert = bool(getattr(statement, "is_insert", False))
        self._prepared: dict[Any, _Prepared] = {}

    def _prepare(self, dialect: Dialect, values: Mapping[str, Any]) -> _Prepared:
        # An INSERT names the columns it is given (callers build their rows the same way each
        # time, so the keys in their order find it); other statements bind named parameters.
        key = (dialect.name, *values) if self._is_insert else dialect.name
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = self._compile(dialect, sorted(values))
        return prepared

    def _compile(self, dialect: Dialect, keys: list[str]) -> _Prepared:
        compiled = self.statement.compile(
            dialect=dialect, column_keys=keys if self._is_insert and keys else None)
        assert isinstance(compiled, SQLCompiler)
        # bind_names holds each parameter once, under the name the SQL uses (compiled.binds
        # also lists anonymous keys, e.g. for literal IN lists).
        binds = {name: _Bind(name, _bind_processor(param.type, dialect),
                             None if param.callable else param.value, bool(param.expanding))
                 for param, name in compiled.bind_names.items()}
        result_columns = getattr(compiled, "_result_columns", [])
        return _Prepared(
            sql=compiled.string, dialect=dialect, positional=bool(compiled.positional),
            names=tuple(compiled.positiontup or ()) if compiled.positional else (),
            binds=binds, columns=tuple(rc.keyname for rc in result_columns),
            types=tuple(rc.type for rc in result_columns))

    def all(self, conn: Connection, values: Mapping[str, Any] | None = None
            ) -> list[dict[str, Any]]:
        return self._execute(conn, _NO_VALUES if values is None else values, True)  # type: ignore[no-any-return]

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None
              ) -> dict[str, Any] | None:
        rows = self.all(conn, values)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, values)
        return None if row is None else next(iter(row.values()))

    def scalars(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[Any]:
        return [next(iter(row.values())) for row in self.all(conn, values)]

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Execute once; returns the number of rows affected."""
        return self._execute(conn, values, False)  # type: ignore[no-any-return]

    def _execute(self, conn: Connection, values: Mapping[str, Any], read: bool) -> Any:
        """The rows (read) or the number of rows affected."""
        prepared = self._prepare(conn.dialect, values)
        build = prepared.build_params
        if build is not None:
            sql, params = prepared.sql, build(values)
        else:
            sql, params = prepared.render(values)
        cursor = _cursor(conn)
        try:
            cursor.execute(sql, params)
            return prepared.rows(cursor) if read else int(cursor.rowcount)
        except conn.dialect.loaded_dbapi.Error as error:
            raise sqlalchemy_error(conn, sql, params, error) from error
        finally:
            cursor.close()

    def run_many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Execute for each row (no expanding lists); returns the rows affected in all."""
        rows = list(rows)
        if not rows:
            return 0
        prepared = self._prepare(conn.dialect, rows[0])
        sql = prepared.sql
        build = prepared.build_params
        params = ([build(r) for r in rows] if build is not None
                  else [prepared._params(r) for r in rows])
        cursor = _cursor(conn)
        try:
            cursor.executemany(sql, params)
            return int(cursor.rowcount)
        except conn.dialect.loaded_dbapi.Error as error:
            raise sqlalchemy_error(conn, sql, params, error) from error
        finally:
            cursor.close()


_NO_VALUES: Mapping[str, Any] = {}


class SerializedJSON(str):
    """JSON text already encoded (e.g. the audit trail's canonical changes), bound to a JSON
    column as it is instead of being encoded a second time."""

    __slots__ = ()


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    processor: Processor = type_._cached_bind_processor(dialect)
    if isinstance(type_, JSON) and processor is not None:
        encode = processor

        def json_text(value: Any) -> Any:
            return str(value) if type(value) is SerializedJSON else encode(value)

        return json_text
    if dialect.name == "sqlite" and type(type_) is Date and processor is not None:
        # Dates are bound on most statements; SQLAlchemy stores them as ISO text on SQLite,
        # which date.isoformat() gives directly (anything but a plain date goes its way).
        general = processor

        def date_text(value: Any) -> Any:
            return value.isoformat() if type(value) is date else general(value)

        return date_text
    return processor


def _cursor(conn: Connection) -> Any:
    # The DBAPI connection SQLAlchemy holds for this Connection, inside its transaction.
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def last_insert_rowid(conn: Connection) -> int:
    """SQLite: the rowid of the last row this connection inserted."""
    cursor = _cursor(conn)
    try:
        return int(cursor.execute("SELECT last_insert_rowid()").fetchone()[0])
    finally:
        cursor.close()
