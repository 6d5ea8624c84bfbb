"""Readiness checks: the database answers, its schema is at the code's migration head, and
the job queue is not stuck."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from o2c.adapters.db import jobs as job_store
from o2c.adapters.db.migrate import MIGRATIONS, current


@cache
def migration_head() -> str | None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness(engine: Engine, now: datetime, stuck_after_seconds: float,
              in_process_worker: bool | None = None) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        checks["database"] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        return checks
    checks["database"] = {"ok": True}
    revision, head = current(engine), migration_head()
    checks["migrations"] = {"ok": revision == head, "current": revision, "head": head}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            stats = job_store.queue_stats(conn)
            checks["queue"] = {"ok": stats.oldest_age_seconds <= stuck_after_seconds,
                               "oldest_waiting_seconds": round(stats.oldest_age_seconds, 1),
                               "waiting": sum(stats.depth.values()), "failed": stats.failed}
        else:
            pending, _ = job_store.outbox_lag(conn, now)
            checks["queue"] = {"ok": in_process_worker is not False,
                               "in_process_worker": in_process_worker,
                               "outbox_pending": pending}
    return checks
