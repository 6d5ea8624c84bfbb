"""Each instalment is its own due amount: aging, overdue, the invoice list, the credit
position and the credit check count what is actually due (instalments due and not yet paid),
not the whole residual once the first instalment falls due. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import queries, reports
from o2c.adapters.db import tables as t
from o2c.adapters.db.migrate import downgrade, upgrade
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.analytics import AGING_BUCKETS
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

D = Decimal
ISSUED = date(2026, 3, 10)  # 146.40 EUR: 73.20 due 2026-04-09, 73.20 due 2026-05-09


@pytest.fixture
def world(any_app: App) -> World:
    world = build_world(any_app.bus)
    # "Half at 30, half at 60 days", 2% discount within 10 days.
    any_app.bus.handle(c.UpdateCustomer(world.customers["rossi"], {
        "payment_terms_code": "3060", "overdue_hold_days": 10}))
    return world


def _invoice(app: App, world: World) -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"],
                                            (line(world.products["CHAIR"], 1),),
                                            order_date=ISSUED))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ISSUED)).shipment_ids
    s.ship(app.bus, shipment_id, on=ISSUED)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return int(invoice["id"])


def _aging(app: App, world: World, as_of: date) -> dict[str, tuple[Decimal, int]]:
    with app.engine.connect() as conn:
        d = reports.dashboard(conn, world.company_id, as_of)
    return {b["bucket"]: (b["amount"], b["count"]) for b in d["aging"] if b["count"]}


def _dashboard(app: App, world: World, as_of: date) -> dict[str, object]:
    with app.engine.connect() as conn:
        return reports.dashboard(conn, world.company_id, as_of)


def _listed(app: App, invoice_id: int, as_of: date) -> dict[str, object]:
    with app.engine.connect() as conn:
        [row] = [r for r in queries.list_invoices(conn, as_of=as_of).items
                 if r["id"] == invoice_id]
    return row


def test_nothing_is_overdue_before_the_first_instalment_even_past_the_discount_date(
        any_app: App, world: World) -> None:
    invoice_id = _invoice(any_app, world)
    as_of = date(2026, 3, 25)  # the early-payment discount ran out on 2026-03-20
    assert _aging(any_app, world, as_of) == {"not_due": (D("146.40"), 1)}
    d = _dashboard(any_app, world, as_of)
    assert (d["open_receivables"], d["overdue"], d["overdue_invoices"]) == (
        D("146.40"), D("0.00"), 0)
    row = _listed(any_app, invoice_id, as_of)
    assert (row["payment_status"], row["overdue_amount"], row["next_due_date"]) == (
        "unpaid", D("0.00"), date(2026, 4, 9))


def test_once_the_first_instalment_is_due_only_that_instalment_is_overdue(
        any_app: App, world: World) -> None:
    invoice_id = _invoice(any_app, world)
    as_of = date(2026, 4, 20)
    assert _aging(any_app, world, as_of) == {"not_due": (D("73.20"), 1),
                                             "1_30": (D("73.20"), 1)}
    d = _dashboard(any_app, world, as_of)
    assert (d["open_receivables"], d["overdue"], d["open_invoices"], d["overdue_invoices"]) \
        == (D("146.40"), D("73.20"), 1, 1)
    row = _listed(any_app, invoice_id, as_of)
    assert (row["payment_status"], row["days_overdue"], row["overdue_amount"],
            row["next_due_date"], row["due_date"]) == (
        "overdue", 11, D("73.20"), date(2026, 4, 9), date(2026, 5, 9))
    with any_app.engine.connect() as conn:
        position = reports.credit_positions(conn, [world.customers["rossi"]], as_of)
        customer = queries.credit_position(conn, world.customers["rossi"], as_of)
    assert (position[world.customers["rossi"]]["overdue"],
            position[world.customers["rossi"]]["days_overdue"]) == (D("73.20"), 11)
    assert (customer["overdue"], customer["days_overdue"]) == (D("73.20"), 11)


def test_a_payment_covers_the_oldest_instalment_first_and_the_rest_ages_by_its_own_date(
        any_app: App, world: World) -> None:
    invoice_id = _invoice(any_app, world)
    any_app.bus.handle(c.RecordPayment(world.customers["rossi"], D("100.00"), "EUR",
                                       received_on=date(2026, 4, 20), auto_allocate=True))
    row = _listed(any_app, invoice_id, date(2026, 4, 21))
    assert (row["payment_status"], row["overdue_amount"], row["next_due_date"],
            row["residual"]) == ("partially_paid", D("0.00"), date(2026, 5, 9), D("46.40"))
    assert _aging(any_app, world, date(2026, 4, 21)) == {"not_due": (D("46.40"), 1)}
    assert _aging(any_app, world, date(2026, 5, 20)) == {"1_30": (D("46.40"), 1)}
    assert _dashboard(any_app, world, date(2026, 5, 20))["overdue"] == D("46.40")


def test_the_credit_hold_cites_only_the_instalment_that_is_overdue(
        any_app: App, world: World) -> None:
    _invoice(any_app, world)
    on = date(2026, 4, 25)  # first instalment 16 days overdue, more than the 10 allowed
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"],
                                                (line(world.products["BOOK"], 1),),
                                                order_date=on))
    result = any_app.bus.handle(c.ConfirmOrder(order_id, on=on))
    assert result.state == "credit_hold"
    assert result.decision.reasons == ("73.20 EUR overdue for 16 days (more than 10)",)


def test_the_statement_shows_each_instalment_as_a_debit_with_its_own_due_date(
        any_app: App, world: World) -> None:
    _invoice(any_app, world)
    with any_app.engine.connect() as conn:
        statement = reports.statement_of_account(conn, world.customers["rossi"],
                                                 date(2026, 3, 1), date(2026, 4, 30))
    assert [(line["number"], line["due_date"], line["debit"], line["balance"])
            for line in statement["lines"]] == [
        ("INV-2026-00001 (1/2)", date(2026, 4, 9), D("73.20"), D("73.20")),
        ("INV-2026-00001 (2/2)", date(2026, 5, 9), D("73.20"), D("146.40"))]
    assert statement["closing_balance"] == D("146.40")


def test_an_invoice_is_listed_under_each_aging_bucket_it_has_an_instalment_owed_in(
        any_app: App, world: World) -> None:
    invoice_id = _invoice(any_app, world)
    as_of = date(2026, 4, 20)

    def listed(bucket: str) -> list[int]:
        [found] = [b for b in AGING_BUCKETS if b.code == bucket]
        due_from, due_to = found.due_dates(as_of)
        with any_app.engine.connect() as conn:
            return [r["id"] for r in queries.list_invoices(conn, queries.Filters(extra={
                "open": True, "due_from": due_from, "due_to": due_to}), as_of=as_of).items]

    assert listed("not_due") == listed("1_30") == [invoice_id]
    assert listed("31_60") == []


def test_the_migration_gives_existing_open_items_their_instalment_rows(
        any_app: App, world: World) -> None:
    _invoice(any_app, world)  # half at 30, half at 60 days
    other = any_app.bus.handle(c.CreateOrder(world.customers["dupont"],
                                             (line(world.products["BOOK"], 2),),
                                             order_date=ISSUED))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(other, on=ISSUED)).shipment_ids
    s.ship(any_app.bus, shipment_id, on=ISSUED)
    written = s.rows(any_app.engine, t.open_item_installments)
    assert len(written) == 3
    downgrade(any_app.engine, "0010")  # as a database was before: no instalment rows
    upgrade(any_app.engine)
    assert s.rows(any_app.engine, t.open_item_installments) == written
