"""A small explicit mapper: aggregates <-> rows, with an identity map, snapshots for change
detection and optimistic versions. Repositories own all SQL; the domain never sees a row.

Statements are built once per table and column set and reused, so SQLAlchemy's compiled
cache is hit without rebuilding expressions on every call (the hot path runs thousands of
commands a second)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping

from o2c.adapters.db.fastpath import Statement, last_insert_rowid
from o2c.adapters.db.master_data_cache import CACHED_TABLES, CacheView
from o2c.domain.aggregate import Aggregate, document_number
from o2c.domain.errors import ConcurrentModification, DocumentPosted, NotFound

A = TypeVar("A", bound=Aggregate)
Row = dict[str, Any]


class Created:
    """The row an aggregate was inserted with (what the audit trail records of a creation)."""

    __slots__ = ("row",)

    def __init__(self, row: Row) -> None:
        self.row = row


# (object type, id, {field: [before, after]} | Created | None), in the order written.
Change = tuple[str, int, "dict[str, list[Any]] | Created | None"]


@dataclass(frozen=True)
class Child:
    """A collection of child rows owned by the aggregate (order lines, invoice taxes...)."""

    attribute: str
    table: Table
    parent_key: str
    to_row: Callable[[Any], Row]
    from_row: Callable[[RowMapping], Any]
    order_by: str = "id"
    has_id: bool = True


@dataclass(frozen=True)
class Mapping(Generic[A]):
    object_type: str
    table: Table
    to_row: Callable[[A], Row]
    from_row: Callable[[RowMapping, dict[str, list[Any]]], A]
    children: tuple[Child, ...] = ()
    immutable_when: Callable[[Row], bool] | None = None  # posted documents never change
    number_prefix: str = ""  # documents numbered from their id (SO-000123), never stored
    statements: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def statement(self, key: Any, build: Callable[..., Any]) -> Any:
        found = self.statements.get(key)
        if found is None:
            found = self.statements[key] = build()
        return found


def _by_ids(table: Table, for_update: bool) -> Statement:
    query = select(table).where(table.c.id.in_(bindparam("ids", expanding=True))) \
        .order_by(table.c.id)
    return Statement(query.with_for_update() if for_update else query)


def _children_of(child: Child) -> Statement:
    parent = child.table.c[child.parent_key]
    return Statement(select(child.table)
                     .where(parent.in_(bindparam("parent_ids", expanding=True)))
                     .order_by(parent, child.table.c[child.order_by]))


def _children_of_one(child: Child) -> Statement:
    parent = child.table.c[child.parent_key]
    return Statement(select(child.table).where(parent == bindparam("parent_id"))
                     .order_by(child.table.c[child.order_by]))


def _by_id(table: Table, for_update: bool) -> Statement:
    query = select(table).where(table.c.id == bindparam("id"))
    return Statement(query.with_for_update() if for_update else query)


def _update(table: Table, columns: tuple[str, ...], versioned: bool) -> Statement:
    where = [table.c.id == bindparam("p_id")]
    if versioned:
        where.append(table.c.version == bindparam("expected_version"))
    return Statement(update(table).where(*where).values(
        {c: bindparam(f"p_{c}", type_=table.c[c].type) for c in columns}))


def _delete_ids(table: Table) -> Statement:
    return Statement(delete(table).where(table.c.id.in_(bindparam("ids", expanding=True))))


class Repository(Generic[A]):
    def __init__(self, conn: Connection, mapping: Mapping[A], now: datetime,
                 cache: CacheView | None = None) -> None:
        self.conn = conn
        self.now = now
        self.mapping = mapping
        self.table = mapping.table
        # A unit of work opens a few repositories per command: what depends on the mapping
        # alone is worked out once per mapping.
        traits: tuple[bool, bool] | None = mapping.statements.get("traits")
        if traits is None:
            traits = mapping.statements["traits"] = (
                "created_at" in mapping.table.c,
                # Master data rows may come from the cache (SQLite; rows without children).
                mapping.table.name in CACHED_TABLES and not mapping.children)
        self._stamp_creation: bool = traits[0]
        cacheable = traits[1]
        self._postgres = conn.dialect.name == "postgresql"
        self._cache = cache if cacheable else None
        self._identity: dict[int, A] = {}
        self._snapshots: dict[int, tuple[Row, dict[str, dict[int, Row]]]] = {}
        self._claimed: set[int] = set()  # version already bumped in this transaction
        # What the audit trail records: (object type, id, {field: [before, after]} or None
        # for a created object), in the order it was written.
        self.changes: list[Change] = []

    # -- reading ---------------------------------------------------------------------------

    def get(self, id_: int, *, for_update: bool = False) -> A:
        found = self.find(id_, for_update=for_update)
        if found is None:
            raise NotFound(self.mapping.object_type, id_)
        return found

    def find(self, id_: int, *, for_update: bool = False) -> A | None:
        held = self._identity.get(id_)
        if held is not None and not (for_update and self._postgres):
            return held  # already in this transaction (and, on SQLite, under its write lock)
        loaded = self.get_many([id_], for_update=for_update)
        return loaded[0] if loaded else None

    def get_many(self, ids: Iterable[int], *, for_update: bool = False) -> list[A]:
        """Load several aggregates with one query per table; on PostgreSQL the rows are locked
        in id order, so two transactions never wait on each other in a circle."""
        wanted = sorted(set(ids))
        missing = [i for i in wanted if i not in self._identity]
        if for_update and self._postgres:
            held = [i for i in wanted if i in self._identity]
            if held:
                self.mapping.statement(
                    "lock", lambda: Statement(select(self.table.c.id)
                    .where(self.table.c.id.in_(bindparam("ids", expanding=True)))
                    .order_by(self.table.c.id).with_for_update())).all(self.conn, {"ids": held})
        if missing:
            if self._cache is not None:
                self._materialise(self._cache.rows_by_id(
                    self.table.name, missing, lambda ids: self._rows_by_id(ids, for_update)))
            else:
                self._materialise(self._rows_by_id(missing, for_update))
        return [self._identity[i] for i in wanted if i in self._identity]

    def _rows_by_id(self, ids: list[int], for_update: bool) -> list[Row]:
        query: Statement
        if len(ids) == 1:
            query = self.mapping.statement(("by_id", for_update),
                                           lambda: _by_id(self.table, for_update))
            return query.all(self.conn, {"id": ids[0]})
        query = self.mapping.statement(("by_ids", for_update),
                                       lambda: _by_ids(self.table, for_update))
        return query.all(self.conn, {"ids": ids})

    def lock_where(self, key: str, build: Callable[[], Select[Any]],
                   params: dict[str, Any]) -> list[A]:
        """Load (and on PostgreSQL lock, in id order) the aggregates a cached statement finds."""
        query = self.mapping.statement(("lock_where", key), lambda: Statement(
            build().order_by(self.table.c.id).with_for_update()))
        return self._materialise(query.all(self.conn, params))

    def find_by(self, **criteria: Any) -> A | None:
        found = self.select_where(*[self.table.c[k] == v for k, v in criteria.items()])
        return found[0] if found else None

    def select_where(self, *conditions: Any, for_update: bool = False,
                     order_by: Sequence[Any] = ()) -> list[A]:
        query = select(self.table).where(*conditions).order_by(*(order_by or [self.table.c.id]))
        if for_update:
            query = query.with_for_update()
        return self._materialise(self.conn.execute(query).mappings().all())

    def _materialise(self, rows: Sequence[Any]) -> list[A]:
        if not rows:
            return []
        fresh = [row["id"] for row in rows if row["id"] not in self._identity]
        children: dict[str, dict[int, list[Any]]] = {}
        raw: dict[str, dict[int, list[Any]]] = {}
        if fresh:
            for child in self.mapping.children:
                grouped: dict[int, list[Any]] = {i: [] for i in fresh}
                if len(fresh) == 1:
                    one = self.mapping.statement(("child_of", child.attribute),
                                                 lambda c=child: _children_of_one(c))
                    child_rows: Iterable[Any] = one.all(self.conn, {"parent_id": fresh[0]})
                else:
                    query = self.mapping.statement(("children", child.attribute),
                                                   lambda c=child: _children_of(c))
                    child_rows = query.all(self.conn, {"parent_ids": fresh})
                grouped_rows: dict[int, list[Any]] = {i: [] for i in fresh}
                raw[child.attribute] = grouped_rows
                for child_row in child_rows:
                    grouped[child_row[child.parent_key]].append(child.from_row(child_row))
                    grouped_rows[child_row[child.parent_key]].append(child_row)
                children[child.attribute] = grouped
        result = []
        for row in rows:
            existing = self._identity.get(row["id"])
            if existing is not None:  # never replace what the transaction already holds
                result.append(existing)
                continue
            kids = {name: grouped[row["id"]] for name, grouped in children.items()}
            aggregate = self.mapping.from_row(row, kids)
            if self.mapping.immutable_when is None:
                self._track_loaded(aggregate, row, {name: grouped[row["id"]]
                                                    for name, grouped in raw.items()})
            else:  # documents that must never change compare against their own rendering
                self._track(aggregate)
            result.append(aggregate)
        return result

    def _track_loaded(self, aggregate: A, row: Any, child_rows: dict[str, list[Any]]) -> None:
        """The snapshot of a freshly loaded aggregate is the row it came from: no need to
        render the aggregate back into rows just to know it is unchanged."""
        assert aggregate.id is not None
        header_keys = self._row_keys(aggregate)
        kids: dict[str, dict[int, Row]] = {}
        for child in self.mapping.children:
            items = getattr(aggregate, child.attribute)
            rows_of = child_rows.get(child.attribute, [])
            if not items:
                kids[child.attribute] = {}
                continue
            keys = self._child_keys(child, items[0])
            if child.has_id:
                kids[child.attribute] = {r["id"]: {k: r[k] for k in keys} for r in rows_of}
            else:
                kids[child.attribute] = {i: {k: r[k] for k in keys} for i, r in enumerate(rows_of)}
        self._identity[aggregate.id] = aggregate
        self._snapshots[aggregate.id] = ({k: row[k] for k in header_keys}, kids)

    # The columns an aggregate (or child) maps to, learnt from its first rendering.
    def _row_keys(self, aggregate: A) -> tuple[str, ...]:
        keys: tuple[str, ...] | None = self.mapping.statements.get("row_keys")
        if keys is None:
            keys = self.mapping.statements["row_keys"] = tuple(self.mapping.to_row(aggregate))
        return keys

    def _child_keys(self, child: Child, item: Any) -> tuple[str, ...]:
        keys: tuple[str, ...] | None = self.mapping.statements.get(
            ("child_keys", child.attribute))
        if keys is None:
            keys = self.mapping.statements[("child_keys", child.attribute)] = tuple(
                child.to_row(item))
        return keys

    # -- writing ---------------------------------------------------------------------------

    def add(self, aggregate: A) -> A:
        row = self.mapping.to_row(aggregate)
        values = {**row, "version": aggregate.version}
        if self._stamp_creation:
            values["created_at"] = self.now
        query = self.mapping.statement("insert", lambda: Statement(
            insert(self.table).returning(self.table.c.id)))
        new_id = query.scalar(self.conn, values)
        aggregate.id = new_id
        if self.mapping.number_prefix:
            aggregate.number = document_number(self.mapping.number_prefix, new_id)  # type: ignore[attr-defined]
        kids: dict[str, dict[int, Row]] = {}
        for child in self.mapping.children:
            kids[child.attribute] = self._insert_children(
                child, new_id, getattr(aggregate, child.attribute))
        self._identity[new_id] = aggregate
        if self.mapping.number_prefix:  # the number is derived, not stored, but keep it true
            row = self.mapping.to_row(aggregate)
        self._snapshots[new_id] = (row, kids)
        self._claimed.add(new_id)
        self.changes.append((self.mapping.object_type, new_id, Created(row)))
        return aggregate

    def _insert_children(self, child: Child, parent_id: int, items: list[Any]
                         ) -> dict[int, Row]:
        """Insert new child rows; returns their snapshot rows by id (or position)."""
        if not items:
            return {}
        snapshots = [child.to_row(item) for item in items]
        rows = [{**row, child.parent_key: parent_id} for row in snapshots]
        plain = self.mapping.statement(("insert", child.attribute),
                                       lambda: Statement(insert(child.table)))
        if not child.has_id:
            plain.run_many(self.conn, rows)
            return dict(enumerate(snapshots))
        if self._postgres:
            query = self.mapping.statement(
                ("insert_returning", child.attribute),
                lambda: insert(child.table).returning(child.table.c.id,
                                                      sort_by_parameter_order=True))
            new_ids = list(self.conn.execute(query, rows).scalars())
        else:
            # SQLite holds the write lock for the whole transaction and gives an INTEGER
            # PRIMARY KEY the next rowid, so the rows got consecutive ids ending at the last.
            plain.run_many(self.conn, rows)
            last = last_insert_rowid(self.conn)
            new_ids = list(range(last - len(rows) + 1, last + 1))
        for item, new_id in zip(items, new_ids, strict=True):
            item.id = new_id
        return dict(zip(new_ids, snapshots, strict=True))

    def _track(self, aggregate: A) -> None:
        assert aggregate.id is not None
        self._identity[aggregate.id] = aggregate
        self._snapshots[aggregate.id] = self._snapshot(aggregate)

    def _snapshot(self, aggregate: A) -> tuple[Row, dict[str, dict[int, Row]]]:
        kids: dict[str, dict[int, Row]] = {}
        for child in self.mapping.children:
            items = getattr(aggregate, child.attribute)
            if child.has_id:
                kids[child.attribute] = {item.id: child.to_row(item) for item in items}
            else:
                kids[child.attribute] = {i: child.to_row(item) for i, item in enumerate(items)}
        return self.mapping.to_row(aggregate), kids

    def flush(self) -> None:
        """Write what changed since the last flush: one statement per changed column set,
        for all aggregates of this repository together."""
        versioned: dict[tuple[str, ...], list[tuple[A, Row]]] = {}
        unversioned: dict[tuple[str, ...], list[Row]] = {}
        children: list[tuple[int, A, dict[str, dict[int, Row]]]] = []
        for id_, aggregate in self._identity.items():
            before_row, before_kids = self._snapshots[id_]
            after_row, after_kids = self._snapshot(aggregate)
            if after_row == before_row and after_kids == before_kids:
                continue
            if self.mapping.immutable_when and self.mapping.immutable_when(before_row):
                raise DocumentPosted(self.mapping.object_type, aggregate.label)
            changed = {k: v for k, v in after_row.items() if before_row.get(k) != v}
            if changed:
                self.changes.append((self.mapping.object_type, id_,
                                     {k: [before_row.get(k), v] for k, v in changed.items()}))
            params = {f"p_{k}": v for k, v in changed.items()}
            params["p_id"] = id_
            if id_ in self._claimed:
                if changed:
                    unversioned.setdefault(tuple(sorted(changed)), []).append(params)
            else:
                # The first change in a transaction claims the row's version (optimistic
                # check); later changes in the same transaction just write what changed.
                params["expected_version"] = aggregate.version
                params["p_version"] = aggregate.version + 1
                versioned.setdefault(tuple(sorted({*changed, "version"})), []).append(
                    (aggregate, params))
            if after_kids != before_kids:
                children.append((id_, aggregate, before_kids))
            self._snapshots[id_] = (after_row, after_kids)
        for columns, items in versioned.items():
            query = self.mapping.statement(("update", columns, True),
                                           lambda c=columns: _update(self.table, c, True))
            if query.run_many(self.conn, [params for _, params in items]) != len(items):
                raise ConcurrentModification(self.mapping.object_type, items[0][0].label)
            for aggregate, _ in items:
                aggregate.version += 1
                assert aggregate.id is not None
                self._claimed.add(aggregate.id)
        for columns, rows in unversioned.items():
            query = self.mapping.statement(("update", columns, False),
                                           lambda c=columns: _update(self.table, c, False))
            query.run_many(self.conn, rows)
        for id_, aggregate, before_kids in children:
            for child in self.mapping.children:
                self._flush_children(child, id_, aggregate, before_kids[child.attribute])
            self._snapshots[id_] = (self._snapshots[id_][0], self._snapshot(aggregate)[1])

    def _flush_children(self, child: Child, parent_id: int, aggregate: A,
                        before: dict[int, Row]) -> None:
        items = getattr(aggregate, child.attribute)
        if not child.has_id:  # value collections are replaced whole
            after = [child.to_row(item) for item in items]
            if after != list(before.values()):
                self.conn.execute(delete(child.table)
                                  .where(child.table.c[child.parent_key] == parent_id))
                self._insert_children(child, parent_id, items)
            return
        current_ids = {item.id for item in items if item.id is not None}
        gone = [i for i in before if i not in current_ids]
        if gone:
            self.mapping.statement(("delete", child.attribute),
                                   lambda: _delete_ids(child.table)).run(self.conn, {"ids": gone})
        updates: dict[tuple[str, ...], list[Row]] = {}
        for item in items:
            if item.id is None:
                continue
            row = child.to_row(item)
            old = before.get(item.id)
            if old != row:
                diff = {k: v for k, v in row.items() if old is None or old.get(k) != v}
                updates.setdefault(tuple(sorted(diff)), []).append(
                    {"p_id": item.id, **{f"p_{k}": v for k, v in diff.items()}})
        for columns, rows in updates.items():  # one executemany per column set
            query = self.mapping.statement(("update", child.attribute, columns),
                                           lambda c=columns: _update(child.table, c, False))
            query.run_many(self.conn, rows)
        new_items = [item for item in items if item.id is None]
        self._insert_children(child, parent_id, new_items)

    def tracked(self) -> list[A]:
        return list(self._identity.values())

