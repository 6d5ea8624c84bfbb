"""What the bench scripts share: a scratch database to run in, and peak memory."""

from __future__ import annotations

import resource
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scratch_database(db: str, pg_url: str, prefix: str = "o2c-bench"
                     ) -> tuple[str, Callable[[], None] | None]:
    """A new, empty database: a SQLite file in a temporary folder, or a uniquely named
    PostgreSQL database created on the server of `pg_url`. Returns its URL and, for
    PostgreSQL, the function that drops it."""
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"{prefix}-")
        return f"sqlite:///{Path(folder) / 'bench.db'}", None
    name = f"o2c_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), drop
