"""Small builders of domain objects for unit tests (no database): real aggregates, made the
way the services make them."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from o2c.domain.invoicing import Invoice, InvoiceKind, LineToInvoice, PartySnapshot
from o2c.domain.orders import LineDraft, SalesOrder
from o2c.domain.parties import RoundingPolicy
from o2c.domain.payment_terms import PaymentTerms, net_days
from o2c.domain.payments import Payment, PaymentMethod
from o2c.domain.receivables import OpenItem, OpenItemKind
from o2c.domain.shipping import Shipment, ShipmentLine

D = Decimal
ON = date(2026, 3, 2)
ROUNDING = RoundingPolicy()
SELLER = PartySnapshot(name="Acme", country="IT", vat_id="IT00743110157",
                       iban="IT60X0542811101000000123456")
BUYER = PartySnapshot(name="Rossi", country="IT", vat_id="IT00743110157")
_ids = itertools.count(1)


def order(*quantities: str, price: str = "10.00", rate: str = "22") -> SalesOrder:
    """A draft order with one line per quantity; lines get ids as if stored."""
    drafts = [LineDraft(product_id=i + 1, sku=f"P{i + 1}", description=f"Product {i + 1}",
                        quantity=D(q), unit="C62", unit_price=D(price),
                        discount_percent=D(0), vat_code="S", vat_rate=D(rate))
              for i, q in enumerate(quantities or ("1",))]
    result = SalesOrder.new(company_id=1, customer_id=1, warehouse_id=1, currency="EUR",
                            order_date=ON, lines=drafts, rounding=ROUNDING)
    result.id = next(_ids)
    result.number = f"SO-{result.id:06d}"
    for line in result.lines:
        line.id = next(_ids)
    result.events.clear()
    return result


def shipment(quantity: str = "1") -> Shipment:
    result = Shipment.new(company_id=1, order_id=1, customer_id=1, warehouse_id=1, lines=[
        ShipmentLine(order_line_id=1, product_id=1, sku="P1", quantity=D(quantity))], on=ON)
    result.id = next(_ids)
    result.events.clear()
    return result


def invoice_lines(*items: tuple[str, str, str]) -> list[LineToInvoice]:
    """(quantity, unit price, VAT rate) per line."""
    return [LineToInvoice(order_line_id=None, product_id=i + 1, sku=f"P{i + 1}",
                          description=f"Product {i + 1}", quantity=D(q), unit="C62",
                          unit_price=D(p), discount_percent=D(0), vat_code="S",
                          vat_rate=D(r)) for i, (q, p, r) in enumerate(items)]


def draft_invoice(*items: tuple[str, str, str], currency: str = "EUR",
                  fx_rate: str = "1", kind: InvoiceKind = InvoiceKind.INVOICE) -> Invoice:
    result = Invoice.draft(kind=kind, company_id=1, customer_id=1, currency=currency,
                           company_currency="EUR", fx_rate=D(fx_rate), issue_date=ON,
                           seller=SELLER, buyer=BUYER,
                           lines=invoice_lines(*(items or (("1", "100.00", "22"),))),
                           rounding=ROUNDING)
    result.id = next(_ids)
    for line in result.lines:
        line.id = next(_ids)
    return result


def posted_invoice(*items: tuple[str, str, str], currency: str = "EUR", fx_rate: str = "1",
                   terms: PaymentTerms | None = None) -> Invoice:
    result = draft_invoice(*items, currency=currency, fx_rate=fx_rate)
    result.post(f"INV-2026-{result.id:05d}", terms or net_days(30), ROUNDING)
    result.events.clear()
    return result


def open_item(amount: str, amount_company: str | None = None, *, currency: str = "EUR",
              kind: OpenItemKind = OpenItemKind.INVOICE, customer_id: int = 1,
              terms: PaymentTerms | None = None) -> OpenItem:
    invoice_id = next(_ids)
    installments = (terms or net_days(30)).schedule(ON, D(amount), currency)
    return OpenItem.for_document(
        invoice_id=invoice_id, kind=kind, number=f"DOC-{invoice_id}", company_id=1,
        customer_id=customer_id, currency=currency, company_currency="EUR", issue_date=ON,
        amount=D(amount), amount_company=D(amount_company or amount),
        installments=installments)


def payment(amount: str, amount_company: str | None = None, *, currency: str = "EUR",
            fx_rate: str = "1", customer_id: int = 1) -> Payment:
    result = Payment.receive(company_id=1, customer_id=customer_id, currency=currency,
                             company_currency="EUR", amount=D(amount), received_on=ON,
                             fx_rate=D(fx_rate), amount_company=D(amount_company or amount),
                             method=PaymentMethod.BANK_TRANSFER)
    result.id = next(_ids)
    result.number = f"PAY-{result.id:06d}"
    result.events.clear()
    return result
