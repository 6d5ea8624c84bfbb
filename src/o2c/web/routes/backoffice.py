"""The back-office: dashboard, orders, credit holds, warehouse, invoices, payments and
customers, for the staff roles (each sees what its role allows)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import queries, reports, views
from o2c.adapters.db.queries import MAX_LIMIT, Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.analytics import AGING_BUCKETS, month_start
from o2c.domain.errors import NotFound
from o2c.domain.orders import ORDER_TRANSITIONS, InvoicingStatus, OrderState, ShippingStatus
from o2c.domain.payments import PaymentMethod
from o2c.domain.receivables import PaymentStatus
from o2c.domain.shipping import ShipmentState
from o2c.web import charts, documents, flow, lists
from o2c.web.access import can, require
from o2c.web.export import export_format
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
from o2c.web.routes import (
    FormData,
    IdParam,
    PageId,
    decimal_field,
    form_id,
    paging,
    query_date,
    web_router,
)

backoffice = web_router()

# Shipments the warehouse still has a step to take on (its next step depends on the route).
SHIPMENTS_TO_HANDLE = ",".join(state.value for state in (
    ShipmentState.READY, ShipmentState.PICKED, ShipmentState.PACKED, ShipmentState.SHIPPED))
OPERATION_OF_STEP = {"pick": "pick_shipment", "pack": "pack_shipment", "ship": "ship_shipment",
                     "deliver": "deliver_shipment"}
ORDER_ACTION_OPERATIONS = {"confirm": "confirm_order", "release": "release_order",
                           "reject": "reject_order", "cancel": "cancel_order"}
BAR_WIDTH = 300  # pixels of the longest bar in a chart
MAX_PACKAGES = 10000  # as the API (o2c.api.schemas.orders.ShipIn)


def bar_widths(values: list[Decimal | int]) -> list[int]:
    """Bar lengths in whole pixels, proportional to the values (exact arithmetic)."""
    top = max(values, default=0)
    return [int(Decimal(v) * BAR_WIDTH / Decimal(top)) if top else 0 for v in values]


def allowed_order_actions(request: Request, order: dict[str, Any]) -> set[str]:
    """The transitions the order's state allows and the viewer's role may run (cancel only
    while nothing is shipped or invoiced, as `Order.cancel` insists)."""
    allowed = {action for action, operation in ORDER_ACTION_OPERATIONS.items()
               if OrderState(order["state"]) in ORDER_TRANSITIONS[action][0]
               and can(request, operation)}
    if (order["shipping_status"] != ShippingStatus.NOT_SHIPPED
            or order["invoicing_status"] != InvoicingStatus.NOT_INVOICED):
        allowed.discard("cancel")
    return allowed


# -- dashboard ---------------------------------------------------------------------------------


@backoffice.get("/", name="web_dashboard", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    as_of = query_date(request, "as_of") or today(request)
    with read(request) as conn:
        company_id = queries.default_company_id(conn)
        if company_id is None:
            return page(request, "empty.html")
        figures = reports.dashboard(conn, company_id, as_of)
        trends = views.trends(conn, company_id, as_of)
        queue = views.work_queue(conn, company_id, as_of)
    states = figures["orders_by_state"]
    return page(request, "dashboard.html", d=figures, month_start=month_start(as_of),
                trends=trends, charts=charts.trend_charts(formatter(request), trends),
                queue=queue,
                aging_widths=bar_widths([b["amount"] for b in figures["aging"]]),
                order_widths=dict(zip(states, bar_widths(list(states.values())), strict=True)))


# -- orders --------------------------------------------------------------------------------------


def order_filters(request: Request, customer_id: IdParam = None) -> Filters:
    params = request.query_params
    state = params.get("state") or None
    return Filters(customer_id=customer_id, state=state if state in set(OrderState) else None,
                   date_from=query_date(request, "date_from"),
                   date_to=query_date(request, "date_to"), q=params.get("q") or None)


@backoffice.get("/orders", name="web_orders", response_class=HTMLResponse)
def orders(request: Request) -> Response:
    filters = order_filters(request)
    with read(request) as conn:
        if kind := export_format(request.query_params.get("format")):
            return lists.export_list(request, "orders", kind,
                                     lambda p: queries.list_orders(conn, filters, p))
        result = queries.list_orders(conn, filters, lists.list_paging(request, "orders"))
    return page(request, "orders.html", page=result, states=list(OrderState),
                base="", portal=False, can_create=can(request, "create_order"), sortable=True)


def order_page(request: Request, order_id: int, base: str = "", portal: bool = False,
               status_code: int = 200) -> Response:
    as_of = today(request)
    with read(request) as conn:
        order = queries.order(conn, order_id, as_of)
        invoice_ids = [i["id"] for i in order["invoices"]]
        allocations = queries.list_allocations(
            conn, Filters(extra={"invoice_ids": invoice_ids}), PageRequest(limit=MAX_LIMIT)
        ).items if invoice_ids else []
        objects = ([("order", order_id)] + [("shipment", s["id"]) for s in order["shipments"]]
                   + [("invoice", i) for i in invoice_ids])
        events = reports.timeline(conn, objects)
    return page(request, "order.html", status_code=status_code, o=order, base=base,
                portal=portal, payments=allocations, events=events,
                allowed=set() if portal else allowed_order_actions(request, order),
                steps=[] if portal else flow.next_steps(request, order))


@backoffice.get("/orders/new", name="web_new_order", response_class=HTMLResponse)
def new_order(request: Request) -> Response:
    customer = request.query_params.get("customer", "")
    return order_form(request, {"customer": customer}, {})


def order_form(request: Request, form: dict[str, str], errors: dict[str, str],
               base: str = "", portal: bool = False, status_code: int = 200) -> Response:
    with read(request) as conn:
        customers = [] if portal else queries.list_customers(
            conn, Filters(q=form.get("customer") or None), PageRequest(limit=20)).items
        products = queries.list_products(conn, Filters(), PageRequest(limit=500)).items
    try:
        line_count = min(max(int(form.get("line_count", "5")), 1), 50)
    except ValueError:
        line_count = 5
    if form.get("more_lines"):
        line_count += 5
    return page(request, "order_new.html", status_code=status_code, form=form, errors=errors,
                customers=customers, products=products, line_count=line_count, base=base,
                portal=portal, preview=None if portal else flow.order_preview(request, form))


@backoffice.post("/orders/new/preview", name="web_preview_order", response_class=HTMLResponse)
def preview_order(request: Request, form: FormData) -> Response:
    """The form again with prices, VAT, the running total and the customer's credit position
    for what is typed so far (htmx swaps in the preview); nothing is written."""
    return order_form(request, form, {})


def order_lines(request: Request, form: dict[str, str], errors: dict[str, str]
                ) -> tuple[c.OrderLineInput, ...]:
    """The order lines a person filled in: product SKU and quantity per row."""
    fmt = formatter(request)
    skus = {form.get(f"sku_{i}", "").strip() for i in range(50)} - {""}
    with read(request) as conn:
        by_sku = reports.product_ids_by_sku(conn, skus)
    lines = []
    for i in range(50):
        sku = form.get(f"sku_{i}", "").strip()
        if not sku:
            continue
        quantity = decimal_field(form, f"quantity_{i}", errors,
                                 fmt.gettext("not a number"), fmt.language)
        if sku not in by_sku:
            errors[f"sku_{i}"] = fmt.gettext("no product with SKU {sku}", sku=sku)
        if quantity is None and f"quantity_{i}" not in errors:
            errors[f"quantity_{i}"] = fmt.gettext("how many?")
        if sku in by_sku and quantity is not None:
            lines.append(c.OrderLineInput(product_id=by_sku[sku], quantity=quantity))
    if not lines and not errors:
        errors["sku_0"] = fmt.gettext("an order needs at least one line")
    return tuple(lines)


def line_errors(error: FormError) -> dict[str, str]:
    """Map the domain's field paths (`lines[2].quantity`) to the form's inputs."""
    mapped = {}
    for field, message in error.errors.items():
        if field.startswith("lines[") and "]." in field:
            index, _, name = field[len("lines["):].partition("].")
            mapped[f"{'sku' if name == 'product_id' else 'quantity'}_{index}"] = message
        elif field == "customer_id":
            mapped["customer"] = message
        else:
            mapped[field if field in ("customer_reference",) else "_"] = message
    return mapped


@backoffice.post("/orders/new", name="web_create_order", response_class=HTMLResponse)
def create_order(request: Request, form: FormData) -> Response:
    fmt = formatter(request)
    errors: dict[str, str] = {}
    if form.get("more_lines"):
        return order_form(request, form, errors)
    check_csrf(request, form)
    require(request, "create_order")
    code = form.get("customer", "").strip()
    with read(request) as conn:
        found = queries.list_customers(conn, Filters(q=code), PageRequest(limit=2)).items
    customer = next((x for x in found if x["code"] == code), found[0] if len(found) == 1
                    else None)
    if customer is None:
        errors["customer"] = fmt.gettext("no customer with code {code}", code=code)
    lines = order_lines(request, form, errors)
    if errors:
        return order_form(request, form, errors, status_code=422)
    assert customer is not None
    try:
        order_id = execute(request, c.CreateOrder(
            customer_id=customer["id"], lines=lines,
            customer_reference=form.get("customer_reference", "").strip()))
    except FormError as error:
        return order_form(request, form, line_errors(error), status_code=422)
    return redirect(request, f"/orders/{order_id}",
                    fmt.gettext("Order {number} created.", number=document_number("SO", order_id)))


@backoffice.get("/orders/{order_id}", name="web_order", response_class=HTMLResponse)
def order(request: Request, order_id: PageId) -> Response:
    return order_page(request, order_id)


@backoffice.post("/orders/{order_id}/{action}", name="web_order_action",
                 response_class=HTMLResponse)
def order_action(request: Request, order_id: PageId, action: str, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    reason = form.get("reason", "").strip()
    if action not in ("confirm", "cancel"):
        raise NotFound("action", action)
    require(request, ORDER_ACTION_OPERATIONS[action])
    command: c.Command = (c.ConfirmOrder(order_id=order_id) if action == "confirm"
                          else c.CancelOrder(order_id=order_id, reason=reason))
    number = document_number("SO", order_id)
    try:
        result = execute(request, command)
    except FormError as error:
        return redirect(request, f"/orders/{order_id}", error.first,
                        "error")
    if action == "confirm":
        text, level = flow.confirmation_message(request, result)
        return redirect(request, f"/orders/{order_id}", text, level)
    message = {"confirm": "Order {number} confirmed.", "cancel": "Order {number} cancelled."}
    return redirect(request, f"/orders/{order_id}", fmt.gettext(message[action], number=number))


# -- credit holds ------------------------------------------------------------------------------


@backoffice.get("/credit-holds", name="web_credit_holds", response_class=HTMLResponse)
def credit_holds(request: Request) -> Response:
    with read(request) as conn:
        held = queries.list_orders(conn, Filters(state=OrderState.CREDIT_HOLD.value),
                                   paging(request, 20))
        positions = reports.credit_positions(
            conn, sorted({o["customer_id"] for o in held.items}), today(request))
    return page(request, "credit_holds.html", page=held, positions=positions,
                can_decide=can(request, "release_order"))


@backoffice.post("/credit-holds/{order_id}/{decision}", name="web_credit_decision",
                 response_class=HTMLResponse)
def credit_decision(request: Request, order_id: PageId, decision: str,
                    form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    reason = form.get("reason", "").strip()
    number = document_number("SO", order_id)
    if decision not in ("release", "reject"):
        raise NotFound("decision", decision)
    require(request, f"{decision}_order")
    if not reason:
        return redirect(request, "/credit-holds", fmt.gettext("Give a reason."), "error")
    command = (c.ReleaseOrder(order_id=order_id, reason=reason) if decision == "release"
               else c.RejectOrder(order_id=order_id, reason=reason))
    try:
        execute(request, command)
    except FormError as error:
        return redirect(request, "/credit-holds", error.first, "error")
    done = ("Order {number} released." if decision == "release"
            else "Order {number} rejected.")
    return redirect(request, "/credit-holds", fmt.gettext(done, number=number))


# -- warehouse ---------------------------------------------------------------------------------


@backoffice.get("/warehouse", name="web_warehouse", response_class=HTMLResponse)
def warehouse(request: Request) -> Response:
    view = "stock" if request.query_params.get("view") == "stock" else "shipments"
    with read(request) as conn:
        if view == "shipments":
            result = queries.list_shipments(conn, Filters(state=SHIPMENTS_TO_HANDLE),
                                            paging(request))
        else:
            result = queries.list_stock(conn, Filters(q=request.query_params.get("q") or None),
                                        paging(request))
    return page(request, "warehouse.html", view=view, page=result,
                can_move=can(request, "pick_shipment"))


@backoffice.get("/warehouse/shipments/{shipment_id}", name="web_shipment",
                response_class=HTMLResponse)
def shipment(request: Request, shipment_id: PageId) -> Response:
    with read(request) as conn:
        found = queries.shipment(conn, shipment_id)
        invoices = queries.shipment_invoices(conn, shipment_id, today(request))
        events = reports.timeline(conn, [("shipment", shipment_id)])
    step = found["next_step"]
    return page(request, "shipment.html", s=found, step=step, invoices=invoices, events=events,
                can_move=step is not None and can(request, OPERATION_OF_STEP[step]))


@backoffice.post("/warehouse/shipments/{shipment_id}/{step}", name="web_shipment_step",
                 response_class=HTMLResponse)
def shipment_step(request: Request, shipment_id: PageId, step: str, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    if step not in OPERATION_OF_STEP:
        raise NotFound("step", step)
    require(request, OPERATION_OF_STEP[step])
    carrier = form.get("carrier", "").strip()
    tracking = form.get("tracking_number", "").strip()
    command: c.Command
    if step == "pick":
        command = c.PickShipment(shipment_id=shipment_id)
    elif step == "pack":
        command = c.PackShipment(shipment_id=shipment_id)
    elif step == "ship":
        packages = form.get("packages", "").strip()
        count = form_id(packages) if packages else None
        if packages and (count is None or count > MAX_PACKAGES):
            return redirect(request, form.get("back") or "/warehouse",
                            fmt.gettext("Packages must be a whole number, at least 1."), "error")
        command = c.ShipShipment(shipment_id=shipment_id, carrier=carrier,
                                 tracking_number=tracking, packages=count)
    else:
        command = c.DeliverShipment(shipment_id=shipment_id)
    back = form.get("back") or "/warehouse"
    number = document_number("SHP", shipment_id)
    try:
        execute(request, command)
    except FormError as error:
        return redirect(request, back, error.first, "error")
    done = {"pick": "Shipment {number} picked.", "pack": "Shipment {number} packed.",
            "ship": "Shipment {number} shipped; the invoice is posted.",
            "deliver": "Shipment {number} delivered."}[step]
    return redirect(request, back, fmt.gettext(done, number=number))


# -- invoices ----------------------------------------------------------------------------------


def invoice_filters(request: Request, customer_id: IdParam = None) -> Filters:
    params = request.query_params
    status = params.get("payment_status") or None
    kind = params.get("kind") or None
    extra: dict[str, Any] = {
        "payment_status": status if status in set(PaymentStatus) else None,
        "kind": kind if kind in ("invoice", "credit_note") else None,
        "open": bool(params.get("open")),
    }
    bucket = next((b for b in AGING_BUCKETS if b.code == params.get("aging")), None)
    if bucket is not None:  # a bar of the dashboard's aging chart: open invoices due then
        extra["due_from"], extra["due_to"] = bucket.due_dates(today(request))
        extra["kind"], extra["open"] = "invoice", True
    return Filters(customer_id=customer_id, date_from=query_date(request, "date_from"),
                   date_to=query_date(request, "date_to"), q=params.get("q") or None,
                   extra=extra)


@backoffice.get("/invoices", name="web_invoices", response_class=HTMLResponse)
def invoices(request: Request) -> Response:
    filters, as_of = invoice_filters(request), today(request)
    with read(request) as conn:
        if kind := export_format(request.query_params.get("format")):
            return lists.export_list(request, "invoices", kind,
                                     lambda p: queries.list_invoices(conn, filters, p, as_of))
        result = queries.list_invoices(conn, filters, lists.list_paging(request, "invoices"),
                                       as_of)
    return page(request, "invoices.html", page=result, statuses=list(PaymentStatus), base="",
                portal=False, sortable=True)


def invoice_page(request: Request, invoice_id: int, base: str = "", portal: bool = False,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    with read(request) as conn:
        found = queries.invoice(conn, invoice_id, today(request))
        events = reports.timeline(conn, [("invoice", invoice_id)])
    return page(request, "invoice.html", status_code=status_code, i=found, events=events,
                base=base, portal=portal, errors=errors or {},
                can_credit=not portal and can(request, "create_credit_note"))


@backoffice.get("/invoices/{invoice_id}", name="web_invoice", response_class=HTMLResponse)
def invoice(request: Request, invoice_id: PageId) -> Response:
    return invoice_page(request, invoice_id)


@backoffice.post("/invoices/{invoice_id}/credit-note", name="web_create_credit_note",
                 response_class=HTMLResponse)
def create_credit_note(request: Request, invoice_id: PageId, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "create_credit_note")
    errors: dict[str, str] = {}
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = fmt.gettext("Give a reason.")
    lines = []
    for key in form:
        line_id = form_id(key[5:]) if key.startswith("line_") else None
        if line_id is not None:
            quantity = decimal_field(form, key, errors, fmt.gettext("not a number"),
                                     fmt.language)
            if quantity is not None:
                lines.append(c.CreditLineInput(invoice_line_id=line_id, quantity=quantity))
    if errors:
        return invoice_page(request, invoice_id, errors=errors, status_code=422)
    try:
        credit_note_id = execute(request, c.CreateCreditNote(
            invoice_id=invoice_id, reason=reason, lines=tuple(lines) or None))
    except FormError as error:
        return invoice_page(request, invoice_id, errors={"_": error.first},
                            status_code=422)
    return redirect(request, f"/invoices/{credit_note_id}",
                    fmt.gettext("Credit note created and posted."))


# -- payments ----------------------------------------------------------------------------------


def payment_filters(request: Request, customer_id: IdParam = None) -> Filters:
    params = request.query_params
    return Filters(customer_id=customer_id, date_from=query_date(request, "date_from"),
                   date_to=query_date(request, "date_to"), q=params.get("q") or None,
                   extra={"unapplied": bool(params.get("unapplied"))})


@backoffice.get("/payments", name="web_payments", response_class=HTMLResponse)
def payments(request: Request) -> Response:
    filters = payment_filters(request)
    with read(request) as conn:
        if kind := export_format(request.query_params.get("format")):
            return lists.export_list(request, "payments", kind,
                                     lambda p: queries.list_payments(conn, filters, p))
        result = queries.list_payments(conn, filters, lists.list_paging(request, "payments"))
    return page(request, "payments.html", page=result, base="", portal=False,
                can_record=can(request, "record_payment"), sortable=True)


def payment_form(request: Request, form: dict[str, str], errors: dict[str, str],
                 status_code: int = 200) -> Response:
    """The payment form with the customer's open invoices and, for what was typed so far,
    the residual each invoice would keep and the amount left unapplied."""
    fmt = formatter(request)
    code = (form.get("customer") or "").strip()
    customer = None
    open_invoices: list[dict[str, Any]] = []
    with read(request) as conn:
        candidates = queries.list_customers(conn, Filters(q=code or None),
                                            PageRequest(limit=20)).items
        if code:
            customer = next((x for x in candidates if x["code"] == code), None)
            if customer is None:
                errors.setdefault("customer", fmt.gettext("no customer with code {code}",
                                                          code=code))
        if customer is not None:
            open_invoices = queries.list_invoices(
                conn, Filters(customer_id=customer["id"],
                              extra={"open": True, "kind": "invoice"}),
                PageRequest(limit=200), today(request)).items
    open_invoices.sort(key=lambda i: (i["due_date"] or date.max, i["id"]))
    rows, allocated = [], Decimal(0)
    for inv in open_invoices:
        name = f"allocate_{inv['id']}"
        given = decimal_field(form, name, errors, fmt.gettext("not a number"), fmt.language)
        error = errors.get(name)
        if given is not None and given > inv["residual"]:
            error = fmt.gettext("more than is open")
        rows.append({"invoice": inv, "given": form.get(name, ""), "error": error,
                     "after": inv["residual"] - (given or 0) if given is not None else None})
        allocated += given or 0
    received = decimal_field(form, "amount", {}, "", fmt.language)
    unapplied = received - allocated if received is not None else None
    return page(request, "payment_new.html", status_code=status_code, form=form,
                errors=errors, customer=customer, customers=candidates,
                allocation_rows=rows, allocated_total=allocated, unapplied_total=unapplied,
                methods=list(PaymentMethod), today=today(request))


@backoffice.get("/payments/new", name="web_new_payment", response_class=HTMLResponse)
def new_payment(request: Request, invoice: IdParam = None) -> Response:
    """The payment form; from an open invoice ("Register payment"), its open amount is the
    amount received and goes to that invoice."""
    form = {"customer": request.query_params.get("customer", "")}
    if invoice is not None:
        with read(request) as conn:
            found = queries.invoice(conn, invoice, today(request))
        if found["kind"] == "invoice" and found["residual"]:
            form.update({"customer": found["customer_code"], "amount": str(found["residual"]),
                         f"allocate_{invoice}": str(found["residual"])})
    return payment_form(request, form, {})


@backoffice.post("/payments/new/preview", name="web_preview_payment",
                 response_class=HTMLResponse)
def preview_payment(request: Request, form: FormData) -> Response:
    return payment_form(request, form, {})


@backoffice.post("/payments/new", name="web_record_payment", response_class=HTMLResponse)
def record_payment(request: Request, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "record_payment")
    errors: dict[str, str] = {}
    amount = decimal_field(form, "amount", errors, fmt.gettext("not a number"), fmt.language)
    if amount is None and "amount" not in errors:
        errors["amount"] = fmt.gettext("how much was received?")
    try:
        received_on = date.fromisoformat(form.get("received_on", ""))
    except ValueError:
        errors["received_on"] = fmt.gettext("not a date")
        received_on = None
    allocations = []
    for key in sorted(form):
        target = form_id(key[9:]) if key.startswith("allocate_") else None
        if target is not None:
            value = decimal_field(form, key, errors, fmt.gettext("not a number"), fmt.language)
            if value:
                allocations.append(c.AllocationInput(invoice_id=target, amount=value))
    code = form.get("customer", "").strip()
    with read(request) as conn:
        found = [x for x in queries.list_customers(conn, Filters(q=code or None),
                                                   PageRequest(limit=20)).items
                 if x["code"] == code]
    if not found:
        errors["customer"] = fmt.gettext("no customer with code {code}", code=code)
    if errors:
        return payment_form(request, form, errors, status_code=422)
    customer = found[0]
    method = form.get("method", PaymentMethod.BANK_TRANSFER.value)
    assert amount is not None
    try:
        payment_id = execute(request, c.RecordPayment(
            customer_id=customer["id"], amount=amount, currency=customer["currency"],
            received_on=received_on, method=method, reference=form.get("reference", "").strip(),
            allocations=tuple(allocations)))
    except FormError as error:
        mapped = {}
        for field, message in error.errors.items():
            if field.startswith("allocations["):
                index = int(field[len("allocations["):].split("]")[0])
                mapped[f"allocate_{allocations[index].invoice_id}"] = message
            else:
                mapped[field if field in ("amount", "received_on", "method") else "_"] = message
        return payment_form(request, form, mapped, status_code=422)
    return redirect(request, f"/payments/{payment_id}", fmt.gettext(
        "Payment {number} recorded.", number=document_number("PAY", payment_id)))


# -- customers ---------------------------------------------------------------------------------


@backoffice.get("/customers", name="web_customers", response_class=HTMLResponse)
def customers(request: Request) -> Response:
    params = request.query_params
    country = (params.get("country") or "").upper() or None
    filters = Filters(q=params.get("q") or None, extra={"country": country})
    with read(request) as conn:
        if kind := export_format(params.get("format")):
            return lists.export_list(request, "customers", kind,
                                     lambda p: queries.list_customers(conn, filters, p))
        result = queries.list_customers(conn, filters, lists.list_paging(request, "customers"))
    return page(request, "customers.html", page=result, sortable=True)


@backoffice.get("/customers/options", name="web_customer_options",
                response_class=HTMLResponse)
def customer_options(request: Request) -> Response:
    """Suggestions for a customer field (htmx fills a datalist as the user types)."""
    q = (request.query_params.get("customer") or request.query_params.get("q") or "").strip()
    with read(request) as conn:
        found = queries.list_customers(conn, Filters(q=q or None), PageRequest(limit=20)).items
    return page(request, "customer_options.html", customers=found)


def statement_period(request: Request) -> tuple[date, date]:
    date_to = query_date(request, "date_to") or today(request)
    date_from = query_date(request, "date_from") or (date_to - timedelta(days=365))
    return min(date_from, date_to), date_to


@backoffice.get("/customers/{customer_id}", name="web_customer", response_class=HTMLResponse)
def customer(request: Request, customer_id: PageId) -> Response:
    # Two tabs: the overview (open items, timeline) and the statement of account, which is
    # long (a year of documents) and read only when asked for.
    view = "statement" if request.query_params.get("view") == "statement" else "overview"
    date_from, date_to = statement_period(request)
    statement = open_items = events = None
    with read(request) as conn:
        found = queries.customer(conn, customer_id, today(request))
        if view == "statement":
            statement = reports.statement_of_account(conn, customer_id, date_from, date_to)
        else:
            open_items = queries.list_invoices(
                conn, Filters(customer_id=customer_id, extra={"open": True}),
                PageRequest(limit=20), today(request))
            events = reports.timeline(conn, [("customer", customer_id)])
    return page(request, "customer.html", c=found, open_items=open_items, statement=statement,
                events=events, view=view, can_order=can(request, "create_order"),
                can_pay=can(request, "record_payment"))



def invoice_document(request: Request, invoice_id: int, kind: str) -> Response:
    """The printable view (`print`) or the PDF (`pdf`) of an invoice or credit note."""
    if kind not in ("pdf", "print"):
        raise NotFound("document", kind)
    with read(request) as conn:
        found = queries.invoice(conn, invoice_id, today(request))
    if kind == "print":
        return HTMLResponse(documents.printable(request, found))
    filename = f"{found['number'] or 'draft'}.pdf"
    return Response(documents.pdf(request, found), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@backoffice.get("/invoices/{invoice_id}/{kind}", name="web_invoice_document")
def invoice_file(request: Request, invoice_id: PageId, kind: str) -> Response:
    return invoice_document(request, invoice_id, kind)
