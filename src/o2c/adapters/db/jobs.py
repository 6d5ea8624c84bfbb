"""SQL for background jobs: the errors of failed attempts, chunked runs and their progress,
and (PostgreSQL) the job list, queue depth and age read from procrastinate's table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

from o2c.adapters.db import tables as t

_e, _r, _c = t.job_errors, t.job_runs, t.job_run_chunks


def record_error(conn: Connection, job_id: int, task: str, attempt: int, error: str,
                 now: datetime) -> None:
    conn.execute(insert(_e).values(job_id=job_id, task=task, attempt=attempt,
                                   error=error[:2000], at=now))


def last_errors(conn: Connection, job_ids: list[int]) -> dict[int, str]:
    """The last recorded error of each job, in one query."""
    if not job_ids:
        return {}
    latest = (select(_e.c.job_id, func.max(_e.c.id).label("id"))
              .where(_e.c.job_id.in_(job_ids)).group_by(_e.c.job_id).subquery())
    rows = conn.execute(select(_e.c.job_id, _e.c.error).join(latest, latest.c.id == _e.c.id))
    return {int(job_id): str(error) for job_id, error in rows}


# -- procrastinate's jobs (PostgreSQL) ---------------------------------------------------------

_LIST = """
SELECT id, task_name, status::text AS status, queue_name, attempts, scheduled_at, args
  FROM procrastinate_jobs
 WHERE (CAST(:status AS text) IS NULL OR status::text = :status)
 ORDER BY id DESC LIMIT :limit OFFSET :offset"""


def list_jobs(conn: Connection, status: str | None, limit: int, offset: int
              ) -> tuple[list[dict[str, Any]], int]:
    rows = [dict(r) for r in conn.execute(text(_LIST), {
        "status": status, "limit": limit, "offset": offset}).mappings()]
    total = conn.execute(text(
        "SELECT count(*) FROM procrastinate_jobs WHERE "
        "(CAST(:status AS text) IS NULL OR status::text = :status)"), {"status": status}
    ).scalar_one()
    return rows, int(total)


def dismiss_failed(conn: Connection, job_id: int) -> None:
    conn.execute(text("UPDATE procrastinate_jobs SET status = 'cancelled' "
                      "WHERE id = :id AND status = 'failed'"), {"id": job_id})


@dataclass(frozen=True)
class QueueStats:
    depth: dict[str, int]  # jobs waiting (todo) by queue
    oldest_age_seconds: float  # of the oldest job due and still waiting (0 when none)
    doing: int
    failed: int
    retried: int  # attempts beyond the first, over the jobs still in the table


def queue_stats(conn: Connection) -> QueueStats:
    """Ages by the database's clock: procrastinate schedules jobs by it."""
    depth = {str(q): int(n) for q, n in conn.execute(text(
        "SELECT queue_name, count(*) FROM procrastinate_jobs WHERE status = 'todo' "
        "GROUP BY queue_name"))}
    row = conn.execute(text(
        "SELECT count(*) FILTER (WHERE status = 'doing'),"
        "       count(*) FILTER (WHERE status = 'failed'),"
        "       coalesce(sum(greatest(attempts - 1, 0)), 0)"
        "  FROM procrastinate_jobs")).one()
    # the oldest job due and waiting: due since its date, or since it was deferred
    oldest = conn.execute(text(
        "SELECT coalesce(extract(epoch FROM now() - min(coalesce(j.scheduled_at, e.at))), 0)"
        "  FROM procrastinate_jobs j"
        "  LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'"
        " WHERE j.status = 'todo' AND coalesce(j.scheduled_at, now()) <= now()")).scalar()
    return QueueStats(depth, max(float(oldest or 0), 0.0), int(row[0]), int(row[1]),
                      int(row[2]))


# -- chunked runs ------------------------------------------------------------------------------


def find_run(conn: Connection, key: str) -> int | None:
    found = conn.execute(select(_r.c.id).where(_r.c.key == key)).scalar()
    return None if found is None else int(found)


def create_run(conn: Connection, kind: str, key: str, as_of: datetime,
               chunks: list[list[int]], now: datetime) -> int:
    run_id = conn.execute(insert(_r).values(
        kind=kind, key=key, as_of=as_of, chunks=len(chunks),
        items=sum(len(c) for c in chunks), created_at=now).returning(_r.c.id)).scalar_one()
    if chunks:
        conn.execute(insert(_c), [{"run_id": run_id, "chunk": n, "items": items,
                                   "done_at": None, "result": None}
                                  for n, items in enumerate(chunks)])
    return int(run_id)


def chunk_items(conn: Connection, run_id: int, chunk: int) -> tuple[list[int], bool]:
    """The chunk's items and whether it is done already."""
    row = conn.execute(select(_c.c["items"], _c.c.done_at).where(
        _c.c.run_id == run_id, _c.c.chunk == chunk)).one()
    return [int(i) for i in row[0]], row[1] is not None


def finish_chunk(conn: Connection, run_id: int, chunk: int, result: dict[str, Any],
                 now: datetime) -> bool:
    """Mark the chunk done; False when another worker did first."""
    return bool(conn.execute(update(_c).where(
        _c.c.run_id == run_id, _c.c.chunk == chunk, _c.c.done_at.is_(None)).values(
        done_at=now, result=result)).rowcount)


def run_progress(conn: Connection, run_id: int) -> dict[str, Any]:
    run = conn.execute(select(_r).where(_r.c.id == run_id)).mappings().one()
    chunks = conn.execute(select(_c.c.chunk, _c.c.done_at, _c.c.result).where(
        _c.c.run_id == run_id).order_by(_c.c.chunk)).all()
    done = [c for c in chunks if c.done_at is not None]
    totals: dict[str, int] = {}
    for chunk in done:
        for key, value in (chunk.result or {}).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return {"id": run_id, "kind": run["kind"], "key": run["key"], "items": run["items"],
            "chunks": run["chunks"], "chunks_done": len(done),
            "progress": 1.0 if not chunks else len(done) / len(chunks), "totals": totals}


def run_as_of(conn: Connection, run_id: int) -> datetime:
    found: datetime = conn.execute(select(_r.c.as_of).where(_r.c.id == run_id)).scalar_one()
    return found


def recent_runs(conn: Connection, limit: int = 20, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
    """Runs, newest first, with their progress (two queries, whatever the page size)."""
    runs = conn.execute(select(_r).order_by(_r.c.id.desc()).limit(limit).offset(offset)
                        ).mappings().all()
    total = conn.execute(select(func.count()).select_from(_r)).scalar_one()
    done: dict[int, int] = {int(run): int(n) for run, n in conn.execute(
        select(_c.c.run_id, func.count()).where(
            _c.c.run_id.in_([r["id"] for r in runs]), _c.c.done_at.is_not(None))
        .group_by(_c.c.run_id))} if runs else {}
    return [{"id": r["id"], "kind": r["kind"], "key": r["key"], "as_of": r["as_of"],
             "items": r["items"], "chunks": r["chunks"],
             "chunks_done": int(done.get(r["id"], 0)),
             "progress": 1.0 if not r["chunks"] else int(done.get(r["id"], 0)) / r["chunks"]}
            for r in runs], int(total)


# -- outbox lag ----------------------------------------------------------------------------------


def outbox_lag(conn: Connection, now: datetime) -> tuple[int, float]:
    """Undelivered outbox rows, and the age in seconds of the oldest one that is due."""
    o = t.outbox
    count, oldest = conn.execute(select(func.count(), func.min(o.c.created_at)).where(
        o.c.delivered_at.is_(None))).one()
    age = 0.0
    if oldest is not None:
        age = max((now - oldest).total_seconds(), 0.0)
    return int(count), age
