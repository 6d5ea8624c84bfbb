"""Background jobs on procrastinate: enqueued in the command's transaction (PostgreSQL), run by
workers (any number) or in-process (SQLite), idempotent, chunked, failed ones retried or
cancelled through commands."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select, text

from o2c.adapters.db import documents as delivery
from o2c.adapters.db import jobs as job_store
from o2c.adapters.db import tables as t
from o2c.adapters.jobs import JobEngine, Schedule, TaskSpec, parse_schedules, utc_cron
from o2c.bootstrap import App, SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.errors import InvalidTransition, NotFound
from o2c.services import jobs as service
from o2c.services.uow import UnitOfWork
from tests.fixtures.smtp import smtp_server
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

ON = date(2026, 3, 2)
PROCRASTINATE_TABLES = ("procrastinate_events, procrastinate_periodic_defers, "
                        "procrastinate_jobs, procrastinate_workers")


def clean_jobs(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {PROCRASTINATE_TABLES} RESTART IDENTITY CASCADE"))


def jobs_app(engine: Engine, url: str, clock: SettableClock, **settings: object) -> App:
    return bootstrap(Settings(database_url=url, schedules="none", **settings),  # type: ignore[arg-type]
                     engine=engine, clock=clock)


@pytest.fixture
def japp(any_engine: Engine, any_db_url: str, clock: SettableClock) -> Iterator[App]:
    clean_jobs(any_engine)
    app = jobs_app(any_engine, any_db_url, clock)
    yield app
    app.jobs.stop()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with smtp_server() as (inbox, port):
        monkeypatch.setenv("O2C_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("O2C_SMTP_PORT", str(port))
        yield inbox


def invoice(app: App, world: World, customer: str = "rossi") -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer],
                                            [line(world.products["CHAIR"], 1)], order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [found] = s.invoices_of_order(app.engine, order_id)
    return int(found["id"])


def queued(engine: Engine, task: str | None = None) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, task_name, status::text AS status, args "
                                 "FROM procrastinate_jobs ORDER BY id")).mappings().all()
    return [dict(r) for r in rows if task is None or r["task_name"] == task]


def wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


# -- enqueued with the command ------------------------------------------------------------------


@pytest.mark.postgres
def test_posting_an_invoice_enqueues_its_delivery_job_in_the_same_transaction(
        pg_url: str, clock: SettableClock) -> None:
    from o2c.adapters.db.engine import make_engine

    engine = make_engine(pg_url)
    try:
        clean_jobs(engine)
        app = jobs_app(engine, pg_url, clock)
        world = build_world(app.bus)
        invoice_id = invoice(app, world)
        [job] = queued(engine, "o2c.deliver_invoice")
        assert job["args"] == {"key": f"invoice.posted:{invoice_id}"}
        assert job["status"] == "todo"
        # a unit of work that defers and then rolls back leaves no job behind
        with UnitOfWork(engine, app.clock, "test", app.jobs) as uow:
            uow.defer("o2c.deliver_invoice", key="rolled-back")
            assert len(queued(engine)) == 1  # not visible outside the transaction
        assert [j["args"] for j in queued(engine)] == [job["args"]]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_posting_leaves_the_email_to_the_schedule_when_delivery_on_post_is_off(
        pg_url: str, clock: SettableClock) -> None:
    from o2c.adapters.db.engine import make_engine

    engine = make_engine(pg_url)
    try:
        clean_jobs(engine)
        app = jobs_app(engine, pg_url, clock, deliver_on_post=False)
        invoice_id = invoice(app, build_world(app.bus))
        assert queued(engine) == []
        with engine.connect() as conn:  # the outbox row is there for the sweep
            assert delivery.due_ids(conn, clock()) != []
        assert invoice_id
    finally:
        engine.dispose()


def test_a_worker_mails_a_posted_invoice_once_on_either_database(
        japp: App, smtp: object) -> None:
    world = build_world(japp.bus)
    if japp.jobs.postgres:
        invoice_id = invoice(japp, world)
        japp.jobs.run_worker(wait=False)
        japp.jobs.run_worker(wait=False)  # nothing left: nothing sent again
    else:
        japp.jobs.start_in_background()
        invoice_id = invoice(japp, world)  # handed to the in-process worker after commit
        wait_for(lambda: _status(japp, invoice_id) == "sent")
        japp.jobs.stop()
    assert len(smtp.messages) == 1  # type: ignore[attr-defined]
    with japp.engine.connect() as conn:
        assert delivery.delivery_status(conn, invoice_id) == "sent"


def _status(app: App, invoice_id: int) -> str | None:
    with app.engine.connect() as conn:
        return delivery.delivery_status(conn, invoice_id)


# -- chunked runs ---------------------------------------------------------------------------


def _backlog(app: App, count: int) -> set[str]:
    world = build_world(app.bus)
    numbers = set()
    for _ in range(count):
        invoice_id = invoice(app, world)
        numbers.add(str(s.row(app.engine, t.invoices, invoice_id)["number"]))
    clean_jobs(app.engine)  # only the run's chunks deliver, below
    return numbers


def _run_chunks(app: App, workers: int) -> dict[str, object]:
    progress = service.deliver_run(service_runtime(app), chunk_size=3)
    if app.jobs.postgres:
        threads = [threading.Thread(target=lambda: jobs_worker(app).run_worker(wait=False))
                   for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    else:  # SQLite: the chunks run one after the other, in this process
        for chunk in range(int(progress["chunks"])):  # type: ignore[call-overload]
            service.deliver_chunk(service_runtime(app), int(progress["id"]), chunk)  # type: ignore[call-overload]
    with app.engine.connect() as conn:
        return job_store.run_progress(conn, int(progress["id"]))  # type: ignore[call-overload]


def service_runtime(app: App) -> service.Runtime:
    runtime = app.jobs.runtime
    assert isinstance(runtime, service.Runtime)
    return runtime


def jobs_worker(app: App) -> JobEngine:
    """Another worker process's engine: same tasks, its own connections."""
    other = bootstrap(app.settings, engine=app.engine, clock=app.clock)
    return other.jobs


@pytest.mark.parametrize("workers", [1, 3])
def test_a_large_delivery_run_in_chunks_mails_every_invoice_once_whatever_the_workers(
        japp: App, smtp: object, workers: int) -> None:
    numbers = _backlog(japp, 8)
    progress = _run_chunks(japp, workers)
    assert progress["chunks"] == 3 and progress["chunks_done"] == 3
    assert progress["progress"] == 1.0
    assert progress["totals"] == {"sent": 8, "skipped": 0, "retrying": 0, "failed": 0}
    subjects = Counter(m["Subject"].split(" ")[1] for m in smtp.messages)  # type: ignore[attr-defined]
    assert set(subjects) == numbers and set(subjects.values()) == {1}
    # planning the same run again finds it: nothing new is queued or sent
    again = service.deliver_run(service_runtime(japp), chunk_size=3)
    assert again["id"] == progress["id"] and again["chunks_done"] == 3


# -- failed jobs: listed with their error, retried or cancelled ------------------------------


def test_a_failed_job_is_listed_with_its_error_and_can_be_retried_then_cancelled(
        any_engine: Engine, any_db_url: str, clock: SettableClock) -> None:
    clean_jobs(any_engine)
    app = jobs_app(any_engine, any_db_url, clock, job_max_attempts=1)
    build_world(app.bus)
    try:
        if app.jobs.postgres:
            app.jobs.defer("o2c.deliver_chunk", run_id=999, chunk=0)
            app.jobs.run_worker(wait=False)
        else:
            app.jobs.start_in_background()
            app.jobs.defer("o2c.deliver_chunk", run_id=999, chunk=0)
            wait_for(lambda: app.jobs.in_memory_jobs("failed"))
        with app.engine.connect() as conn:
            [failed], total = app.jobs.list_jobs(conn, "failed", 50, 0)
        assert total == 1 and failed.task == "o2c.deliver_chunk"
        assert "job run chunk" in failed.error and "999/0" in failed.error
        app.jobs.stop()  # SQLite: the in-process worker would run it again at once
        app.bus.handle(c.RetryJob(failed.id), actor="ops")
        with app.engine.connect() as conn:
            assert app.jobs.status(conn, failed.id) == "todo"
        with pytest.raises(InvalidTransition):  # only a failed job is retried
            app.bus.handle(c.RetryJob(failed.id), actor="ops")
        app.bus.handle(c.CancelJob(failed.id), actor="ops")
        with app.engine.connect() as conn:
            assert app.jobs.status(conn, failed.id) == "cancelled"
            assert app.jobs.list_jobs(conn, "failed", 50, 0) == ([], 0)
        with pytest.raises(InvalidTransition):
            app.bus.handle(c.CancelJob(failed.id), actor="ops")
        with pytest.raises(NotFound):
            app.bus.handle(c.CancelJob(424242), actor="ops")
    finally:
        app.jobs.stop()


# -- schedules ----------------------------------------------------------------------------------


def test_schedules_are_configuration_and_run_in_company_time() -> None:
    [deliver, daily] = parse_schedules(service.DEFAULT_SCHEDULES)
    assert (deliver.task, deliver.cron) == ("o2c.deliver_invoices", "* * * * *")
    assert (daily.task, daily.cron) == ("o2c.match_bank_lines", "0 6 * * *")
    assert utc_cron("0 6 * * *") == "0 * * * *"
    assert parse_schedules("none") == []
    with pytest.raises(ValueError):
        parse_schedules("broken=o2c.x@not a cron")


def test_the_daily_run_fires_at_six_company_time_in_winter_and_summer() -> None:
    fired: list[str] = []
    engine = JobEngine("sqlite://", [TaskSpec("t.daily", lambda at: fired.append(at))],
                       [Schedule("daily", "t.daily", "0 6 * * *")], "Europe/Rome")
    fire = engine.app.tasks["o2c.schedule.daily"].func
    for moment in (datetime(2026, 1, 15, 5, 0, tzinfo=UTC),  # 06:00 in Rome (CET)
                   datetime(2026, 1, 15, 6, 0, tzinfo=UTC),  # 07:00: not yet again
                   datetime(2026, 7, 15, 4, 0, tzinfo=UTC),  # 06:00 in Rome (CEST)
                   datetime(2026, 7, 15, 5, 0, tzinfo=UTC)):
        fire(timestamp=int(moment.timestamp()))
    assert fired == ["2026-01-15T06:00:00+01:00", "2026-07-15T06:00:00+02:00"]


def test_outbox_rows_a_job_stands_for_are_claimed_by_one_worker_only(
        japp: App) -> None:
    world = build_world(japp.bus)
    invoice_id = invoice(japp, world)
    key = f"invoice.posted:{invoice_id}"
    with japp.engine.begin() as conn:
        first = delivery.claim_due(conn, japp.clock(), 10, keys=[key])
        second = delivery.claim_due(conn, japp.clock(), 10, keys=[key])
    assert [claim.invoice_id for claim in first] == [invoice_id] and second == []
    with japp.engine.connect() as conn:
        assert conn.execute(select(t.outbox.c.attempts)).scalar() == 1
