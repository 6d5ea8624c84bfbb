"""Repositories: how each aggregate is stored, plus the set-based reads services need inside
a transaction (credit position, backorders, rates, numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, bindparam, func, insert, literal, select, update
from sqlalchemy.engine import RowMapping

from o2c.adapters.db import dues
from o2c.adapters.db import tables as t
from o2c.adapters.db.fastpath import Statement
from o2c.adapters.db.mapper import Child, Mapping, Repository
from o2c.adapters.db.master_data_cache import CacheView
from o2c.domain.aggregate import document_number
from o2c.domain.catalog import Product, ProductKind, VatCategory
from o2c.domain.credit import CreditPosition
from o2c.domain.errors import NotFound
from o2c.domain.events import Event
from o2c.domain.inventory import StockLevel, StockMove, Warehouse
from o2c.domain.invoicing import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceTax,
    PartySnapshot,
)
from o2c.domain.ledger import JournalEntry, JournalLine
from o2c.domain.money import ZERO, RoundingMode
from o2c.domain.orders import OrderLine, OrderState, SalesOrder
from o2c.domain.parties import (
    Address,
    Company,
    Customer,
    InvoicePolicy,
    Registration,
    RoundingPolicy,
    TaxRounding,
)
from o2c.domain.payment_terms import Installment, PaymentTerms, TermLine
from o2c.domain.payments import Allocation, Payment, PaymentMethod, PaymentState, SourceKind
from o2c.domain.receivables import OpenItem, OpenItemKind
from o2c.domain.shipping import DeliveryRoute, Shipment, ShipmentLine, ShipmentState
from o2c.domain.tax import VatRate


def exact_sum(column: Column[Any]) -> Any:
    """SUM that is 0, not NULL, over no rows, and keeps the column's exact type."""
    return func.coalesce(func.sum(column), literal(ZERO, column.type))


# -- companies and customers -------------------------------------------------------------------


def _company_row(c: Company) -> dict[str, Any]:
    return {"code": c.code, "name": c.name, "country": c.country, "currency": c.currency,
            "vat_id": c.vat_id, "iban": c.iban, "bic": c.bic, "address": c.address.as_dict(),
            "email": c.email, "tax_rounding": c.rounding.tax_rounding.value,
            "rounding_mode": c.rounding.mode.value, "overdue_hold_days": c.overdue_hold_days,
            "default_credit_limit": c.default_credit_limit,
            "registration": c.registration.as_dict()}


def _company(r: RowMapping, _: dict[str, list[Any]]) -> Company:
    return Company(id=r["id"], version=r["version"], code=r["code"], name=r["name"],
                   country=r["country"], currency=r["currency"], vat_id=r["vat_id"],
                   iban=r["iban"], bic=r["bic"], address=Address.from_dict(r["address"]),
                   email=r["email"],
                   rounding=RoundingPolicy(TaxRounding(r["tax_rounding"]),
                                           RoundingMode(r["rounding_mode"])),
                   overdue_hold_days=r["overdue_hold_days"],
                   default_credit_limit=r["default_credit_limit"],
                   registration=Registration.from_dict(r["registration"]))


COMPANIES = Mapping("company", t.companies, _company_row, _company)


def _customer_row(c: Customer) -> dict[str, Any]:
    return {"company_id": c.company_id, "code": c.code, "name": c.name, "country": c.country,
            "currency": c.currency, "language": c.language, "vat_id": c.vat_id,
            "tax_code": c.tax_code, "email": c.email,
            "billing_address": c.billing_address.as_dict(),
            "shipping_address": c.shipping_address.as_dict(),
            "payment_terms_code": c.payment_terms_code, "credit_limit": c.credit_limit,
            "approved_credit_limit": c.approved_credit_limit,
            "credit_blocked": c.credit_blocked, "overdue_hold_days": c.overdue_hold_days,
            "invoice_policy": c.invoice_policy.value, "buyer_reference": c.buyer_reference}


def _customer(r: RowMapping, _: dict[str, list[Any]]) -> Customer:
    return Customer(
        id=r["id"], version=r["version"], company_id=r["company_id"], code=r["code"],
        name=r["name"], country=r["country"], currency=r["currency"], language=r["language"],
        vat_id=r["vat_id"], tax_code=r["tax_code"], email=r["email"],
        billing_address=Address.from_dict(r["billing_address"]),
        shipping_address=Address.from_dict(r["shipping_address"]),
        payment_terms_code=r["payment_terms_code"], credit_limit=r["credit_limit"],
        approved_credit_limit=r["approved_credit_limit"], credit_blocked=r["credit_blocked"],
        overdue_hold_days=r["overdue_hold_days"],
        invoice_policy=InvoicePolicy(r["invoice_policy"]), buyer_reference=r["buyer_reference"])


CUSTOMERS = Mapping("customer", t.customers, _customer_row, _customer)

# -- catalog and stock -------------------------------------------------------------------------


def _product_row(p: Product) -> dict[str, Any]:
    return {"company_id": p.company_id, "sku": p.sku, "name": p.name, "unit": p.unit,
            "unit_price": p.unit_price, "vat_category": p.vat_category.value,
            "kind": p.kind.value,
            "prices": {k: str(v) for k, v in sorted(p.prices.items())}, "active": p.active}


def _product(r: RowMapping, _: dict[str, list[Any]]) -> Product:
    return Product(id=r["id"], version=r["version"], company_id=r["company_id"], sku=r["sku"],
                   name=r["name"], unit=r["unit"], unit_price=r["unit_price"],
                   vat_category=VatCategory(r["vat_category"]), kind=ProductKind(r["kind"]),
                   prices={k: Decimal(v) for k, v in r["prices"].items()}, active=r["active"])


PRODUCTS = Mapping("product", t.products, _product_row, _product)


def _warehouse_row(w: Warehouse) -> dict[str, Any]:
    return {"company_id": w.company_id, "code": w.code, "name": w.name,
            "address": w.address.as_dict(), "delivery_route": w.delivery_route.value}


def _warehouse(r: RowMapping, _: dict[str, list[Any]]) -> Warehouse:
    return Warehouse(id=r["id"], version=r["version"], company_id=r["company_id"],
                     code=r["code"], name=r["name"], address=Address.from_dict(r["address"]),
                     delivery_route=DeliveryRoute(r["delivery_route"]))


WAREHOUSES = Mapping("warehouse", t.warehouses, _warehouse_row, _warehouse)


def _stock_row(s: StockLevel) -> dict[str, Any]:
    return {"product_id": s.product_id, "warehouse_id": s.warehouse_id, "on_hand": s.on_hand,
            "reserved": s.reserved}


def _stock(r: RowMapping, _: dict[str, list[Any]]) -> StockLevel:
    return StockLevel(id=r["id"], version=r["version"], product_id=r["product_id"],
                      warehouse_id=r["warehouse_id"], on_hand=r["on_hand"],
                      reserved=r["reserved"])


STOCK = Mapping("stock", t.stock_levels, _stock_row, _stock)


def _stock_by_products() -> Any:
    return select(t.stock_levels).where(
        t.stock_levels.c.warehouse_id == bindparam("warehouse_id"),
        t.stock_levels.c.product_id.in_(bindparam("products", expanding=True)))


class StockRepository(Repository[StockLevel]):
    def lock_levels(self, warehouse_id: int, product_ids: set[int]) -> dict[int, StockLevel]:
        """The stock rows of these products in one warehouse, locked (PostgreSQL) in id
        order; missing rows are created empty. Product id -> level."""
        params = {"warehouse_id": warehouse_id, "products": sorted(product_ids)}
        found = {level.product_id: level
                 for level in self.lock_where("by_products", _stock_by_products, params)}
        missing = sorted(product_ids - found.keys())
        if missing:
            _INSERT_STOCK.run_many(self.conn, [
                {"product_id": p, "warehouse_id": warehouse_id, "on_hand": ZERO,
                 "reserved": ZERO, "version": 0} for p in missing])
            params["products"] = missing
            found.update({level.product_id: level for level in
                          self.lock_where("by_products", _stock_by_products, params)})
        return found

# -- orders and shipments ----------------------------------------------------------------------


def _order_line_row(line: OrderLine) -> dict[str, Any]:
    return {"line_no": line.line_no, "product_id": line.product_id, "sku": line.sku,
            "description": line.description, "quantity": line.quantity, "unit": line.unit,
            "unit_price": line.unit_price, "discount_percent": line.discount_percent,
            "net_amount": line.net_amount, "vat_code": line.vat_code, "vat_rate": line.vat_rate,
            "exemption_reason": line.exemption_reason, "reserved_qty": line.reserved_qty,
            "shipped_qty": line.shipped_qty, "invoiced_qty": line.invoiced_qty,
            "backorder_qty": line.backorder_qty}


def _order_line(r: RowMapping) -> OrderLine:
    return OrderLine(id=r["id"], line_no=r["line_no"], product_id=r["product_id"], sku=r["sku"],
                     description=r["description"], quantity=r["quantity"], unit=r["unit"],
                     unit_price=r["unit_price"], discount_percent=r["discount_percent"],
                     net_amount=r["net_amount"], vat_code=r["vat_code"], vat_rate=r["vat_rate"],
                     exemption_reason=r["exemption_reason"], reserved_qty=r["reserved_qty"],
                     shipped_qty=r["shipped_qty"], invoiced_qty=r["invoiced_qty"])


def _order_row(o: SalesOrder) -> dict[str, Any]:
    return {"company_id": o.company_id, "customer_id": o.customer_id,
            "warehouse_id": o.warehouse_id, "currency": o.currency, "order_date": o.order_date,
            "state": o.state.value, "customer_reference": o.customer_reference,
            "notes": o.notes, "hold_reason": o.hold_reason, "net_amount": o.net_amount,
            "tax_amount": o.tax_amount, "gross_amount": o.gross_amount,
            "invoiced_amount": o.invoiced_amount, "uninvoiced_amount": o.uninvoiced_amount,
            "shipping_status": o.shipping_status.value,
            "invoicing_status": o.invoicing_status.value}


def _order(r: RowMapping, kids: dict[str, list[Any]]) -> SalesOrder:
    return SalesOrder(
        id=r["id"], version=r["version"], number=document_number("SO", r["id"]),
        company_id=r["company_id"], customer_id=r["customer_id"],
        warehouse_id=r["warehouse_id"], currency=r["currency"],
        order_date=r["order_date"], state=OrderState(r["state"]),
        customer_reference=r["customer_reference"], notes=r["notes"],
        hold_reason=r["hold_reason"], net_amount=r["net_amount"], tax_amount=r["tax_amount"],
        gross_amount=r["gross_amount"], invoiced_amount=r["invoiced_amount"],
        lines=kids["lines"])


ORDERS = Mapping("order", t.sales_orders, _order_row, _order,
                 children=(Child("lines", t.order_lines, "order_id", _order_line_row,
                                 _order_line, order_by="line_no"),),
                 number_prefix="SO")


def _shipment_line_row(line: ShipmentLine) -> dict[str, Any]:
    return {"order_line_id": line.order_line_id, "product_id": line.product_id,
            "sku": line.sku, "description": line.description, "quantity": line.quantity}


def _shipment_line(r: RowMapping) -> ShipmentLine:
    return ShipmentLine(id=r["id"], order_line_id=r["order_line_id"],
                        product_id=r["product_id"], sku=r["sku"], description=r["description"],
                        quantity=r["quantity"])


def _shipment_row(s: Shipment) -> dict[str, Any]:
    return {"company_id": s.company_id, "order_id": s.order_id, "customer_id": s.customer_id,
            "warehouse_id": s.warehouse_id, "state": s.state.value, "created_on": s.created_on,
            "picked_on": s.picked_on, "packed_on": s.packed_on, "shipped_on": s.shipped_on,
            "delivered_on": s.delivered_on, "carrier": s.carrier,
            "tracking_number": s.tracking_number, "packages": s.packages,
            "route": s.route.value}


def _shipment(r: RowMapping, kids: dict[str, list[Any]]) -> Shipment:
    return Shipment(
        id=r["id"], version=r["version"], number=document_number("SHP", r["id"]),
        company_id=r["company_id"], order_id=r["order_id"], customer_id=r["customer_id"],
        warehouse_id=r["warehouse_id"],
        state=ShipmentState(r["state"]), created_on=r["created_on"], picked_on=r["picked_on"],
        packed_on=r["packed_on"], shipped_on=r["shipped_on"], delivered_on=r["delivered_on"],
        carrier=r["carrier"], tracking_number=r["tracking_number"], packages=r["packages"],
        route=DeliveryRoute(r["route"]), lines=kids["lines"])


SHIPMENTS = Mapping("shipment", t.shipments, _shipment_row, _shipment,
                    children=(Child("lines", t.shipment_lines, "shipment_id",
                                    _shipment_line_row, _shipment_line),),
                    number_prefix="SHP")

# -- invoices ----------------------------------------------------------------------------------


def _installments_json(items: list[Installment]) -> list[dict[str, str]]:
    return [{"due_date": i.due_date.isoformat(), "amount": str(i.amount)} for i in items]


def _installments(data: list[dict[str, str]]) -> list[Installment]:
    return [Installment(date.fromisoformat(i["due_date"]), Decimal(i["amount"])) for i in data]


def _invoice_line_row(line: InvoiceLine) -> dict[str, Any]:
    return {"line_no": line.line_no, "order_line_id": line.order_line_id,
            "corrects_line_id": line.corrects_line_id, "product_id": line.product_id,
            "sku": line.sku, "description": line.description, "quantity": line.quantity,
            "unit": line.unit, "unit_price": line.unit_price,
            "discount_percent": line.discount_percent, "net_amount": line.net_amount,
            "vat_code": line.vat_code, "vat_rate": line.vat_rate,
            "exemption_reason": line.exemption_reason}


def _invoice_line(r: RowMapping) -> InvoiceLine:
    return InvoiceLine(id=r["id"], line_no=r["line_no"], order_line_id=r["order_line_id"],
                       corrects_line_id=r["corrects_line_id"], product_id=r["product_id"],
                       sku=r["sku"], description=r["description"], quantity=r["quantity"],
                       unit=r["unit"], unit_price=r["unit_price"],
                       discount_percent=r["discount_percent"], net_amount=r["net_amount"],
                       vat_code=r["vat_code"], vat_rate=r["vat_rate"],
                       exemption_reason=r["exemption_reason"])


def _invoice_tax_row(tax: InvoiceTax) -> dict[str, Any]:
    return {"vat_code": tax.vat_code, "vat_rate": tax.vat_rate,
            "taxable_amount": tax.taxable_amount, "tax_amount": tax.tax_amount,
            "taxable_amount_company": tax.taxable_amount_company,
            "tax_amount_company": tax.tax_amount_company,
            "exemption_reason": tax.exemption_reason}


def _invoice_tax(r: RowMapping) -> InvoiceTax:
    return InvoiceTax(vat_code=r["vat_code"], vat_rate=r["vat_rate"],
                      taxable_amount=r["taxable_amount"], tax_amount=r["tax_amount"],
                      taxable_amount_company=r["taxable_amount_company"],
                      tax_amount_company=r["tax_amount_company"],
                      exemption_reason=r["exemption_reason"])


def _invoice_row(i: Invoice) -> dict[str, Any]:
    return {
        "kind": i.kind.value, "state": i.state.value, "number": i.number or None,
        "company_id": i.company_id, "customer_id": i.customer_id, "currency": i.currency,
        "company_currency": i.company_currency, "fx_rate": i.fx_rate,
        "issue_date": i.issue_date, "delivery_date": i.delivery_date, "due_date": i.due_date,
        "order_id": i.order_id, "order_number": i.order_number,
        "order_reference": i.order_reference, "buyer_reference": i.buyer_reference,
        "shipment_id": i.shipment_id, "corrects_invoice_id": i.corrects_invoice_id,
        "corrects_number": i.corrects_number, "reason": i.reason,
        "seller": i.seller.as_dict(), "buyer": i.buyer.as_dict(),
        "payment_means_code": i.payment_means_code, "payee_iban": i.payee_iban,
        "remittance_reference": i.remittance_reference,
        "payment_terms_code": i.payment_terms_code, "payment_terms_text": i.payment_terms_text,
        "discount_percent": i.discount_percent, "discount_until": i.discount_until,
        "discount_amount": i.discount_amount, "net_amount": i.net_amount,
        "tax_amount": i.tax_amount, "gross_amount": i.gross_amount,
        "tax_amount_company": i.tax_amount_company,
        "gross_amount_company": i.gross_amount_company,
        "installments": _installments_json(i.installments),
    }


def _invoice(r: RowMapping, kids: dict[str, list[Any]]) -> Invoice:
    return Invoice(
        id=r["id"], version=r["version"], kind=InvoiceKind(r["kind"]),
        state=InvoiceState(r["state"]), number=r["number"] or "", company_id=r["company_id"],
        customer_id=r["customer_id"], currency=r["currency"],
        company_currency=r["company_currency"], fx_rate=r["fx_rate"],
        issue_date=r["issue_date"], delivery_date=r["delivery_date"], due_date=r["due_date"],
        order_id=r["order_id"], order_number=r["order_number"],
        order_reference=r["order_reference"], buyer_reference=r["buyer_reference"],
        shipment_id=r["shipment_id"], corrects_invoice_id=r["corrects_invoice_id"],
        corrects_number=r["corrects_number"], reason=r["reason"],
        seller=PartySnapshot.from_dict(r["seller"]), buyer=PartySnapshot.from_dict(r["buyer"]),
        payment_means_code=r["payment_means_code"], payee_iban=r["payee_iban"],
        remittance_reference=r["remittance_reference"],
        payment_terms_code=r["payment_terms_code"], payment_terms_text=r["payment_terms_text"],
        discount_percent=r["discount_percent"], discount_until=r["discount_until"],
        discount_amount=r["discount_amount"], net_amount=r["net_amount"],
        tax_amount=r["tax_amount"], gross_amount=r["gross_amount"],
        tax_amount_company=r["tax_amount_company"],
        gross_amount_company=r["gross_amount_company"],
        installments=_installments(r["installments"]),
        lines=kids["lines"], taxes=kids["taxes"])


INVOICES = Mapping(
    "invoice", t.invoices, _invoice_row, _invoice,
    children=(Child("lines", t.invoice_lines, "invoice_id", _invoice_line_row, _invoice_line,
                    order_by="line_no"),
              Child("taxes", t.invoice_taxes, "invoice_id", _invoice_tax_row, _invoice_tax,
                    has_id=False)),
    immutable_when=lambda row: row["state"] == InvoiceState.POSTED.value,
)

# -- receivables and payments ------------------------------------------------------------------


def _open_item_row(o: OpenItem) -> dict[str, Any]:
    return {"invoice_id": o.invoice_id, "kind": o.kind.value, "number": o.number,
            "company_id": o.company_id, "customer_id": o.customer_id, "currency": o.currency,
            "company_currency": o.company_currency, "issue_date": o.issue_date,
            "amount": o.amount, "residual": o.residual, "amount_company": o.amount_company,
            "residual_company": o.residual_company, "paid": o.paid, "credited": o.credited,
            "due_date": o.due_date, "final_due_date": o.final_due_date,
            "installments": _installments_json(o.installments)}


def _open_item(r: RowMapping, _: dict[str, list[Any]]) -> OpenItem:
    return OpenItem(id=r["id"], version=r["version"], invoice_id=r["invoice_id"],
                    kind=OpenItemKind(r["kind"]), number=r["number"],
                    company_id=r["company_id"], customer_id=r["customer_id"],
                    currency=r["currency"], company_currency=r["company_currency"],
                    issue_date=r["issue_date"], amount=r["amount"], residual=r["residual"],
                    amount_company=r["amount_company"],
                    residual_company=r["residual_company"], paid=r["paid"],
                    credited=r["credited"], due_date=r["due_date"],
                    final_due_date=r["final_due_date"],
                    installments=_installments(r["installments"]))


OPEN_ITEMS = Mapping("open_item", t.open_items, _open_item_row, _open_item)


def _open_items_of_invoices() -> Any:
    return select(t.open_items).where(
        t.open_items.c.invoice_id.in_(bindparam("invoice_ids", expanding=True)))


def _open_invoices_of_customer() -> Any:
    oi = t.open_items
    return select(oi).where(oi.c.customer_id == bindparam("customer_id"),
                            oi.c.currency == bindparam("currency"),
                            oi.c.kind == OpenItemKind.INVOICE.value, t.OPEN_ITEM)


_INSERT_INSTALLMENTS = Statement(insert(t.open_item_installments))


class OpenItemRepository(Repository[OpenItem]):
    def add(self, aggregate: OpenItem) -> OpenItem:
        """A new open item with its instalments as separately due rows (they never change:
        what is owed of each follows from the item's residual)."""
        super().add(aggregate)
        _INSERT_INSTALLMENTS.run_many(self.conn, [
            {"open_item_id": aggregate.id, "seq": d.seq, "due_date": d.due_date,
             "amount": d.amount, "amount_company": d.amount_company, "later": d.later,
             "later_company": d.later_company} for d in aggregate.schedule()])
        return aggregate

    def lock_open_invoices(self, customer_id: int, currency: str) -> list[OpenItem]:
        """A customer's unpaid invoices in one currency, locked, oldest due first. (Items
        this transaction already holds count as they are in memory.)"""
        items = self.lock_where("open_invoices", _open_invoices_of_customer,
                                {"customer_id": customer_id, "currency": currency})
        return sorted((i for i in items if i.residual > 0),
                      key=lambda i: (i.due_date, i.issue_date, i.invoice_id))

    def lock_for_invoices(self, invoice_ids: Iterable[int]) -> dict[int, OpenItem]:
        """The open items of these invoices or credit notes, locked (PostgreSQL) in id order;
        invoice id -> open item."""
        items = self.lock_where("by_invoices", _open_items_of_invoices,
                                {"invoice_ids": sorted(set(invoice_ids))})
        return {item.invoice_id: item for item in items}


def _payment_row(p: Payment) -> dict[str, Any]:
    return {"company_id": p.company_id, "customer_id": p.customer_id, "currency": p.currency,
            "company_currency": p.company_currency, "amount": p.amount,
            "received_on": p.received_on, "method": p.method.value, "reference": p.reference,
            "payer_name": p.payer_name, "payer_iban": p.payer_iban, "fx_rate": p.fx_rate,
            "amount_company": p.amount_company, "unapplied": p.unapplied,
            "unapplied_company": p.unapplied_company, "state": p.state.value}


def _payment(r: RowMapping, _: dict[str, list[Any]]) -> Payment:
    return Payment(id=r["id"], version=r["version"], number=document_number("PAY", r["id"]),
                   company_id=r["company_id"], customer_id=r["customer_id"],
                   currency=r["currency"], company_currency=r["company_currency"],
                   amount=r["amount"], received_on=r["received_on"],
                   method=PaymentMethod(r["method"]), reference=r["reference"],
                   payer_name=r["payer_name"], payer_iban=r["payer_iban"],
                   fx_rate=r["fx_rate"], amount_company=r["amount_company"],
                   unapplied=r["unapplied"], unapplied_company=r["unapplied_company"],
                   state=PaymentState(r["state"]))


PAYMENTS = Mapping("payment", t.payments, _payment_row, _payment, number_prefix="PAY")


def _allocation_row(a: Allocation) -> dict[str, Any]:
    return {"company_id": a.company_id, "customer_id": a.customer_id, "currency": a.currency,
            "invoice_id": a.invoice_id, "invoice_number": a.invoice_number,
            "source_kind": a.source_kind.value, "payment_id": a.payment_id,
            "credit_note_id": a.credit_note_id, "source_number": a.source_number,
            "amount": a.amount, "source_company": a.source_company,
            "target_company": a.target_company, "allocated_on": a.allocated_on,
            "reversed_on": a.reversed_on}


def _allocation(r: RowMapping, _: dict[str, list[Any]]) -> Allocation:
    return Allocation(id=r["id"], version=r["version"], company_id=r["company_id"],
                      customer_id=r["customer_id"], currency=r["currency"],
                      invoice_id=r["invoice_id"], invoice_number=r["invoice_number"],
                      source_kind=SourceKind(r["source_kind"]), payment_id=r["payment_id"],
                      credit_note_id=r["credit_note_id"], source_number=r["source_number"],
                      amount=r["amount"], source_company=r["source_company"],
                      target_company=r["target_company"], allocated_on=r["allocated_on"],
                      reversed_on=r["reversed_on"])


ALLOCATIONS = Mapping("allocation", t.allocations, _allocation_row, _allocation)

# -- append-only stores and lookups ------------------------------------------------------------


def _bp(name: str, **kw: Any) -> Any:
    return bindparam(name, **kw)


def _ids(name: str = "ids") -> Any:
    return bindparam(name, expanding=True)


# Statements on the hot path are built once; SQLAlchemy then reuses their compiled form.
_INSERT_ENTRY = Statement(insert(t.journal_entries).returning(t.journal_entries.c.id))
_INSERT_LINES = Statement(insert(t.journal_lines))
_INSERT_EVENTS = Statement(insert(t.event_log))
_INSERT_MOVES = Statement(insert(t.stock_moves))
_seq = t.number_sequences
_NEXT_NUMBER: dict[str, Statement] = {}  # per dialect: an upsert
_vr = t.vat_rates
_VAT_RATES = Statement(select(_vr).where(
    _vr.c.country.in_(_ids("countries")), _vr.c.valid_from <= _bp("on"),
    _vr.c.valid_to.is_(None) | (_vr.c.valid_to >= _bp("on"))))
_fx = t.exchange_rates
_FX_RATE = Statement(select(_fx.c.rate).where(_fx.c.currency == _bp("currency"),
                                     _fx.c.company_currency == _bp("company_currency"),
                                     _fx.c.rate_date <= _bp("on"))
            .order_by(_fx.c.rate_date.desc()).limit(1))
_TERMS = Statement(select(t.payment_terms).where(t.payment_terms.c.code == _bp("code")))
_sl = t.stock_levels
_INSERT_STOCK = Statement(insert(_sl))
_oi, _pay, _so = t.open_items, t.payments, t.sales_orders


def _scalar_sum(column: Any, *where: Any) -> Any:
    return select(exact_sum(column)).where(*where).scalar_subquery()


_customer = _bp("customer_id")
_open_invoice = (_oi.c.customer_id == _customer, _oi.c.kind == OpenItemKind.INVOICE.value,
                 t.OPEN_ITEM)
_OLDEST_DUE = select(func.min(_oi.c.due_date)).where(*_open_invoice).scalar_subquery()
_ii = t.open_item_installments
# What is overdue: each instalment due before `on` counts with what is still owed of it
# (payments cover the oldest instalment first), not the item's whole residual (see dues.py).
_OVERDUE = (select(dues.owed_sum()).select_from(dues.ITEM_INSTALLMENTS)
            .where(*_open_invoice, _ii.c.due_date < _bp("on"), dues.owing())
            .scalar_subquery())
_CREDIT_POSITION = Statement(select(
    _scalar_sum(_oi.c.residual, *_open_invoice).label("receivable"),
    _OLDEST_DUE.label("oldest_due"),
    _OVERDUE.label("overdue"),
    _scalar_sum(_oi.c.residual, _oi.c.customer_id == _customer,
                _oi.c.kind == OpenItemKind.CREDIT_NOTE.value, t.OPEN_ITEM)
    .label("credit_notes"),
    _scalar_sum(_pay.c.unapplied, _pay.c.customer_id == _customer, t.UNAPPLIED_PAYMENT)
    .label("unapplied"),
    _scalar_sum(_so.c.uninvoiced_amount, _so.c.customer_id == _customer,
                _so.c.state == OrderState.CONFIRMED.value).label("uninvoiced"),
))
_sh = t.shipments
_OPEN_SHIPMENTS = Statement(select(_sh.c.id).where(
    _sh.c.order_id == _bp("order_id"),
    _sh.c.state.in_([ShipmentState.READY.value, ShipmentState.PICKED.value,
                     ShipmentState.PACKED.value])).order_by(_sh.c.id))
_wh = t.warehouses
_DEFAULT_WAREHOUSE = Statement(select(_wh.c.id).where(_wh.c.company_id == _bp("company_id"))
                      .order_by(_wh.c.id).limit(1))
_DELIVERY_ROUTE = Statement(select(_wh.c.delivery_route).where(_wh.c.id == _bp("id")))
_je = t.journal_entries
_ENTRY_FOR = Statement(select(_je.c.id).where(_je.c.source_type == _bp("source_type"),
                                     _je.c.source_id == _bp("source_id"),
                                     _je.c.reverses_entry_id.is_(None))
              .order_by(_je.c.id).limit(1))


class Ledger:
    """Journal entries are only ever inserted."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now

    def post(self, entry: JournalEntry) -> JournalEntry:
        entry.id = _INSERT_ENTRY.scalar(self.conn, {
            "company_id": entry.company_id, "entry_date": entry.entry_date,
            "source_type": entry.source_type, "source_id": entry.source_id, "memo": entry.memo,
            "reverses_entry_id": entry.reverses_entry_id, "created_at": self.now,
        })
        _INSERT_LINES.run_many(self.conn, [
            {"entry_id": entry.id, "company_id": entry.company_id, "account": line.account,
             "debit": line.debit, "credit": line.credit, "customer_id": line.customer_id,
             "currency": line.currency, "amount_currency": line.amount_currency}
            for line in entry.lines])
        return entry

    def get(self, entry_id: int) -> JournalEntry:
        head = self.conn.execute(select(t.journal_entries)
                                 .where(t.journal_entries.c.id == entry_id)).mappings().one()
        lines = self.conn.execute(select(t.journal_lines)
                                  .where(t.journal_lines.c.entry_id == entry_id)
                                  .order_by(t.journal_lines.c.id)).mappings().all()
        return JournalEntry(
            id=head["id"], company_id=head["company_id"], entry_date=head["entry_date"],
            source_type=head["source_type"], source_id=head["source_id"], memo=head["memo"],
            reverses_entry_id=head["reverses_entry_id"],
            lines=[JournalLine(account=r["account"], debit=r["debit"], credit=r["credit"],
                               customer_id=r["customer_id"], currency=r["currency"],
                               amount_currency=r["amount_currency"]) for r in lines])


class EventStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, events: list[Event], occurred_at: datetime, actor: str) -> None:
        if events:
            _INSERT_EVENTS.run_many(self.conn, [
                {"object_type": e.object_type, "object_id": e.object_id, "event": e.name,
                 "occurred_at": occurred_at, "actor": actor, "data": e.data} for e in events])


_OUTBOX_INSERTS: dict[str, Any] = {}


class Outbox:
    """External effects are written here in the business transaction, delivered later; the
    dedup key makes writing the same effect twice a no-op."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now

    def add(self, topic: str, dedup_key: str, payload: dict[str, Any]) -> None:
        dialect = self.conn.dialect.name
        statement = _OUTBOX_INSERTS.get(dialect)
        if statement is None:
            from sqlalchemy.dialects import postgresql, sqlite

            upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = _OUTBOX_INSERTS[dialect] = Statement(
                upsert(t.outbox).on_conflict_do_nothing(index_elements=["dedup_key"]))
        statement.run(self.conn, {
            "topic": topic, "dedup_key": dedup_key, "payload": payload,
            "created_at": self.now, "available_at": self.now, "attempts": 0, "last_error": ""})


T = TypeVar("T")


class Lookups:
    """Reads that decisions inside a transaction depend on. Those that sum or filter rows the
    transaction may have changed in memory flush pending changes first (autoflush), so they
    see what the transaction did so far."""

    def __init__(self, conn: Connection, autoflush: Callable[[], None] = lambda: None,
                 cache: CacheView | None = None) -> None:
        self.conn = conn
        self.autoflush = autoflush
        self.cache = cache

    def _cached(self, table: str, key: Any, load: Callable[[], T]) -> T:
        """Master data through the cache where there is one (SQLite), else read."""
        if self.cache is None:
            return load()
        found: T = self.cache.get(table, key, load)
        return found

    def next_number(self, company_id: int, series: str, year: int) -> int:
        """Gapless: one upsert takes the next value and locks the counter row until the
        transaction ends; a rolled-back transaction gives its number back. The first number
        of a year creates the row, and two transactions doing so at once cannot collide."""
        statement = _NEXT_NUMBER.get(self.conn.dialect.name)
        if statement is None:
            from sqlalchemy.dialects import postgresql, sqlite

            upsert = (postgresql.insert if self.conn.dialect.name == "postgresql"
                      else sqlite.insert)(_seq)
            statement = _NEXT_NUMBER[self.conn.dialect.name] = Statement(
                upsert.on_conflict_do_update(
                    index_elements=["company_id", "series", "year"],
                    set_={"last_value": _seq.c.last_value + 1})
                .returning(_seq.c.last_value))
        return int(statement.scalar(self.conn, {"company_id": company_id, "series": series,
                                                "year": year, "last_value": 1}))

    def vat_rates(self, countries: set[str], on: date) -> list[VatRate]:
        wanted = sorted(countries)
        params = {"countries": wanted, "on": on}

        def load() -> tuple[VatRate, ...]:
            return tuple(VatRate(country=x["country"], category=VatCategory(x["category"]),
                                 rate=x["rate"], valid_from=x["valid_from"],
                                 valid_to=x["valid_to"], id=x["id"])
                         for x in _VAT_RATES.all(self.conn, params))

        # VatRate is immutable, so the cache may hand out the same objects again.
        return list(self._cached("vat_rates", (tuple(wanted), on), load))

    def exchange_rate(self, currency: str, company_currency: str, on: date) -> Decimal | None:
        if currency == company_currency:
            return Decimal(1)
        return _FX_RATE.scalar(self.conn, {"currency": currency,  # type: ignore[no-any-return]
                                           "company_currency": company_currency, "on": on})

    def add_payment_terms(self, terms: PaymentTerms) -> int:
        return int(self.conn.execute(insert(t.payment_terms).returning(t.payment_terms.c.id),
                                     payment_terms_row(terms)).scalar_one())

    def add_vat_rate(self, rate: VatRate) -> int:
        """Insert a rate; the open-ended rate it replaces ends the day before it starts."""
        r = t.vat_rates
        self.conn.execute(
            update(r).where(r.c.country == rate.country, r.c.category == rate.category.value,
                            r.c.valid_from < rate.valid_from,
                            r.c.valid_to.is_(None) | (r.c.valid_to >= rate.valid_from))
            .values(valid_to=rate.valid_from - timedelta(days=1)))
        return int(self.conn.execute(insert(r).returning(r.c.id), vat_rate_row(rate))
                   .scalar_one())

    def vat_rate_exists(self, country: str, category: str, valid_from: date) -> bool:
        r = t.vat_rates
        return self.conn.execute(select(r.c.id).where(
            r.c.country == country, r.c.category == category, r.c.valid_from == valid_from)
        ).first() is not None

    def set_exchange_rate(self, currency: str, company_currency: str, on: date,
                          rate: Decimal) -> int:
        r = t.exchange_rates
        key = (r.c.currency == currency, r.c.company_currency == company_currency,
               r.c.rate_date == on)
        existing = self.conn.execute(select(r.c.id).where(*key)).scalar()
        if existing is not None:
            self.conn.execute(update(r).where(r.c.id == existing).values(rate=rate))
            return int(existing)
        return int(self.conn.execute(insert(r).returning(r.c.id), {
            "currency": currency, "company_currency": company_currency, "rate_date": on,
            "rate": rate}).scalar_one())

    def payment_terms(self, code: str) -> PaymentTerms | None:
        row = self._cached("payment_terms", code,
                           lambda: _TERMS.first(self.conn, {"code": code}))
        return None if row is None else payment_terms_from_row(row)

    def record_moves(self, moves: list[StockMove], now: datetime) -> None:
        if moves:
            _INSERT_MOVES.run_many(self.conn, [
                {"product_id": m.product_id, "warehouse_id": m.warehouse_id,
                 "quantity": m.quantity, "kind": m.kind.value, "reference": m.reference,
                 "moved_on": m.moved_on, "created_at": now} for m in moves])

    def credit_position(self, customer: Customer, on: date) -> CreditPosition:
        """Everything the credit check needs, in one statement; overdue means due before
        `on`."""
        self.autoflush()
        row = _CREDIT_POSITION.all(self.conn, {"customer_id": customer.id, "on": on})[0]
        return CreditPosition(
            currency=customer.currency, credit_limit=customer.credit_limit,
            blocked=customer.credit_blocked, open_receivables=row["receivable"],
            unapplied_credit=row["unapplied"] + row["credit_notes"],
            uninvoiced_orders=row["uninvoiced"], oldest_overdue_due_date=row["oldest_due"],
            overdue_amount=row["overdue"])

    def orders_with_backorder(self, warehouse_id: int | None, product_ids: set[int] | None,
                              order_id: int | None = None) -> list[int]:
        """Confirmed orders waiting for these products, oldest first (first come, first
        served)."""
        self.autoflush()
        so, ol = t.sales_orders, t.order_lines
        query = (select(so.c.id).join(ol, ol.c.order_id == so.c.id)
                 .where(so.c.state == OrderState.CONFIRMED.value, t.BACKORDERED_LINE)
                 .group_by(so.c.id, so.c.order_date).order_by(so.c.order_date, so.c.id))
        if warehouse_id is not None:
            query = query.where(so.c.warehouse_id == warehouse_id)
        if product_ids is not None:
            query = query.where(ol.c.product_id.in_(product_ids))
        if order_id is not None:
            query = query.where(so.c.id == order_id)
        return list(self.conn.execute(query).scalars())

    def open_shipment_ids(self, order_id: int) -> list[int]:
        self.autoflush()
        return [r["id"] for r in _OPEN_SHIPMENTS.all(self.conn, {"order_id": order_id})]

    def credited_so_far(self, invoice_id: int) -> dict[int, tuple[Decimal, Decimal]]:
        """Quantity and net amount credited per line of an invoice by posted credit notes."""
        self.autoflush()
        inv, il = t.invoices, t.invoice_lines
        rows = self.conn.execute(
            select(il.c.corrects_line_id, func.sum(il.c.quantity), func.sum(il.c.net_amount))
            .join(inv, inv.c.id == il.c.invoice_id)
            .where(inv.c.corrects_invoice_id == invoice_id,
                   inv.c.state == InvoiceState.POSTED.value,
                   il.c.corrects_line_id.is_not(None))
            .group_by(il.c.corrects_line_id)).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    def default_warehouse(self, company_id: int) -> int | None:
        found: int | None = self._cached(
            "warehouses", ("default", company_id),
            lambda: _DEFAULT_WAREHOUSE.scalar(self.conn, {"company_id": company_id}))
        return found

    def delivery_route(self, warehouse_id: int) -> DeliveryRoute:
        """The steps new shipments of the warehouse go through."""
        found: str | None = self._cached(
            "warehouses", ("route", warehouse_id),
            lambda: _DELIVERY_ROUTE.scalar(self.conn, {"id": warehouse_id}))
        if found is None:
            raise NotFound("warehouse", warehouse_id)
        return DeliveryRoute(found)

    def entry_id_for(self, source_type: str, source_id: int) -> int | None:
        return _ENTRY_FOR.scalar(self.conn, {  # type: ignore[no-any-return]
            "source_type": source_type, "source_id": source_id})

    def next_customer_code(self, company_id: int) -> str:
        """One past the highest generated code (C-00042 -> C-00043), whatever codes were
        given by hand in between."""
        c = t.customers
        highest = self.conn.execute(
            select(func.max(c.c.code)).where(c.c.company_id == company_id,
                                             c.c.code.like("C-_____"))).scalar()
        number = int(highest[2:]) if highest and highest[2:].isdigit() else 0
        return f"C-{number + 1:05d}"

    def ensure_chart(self, company_id: int, chart: tuple[tuple[str, str, Any], ...]) -> None:
        self.conn.execute(insert(t.accounts), [
            {"company_id": company_id, "code": code, "name": name, "type": kind.value}
            for code, name, kind in chart])


def payment_terms_from_row(row: Any) -> PaymentTerms:
    return PaymentTerms(
        id=row["id"], code=row["code"], name=row["name"],
        lines=tuple(TermLine(Decimal(x["percent"]), int(x["days"]), bool(x["end_of_month"]))
                    for x in row["lines"]),
        discount_percent=row["discount_percent"], discount_days=row["discount_days"])


def payment_terms_row(terms: PaymentTerms) -> dict[str, Any]:
    return {"code": terms.code, "name": terms.name,
            "lines": [{"percent": str(x.percent), "days": x.days, "end_of_month": x.end_of_month}
                      for x in terms.lines],
            "discount_percent": terms.discount_percent, "discount_days": terms.discount_days}


def vat_rate_row(rate: VatRate) -> dict[str, Any]:
    return {"country": rate.country, "category": rate.category.value, "rate": rate.rate,
            "valid_from": rate.valid_from, "valid_to": rate.valid_to}


def all_mappings() -> dict[str, Mapping[Any]]:
    return {"companies": COMPANIES, "customers": CUSTOMERS, "products": PRODUCTS,
            "warehouses": WAREHOUSES, "stock": STOCK, "orders": ORDERS,
            "shipments": SHIPMENTS, "invoices": INVOICES, "open_items": OPEN_ITEMS,
            "payments": PAYMENTS, "allocations": ALLOCATIONS}


__all__ = ["EventStore", "Ledger", "Lookups", "Outbox", "Repository", "all_mappings"]
