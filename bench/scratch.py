"""What the bench scripts share: a scratch database to run in, and peak memory."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from o2c.adapters.db.engine import make_engine
from o2c.adapters.db.migrate import upgrade

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scratch_database(db: str, pg_url: str, prefix: str = "o2c-bench"
                     ) -> tuple[str, Callable[[], None]]:
    """A new, empty database: a SQLite file in a temporary folder, or a uniquely named
    PostgreSQL database created on the server of `pg_url`. Returns its URL and the function
    that removes it (the folder, or the database)."""
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"{prefix}-")
        return (f"sqlite:///{Path(folder) / 'bench.db'}",
                lambda: shutil.rmtree(folder, ignore_errors=True))
    name = f"o2c_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def scratch_engine(db: str, pg_url: str, prefix: str) -> Iterator[tuple[str, Engine]]:
    """A migrated scratch database (see scratch_database) and its engine, disposed of and
    removed afterwards (the SQLite folder, or the PostgreSQL database)."""
    url, cleanup = scratch_database(db, pg_url, prefix)
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        cleanup()


def add_database_flags(parser: argparse.ArgumentParser) -> None:
    """--db and --pg-url, as every bench takes them."""
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("O2C_BENCH_PG_URL", DEFAULT_PG),
                        help="the PostgreSQL server to create a scratch database on")


def machine_reference_ms(rounds: int = 3) -> float:
    """Milliseconds this machine takes for a fixed pure-Python workload (exact decimals,
    dicts, JSON, SQLite in memory), best of `rounds`. Throughput figures from machines of
    different speed compare once scaled by it (orders/s x reference ms is roughly constant
    for the same code)."""
    import json
    import sqlite3
    import time
    from decimal import Decimal

    def workload() -> None:
        total = Decimal(0)
        rows = []
        for i in range(20_000):
            amount = (Decimal(i) / Decimal(7)).quantize(Decimal("0.01"))
            total += amount
            rows.append({"id": i, "amount": str(amount), "sku": f"SKU-{i % 50:04d}"})
        json.dumps(rows)
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, amount INTEGER, sku TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)",
                         [(r["id"], i * 100, r["sku"]) for i, r in enumerate(rows)])
        conn.execute("SELECT sku, sum(amount) FROM t GROUP BY sku").fetchall()
        conn.close()

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        workload()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
