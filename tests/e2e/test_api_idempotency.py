"""Idempotency-Key: a retried request returns the first response and writes nothing; a key
reused for another request is a 409."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from o2c.bootstrap import App
from tests.e2e.conftest import API, ok, problem, row_counts
from tests.fixtures.world import World


def _order(world: World, quantity: str = "2") -> dict[str, Any]:
    return {"customer_id": world.customers["rossi"],
            "lines": [{"product_id": world.products["CHAIR"], "quantity": quantity}]}


def test_retried_order_creation_returns_the_same_order_and_writes_nothing(
        client: TestClient, world: World, any_app: App) -> None:
    key = {"Idempotency-Key": "3f1c8d2e-order"}
    first = client.post(f"{API}/orders", json=_order(world), headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = row_counts(any_app.engine)

    again = client.post(f"{API}/orders", json=_order(world), headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"] == f"{API}/orders/1"
    assert row_counts(any_app.engine) == before
    assert ok(client.get(f"{API}/orders"))["total"] == 1


def test_the_same_amount_written_differently_is_the_same_request(
        client: TestClient, world: World, any_app: App) -> None:
    key = {"Idempotency-Key": "pay-42"}
    body = {"customer_id": world.customers["rossi"], "amount": "250.50", "currency": "EUR"}
    ok(client.post(f"{API}/payments", json=body, headers=key), 201)
    before = row_counts(any_app.engine)
    same = client.post(f"{API}/payments", headers={**key, "content-type": "application/json"},
                       content=b'{"currency": "EUR", "amount": 250.5, "customer_id": %d}'
                       % world.customers["rossi"])
    assert same.status_code == 201 and same.headers["Idempotent-Replayed"] == "true"
    assert same.json()["amount"] == "250.50"
    assert row_counts(any_app.engine) == before


def test_a_key_reused_with_another_body_is_a_conflict_and_writes_nothing(
        client: TestClient, world: World, any_app: App) -> None:
    key = {"Idempotency-Key": "reused"}
    ok(client.post(f"{API}/orders", json=_order(world, "2"), headers=key), 201)
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/orders", json=_order(world, "3"), headers=key), 409)
    assert body["code"] == "idempotency_key_reused" and body["key"] == "reused"
    # ... and on another endpoint too: a key names one operation.
    problem(client.post(f"{API}/payments", headers=key, json={
        "customer_id": world.customers["rossi"], "amount": "1.00", "currency": "EUR"}), 409)
    assert row_counts(any_app.engine) == before


def test_a_retried_confirmation_reserves_stock_once(client: TestClient, world: World,
                                                    any_app: App) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world, "5")), 201)
    key = {"Idempotency-Key": "confirm-once"}
    first = ok(client.post(f"{API}/orders/{order['id']}/confirm", headers=key))
    before = row_counts(any_app.engine)
    again = client.post(f"{API}/orders/{order['id']}/confirm", headers=key)
    # Without the key this would be a 409 (the order is already confirmed).
    assert again.status_code == 200 and again.json() == first
    assert row_counts(any_app.engine) == before
    [level] = ok(client.get(f"{API}/stock",
                            params={"product_id": world.products["CHAIR"]}))["items"]
    assert level["reserved"] == "5"


def test_a_retried_shipment_posts_one_invoice(client: TestClient, world: World,
                                              any_app: App) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    key = {"Idempotency-Key": "ship-once"}
    shipped = ok(client.post(f"{API}/shipments/{shipment_id}/ship",
                             json={"carrier": "DHL"}, headers=key))
    before = row_counts(any_app.engine)
    again = client.post(f"{API}/shipments/{shipment_id}/ship", json={"carrier": "DHL"},
                        headers=key)
    assert again.status_code == 200 and again.json() == shipped
    assert row_counts(any_app.engine) == before
    assert ok(client.get(f"{API}/invoices"))["total"] == 1


def test_retried_money_movements_are_applied_once(client: TestClient, world: World,
                                                  any_app: App) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    [invoice] = ok(client.post(f"{API}/shipments/{shipment_id}/ship"))["invoices"]
    payment = ok(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "100.00", "currency": "EUR"}), 201)

    steps: list[tuple[str, dict[str, Any]]] = [
        (f"{API}/payments/{payment['id']}/allocations",
         {"allocations": [{"invoice_id": invoice["id"], "amount": "100.00"}]}),
        (f"{API}/allocations/1/reverse", {"reason": "wrong invoice"}),
        (f"{API}/payments/{payment['id']}/reverse", {"reason": "bounced"}),
        (f"{API}/invoices/{invoice['id']}/credit-notes", {"reason": "returned"}),
        (f"{API}/stock/receive", {"warehouse_id": world.warehouse_id,
                                  "product_id": world.products["DESK"], "quantity": "3"}),
        (f"{API}/stock/adjust", {"warehouse_id": world.warehouse_id,
                                 "product_id": world.products["DESK"], "delta": "-1",
                                 "reason": "broken"}),
    ]
    for i, (path, body) in enumerate(steps):
        key = {"Idempotency-Key": f"step-{i}"}
        first = client.post(path, json=body, headers=key)
        assert first.status_code in (200, 201), first.text
        before = row_counts(any_app.engine)
        again = client.post(path, json=body, headers=key)
        assert (again.status_code, again.json()) == (first.status_code, first.json()), path
        assert again.headers["Idempotent-Replayed"] == "true"
        assert row_counts(any_app.engine) == before, path
    ledger = ok(client.get(f"{API}/ledger/verify"))
    assert ledger["ok"] is True


def test_a_failed_request_does_not_burn_its_key(client: TestClient, world: World) -> None:
    key = {"Idempotency-Key": "retry-after-fix"}
    problem(client.post(f"{API}/payments", headers=key, json={
        "customer_id": world.customers["rossi"], "amount": "5.00", "currency": "USD"}), 422)
    fixed = client.post(f"{API}/payments", headers=key, json={
        "customer_id": world.customers["rossi"], "amount": "5.00", "currency": "EUR"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_an_overlong_key_is_rejected(client: TestClient, world: World) -> None:
    body = problem(client.post(f"{API}/orders", json=_order(world),
                               headers={"Idempotency-Key": "k" * 201}), 422)
    assert body["errors"][0]["field"] == "Idempotency-Key"
