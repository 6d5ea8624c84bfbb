"""Dual control that cannot be split into small requests or walked around: credit limit raises
count from the last approved limit, credit notes on one invoice count together, a new
customer never starts with unlimited credit, and a token belongs to the person who asked for
it (so nobody approves their own request with somebody else's token)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.e2e.conftest import API, ClientAs, fields, ok, problem, row_counts
from tests.fixtures.security import invoiced
from tests.fixtures.world import World

D = Decimal


def _limit(client: TestClient, customer_id: int) -> tuple[str, str]:
    customer = ok(client.get(f"{API}/customers/{customer_id}"))
    return customer["credit_limit"], customer["approved_credit_limit"]


def test_raises_of_the_credit_limit_add_up_and_the_sum_needs_approval(
        any_app: App, world: World, client_as: ClientAs) -> None:
    """Rossi's limit is 5,000; the threshold 10,000. Five PATCHes of +9,000 used to reach
    50,000 with nobody's approval; the second already needs one."""
    rossi = world.customers["rossi"]
    mario = client_as("credit_manager", username="mario")
    ok(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "14000"}))
    assert _limit(mario, rossi) == ("14000.00", "5000.00")
    before = row_counts(any_app.engine)
    body = problem(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "23000"}),
                   422)
    assert body["code"] == "approval_required" and fields(body) == ["credit_limit"]
    assert "5000.00 EUR" in body["detail"]  # measured from what was approved
    assert row_counts(any_app.engine) == before
    assert _limit(mario, rossi) == ("14000.00", "5000.00")


def test_an_approved_limit_is_the_new_base_and_a_cut_lowers_it(
        world: World, client_as: ClientAs) -> None:
    rossi = world.customers["rossi"]
    mario = client_as("credit_manager", username="mario")
    asked = ok(mario.post(f"{API}/approvals", json={
        "kind": "credit_limit", "object_id": rossi, "credit_limit": "50000",
        "reason": "bank guarantee"}), 201)
    ok(client_as("controller").post(f"{API}/approvals/{asked['id']}/approve"))
    assert _limit(mario, rossi) == ("50000.00", "50000.00")
    ok(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "59000"}))
    problem(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "60000.01"}), 422)
    # A cut counts: raising back from it is a raise like any other.
    ok(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "1000"}))
    assert _limit(mario, rossi) == ("1000.00", "1000.00")
    problem(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "50000"}), 422)
    ok(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": "11000"}))


def test_removing_a_limit_is_approved_by_a_second_person_like_a_raise(
        world: World, client_as: ClientAs) -> None:
    rossi = world.customers["rossi"]
    mario = client_as("credit_manager", username="mario")
    body = problem(mario.patch(f"{API}/customers/{rossi}", json={"credit_limit": None}), 422)
    assert body["code"] == "approval_required"
    asked = ok(mario.post(f"{API}/approvals", json={
        "kind": "credit_limit", "object_id": rossi, "credit_limit": None,
        "reason": "state-owned buyer"}), 201)
    assert asked["payload"] == {"credit_limit": None}
    ok(client_as("credit_manager", username="giulia").post(
        f"{API}/approvals/{asked['id']}/approve"))
    assert _limit(mario, rossi) == (None, None)


def _desk_invoice(app: App, world: World) -> tuple[int, int]:
    """Dupont's invoice for 20 desks (intra-EU, no VAT): 9,010.00 EUR."""
    done = invoiced(app.bus, app.engine, world, "dupont", quantity=20, product="DESK")
    with app.engine.connect() as conn:
        line_id = conn.execute(select(t.invoice_lines.c.id).where(
            t.invoice_lines.c.invoice_id == done.invoice_id)).scalar_one()
    return done.invoice_id, line_id


def _notes(app: App, invoice_id: int) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.invoices).where(
            t.invoices.c.corrects_invoice_id == invoice_id)).scalar_one())


def test_partial_credit_notes_on_one_invoice_count_together(
        any_app: App, world: World, client_as: ClientAs) -> None:
    """Credit notes of 2,252.50 each: one at a time below the 5,000 threshold, but the third
    brings the invoice's credited total to 6,757.50."""
    invoice_id, line_id = _desk_invoice(any_app, world)
    clerk = client_as("ar_clerk")
    five_desks: dict[str, Any] = {"reason": "returned",
                                  "lines": [{"invoice_line_id": line_id, "quantity": "5"}]}
    for _ in range(2):
        ok(clerk.post(f"{API}/invoices/{invoice_id}/credit-notes", json=five_desks), 201)
    before = row_counts(any_app.engine)
    body = problem(clerk.post(f"{API}/invoices/{invoice_id}/credit-notes", json=five_desks),
                   422)
    assert body["code"] == "approval_required" and "6757.50" in body["detail"]
    assert row_counts(any_app.engine) == before and _notes(any_app, invoice_id) == 2
    # The third goes through a controller; what a second person approved does not count.
    asked = ok(clerk.post(f"{API}/approvals", json={
        "kind": "credit_note", "object_id": invoice_id, **five_desks}), 201)
    assert D(asked["amount"]) == D("2252.50")  # priced as the credit note it will be
    ok(client_as("controller").post(f"{API}/approvals/{asked['id']}/approve"))
    one_desk = {"reason": "scratched",
                "lines": [{"invoice_line_id": line_id, "quantity": "1"}]}
    ok(clerk.post(f"{API}/invoices/{invoice_id}/credit-notes", json=one_desk), 201)  # 4,955.50
    problem(clerk.post(f"{API}/invoices/{invoice_id}/credit-notes", json=one_desk), 422)
    assert _notes(any_app, invoice_id) == 4


def test_a_credit_note_request_is_checked_as_the_credit_note_it_will_create(
        any_app: App, world: World, client_as: ClientAs) -> None:
    invoice_id, line_id = _desk_invoice(any_app, world)
    clerk = client_as("ar_clerk")
    before = row_counts(any_app.engine)
    for lines, field in [([{"foo": "bar"}], "lines.0.invoice_line_id"),
                         ([{"invoice_line_id": line_id, "quantity": "1", "x": 1}], "lines.0.x"),
                         ([{"invoice_line_id": 999999, "quantity": "1"}], None),
                         ([{"invoice_line_id": line_id, "quantity": "21"}], None),
                         ([{"invoice_line_id": line_id, "quantity": 1.5e300}], None)]:
        body = problem(clerk.post(f"{API}/approvals", json={
            "kind": "credit_note", "object_id": invoice_id, "reason": "x", "lines": lines}),
            422)
        if field is not None:
            assert field.replace(".0.", "[0].") in fields(body), body
    body = problem(clerk.post(f"{API}/approvals", json={
        "kind": "write_off", "object_id": invoice_id, "reason": "x",
        "lines": [{"invoice_line_id": line_id}]}), 422)
    assert "credit_note requests only" in body["detail"]
    assert row_counts(any_app.engine) == before
    # A JSON number for the quantity is read exactly, and the request is priced by it.
    asked = ok(clerk.post(f"{API}/approvals", content=(
        f'{{"kind": "credit_note", "object_id": {invoice_id}, "reason": "two desks", '
        f'"lines": [{{"invoice_line_id": {line_id}, "quantity": 2}}]}}'),
        headers={"Content-Type": "application/json"}), 201)
    assert D(asked["amount"]) == D("901.00")


def test_a_new_customer_gets_the_company_default_limit_never_unlimited_credit(
        any_app: App, world: World, client: TestClient, client_as: ClientAs) -> None:
    """POST /customers without credit_limit used to mean no limit: a 192,000 order of a brand
    new customer was confirmed."""
    created = ok(client.post(f"{API}/customers", json={
        "company_id": world.company_id, "name": "Nuovo Cliente S.r.l.", "country": "IT",
        "tax_code": "RSSMRA80A01H501U"}), 201)
    assert created["credit_limit"] == "0.00"
    order = ok(client.post(f"{API}/orders", json={
        "customer_id": created["id"],
        "lines": [{"product_id": world.products["DESK"], "quantity": "90"}]}), 201)
    held = ok(client_as("sales").post(f"{API}/orders/{order['id']}/confirm"))
    assert held["state"] == "credit_hold"
    # No limit at all is not for an administrator to give, and an approver asks a second one.
    unlimited = {"company_id": world.company_id, "name": "Ente Pubblico", "country": "IT",
                 "tax_code": "RSSMRA80A01H501U",
                 "credit_limit": None}
    body = problem(client.post(f"{API}/customers", json=unlimited), 403)
    assert fields(body) == ["credit_limit"]
    credit_manager = client_as("credit_manager")
    body = problem(credit_manager.post(f"{API}/customers", json=unlimited), 422)
    assert body["code"] == "approval_required"
    # A limit within the threshold of the default is the credit manager's own decision.
    mine = ok(credit_manager.post(f"{API}/customers", json={
        **unlimited, "credit_limit": "10000"}), 201)
    assert (mine["credit_limit"], mine["approved_credit_limit"]) == ("10000.00", "0.00")


def test_the_default_limit_for_new_customers_is_a_company_setting(
        any_app: App, client: TestClient) -> None:
    any_app.bus.handle(c.CreatePaymentTerms("NET30", "Net 30", ((D(100), 30, False),)))
    company = ok(client.post(f"{API}/companies", json={
        "code": "CAUTA", "name": "Cauta S.p.A.", "country": "IT", "currency": "EUR",
        "default_credit_limit": "2500"}), 201)
    assert company["default_credit_limit"] == "2500.00"
    customer = ok(client.post(f"{API}/customers", json={
        "company_id": company["id"], "name": "Primo Cliente", "country": "IT",
        "tax_code": "RSSMRA80A01H501U"}), 201)
    assert customer["credit_limit"] == "2500.00"


def test_a_token_is_minted_only_for_the_person_who_asks(
        any_app: App, world: World, client: TestClient, client_as: ClientAs) -> None:
    """An administrator minted a controller's token and approved his own request with it."""
    client_as("controller", username="carla")
    before = row_counts(any_app.engine)
    body = problem(client.post(f"{API}/tokens", json={"username": "carla"}), 403)
    assert fields(body) == ["username"]
    assert row_counts(any_app.engine) == before
    # The administrator's own request stays his: approving it needs another person.
    invoice_id, _ = _desk_invoice(any_app, world)
    asked = ok(client.post(f"{API}/invoices/{invoice_id}/write-off",
                           json={"reason": "insolvent"}), 201)
    own = ok(client.post(f"{API}/tokens", json={"name": "mine"}), 201)
    assert own["username"] == "admin"
    with TestClient(client.app) as again:
        again.headers["Authorization"] = f"Bearer {own['token']}"
        problem(again.post(f"{API}/approvals/{asked['id']}/approve"), 403)
