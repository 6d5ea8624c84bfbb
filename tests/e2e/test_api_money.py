"""Money is exact over HTTP: JSON numbers are read as decimals, never floats, and every
amount, quantity, price and rate comes back as a string with its digits intact."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from o2c.api.deps import parse_json
from tests.e2e.conftest import API, ClientAs, ok, problem
from tests.fixtures.world import World

D = Decimal


class Raw(str):
    """A JSON token written as is (NaN, Infinity...)."""


def numbers_json(body: dict[str, Any]) -> bytes:
    """JSON with Decimals (and Raw tokens) written as bare JSON numbers, not strings."""
    text = json.dumps(body, default=lambda value: f"@@{value}@@")
    for token in re.findall(r'"@@(.*?)@@"', text):
        text = text.replace(f'"@@{token}@@"', token)
    for key, value in body.items():
        if isinstance(value, Raw):
            text = text.replace(json.dumps({key: str(value)})[1:-1], f'"{key}": {value}')
    return text.encode()


def _post(client: TestClient, path: str, body: dict[str, Any], status: int = 201) -> Any:
    response = client.post(path, content=numbers_json(body),
                           headers={"content-type": "application/json"})
    return ok(response, status) if status < 400 else problem(response, status)


def test_request_numbers_are_parsed_as_decimals_not_floats() -> None:
    parsed = parse_json('{"a": 0.1, "b": 12345678901234567.89, "c": 3, "d": 1e-7}')
    assert parsed == {"a": Decimal("0.1"), "b": Decimal("12345678901234567.89"), "c": 3,
                      "d": Decimal("1E-7")}
    assert not any(isinstance(v, float) for v in parsed.values())


def test_a_unit_price_of_six_decimals_survives_the_round_trip(client: TestClient,
                                                              world: World) -> None:
    product = _post(client, f"{API}/products", {
        "company_id": world.company_id, "sku": "NUT", "name": "Nut M3",
        "unit_price": D("0.034567")})
    assert product["unit_price"] == "0.034567"
    assert ok(client.get(f"{API}/products/{product['id']}"))["unit_price"] == "0.034567"

    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["SCREW"], "quantity": "1000"}]}), 201)
    line = order["lines"][0]
    assert (line["unit_price"], line["quantity"]) == ("0.034567", "1000")
    # 1000 x 0.034567 = 34.567 -> 34.57 (half up); 22% VAT of 34.57 = 7.6054 -> 7.61
    assert (order["net_amount"], order["tax_amount"], order["gross_amount"]) == (
        "34.57", "7.61", "42.18")


def test_a_credit_limit_beyond_float_precision_is_kept_to_the_cent(
        client: TestClient, client_as: ClientAs, world: World) -> None:
    # 98765432109876.54 as a float would be 98765432109876.546875. A limit that size needs a
    # second person: the administrator asks, a controller approves.
    customer = _post(client, f"{API}/customers", {
        "company_id": world.company_id, "name": "Big Buyer", "country": "DE"})
    request = _post(client, f"{API}/approvals", {
        "kind": "credit_limit", "object_id": customer["id"], "reason": "group guarantee",
        "credit_limit": D("98765432109876.54")})
    assert request["payload"] == {"credit_limit": "98765432109876.54"}
    ok(client_as("controller").post(f"{API}/approvals/{request['id']}/approve"))
    customer = ok(client.get(f"{API}/customers/{customer['id']}"))
    assert customer["credit_limit"] == "98765432109876.54"
    assert customer["credit"]["available"] == "98765432109876.54"


def test_amounts_may_be_sent_as_strings_or_numbers_and_come_back_as_strings(
        client: TestClient, world: World) -> None:
    as_number = _post(client, f"{API}/payments", {
        "customer_id": world.customers["rossi"], "amount": D("1000.10"), "currency": "EUR"})
    as_string = ok(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "1000.10", "currency": "EUR"}), 201)
    assert as_number["amount"] == as_string["amount"] == "1000.10"
    assert as_number["unapplied"] == "1000.10"
    assert isinstance(as_number["fx_rate"], str)


def test_quantities_with_decimals_and_fractional_prices_compute_exactly(
        client: TestClient, world: World) -> None:
    order = _post(client, f"{API}/orders", {
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["CHAIR"], "quantity": D("2.5"),
                   "unit_price": D("19.99"), "discount_percent": D("12.5")}]})
    line = order["lines"][0]
    assert (line["quantity"], line["unit_price"], line["discount_percent"]) == (
        "2.5", "19.99", "12.5")
    # 2.5 x 19.99 = 49.975, less 12.5% = 43.728125 -> 43.73
    assert line["net_amount"] == "43.73"


def test_usd_customer_is_invoiced_in_usd_at_the_exchange_rate(client: TestClient,
                                                              world: World) -> None:
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": world.customers["acme_us"],
        "lines": [{"product_id": world.products["CHAIR"], "quantity": "1"}]}), 201)
    assert order["currency"] == "USD"
    assert order["lines"][0]["unit_price"] == "132"  # the USD price list: 120.00 x 1.1
    [shipment_id] = ok(client.post(f"{API}/orders/{order['id']}/confirm"))["shipment_ids"]
    for step in ("pick", "pack"):
        ok(client.post(f"{API}/shipments/{shipment_id}/{step}"))
    [invoice] = ok(client.post(f"{API}/shipments/{shipment_id}/ship"))["invoices"]
    detail = ok(client.get(f"{API}/invoices/{invoice['id']}"))
    assert (detail["currency"], detail["company_currency"], detail["fx_rate"]) == (
        "USD", "EUR", "0.9")
    assert detail["gross_amount"] == "132.00"  # export: no VAT
    assert detail["gross_amount_company"] == "118.80"


def test_non_numbers_and_infinite_values_are_rejected(client: TestClient,
                                                      world: World) -> None:
    for amount in ("NaN", Raw("NaN"), Raw("Infinity"), "12,50", True):
        body = _post(client, f"{API}/payments", {
            "customer_id": world.customers["rossi"], "amount": amount, "currency": "EUR"}, 422)
        assert body["errors"][0]["field"] == "amount", amount
