"""Background jobs on Procrastinate (PostgreSQL-native: SKIP LOCKED, LISTEN/NOTIFY, periodic
tasks, retries). docs/jobs.md says why this engine and how o2c uses it.

* PostgreSQL: jobs live in procrastinate's tables in o2c's own database (migration 0015
  applies its schema). A command defers a job on the connection of its unit of work, so the
  job commits, or rolls back, with the command (`TransactionConnector`). `o2c worker` runs
  procrastinate's worker; any number of them share the queue.
* SQLite (the default, `make run`): the same tasks run in-process on procrastinate's
  in-memory connector, with the same schedules and retries, and no other server. Jobs
  deferred by a command are handed over after its commit. Nothing is lost if the process
  stops: the work a job stands for is recorded in the database (the outbox), and the
  schedules pick it up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, LiteralString
from zoneinfo import ZoneInfo

import procrastinate
import procrastinate.tasks
from croniter import croniter
from procrastinate import connector as base
from procrastinate import exceptions, testing
from procrastinate.manager import JobManager
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from o2c.adapters import logs

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
# A worker that sent no heartbeat for this long is taken for dead; its jobs are run again.
STALLED_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class TaskSpec:
    """A task o2c runs in the background: `run(**kwargs)` must be idempotent (a job may run
    more than once: retried after an error, or again after its worker died)."""

    name: str
    run: Callable[..., Any]
    max_attempts: int = 6
    backoff_seconds: int = 2  # waits 2, 4, 8, 16... seconds between attempts
    queue: str = DEFAULT_QUEUE


@dataclass(frozen=True)
class Schedule:
    """A periodic run of a task, its cron expression in the company's time zone. The task is
    called with `at`, the scheduled moment in company time (ISO 8601)."""

    name: str
    task: str
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def parse_schedules(text: str) -> list[Schedule]:
    """`name=task@cron;...` as in O2C_SCHEDULES, e.g.
    `deliver=o2c.deliver_invoices@* * * * *;matching=o2c.match_bank_lines@0 6 * * *`;
    `none` for no schedule at all."""
    schedules: list[Schedule] = []
    if text.strip() == "none":
        return schedules
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, rest = part.partition("=")
        task, _, cron = rest.partition("@")
        if not (name and task and cron) or not croniter.is_valid(cron.strip()):
            raise ValueError(f"not a schedule: {part!r} (name=task@cron)")
        schedules.append(Schedule(name.strip(), task.strip(), cron.strip()))
    return schedules


def utc_cron(cron: str) -> str:
    """procrastinate reads crons in UTC. The job is deferred every time the minute field
    matches, and runs its task only when the whole expression matches in the company's time
    zone (so "0 6 * * *" is 06:00 company time, summer and winter; zones whose offset is a
    whole number of hours, as every zone o2c's companies are in)."""
    return f"{cron.split()[0]} * * * *"


@dataclass
class JobRow:
    id: int
    task: str
    status: str
    queue: str
    attempts: int
    scheduled_at: datetime | None
    args: dict[str, Any]
    error: str = ""


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Jsonb(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_wrap(item) for item in value)
    return value


class TransactionConnector(base.BaseConnector):
    """procrastinate's synchronous queries on one SQLAlchemy connection (psycopg 3), in
    whatever transaction it has open: a job deferred here commits with the command."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_sync_connector(self) -> base.BaseConnector:
        return self

    def open(self, pool: Any = None) -> None:
        pass

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        with raw.cursor(row_factory=dict_row) as cursor:
            yield cursor

    def execute_query(self, query: LiteralString, **arguments: Any) -> None:
        with self._cursor() as cursor:
            cursor.execute(query, {k: _wrap(v) for k, v in arguments.items()})

    def execute_query_one(self, query: LiteralString, **arguments: Any) -> dict[str, Any]:
        with self._cursor() as cursor:
            cursor.execute(query, {k: _wrap(v) for k, v in arguments.items()})
            row = cursor.fetchone()
        if row is None:
            raise exceptions.NoResult
        return dict(row)

    def execute_query_all(self, query: LiteralString, **arguments: Any
                          ) -> list[dict[str, Any]]:
        with self._cursor() as cursor:
            cursor.execute(query, {k: _wrap(v) for k, v in arguments.items()})
            return [dict(row) for row in cursor.fetchall()]


def conninfo(database_url: str) -> str:
    """The libpq address of a SQLAlchemy URL (postgresql+psycopg://... -> postgresql://...)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


ErrorRecorder = Callable[[int, str, int, str], None]


class JobEngine:
    """o2c's tasks and schedules registered on one procrastinate App."""

    def __init__(self, database_url: str, tasks: list[TaskSpec], schedules: list[Schedule],
                 timezone: str = "UTC", record_error: ErrorRecorder | None = None,
                 stalled_after_seconds: float = STALLED_AFTER_SECONDS) -> None:
        self.stalled_after = stalled_after_seconds
        self.postgres = database_url.startswith("postgresql")
        self.timezone = ZoneInfo(timezone)
        self.record_error = record_error
        self.runtime: object = None  # what the tasks were bound to (services.jobs.Runtime)
        # tasks that commands do not enqueue (their work is left to a schedule's sweep)
        self.not_deferred: frozenset[str] = frozenset()
        connector: base.BaseConnector = (
            procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
            if self.postgres else testing.InMemoryConnector())
        self.app = procrastinate.App(connector=connector)
        self.specs = {spec.name: spec for spec in tasks}
        self.schedules = schedules
        for spec in tasks:
            self._register(spec)
        for schedule in schedules:
            self._register_schedule(schedule)
        if self.postgres:
            self._register_stalled_sweep()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- registration ----------------------------------------------------------------------

    def _retry(self, spec: TaskSpec) -> procrastinate.RetryStrategy | bool:
        # procrastinate's max_attempts counts the retries after the first attempt
        if spec.max_attempts <= 1:
            return False
        return procrastinate.RetryStrategy(max_attempts=spec.max_attempts - 1,
                                           exponential_wait=spec.backoff_seconds)

    def _register(self, spec: TaskSpec) -> None:
        def run(context: procrastinate.JobContext, /, **kwargs: Any) -> Any:
            job = context.job
            token = logs.job.set(f"{spec.name}#{job.id}")  # on every log line of the job
            try:
                return spec.run(**kwargs)
            except Exception as error:
                log.warning("job %s (%s) attempt %d failed: %s", job.id, spec.name,
                            job.attempts + 1, error)
                if self.record_error is not None and job.id is not None:
                    self.record_error(job.id, spec.name, job.attempts + 1,
                                      f"{type(error).__name__}: {error}")
                raise
            finally:
                logs.job.reset(token)

        run.__name__ = spec.name.replace(".", "_")
        self.app.task(name=spec.name, queue=spec.queue, retry=self._retry(spec),
                      pass_context=True)(run)

    def _register_schedule(self, schedule: Schedule) -> None:
        spec = self.specs[schedule.task]
        local = self.timezone

        def fire(timestamp: int) -> Any:
            moment = datetime.fromtimestamp(timestamp, UTC).astimezone(local)
            if not croniter.match(schedule.cron, moment.replace(tzinfo=None)):
                return None
            return spec.run(**schedule.kwargs, at=moment.isoformat())

        name = f"o2c.schedule.{schedule.name}"
        fire.__name__ = name.replace(".", "_")
        task = self.app.task(name=name, queue=spec.queue, retry=self._retry(spec))(fire)
        self.app.periodic(cron=utc_cron(schedule.cron), periodic_id=schedule.name)(task)

    async def retry_stalled(self) -> int:
        """Jobs of workers that stopped sending heartbeats (killed, machine lost) are put
        back in the queue."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.stalled_after))
        for job in stalled:
            log.warning("job %s (%s) was stalled on a dead worker: retried", job.id,
                        job.task_name)
            await manager.retry_job(job)
        return len(stalled)

    def _register_stalled_sweep(self) -> None:
        async def retry_stalled_jobs(timestamp: int) -> int:
            return await self.retry_stalled()

        task = self.app.task(name="o2c.retry_stalled_jobs", queue=DEFAULT_QUEUE)(
            retry_stalled_jobs)
        self.app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")(task)

    @property
    def running(self) -> bool:
        """An in-process worker runs in this process (SQLite)."""
        return self._loop is not None

    # -- deferring -------------------------------------------------------------------------

    def defer_in(self, conn: Connection, task: str, **kwargs: Any) -> int | None:
        """Enqueue `task` on `conn`, in its open transaction (PostgreSQL only)."""
        if not self.postgres:
            raise RuntimeError("jobs are deferred in the transaction on PostgreSQL only")
        manager = JobManager(TransactionConnector(conn))
        deferrer = procrastinate.tasks.configure_task(
            name=task, job_manager=manager, queue=self.specs[task].queue)
        return deferrer.defer(**kwargs)

    def defer(self, task: str, **kwargs: Any) -> int:
        """Enqueue `task` now, in its own transaction (SQLite: to the in-process worker)."""
        if self.postgres:
            with self.app.open():
                return self.app.configure_task(task, queue=self.specs[task].queue).defer(
                    **kwargs)
        if self._loop is not None:
            future = asyncio.run_coroutine_threadsafe(
                self.app.configure_task(task, queue=self.specs[task].queue).defer_async(
                    **kwargs), self._loop)
            return future.result(timeout=10)
        return asyncio.run(self.app.configure_task(
            task, queue=self.specs[task].queue).defer_async(**kwargs))

    # -- running ---------------------------------------------------------------------------

    def run_worker(self, concurrency: int = 1, queues: list[str] | None = None,
                   wait: bool = True) -> None:
        """Run a worker in the foreground until interrupted (or, wait=False, until the queue
        is empty)."""
        asyncio.run(self._work(concurrency, queues, wait, install_signal_handlers=True))

    async def _work(self, concurrency: int, queues: list[str] | None, wait: bool,
                    install_signal_handlers: bool) -> None:
        async with self.app.open_async():
            if self.postgres:  # a worker that starts picks up what dead ones left
                await self.retry_stalled()
            await self.app.run_worker_async(
                concurrency=concurrency, wait=wait, queues=queues,  # type: ignore[arg-type]
                install_signal_handlers=install_signal_handlers,
                fetch_job_polling_interval=1.0 if self.postgres else 0.5,
                update_heartbeat_interval=min(5.0, self.stalled_after / 3),
                stalled_worker_timeout=self.stalled_after,
                shutdown_graceful_timeout=10.0,
                # a job that succeeded leaves nothing to act on: its row goes (the work it
                # did is in o2c's own tables); failed ones stay for the failed-jobs view
                delete_jobs="successful")

    def start_in_background(self, concurrency: int = 1) -> None:
        """The in-process worker of a single server (SQLite default): a thread with its own
        event loop, stopped by `stop()`."""
        if self._thread is not None:
            return
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def serve() -> None:
                task = asyncio.ensure_future(self._work(concurrency, None, True, False))
                ready.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

            self._main = loop.create_task(serve())
            loop.run_until_complete(self._main)
            loop.close()

        self._thread = threading.Thread(target=main, name="o2c-jobs", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(self._cancel_all)
        thread.join(timeout=15)
        self._thread = self._loop = None

    def _cancel_all(self) -> None:
        assert self._loop is not None
        for task in asyncio.all_tasks(self._loop):
            task.cancel()

    # -- operations: list, retry, cancel ---------------------------------------------------

    def _manager(self, conn: Connection | None) -> JobManager:
        if self.postgres:
            assert conn is not None
            return JobManager(TransactionConnector(conn))
        return self.app.job_manager

    def in_memory_jobs(self, status: str | None = None) -> list[JobRow]:
        """SQLite: the jobs the in-process worker knows (since the process started)."""
        assert not self.postgres
        connector = self.app.connector
        assert isinstance(connector, testing.InMemoryConnector)
        rows = [row for row in connector.jobs.values()
                if status is None or row["status"] == status]
        return [JobRow(int(r["id"]), r["task_name"], r["status"], r["queue_name"],
                       int(r["attempts"]), r["scheduled_at"], dict(r["args"]))
                for r in sorted(rows, key=lambda r: -int(r["id"]))]

    def status(self, conn: Connection | None, job_id: int) -> str | None:
        try:
            return str(self._manager(conn).get_job_status(job_id).value)
        except exceptions.NoResult:
            return None
        except KeyError:  # the in-memory connector's unknown id
            return None

    def list_jobs(self, conn: Connection, status: str | None, limit: int, offset: int
                  ) -> tuple[list[JobRow], int]:
        """Jobs, newest first, with the last error recorded for each."""
        if self.postgres:
            from o2c.adapters.db import jobs as store

            rows, total = store.list_jobs(conn, status, limit, offset)
            found = [JobRow(int(r["id"]), r["task_name"], r["status"], r["queue_name"],
                            int(r["attempts"]), r["scheduled_at"], dict(r["args"] or {}))
                     for r in rows]
        else:
            every = self.in_memory_jobs(status)
            total, found = len(every), every[offset:offset + limit]
        from o2c.adapters.db import jobs as store

        errors = store.last_errors(conn, [job.id for job in found])
        for job in found:
            job.error = errors.get(job.id, "")
        return found, total

    def retry(self, conn: Connection | None, job_id: int, now: datetime) -> None:
        self._manager(conn).retry_job_by_id(job_id, retry_at=now)

    def dismiss(self, conn: Connection | None, job_id: int) -> None:
        """A failed job is given up: cancelled, so it leaves the failed list."""
        if self.postgres:
            from o2c.adapters.db import jobs as store

            assert conn is not None
            store.dismiss_failed(conn, job_id)
            return
        connector = self.app.connector
        assert isinstance(connector, testing.InMemoryConnector)
        connector.jobs[job_id]["status"] = "cancelled"

    def cancel(self, conn: Connection | None, job_id: int) -> bool:
        return bool(self._manager(conn).cancel_job_by_id(job_id))


def apply_schema_sql() -> str:
    """procrastinate's schema as shipped with the installed version (migration 0015)."""
    return procrastinate.schema.SchemaManager.get_schema()


__all__ = ["Engine", "JobEngine", "JobRow", "Schedule", "TaskSpec", "TransactionConnector",
           "parse_schedules"]
