"""Lists are paginated ({items, total, limit, offset}) and filterable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from o2c.bootstrap import SettableClock
from tests.e2e.conftest import API, advance, ok
from tests.fixtures.world import World


def _orders(client: TestClient, world: World, count: int, customer: str = "dupont",
            day: int = 1) -> list[dict[str, Any]]:
    return [ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers[customer], "order_date": f"2026-02-{day + i:02d}",
        "customer_reference": f"PO-{customer}-{i}",
        "lines": [{"product_id": world.products["BOOK"], "quantity": "1"}]}), 201)
        for i in range(count)]


def _ship(client: TestClient, order_id: int) -> dict[str, Any]:
    [shipment_id] = ok(client.post(f"{API}/orders/{order_id}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    [invoice] = ok(client.post(f"{API}/shipments/{shipment_id}/ship"))["invoices"]
    return dict(invoice)


def test_pages_cover_every_order_once_with_the_total(client: TestClient, world: World) -> None:
    created = _orders(client, world, 7)
    default = ok(client.get(f"{API}/orders"))
    assert (default["total"], default["limit"], default["offset"]) == (7, 50, 0)
    seen = []
    for offset in (0, 3, 6):
        page = ok(client.get(f"{API}/orders", params={"limit": 3, "offset": offset}))
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        seen += [o["id"] for o in page["items"]]
    assert sorted(seen) == sorted(o["id"] for o in created)
    assert len(page["items"]) == 1
    # newest order date first
    assert [o["order_date"] for o in default["items"]][:2] == ["2026-02-07", "2026-02-06"]
    assert ok(client.get(f"{API}/orders", params={"offset": 50}))["items"] == []


def test_orders_filter_by_customer_state_dates_and_text(client: TestClient,
                                                        world: World) -> None:
    dupont = _orders(client, world, 3, "dupont", day=1)
    rossi = _orders(client, world, 2, "rossi", day=10)
    ok(client.post(f"{API}/orders/{dupont[0]['id']}/confirm"))

    def ids(**params: Any) -> set[int]:
        page = ok(client.get(f"{API}/orders", params=params))
        assert page["total"] == len(page["items"])
        return {o["id"] for o in page["items"]}

    assert ids(customer_id=world.customers["rossi"]) == {o["id"] for o in rossi}
    assert ids(state="confirmed") == {dupont[0]["id"]}
    assert ids(state="draft", customer_id=world.customers["dupont"]) == {
        dupont[1]["id"], dupont[2]["id"]}
    assert ids(date_from="2026-02-02", date_to="2026-02-10") == {
        dupont[1]["id"], dupont[2]["id"], rossi[0]["id"]}
    assert ids(q=rossi[1]["number"]) == {rossi[1]["id"]}
    assert ids(q="PO-dupont-2") == {dupont[2]["id"]}
    assert ids(q="Rossi") == {o["id"] for o in rossi}
    assert ids(shipping_status="shipped") == set()


def test_invoices_filter_by_payment_status_as_of_the_app_clock(
        client: TestClient, world: World, clock: SettableClock) -> None:
    first = _ship(client, _orders(client, world, 1, "rossi")[0]["id"])
    second = _ship(client, _orders(client, world, 1, "rossi", day=5)[0]["id"])
    ok(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": second["gross_amount"],
        "currency": "EUR", "allocations": [{"invoice_id": second["id"],
                                            "amount": second["gross_amount"]}]}), 201)
    assert first["due_date"] == "2026-04-01"  # NET30 from 2 March

    def statuses(**params: Any) -> dict[str, tuple[str, int]]:
        items = ok(client.get(f"{API}/invoices", params=params))["items"]
        return {i["number"]: (i["payment_status"], i["days_overdue"]) for i in items}

    assert statuses() == {first["number"]: ("unpaid", 0), second["number"]: ("paid", 0)}
    advance(clock, 40)  # the app's today is 11 April 2026: 10 days past due
    assert statuses(payment_status="overdue") == {first["number"]: ("overdue", 10)}
    assert statuses(payment_status="paid") == {second["number"]: ("paid", 0)}
    assert statuses(open=True) == {first["number"]: ("overdue", 10)}
    # an explicit as_of overrides the clock
    assert statuses(as_of="2026-04-05", payment_status="overdue") == {
        first["number"]: ("overdue", 4)}
    detail = ok(client.get(f"{API}/invoices/{first['id']}"))
    assert (detail["payment_status"], detail["days_overdue"]) == ("overdue", 10)
    customer = ok(client.get(f"{API}/customers/{world.customers['rossi']}"))
    assert customer["credit"]["days_overdue"] == 10


def test_other_lists_filter_and_paginate(client: TestClient, world: World) -> None:
    invoice = _ship(client, _orders(client, world, 1, "dupont")[0]["id"])
    ok(client.post(f"{API}/payments", json={
        "customer_id": world.customers["dupont"], "amount": "10.00", "currency": "EUR",
        "auto_allocate": True}), 201)

    customers = ok(client.get(f"{API}/customers", params={"q": "dupont"}))
    assert [c["name"] for c in customers["items"]] == ["Dupont SARL"]
    assert ok(client.get(f"{API}/customers", params={"country": "US"}))["total"] == 1
    products = ok(client.get(f"{API}/products", params={"limit": 2}))
    assert products["total"] == 4 and len(products["items"]) == 2
    assert ok(client.get(f"{API}/products", params={"q": "screw"}))["items"][0]["sku"] == "SCREW"
    stock = ok(client.get(f"{API}/stock", params={"product_id": world.products["BOOK"]}))
    assert stock["items"][0]["on_hand"] == "99"
    assert ok(client.get(f"{API}/shipments", params={"state": ["shipped", "delivered"]})
              )["total"] == 1
    assert ok(client.get(f"{API}/shipments", params={"state": "ready"}))["total"] == 0
    assert ok(client.get(f"{API}/payments", params={"unapplied": True}))["total"] == 0
    allocations = ok(client.get(f"{API}/allocations", params={"invoice_id": invoice["id"]}))
    assert [a["amount"] for a in allocations["items"]] == ["10.00"]
    assert ok(client.get(f"{API}/vat-rates", params={"limit": 5}))["total"] == 9
    assert ok(client.get(f"{API}/exchange-rates"))["items"][0]["rate"] == "0.9"
    assert ok(client.get(f"{API}/payment-terms"))["total"] == 3
    assert ok(client.get(f"{API}/warehouses"))["items"][0]["code"] == "MIL"
    assert ok(client.get(f"{API}/companies"))["items"][0]["code"] == "ACME"

    entries = ok(client.get(f"{API}/ledger/entries", params={"source_type": "invoice"}))
    [entry] = entries["items"]
    assert entry["source_id"] == invoice["id"]
    assert len(entry["lines"]) >= 2
    debit = sum(Decimal(line["debit"]) for line in entry["lines"])
    credit = sum(Decimal(line["credit"]) for line in entry["lines"])
    assert debit == credit == Decimal(invoice["gross_amount"])


def test_event_log_lists_each_objects_history(client: TestClient, world: World) -> None:
    [order] = _orders(client, world, 1)
    ok(client.post(f"{API}/orders/{order['id']}/confirm"))
    events = ok(client.get(f"{API}/events", params={"object_type": "order",
                                                     "object_id": order["id"]}))
    assert [e["event"] for e in events["items"]] == ["created", "confirmed", "reserved"]
    assert events == ok(client.get(f"{API}/orders/{order['id']}/events"))
    customer_events = ok(client.get(f"{API}/customers/{world.customers['dupont']}/events"))
    assert customer_events["items"][0]["event"] == "created"
    assert ok(client.get(f"{API}/events", params={"limit": 1}))["total"] > 10
