"""GDPR on SQLite and PostgreSQL: export everything held about a customer; erasure
pseudonymises what the law does not require and keeps invoice data for the retention period of
the customer's country, with the legal basis recorded; purge after expiry; the ledger and the
audit chain still verify afterwards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select

from o2c.adapters.db import security as db
from o2c.adapters.db import tables as t
from o2c.bootstrap import App, SettableClock
from o2c.domain import commands as c
from o2c.domain.access import EraseCustomer, PurgeExpired, Role
from o2c.domain.aggregate import jsonable
from o2c.domain.einvoice import DocumentFormat
from o2c.domain.errors import AlreadyExists, InvalidInput
from o2c.services import documents
from o2c.services.audit import verify_audit
from tests.fixtures.security import invoiced, user
from tests.fixtures.world import World, build_world
from tests.services.support import assert_ledger_ok

D = Decimal


@pytest.fixture
def world(any_app: App) -> World:
    return build_world(any_app.bus)


def _customer(app: App, customer_id: int) -> dict[str, object]:
    with app.engine.connect() as conn:
        return dict(conn.execute(select(t.customers).where(t.customers.c.id == customer_id))
                    .mappings().one())


def test_the_export_holds_everything_about_the_customer_as_json(any_app: App,
                                                                world: World) -> None:
    rossi = world.customers["rossi"]
    done = invoiced(any_app.bus, any_app.engine, world)
    any_app.bus.handle(c.UpdateCustomer(rossi, {"email": "finance@rossi.example"}))
    user(any_app.bus, "rossi-portal", Role.CUSTOMER, rossi)
    with any_app.engine.connect() as conn:
        data = db.customer_export(conn, rossi)
    assert data is not None
    text = json.dumps(jsonable(data))
    assert data["customer"]["name"] == "Rossi Arredamenti S.p.A."
    assert [o["id"] for o in data["orders"]] == [done.order_id]
    assert [i["id"] for i in data["invoices"]] == [done.invoice_id]
    assert [u["username"] for u in data["portal_users"]] == ["rossi-portal"]
    assert "password_hash" not in text
    side = [row["data"] for row in data["audit_personal_data"]]
    assert side[0]["name"] == "Rossi Arredamenti S.p.A."  # as created
    assert {"email": ["ap@rossi.example", "finance@rossi.example"]} in side


def test_erasure_pseudonymises_personal_data_and_keeps_invoices_for_ten_years_in_italy(
        any_app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    done = invoiced(any_app.bus, any_app.engine, world)
    any_app.bus.handle(c.UpdateCustomer(rossi, {"email": "finance@rossi.example"}))
    user(any_app.bus, "rossi-portal", Role.CUSTOMER, rossi)
    erasure = any_app.bus.handle(EraseCustomer(rossi, "e-mail of 2 March 2026"))
    assert erasure.retention_until == date(2036, 12, 31)  # invoiced in 2026, IT: 10 years
    assert "art. 17(3)(b)" in erasure.legal_basis and "Codice civile" in erasure.legal_basis
    customer = _customer(any_app, rossi)
    assert customer["name"] == f"erased-customer-{rossi}"
    assert (customer["email"], customer["vat_id"]) == ("", "")
    assert customer["billing_address"]["line1"] == ""  # type: ignore[index]
    with any_app.engine.connect() as conn:
        data = db.customer_export(conn, rossi)
        invoice = conn.execute(select(t.invoices).where(t.invoices.c.id == done.invoice_id)
                               ).mappings().one()
    assert data is not None
    text = json.dumps(jsonable({k: v for k, v in data.items() if k != "invoices"}))
    for personal in ("Rossi Arredamenti", "ap@rossi.example", "finance@rossi.example",
                     "rossi-portal"):
        assert personal not in text
    # The invoice as issued is kept: the law requires it until the retention period ends.
    assert invoice["buyer"]["name"] == "Rossi Arredamenti S.p.A."
    assert data["erasure"]["retention_until"] == date(2036, 12, 31)
    assert data["portal_users"][0]["disabled"] is True
    assert_ledger_ok(any_app.engine)
    assert verify_audit(any_app.engine).ok


@pytest.mark.parametrize(("customer", "until", "law"), [
    ("dupont", date(2036, 12, 31), "Code de commerce"),  # FR: 10 years
    ("acme_us", date(2036, 12, 31), "national bookkeeping law"),  # not configured: 10
])
def test_retention_follows_the_customers_country(any_app: App, world: World, customer: str,
                                                 until: date, law: str) -> None:
    invoiced(any_app.bus, any_app.engine, world, customer)
    erasure = any_app.bus.handle(EraseCustomer(world.customers[customer], "request"))
    assert erasure.retention_until == until and law in erasure.legal_basis


def test_purge_after_expiry_removes_the_buyer_from_invoices_and_the_books_still_add_up(
        any_app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    done = invoiced(any_app.bus, any_app.engine, world)
    payment_id = any_app.bus.handle(c.RecordPayment(
        rossi, D(10), "EUR", payer_name="Mario Rossi", payer_iban="IT60X0542811101000000123456",
        reference="fattura 1 Mario Rossi"))
    any_app.bus.handle(EraseCustomer(rossi, "request"))
    _live_on(any_app, date(2037, 1, 2))
    early = any_app.bus.handle(PurgeExpired(date(2036, 12, 31)))
    assert (early.customers, early.invoices) == ([], 0)
    purged = any_app.bus.handle(PurgeExpired(date(2037, 1, 1)))
    assert (purged.customers, purged.invoices) == ([rossi], 1)
    again = any_app.bus.handle(PurgeExpired(date(2037, 1, 2)))
    assert (again.customers, again.invoices) == ([], 0)
    with any_app.engine.connect() as conn:
        invoice = conn.execute(select(t.invoices).where(t.invoices.c.id == done.invoice_id)
                               ).mappings().one()
    assert invoice["buyer"]["name"] == f"erased-customer-{rossi}"
    assert invoice["gross_amount"] == D("292.80")  # amounts and numbers stay
    with any_app.engine.connect() as conn:
        payment = conn.execute(select(t.payments).where(t.payments.c.id == payment_id)
                               ).mappings().one()
    assert (payment["payer_name"], payment["payer_iban"], payment["reference"]) == \
        (f"erased-customer-{rossi}", "", "")
    assert payment["amount"] == D(10)
    assert_ledger_ok(any_app.engine)
    assert verify_audit(any_app.engine).ok


def test_erasure_needs_a_reason_and_happens_once(any_app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    with pytest.raises(InvalidInput):
        any_app.bus.handle(EraseCustomer(rossi, " "))
    any_app.bus.handle(EraseCustomer(rossi, "request"))
    with pytest.raises(AlreadyExists):
        any_app.bus.handle(EraseCustomer(rossi, "request"))


def _live_on(app: App, day: date) -> None:
    clock = app.clock
    assert isinstance(clock, SettableClock)
    clock.set(datetime.combine(day, time(9), tzinfo=UTC))


def test_a_purge_as_of_a_day_still_to_come_is_refused_and_purges_nothing(
        any_app: App, world: World) -> None:
    """Retention of an Italian buyer ends 2036-12-31: a purge dated 2099 must not run today."""
    rossi = world.customers["rossi"]
    done = invoiced(any_app.bus, any_app.engine, world)
    any_app.bus.handle(EraseCustomer(rossi, "request"))
    with pytest.raises(InvalidInput) as refused:
        any_app.bus.handle(PurgeExpired(date(2099, 1, 1)))
    assert refused.value.field == "as_of" and "after today" in refused.value.message
    with any_app.engine.connect() as conn:
        buyer = conn.execute(select(t.invoices.c.buyer).where(
            t.invoices.c.id == done.invoice_id)).scalar_one()
    assert buyer["vat_id"] == "IT00743110157"  # still the buyer it was invoiced to


def test_a_purged_buyers_invoice_still_renders_as_pdf_and_refuses_e_invoices_clearly(
        any_app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    done = invoiced(any_app.bus, any_app.engine, world)
    any_app.bus.handle(EraseCustomer(rossi, "request"))
    _live_on(any_app, date(2037, 1, 2))
    any_app.bus.handle(PurgeExpired(date(2037, 1, 1)))
    with any_app.engine.connect() as conn:
        pdf = documents.render(conn, done.invoice_id, DocumentFormat.PDF, any_app.clock())
        assert pdf.content.startswith(b"%PDF")
        for fmt in (DocumentFormat.UBL, DocumentFormat.FACTURX, DocumentFormat.FATTURAPA):
            with pytest.raises(documents.BuyerPurged) as gone:
                documents.render(conn, done.invoice_id, fmt, any_app.clock())
            assert gone.value.kind == "gone" and "purged" in gone.value.message
    # The purged invoice is still an invoice the books can act on: credit it in full.
    note_id = any_app.bus.handle(c.CreateCreditNote(done.invoice_id, "goodwill"))
    with any_app.engine.connect() as conn:
        note = conn.execute(select(t.invoices).where(t.invoices.c.id == note_id)
                            ).mappings().one()
    assert note["buyer"]["name"] == f"erased-customer-{rossi}"
    assert_ledger_ok(any_app.engine)
