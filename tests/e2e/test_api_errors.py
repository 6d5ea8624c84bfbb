"""Rejected requests: RFC 9457 problems with field paths, the right status per error kind,
and not one row written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from o2c.api import create_app
from o2c.api.permissions import PERMISSIONS
from o2c.bootstrap import App
from o2c.domain.access import Role
from tests.e2e.conftest import API, fields, ok, problem, row_counts, token_for
from tests.fixtures.world import World


def _order(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"customer_id": world.customers["rossi"],
                            "lines": [{"product_id": world.products["CHAIR"], "quantity": "2"}]}
    body.update(overrides)
    return body


def test_negative_quantity_is_rejected_with_the_line_field_and_writes_nothing(
        client: TestClient, world: World, any_app: App) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/orders", json=_order(world, lines=[
        {"product_id": world.products["CHAIR"], "quantity": "1"},
        {"product_id": world.products["DESK"], "quantity": "-3"}])), 422)
    assert body["code"] == "invalid_input"
    assert body["type"] == "urn:o2c:problem:invalid_input"
    assert body["instance"] == f"{API}/orders"
    assert fields(body) == ["lines[1].quantity"]
    assert "greater than zero" in body["errors"][0]["message"]
    assert row_counts(any_app.engine) == before


def test_malformed_body_lists_every_field_with_its_path(client: TestClient,
                                                        world: World) -> None:
    body = problem(client.post(f"{API}/orders", json={
        "customer_id": "not-a-number", "lines": [{"product_id": 1, "quantity": "lots"}],
        "colour": "red"}), 422)
    assert body["code"] == "validation_error"
    assert set(fields(body)) == {"customer_id", "lines[0].quantity", "colour"}


def test_missing_body_and_invalid_json_are_validation_problems(client: TestClient) -> None:
    assert fields(problem(client.post(f"{API}/payments"), 422)) == ["body"]
    broken = problem(client.post(f"{API}/payments", content=b'{"amount": 1,',
                                 headers={"content-type": "application/json"}), 422)
    assert broken["code"] == "validation_error"


def test_invalid_vat_id_is_rejected_on_the_vat_id_field(client: TestClient, world: World,
                                                        any_app: App) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/customers", json={
        "company_id": world.company_id, "name": "Bianchi S.r.l.", "country": "IT",
        "vat_id": "IT12345678901"}), 422)
    assert fields(body) == ["vat_id"]
    assert "VAT id" in body["detail"]
    assert row_counts(any_app.engine) == before


def test_unknown_customer_on_an_order_is_a_404_naming_the_customer_id_field(
        client: TestClient, world: World, any_app: App) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/orders", json=_order(world, customer_id=9999)), 404)
    assert body["code"] == "not_found"
    assert (body["object_type"], body["key"]) == ("customer", 9999)
    assert fields(body) == ["customer_id"]
    assert row_counts(any_app.engine) == before


def test_unknown_product_on_a_line_names_the_line(client: TestClient, world: World) -> None:
    body = problem(client.post(f"{API}/orders", json=_order(world, lines=[
        {"product_id": 4242, "quantity": "1"}])), 404)
    assert fields(body) == ["lines[0].product_id"]


def test_unknown_object_in_the_path_is_a_404_without_field(client: TestClient,
                                                           world: World) -> None:
    body = problem(client.get(f"{API}/orders/777"), 404)
    assert body["detail"] == "order 777 does not exist" and "errors" not in body
    problem(client.post(f"{API}/shipments/777/pick"), 404)
    problem(client.get(f"{API}/orders/777/events"), 404)
    assert problem(client.get(f"{API}/no-such-thing"), 404)["code"] == "not_found"


def test_payment_in_another_currency_than_the_customers_is_rejected(
        client: TestClient, world: World, any_app: App) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "100.00", "currency": "USD"}), 422)
    assert body["code"] == "currency_mismatch"
    assert (body["expected"], body["got"]) == ("EUR", "USD")
    assert fields(body) == ["currency"]
    assert row_counts(any_app.engine) == before


def test_amount_finer_than_the_currency_allows_is_rejected(client: TestClient,
                                                           world: World) -> None:
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "10.005", "currency": "EUR"}), 422)
    assert fields(body) == ["amount"]
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "10.00001", "currency": "EUR"}), 422)
    assert body["code"] == "validation_error" and fields(body) == ["amount"]


def test_confirming_a_confirmed_order_is_an_illegal_transition_409(
        client: TestClient, world: World, any_app: App) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    ok(client.post(f"{API}/orders/{order['id']}/confirm"))
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/orders/{order['id']}/confirm"), 409)
    assert body["code"] == "invalid_transition"
    assert (body["object_type"], body["state"], body["action"]) == (
        "order", "confirmed", "confirm")
    assert row_counts(any_app.engine) == before


def test_shipping_a_shipment_that_was_never_packed_is_a_409(client: TestClient,
                                                            world: World) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    body = problem(client.post(f"{API}/shipments/{shipment_id}/ship"), 409)
    assert body["code"] == "invalid_transition" and body["state"] == "ready"


def test_a_payment_whose_allocation_fails_is_not_recorded_at_all(
        client: TestClient, world: World, any_app: App) -> None:
    """The payment row and its journal entry are written before the allocation fails: the
    transaction must roll all of it back."""
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    [invoice] = ok(client.post(f"{API}/shipments/{shipment_id}/ship"))["invoices"]
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "1000.00", "currency": "EUR",
        "allocations": [{"invoice_id": invoice["id"], "amount": "999.00"}]}), 422)
    assert body["code"] == "over_allocation"
    assert fields(body) == ["allocations[0].amount"]
    assert row_counts(any_app.engine) == before
    assert ok(client.get(f"{API}/payments"))["total"] == 0


def test_crediting_more_than_was_invoiced_is_rejected_on_the_line(client: TestClient,
                                                                  world: World) -> None:
    order = ok(client.post(f"{API}/orders", json=_order(world)), 201)
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    [invoice] = ok(client.post(f"{API}/shipments/{shipment_id}/ship"))["invoices"]
    detail = ok(client.get(f"{API}/invoices/{invoice['id']}"))
    body = problem(client.post(f"{API}/invoices/{invoice['id']}/credit-notes", json={
        "reason": "goodwill",
        "lines": [{"invoice_line_id": detail["lines"][0]["id"], "quantity": "3"}]}), 422)
    assert fields(body) == ["lines[0].quantity"]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset"),
    ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_from"),
    ({"state": "lost"}, "state"),
])
def test_bad_list_parameters_are_field_errors(client: TestClient, params: dict[str, Any],
                                              field: str) -> None:
    assert fields(problem(client.get(f"{API}/orders", params=params), 422)) == [field]


def test_problem_documents_are_described_in_the_openapi_schema(client: TestClient) -> None:
    spec = ok(client.get("/openapi.json"))
    create_order = spec["paths"][f"{API}/orders"]["post"]
    assert {"201", "404", "409", "422"} <= create_order["responses"].keys()
    assert "application/problem+json" in create_order["responses"]["422"]["content"]
    assert "Idempotency-Key" in [p["name"] for p in create_order["parameters"]]
    assert client.get("/docs").status_code == 200


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    body = problem(client.put(f"{API}/orders"), 405)
    assert body["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_500_problem_that_reveals_nothing(
        any_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    api = create_app(any_app)
    monkeypatch.setitem(PERMISSIONS, "boom", frozenset({Role.ADMIN}))

    @api.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret connection string")

    with TestClient(api, raise_server_exceptions=False) as failing:
        failing.headers["Authorization"] = f"Bearer {token_for(any_app, 'admin', 'admin')}"
        body = problem(failing.get("/boom"), 500)
    assert body["code"] == "internal_error" and "secret" not in str(body)
    assert failing.get("/boom").headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_documentation_is_served_from_the_package_without_a_cdn_or_inline_script(
        client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text and "<script>" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "http" not in csp
    for src in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src


def test_a_broken_json_body_is_refused_naming_the_line_and_column_where_it_broke(
        client: TestClient, world: World) -> None:
    body = '{"customer_id": 1,\n "lines": [{"product_id": 1, "quantity": }]}'
    response = client.post(f"{API}/orders", content=body,
                           headers={"Content-Type": "application/json"})
    found = problem(response, 422)
    [error] = found["errors"]
    assert (error["field"], error["line"], error["column"]) == ("body", 2, 42)
    assert "line 2, column 42" in error["message"] and "[" not in error["field"]


def test_money_as_a_json_number_is_taken_exactly_as_written(client: TestClient,
                                                            world: World) -> None:
    created = ok(client.post(f"{API}/payments", content=(
        f'{{"customer_id": {world.customers["rossi"]}, "amount": 0.10, "currency": "EUR"}}'),
        headers={"Content-Type": "application/json"}), 201)
    assert created["amount"] == "0.10"
