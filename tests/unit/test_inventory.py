"""Stock levels and order reservations: never reserve more than is available; what cannot be
reserved is reported as backorder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import InsufficientStock, InvalidInput, RuleViolation
from o2c.domain.inventory import MoveKind, StockLevel
from tests.unit import builders

D = Decimal
ON = date(2026, 3, 2)


def level(on_hand: str = "0", reserved: str = "0") -> StockLevel:
    return StockLevel(id=1, product_id=7, warehouse_id=1, sku="CHAIR", on_hand=D(on_hand),
                      reserved=D(reserved))


def test_reserving_takes_what_is_available_and_returns_it() -> None:
    stock = level("10", "4")
    assert stock.reserve(D(5)) == D(5)
    assert stock.reserve(D(5)) == D(1)
    assert stock.reserve(D(5)) == D(0)
    assert (stock.on_hand, stock.reserved, stock.available) == (D(10), D(10), D(0))


def test_receipts_and_shipments_move_stock_and_return_the_move() -> None:
    stock = level("0")
    receipt = stock.receive(D(12), "PO-1", ON)
    assert (receipt.quantity, receipt.kind, receipt.reference) == (D(12), MoveKind.RECEIPT, "PO-1")
    stock.reserve(D(5))
    out = stock.ship(D(5), "SHP-000001", ON)
    assert (out.quantity, out.kind) == (D(-5), MoveKind.SHIPMENT)
    assert (stock.on_hand, stock.reserved) == (D(7), D(0))
    with pytest.raises(InsufficientStock):
        stock.ship(D(1), "SHP-000002", ON)  # nothing reserved


@pytest.mark.parametrize(("on_hand", "reserved", "delta", "reason", "error"), [
    ("10", "0", "-11", "count", InsufficientStock),
    ("10", "6", "-5", "count", InsufficientStock),  # would go below what orders hold
    ("10", "0", "0", "count", InvalidInput),
    ("10", "0", "-1", " ", InvalidInput),
    ("10", "0", "0.00001", "count", InvalidInput),
])
def test_an_adjustment_never_breaks_the_stock_invariant(
        on_hand: str, reserved: str, delta: str, reason: str, error: type[Exception]) -> None:
    stock = level(on_hand, reserved)
    with pytest.raises(error) as raised:
        stock.adjust(D(delta), reason, ON)
    assert getattr(raised.value, "field", None) in ("quantity", "reason")
    assert (stock.on_hand, stock.reserved) == (D(on_hand), D(reserved))


@pytest.mark.parametrize("quantity", ["0", "-1", "1.00001"])
def test_a_receipt_needs_a_positive_quantity_with_at_most_four_decimals(quantity: str) -> None:
    with pytest.raises(InvalidInput) as error:
        level().receive(D(quantity), "PO", ON)
    assert error.value.field == "quantity"


OPERATIONS = st.lists(st.tuples(
    st.sampled_from(["receive", "reserve", "release", "ship", "adjust"]),
    st.integers(min_value=1, max_value=40).map(D)), max_size=40)


@settings(deadline=None, max_examples=300)
@given(OPERATIONS)
def test_no_sequence_of_operations_oversells(operations: list[tuple[str, Decimal]]) -> None:
    stock = level("0")
    for op, qty in operations:
        try:
            if op == "receive":
                stock.receive(qty, "PO", ON)
            elif op == "reserve":
                taken = stock.reserve(qty)
                assert D(0) <= taken <= qty
            elif op == "release":
                stock.release(qty)
            elif op == "ship":
                stock.ship(qty, "SHP", ON)
            else:
                stock.adjust(-qty, "count", ON)
        except InsufficientStock:
            pass
        assert stock.on_hand >= 0
        assert D(0) <= stock.reserved <= stock.on_hand


# -- order lines: reservations and backorder ----------------------------------------------------

def test_an_order_records_partial_reservations_and_reports_the_backorder() -> None:
    order = builders.order("10", "3")
    order.confirm(D(0), ON)
    first, second = order.lines
    assert first.id is not None and second.id is not None
    order.reserve({first.id: D(4), second.id: D(3)})
    assert order.backorder() == [{"line_no": 1, "sku": "P1", "quantity": D(6)}]
    assert order.has_backorder
    event = order.events[-1]
    assert event.name == "reserved"
    assert event.data["backorder"] == [{"line_no": 1, "sku": "P1", "quantity": "6"}]
    order.reserve({first.id: D(6)})
    assert order.backorder() == [] and not order.has_backorder


def test_an_order_line_is_never_reserved_beyond_what_it_still_waits_for() -> None:
    order = builders.order("5")
    order.confirm(D(0), ON)
    [line] = order.lines
    assert line.id is not None
    order.reserve({line.id: D(3)})
    with pytest.raises(RuleViolation):
        order.reserve({line.id: D(3)})
    with pytest.raises(RuleViolation):
        order.reserve({line.id: D(0)})
    assert line.reserved_qty == D(3)


def test_only_a_confirmed_order_reserves_stock() -> None:
    order = builders.order("5")
    [line] = order.lines
    assert line.id is not None
    with pytest.raises(RuleViolation):
        order.reserve({line.id: D(1)})


def test_shipping_moves_reserved_quantity_to_shipped_and_never_more() -> None:
    order = builders.order("5")
    order.confirm(D(0), ON)
    [line] = order.lines
    assert line.id is not None
    order.reserve({line.id: D(3)})
    with pytest.raises(RuleViolation):
        order.record_shipped({line.id: D(4)}, "SHP-1")
    order.record_shipped({line.id: D(2)}, "SHP-1")
    assert (line.reserved_qty, line.shipped_qty, line.backorder_qty) == (D(1), D(2), D(2))
    assert order.shipping_status.value == "partially_shipped"
    assert order.uninvoiced() == {line.id: D(2)}
    assert order.uninvoiced(on_order=True) == {line.id: D(5)}


def test_cancelling_returns_every_reservation_to_release() -> None:
    order = builders.order("5", "2")
    order.confirm(D(0), ON)
    first, second = order.lines
    assert first.id is not None and second.id is not None
    order.reserve({first.id: D(5), second.id: D(1)})
    assert order.cancel("customer withdrew") == {first.id: D(5), second.id: D(1)}
    assert all(line.reserved_qty == 0 for line in order.lines)
