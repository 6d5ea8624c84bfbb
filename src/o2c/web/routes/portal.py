"""The customer portal: a customer's own orders, invoices, payments and statement, and new
orders from the catalog. Every read is limited to the customer the portal user belongs to;
another customer's documents answer 404, as if they did not exist (the permission table's
PORTAL_OBJECTS has authentication check each document in the path before the page runs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import queries, reports
from o2c.adapters.db.queries import Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.errors import NotFound
from o2c.domain.orders import OrderState
from o2c.domain.receivables import PaymentStatus
from o2c.web.access import viewer
from o2c.web.render import (
    FormError,
    check_csrf,
    execute,
    formatter,
    page,
    read,
    redirect,
    today,
)
from o2c.web.routes import FormData, PageId, paging, web_router
from o2c.web.routes.backoffice import (
    invoice_document,
    invoice_filters,
    invoice_page,
    line_errors,
    order_filters,
    order_form,
    order_lines,
    order_page,
    payment_filters,
    statement_period,
)

portal = web_router()
BASE = "/portal"


def customer_of(request: Request) -> int:
    """The customer the portal user belongs to; staff and anonymous users have none here."""
    customer_id = getattr(viewer(request), "customer_id", None)
    if customer_id is None:
        raise NotFound("portal account", "of this user")
    return int(customer_id)


Customer = Annotated[int, Depends(customer_of)]


@portal.get("/portal", name="portal_home", response_class=HTMLResponse)
def home(request: Request, customer_id: Customer) -> Response:
    with read(request) as conn:
        customer = queries.customer(conn, customer_id, today(request))
        recent_orders = queries.list_orders(conn, Filters(customer_id=customer_id),
                                            PageRequest(limit=5))
        open_invoices = queries.list_invoices(
            conn, Filters(customer_id=customer_id, extra={"open": True, "kind": "invoice"}),
            PageRequest(limit=10), today(request))
    return page(request, "portal/home.html", c=customer, orders=recent_orders,
                invoices=open_invoices, base=BASE)


@portal.get("/portal/orders", name="portal_orders", response_class=HTMLResponse)
def orders(request: Request, customer_id: Customer) -> Response:
    with read(request) as conn:
        result = queries.list_orders(conn, order_filters(request, customer_id), paging(request))
    return page(request, "orders.html", page=result, states=list(OrderState), base=BASE,
                portal=True, can_create=True)


@portal.get("/portal/orders/new", name="portal_new_order", response_class=HTMLResponse)
def new_order(request: Request, _customer_id: Customer) -> Response:
    return order_form(request, {}, {}, base=BASE, portal=True)


@portal.post("/portal/orders/new", name="portal_create_order", response_class=HTMLResponse)
def create_order(request: Request, customer_id: Customer, form: FormData) -> Response:
    fmt = formatter(request)
    errors: dict[str, str] = {}
    if form.get("more_lines"):
        return order_form(request, form, errors, base=BASE, portal=True)
    check_csrf(request, form)
    lines = order_lines(request, form, errors)
    if errors:
        return order_form(request, form, errors, base=BASE, portal=True, status_code=422)
    try:
        order_id = execute(request, c.CreateOrder(
            customer_id=customer_id, lines=lines,
            customer_reference=form.get("customer_reference", "").strip()))
    except FormError as error:
        return order_form(request, form, line_errors(error), base=BASE, portal=True,
                          status_code=422)
    return redirect(request, f"{BASE}/orders/{order_id}", fmt.gettext(
        "Thank you: order {number} is received; we confirm it shortly.",
        number=document_number("SO", order_id)))


@portal.get("/portal/orders/{order_id}", name="portal_order", response_class=HTMLResponse)
def order(request: Request, order_id: PageId, _customer_id: Customer) -> Response:
    return order_page(request, order_id, base=BASE, portal=True)


@portal.get("/portal/invoices", name="portal_invoices", response_class=HTMLResponse)
def invoices(request: Request, customer_id: Customer) -> Response:
    with read(request) as conn:
        result = queries.list_invoices(conn, invoice_filters(request, customer_id),
                                       paging(request), today(request))
    return page(request, "invoices.html", page=result, statuses=list(PaymentStatus), base=BASE,
                portal=True)


@portal.get("/portal/invoices/{invoice_id}", name="portal_invoice",
            response_class=HTMLResponse)
def invoice(request: Request, invoice_id: PageId, _customer_id: Customer) -> Response:
    return invoice_page(request, invoice_id, base=BASE, portal=True)


@portal.get("/portal/payments", name="portal_payments", response_class=HTMLResponse)
def payments(request: Request, customer_id: Customer) -> Response:
    with read(request) as conn:
        result = queries.list_payments(conn, payment_filters(request, customer_id),
                                       paging(request))
    return page(request, "payments.html", page=result, base=BASE, portal=True,
                can_record=False)


@portal.get("/portal/statement", name="portal_statement", response_class=HTMLResponse)
def statement(request: Request, customer_id: Customer) -> Response:
    date_from, date_to = statement_period(request)
    with read(request) as conn:
        result = reports.statement_of_account(conn, customer_id, date_from, date_to)
    return page(request, "portal/statement.html", statement=result, base=BASE)


@portal.get("/portal/invoices/{invoice_id}/{kind}", name="portal_invoice_document")
def invoice_file(request: Request, invoice_id: PageId, kind: str,
                 _customer_id: Customer) -> Response:
    return invoice_document(request, invoice_id, kind)
