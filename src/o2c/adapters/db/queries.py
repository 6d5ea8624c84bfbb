"""The read side: lists (filtered, paginated) and detail views for the API, the CLI and the
web UI, plus the ledger figures `o2c ledger verify` checks. Every query is set-based: a page
of rows and its related rows come in a fixed number of statements, never one per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, literal, or_, select

from o2c.adapters.db import dues
from o2c.adapters.db import tables as t
from o2c.adapters.db.repositories import CUSTOMERS, Lookups, exact_sum
from o2c.domain.aggregate import document_number, parse_document_number
from o2c.domain.errors import InvalidInput, NotFound
from o2c.domain.ledger import CUSTOMER_CREDIT, RECEIVABLE, LedgerFigures
from o2c.domain.money import in_minor_units, plain
from o2c.domain.orders import OrderState
from o2c.domain.receivables import OpenItemKind, PaymentStatus
from o2c.domain.shipping import next_step, route_steps

MAX_LIMIT = 500
Row = dict[str, Any]


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0
    sort: str | None = None  # a key of the list's SORT_KEYS; "-key" for descending
    totals: bool = False  # also sum the list's amounts over every matching row, per currency

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        if self.offset < 0:
            raise InvalidInput("offset must not be negative", field="offset")


@dataclass(frozen=True)
class Page:
    items: list[Row]
    total: int
    limit: int
    offset: int
    # With PageRequest.totals: per currency, the count and the sums of the list's amounts.
    totals: list[Row] = field(default_factory=list)

    def as_dict(self) -> Row:
        return {"items": self.items, "total": self.total, "limit": self.limit,
                "offset": self.offset}


@dataclass(frozen=True)
class Filters:
    """The common list filters; each list uses those that make sense for it."""

    company_id: int | None = None
    customer_id: int | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None  # free text: number, name, code, SKU
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("date_from is after date_to", field="date_from")


def amount(value: Decimal | None, currency: str) -> Decimal | None:
    """Stored amounts carry 4 decimals; present them in the currency's minor units."""
    return None if value is None else in_minor_units(value, currency)


quantity = plain


def _page(conn: Connection, query: Select[Any], page: PageRequest,
          order_by: Sequence[Any]) -> tuple[list[Row], int]:
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())
                         ).scalar_one()
    rows = conn.execute(query.order_by(*order_by).limit(page.limit).offset(page.offset)
                        ).mappings().all()
    return [dict(r) for r in rows], int(total)


# The columns a list may be sorted by, by the key a page or a request names them with: the
# only sort keys accepted (never a column name taken from input).
SORT_KEYS: dict[str, dict[str, Any]] = {
    "orders": {"number": t.sales_orders.c.id, "date": t.sales_orders.c.order_date,
               "customer": t.customers.c.name, "state": t.sales_orders.c.state,
               "total": t.sales_orders.c.gross_amount},
    "invoices": {"number": t.invoices.c.number, "date": t.invoices.c.issue_date,
                 "customer": t.customers.c.name, "due": t.invoices.c.due_date,
                 "total": t.invoices.c.gross_amount, "open": t.open_items.c.residual},
    "payments": {"number": t.payments.c.id, "date": t.payments.c.received_on,
                 "customer": t.customers.c.name, "amount": t.payments.c.amount,
                 "unapplied": t.payments.c.unapplied},
    "customers": {"code": t.customers.c.code, "name": t.customers.c.name,
                  "country": t.customers.c.country, "terms": t.customers.c.payment_terms_code,
                  "credit_limit": t.customers.c.credit_limit},
}
_TIE_BREAK = {"orders": t.sales_orders.c.id, "invoices": t.invoices.c.id,
              "payments": t.payments.c.id, "customers": t.customers.c.id}


def _sorted(kind: str, page: PageRequest, default: list[Any]) -> list[Any]:
    """The ORDER BY of a list page: the requested whitelisted key (then the id, so pages do
    not overlap), or the list's default order."""
    if not page.sort:
        return default
    key = page.sort.removeprefix("-")
    column = SORT_KEYS[kind].get(key)
    if column is None:
        raise InvalidInput(f"cannot sort by {key!r}; one of: {', '.join(SORT_KEYS[kind])}",
                           field="sort")
    if page.sort.startswith("-"):
        return [column.desc(), _TIE_BREAK[kind].desc()]
    return [column.asc(), _TIE_BREAK[kind].asc()]


def _page_with_totals(conn: Connection, query: Select[Any], page: PageRequest,
                      order_by: Sequence[Any], sums: Sequence[str],
                      by: Sequence[str] = ("currency",)
                      ) -> tuple[list[Row], int, list[Row]]:
    """One page and, when the request asks for totals, the count and the sums of the named
    amount columns over all matching rows per currency (and the other `by` columns), in the
    same statement as the count."""
    if not page.totals:
        rows, total = _page(conn, query, page, order_by)
        return rows, total, []
    matching = query.order_by(None).subquery()
    zero = Decimal(0)
    grouped = conn.execute(
        select(*(matching.c[name] for name in by), func.count().label("count"),
               *(func.coalesce(func.sum(matching.c[name]),
                               literal(zero, matching.c[name].type)).label(name)
                 for name in sums))
        .group_by(*(matching.c[name] for name in by))
        .order_by(*(matching.c[name] for name in by))).mappings().all()
    totals = [{**{name: r[name] for name in by}, "count": int(r["count"]),
               **{name: amount(r[name], r["currency"]) for name in sums}} for r in grouped]
    found = conn.execute(query.order_by(*order_by).limit(page.limit).offset(page.offset)
                         ).mappings().all()
    return [dict(r) for r in found], sum(x["count"] for x in totals), totals


def paginate(conn: Connection, query: Select[Any], page: PageRequest,
             order_by: Sequence[Any]) -> Page:
    """One page of a query's rows and the total, in the database (never sliced in Python)."""
    rows, total = _page(conn, query, page, order_by)
    return Page(rows, total, page.limit, page.offset)


def _dates(query: Select[Any], column: Any, filters: Filters) -> Select[Any]:
    if filters.date_from:
        query = query.where(column >= filters.date_from)
    if filters.date_to:
        query = query.where(column <= filters.date_to)
    return query


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- master data --------------------------------------------------------------------------------


def _company(row: Row) -> Row:
    result = {k: row[k] for k in ("id", "code", "name", "country", "currency", "vat_id",
                                  "iban", "bic", "address", "email", "tax_rounding",
                                  "rounding_mode", "overdue_hold_days")}
    result["default_credit_limit"] = amount(row["default_credit_limit"], row["currency"])
    result["registration"] = row["registration"] or {}
    return result


def list_companies(conn: Connection, page: PageRequest = PageRequest()) -> Page:
    rows, total = _page(conn, select(t.companies), page, [t.companies.c.id])
    return Page([_company(r) for r in rows], total, page.limit, page.offset)


def company(conn: Connection, company_id: int) -> Row:
    row = conn.execute(select(t.companies).where(t.companies.c.id == company_id)).mappings().first()
    if row is None:
        raise NotFound("company", company_id)
    return _company(dict(row))


def default_company_id(conn: Connection) -> int | None:
    return conn.execute(select(func.min(t.companies.c.id))).scalar()


def _customer(row: Row) -> Row:
    keys = ("id", "company_id", "code", "name", "country", "currency", "language", "vat_id",
            "tax_code", "email", "billing_address", "shipping_address", "payment_terms_code",
            "credit_blocked", "overdue_hold_days", "invoice_policy", "buyer_reference")
    result = {k: row[k] for k in keys}
    result["credit_limit"] = amount(row["credit_limit"], row["currency"])
    result["approved_credit_limit"] = amount(row["approved_credit_limit"], row["currency"])
    return result


def list_customers(conn: Connection, filters: Filters = Filters(),
                   page: PageRequest = PageRequest()) -> Page:
    c = t.customers
    query = select(c)
    if filters.company_id:
        query = query.where(c.c.company_id == filters.company_id)
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(c.c.name.ilike(pattern, escape="\\"),
                                c.c.code.ilike(pattern, escape="\\"),
                                c.c.vat_id.ilike(pattern, escape="\\")))
    if country := filters.extra.get("country"):
        query = query.where(c.c.country == country)
    rows, total, totals = _page_with_totals(conn, query, page,
                                            _sorted("customers", page, [c.c.code]),
                                            ("credit_limit",))
    return Page([_customer(r) for r in rows], total, page.limit, page.offset, totals)


def customer(conn: Connection, customer_id: int, as_of: date) -> Row:
    row = conn.execute(select(t.customers).where(t.customers.c.id == customer_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("customer", customer_id)
    result = _customer(dict(row))
    result["credit"] = credit_position(conn, customer_id, as_of)
    return result


def credit_position(conn: Connection, customer_id: int, as_of: date) -> Row:
    row = conn.execute(select(t.customers).where(t.customers.c.id == customer_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("customer", customer_id)
    position = Lookups(conn).credit_position(CUSTOMERS.from_row(row, {}), as_of)
    currency = position.currency
    available = (None if position.credit_limit is None
                 else position.credit_limit - position.exposure)
    return {
        "currency": currency, "credit_limit": amount(position.credit_limit, currency),
        "open_receivables": amount(position.open_receivables, currency),
        "unapplied_credit": amount(position.unapplied_credit, currency),
        "uninvoiced_orders": amount(position.uninvoiced_orders, currency),
        "exposure": amount(position.exposure, currency),
        "available": amount(available, currency), "blocked": position.blocked,
        "oldest_due_date": position.oldest_overdue_due_date,
        "days_overdue": position.days_overdue(as_of),
        "overdue": amount(position.overdue_amount, currency),
    }


def list_products(conn: Connection, filters: Filters = Filters(),
                  page: PageRequest = PageRequest()) -> Page:
    p = t.products
    query = select(p, t.companies.c.currency).join(t.companies, t.companies.c.id == p.c.company_id)
    if filters.company_id:
        query = query.where(p.c.company_id == filters.company_id)
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(p.c.sku.ilike(pattern, escape="\\"),
                                p.c.name.ilike(pattern, escape="\\")))
    if "active" in filters.extra:
        query = query.where(p.c.active == bool(filters.extra["active"]))
    rows, total = _page(conn, query, page, [p.c.sku])
    return Page([_product(r) for r in rows], total, page.limit, page.offset)


def _product(row: Row) -> Row:
    return {"id": row["id"], "company_id": row["company_id"], "sku": row["sku"],
            "name": row["name"], "unit": row["unit"], "unit_price": plain(row["unit_price"]),
            "currency": row["currency"], "vat_category": row["vat_category"], "kind": row["kind"],
            "prices": row["prices"], "active": row["active"]}


def product(conn: Connection, product_id: int) -> Row:
    p = t.products
    row = conn.execute(select(p, t.companies.c.currency)
                       .join(t.companies, t.companies.c.id == p.c.company_id)
                       .where(p.c.id == product_id)).mappings().first()
    if row is None:
        raise NotFound("product", product_id)
    result = _product(dict(row))
    result["stock"] = list_stock(conn, Filters(extra={"product_id": product_id}),
                                 PageRequest(limit=MAX_LIMIT)).items
    return result


_WAREHOUSE_FIELDS = ("id", "company_id", "code", "name", "address", "delivery_route")


def list_warehouses(conn: Connection, page: PageRequest = PageRequest()) -> Page:
    rows, total = _page(conn, select(t.warehouses), page, [t.warehouses.c.code])
    return Page([{k: r[k] for k in _WAREHOUSE_FIELDS} for r in rows], total, page.limit,
                page.offset)


def list_stock(conn: Connection, filters: Filters = Filters(),
               page: PageRequest = PageRequest()) -> Page:
    s, p, w = t.stock_levels, t.products, t.warehouses
    query = (select(s.c.id, s.c.product_id, s.c.warehouse_id, s.c.on_hand, s.c.reserved,
                    p.c.sku, p.c.name, w.c.code.label("warehouse"))
             .join(p, p.c.id == s.c.product_id).join(w, w.c.id == s.c.warehouse_id))
    if product_id := filters.extra.get("product_id"):
        query = query.where(s.c.product_id == product_id)
    if warehouse_id := filters.extra.get("warehouse_id"):
        query = query.where(s.c.warehouse_id == warehouse_id)
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(p.c.sku.ilike(pattern, escape="\\"),
                                p.c.name.ilike(pattern, escape="\\")))
    rows, total = _page(conn, query, page, [p.c.sku, w.c.code])
    return Page([{**r, "on_hand": quantity(r["on_hand"]), "reserved": quantity(r["reserved"]),
                  "available": quantity(r["on_hand"] - r["reserved"])} for r in rows],
                total, page.limit, page.offset)


def list_vat_rates(conn: Connection, page: PageRequest = PageRequest()) -> Page:
    r = t.vat_rates
    rows, total = _page(conn, select(r), page, [r.c.country, r.c.category, r.c.valid_from])
    return Page([{**row, "rate": plain(row["rate"])} for row in rows], total,
                page.limit, page.offset)


def list_exchange_rates(conn: Connection, page: PageRequest = PageRequest()) -> Page:
    r = t.exchange_rates
    rows, total = _page(conn, select(r), page, [r.c.currency, r.c.rate_date.desc()])
    return Page([{**row, "rate": plain(row["rate"])} for row in rows], total,
                page.limit, page.offset)


def list_payment_terms(conn: Connection, page: PageRequest = PageRequest()) -> Page:
    rows, total = _page(conn, select(t.payment_terms), page, [t.payment_terms.c.code])
    return Page([{**row, "discount_percent": plain(row["discount_percent"])}
                 for row in rows], total, page.limit, page.offset)


# -- orders and shipments -----------------------------------------------------------------------


def _order(row: Row) -> Row:
    cur = row["currency"]
    return {
        "id": row["id"], "number": document_number("SO", row["id"]),
        "company_id": row["company_id"], "customer_id": row["customer_id"],
        "customer_code": row.get("customer_code"), "customer_name": row.get("customer_name"),
        "warehouse_id": row["warehouse_id"], "currency": cur, "order_date": row["order_date"],
        "state": row["state"], "shipping_status": row["shipping_status"],
        "invoicing_status": row["invoicing_status"],
        "customer_reference": row["customer_reference"], "notes": row["notes"],
        # Why it is (or was, when rejected) held; orders released before the reason was
        # cleared on release keep it in the row, not on their page.
        "hold_reason": row["hold_reason"] if row["state"] in (
            OrderState.CREDIT_HOLD.value, OrderState.REJECTED.value) else "",
        "net_amount": amount(row["net_amount"], cur),
        "tax_amount": amount(row["tax_amount"], cur),
        "gross_amount": amount(row["gross_amount"], cur),
        "invoiced_amount": amount(row["invoiced_amount"], cur),
    }


def _order_query() -> Select[Any]:
    so, c = t.sales_orders, t.customers
    return (select(so, c.c.code.label("customer_code"), c.c.name.label("customer_name"))
            .join(c, c.c.id == so.c.customer_id))


def list_orders(conn: Connection, filters: Filters = Filters(),
                page: PageRequest = PageRequest()) -> Page:
    so, c = t.sales_orders, t.customers
    query = _order_query()
    if filters.company_id:
        query = query.where(so.c.company_id == filters.company_id)
    if filters.customer_id:
        query = query.where(so.c.customer_id == filters.customer_id)
    if filters.state:
        query = query.where(so.c.state == filters.state)
    if status := filters.extra.get("shipping_status"):
        query = query.where(so.c.shipping_status == status)
    query = _dates(query, so.c.order_date, filters)
    if filters.q:
        order_id = parse_document_number("SO", filters.q)
        pattern = _like(filters.q)
        conditions: list[Any] = [c.c.name.ilike(pattern, escape="\\"),
                                 c.c.code.ilike(pattern, escape="\\"),
                      so.c.customer_reference.ilike(pattern, escape="\\")]
        if order_id is not None:
            conditions.append(so.c.id == order_id)
        query = query.where(or_(*conditions))
    rows, total, totals = _page_with_totals(
        conn, query, page, _sorted("orders", page, [so.c.order_date.desc(), so.c.id.desc()]),
        ("net_amount", "gross_amount"))
    return Page([_order(r) for r in rows], total, page.limit, page.offset, totals)


def order_id_of(number_or_id: str) -> int:
    parsed = parse_document_number("SO", number_or_id)
    if parsed is not None:
        return parsed
    if number_or_id.isdigit():
        return int(number_or_id)
    raise NotFound("order", number_or_id)


def order(conn: Connection, order_id: int, as_of: date | None = None) -> Row:
    """`as_of` decides the payment status of the order's invoices (today when omitted)."""
    so = t.sales_orders
    row = conn.execute(_order_query().where(so.c.id == order_id)).mappings().first()
    if row is None:
        raise NotFound("order", order_id)
    result = _order(dict(row))
    cur = result["currency"]
    confirmed = result["state"] == OrderState.CONFIRMED.value
    lines = conn.execute(select(t.order_lines).where(t.order_lines.c.order_id == order_id)
                         .order_by(t.order_lines.c.line_no)).mappings().all()
    result["lines"] = [{
        "id": line["id"], "line_no": line["line_no"], "product_id": line["product_id"],
        "sku": line["sku"], "description": line["description"],
        "quantity": quantity(line["quantity"]), "unit": line["unit"],
        "unit_price": plain(line["unit_price"]),
        "discount_percent": plain(line["discount_percent"]),
        "net_amount": amount(line["net_amount"], cur), "vat_code": line["vat_code"],
        "vat_rate": plain(line["vat_rate"]),
        "reserved_qty": quantity(line["reserved_qty"]),
        "shipped_qty": quantity(line["shipped_qty"]),
        "invoiced_qty": quantity(line["invoiced_qty"]),
        # Only a confirmed order waits for stock: a draft or held order has reserved nothing
        # yet and owes no backorder.
        "backorder_qty": quantity(line["backorder_qty"] if confirmed else Decimal(0)),
    } for line in lines]
    result["shipments"] = list_shipments(conn, Filters(extra={"order_id": order_id}),
                                         PageRequest(limit=MAX_LIMIT)).items
    result["invoices"] = list_invoices(conn, Filters(extra={"order_id": order_id}),
                                       PageRequest(limit=MAX_LIMIT), as_of).items
    return result


def _shipment(row: Row) -> Row:
    return {
        "id": row["id"], "number": document_number("SHP", row["id"]),
        "order_id": row["order_id"], "order_number": document_number("SO", row["order_id"]),
        "customer_id": row["customer_id"], "customer_name": row.get("customer_name"),
        "warehouse_id": row["warehouse_id"], "state": row["state"],
        "created_on": row["created_on"], "picked_on": row["picked_on"],
        "packed_on": row["packed_on"], "shipped_on": row["shipped_on"],
        "delivered_on": row["delivered_on"], "carrier": row["carrier"],
        "tracking_number": row["tracking_number"], "packages": row["packages"],
        "route": row["route"], "steps": route_steps(row["route"]),
        "next_step": next_step(row["route"], row["state"]),
    }


def list_shipments(conn: Connection, filters: Filters = Filters(),
                   page: PageRequest = PageRequest()) -> Page:
    s, c = t.shipments, t.customers
    query = select(s, c.c.name.label("customer_name")).join(c, c.c.id == s.c.customer_id)
    if filters.company_id:
        query = query.where(s.c.company_id == filters.company_id)
    if filters.customer_id:
        query = query.where(s.c.customer_id == filters.customer_id)
    if order_id := filters.extra.get("order_id"):
        query = query.where(s.c.order_id == order_id)
    if warehouse_id := filters.extra.get("warehouse_id"):
        query = query.where(s.c.warehouse_id == warehouse_id)
    if filters.state:
        query = query.where(s.c.state.in_(filters.state.split(",")))
    query = _dates(query, s.c.created_on, filters)
    rows, total = _page(conn, query, page, [s.c.created_on.desc(), s.c.id.desc()])
    items = [_shipment(r) for r in rows]
    lines = _shipment_lines(conn, [r["id"] for r in items])
    for item in items:
        item["lines"] = lines.get(item["id"], [])
    return Page(items, total, page.limit, page.offset)


def _shipment_lines(conn: Connection, ids: Iterable[int]) -> dict[int, list[Row]]:
    ids = list(ids)
    grouped: dict[int, list[Row]] = defaultdict(list)
    if not ids:
        return grouped
    sl = t.shipment_lines
    for row in conn.execute(select(sl).where(sl.c.shipment_id.in_(ids))
                            .order_by(sl.c.shipment_id, sl.c.id)).mappings():
        grouped[row["shipment_id"]].append({
            "order_line_id": row["order_line_id"], "product_id": row["product_id"],
            "sku": row["sku"], "description": row["description"],
            "quantity": quantity(row["quantity"])})
    return grouped


def shipment(conn: Connection, shipment_id: int) -> Row:
    s, c = t.shipments, t.customers
    row = conn.execute(select(s, c.c.name.label("customer_name"))
                       .join(c, c.c.id == s.c.customer_id)
                       .where(s.c.id == shipment_id)).mappings().first()
    if row is None:
        raise NotFound("shipment", shipment_id)
    result = _shipment(dict(row))
    result["lines"] = _shipment_lines(conn, [shipment_id]).get(shipment_id, [])
    return result


# -- invoices -----------------------------------------------------------------------------------


def _payment_status(as_of: date) -> Any:
    oi = t.open_items
    return case(
        (oi.c.residual == 0,
         case((oi.c.credited == oi.c.amount, literal(PaymentStatus.CREDITED.value)),
              else_=literal(PaymentStatus.PAID.value))),
        (oi.c.due_date < as_of, literal(PaymentStatus.OVERDUE.value)),
        (oi.c.residual < oi.c.amount, literal(PaymentStatus.PARTIALLY_PAID.value)),
        else_=literal(PaymentStatus.UNPAID.value))


def _credit_status(row: Row) -> str | None:
    """How much of a credit note was applied (to its invoice or others)."""
    if row["residual"] is None:
        return None
    if row["residual"] == 0:
        return "applied"
    return "partially_applied" if row["residual"] < row["gross_amount"] else "unapplied"


def _invoice(row: Row, as_of: date) -> Row:
    cur = row["currency"]
    due = row["open_due_date"]
    status = row["payment_status"]
    return {
        "id": row["id"], "number": row["number"], "kind": row["kind"], "state": row["state"],
        "company_id": row["company_id"], "customer_id": row["customer_id"],
        "customer_code": row.get("customer_code"), "customer_name": row.get("customer_name"),
        "currency": cur, "issue_date": row["issue_date"], "due_date": row["due_date"],
        "order_id": row["order_id"], "order_number": row["order_number"],
        "shipment_id": row["shipment_id"], "corrects_invoice_id": row["corrects_invoice_id"],
        "corrects_number": row["corrects_number"],
        "net_amount": amount(row["net_amount"], cur), "tax_amount": amount(row["tax_amount"], cur),
        "gross_amount": amount(row["gross_amount"], cur),
        "residual": amount(row["residual"], cur),
        "payment_status": status if row["kind"] == OpenItemKind.INVOICE.value else None,
        "credit_status": _credit_status(row) if row["kind"] == OpenItemKind.CREDIT_NOTE.value
        else None,
        "days_overdue": max((as_of - due).days, 0)
        if row["kind"] == OpenItemKind.INVOICE.value and status == PaymentStatus.OVERDUE.value
        and due else 0,
        # The oldest instalment not yet paid falls due here; what is overdue is what is
        # still owed of the instalments due before `as_of`, not the whole residual.
        "next_due_date": due if row["kind"] == OpenItemKind.INVOICE.value else None,
        "overdue_amount": amount(row["overdue_amount"], cur)
        if row["kind"] == OpenItemKind.INVOICE.value and row["overdue_amount"] is not None
        else None,
        "remittance_reference": row["remittance_reference"],
    }


def _invoice_query(as_of: date) -> Select[Any]:
    inv, oi, c = t.invoices, t.open_items, t.customers
    return (select(inv, oi.c.residual, oi.c.due_date.label("open_due_date"),
                   _payment_status(as_of).label("payment_status"),
                   c.c.code.label("customer_code"), c.c.name.label("customer_name"))
            .join(c, c.c.id == inv.c.customer_id)
            .outerjoin(oi, oi.c.invoice_id == inv.c.id))


def list_invoices(conn: Connection, filters: Filters = Filters(),
                  page: PageRequest = PageRequest(), as_of: date | None = None) -> Page:
    inv, c = t.invoices, t.customers
    as_of = as_of or date.today()
    query = _invoice_query(as_of)
    if filters.company_id:
        query = query.where(inv.c.company_id == filters.company_id)
    if filters.customer_id:
        query = query.where(inv.c.customer_id == filters.customer_id)
    if filters.state:
        query = query.where(inv.c.state == filters.state)
    if kind := filters.extra.get("kind"):
        query = query.where(inv.c.kind == kind)
    if order_id := filters.extra.get("order_id"):
        query = query.where(inv.c.order_id == order_id)
    if status := filters.extra.get("payment_status"):
        query = query.where(inv.c.kind == OpenItemKind.INVOICE.value,
                            _payment_status(as_of) == status)
    if filters.extra.get("open"):
        query = query.where(t.OPEN_ITEM)
    due_from, due_to = filters.extra.get("due_from"), filters.extra.get("due_to")
    if due_from or due_to:
        # An aging bucket: the invoices with an instalment still owed falling due then.
        # (The oldest unpaid instalment falls due first and the last one last: conditions
        # on the item's own dates narrow the search by index before the EXISTS.)
        ii, oi = t.open_item_installments, t.open_items
        due = [ii.c.open_item_id == oi.c.id, dues.owing()]
        if due_from:
            due.append(ii.c.due_date >= due_from)
            query = query.where(oi.c.final_due_date >= due_from)
        if due_to:
            due.append(ii.c.due_date <= due_to)
            query = query.where(oi.c.due_date <= due_to)
        query = query.where(t.OPEN_ITEM, select(ii.c.seq).where(*due).correlate(oi).exists())
    query = _dates(query, inv.c.issue_date, filters)
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(inv.c.number.ilike(pattern, escape="\\"),
                                c.c.name.ilike(pattern, escape="\\"),
                                inv.c.order_reference.ilike(pattern, escape="\\")))
    rows, total, totals = _page_with_totals(
        conn, query, page, _sorted("invoices", page, [inv.c.issue_date.desc(), inv.c.id.desc()]),
        ("gross_amount", "residual"), by=("currency", "kind"))
    return Page(_invoices(conn, rows, as_of), total, page.limit, page.offset, totals)


def _invoices(conn: Connection, rows: Sequence[Row], as_of: date) -> list[Row]:
    """Rows of invoices with what each has overdue on `as_of` (one grouped query for all)."""
    overdue = dues.overdue_by_invoice(conn, [r["id"] for r in rows
                                             if r["kind"] == OpenItemKind.INVOICE.value], as_of)
    return [_invoice({**r, "overdue_amount": overdue.get(r["id"], Decimal(0))}, as_of)
            for r in rows]


def invoice_id_of(conn: Connection, number_or_id: str) -> int:
    found = conn.execute(select(t.invoices.c.id).where(t.invoices.c.number == number_or_id)
                         ).scalar()
    if found is not None:
        return int(found)
    if number_or_id.isdigit():
        return int(number_or_id)
    raise NotFound("invoice", number_or_id)


def invoice(conn: Connection, invoice_id: int, as_of: date | None = None) -> Row:
    as_of = as_of or date.today()
    row = conn.execute(_invoice_query(as_of).where(t.invoices.c.id == invoice_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("invoice", invoice_id)
    [result] = _invoices(conn, [dict(row)], as_of)
    cur = result["currency"]
    result.update({
        "company_currency": row["company_currency"], "fx_rate": plain(row["fx_rate"]),
        "delivery_date": row["delivery_date"], "order_reference": row["order_reference"],
        "buyer_reference": row["buyer_reference"], "reason": row["reason"],
        "seller": row["seller"], "buyer": row["buyer"],
        "payment_means_code": row["payment_means_code"], "payee_iban": row["payee_iban"],
        "payment_terms": row["payment_terms_text"],
        "early_payment_discount": None if not row["discount_percent"] else {
            "percent": plain(row["discount_percent"]), "until": row["discount_until"],
            "amount": amount(row["discount_amount"], cur)},
        "tax_amount_company": amount(row["tax_amount_company"], row["company_currency"]),
        "gross_amount_company": amount(row["gross_amount_company"], row["company_currency"]),
        "installments": [{"due_date": date.fromisoformat(i["due_date"]),
                          "amount": amount(Decimal(i["amount"]), cur)}
                         for i in row["installments"]],
    })
    lines = conn.execute(select(t.invoice_lines).where(t.invoice_lines.c.invoice_id == invoice_id)
                         .order_by(t.invoice_lines.c.line_no)).mappings().all()
    result["lines"] = [{
        "id": line["id"], "line_no": line["line_no"], "order_line_id": line["order_line_id"],
        "corrects_line_id": line["corrects_line_id"], "product_id": line["product_id"],
        "sku": line["sku"], "description": line["description"],
        "quantity": quantity(line["quantity"]), "unit": line["unit"],
        "unit_price": plain(line["unit_price"]),
        "discount_percent": plain(line["discount_percent"]),
        "net_amount": amount(line["net_amount"], cur), "vat_code": line["vat_code"],
        "vat_rate": plain(line["vat_rate"]), "exemption_reason": line["exemption_reason"],
    } for line in lines]
    taxes = conn.execute(select(t.invoice_taxes).where(t.invoice_taxes.c.invoice_id == invoice_id)
                         .order_by(t.invoice_taxes.c.id)).mappings().all()
    result["taxes"] = [{
        "vat_code": x["vat_code"], "vat_rate": plain(x["vat_rate"]),
        "taxable_amount": amount(x["taxable_amount"], cur),
        "tax_amount": amount(x["tax_amount"], cur),
        "tax_amount_company": amount(x["tax_amount_company"], row["company_currency"]),
        "exemption_reason": x["exemption_reason"]} for x in taxes]
    result["allocations"] = list_allocations(conn, Filters(extra={"invoice_id": invoice_id}),
                                             PageRequest(limit=MAX_LIMIT)).items
    result["credit_notes"] = _credit_notes_of(conn, invoice_id)
    return result


def _credit_notes_of(conn: Connection, invoice_id: int) -> list[Row]:
    inv = t.invoices
    rows = conn.execute(select(inv.c.id, inv.c.number, inv.c.issue_date, inv.c.gross_amount,
                               inv.c.currency, inv.c.reason)
                        .where(inv.c.corrects_invoice_id == invoice_id).order_by(inv.c.id)
                        ).mappings().all()
    return [{"id": r["id"], "number": r["number"], "issue_date": r["issue_date"],
             "gross_amount": amount(r["gross_amount"], r["currency"]), "reason": r["reason"]}
            for r in rows]


# -- payments -----------------------------------------------------------------------------------


def _payment(row: Row) -> Row:
    cur = row["currency"]
    return {
        "id": row["id"], "number": document_number("PAY", row["id"]),
        "company_id": row["company_id"], "customer_id": row["customer_id"],
        "customer_name": row.get("customer_name"), "currency": cur,
        "amount": amount(row["amount"], cur), "unapplied": amount(row["unapplied"], cur),
        "received_on": row["received_on"], "method": row["method"],
        "reference": row["reference"], "payer_name": row["payer_name"],
        "payer_iban": row["payer_iban"], "state": row["state"],
        "fx_rate": plain(row["fx_rate"]),
    }


def list_payments(conn: Connection, filters: Filters = Filters(),
                  page: PageRequest = PageRequest()) -> Page:
    p, c = t.payments, t.customers
    query = select(p, c.c.name.label("customer_name")).join(c, c.c.id == p.c.customer_id)
    if filters.company_id:
        query = query.where(p.c.company_id == filters.company_id)
    if filters.customer_id:
        query = query.where(p.c.customer_id == filters.customer_id)
    if filters.state:
        query = query.where(p.c.state == filters.state)
    if filters.extra.get("unapplied"):
        query = query.where(t.UNAPPLIED_PAYMENT)
    query = _dates(query, p.c.received_on, filters)
    if filters.q:
        payment_id = parse_document_number("PAY", filters.q)
        pattern = _like(filters.q)
        conditions: list[Any] = [p.c.reference.ilike(pattern, escape="\\"),
                      c.c.name.ilike(pattern, escape="\\")]
        if payment_id is not None:
            conditions.append(p.c.id == payment_id)
        query = query.where(or_(*conditions))
    rows, total, totals = _page_with_totals(
        conn, query, page, _sorted("payments", page, [p.c.received_on.desc(), p.c.id.desc()]),
        ("amount", "unapplied"))
    return Page([_payment(r) for r in rows], total, page.limit, page.offset, totals)


def payment(conn: Connection, payment_id: int) -> Row:
    p, c = t.payments, t.customers
    row = conn.execute(select(p, c.c.name.label("customer_name"))
                       .join(c, c.c.id == p.c.customer_id).where(p.c.id == payment_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("payment", payment_id)
    result = _payment(dict(row))
    result["allocations"] = list_allocations(conn, Filters(extra={"payment_id": payment_id}),
                                             PageRequest(limit=MAX_LIMIT)).items
    return result


def list_allocations(conn: Connection, filters: Filters = Filters(),
                     page: PageRequest = PageRequest()) -> Page:
    a = t.allocations
    query = select(a)
    for key in ("invoice_id", "payment_id", "credit_note_id"):
        if value := filters.extra.get(key):
            query = query.where(a.c[key] == value)
    if invoice_ids := filters.extra.get("invoice_ids"):  # e.g. the invoices of one order
        query = query.where(a.c.invoice_id.in_(invoice_ids))
    if filters.customer_id:
        query = query.where(a.c.customer_id == filters.customer_id)
    if filters.extra.get("active"):
        query = query.where(a.c.reversed_on.is_(None))
    rows, total = _page(conn, query, page, [a.c.id])
    return Page([_allocation(r) for r in rows], total, page.limit, page.offset)


def _allocation(r: Row) -> Row:
    return {
        "id": r["id"], "invoice_id": r["invoice_id"], "invoice_number": r["invoice_number"],
        "source_kind": r["source_kind"], "payment_id": r["payment_id"],
        "credit_note_id": r["credit_note_id"], "source_number": r["source_number"],
        "currency": r["currency"], "amount": amount(r["amount"], r["currency"]),
        "allocated_on": r["allocated_on"], "reversed_on": r["reversed_on"],
    }


# -- events and ledger --------------------------------------------------------------------------


def list_events(conn: Connection, object_type: str | None = None, object_id: int | None = None,
                page: PageRequest = PageRequest()) -> Page:
    e = t.event_log
    query = select(e)
    if object_type:
        query = query.where(e.c.object_type == object_type)
    if object_id is not None:
        query = query.where(e.c.object_id == object_id)
    rows, total = _page(conn, query, page, [e.c.id])
    return Page([{"id": r["id"], "object_type": r["object_type"], "object_id": r["object_id"],
                  "event": r["event"], "occurred_at": r["occurred_at"], "actor": r["actor"],
                  "data": r["data"]} for r in rows], total, page.limit, page.offset)


def trial_balance(conn: Connection, company_id: int, as_of: date | None = None) -> Row:
    jl, je, acc = t.journal_lines, t.journal_entries, t.accounts
    cur = company(conn, company_id)["currency"]
    # Lines are summed per account first, then the handful of sums meet their accounts: the
    # database aggregates one table in a single pass instead of joining every line.
    sums = (select(jl.c.account, exact_sum(jl.c.debit).label("debit"),
                   exact_sum(jl.c.credit).label("credit"))
            .where(jl.c.company_id == company_id).group_by(jl.c.account))
    if as_of is not None:
        sums = sums.join(je, je.c.id == jl.c.entry_id).where(je.c.entry_date <= as_of)
    per_account = sums.subquery()
    query = (select(per_account.c.account, acc.c.name, acc.c.type, per_account.c.debit,
                    per_account.c.credit)
             .join(acc, and_(acc.c.company_id == company_id,
                             acc.c.code == per_account.c.account))
             .order_by(per_account.c.account))
    accounts = [{"account": r["account"], "name": r["name"], "type": r["type"],
                 "debit": amount(r["debit"], cur), "credit": amount(r["credit"], cur),
                 "balance": amount(r["debit"] - r["credit"], cur)}
                for r in conn.execute(query).mappings()]
    total_debit = sum((a["debit"] for a in accounts), Decimal(0))
    total_credit = sum((a["credit"] for a in accounts), Decimal(0))
    return {"company_id": company_id, "currency": cur, "as_of": as_of, "accounts": accounts,
            "total_debit": amount(total_debit, cur), "total_credit": amount(total_credit, cur),
            "balanced": total_debit == total_credit}


def list_journal_entries(conn: Connection, filters: Filters = Filters(),
                         page: PageRequest = PageRequest()) -> Page:
    je = t.journal_entries
    query = select(je)
    if filters.company_id:
        query = query.where(je.c.company_id == filters.company_id)
    if source_type := filters.extra.get("source_type"):
        query = query.where(je.c.source_type == source_type)
    if (source_id := filters.extra.get("source_id")) is not None:
        query = query.where(je.c.source_id == source_id)
    if account := filters.extra.get("account"):  # entries with a line on this account
        query = query.where(je.c.id.in_(select(t.journal_lines.c.entry_id)
                                        .where(t.journal_lines.c.account == account)))
    query = _dates(query, je.c.entry_date, filters)
    rows, total = _page(conn, query, page, [je.c.id])
    ids = [r["id"] for r in rows]
    lines: dict[int, list[Row]] = defaultdict(list)
    if ids:
        jl = t.journal_lines
        for line in conn.execute(select(jl).where(jl.c.entry_id.in_(ids))
                                 .order_by(jl.c.entry_id, jl.c.id)).mappings():
            lines[line["entry_id"]].append({
                "account": line["account"], "debit": plain(line["debit"]),
                "credit": plain(line["credit"]), "customer_id": line["customer_id"],
                "currency": line["currency"],
                "amount_currency": plain(line["amount_currency"])})
    return Page([{**{k: r[k] for k in ("id", "company_id", "entry_date", "source_type",
                                       "source_id", "memo", "reverses_entry_id")},
                  "lines": lines[r["id"]]} for r in rows], total, page.limit, page.offset)


def ledger_figures(conn: Connection) -> dict[int, LedgerFigures]:
    """Per company, everything `verify` compares, in a handful of grouped queries."""
    jl, oi, p = t.journal_lines, t.open_items, t.payments
    unbalanced: dict[int, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
    for r in conn.execute(
            select(jl.c.company_id, jl.c.entry_id, exact_sum(jl.c.debit).label("d"),
                   exact_sum(jl.c.credit).label("c"))
            .group_by(jl.c.company_id, jl.c.entry_id)
            .having(func.sum(jl.c.debit) != func.sum(jl.c.credit))).mappings():
        unbalanced[r["company_id"]].append((r["entry_id"], r["d"], r["c"]))
    accounts: dict[tuple[int, str], tuple[Decimal, Decimal]] = {}
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for r in conn.execute(select(jl.c.company_id, jl.c.account, exact_sum(jl.c.debit).label("d"),
                                 exact_sum(jl.c.credit).label("c"))
                          .group_by(jl.c.company_id, jl.c.account)).mappings():
        accounts[(r["company_id"], r["account"])] = (r["d"], r["c"])
        d, c = totals.get(r["company_id"], (Decimal(0), Decimal(0)))
        totals[r["company_id"]] = (d + r["d"], c + r["c"])
    residuals: dict[tuple[int, str], Decimal] = {
        (r["company_id"], r["kind"]): r["s"] for r in conn.execute(
            select(oi.c.company_id, oi.c.kind, exact_sum(oi.c.residual_company).label("s"))
            .group_by(oi.c.company_id, oi.c.kind)).mappings()}
    unapplied = {r["company_id"]: r["s"] for r in conn.execute(
        select(p.c.company_id, exact_sum(p.c.unapplied_company).label("s"))
        .group_by(p.c.company_id)).mappings()}
    company_ids = conn.execute(select(t.companies.c.id)).scalars().all()
    zero = Decimal(0)
    figures = {}
    for cid in company_ids:
        ar_d, ar_c = accounts.get((cid, RECEIVABLE), (zero, zero))
        cc_d, cc_c = accounts.get((cid, CUSTOMER_CREDIT), (zero, zero))
        total_d, total_c = totals.get(cid, (zero, zero))
        figures[cid] = LedgerFigures(
            unbalanced_entries=tuple(unbalanced.get(cid, [])), total_debit=total_d,
            total_credit=total_c, receivable_balance=ar_d - ar_c,
            open_invoice_residuals=residuals.get((cid, OpenItemKind.INVOICE.value), zero),
            customer_credit_balance=cc_c - cc_d,
            unapplied_credit=unapplied.get(cid, zero)
            + residuals.get((cid, OpenItemKind.CREDIT_NOTE.value), zero))
    return figures


# -- single rows (what the API returns after a command) ----------------------------------------


def warehouse(conn: Connection, warehouse_id: int) -> Row:
    row = conn.execute(select(t.warehouses).where(t.warehouses.c.id == warehouse_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("warehouse", warehouse_id)
    return {k: row[k] for k in _WAREHOUSE_FIELDS}


def payment_terms(conn: Connection, code: str) -> Row:
    row = conn.execute(select(t.payment_terms).where(t.payment_terms.c.code == code)
                       ).mappings().first()
    if row is None:
        raise NotFound("payment terms", code)
    return {**row, "discount_percent": plain(row["discount_percent"])}


def vat_rate(conn: Connection, rate_id: int) -> Row:
    row = conn.execute(select(t.vat_rates).where(t.vat_rates.c.id == rate_id)).mappings().first()
    if row is None:
        raise NotFound("VAT rate", rate_id)
    return {**row, "rate": plain(row["rate"])}


def exchange_rate(conn: Connection, rate_id: int) -> Row:
    row = conn.execute(select(t.exchange_rates).where(t.exchange_rates.c.id == rate_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("exchange rate", rate_id)
    return {**row, "rate": plain(row["rate"])}


def stock_level(conn: Connection, level_id: int) -> Row:
    s = t.stock_levels
    row = conn.execute(select(s.c.product_id, s.c.warehouse_id).where(s.c.id == level_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("stock level", level_id)
    return list_stock(conn, Filters(extra=dict(row))).items[0]


def allocation(conn: Connection, allocation_id: int) -> Row:
    row = conn.execute(select(t.allocations).where(t.allocations.c.id == allocation_id)
                       ).mappings().first()
    if row is None:
        raise NotFound("allocation", allocation_id)
    return _allocation(dict(row))


_EVENT_SUBJECTS = {
    "company": t.companies, "customer": t.customers, "product": t.products,
    "warehouse": t.warehouses, "stock": t.stock_levels, "order": t.sales_orders,
    "shipment": t.shipments, "invoice": t.invoices, "payment": t.payments,
    "allocation": t.allocations, "open_item": t.open_items,
}


def object_exists(conn: Connection, object_type: str, object_id: int) -> bool:
    """Whether the object an event log is asked for exists (object types as in the log)."""
    table = _EVENT_SUBJECTS.get(object_type)
    if table is None:
        raise InvalidInput(f"object_type must be one of {sorted(_EVENT_SUBJECTS)}",
                           field="object_type")
    return conn.execute(select(table.c.id).where(table.c.id == object_id)).first() is not None


def shipment_invoices(conn: Connection, shipment_id: int, as_of: date) -> list[Row]:
    """The invoices posted because this shipment went out."""
    inv = t.invoices
    rows = conn.execute(_invoice_query(as_of).where(inv.c.shipment_id == shipment_id)
                        .order_by(inv.c.id)).mappings().all()
    return _invoices(conn, [dict(r) for r in rows], as_of)


# -- portal scope (issue 3): a customer's users see only that customer's objects ------------

_OWNED_BY_CUSTOMER = {"customer": (t.customers, t.customers.c.id),
                      "order": (t.sales_orders, t.sales_orders.c.customer_id),
                      "shipment": (t.shipments, t.shipments.c.customer_id),
                      "invoice": (t.invoices, t.invoices.c.customer_id),
                      "payment": (t.payments, t.payments.c.customer_id),
                      "allocation": (t.allocations, t.allocations.c.customer_id)}


def ensure_visible(conn: Connection, object_type: str, object_id: int,
                   customer_id: int | None) -> None:
    """NotFound unless the object belongs to `customer_id` (None: no scope, all visible).
    Objects of other customers look exactly like objects that do not exist."""
    if customer_id is None:
        return
    table, owner = _OWNED_BY_CUSTOMER[object_type]
    found = conn.execute(select(table.c.id).where(table.c.id == object_id,
                                                  owner == customer_id)).first()
    if found is None:
        raise NotFound(object_type, object_id)
