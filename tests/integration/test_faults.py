"""Crash-proven on PostgreSQL: a worker (`o2c worker`) and an API server (`o2c serve`), real
subprocesses, are killed with SIGKILL in the middle of their work. Nothing is lost, nothing
is done twice (no invoice posted twice; every invoice e-mailed, with one stable Message-ID
per invoice, so a resend after a crash is recognised by the receiver), and the books, stock,
numbering and audit chain verify."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.bootstrap import App, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.access import CreateToken, CreateUser
from o2c.services.audit import verify_audit
from tests.fixtures.smtp import Inbox, free_port
from tests.fixtures.world import World, build_world, line
from tests.integration.test_jobs import ON, clean_jobs, queued
from tests.services import support as s

pytestmark = pytest.mark.postgres

O2C = str(Path(sys.executable).parent / "o2c")


class SlowInbox(Inbox):
    """A mail server that takes its time over each message, so that a worker is killed
    while it has jobs in hand."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.25)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    clean_jobs(engine)
    yield engine
    engine.dispose()


def real_time_app(engine: Engine, url: str) -> App:
    """The subprocesses read the wall clock: so does the app that sets the scene."""
    return bootstrap(Settings(database_url=url, schedules="none"), engine=engine)


def environment(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
    env.update({"O2C_DATABASE_URL": url, "O2C_SECRET_KEY": os.environ["O2C_SECRET_KEY"],
                "O2C_SCHEDULES": "none", **extra})
    return env


def spawn(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([O2C, *args], env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def invoice_numbers_are_gapless(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        numbers = sorted(conn.execute(select(t.invoices.c.number).where(
            t.invoices.c.state == "posted")).scalars())
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequences == list(range(1, len(sequences) + 1)), numbers
    return numbers


def books_verify(engine: Engine) -> None:
    s.assert_ledger_ok(engine)
    audit = verify_audit(engine)
    assert audit.ok, audit.as_dict()


# -- a worker killed in the middle of its jobs -----------------------------------------------


def test_a_worker_killed_mid_job_loses_no_invoice_email_and_the_receiver_gets_each_once(
        pg_engine: Engine, pg_url: str, tmp_path: Path) -> None:
    engine = pg_engine
    app = real_time_app(engine, pg_url)
    world = build_world(app.bus)
    invoice_ids = [_invoice(app, world) for _ in range(12)]
    assert len(queued(engine, "o2c.deliver_invoice")) == 12  # enqueued with each posting
    inbox = SlowInbox()
    with smtp_server_with(inbox) as port:
        env = environment(pg_url, O2C_SMTP_HOST="127.0.0.1", O2C_SMTP_PORT=str(port),
                          O2C_JOB_STALLED_SECONDS="2", O2C_DELIVERY_LEASE_SECONDS="3")
        log = tmp_path / "worker.log"
        first = spawn("worker", "--concurrency", "2", env=env, log=log)
        try:
            wait_until(lambda: len(inbox.messages) >= 3, 120, "the first e-mails")
        finally:
            kill(first)
        in_hand = [j for j in queued(engine) if j["status"] == "doing"]
        sent_before = len(inbox.messages)
        assert sent_before < 12, "the worker finished before it was killed"
        time.sleep(4)  # the dead worker's heartbeat and its e-mail leases run out
        second = spawn("worker", "--once", env=env, log=log)
        assert second.wait(timeout=180) == 0, log.read_text()[-3000:]
        # the every-minute schedule's sweep, run once here: rows whose job ran while the
        # dead worker's lease still held them are delivered now
        app.jobs.defer("o2c.deliver_invoices")
        sweep = spawn("worker", "--once", env=env, log=log)
        assert sweep.wait(timeout=180) == 0, log.read_text()[-3000:]
    numbers = invoice_numbers_are_gapless(engine)
    by_id = Counter(str(m["Message-ID"]) for m in inbox.messages)
    expected = {f"<{number}.{invoice_id}@o2c.invoices>"
                for number, invoice_id in zip(numbers, sorted(invoice_ids), strict=True)}
    assert set(by_id) == expected  # every invoice received, under its own stable id
    duplicates = sum(by_id.values()) - len(by_id)
    assert duplicates <= len(in_hand)  # only a message in hand at the kill can come again
    with engine.connect() as conn:
        statuses = conn.execute(select(t.invoice_deliveries.c.status)).scalars().all()
        assert sorted(statuses) == ["sent"] * 12
        assert conn.execute(select(func.count()).select_from(t.outbox).where(
            t.outbox.c.delivered_at.is_(None))).scalar_one() == 0
    assert not [j for j in queued(engine) if j["status"] in ("todo", "doing", "failed")]
    print(f"killed with {len(in_hand)} jobs in hand after {sent_before} e-mails; "
          f"{duplicates} resent with the same Message-ID")
    books_verify(engine)


def _invoice(app: App, world: World) -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"],
                                            [line(world.products["CHAIR"], 1)], order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [found] = s.invoices_of_order(app.engine, order_id)
    return int(found["id"])


class smtp_server_with:  # noqa: N801 - a context manager used like a function
    """tests.fixtures.smtp's real server with another handler."""

    def __init__(self, handler: Inbox) -> None:
        self.handler = handler

    def __enter__(self) -> int:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self.port

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


# -- an API server killed in the middle of requests --------------------------------------------


def test_an_api_server_killed_mid_requests_posts_each_invoice_once_when_clients_retry(
        pg_engine: Engine, pg_url: str, tmp_path: Path) -> None:
    engine = pg_engine
    app = real_time_app(engine, pg_url)
    world = build_world(app.bus)
    chair = world.products["CHAIR"]
    on_hand_before = s.stock(engine, chair)[0]
    shipments = []
    for _ in range(16):
        order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], [line(chair, 1)],
                                                order_date=ON))
        [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
        app.bus.handle(c.PickShipment(shipment_id, on=ON))
        app.bus.handle(c.PackShipment(shipment_id, on=ON))
        shipments.append(shipment_id)
    app.bus.handle(CreateUser("ops", None, "admin"))
    token = app.bus.handle(CreateToken("ops", "fault test")).secret
    port = free_port()
    env = environment(pg_url, O2C_INPROCESS_WORKER="0")
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}

    def start() -> subprocess.Popen[bytes]:
        server = spawn("serve", "--port", str(port), env=env, log=log)
        wait_until(lambda: _alive(base), 60, "the server")
        return server

    def ship(shipment_id: int) -> int | None:
        try:
            response = httpx.post(f"{base}/api/v1/shipments/{shipment_id}/ship",
                                  headers={**headers, "Idempotency-Key": f"ship-{shipment_id}"},
                                  timeout=30)
        except httpx.HTTPError:
            return None  # the server died under this request: the client will retry
        return response.status_code

    server = start()
    answered: list[int | None] = []
    threads = [threading.Thread(target=lambda sid=sid: answered.append(ship(sid)))
               for sid in shipments]
    try:
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        wait_until(lambda: sum(1 for a in answered if a == 200) >= 3, 120, "some shipments")
    finally:
        kill(server)
    for thread in threads:
        thread.join(timeout=60)
    lost = sum(1 for a in answered if a != 200)
    assert lost, "every request finished before the kill"
    server = start()
    try:
        retried = [ship(sid) for sid in shipments]  # every client retries with its key
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert retried == [200] * len(shipments), log.read_text()[-3000:]
    with engine.connect() as conn:
        per_shipment = Counter(conn.execute(select(t.invoices.c.shipment_id).where(
            t.invoices.c.shipment_id.in_(shipments))).scalars())
        states = set(conn.execute(select(t.shipments.c.state).where(
            t.shipments.c.id.in_(shipments))).scalars())
        posted_outbox = conn.execute(select(func.count()).select_from(t.outbox).where(
            t.outbox.c.topic == "invoice.posted")).scalar_one()
        jobs = conn.execute(text("SELECT args->>'key', count(*) FROM procrastinate_jobs "
                                 "WHERE task_name = 'o2c.deliver_invoice' GROUP BY 1")).all()
    assert per_shipment == dict.fromkeys(shipments, 1)  # one invoice per shipment, no more
    assert states == {"shipped"}
    assert posted_outbox == len(shipments)
    assert len(jobs) == len(shipments) and {n for _, n in jobs} == {1}  # one job each
    invoice_numbers_are_gapless(engine)
    on_hand, reserved = s.stock(engine, chair)
    assert on_hand == on_hand_before - Decimal(len(shipments)) and reserved == 0
    print(f"{lost} of {len(shipments)} requests were cut by the kill; all retried once")
    books_verify(engine)


def _alive(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
