"""Payments: received as customer credit, allocated to invoices, un-allocated with reversing
entries, in the customer's currency with realised exchange differences."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import OverAllocation, RuleViolation
from o2c.domain.ledger import BANK, CUSTOMER_CREDIT, FX_DIFFERENCES, RECEIVABLE
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal


def _invoice(app: App, world: World, customer: str, *lines: c.OrderLineInput,
             on: date = date(2026, 3, 2)) -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer], lines, order_date=on))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=on)).shipment_ids
    s.ship(app.bus, shipment_id, on=on)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return int(invoice["id"])


def _status(app: App, invoice_id: int, as_of: date = date(2026, 3, 20)) -> tuple[Decimal, str]:
    with app.engine.connect() as conn:
        invoice = queries.invoice(conn, invoice_id, as_of=as_of)
    return invoice["residual"], invoice["payment_status"]


def test_a_payment_settles_several_invoices_and_keeps_the_rest_as_credit(
        app: App, world: World) -> None:
    first = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))  # 146.40
    second = _invoice(app, world, "rossi", line(world.products["DESK"], 1))  # 549.61
    third = _invoice(app, world, "rossi", line(world.products["BOOK"], 1))  # 20.70
    payment_id = app.bus.handle(c.RecordPayment(
        world.customers["rossi"], D("600.00"), "EUR", received_on=date(2026, 3, 15),
        reference="INV-2026-00001 INV-2026-00002", allocations=(
            c.AllocationInput(first, D("146.40")), c.AllocationInput(second, D("400.00")))),
        actor="cashier")
    assert _status(app, first) == (D(0), "paid")
    assert _status(app, second) == (D("149.61"), "partially_paid")
    assert _status(app, third) == (D("20.70"), "unpaid")
    payment = s.row(app.engine, t.payments, payment_id)
    assert (payment["amount"], payment["unapplied"], payment["state"]) == (
        D("600.00"), D("53.60"), "received")
    [entry] = s.entries(app.engine, "payment", payment_id)
    assert entry["lines"] == {BANK: (D("600.00"), D(0)), CUSTOMER_CREDIT: (D(0), D("600.00"))}
    allocations = s.rows(app.engine, t.allocations)
    assert [(a["invoice_id"], a["payment_id"], a["amount"]) for a in allocations] == [
        (first, payment_id, D("146.40")), (second, payment_id, D("400.00"))]
    for allocation in allocations:
        [booked] = s.entries(app.engine, "allocation", allocation["id"])
        assert booked["lines"] == {CUSTOMER_CREDIT: (allocation["amount"], D(0)),
                                   RECEIVABLE: (D(0), allocation["amount"])}
    assert ("payment", payment_id, "received", "cashier") in s.events(app.engine)
    assert [e for e in s.events(app.engine, "allocation")] == [
        ("allocation", a["id"], "allocated", "cashier") for a in allocations]
    with app.engine.connect() as conn:
        credit = queries.credit_position(conn, world.customers["rossi"], date(2026, 3, 15))
    assert (credit["open_receivables"], credit["unapplied_credit"]) == (
        D("170.31"), D("53.60"))


def test_an_over_payment_stays_unapplied_and_can_be_applied_later(
        app: App, world: World) -> None:
    first = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    payment_id = app.bus.handle(c.RecordPayment(
        world.customers["rossi"], D("200.00"), "EUR", auto_allocate=True))
    assert _status(app, first) == (D(0), "paid")
    assert s.row(app.engine, t.payments, payment_id)["unapplied"] == D("53.60")
    second = _invoice(app, world, "rossi", line(world.products["BOOK"], 1))
    [allocation_id] = app.bus.handle(c.AllocatePayment(payment_id, auto=True))
    assert s.row(app.engine, t.allocations, allocation_id)["amount"] == D("20.70")
    assert s.row(app.engine, t.payments, payment_id)["unapplied"] == D("32.90")
    assert _status(app, second) == (D(0), "paid")


def test_auto_allocation_pays_the_oldest_due_invoice_first(app: App, world: World) -> None:
    late = _invoice(app, world, "dupont", line(world.products["CHAIR"], 1),
                    on=date(2026, 3, 2))  # EOM60: due 2026-05-31
    early = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1),
                     on=date(2026, 3, 2))  # other customer: untouched
    older = _invoice(app, world, "dupont", line(world.products["BOOK"], 1),
                     on=date(2026, 2, 1))  # due 2026-04-30
    app.bus.handle(c.RecordPayment(world.customers["dupont"], D("50.00"), "EUR",
                                   received_on=date(2026, 3, 10), auto_allocate=True))
    assert _status(app, older)[0] == D(0)
    assert _status(app, late)[0] == D("120.00") - D("30.10")
    assert _status(app, early)[0] == D("146.40")


def test_un_allocating_reopens_the_invoice_and_reverses_the_entry(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    payment_id = app.bus.handle(c.RecordPayment(
        world.customers["rossi"], D("146.40"), "EUR", allocations=(
            c.AllocationInput(invoice_id, D("146.40")),)))
    [allocation] = s.rows(app.engine, t.allocations)
    app.bus.handle(c.Unallocate(allocation["id"], "paid the wrong invoice",
                                on=date(2026, 3, 4)), actor="cashier")
    assert _status(app, invoice_id) == (D("146.40"), "unpaid")
    assert s.row(app.engine, t.payments, payment_id)["unapplied"] == D("146.40")
    assert s.row(app.engine, t.allocations, allocation["id"])["reversed_on"] == date(2026, 3, 4)
    original, reversal = s.entries(app.engine, "allocation", allocation["id"])
    assert reversal["reverses_entry_id"] == original["id"]
    assert reversal["entry_date"] == date(2026, 3, 4)
    assert reversal["lines"] == {account: (credit, debit)
                                 for account, (debit, credit) in original["lines"].items()}
    assert s.events(app.engine, "allocation", allocation["id"])[-1] == (
        "allocation", allocation["id"], "reversed", "cashier")
    with pytest.raises(RuleViolation):
        app.bus.handle(c.Unallocate(allocation["id"], "twice"))


def test_a_payment_recorded_in_error_is_reversed_only_once_unallocated(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    payment_id = app.bus.handle(c.RecordPayment(
        world.customers["rossi"], D("100.00"), "EUR", allocations=(
            c.AllocationInput(invoice_id, D("100.00")),)))
    before = s.row_counts(app.engine)
    with pytest.raises(RuleViolation):
        app.bus.handle(c.ReversePayment(payment_id, "bounced"))
    assert s.row_counts(app.engine) == before
    [allocation] = s.rows(app.engine, t.allocations)
    app.bus.handle(c.Unallocate(allocation["id"], "bounced"))
    app.bus.handle(c.ReversePayment(payment_id, "bounced"), actor="cashier")
    assert s.events(app.engine, "payment", payment_id)[-1] == (
        "payment", payment_id, "reversed", "cashier")
    payment = s.row(app.engine, t.payments, payment_id)
    assert (payment["state"], payment["unapplied"]) == ("reversed", D(0))
    original, reversal = s.entries(app.engine, "payment", payment_id)
    assert reversal["reverses_entry_id"] == original["id"]
    assert reversal["lines"] == {BANK: (D(0), D("100.00")), CUSTOMER_CREDIT: (D("100.00"), D(0))}
    assert _status(app, invoice_id) == (D("146.40"), "unpaid")


def test_a_dollar_invoice_paid_at_another_rate_books_the_exchange_difference(
        app: App, world: World) -> None:
    # 2 chairs at USD 132.00, exported: USD 264.00 at 0.90 = EUR 237.60
    invoice_id = _invoice(app, world, "acme_us", line(world.products["CHAIR"], 2))
    invoice = s.row(app.engine, t.invoices, invoice_id)
    assert (invoice["currency"], invoice["fx_rate"], invoice["gross_amount"],
            invoice["gross_amount_company"]) == ("USD", D("0.9"), D("264.00"), D("237.60"))
    [entry] = s.entries(app.engine, "invoice", invoice_id)
    assert entry["lines"][RECEIVABLE] == (D("237.60"), D(0))
    app.bus.handle(c.SetExchangeRate("USD", "EUR", D("0.95"), date(2026, 3, 20)))
    payment_id = app.bus.handle(c.RecordPayment(
        world.customers["acme_us"], D("264.00"), "USD", received_on=date(2026, 3, 25)))
    payment = s.row(app.engine, t.payments, payment_id)
    assert (payment["fx_rate"], payment["amount_company"]) == (D("0.95"), D("250.80"))
    [part_id] = app.bus.handle(c.AllocatePayment(payment_id, (
        c.AllocationInput(invoice_id, D("100.00")),), on=date(2026, 3, 25)))
    part = s.row(app.engine, t.allocations, part_id)
    assert (part["source_company"], part["target_company"]) == (D("95.00"), D("90.00"))
    [rest_id] = app.bus.handle(c.AllocatePayment(payment_id, auto=True, on=date(2026, 3, 25)))
    item = s.open_item(app.engine, invoice_id)
    assert (item["residual"], item["residual_company"]) == (D(0), D(0))
    [gain] = s.entries(app.engine, "allocation", rest_id)
    assert gain["lines"] == {CUSTOMER_CREDIT: (D("155.80"), D(0)),
                             RECEIVABLE: (D(0), D("147.60")), FX_DIFFERENCES: (D(0), D("8.20"))}
    assert s.trial_balance(app.engine, world.company_id)[FX_DIFFERENCES] == (D(0), D("13.20"))
    # Undoing the allocation takes the gain back exactly.
    app.bus.handle(c.Unallocate(rest_id, "wrong split", on=date(2026, 3, 26)))
    assert s.trial_balance(app.engine, world.company_id)[FX_DIFFERENCES] == (
        D("8.20"), D("13.20"))
    item = s.open_item(app.engine, invoice_id)
    assert (item["residual"], item["residual_company"]) == (D("164.00"), D("147.60"))


def test_allocations_beyond_what_is_owed_or_available_change_nothing(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    other_id = _invoice(app, world, "rossi", line(world.products["DESK"], 1))
    payment_id = app.bus.handle(c.RecordPayment(world.customers["rossi"], D("500.00"), "EUR"))
    before = s.row_counts(app.engine)
    with pytest.raises(OverAllocation) as owed:
        app.bus.handle(c.AllocatePayment(payment_id, (
            c.AllocationInput(invoice_id, D("146.41")),)))
    assert owed.value.field == "allocations[0].amount"
    with pytest.raises(RuleViolation) as available:
        app.bus.handle(c.AllocatePayment(payment_id, (
            c.AllocationInput(invoice_id, D("100.00")),
            c.AllocationInput(other_id, D("401.00")))))
    assert available.value.field == "allocations"
    with pytest.raises(RuleViolation) as early:
        app.bus.handle(c.AllocatePayment(payment_id, (
            c.AllocationInput(invoice_id, D("1.00")),), on=date(2026, 3, 1)))
    assert early.value.field == "on"
    assert s.row_counts(app.engine) == before
    assert _status(app, invoice_id) == (D("146.40"), "unpaid")


def test_paying_the_first_instalment_moves_the_invoice_to_the_next_due_date(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "acme_us", line(world.products["CHAIR"], 1),
                          on=date(2026, 3, 10))  # USD 132.00: 66.00 on 9 April, 66.00 on 9 May
    assert s.open_item(app.engine, invoice_id)["due_date"] == date(2026, 4, 9)
    app.bus.handle(c.RecordPayment(world.customers["acme_us"], D("66.00"), "USD",
                                   received_on=date(2026, 4, 8), auto_allocate=True))
    assert s.open_item(app.engine, invoice_id)["due_date"] == date(2026, 5, 9)
    assert _status(app, invoice_id, as_of=date(2026, 4, 20)) == (D("66.00"), "partially_paid")
    assert _status(app, invoice_id, as_of=date(2026, 5, 10)) == (D("66.00"), "overdue")


def test_a_dollar_credit_note_clears_its_invoice_without_an_exchange_difference(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "acme_us", line(world.products["CHAIR"], 2))
    app.bus.handle(c.SetExchangeRate("USD", "EUR", D("0.95"), date(2026, 3, 20)))
    lines = s.rows(app.engine, t.invoice_lines, t.invoice_lines.c.invoice_id == invoice_id)
    half = app.bus.handle(c.CreateCreditNote(invoice_id, "one returned", lines=(
        c.CreditLineInput(lines[0]["id"], quantity=D(1)),), on=date(2026, 3, 25)))
    note = s.row(app.engine, t.invoices, half)
    assert (note["fx_rate"], note["gross_amount"], note["gross_amount_company"]) == (
        D("0.9"), D("132.00"), D("118.80"))  # the invoice's rate, not the day's
    [allocation] = s.rows(app.engine, t.allocations)
    assert (allocation["source_company"], allocation["target_company"]) == (
        D("118.80"), D("118.80"))
    rest = app.bus.handle(c.CreateCreditNote(invoice_id, "other returned",
                                             on=date(2026, 3, 26)))
    item = s.open_item(app.engine, invoice_id)
    assert (item["residual"], item["residual_company"], item["credited"]) == (
        D(0), D(0), D("264.00"))
    assert s.open_item(app.engine, rest)["residual_company"] == 0
    assert FX_DIFFERENCES not in s.trial_balance(app.engine, world.company_id)


def test_un_applying_a_credit_note_gives_the_credit_back_and_reopens_the_invoice(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    note_id = app.bus.handle(c.CreateCreditNote(invoice_id, "returned"))
    [allocation] = s.rows(app.engine, t.allocations)
    assert allocation["credit_note_id"] == note_id
    app.bus.handle(c.Unallocate(allocation["id"], "applied to the wrong invoice"))
    assert _status(app, invoice_id)[0] == D("146.40")
    assert s.open_item(app.engine, note_id)["residual"] == D("146.40")
    item = s.open_item(app.engine, invoice_id)
    assert (item["credited"], item["paid"]) == (D(0), D(0))
    original, reversal = s.entries(app.engine, "allocation", allocation["id"])
    assert reversal["lines"] == {account: (credit, debit)
                                 for account, (debit, credit) in original["lines"].items()}
    other = _invoice(app, world, "rossi", line(world.products["BOOK"], 1))
    app.bus.handle(c.ApplyCreditNote(note_id, other))  # as much as both allow: 20.70
    assert s.open_item(app.engine, note_id)["residual"] == D("125.70")
    assert _status(app, other)[0] == D(0)


def test_the_trial_balance_as_of_a_date_leaves_out_later_postings(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1),
                          on=date(2026, 3, 2))
    _invoice(app, world, "rossi", line(world.products["CHAIR"], 2), on=date(2026, 3, 9))
    app.bus.handle(c.RecordPayment(world.customers["rossi"], D("146.40"), "EUR",
                                   received_on=date(2026, 3, 12),
                                   allocations=(c.AllocationInput(invoice_id, D("146.40")),)))
    with app.engine.connect() as conn:
        early = queries.trial_balance(conn, world.company_id, date(2026, 3, 5))
        late = queries.trial_balance(conn, world.company_id)
    by_account = {a["account"]: (a["debit"], a["credit"]) for a in early["accounts"]}
    # Only the first invoice (120.00 + 22% VAT) had been booked by 5 March.
    assert by_account[RECEIVABLE] == (D("146.40"), D(0))
    assert BANK not in by_account and early["balanced"]
    assert early["total_debit"] == D("146.40")
    assert late["total_debit"] == D("146.40") + D("292.80") + D("146.40") * 2 and late["balanced"]
