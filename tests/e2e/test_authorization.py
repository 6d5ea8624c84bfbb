"""Authorization over HTTP (OWASP API1 object level, API3 property level, API5 function
level): portal customers see only their account, 404 for the objects of others; no request
can set what the system computes; each role is refused what it must not do; changes that need
a second person are requested by one user and approved by another."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.api import create_app
from o2c.api.permissions import PERMISSIONS
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import CreateToken, Role
from tests.e2e.conftest import (
    API,
    ClientAs,
    advance,
    fields,
    ok,
    problem,
    row_counts,
    token_for,
)
from tests.fixtures.security import Invoiced, invoiced
from tests.fixtures.world import World

D = Decimal


@pytest.fixture
def books(any_app: App, world: World) -> dict[str, Any]:
    """An invoice and a payment for Rossi and for Dupont."""
    out: dict[str, Any] = {}
    for name in ("rossi", "dupont"):
        done = invoiced(any_app.bus, any_app.engine, world, name)
        payment = any_app.bus.handle(c.RecordPayment(world.customers[name], D(50), "EUR"))
        out[name] = (done, payment)
    return out


# -- API1: object level ------------------------------------------------------------------------


def test_a_portal_customer_sees_its_own_documents_and_none_of_another_customer(
        any_app: App, world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    rossi_id = world.customers["rossi"]
    portal = client_as("customer", customer_id=rossi_id)
    mine: Invoiced = books["rossi"][0]
    theirs: Invoiced = books["dupont"][0]
    ok(portal.get(f"{API}/orders/{mine.order_id}"))
    ok(portal.get(f"{API}/invoices/{mine.invoice_id}"))
    ok(portal.get(f"{API}/payments/{books['rossi'][1]}"))
    ok(portal.get(f"{API}/customers/{rossi_id}"))
    for path in (f"orders/{theirs.order_id}", f"invoices/{theirs.invoice_id}",
                 f"payments/{books['dupont'][1]}", f"shipments/{theirs.shipment_id}",
                 f"customers/{world.customers['dupont']}"):
        body = problem(portal.get(f"{API}/{path}"), 404)  # not 403: it does not exist for them
        assert body["code"] == "not_found"
    problem(portal.get(f"{API}/orders/not-a-number"), 422)
    # An object of another customer answers exactly like one that does not exist.
    missing = problem(portal.get(f"{API}/orders/999999"), 404)
    other = problem(portal.get(f"{API}/orders/{theirs.order_id}"), 404)
    assert {k: v for k, v in missing.items() if k not in ("detail", "instance", "key")} == \
        {k: v for k, v in other.items() if k not in ("detail", "instance", "key")}


def test_a_portal_customers_lists_hold_only_its_account_whatever_the_filter(
        world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    portal = client_as("customer", customer_id=rossi)
    for collection in ("orders", "invoices", "payments", "shipments", "allocations"):
        for params in ({}, {"customer_id": dupont}):
            items = ok(portal.get(f"{API}/{collection}", params=params))["items"]
            assert {i["customer_id"] for i in items} <= {rossi}, collection
    assert ok(portal.get(f"{API}/orders"))["total"] == 1


def test_a_portal_customer_cannot_change_another_customers_order(
        any_app: App, world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    portal = client_as("customer", customer_id=world.customers["rossi"])
    dupont_order = any_app.bus.handle(c.CreateOrder(world.customers["dupont"], (
        c.OrderLineInput(world.products["BOOK"], D(1)),)))
    before = row_counts(any_app.engine)
    problem(portal.post(f"{API}/orders/{dupont_order}/cancel", json={}), 404)
    body = problem(portal.post(f"{API}/orders", json={
        "customer_id": world.customers["dupont"],
        "lines": [{"product_id": world.products["BOOK"], "quantity": "1"}]}), 404)
    assert fields(body) == ["customer_id"]
    assert row_counts(any_app.engine) == before
    # Its own account: allowed.
    own = ok(portal.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["BOOK"], "quantity": "1"}]}), 201)
    ok(portal.post(f"{API}/orders/{own['id']}/cancel", json={}))


def test_a_portal_customer_reaches_nothing_of_the_back_office(
        world: World, client_as: ClientAs) -> None:
    portal = client_as("customer", customer_id=world.customers["rossi"])
    for method, path in [("GET", "customers"), ("GET", "events"), ("GET", "ledger/verify"),
                         ("GET", "audit"), ("GET", "users"), ("POST", "payments"),
                         ("GET", "stock")]:
        assert problem(portal.request(method, f"{API}/{path}", json={}), 403)["code"] == \
            "forbidden"


# -- API3: property level ----------------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    {"state": "confirmed"}, {"total_amount": "0.01"}, {"gross_amount": "1"},
    {"paid": True}, {"id": 1}, {"invoiced_amount": "0"},
])
def test_computed_fields_cannot_be_set_on_an_order(any_app: App, client: TestClient,
                                                   world: World, extra: dict[str, Any]) -> None:
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["CHAIR"], "quantity": "1", **extra}],
        **extra}), 422)
    [name] = extra
    assert sorted(fields(body)) == sorted([f"lines[0].{name}", name])
    assert row_counts(any_app.engine) == before


@pytest.mark.parametrize(("path", "payload"), [
    ("customers/{rossi}", {"customer_id": 2}), ("customers/{rossi}", {"id": 9}),
    ("customers/{rossi}", {"version": 0}), ("customers/{rossi}", {"company_id": 2}),
])
def test_identity_and_versions_of_a_customer_cannot_be_reassigned(
        any_app: App, client: TestClient, world: World, path: str,
        payload: dict[str, Any]) -> None:
    before = row_counts(any_app.engine)
    target = path.format(rossi=world.customers["rossi"])
    body = problem(client.patch(f"{API}/{target}", json=payload), 422)
    assert list(payload) == fields(body)
    assert row_counts(any_app.engine) == before


def test_a_payment_cannot_be_recorded_as_already_allocated_or_for_a_state(
        client: TestClient, world: World) -> None:
    body = problem(client.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "10", "currency": "EUR",
        "state": "reversed", "unapplied": "0", "paid": True}), 422)
    assert set(fields(body)) == {"state", "unapplied", "paid"}


def test_a_new_user_cannot_smuggle_a_customer_or_get_a_role_that_does_not_exist(
        client: TestClient, world: World) -> None:
    body = problem(client.post(f"{API}/users", json={"username": "eve", "role": "root"}), 422)
    assert fields(body) == ["role"]
    body = problem(client.post(f"{API}/users", json={
        "username": "eve", "role": "sales", "customer_id": world.customers["rossi"]}), 422)
    assert fields(body) == ["customer_id"]
    body = problem(client.post(f"{API}/users", json={
        "username": "eve", "role": "sales", "disabled": False}), 422)
    assert fields(body) == ["disabled"]


# -- API5: function level ----------------------------------------------------------------------


def test_the_warehouse_cannot_post_payments(any_app: App, world: World,
                                            client_as: ClientAs) -> None:
    warehouse = client_as("warehouse")
    before = row_counts(any_app.engine)
    body = problem(warehouse.post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "10", "currency": "EUR"}), 403)
    assert "warehouse may not record payment" in body["detail"]
    assert row_counts(any_app.engine) == before
    ok(client_as("ar_clerk").post(f"{API}/payments", json={
        "customer_id": world.customers["rossi"], "amount": "10", "currency": "EUR"}), 201)


def test_sales_cannot_release_a_credit_hold_but_the_credit_manager_can(
        any_app: App, world: World, client_as: ClientAs) -> None:
    sales = client_as("sales")
    order = ok(sales.post(f"{API}/orders", json={
        "customer_id": world.customers["rossi"],
        "lines": [{"product_id": world.products["DESK"], "quantity": "20"}]}), 201)
    held = ok(sales.post(f"{API}/orders/{order['id']}/confirm"))
    assert held["state"] == "credit_hold"
    problem(sales.post(f"{API}/orders/{order['id']}/release", json={"reason": "I know them"}),
            403)
    released = ok(client_as("credit_manager").post(
        f"{API}/orders/{order['id']}/release", json={"reason": "guarantee received"}))
    assert released["state"] == "confirmed"


def test_only_a_credit_manager_changes_credit_fields_even_where_sales_edit_the_customer(
        world: World, client_as: ClientAs) -> None:
    sales = client_as("sales")
    rossi = world.customers["rossi"]
    ok(sales.patch(f"{API}/customers/{rossi}", json={"email": "orders@rossi.example"}))
    body = problem(sales.patch(f"{API}/customers/{rossi}", json={"credit_limit": "6000"}), 403)
    assert fields(body) == ["credit_limit"]
    ok(client_as("credit_manager").patch(f"{API}/customers/{rossi}",
                                         json={"credit_limit": "6000"}))


def test_sales_create_customers_but_not_their_credit_terms(world: World,
                                                           client_as: ClientAs) -> None:
    sales = client_as("sales")
    customer = {"company_id": world.company_id, "name": "Bianchi S.r.l.", "country": "IT",
                "tax_code": "RSSMRA80A01H501U"}
    body = problem(sales.post(f"{API}/customers", json={**customer, "credit_limit": "90000"}),
                   403)
    assert fields(body) == ["credit_limit"]
    created = ok(sales.post(f"{API}/customers", json=customer), 201)
    assert created["name"] == "Bianchi S.r.l."


def test_the_auditor_reads_everything_and_changes_nothing(
        any_app: App, world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    auditor = client_as("auditor")
    for path in ("orders", "invoices", "payments", "events", "ledger/verify", "audit",
                 "audit/verify", "users", "approvals"):
        ok(auditor.get(f"{API}/{path}"))
    before = row_counts(any_app.engine)
    for method, path, payload in [
            ("POST", "orders", {}), ("POST", "payments", {}),
            ("PATCH", f"customers/{world.customers['rossi']}", {"email": "x@y.example"}),
            ("POST", f"orders/{books['rossi'][0].order_id}/cancel", {}),
            ("POST", "users", {"username": "x", "role": "admin"})]:
        problem(auditor.request(method, f"{API}/{path}", json=payload), 403)
    assert row_counts(any_app.engine) == before


# -- segregation of duties -----------------------------------------------------------------------


def test_a_write_off_is_requested_by_one_person_and_approved_by_a_controller_only(
        any_app: App, world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    invoice_id = books["rossi"][0].invoice_id
    clerk, collector = client_as("ar_clerk"), client_as("collector")
    controller = client_as("controller", username="carla")
    requested = ok(collector.post(f"{API}/invoices/{invoice_id}/write-off",
                                  json={"reason": "customer insolvent, claim filed"}), 201)
    assert (requested["state"], requested["kind"], requested["requested_by"]) == \
        ("pending", "write_off", "collector")
    assert D(requested["amount"]) == D("292.80")  # 2 chairs at 120.00 + 22% VAT
    path = f"{API}/approvals/{requested['id']}/approve"
    problem(clerk.post(path), 403)  # the permission table: not an approver at all
    problem(client_as("admin", username="root").post(path), 403)
    body = problem(client_as("credit_manager").post(path), 403)  # approves limits, not this
    assert "controller" in body["detail"]
    approved = ok(controller.post(path, json={"reason": "agreed with the CFO"},
                                  headers={"X-Request-ID": "approve-7"}))
    assert (approved["state"], approved["decided_by"]) == ("approved", "carla")
    trail = ok(client_as("auditor").get(f"{API}/audit", params={
        "object_type": "approval_request", "object_id": requested["id"]}))["items"]
    assert [(r["command"], r["actor"], r["role"]) for r in trail] == [
        ("DecideApproval", "carla", "controller"), ("RequestApproval", "collector", "collector")]
    assert trail[0]["request_id"] == "approve-7"
    assert trail[0]["reason"] == "agreed with the CFO"
    changed = {ch["object"]: ch for ch in trail[0]["changes"]}
    assert changed["open_item"]["fields"]["residual"][1] == "0.0000" or \
        D(changed["open_item"]["fields"]["residual"][1]) == 0
    assert changed["approval_request"]["fields"]["state"] == ["pending", "approved"]
    invoice = ok(controller.get(f"{API}/invoices/{invoice_id}"))
    assert D(invoice["residual"]) == 0
    entries = ok(controller.get(f"{API}/ledger/entries",
                                params={"source_type": "write_off"}))["items"]
    [entry] = entries
    assert {(ln["account"], D(ln["debit"]), D(ln["credit"])) for ln in entry["lines"]} == {
        ("6900", D("292.80"), D(0)), ("1200", D(0), D("292.80"))}
    verification = ok(controller.get(f"{API}/ledger/verify"))
    assert verification["ok"] is True
    problem(controller.post(path), 409)  # decided once


def test_the_requester_cannot_approve_their_own_write_off(
        any_app: App, world: World, books: dict[str, Any], client_as: ClientAs) -> None:
    carla = client_as("controller", username="carla")
    requested = ok(carla.post(f"{API}/invoices/{books['rossi'][0].invoice_id}/write-off",
                              json={"reason": "uncollectable"}), 201)
    before = row_counts(any_app.engine)
    body = problem(carla.post(f"{API}/approvals/{requested['id']}/approve"), 422)
    assert body["code"] == "same_approver"
    assert row_counts(any_app.engine) == before
    with any_app.engine.connect() as conn:  # and the database agrees (four_eyes constraint)
        state = conn.execute(select(t.approval_requests.c.state)).scalar_one()
    assert state == "pending"


def test_a_credit_limit_raise_above_the_threshold_needs_a_second_credit_manager(
        world: World, client_as: ClientAs) -> None:
    rossi = world.customers["rossi"]
    mario = client_as("credit_manager", username="mario")
    ok(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "15000"}))  # +10,000
    body = problem(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "25000.01"}),
                   422)
    assert body["code"] == "approval_required" and fields(body) == ["credit_limit"]
    asked = ok(mario.post(f"{API}/approvals", json={
        "kind": "credit_limit", "object_id": rossi, "credit_limit": "50000",
        "reason": "new framework contract"}), 201)
    assert problem(mario.post(f"{API}/approvals/{asked['id']}/approve"), 422)["code"] == \
        "same_approver"
    ok(client_as("credit_manager", username="giulia").post(
        f"{API}/approvals/{asked['id']}/approve"))
    assert ok(mario.get(f"{API}/customers/{rossi}"))["credit_limit"] == "50000.00"


def test_a_large_credit_note_needs_a_controllers_approval(
        any_app: App, world: World, client_as: ClientAs) -> None:
    big = invoiced(any_app.bus, any_app.engine, world, "dupont", quantity=20, product="DESK")
    clerk = client_as("ar_clerk")
    before = row_counts(any_app.engine)
    body = problem(clerk.post(f"{API}/invoices/{big.invoice_id}/credit-notes",
                              json={"reason": "goods returned"}), 422)
    assert body["code"] == "approval_required"
    assert row_counts(any_app.engine) == before  # nothing half-written
    asked = ok(clerk.post(f"{API}/approvals", json={
        "kind": "credit_note", "object_id": big.invoice_id, "reason": "goods returned"}), 201)
    approved = ok(client_as("controller").post(f"{API}/approvals/{asked['id']}/approve"))
    note = ok(clerk.get(f"{API}/invoices/{approved['result_id']}"))
    assert note["kind"] == "credit_note" and note["corrects_invoice_id"] == big.invoice_id


def test_gdpr_export_erasure_and_purge_are_for_administrators_over_the_api(
        any_app: App, client: TestClient, world: World, books: dict[str, Any],
        client_as: ClientAs) -> None:
    rossi = world.customers["rossi"]
    controller = client_as("controller")
    problem(controller.get(f"{API}/customers/{rossi}/personal-data"), 403)
    problem(controller.post(f"{API}/customers/{rossi}/erase", json={"reason": "x"}), 403)
    exported = ok(client.get(f"{API}/customers/{rossi}/personal-data"))
    assert exported["customer"]["email"] == "ap@rossi.example"
    assert len(exported["invoices"]) == 1 and len(exported["payments"]) == 1
    erased = ok(client.post(f"{API}/customers/{rossi}/erase",
                            json={"reason": "request by e-mail of 2 March"}))
    assert erased["retention_until"] == "2036-12-31"
    assert "Codice civile" in erased["legal_basis"]
    assert ok(client.get(f"{API}/customers/{rossi}"))["name"] == f"erased-customer-{rossi}"
    problem(client.post(f"{API}/gdpr/purge", json={"as_of": "2037-01-01"}), 422)  # future
    advance(any_app.clock, 3960)  # 2037-01-03: the admin's token of 2026 has expired
    client.headers["Authorization"] = \
        f"Bearer {any_app.bus.handle(CreateToken('admin', 'in 2037')).secret}"
    assert ok(client.post(f"{API}/gdpr/purge", json={"as_of": "2037-01-01"})) == \
        {"customers": [rossi], "invoices": 1}
    invoice_id = exported["invoices"][0]["id"]
    pdf = client.get(f"{API}/invoices/{invoice_id}/document", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    gone = problem(client.get(f"{API}/invoices/{invoice_id}/document",
                              params={"format": "ubl"}), 410)
    assert gone["code"] == "buyer_purged"
    assert ok(client.get(f"{API}/ledger/verify"))["ok"] is True
    assert ok(client.get(f"{API}/audit/verify"))["ok"] is True


def test_a_route_granted_to_portal_users_without_a_scope_is_refused_to_them(
        any_app: App, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: a new route someone grants to customers but forgets to scope."""
    api = create_app(any_app)

    @api.get("/api/v1/everything")
    def everything() -> dict[str, str]:
        return {"all": "customers"}

    monkeypatch.setitem(PERMISSIONS, "everything", frozenset({Role.CUSTOMER, Role.SALES}))
    portal = TestClient(api)
    portal.headers["Authorization"] = \
        f"Bearer {token_for(any_app, 'portal', 'customer', world.customers['rossi'])}"
    body = problem(portal.get(f"{API}/everything"), 403)
    assert "not available to portal users" in body["detail"]
    staff = TestClient(api)
    staff.headers["Authorization"] = f"Bearer {token_for(any_app, 'sara', 'sales')}"
    assert ok(staff.get(f"{API}/everything")) == {"all": "customers"}
