"""Master data: identifiers are validated and normalised, changes are logged before/after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal


def test_a_company_gets_its_chart_of_accounts_and_normalised_bank_details(
        app: App, world: World) -> None:
    company = s.row(app.engine, t.companies, world.company_id)
    assert (company["vat_id"], company["iban"], company["bic"]) == (
        "IT00743110157", "IT60X0542811101000000123456", "BPMOIT22")
    accounts = s.rows(app.engine, t.accounts, t.accounts.c.company_id == world.company_id)
    assert [a["code"] for a in accounts] == ["1100", "1200", "2200", "2300", "4000", "7700",
                                             "4100", "6800"]
    assert s.events(app.engine, "company", world.company_id) == [
        ("company", world.company_id, "created", "system")]


def test_customer_vat_ids_are_stored_compact_with_their_country_prefix(
        app: App, world: World) -> None:
    customer_id = app.bus.handle(c.CreateCustomer(
        world.company_id, "Müller GmbH", "DE", vat_id="DE 136,695 976", language="de"))
    customer = s.row(app.engine, t.customers, customer_id)
    assert (customer["vat_id"], customer["code"], customer["currency"]) == (
        "DE136695976", "C-00004", "EUR")
    assert customer["billing_address"]["country"] == "DE"


def test_customer_changes_are_logged_with_before_and_after_and_used_at_once(
        app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    app.bus.handle(c.UpdateCustomer(rossi, {"credit_limit": D(10000), "credit_blocked": True}),
                   actor="credit.manager")
    [changes] = s.event_data(app.engine, "customer", rossi, "updated")
    limit = changes["changes"]["credit_limit"]
    assert (D(limit["before"]), D(limit["after"])) == (D(5000), D(10000))
    assert changes["changes"]["credit_blocked"] == {"before": False, "after": True}
    # A local system actor's limit stands approved: raises are measured from it from now on.
    assert set(changes["changes"]) == {"credit_limit", "approved_credit_limit",
                                       "credit_blocked"}
    assert s.events(app.engine, "customer", rossi)[-1][3] == "credit.manager"
    order_id = app.bus.handle(c.CreateOrder(rossi, (line(world.products["BOOK"], 1),)))
    assert app.bus.handle(c.ConfirmOrder(order_id)).state == "credit_hold"
    app.bus.handle(c.UpdateCustomer(rossi, {"credit_blocked": False}))
    second = app.bus.handle(c.CreateOrder(rossi, (line(world.products["CHAIR"], 60),)))
    assert app.bus.handle(c.ConfirmOrder(second)).state == "confirmed"  # 8784.00 < 10000


def test_a_product_change_applies_to_new_orders_only(app: App, world: World) -> None:
    chair = world.products["CHAIR"]
    old = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 1),)))
    app.bus.handle(c.UpdateProduct(chair, {"unit_price": D("130.00")}))
    new = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 1),)))
    assert [s.order_lines(app.engine, o)[0]["unit_price"] for o in (old, new)] == [
        D("120.00"), D("130.00")]
    app.bus.handle(c.UpdateProduct(chair, {"active": False}))
    [changes] = s.event_data(app.engine, "product", chair, "updated")[-1:]
    assert changes["changes"] == {"active": {"before": True, "after": False}}


def test_a_new_vat_rate_ends_the_previous_one_the_day_before(app: App, world: World) -> None:
    app.bus.handle(c.SetVatRate("IT", "standard", D(23), date(2026, 7, 1)))
    rates = s.rows(app.engine, t.vat_rates, t.vat_rates.c.country == "IT",
                   t.vat_rates.c.category == "standard")
    assert [(r["rate"], r["valid_from"], r["valid_to"]) for r in rates] == [
        (D(22), date(2020, 1, 1), date(2026, 6, 30)), (D(23), date(2026, 7, 1), None)]
    before = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 1),), order_date=date(2026, 6, 30)))
    after = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 1),), order_date=date(2026, 7, 1)))
    assert [s.order_lines(app.engine, o)[0]["vat_rate"] for o in (before, after)] == [
        D(22), D(23)]
