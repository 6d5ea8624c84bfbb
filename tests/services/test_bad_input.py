"""Bad input never writes half a thing: each rejected command raises the DomainError named after
the condition, says which field, and leaves every table exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import (
    AlreadyExists,
    CurrencyMismatch,
    DomainError,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    MissingExchangeRate,
    NotFound,
    OverAllocation,
    RuleViolation,
    UnknownCurrency,
)
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

D = Decimal


@dataclass
class Setup:
    world: World
    invoice_id: int  # rossi, 146.40 open
    invoice_line_id: int
    payment_id: int  # rossi, 100.00 unapplied
    held_order_id: int
    draft_order_id: int
    ready_shipment_id: int
    packed_shipment_id: int
    packed_line_id: int


@pytest.fixture
def setup(app: App) -> Setup:
    world = build_world(app.bus)
    rossi, chair = world.customers["rossi"], world.products["CHAIR"]
    shipped = app.bus.handle(c.CreateOrder(rossi, (line(chair, 1),)))
    [first] = app.bus.handle(c.ConfirmOrder(shipped)).shipment_ids
    s.ship(app.bus, first)
    [invoice] = s.invoices_of_order(app.engine, shipped)
    [invoice_line] = s.rows(app.engine, t.invoice_lines,
                            t.invoice_lines.c.invoice_id == invoice["id"])
    payment_id = app.bus.handle(c.RecordPayment(rossi, D("100.00"), "EUR"))
    held = app.bus.handle(c.CreateOrder(rossi, (line(chair, 40),)))
    app.bus.handle(c.ConfirmOrder(held))
    draft = app.bus.handle(c.CreateOrder(rossi, (line(chair, 1),)))
    waiting = app.bus.handle(c.CreateOrder(world.customers["dupont"], (line(chair, 2),)))
    [ready] = app.bus.handle(c.ConfirmOrder(waiting)).shipment_ids
    packed_order = app.bus.handle(c.CreateOrder(world.customers["dupont"], (line(chair, 2),)))
    [packed] = app.bus.handle(c.ConfirmOrder(packed_order)).shipment_ids
    app.bus.handle(c.PickShipment(packed))
    app.bus.handle(c.PackShipment(packed))
    [packed_line] = s.order_lines(app.engine, packed_order)
    return Setup(world, invoice["id"], invoice_line["id"], payment_id, held, draft, ready,
                 packed, packed_line["id"])


Case = tuple[Callable[[Setup], c.Command], type[DomainError], str | None]

CASES: dict[str, Case] = {
    "unknown customer": (
        lambda x: c.CreateOrder(999, (line(x.world.products["CHAIR"], 1),)),
        NotFound, "customer_id"),
    "unknown product": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["CHAIR"], 1), line(999, 1))),
        NotFound, "lines[1].product_id"),
    "negative quantity": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["CHAIR"], -2),)),
        InvalidInput, "lines[0].quantity"),
    "zero quantity": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["CHAIR"], 0),)),
        InvalidInput, "lines[0].quantity"),
    "quantity with five decimals": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["BOOK"], 1), line(x.world.products["SCREW"], "1.00001"))),
        InvalidInput, "lines[1].quantity"),
    "negative price": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["CHAIR"], 1, "-1"),)),
        InvalidInput, "lines[0].unit_price"),
    "discount over 100%": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (c.OrderLineInput(
            x.world.products["CHAIR"], D(1), discount_percent=D(101)),)),
        InvalidInput, "lines[0].discount_percent"),
    "no lines": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], ()),
        InvalidInput, "lines"),
    "order in another currency": (
        lambda x: c.CreateOrder(x.world.customers["rossi"], (
            line(x.world.products["CHAIR"], 1),), currency="USD"),
        CurrencyMismatch, "currency"),
    "product without a price in the customer's currency": (
        lambda x: c.CreateOrder(x.world.customers["acme_us"], (
            line(x.world.products["SCREW"], 1),)),
        InvalidInput, "lines[0].unit_price"),
    "bad VAT id": (
        lambda x: c.CreateCustomer(x.world.company_id, "Fake SpA", "IT",
                                   vat_id="IT00743110158"),
        InvalidInput, "vat_id"),
    "bad fiscal code": (
        lambda x: c.CreateCustomer(x.world.company_id, "Mario Rossi", "IT",
                                   tax_code="RSSMRA80A01H501X"),
        InvalidInput, "tax_code"),
    "unknown currency": (
        lambda x: c.CreateCustomer(x.world.company_id, "Bitcoin Ltd", "GB", currency="XBT"),
        UnknownCurrency, "currency"),
    "currency without an exchange rate": (
        lambda x: c.CreateCustomer(x.world.company_id, "Tokyo KK", "JP", currency="JPY"),
        InvalidInput, "currency"),
    "unknown payment terms": (
        lambda x: c.CreateCustomer(x.world.company_id, "Someone", "IT", tax_code="RSSMRA80A01H501U",
                                   payment_terms_code="NET999"),
        NotFound, "payment_terms_code"),
    "negative credit limit": (
        lambda x: c.CreateCustomer(x.world.company_id, "Someone", "IT", tax_code="RSSMRA80A01H501U",
                                   credit_limit=D("-1")),
        InvalidInput, "credit_limit"),
    "duplicate customer code": (
        lambda x: c.CreateCustomer(x.world.company_id, "Copy", "IT",
                                   tax_code="RSSMRA80A01H501U", code="C-00001"),
        AlreadyExists, "code"),
    "duplicate SKU": (
        lambda x: c.CreateProduct(x.world.company_id, "CHAIR", "Another chair", D(1)),
        AlreadyExists, "sku"),
    "unit price with seven decimals": (
        lambda x: c.CreateProduct(x.world.company_id, "NEW", "New", D("0.0000001")),
        InvalidInput, "unit_price"),
    "customer change of a field that cannot change": (
        lambda x: c.UpdateCustomer(x.world.customers["rossi"], {"currency": "USD"}),
        InvalidInput, "currency"),
    "confirming a held order": (
        lambda x: c.ConfirmOrder(x.held_order_id), InvalidTransition, None),
    "releasing a draft": (
        lambda x: c.ReleaseOrder(x.draft_order_id, "why not"), InvalidTransition, None),
    "shipping a shipment nobody packed": (
        lambda x: c.ShipShipment(x.ready_shipment_id), InvalidTransition, None),
    "shipping more than packed": (
        lambda x: c.ShipShipment(x.packed_shipment_id, quantities={x.packed_line_id: D(3)}),
        InvalidInput, "lines"),
    "payment in another currency": (
        lambda x: c.RecordPayment(x.world.customers["rossi"], D(10), "USD"),
        CurrencyMismatch, "currency"),
    "negative payment": (
        lambda x: c.RecordPayment(x.world.customers["rossi"], D("-10.00"), "EUR"),
        InvalidInput, "amount"),
    "payment with a fraction of a cent": (
        lambda x: c.RecordPayment(x.world.customers["rossi"], D("10.001"), "EUR"),
        InvalidInput, "amount"),
    "payment before any exchange rate": (
        lambda x: c.RecordPayment(x.world.customers["acme_us"], D("10.00"), "USD",
                                  received_on=date(2025, 12, 31)),
        MissingExchangeRate, None),
    "payment over-allocated on arrival": (
        lambda x: c.RecordPayment(x.world.customers["rossi"], D("500.00"), "EUR",
                                  allocations=(c.AllocationInput(x.invoice_id, D("146.41")),)),
        OverAllocation, "allocations[0].amount"),
    "allocation beyond what the payment has left": (
        lambda x: c.AllocatePayment(x.payment_id, (c.AllocationInput(x.invoice_id,
                                                                     D("100.01")),)),
        RuleViolation, "allocations"),
    "allocation to an unknown invoice": (
        lambda x: c.AllocatePayment(x.payment_id, (c.AllocationInput(999, D("1.00")),)),
        NotFound, "allocations[0].invoice_id"),
    "allocation listing an invoice twice": (
        lambda x: c.AllocatePayment(x.payment_id, (
            c.AllocationInput(x.invoice_id, D("1.00")),
            c.AllocationInput(x.invoice_id, D("1.00")))),
        InvalidInput, "allocations[1].invoice_id"),
    "credit note beyond the invoiced quantity": (
        lambda x: c.CreateCreditNote(x.invoice_id, "returned", lines=(
            c.CreditLineInput(x.invoice_line_id, quantity=D(2)),)),
        RuleViolation, "lines[0].quantity"),
    "credit note above the invoiced price": (
        lambda x: c.CreateCreditNote(x.invoice_id, "returned", lines=(
            c.CreditLineInput(x.invoice_line_id, unit_price=D("120.01")),)),
        RuleViolation, "lines[0].unit_price"),
    "stock adjusted below what orders hold": (
        lambda x: c.AdjustStock(x.world.warehouse_id, x.world.products["CHAIR"], "count",
                                counted=D(1)),
        InsufficientStock, "quantity"),
    "exchange rate of zero": (
        lambda x: c.SetExchangeRate("USD", "EUR", D(0), date(2026, 3, 2)),
        InvalidInput, "rate"),
    "VAT rate twice for the same day": (
        lambda x: c.SetVatRate("IT", "standard", D(23), date(2020, 1, 1)),
        AlreadyExists, "valid_from"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_rejected_command_raises_the_named_error_and_writes_nothing(
        app: App, setup: Setup, case: str) -> None:
    build, error, field = CASES[case]
    command = build(setup)
    before = s.row_counts(app.engine)
    with pytest.raises(error) as raised:
        app.bus.handle(command)
    assert raised.value.field == field
    assert raised.value.message
    assert s.row_counts(app.engine) == before
    s.assert_ledger_ok(app.engine)


def test_an_illegal_transition_names_the_state_and_the_action(app: App, setup: Setup) -> None:
    with pytest.raises(InvalidTransition) as raised:
        app.bus.handle(c.ConfirmOrder(setup.held_order_id))
    assert (raised.value.details["state"], raised.value.details["action"]) == (
        "credit_hold", "confirm")
    assert raised.value.kind == "conflict"


FLOATS: dict[str, Callable[[Setup], c.Command]] = {
    "quantity": lambda x: c.CreateOrder(x.world.customers["rossi"], (c.OrderLineInput(
        x.world.products["CHAIR"], 1.5),)),  # type: ignore[arg-type]
    "unit price": lambda x: c.CreateProduct(x.world.company_id, "F", "Float", 0.1),  # type: ignore[arg-type]
    "payment amount": lambda x: c.RecordPayment(x.world.customers["rossi"], 10.5,  # type: ignore[arg-type]
                                                "EUR"),
    "stock receipt": lambda x: c.ReceiveStock(x.world.warehouse_id, x.world.products["CHAIR"],
                                              2.0),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(FLOATS))
def test_a_float_amount_or_quantity_is_refused_and_writes_nothing(
        app: App, setup: Setup, case: str) -> None:
    before = s.row_counts(app.engine)
    with pytest.raises(TypeError):
        app.bus.handle(FLOATS[case](setup))
    assert s.row_counts(app.engine) == before


def test_the_shared_fixture_is_what_the_cases_assume(app: App, setup: Setup) -> None:
    item: dict[str, Any] = s.open_item(app.engine, setup.invoice_id)
    assert item["residual"] == D("146.40")
    assert s.row(app.engine, t.payments, setup.payment_id)["unapplied"] == D("100.00")
    assert s.row(app.engine, t.sales_orders, setup.held_order_id)["state"] == "credit_hold"
    assert s.row(app.engine, t.shipments, setup.packed_shipment_id)["state"] == "packed"
