"""The audit trail on SQLite and PostgreSQL: one hash-chained record per command, written in
the command's transaction; `o2c audit verify` names the first record tampered with raw SQL;
concurrent commands still chain; the application role cannot UPDATE or DELETE audit and ledger
rows on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from o2c.adapters.db import security as db
from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.bootstrap import App, SettableClock, bootstrap
from o2c.cli import app as cli_app
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.access import Principal, Role
from o2c.domain.audit import PERSONAL
from o2c.domain.errors import InvalidTransition
from o2c.services.audit import verify_audit
from tests.conftest import START
from tests.fixtures.security import audit_rows, invoiced, user
from tests.fixtures.world import World, build_world, line

D = Decimal


@pytest.fixture
def world(any_app: App) -> World:
    return build_world(any_app.bus)


def test_every_command_leaves_one_chained_record_with_actor_role_request_and_changes(
        any_app: App, world: World) -> None:
    sales = user(any_app.bus, "sara", Role.SALES)
    before = len(audit_rows(any_app.engine))
    order_id = any_app.bus.execute(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2),)), principal=sales, request_id="req-1").result
    any_app.bus.execute(c.CancelOrder(order_id, "customer changed their mind"),
                        principal=sales, request_id="req-2")
    created, cancelled = audit_rows(any_app.engine)[before:]
    assert (created["actor"], created["role"], created["request_id"]) == \
        ("sara", "sales", "req-1")
    assert (created["command"], created["object_type"], created["object_id"]) == \
        ("CreateOrder", "order", order_id)
    assert {"object": "order", "id": order_id, "created": True} in created["changes"]
    assert cancelled["reason"] == "customer changed their mind"
    [change] = [ch for ch in cancelled["changes"] if ch["object"] == "order"]
    assert change["fields"]["state"] == ["draft", "cancelled"]
    assert cancelled["prev_hash"] == created["hash"]
    assert cancelled["seq"] == created["seq"] + 1
    assert verify_audit(any_app.engine).ok


def test_a_refused_command_leaves_no_audit_record(any_app: App, world: World) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 1),)))
    any_app.bus.handle(c.CancelOrder(order_id, "first"))
    before = len(audit_rows(any_app.engine))
    with pytest.raises(InvalidTransition):
        any_app.bus.handle(c.CancelOrder(order_id, "again"))
    assert len(audit_rows(any_app.engine)) == before


def test_personal_values_are_kept_beside_the_chain_not_in_it(any_app: App,
                                                            world: World) -> None:
    rossi = world.customers["rossi"]
    any_app.bus.handle(c.UpdateCustomer(rossi, {"email": "new@rossi.example",
                                                "credit_blocked": True}))
    record = audit_rows(any_app.engine)[-1]
    [change] = record["changes"]  # type: ignore[misc]
    assert change["fields"]["email"] == PERSONAL
    assert change["fields"]["credit_blocked"] == [False, True]
    assert "new@rossi.example" not in str(record)
    with any_app.engine.connect() as conn:
        [side] = conn.execute(select(t.audit_personal_data.c.data).where(
            t.audit_personal_data.c.audit_seq == record["seq"])).scalars().all()
    assert side == {"email": ["ap@rossi.example", "new@rossi.example"]}


def test_a_new_customer_is_recorded_with_its_credit_terms_and_without_its_identity(
        any_app: App, world: World) -> None:
    record = next(r for r in reversed(audit_rows(any_app.engine))
                  if r["command"] == "CreateCustomer")
    [created] = [ch for ch in record["changes"] if ch["object"] == "customer"]  # type: ignore[union-attr]
    values = created["created"]
    assert D(values["credit_limit"]) == D(10000) and values["currency"] == "USD"
    assert values["name"] == values["vat_id"] == PERSONAL
    assert "Smith" not in str(record)


def _invoke(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["--database-url", url, *args])
    return result.exit_code, result.stdout + result.stderr


def test_audit_verify_names_the_first_record_changed_with_raw_sql(
        any_app: App, any_db_url: str, world: World) -> None:
    invoiced(any_app.bus, any_app.engine, world)
    code, out = _invoke(any_db_url, "audit", "verify")
    assert code == 0 and "chain intact" in out
    victim = audit_rows(any_app.engine)[5]
    with any_app.engine.begin() as conn:  # an owner with UPDATE rights tampers a record
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == victim["seq"])
                     .values(actor="mallory"))
    code, out = _invoke(any_db_url, "audit", "verify")
    assert code == 1
    assert f"BROKEN at record seq {victim['seq']}" in out
    code, out = _invoke(any_db_url, "audit", "verify", "--json")
    assert code == 1 and f'"first_broken_seq": {victim["seq"]}' in out


def test_records_removed_from_the_end_are_noticed(any_app: App, world: World) -> None:
    invoiced(any_app.bus, any_app.engine, world)
    last = audit_rows(any_app.engine)[-1]
    with any_app.engine.begin() as conn:
        conn.execute(t.audit_log.delete().where(t.audit_log.c.seq == last["seq"]))
    result = verify_audit(any_app.engine)
    assert not result.ok and result.broken is not None
    assert result.broken.seq == last["seq"] and "removed" in result.broken.reason


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_concurrent_commands_chain_in_commit_order(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        app = bootstrap(Settings(database_url=pg_url), engine=engine,
                        clock=SettableClock(START))
        world = build_world(app.bus)
        threads, errors = 16, list[BaseException]()
        barrier = threading.Barrier(threads)

        def worker(index: int) -> None:
            bus = bootstrap(app.settings, engine=engine, clock=app.clock).bus
            try:
                barrier.wait(timeout=60)
                for _ in range(5):
                    order_id = bus.handle(c.CreateOrder(world.customers["dupont"], (
                        line(world.products["BOOK"], 1),)), actor=f"thread-{index}")
                    bus.handle(c.ConfirmOrder(order_id), actor=f"thread-{index}")
            except BaseException as error:
                errors.append(error)

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=240)
        assert errors == []
        result = verify_audit(engine)
        assert result.ok, result.broken
        with engine.connect() as conn:
            seqs = conn.execute(select(t.audit_log.c.seq).order_by(t.audit_log.c.seq)
                                ).scalars().all()
        assert seqs == list(range(1, len(seqs) + 1))
        assert result.records == len(seqs) >= threads * 10
    finally:
        engine.dispose()


@pytest.fixture
def app_role(pg_url: str) -> Iterator[str]:
    """A uniquely named login-less role, granted like the application role; dropped after."""
    role = f"o2c_app_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        yield role
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


@pytest.mark.postgres
def test_the_application_role_cannot_update_or_delete_audit_and_ledger_rows(
        pg_url: str, app_role: str) -> None:
    engine = make_engine(pg_url)
    try:
        code, out = _invoke(pg_url, "db", "grant-app-role", app_role)
        assert code == 0, out
        app = bootstrap(Settings(database_url=pg_url), engine=engine,
                        clock=SettableClock(START))
        world = build_world(app.bus)
        invoiced(app.bus, engine, world)
        for statement in ["UPDATE audit_log SET actor = 'mallory'",
                          "DELETE FROM audit_log",
                          "UPDATE journal_lines SET debit = debit + 1",
                          "DELETE FROM journal_entries",
                          "TRUNCATE audit_log"]:
            with engine.connect() as conn, conn.begin():
                conn.exec_driver_sql(f'SET LOCAL ROLE "{app_role}"')
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.exec_driver_sql(statement)
        # ...while it can still do its work: a whole command runs as that role.
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(f'SET LOCAL ROLE "{app_role}"')
            before = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
            db.append_audit(conn, db.AuditEntry("tester", "admin", None, "Probe", None, []),
                            app.clock())
            assert conn.execute(select(func.count()).select_from(t.audit_log)
                                ).scalar_one() == before + 1
        assert verify_audit(engine).ok
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() != app_role
    finally:
        engine.dispose()


def test_principal_of_a_portal_user_is_recorded_by_id_only() -> None:
    assert Principal("ap@rossi.example", Role.CUSTOMER, 7, 3).actor == "portal-user-7"
    assert Principal("carla", Role.CONTROLLER, 2).actor == "carla"
