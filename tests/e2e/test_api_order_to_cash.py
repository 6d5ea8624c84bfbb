"""The whole order-to-cash flow over HTTP: order, credit hold, release, partial shipment,
invoice, payment, allocation, credit note, and a ledger that still balances."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from o2c.bootstrap import SettableClock
from tests.e2e.conftest import API, advance, ok
from tests.fixtures.world import World

D = Decimal


def test_order_to_cash_over_http_keeps_the_ledger_balanced(client: TestClient, world: World,
                                                           clock: SettableClock) -> None:
    rossi, desk = world.customers["rossi"], world.products["DESK"]

    # 10 desks at 450.50 + 22% VAT = 5,496.10 EUR: more than Rossi's 5,000 credit limit.
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": rossi, "customer_reference": "PO-77",
        "lines": [{"product_id": desk, "quantity": "10"}]},
        headers={"Idempotency-Key": "order-1"}), 201)
    assert order["state"] == "draft"
    assert order["gross_amount"] == "5496.10"
    order_id = order["id"]

    held = ok(client.post(f"{API}/orders/{order_id}/confirm",
                          headers={"Idempotency-Key": "confirm-1"}))
    assert held["state"] == "credit_hold" and held["credit_hold"] is True
    assert held["credit_check"]["approved"] is False
    assert held["credit_check"]["exposure_after"] == "5496.10"
    assert "credit limit" in held["credit_check"]["reasons"][0]
    assert held["shipment_ids"] == []

    released = ok(client.post(f"{API}/orders/{order_id}/release",
                              json={"reason": "approved by the credit manager"},
                              headers={"Idempotency-Key": "release-1"}))
    assert released["state"] == "confirmed" and released["credit_hold"] is False
    assert released["credit_check"] is None
    assert released["has_backorder"] is False
    [shipment_id] = released["shipment_ids"]
    assert released["order"]["lines"][0]["reserved_qty"] == "10"

    ok(client.post(f"{API}/shipments/{shipment_id}/pick"))
    ok(client.post(f"{API}/shipments/{shipment_id}/pack", json={"packages": 2}))
    line_id = released["order"]["lines"][0]["id"]
    shipped = ok(client.post(f"{API}/shipments/{shipment_id}/ship", json={
        "carrier": "BRT", "tracking_number": "X1",
        "lines": [{"order_line_id": line_id, "quantity": "6"}]},
        headers={"Idempotency-Key": "ship-1"}))
    assert shipped["shipment"]["state"] == "shipped"
    assert shipped["shipment"]["lines"][0]["quantity"] == "6"
    [follow_up] = shipped["open_shipments"]
    assert follow_up["lines"][0]["quantity"] == "4"  # left behind, still reserved
    # Shipping posts the invoice for exactly what left: 6 x 450.50 = 2,703.00 + 594.66 VAT.
    [invoice] = shipped["invoices"]
    assert invoice["number"] == "INV-2026-00001"
    assert (invoice["net_amount"], invoice["tax_amount"], invoice["gross_amount"]) == (
        "2703.00", "594.66", "3297.66")
    assert invoice["payment_status"] == "unpaid"
    invoice_id = invoice["id"]

    advance(clock, 5)
    payment = ok(client.post(f"{API}/payments", json={
        "customer_id": rossi, "amount": "3000.00", "currency": "EUR", "reference": "PO-77"},
        headers={"Idempotency-Key": "pay-1"}), 201)
    assert payment["unapplied"] == "3000.00" and payment["allocations"] == []

    allocated = ok(client.post(f"{API}/payments/{payment['id']}/allocations", json={
        "allocations": [{"invoice_id": invoice_id, "amount": "3000.00"}]},
        headers={"Idempotency-Key": "alloc-1"}), 201)
    [allocation] = allocated["allocations"]
    assert allocation["amount"] == "3000.00"
    assert allocated["payment"]["unapplied"] == "0.00"
    invoice = ok(client.get(f"{API}/invoices/{invoice_id}"))
    assert invoice["residual"] == "297.66"
    assert invoice["payment_status"] == "partially_paid"

    # One desk came back damaged: credit it. The note settles what the invoice still owes
    # (297.66); the rest of its 549.61 stays as credit for the customer.
    note = ok(client.post(f"{API}/invoices/{invoice_id}/credit-notes", json={
        "reason": "damaged in transit",
        "lines": [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "1"}]},
        headers={"Idempotency-Key": "cn-1"}), 201)
    assert note["kind"] == "credit_note" and note["corrects_invoice_id"] == invoice_id
    assert note["gross_amount"] == "549.61"
    assert note["residual"] == "251.95"
    invoice = ok(client.get(f"{API}/invoices/{invoice_id}"))
    assert invoice["residual"] == "0.00" and invoice["payment_status"] == "paid"
    assert [n["number"] for n in invoice["credit_notes"]] == [note["number"]]

    customer = ok(client.get(f"{API}/customers/{rossi}"))
    assert customer["credit"]["unapplied_credit"] == "251.95"
    # The 4 desks still reserved are confirmed but not invoiced: they count as exposure.
    assert customer["credit"]["uninvoiced_orders"] == "2198.44"

    balance = ok(client.get(f"{API}/ledger/trial-balance",
                            params={"company_id": world.company_id}))
    assert balance["balanced"] is True
    assert balance["total_debit"] == balance["total_credit"]
    accounts = {a["account"]: a for a in balance["accounts"]}
    assert accounts["1200"]["balance"] == "0.00"  # nothing left receivable
    assert accounts["1100"]["balance"] == "3000.00"  # cash in the bank
    verification = ok(client.get(f"{API}/ledger/verify",
                                 params={"company_id": world.company_id}))
    assert verification["ok"] is True
    assert len(verification["checks"]) == 4 and all(c["ok"] for c in verification["checks"])

    events = ok(client.get(f"{API}/orders/{order_id}/events"))["items"]
    names = [e["event"] for e in events]
    assert names[:5] == ["created", "credit_held", "credit_released", "confirmed", "reserved"]
    assert "shipped" in names
    assert {e["actor"] for e in events} == {"admin"}  # the authenticated user


def test_confirming_more_than_is_in_stock_reserves_what_there_is_and_reports_the_backorder(
        client: TestClient, world: World) -> None:
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": world.products["CHAIR"], "quantity": "130"}]}), 201)
    confirmed = ok(client.post(f"{API}/orders/{order['id']}/confirm"))
    assert confirmed["state"] == "confirmed" and confirmed["credit_check"]["approved"] is True
    assert confirmed["has_backorder"] is True
    assert confirmed["backorder"] == [{"line_no": 1, "sku": "CHAIR", "quantity": "30"}]
    assert confirmed["order"]["lines"][0]["reserved_qty"] == "100"
    assert confirmed["order"]["lines"][0]["backorder_qty"] == "30"

    # Goods in: the waiting order gets them at once, on a new shipment.
    level = ok(client.post(f"{API}/stock/receive", json={
        "warehouse_id": world.warehouse_id, "product_id": world.products["CHAIR"],
        "quantity": "50", "reference": "PO-SUPPLIER-9"}))
    assert (level["on_hand"], level["reserved"], level["available"]) == ("150", "130", "20")
    detail = ok(client.get(f"{API}/orders/{order['id']}"))
    assert detail["lines"][0]["backorder_qty"] == "0"
    assert len(detail["shipments"]) == 2


def test_reserve_endpoint_reserves_a_backorder_once_a_cancelled_shipment_freed_stock(
        client: TestClient, world: World) -> None:
    chair = world.products["CHAIR"]
    first = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": chair, "quantity": "100"}]}), 201)
    second = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": chair, "quantity": "5"}]}), 201)
    [first_shipment] = ok(client.post(f"{API}/orders/{first['id']}/confirm"))["shipment_ids"]
    waiting = ok(client.post(f"{API}/orders/{second['id']}/confirm"))
    assert waiting["backorder"][0]["quantity"] == "5" and waiting["shipment_ids"] == []

    cancelled = ok(client.post(f"{API}/shipments/{first_shipment}/cancel",
                               json={"reason": "truck broke down"}))
    assert cancelled["state"] == "cancelled"
    reserved = ok(client.post(f"{API}/orders/{second['id']}/reserve"))
    assert len(reserved["shipment_ids"]) == 1
    assert reserved["order"]["lines"][0]["reserved_qty"] == "5"


def test_rejecting_a_held_order_and_delivering_a_shipment(client: TestClient,
                                                          world: World) -> None:
    big = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["DESK"], "quantity": "20"}]}), 201)
    ok(client.post(f"{API}/orders/{big['id']}/confirm"))
    rejected = ok(client.post(f"{API}/orders/{big['id']}/reject",
                              json={"reason": "too risky"}))
    assert rejected["state"] == "rejected"

    small = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["BOOK"], "quantity": "2"}]}), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{small['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack", "ship", "deliver"):
        shipment = ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    assert shipment["state"] == "delivered" and shipment["delivered_on"] == "2026-03-02"
    assert len(shipment["invoices"]) == 1
    assert ok(client.get(f"{API}/orders/{small['id']}"))["state"] == "completed"


def test_cancelling_a_confirmed_order_gives_its_reservation_back_to_stock(
        client: TestClient, world: World) -> None:
    chair = world.products["CHAIR"]
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": chair, "quantity": "10"}]}), 201)
    ok(client.post(f"{API}/orders/{order['id']}/confirm"))
    cancelled = ok(client.post(f"{API}/orders/{order['id']}/cancel",
                               json={"reason": "customer withdrew"}))
    assert cancelled["state"] == "cancelled"
    assert all(s["state"] == "cancelled" for s in cancelled["shipments"])
    [level] = ok(client.get(f"{API}/stock", params={"product_id": chair}))["items"]
    assert level["reserved"] == "0"
