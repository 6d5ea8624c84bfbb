"""Setting up a business through the API: company, terms, rates, warehouse, products,
customers and stock; master-data changes are recorded."""

from __future__ import annotations

from fastapi.testclient import TestClient

from o2c.bootstrap import App
from tests.e2e.conftest import API, fields, ok, problem, row_counts
from tests.fixtures.world import World


def test_a_new_business_can_be_set_up_and_sell_through_the_api(client: TestClient) -> None:
    company = client.post(f"{API}/companies", json={
        "code": "VINO", "name": "Vini Veneti S.r.l.", "country": "IT", "currency": "EUR",
        "vat_id": "IT00743110157", "address": {"city": "Verona"}})
    assert company.status_code == 201
    assert company.headers["Location"] == f"{API}/companies/{company.json()['id']}"
    company_id = company.json()["id"]
    terms = ok(client.post(f"{API}/payment-terms", json={
        "code": "NET30", "name": "Net 30", "lines": [{"percent": "100", "days": 30}]}), 201)
    assert terms["lines"] == [{"percent": "100", "days": 30, "end_of_month": False}]
    assert ok(client.get(f"{API}/payment-terms/NET30"))["name"] == "Net 30"
    vat = ok(client.post(f"{API}/vat-rates", json={
        "country": "IT", "category": "standard", "rate": "22", "valid_from": "2013-10-01"}),
        201)
    assert (vat["rate"], vat["valid_to"]) == ("22", None)
    fx = ok(client.post(f"{API}/exchange-rates", json={
        "currency": "CHF", "company_currency": "EUR", "rate": "1.0512345678",
        "on": "2026-03-01"}), 201)
    assert fx["rate"] == "1.0512345678"
    warehouse = ok(client.post(f"{API}/warehouses", json={
        "company_id": company_id, "code": "VR", "name": "Verona"}), 201)
    product = ok(client.post(f"{API}/products", json={
        "company_id": company_id, "sku": "AMARONE", "name": "Amarone 2019",
        "unit_price": "42.00", "unit": "C62", "prices": {"CHF": "45.50"}}), 201)
    assert product["prices"] == {"CHF": "45.50"} and product["stock"] == []
    received = ok(client.post(f"{API}/stock/receive", json={
        "warehouse_id": warehouse["id"], "product_id": product["id"], "quantity": "60"}))
    assert received["on_hand"] == "60" and received["warehouse"] == "VR"
    customer = ok(client.post(f"{API}/customers", json={
        "company_id": company_id, "name": "Enoteca Roma", "country": "IT",
        "vat_id": "00743110157", "credit_limit": "1000"}), 201)
    assert customer["vat_id"] == "IT00743110157"  # normalised with its country prefix
    assert customer["code"] == "C-00001" and customer["currency"] == "EUR"
    assert customer["credit"]["available"] == "1000.00"

    order = ok(client.post(f"{API}/orders", json={
        "customer_id": customer["id"],
        "lines": [{"product_id": product["id"], "quantity": "12"}]}), 201)
    assert order["gross_amount"] == "614.88"  # 504.00 + 22%
    confirmed = ok(client.post(f"{API}/orders/{order['id']}/confirm"))
    assert confirmed["state"] == "confirmed"
    assert ok(client.get(f"{API}/products/{product['id']}"))["stock"][0]["reserved"] == "12"
    after = ok(client.get(f"{API}/customers/{customer['id']}"))["credit"]
    assert (after["uninvoiced_orders"], after["available"]) == ("614.88", "385.12")


def test_customer_changes_are_applied_and_logged(client: TestClient, world: World) -> None:
    rossi = world.customers["rossi"]
    changed = ok(client.patch(f"{API}/customers/{rossi}", json={
        "credit_limit": "7500.00", "email": "finance@rossi.example"}))
    assert changed["credit_limit"] == "7500.00"
    assert changed["email"] == "finance@rossi.example"
    assert changed["name"] == "Rossi Arredamenti S.p.A."  # not sent, not changed
    # Removing the limit is more than any raise: a second person approves it.
    refused = problem(client.patch(f"{API}/customers/{rossi}", json={"credit_limit": None}),
                      422)
    assert refused["code"] == "approval_required"
    events = ok(client.get(f"{API}/customers/{rossi}/events"))["items"]
    assert [e["event"] for e in events] == ["created", "updated"]
    assert events[1]["data"]["changes"]["credit_limit"]["after"] == "7500.00"
    assert events[1]["actor"] == "admin"


def test_invalid_customer_change_is_rejected_and_nothing_changes(
        client: TestClient, world: World, any_app: App) -> None:
    rossi = world.customers["rossi"]
    before = row_counts(any_app.engine)
    body = problem(client.patch(f"{API}/customers/{rossi}", json={
        "payment_terms_code": "NET999"}), 404)
    assert fields(body) == ["payment_terms_code"]
    body = problem(client.patch(f"{API}/customers/{rossi}", json={"language": "xx"}), 422)
    assert fields(body) == ["language"]
    assert fields(problem(client.patch(f"{API}/customers/{rossi}",
                                       json={"country": "FR"}), 422)) == ["country"]
    assert row_counts(any_app.engine) == before
    assert ok(client.get(f"{API}/customers/{rossi}"))["language"] == "it"


def test_product_price_change_and_deactivation(client: TestClient, world: World) -> None:
    chair = world.products["CHAIR"]
    changed = ok(client.patch(f"{API}/products/{chair}", json={
        "unit_price": "125.50", "active": False}))
    assert (changed["unit_price"], changed["active"]) == ("125.5", False)
    assert changed["stock"][0]["on_hand"] == "100"
    body = problem(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": chair, "quantity": "1"}]}), 422)
    assert fields(body) == ["lines[0].product_id"]


def test_stock_count_sets_on_hand_and_refuses_to_go_below_reservations(
        client: TestClient, world: World, any_app: App) -> None:
    desk = world.products["DESK"]
    counted = ok(client.post(f"{API}/stock/adjust", json={
        "warehouse_id": world.warehouse_id, "product_id": desk, "counted": "97",
        "reason": "annual count"}))
    assert counted["on_hand"] == "97"
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": desk, "quantity": "40"}]}), 201)
    assert ok(client.post(f"{API}/orders/{order['id']}/confirm"))["state"] == "confirmed"
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/stock/adjust", json={
        "warehouse_id": world.warehouse_id, "product_id": desk, "delta": "-60",
        "reason": "water damage"}), 422)
    assert body["code"] == "insufficient_stock" and fields(body) == ["quantity"]
    both = problem(client.post(f"{API}/stock/adjust", json={
        "warehouse_id": world.warehouse_id, "product_id": desk, "delta": "1", "counted": "1",
        "reason": "?"}), 422)
    assert fields(both) == ["delta"]
    unknown = problem(client.post(f"{API}/stock/receive", json={
        "warehouse_id": 99, "product_id": desk, "quantity": "1"}), 404)
    assert fields(unknown) == ["warehouse_id"]
    assert row_counts(any_app.engine) == before


def test_duplicates_are_conflicts(client: TestClient, world: World) -> None:
    body = problem(client.post(f"{API}/companies", json={
        "code": "ACME", "name": "Another Acme", "country": "IT", "currency": "EUR"}), 409)
    assert body["code"] == "already_exists" and fields(body) == ["code"]
    problem(client.post(f"{API}/products", json={
        "company_id": world.company_id, "sku": "CHAIR", "name": "Chair again",
        "unit_price": "1"}), 409)
    unknown = problem(client.post(f"{API}/customers", json={
        "company_id": 404, "name": "Nobody", "country": "IT"}), 404)
    assert fields(unknown) == ["company_id"]


def test_the_company_register_data_and_product_kind_travel_through_the_api(
        client: TestClient, world: World) -> None:
    """What Italian invoices must show of the seller (REA, capital, sole shareholder) and
    whether a product is a service (reverse charged to a business abroad) are set here."""
    company = ok(client.post(f"{API}/companies", json={
        "code": "REA", "name": "Registro S.r.l.", "country": "IT", "currency": "EUR",
        "registration": {"tax_code": "00743110157", "register_office": "MO",
                         "register_number": "123456", "share_capital": "10000.00",
                         "sole_shareholder": True}}), 201)
    assert company["registration"]["register_office"] == "MO"
    assert company["registration"]["sole_shareholder"] is True
    body = problem(client.post(f"{API}/companies", json={
        "code": "BAD", "name": "Bad S.r.l.", "country": "IT", "currency": "EUR",
        "registration": {"register_office": "MO"}}), 422)
    assert fields(body) == ["registration.register_number"]
    service = ok(client.post(f"{API}/products", json={
        "company_id": world.company_id, "sku": "INSTALL", "name": "Installation",
        "unit_price": "80.00", "unit": "HUR", "kind": "service"}), 201)
    assert service["kind"] == "service"
    changed = ok(client.patch(f"{API}/products/{service['id']}", json={"kind": "goods"}))
    assert changed["kind"] == "goods"
    problem(client.patch(f"{API}/products/{service['id']}", json={"kind": "rental"}), 422)
