"""What a fuzzer and a hostile client sent that the API used to take (or answer with a 500):
numbers beyond the database's range, text no document can carry, null where a value is
required, dates outside any business, lax numbers, countries and e-mails that do not exist,
bodies of any size. Each is refused with a 4xx problem naming where, and nothing is written.
Every integer, string and list the API accepts is bounded in its OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from o2c.bootstrap import App
from tests.e2e.conftest import API, ClientAs, fields, ok, problem, row_counts
from tests.fixtures.security import invoiced
from tests.fixtures.world import World

TOO_BIG = "2147483648"  # one past the largest PostgreSQL integer


@pytest.mark.parametrize("path", [
    f"/orders/{TOO_BIG}", f"/customers/{TOO_BIG}", f"/invoices/{TOO_BIG}/document",
    f"/orders/{TOO_BIG}/events", "/orders?offset=9223372036854775808",
    f"/orders?customer_id={TOO_BIG}", f"/ledger/trial-balance?company_id={TOO_BIG}",
    "/orders/0", "/payments?limit=100000"])
def test_numbers_beyond_what_the_database_holds_are_refused_not_a_server_error(
        client: TestClient, client_as: ClientAs, world: World, path: str) -> None:
    problem(client.get(API + path), 422)
    portal = client_as("customer", customer_id=world.customers["rossi"])
    assert portal.get(API + path).status_code in (403, 422)


def test_text_no_document_can_carry_is_refused_where_it_enters(
        any_app: App, client: TestClient, world: World) -> None:
    """A customer named "Ctrl\\u0007Char" was accepted; its UBL and Factur-X then failed to
    render, every time."""
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/customers", json={
        "company_id": world.company_id, "name": "Ctrl\u0007Char", "country": "IT"}), 422)
    assert fields(body) == ["name"] and "U+0007" in body["detail"]
    body = problem(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"], "notes": "ok",
        "lines": [{"product_id": world.products["CHAIR"], "quantity": "1",
                   "description": "chair \x1b[31m"}]}), 422)
    assert fields(body) == ["lines[0].description"]
    body = problem(client.patch(f"{API}/customers/{world.customers['rossi']}", json={
        "billing_address": {"city": "Mi\x00lano"}}), 422)
    assert fields(body) == ["billing_address.city"]
    body = problem(client.get(f"{API}/customers", params={"q": "\x00"}), 422)
    assert fields(body) == ["q"]
    lone_surrogate = ('{"company_id": ' + str(world.company_id)
                      + ', "name": "Lone \\ud800 surrogate", "country": "IT"}')
    body = problem(client.post(f"{API}/customers", content=lone_surrogate,
                               headers={"Content-Type": "application/json"}), 422)
    assert fields(body) == ["name"]
    assert row_counts(any_app.engine) == before
    # Line breaks and tabs are text; accents, CJK and emoji too.
    ok(client.post(f"{API}/customers", json={
        "company_id": world.company_id, "name": "Café Ñandú 北京 🍝", "country": "IT",
        "tax_code": "RSSMRA80A01H501U",
        "billing_address": {"line1": "Via Roma 1\tscala B"}}), 201)


@pytest.mark.parametrize(("path", "patch", "field"), [
    ("products/{product}", {"prices": None}, "prices"),
    ("products/{product}", {"name": None}, "name"),
    ("customers/{customer}", {"billing_address": None}, "billing_address"),
    ("customers/{customer}", {"name": None}, "name"),
    ("customers/{customer}", {"payment_terms_code": None}, "payment_terms_code"),
    ("warehouses/{warehouse}", {"address": None}, "address")])
def test_null_is_refused_where_it_means_nothing(
        any_app: App, client: TestClient, world: World, path: str, patch: dict[str, Any],
        field: str) -> None:
    target = path.format(product=world.products["CHAIR"], customer=world.customers["rossi"],
                         warehouse=world.warehouse_id)
    before = row_counts(any_app.engine)
    body = problem(client.patch(f"{API}/{target}", json=patch), 422)
    assert fields(body) == [field] and "may not be null" in body["detail"]
    assert row_counts(any_app.engine) == before


def _dates(world: World, invoice_id: int) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    rossi = world.customers["rossi"]
    order = {"customer_id": rossi,
             "lines": [{"product_id": world.products["CHAIR"], "quantity": "1"}]}
    yield "GET", "/reports/dashboard?as_of=0001-01-01", {}, "as_of"
    yield "GET", "/orders?date_from=0", {}, "date_from"
    yield "GET", "/invoices?date_to=9999-12-31", {}, "date_to"
    yield "POST", "/orders", {**order, "order_date": 0}, "order_date"
    yield "POST", "/orders", {**order, "order_date": "2026-02-30"}, "order_date"
    yield "POST", "/orders", {**order, "order_date": "1999-12-31"}, "order_date"
    yield "POST", "/payments", {"customer_id": rossi, "amount": "10", "currency": "EUR",
                                "received_on": "9999-12-31"}, "received_on"
    yield "POST", f"/invoices/{invoice_id}/credit-notes", {
        "reason": "x", "on": "3317-08-05"}, "on"


def test_dates_must_lie_in_a_business_window_and_be_written_as_dates(
        any_app: App, client: TestClient, world: World) -> None:
    invoice_id = invoiced(any_app.bus, any_app.engine, world).invoice_id
    before = row_counts(any_app.engine)
    for method, path, body, field in _dates(world, invoice_id):
        answer = problem(client.request(method, API + path, json=body or None), 422)
        assert fields(answer) == [field], (path, answer)
    assert row_counts(any_app.engine) == before


@pytest.mark.parametrize("amount", ["1_000", " 5 ", "٣", "1e3", "NaN", "Infinity", "0x10",
                                    "5,00", "+-5", ""])
def test_amounts_are_plain_ascii_decimals(any_app: App, client: TestClient, world: World,
                                          amount: str) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": amount, "currency": "EUR"}), 422)
    assert fields(body) == ["amount"]
    assert row_counts(any_app.engine) == before


def test_countries_are_iso_3166_and_e_mails_are_addresses(
        any_app: App, client: TestClient, world: World) -> None:
    customer = {"company_id": world.company_id, "name": "Somebody", "country": "IT",
                "tax_code": "RSSMRA80A01H501U"}
    before = row_counts(any_app.engine)
    for change, field in [({"country": "LÚ"}, "country"), ({"country": "XX"}, "country"),
                          ({"country": "EU"}, "country"),
                          ({"email": "not an email"}, "email"),
                          ({"email": "a@b"}, "email"),
                          ({"billing_address": {"country": "ZZ"}}, "billing_address.country")]:
        body = problem(client.post(f"{API}/customers", json={**customer, **change}), 422)
        assert fields(body) == [field], (change, body)
    body = problem(client.patch(f"{API}/customers/{world.customers['rossi']}",
                                json={"email": "rossi at example"}), 422)
    assert fields(body) == ["email"]
    assert row_counts(any_app.engine) == before
    created = ok(client.post(f"{API}/customers", json={
        **customer, "email": "Fatture@Rossi.EXAMPLE"}), 201)
    assert created["email"] == "Fatture@rossi.example"  # the domain is not case-sensitive


def test_free_text_and_bodies_have_a_size_limit(any_app: App, client: TestClient,
                                                client_as: ClientAs, world: World) -> None:
    """A portal user's 20 MB order note was accepted, and lists answered 22 MB."""
    portal = client_as("customer", customer_id=world.customers["rossi"])
    order = {"customer_id": world.customers["rossi"],
             "lines": [{"product_id": world.products["CHAIR"], "quantity": "1"}]}
    before = row_counts(any_app.engine)
    body = problem(portal.post(f"{API}/orders", json={**order, "notes": "x" * 2001}), 422)
    assert fields(body) == ["notes"]
    huge = problem(portal.post(f"{API}/orders", json={**order, "notes": "x" * 20_000_000}),
                   413)
    assert huge["code"] == "request_too_large"
    chunked = client.post(f"{API}/orders", content=iter([b'{"notes": "', b"x" * 2_000_000,
                                                         b'"}']),
                          headers={"Content-Type": "application/json"})
    problem(chunked, 413)
    assert row_counts(any_app.engine) == before
    ok(portal.post(f"{API}/orders", json={**order, "notes": "x" * 2000}), 201)


def _unbounded(schema: dict[str, Any], components: dict[str, Any], where: str,
               seen: frozenset[str] = frozenset()) -> Iterator[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _unbounded(components[name], components, where, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _unbounded(part, components, where, seen)
    kind = schema.get("type")
    if kind == "integer" and not {"minimum", "maximum"} <= schema.keys():
        yield f"{where}: integer without minimum and maximum"
    if kind == "string" and not schema.keys() & {"maxLength", "enum", "const", "pattern",
                                                 "format", "contentMediaType"}:
        yield f"{where}: string without maxLength"
    if kind == "array" and "maxItems" not in schema:
        yield f"{where}: array without maxItems"
    if "items" in schema:
        yield from _unbounded(schema["items"], components, f"{where}[]", seen)
    for name, part in schema.get("properties", {}).items():
        yield from _unbounded(part, components, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if "maxProperties" not in schema:
            yield f"{where}: object without maxProperties"
        yield from _unbounded(extra, components, f"{where}.*", seen)


def test_every_number_text_and_list_the_api_accepts_is_bounded(anonymous: TestClient) -> None:
    """What made the fuzzer's 500s possible: ids and offsets of any size, texts and lists of
    any length. The document says each bound, and the API holds to it."""
    spec = anonymous.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found += _unbounded(parameter["schema"], components,
                                    f"{where} {parameter['in']} {parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                found += _unbounded(media["schema"], components, f"{where} body")
    assert found == []


def test_every_operation_documents_the_problems_it_can_answer(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            if operation.get("security") == []:
                continue  # public: health
            expected = {"401", "403", "422"} | ({"413"} if "requestBody" in operation else set())
            missing += [f"{method.upper()} {path} {code}" for code in expected - documented]
    assert missing == []


@pytest.mark.parametrize("body", ["6.5720255573102184e+16", "5", '"token"', "[]", "true"])
def test_a_body_that_is_not_a_json_object_is_refused_not_read_as_all_defaults(
        any_app: App, client: TestClient, body: str) -> None:
    """A bare number as the body of POST /tokens minted a token with every field defaulted."""
    before = row_counts(any_app.engine)
    answer = problem(client.post(f"{API}/tokens", content=body,
                                 headers={"Content-Type": "application/json"}), 422)
    assert fields(answer) == ["body"]
    assert row_counts(any_app.engine) == before


def test_a_query_parameter_the_operation_does_not_have_is_refused(client: TestClient) -> None:
    """A typo in a filter (`custmer_id`) must not silently list every order."""
    answer = problem(client.get(f"{API}/orders", params={"custmer_id": "1"}), 422)
    assert fields(answer) == ["custmer_id"]
    ok(client.get(f"{API}/orders", params={"customer_id": "1", "limit": "5"}))
