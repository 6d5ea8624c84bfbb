"""Property: invoices and (partial) credit notes posted through the bus, whatever the mix of
products, quantities, line discounts and customers (domestic, intra-EU, export in USD), render
as CII and UBL that pass the XSD and the EN 16931 schematron (render refuses otherwise) and read
back with the posted totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o2c.adapters.db import tables as t
from o2c.adapters.einvoice import incoming
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.einvoice import DocumentFormat
from o2c.services import documents as service
from tests.fixtures.world import World
from tests.services import support as s

D = Decimal
ON = date(2026, 3, 2)
PRODUCTS = ["CHAIR", "DESK", "BOOK"]  # with line discounts of 0, 5 or 12.5 %


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(customer=st.sampled_from(["rossi", "dupont", "acme_us"]),
       quantities=st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 3),
                                     st.sampled_from(["0", "0", "5", "12.5"])),
                           min_size=1, max_size=3, unique_by=lambda q: q[0]),
       credit=st.sampled_from(["none", "partial", "full"]))
def test_posted_documents_validate_and_read_back_with_their_posted_totals(
        app: App, world: World, customer: str, quantities: list[tuple[str, int, str]],
        credit: str) -> None:
    # The examples share one database: unpaid invoices pile up on the same customers, and
    # the credit check is not what this test is about.
    app.bus.handle(c.UpdateCustomer(world.customers[customer], {"credit_limit": None}))
    lines = tuple(c.OrderLineInput(world.products[sku], D(qty), None, D(discount))
                  for sku, qty, discount in quantities)
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer], lines, order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    ids = [invoice["id"]]
    if credit != "none":
        first = s.rows(app.engine, t.invoice_lines,
                       t.invoice_lines.c.invoice_id == invoice["id"])[0]
        requested = None if credit == "full" else (c.CreditLineInput(first["id"], D(1)),)
        ids.append(app.bus.handle(c.CreateCreditNote(invoice["id"], "returned", requested,
                                                     on=ON)))
    for document_id in ids:
        posted = s.row(app.engine, t.invoices, document_id)
        for fmt in (DocumentFormat.UBL, DocumentFormat.FACTURX):
            with app.engine.connect() as conn:
                rendered = service.render(conn, document_id, fmt, app.clock())
            back = incoming.parse(rendered.content)
            assert (back.totals.tax_exclusive, back.totals.tax_total, back.totals.payable) == (
                posted["net_amount"], posted["tax_amount"], posted["gross_amount"])
            assert back.type_code == ("381" if posted["kind"] == "credit_note" else "380")
