"""Master data kept in memory between units of work, on SQLite.

Every order, shipment and payment reads the same few rows again: its customer, the company,
the products, the payment terms, the VAT rates, the default warehouse. Those rows change
rarely, so on SQLite the write path keeps them in memory between units of work.

Correctness rests on generation counters, not on timeouts. Triggers bump a counter in
`master_data_generations` on every insert, update and delete of a cached table, whoever
writes (this process, another process, the sqlite3 shell). A unit of work reads the
counters inside its write transaction (again after each of its own writes) and is served
only entries recorded at exactly the generation it sees; what it reads from the database is
published when it commits, stamped with that generation. A counter only grows over
committed history, so an entry whose stamp still matches describes the committed rows. A
rolled-back unit of work publishes nothing. Missing counter rows (an emptied table) switch
the cache off.

PostgreSQL reads the database every time: its transactions do not hold one write lock, so
the counters would not pin what a transaction sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import attached

# The tables whose rows are cached; the migration puts a counter and triggers on each.
CACHED_TABLES = ("companies", "customers", "products", "warehouses", "payment_terms",
                 "vat_rates")
# More entries than this in one table and the table starts over (bounded memory).
MAX_ENTRIES_PER_TABLE = 20_000

# Read on the raw sqlite3 connection: a handful of (name, counter) pairs, at least once per
# unit of work, are cheaper as tuples than as rows.
_GENERATIONS = f"SELECT table_name, generation FROM {t.master_data_generations.name}"


class MasterDataCache:
    """The entries of one engine, shared by its units of work (and their threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # table -> (generation, {key: value})
        self._tables: dict[str, tuple[int, dict[Any, Any]]] = {}

    def view(self, conn: Connection) -> CacheView:
        return CacheView(self, conn)

    def _lookup(self, table: str, generation: int, key: Any) -> Any:
        with self._lock:
            entries = self._tables.get(table)
            if entries is None or entries[0] != generation:
                return None
            return entries[1].get(key)

    def _publish(self, staged: dict[str, tuple[int, dict[Any, Any]]]) -> None:
        with self._lock:
            for table, (generation, values) in staged.items():
                current = self._tables.get(table)
                if current is not None and current[0] > generation:
                    continue  # a later unit of work already saw a newer state
                if (current is None or current[0] < generation
                        or len(current[1]) + len(values) > MAX_ENTRIES_PER_TABLE):
                    current = self._tables[table] = (generation, {})
                current[1].update(values)


class CacheView:
    """What one unit of work sees of the cache: the generations its transaction reads, the
    entries it may use, and the rows it read, to publish when it commits."""

    def __init__(self, cache: MasterDataCache, conn: Connection) -> None:
        self._cache = cache
        self._conn = conn
        self._dbapi: Any = conn.connection.dbapi_connection
        self._generations: dict[str, int] | None = None
        self._changes_seen = -1
        self._staged: dict[str, tuple[int, dict[Any, Any]]] = {}

    def _generation(self, table: str) -> int | None:
        # The counters are read again whenever this connection has written since: a write
        # of this very transaction to a cached table (by any statement) moves its counter.
        changes = self._dbapi.total_changes
        if self._generations is None or changes != self._changes_seen:
            fresh = dict(self._dbapi.execute(_GENERATIONS).fetchall())
            for name, (generation, _) in list(self._staged.items()):
                if fresh.get(name) != generation:
                    del self._staged[name]  # read before a change: stale already
            self._generations, self._changes_seen = fresh, changes
        return self._generations.get(table)

    def get(self, table: str, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value of `key`, or what `load` reads (kept for publishing). Nothing
        found (None) is not cached: the row may be created next."""
        generation = self._generation(table)
        if generation is None:
            return load()
        found = self._find(table, generation, key)
        if found is None:
            found = load()
            if found is not None:
                self._staged.setdefault(table, (generation, {}))[1][key] = found
        return found

    def rows_by_id(self, table: str, ids: list[int],
                   load: Callable[[list[int]], list[Any]]) -> list[Any]:
        """Rows (mappings with an "id") for these ids: cached ones, and the others read in
        one go by `load`."""
        generation = self._generation(table)
        if generation is None:
            return load(ids)
        rows, missing = [], []
        for id_ in ids:
            found = self._find(table, generation, id_)
            if found is None:
                missing.append(id_)
            else:
                rows.append(found)
        if missing:
            loaded = load(missing)
            staged = self._staged.setdefault(table, (generation, {}))[1]
            for row in loaded:
                staged[row["id"]] = row
            rows.extend(loaded)
        return rows

    def _find(self, table: str, generation: int, key: Any) -> Any:
        staged = self._staged.get(table)
        if staged is not None and key in staged[1]:
            return staged[1][key]
        return self._cache._lookup(table, generation, key)

    def publish(self) -> None:
        """Once the transaction has committed: what it read serves the next ones."""
        if self._staged:
            self._cache._publish(self._staged)
            self._staged = {}


def master_data_cache(engine: Engine) -> MasterDataCache | None:
    """The engine's cache (kept on the engine, so both go away together); None on
    PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    return attached(engine, "_o2c_master_data_cache", MasterDataCache)
