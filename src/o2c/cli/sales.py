"""Orders (capture, credit decision, release, reject, cancel) and shipments (pick, pack, ship,
deliver)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, cast

import typer

from o2c.adapters.db import queries
from o2c.cli.core import (
    AsOfOption,
    Column,
    CustomerFilter,
    FromFilter,
    JsonOption,
    LimitOption,
    O2CGroup,
    OffsetOption,
    OnOption,
    StateFilter,
    TextFilter,
    ToFilter,
    console,
    customer_id,
    day,
    decimal,
    filters,
    money,
    order_id,
    page,
    pair,
    print_json,
    product_id,
    reading,
    run,
    say,
    shipment_id,
    show_fields,
    show_page,
    table,
    today,
    warehouse_id,
)
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.errors import InvalidInput
from o2c.domain.orders import OrderState
from o2c.services.orders import ConfirmResult

orders = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                     help="Sales orders: capture, credit decision, reservation.")
OrderArgument = Annotated[str, typer.Argument(help="Order number (SO-000123) or id.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]

ORDER_COLUMNS: list[Column] = [
    ("number", "number"), ("date", "order_date"), ("customer", "customer_code"),
    ("name", "customer_name"), ("state", "state"), ("shipping", "shipping_status"),
    ("invoicing", "invoicing_status"), ("gross", "gross_amount"), ("currency", "currency")]
LINE_COLUMNS: list[Column] = [
    ("#", "line_no"), ("line id", "id"), ("SKU", "sku"), ("description", "description"),
    ("qty", "quantity"), ("unit", "unit"), ("price", "unit_price"),
    ("disc %", "discount_percent"), ("net", "net_amount"), ("VAT %", "vat_rate"),
    ("reserved", "reserved_qty"), ("shipped", "shipped_qty"), ("invoiced", "invoiced_qty"),
    ("backorder", "backorder_qty")]
SHIPMENT_COLUMNS: list[Column] = [
    ("number", "number"), ("order", "order_number"), ("customer", "customer_name"),
    ("state", "state"), ("created", "created_on"), ("shipped", "shipped_on"),
    ("delivered", "delivered_on"), ("carrier", "carrier"), ("tracking", "tracking_number")]


@orders.command("create")
def create_order(
    customer: Annotated[str, typer.Option("--customer", help="Customer code or id.")],
    line: Annotated[list[str], typer.Option(
        "--line", help="SKU:QTY[:PRICE] (repeatable); the price list's price when omitted.")],
    order_date: Annotated[str | None, typer.Option("--date", help="Order date.")] = None,
    reference: Annotated[str, typer.Option(
        "--reference", help="The customer's purchase order number.")] = "",
    notes: Annotated[str, typer.Option("--notes")] = "",
    warehouse: Annotated[str | None, typer.Option("--warehouse")] = None,
) -> None:
    """Capture an order as a draft; `o2c order confirm` runs the credit check."""
    with reading() as conn:
        buyer = customer_id(conn, customer)
        lines = []
        for i, text in enumerate(line):
            parts = pair(text, f"lines[{i}]", (2, 3))
            lines.append(c.OrderLineInput(
                product_id(conn, parts[0], f"lines[{i}].sku"),
                decimal(parts[1], f"lines[{i}].quantity"),
                decimal(parts[2], f"lines[{i}].unit_price") if len(parts) == 3 else None))
        where = warehouse_id(conn, warehouse) if warehouse else None
    new_id = run(c.CreateOrder(buyer, tuple(lines), order_date=day(order_date, "date"),
                               warehouse_id=where, customer_reference=reference, notes=notes))
    with reading() as conn:
        data = queries.order(conn, new_id, today())
    say(f"created order {data['number']} (draft) for {data['customer_code']} "
        f"{data['customer_name']}: net {money(data['net_amount'], data['currency'])}, "
        f"VAT {money(data['tax_amount'], data['currency'])}, "
        f"gross {money(data['gross_amount'], data['currency'])}")
    say(f"next: o2c order confirm {data['number']}", "dim")


@orders.command("confirm")
def confirm_order(order: OrderArgument, on: OnOption = None,
                  as_json: JsonOption = False) -> None:
    """Confirm an order: the credit check approves it (stock is reserved, anything missing
    goes on backorder) or puts it on credit hold."""
    result: ConfirmResult = run(c.ConfirmOrder(order_id(order), on=day(on, "on")))
    _report_decision(result, as_json)


def _report_decision(result: ConfirmResult, as_json: bool) -> None:
    with reading() as conn:
        data = queries.order(conn, result.order_id, today())
    cur = data["currency"]
    decision = result.decision
    backorder = [{**line, "quantity": queries.quantity(cast(Decimal, line["quantity"]))}
                 for line in result.backorder]
    if as_json:
        print_json({
            "order_id": result.order_id, "number": data["number"], "state": result.state,
            "approved": None if decision is None else decision.approved,
            "exposure_after": None if decision is None else decision.exposure_after,
            "hold_reasons": [] if decision is None else list(decision.reasons),
            "shipments": [document_number("SHP", s) for s in result.shipment_ids],
            "backorder": backorder})
        return
    if result.state is OrderState.CREDIT_HOLD:
        assert decision is not None
        say(f"{data['number']} is on CREDIT HOLD:", "bold red")
        for reason in decision.reasons:
            say(f"  - {reason}")
        say(f"release it with `o2c order release {data['number']} --reason ...` or reject it "
            f"with `o2c order reject {data['number']} --reason ...`", "dim")
        return
    if decision is None:
        say(f"{data['number']} released from credit hold and confirmed", "bold green")
    else:
        say(f"{data['number']} confirmed: credit check passed (exposure after this order "
            f"{money(decision.exposure_after, cur)})", "bold green")
    # The first step depends on the warehouse's delivery route (pick, or ship at once).
    next_steps = {s["id"]: s["next_step"] for s in data["shipments"]}
    for shipment in result.shipment_ids:
        say(f"reserved on shipment {document_number('SHP', shipment)}, "
            f"ready to {next_steps.get(shipment) or 'pick'}")
    if backorder:
        say("backorder (waits for stock):", "yellow")
        console().print(table(backorder,
                              [("line", "line_no"), ("SKU", "sku"), ("quantity", "quantity")]))
    elif not result.shipment_ids:
        say("nothing left to reserve")


@orders.command("release")
def release_order(order: OrderArgument, reason: Reason, on: OnOption = None,
                  as_json: JsonOption = False) -> None:
    """Release an order from credit hold (it is confirmed and reserves stock)."""
    result = run(c.ReleaseOrder(order_id(order), reason, on=day(on, "on")), actor="cli:credit")
    _report_decision(result, as_json)


@orders.command("reject")
def reject_order(order: OrderArgument, reason: Reason) -> None:
    """Reject an order on credit hold."""
    run(c.RejectOrder(order_id(order), reason), actor="cli:credit")
    say(f"{_number(order)} rejected")


@orders.command("cancel")
def cancel_order(order: OrderArgument,
                 reason: Annotated[str, typer.Option("--reason")] = "") -> None:
    """Cancel an order that has not shipped; its reservations are released."""
    run(c.CancelOrder(order_id(order), reason))
    say(f"{_number(order)} cancelled")


@orders.command("reserve")
def reserve_backorders(order: Annotated[str | None, typer.Argument(
        help="Order number or id; every order waiting for stock when omitted.")] = None,
        on: OnOption = None) -> None:
    """Try again to reserve stock for backorders."""
    created = run(c.ReserveBackorders(order_id(order) if order else None, on=day(on, "on")))
    if not created:
        say("nothing could be reserved")
    for shipment in created:
        say(f"reserved on shipment {document_number('SHP', shipment)}")


def _number(order: str) -> str:
    return document_number("SO", order_id(order))


@orders.command("show")
def show_order(order: OrderArgument, as_of: AsOfOption = None,
               as_json: JsonOption = False) -> None:
    """An order with its lines, shipments and invoices."""
    with reading() as conn:
        data = queries.order(conn, order_id(order), day(as_of, "as_of") or today())
    if as_json:
        print_json(data)
        return
    cur = data["currency"]
    show_fields({**data, "net": money(data["net_amount"], cur),
                 "tax": money(data["tax_amount"], cur),
                 "gross": money(data["gross_amount"], cur),
                 "invoiced": money(data["invoiced_amount"], cur)},
                [("customer", "customer_code"), ("name", "customer_name"),
                 ("date", "order_date"), ("state", "state"), ("hold reason", "hold_reason"),
                 ("shipping", "shipping_status"), ("invoicing", "invoicing_status"),
                 ("reference", "customer_reference"), ("net", "net"), ("VAT", "tax"),
                 ("gross", "gross"), ("invoiced", "invoiced")], data["number"])
    out = console()
    out.print(table(data["lines"], LINE_COLUMNS, "lines"))
    if data["shipments"]:
        out.print(table(data["shipments"], SHIPMENT_COLUMNS, "shipments"))
    if data["invoices"]:
        out.print(table(data["invoices"], INVOICE_SUMMARY, "invoices"))


INVOICE_SUMMARY: list[Column] = [("number", "number"), ("date", "issue_date"),
                                 ("due", "due_date"), ("gross", "gross_amount"),
                                 ("open", "residual"), ("status", "payment_status")]


@orders.command("list")
def list_orders(customer: CustomerFilter = None, state: StateFilter = None,
                date_from: FromFilter = None, date_to: ToFilter = None, q: TextFilter = None,
                shipping: Annotated[str | None, typer.Option(
                    "--shipping", help="not_shipped, partially_shipped or shipped.")] = None,
                as_json: JsonOption = False, limit: LimitOption = 50,
                offset: OffsetOption = 0) -> None:
    """Orders, newest first."""
    with reading() as conn:
        result = queries.list_orders(conn, filters(
            conn, customer=customer, state=state, date_from=date_from, date_to=date_to, q=q,
            shipping_status=shipping), page(limit, offset))
    show_page(result, ORDER_COLUMNS, as_json, "orders")


# -- shipments ---------------------------------------------------------------------------------

shipments = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                        help="Shipments: pick, pack, ship (which invoices), deliver.")
ShipmentArgument = Annotated[str, typer.Argument(help="Shipment number (SHP-000012) or id.")]


@shipments.command("pick")
def pick_shipment(shipment: ShipmentArgument, on: OnOption = None) -> None:
    """The goods are picked from the shelves."""
    run(c.PickShipment(shipment_id(shipment), on=day(on, "on")), actor="cli:warehouse")
    say(f"{_shipment_number(shipment)} picked")


@shipments.command("pack")
def pack_shipment(shipment: ShipmentArgument,
                  packages: Annotated[int, typer.Option("--packages", min=1)] = 1,
                  on: OnOption = None) -> None:
    """The goods are packed."""
    run(c.PackShipment(shipment_id(shipment), packages=packages, on=day(on, "on")),
        actor="cli:warehouse")
    say(f"{_shipment_number(shipment)} packed in {packages} package(s)")


@shipments.command("ship")
def ship_shipment(
    shipment: ShipmentArgument,
    carrier: Annotated[str, typer.Option("--carrier")] = "",
    tracking: Annotated[str, typer.Option("--tracking", help="Tracking number.")] = "",
    qty: Annotated[list[str] | None, typer.Option(
        "--qty", help="SKU:QTY or ORDER_LINE_ID:QTY to ship only part (repeatable); lines not "
                      "named ship in full.")] = None,
    packages: Annotated[int | None, typer.Option(
        "--packages", min=1, help="Where the warehouse's route has no packing step.")] = None,
    on: OnOption = None,
) -> None:
    """The goods leave: stock goes down and the invoice is posted."""
    target = shipment_id(shipment)
    quantities = _partial_quantities(target, qty) if qty else None
    run(c.ShipShipment(target, on=day(on, "on"), carrier=carrier, tracking_number=tracking,
                       quantities=quantities, packages=packages), actor="cli:warehouse")
    with reading() as conn:
        data = queries.shipment(conn, target)
        invoices = queries.shipment_invoices(conn, target, today())
        rest = [s for s in queries.list_shipments(
            conn, filters(conn, state="ready", order_id=data["order_id"]),
            page(queries.MAX_LIMIT, 0)).items if s["id"] > target]
    say(f"{data['number']} shipped ({data['order_number']})")
    for invoice in invoices:
        say(f"invoice {invoice['number']} posted: "
            f"{money(invoice['gross_amount'], invoice['currency'])}, due {invoice['due_date']}")
    for remainder in rest:
        say(f"the rest waits on shipment {remainder['number']}")


def _partial_quantities(target: int, entries: list[str]) -> dict[int, Decimal]:
    with reading() as conn:
        lines = queries.shipment(conn, target)["lines"]
    quantities = {line["order_line_id"]: line["quantity"] for line in lines}
    for i, text in enumerate(entries):
        key, amount = pair(text, f"qty[{i}]")
        matches = [line["order_line_id"] for line in lines
                   if str(line["order_line_id"]) == key or line["sku"].upper() == key.upper()]
        if len(matches) != 1:
            raise InvalidInput(
                f"{key!r} names {'no line' if not matches else 'several lines'} of the "
                f"shipment; use the order line id", field=f"qty[{i}]")
        quantities[matches[0]] = decimal(amount, f"qty[{i}].quantity")
    return quantities


@shipments.command("deliver")
def deliver_shipment(shipment: ShipmentArgument, on: OnOption = None) -> None:
    """The carrier confirms delivery."""
    run(c.DeliverShipment(shipment_id(shipment), on=day(on, "on")), actor="cli:warehouse")
    say(f"{_shipment_number(shipment)} delivered")


@shipments.command("cancel")
def cancel_shipment(shipment: ShipmentArgument,
                    reason: Annotated[str, typer.Option("--reason")] = "") -> None:
    """Cancel a shipment not yet shipped: the goods go back to stock, the lines to backorder."""
    run(c.CancelShipment(shipment_id(shipment), reason), actor="cli:warehouse")
    say(f"{_shipment_number(shipment)} cancelled; its lines wait for stock again "
        f"(`o2c order reserve`)")


def _shipment_number(shipment: str) -> str:
    return document_number("SHP", shipment_id(shipment))


@shipments.command("show")
def show_shipment(shipment: ShipmentArgument, as_json: JsonOption = False) -> None:
    """A shipment with its lines and the invoices it posted."""
    with reading() as conn:
        target = shipment_id(shipment)
        data: dict[str, Any] = queries.shipment(conn, target)
        data["invoices"] = queries.shipment_invoices(conn, target, today())
    if as_json:
        print_json(data)
        return
    show_fields(data, [("order", "order_number"), ("customer", "customer_name"),
                       ("state", "state"), ("route", "route"), ("next step", "next_step"),
                       ("created", "created_on"), ("picked", "picked_on"),
                       ("packed", "packed_on"), ("shipped", "shipped_on"),
                       ("delivered", "delivered_on"), ("carrier", "carrier"),
                       ("tracking", "tracking_number"), ("packages", "packages")],
                data["number"])
    out = console()
    out.print(table(data["lines"], [("order line", "order_line_id"), ("SKU", "sku"),
                                    ("description", "description"), ("qty", "quantity")],
                    "lines"))
    if data["invoices"]:
        out.print(table(data["invoices"], INVOICE_SUMMARY, "invoices"))


@shipments.command("list")
def list_shipments(customer: CustomerFilter = None,
                   state: Annotated[str | None, typer.Option(
                       "--state", help="One state or several separated by commas.")] = None,
                   order: Annotated[str | None, typer.Option("--order")] = None,
                   date_from: FromFilter = None, date_to: ToFilter = None,
                   as_json: JsonOption = False, limit: LimitOption = 50,
                   offset: OffsetOption = 0) -> None:
    """Shipments, newest first."""
    with reading() as conn:
        result = queries.list_shipments(conn, filters(
            conn, customer=customer, state=state, date_from=date_from, date_to=date_to,
            order_id=order_id(order) if order else None), page(limit, offset))
    show_page(result, SHIPMENT_COLUMNS, as_json, "shipments")
