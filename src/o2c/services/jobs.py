"""o2c's background tasks and their default schedules. The engine that runs them is
adapters/jobs.py (procrastinate); the tasks are plain functions, the same on PostgreSQL
(`o2c worker`) and SQLite (in-process), and each is idempotent: a job may run more than once
(retried after an error, or again after its worker was killed) with the same end result.

* `o2c.deliver_invoice` (deferred by invoice posting, in its transaction): e-mails that one
  invoice at once.
* `o2c.deliver_invoices` (every minute): every due delivery, retries included (the outbox's
  backoff: 1, 2, 4... minutes).
* `o2c.deliver_run` + `o2c.deliver_chunk`: a large backlog split into chunks that any number
  of workers run in parallel; the run's progress is the share of chunks done.
* `o2c.match_bank_lines` (06:00 company time): proposes matches for unmatched bank lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from o2c.adapters.db import documents as delivery_store
from o2c.adapters.db import jobs as store
from o2c.adapters.jobs import JobEngine, Schedule, TaskSpec, parse_schedules
from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput, InvalidTransition, NotFound
from o2c.services import documents
from o2c.services.bus import MessageBus
from o2c.services.uow import Clock, UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_SCHEDULES = ("deliver_invoices=o2c.deliver_invoices@* * * * *;"
                     "bank_matching=o2c.match_bank_lines@0 6 * * *")
CHUNK_SIZE = 100


@dataclass
class Runtime:
    """What tasks need: the database, the clock, the bus and a mailer."""

    engine: Engine
    clock: Clock
    bus: MessageBus
    mailer: Callable[[], documents.Mailer]
    timezone: str = "UTC"
    lease: timedelta = delivery_store.LEASE  # how long a claimed e-mail is this worker's
    jobs: JobEngine | None = field(default=None, repr=False)


def deliver_invoice(rt: Runtime, key: str) -> dict[str, Any]:
    """E-mail the invoice of one outbox row (its dedup key), if still due."""
    return documents.deliver(rt.engine, rt.clock, rt.mailer(), 1, keys=[key],
                             lease=rt.lease).as_dict()


def deliver_invoices(rt: Runtime, at: str | None = None, limit: int = 100) -> dict[str, int]:
    """Every due delivery, in batches of `limit`, until none is left."""
    totals = {"claimed": 0, "sent": 0, "skipped": 0, "retrying": 0, "failed": 0}
    while True:
        run = documents.deliver(rt.engine, rt.clock, rt.mailer(), limit, lease=rt.lease)
        for key in totals:
            value = getattr(run, key)
            totals[key] += value if isinstance(value, int) else len(value)
        if run.claimed < limit:
            return totals


def deliver_run(rt: Runtime, chunk_size: int = CHUNK_SIZE) -> dict[str, Any]:
    """The task: plan a chunked delivery run (through the bus: audited, one transaction)."""
    run_id = rt.bus.handle(c.PlanDeliveryRun(chunk_size), actor="jobs")
    with rt.engine.connect() as conn:
        return store.run_progress(conn, run_id)


def plan_delivery_run(cmd: c.PlanDeliveryRun, uow: UnitOfWork) -> int:
    """Split the deliveries due now into chunks of `chunk_size` and defer one
    `o2c.deliver_chunk` job per chunk, in this transaction. Idempotent: the run is keyed by
    its moment, and planning it again finds it."""
    if not 1 <= cmd.chunk_size <= 10000:
        raise InvalidInput("chunk_size must be between 1 and 10000", field="chunk_size")
    key = f"deliver_invoices:{uow.now.isoformat()}"
    run_id = store.find_run(uow.conn, key)
    if run_id is not None:
        return run_id
    ids = delivery_store.due_ids(uow.conn, uow.now)
    chunks = [ids[i:i + cmd.chunk_size] for i in range(0, len(ids), cmd.chunk_size)]
    run_id = store.create_run(uow.conn, "deliver_invoices", key, uow.now, chunks, uow.now)
    for n in range(len(chunks)):
        uow.defer("o2c.deliver_chunk", run_id=run_id, chunk=n)
    uow.extra_changes.append(("job_run", run_id, {"chunks": [None, len(chunks)]}))
    return run_id


def deliver_chunk(rt: Runtime, run_id: int, chunk: int) -> dict[str, Any]:
    """Deliver one chunk of a run. A chunk already done does nothing; rows a killed worker
    had claimed come back after their lease (the outbox), so a chunk run again completes."""
    with rt.engine.connect() as conn:
        try:
            ids, done = store.chunk_items(conn, run_id, chunk)
        except Exception as error:
            raise NotFound("job run chunk", f"{run_id}/{chunk}") from error
    if done:
        return {"already": True}
    result = documents.deliver(rt.engine, rt.clock, rt.mailer(), len(ids) or 1, ids=ids,
                               lease=rt.lease)
    counts = {key: len(getattr(result, key))
              for key in ("sent", "skipped", "retrying", "failed")}
    with UnitOfWork(rt.engine, rt.clock, "jobs") as uow:
        store.finish_chunk(uow.conn, run_id, chunk, counts, uow.now)
        uow.commit()
    return counts


def match_bank_lines(rt: Runtime, at: str | None = None) -> dict[str, Any]:
    """The daily matching run: proposals for every unmatched bank line booked by today
    (company time)."""
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(at) if at else rt.clock().astimezone(ZoneInfo(rt.timezone))
    result = rt.bus.handle(c.MatchBankLines(as_of=moment.date()), actor="jobs")
    return {"lines": result.lines, "auto": len(result.auto), "review": result.review,
            "unmatched": result.unmatched}


def task_specs(rt: Runtime, max_attempts: int = 6) -> list[TaskSpec]:
    def bind(function: Callable[..., Any]) -> Callable[..., Any]:
        def run(**kwargs: Any) -> Any:
            return function(rt, **kwargs)
        return run

    return [TaskSpec(name, bind(function), max_attempts=max_attempts, queue=queue)
            for name, function, queue in (
                ("o2c.deliver_invoice", deliver_invoice, "mail"),
                ("o2c.deliver_invoices", deliver_invoices, "mail"),
                ("o2c.deliver_run", deliver_run, "batch"),
                ("o2c.deliver_chunk", deliver_chunk, "batch"),
                ("o2c.match_bank_lines", match_bank_lines, "batch"))]


def job_engine(rt: Runtime, database_url: str, schedules: str = DEFAULT_SCHEDULES,
               max_attempts: int = 6, stalled_after_seconds: float = 30.0) -> JobEngine:
    planned: list[Schedule] = parse_schedules(schedules)

    def record_error(job_id: int, task: str, attempt: int, error: str) -> None:
        with UnitOfWork(rt.engine, rt.clock, "jobs") as uow:
            store.record_error(uow.conn, job_id, task, attempt, error, uow.now)
            uow.commit()

    engine = JobEngine(database_url, task_specs(rt, max_attempts), planned, rt.timezone,
                       record_error, stalled_after_seconds)
    rt.jobs = engine
    engine.runtime = rt
    return engine


# -- the failed-jobs view: retry, cancel (commands: audited like any other) -------------------


def _job_status(uow: UnitOfWork, job_id: int) -> str:
    status = None if uow.jobs is None else uow.jobs.status(uow.conn, job_id)
    if status is None:
        raise NotFound("job", job_id, field="job_id")
    return status


def retry_job(cmd: c.RetryJob, uow: UnitOfWork) -> int:
    """A failed job runs again at once (its attempts go on counting)."""
    status = _job_status(uow, cmd.job_id)
    if status != "failed":
        raise InvalidTransition("job", cmd.job_id, status, "retry")
    assert uow.jobs is not None
    uow.jobs.retry(uow.conn, cmd.job_id, uow.now)
    uow.extra_changes.append(("job", cmd.job_id, {"status": [status, "todo"]}))
    return cmd.job_id


def cancel_job(cmd: c.CancelJob, uow: UnitOfWork) -> int:
    """A job still waiting (or failed) will not run: waiting jobs are cancelled, failed ones
    stay failed and leave the list of those to act on."""
    status = _job_status(uow, cmd.job_id)
    if status not in ("todo", "failed"):
        raise InvalidTransition("job", cmd.job_id, status, "cancel")
    assert uow.jobs is not None
    if status == "todo":
        if not uow.jobs.cancel(uow.conn, cmd.job_id):
            raise InvalidTransition("job", cmd.job_id, status, "cancel")
    else:
        uow.jobs.dismiss(uow.conn, cmd.job_id)
    uow.extra_changes.append(("job", cmd.job_id, {"status": [status, "cancelled"]}))
    return cmd.job_id
