"""The order's way through the back-office: what the new-order form previews before saving
(prices, VAT, running total, the customer's credit position), what a confirmation says (as
the CLI does), and the next step an order page links to. Pricing is the order service's own
(`draft_order`, in a unit of work that is rolled back); nothing here decides a rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request

from o2c.adapters.db import queries, reports
from o2c.adapters.db.queries import Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.errors import DomainError
from o2c.domain.money import in_minor_units
from o2c.domain.orders import OrderState
from o2c.services.orders import ConfirmResult, draft_order
from o2c.web.access import can
from o2c.web.render import actor, app_of, formatter, read, today
from o2c.web.routes import decimal_field

MAX_LINES = 50


def find_customer(conn: Any, code: str) -> dict[str, Any] | None:
    """The customer a form's customer field names: its exact code, or the only match."""
    if not code:
        return None
    found = queries.list_customers(conn, Filters(q=code), PageRequest(limit=2)).items
    exact = next((x for x in found if x["code"] == code), None)
    return exact or (found[0] if len(found) == 1 else None)


def order_preview(request: Request, form: dict[str, str]) -> dict[str, Any] | None:
    """The order as it would be priced now, line by line, with its totals and the customer's
    credit position before and after it; None until a customer is chosen."""
    fmt = formatter(request)
    code = form.get("customer", "").strip()
    as_of = today(request)
    with read(request) as conn:
        customer = find_customer(conn, code)
        if customer is None:
            return None
        credit = queries.credit_position(conn, customer["id"], as_of)
        overdue = reports.credit_positions(conn, [customer["id"]], as_of)[customer["id"]]
        skus = {form.get(f"sku_{i}", "").strip() for i in range(MAX_LINES)} - {""}
        by_sku = reports.product_ids_by_sku(conn, skus)
    lines: list[c.OrderLineInput] = []
    problems: list[str] = []
    for i in range(MAX_LINES):
        sku = form.get(f"sku_{i}", "").strip()
        if not sku:
            continue
        errors: dict[str, str] = {}
        quantity = decimal_field(form, f"quantity_{i}", errors, "", fmt.language)
        if sku not in by_sku:
            problems.append(fmt.gettext("no product with SKU {sku}", sku=sku))
        elif quantity is not None and quantity > 0 and not errors:
            lines.append(c.OrderLineInput(product_id=by_sku[sku], quantity=quantity))
    currency = customer["currency"]
    priced: list[dict[str, Any]] = []
    totals = {"net": Decimal(0), "tax": Decimal(0), "gross": Decimal(0)}
    if lines:
        try:
            with app_of(request).bus.uow_factory(actor(request)) as uow:  # never committed
                order = draft_order(c.CreateOrder(customer_id=customer["id"],
                                                  lines=tuple(lines)), uow)
        except DomainError as error:
            problems.append(error.message)
        else:
            priced = [{"sku": x.sku, "description": x.description, "quantity": x.quantity,
                       "unit": x.unit, "unit_price": x.unit_price,
                       "net_amount": in_minor_units(x.net_amount, currency),
                       "vat_code": x.vat_code, "vat_rate": x.vat_rate} for x in order.lines]
            totals = {"net": in_minor_units(order.net_amount, currency),
                      "tax": in_minor_units(order.tax_amount, currency),
                      "gross": in_minor_units(order.gross_amount, currency)}
    exposure_after = credit["exposure"] + totals["gross"]
    limit = credit["credit_limit"]
    return {"customer": customer, "currency": currency, "lines": priced, "totals": totals,
            "problems": problems, "credit": credit, "overdue": overdue["overdue"],
            "exposure_after": exposure_after,
            "available_after": None if limit is None else limit - exposure_after,
            "over_limit": limit is not None and exposure_after > limit}


def confirmation_message(request: Request, result: ConfirmResult) -> tuple[str, str]:
    """What confirming said, as the CLI says it: the credit result, then the shipments the
    stock was reserved on and what waits on backorder. (message, level)"""
    fmt = formatter(request)
    number = document_number("SO", result.order_id)
    decision = result.decision
    if result.state is OrderState.CREDIT_HOLD:
        reasons = "; ".join(decision.reasons) if decision is not None else ""
        return fmt.gettext("Order {number} is on credit hold: {reasons}.", number=number,
                           reasons=reasons), "error"
    with read(request) as conn:
        currency = queries.order(conn, result.order_id, today(request))["currency"]
    parts = []
    if decision is None:
        parts.append(fmt.gettext("Order {number} released from credit hold and confirmed.",
                                 number=number))
    else:
        parts.append(fmt.gettext(
            "Order {number} confirmed: credit check passed (exposure after this order "
            "{amount}).", number=number,
            amount=fmt.money(in_minor_units(decision.exposure_after, currency), currency)))
    if result.shipment_ids:
        parts.append(fmt.gettext("Stock reserved on shipment {numbers}.", numbers=", ".join(
            document_number("SHP", s) for s in result.shipment_ids)))
    if result.backorder:
        parts.append(fmt.gettext("Lines waiting for stock on backorder: {n}.",
                                 n=len(result.backorder)))
    elif not result.shipment_ids:
        parts.append(fmt.gettext("Nothing left to reserve."))
    return " ".join(parts), "success"


STEP_MESSAGES = {"pick": "Shipment {number} is ready to be picked.",
                 "pack": "Shipment {number} is ready to be packed.",
                 "ship": "Shipment {number} is ready to be shipped.",
                 "deliver": "Shipment {number} is on its way: record the delivery."}


def next_steps(request: Request, order: dict[str, Any]) -> list[dict[str, str]]:
    """Links to what comes next for the order: its shipments' next warehouse step, a payment
    for its open invoices, or the credit decision."""
    fmt = formatter(request)
    steps: list[dict[str, str]] = []
    state = order["state"]
    if state == OrderState.DRAFT.value:
        steps.append({"text": fmt.gettext("Confirm the order to run the credit check and "
                                          "reserve stock."), "url": ""})
    if state == OrderState.CREDIT_HOLD.value and can(request, "release_order"):
        steps.append({"text": fmt.gettext("Decide the credit hold"),
                      "url": f"/credit-holds#order-{order['id']}"})
    for shipment in order["shipments"]:
        step = shipment.get("next_step")
        if step in STEP_MESSAGES:
            steps.append({"text": fmt.gettext(STEP_MESSAGES[step], number=shipment["number"]),
                          "url": f"/warehouse/shipments/{shipment['id']}"})
    backorder = sum((line["backorder_qty"] for line in order["lines"]), Decimal(0))
    if state == OrderState.CONFIRMED.value and backorder > 0:
        steps.append({"text": fmt.gettext("Some goods wait for stock on backorder."),
                      "url": "/warehouse?view=stock"})
    open_invoices = [i for i in order["invoices"]
                     if i["kind"] == "invoice" and (i["residual"] or 0) > 0]
    for invoice in open_invoices:
        steps.append({"text": fmt.gettext("Invoice {number}: {amount} open.",
                                          number=invoice["number"],
                                          amount=fmt.money(invoice["residual"],
                                                           invoice["currency"])),
                      "url": f"/invoices/{invoice['id']}"})
    if open_invoices and can(request, "record_payment"):
        steps.append({"text": fmt.gettext("Register a payment"),
                      "url": f"/payments/new?customer={order['customer_code']}"})
    if order["invoices"] and not open_invoices and state == OrderState.COMPLETED.value:
        steps.append({"text": fmt.gettext("Invoiced and paid: nothing left to do."), "url": ""})
    return steps
