"""A warehouse's delivery route through the API: chosen at creation, changed with PATCH, and
shown on each shipment with the step it waits for."""

from __future__ import annotations

from fastapi.testclient import TestClient

from o2c.bootstrap import App
from tests.e2e.conftest import API, fields, ok, problem, row_counts
from tests.fixtures.world import World


def test_a_ship_only_warehouse_ships_a_confirmed_order_in_one_call(
        client: TestClient, world: World) -> None:
    changed = ok(client.patch(f"{API}/warehouses/{world.warehouse_id}",
                              json={"delivery_route": "ship_only"}))
    assert (changed["code"], changed["delivery_route"]) == ("MIL", "ship_only")
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["CHAIR"], "quantity": "2"}]}), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    waiting = ok(client.get(f"{API}/shipments/{shipment_id}"))
    assert (waiting["route"], waiting["state"], waiting["next_step"]) == (
        "ship_only", "ready", "ship")
    refused = problem(client.post(f"{API}/shipments/{shipment_id}/pick"), 409)
    assert "has no pick step" in refused["detail"]
    shipped = ok(client.post(f"{API}/shipments/{shipment_id}/ship", json={
        "carrier": "BRT", "tracking_number": "X1", "packages": 2}))
    assert (shipped["shipment"]["state"], shipped["shipment"]["packages"],
            shipped["shipment"]["next_step"]) == ("shipped", 2, "deliver")
    [invoice] = shipped["invoices"]
    assert invoice["gross_amount"] == "292.80"  # 2 x 120.00 + 22% VAT


def test_a_warehouse_is_created_with_its_route_and_lists_show_it(
        client: TestClient, world: World) -> None:
    created = ok(client.post(f"{API}/warehouses", json={
        "company_id": world.company_id, "code": "ROM", "name": "Roma",
        "delivery_route": "pick_ship"}), 201)
    assert created["delivery_route"] == "pick_ship"
    listed = ok(client.get(f"{API}/warehouses"))["items"]
    assert {w["code"]: w["delivery_route"] for w in listed} == {
        "MIL": "pick_pack_ship", "ROM": "pick_ship"}


def test_an_unknown_route_is_a_422_on_its_field_and_changes_nothing(
        client: TestClient, world: World, app: App) -> None:
    before = row_counts(app.engine)
    body = problem(client.patch(f"{API}/warehouses/{world.warehouse_id}",
                                json={"delivery_route": "drone"}), 422)
    assert fields(body) == ["delivery_route"]
    body = problem(client.post(f"{API}/warehouses", json={
        "company_id": world.company_id, "code": "ROM", "name": "Roma",
        "delivery_route": "teleport"}), 422)
    assert fields(body) == ["delivery_route"]
    assert row_counts(app.engine) == before
    assert ok(client.get(f"{API}/warehouses/{world.warehouse_id}"))["delivery_route"] == (
        "pick_pack_ship")
