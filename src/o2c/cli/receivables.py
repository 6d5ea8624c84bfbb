"""Invoices, credit notes, payments and allocations, the event log, and the ledger."""

from __future__ import annotations

from typing import Annotated

import typer

from o2c.adapters.db import queries, reports
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
    company_id,
    console,
    customer_id,
    day,
    decimal,
    document_id,
    filters,
    invoice_id,
    money,
    page,
    pair,
    payment_id,
    print_json,
    reading,
    run,
    say,
    show_fields,
    show_page,
    table,
    today,
)
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.errors import InvalidInput, NotFound
from o2c.domain.ledger import verify

INVOICE_COLUMNS: list[Column] = [
    ("number", "number"), ("kind", "kind"), ("date", "issue_date"), ("due", "due_date"),
    ("customer", "customer_code"), ("name", "customer_name"), ("order", "order_number"),
    ("gross", "gross_amount"), ("open", "residual"), ("currency", "currency"),
    ("status", "payment_status"), ("days overdue", "days_overdue")]
PAYMENT_COLUMNS: list[Column] = [
    ("number", "number"), ("received", "received_on"), ("customer", "customer_name"),
    ("amount", "amount"), ("unapplied", "unapplied"), ("currency", "currency"),
    ("method", "method"), ("state", "state"), ("reference", "reference")]
ALLOCATION_COLUMNS: list[Column] = [
    ("id", "id"), ("invoice", "invoice_number"), ("from", "source_number"),
    ("amount", "amount"), ("currency", "currency"), ("on", "allocated_on"),
    ("reversed", "reversed_on")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]
Allocate = Annotated[list[str] | None, typer.Option(
    "--allocate", help="INVOICE:AMOUNT, e.g. INV-2026-00001:100.00 (repeatable).")]
Auto = Annotated[bool, typer.Option("--auto", help="Settle open invoices, oldest due first.")]

# -- invoices ----------------------------------------------------------------------------------

invoices = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Invoices and credit notes.")


@invoices.command("list")
def list_invoices(customer: CustomerFilter = None, state: StateFilter = None,
                  status: Annotated[str | None, typer.Option(
                      "--status", help="unpaid, partially_paid, paid, overdue or credited.")
                  ] = None,
                  kind: Annotated[str | None, typer.Option(
                      "--kind", help="invoice or credit_note.")] = None,
                  open_only: Annotated[bool, typer.Option(
                      "--open", help="Only documents with something left open.")] = False,
                  date_from: FromFilter = None, date_to: ToFilter = None,
                  q: TextFilter = None, as_of: AsOfOption = None, as_json: JsonOption = False,
                  limit: LimitOption = 50, offset: OffsetOption = 0) -> None:
    """Invoices and credit notes, newest first, with their payment status."""
    with reading() as conn:
        result = queries.list_invoices(conn, filters(
            conn, customer=customer, state=state, date_from=date_from, date_to=date_to, q=q,
            payment_status=status, kind=kind, open=open_only or None), page(limit, offset),
            day(as_of, "as_of") or today())
    show_page(result, INVOICE_COLUMNS, as_json, "invoices")


@invoices.command("summary")
def receivables_summary(as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """Open and overdue receivables of the company as the dashboard shows them (same query),
    as of today or --as-of."""
    on = day(as_of, "as_of") or today()
    with reading() as conn:
        default = queries.default_company_id(conn)
        if default is None:
            raise NotFound("company", "default")
        figures = reports.dashboard(conn, default, on)
    if as_json:
        print_json({k: figures[k] for k in (
            "as_of", "currency", "open_receivables", "open_invoices", "overdue",
            "overdue_invoices")})
        return
    cur = figures["currency"]
    say(f"on {on}: {figures['open_invoices']} invoices open "
        f"({money(figures['open_receivables'], cur)}), {figures['overdue_invoices']} overdue "
        f"({money(figures['overdue'], cur)} due and unpaid) - as the dashboard shows")


@invoices.command("show")
def show_invoice(invoice: Annotated[str, typer.Argument(
                     help="Invoice number (INV-2026-00001) or id.")],
                 as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """An invoice with its lines, VAT breakdown, instalments, allocations and credit notes."""
    with reading() as conn:
        data = queries.invoice(conn, invoice_id(conn, invoice), day(as_of, "as_of") or today())
    if as_json:
        print_json(data)
        return
    cur = data["currency"]
    show_fields({**data, "buyer_name": data["buyer"]["name"],
                 "net": money(data["net_amount"], cur), "tax": money(data["tax_amount"], cur),
                 "gross": money(data["gross_amount"], cur),
                 "open": money(data["residual"], cur)},
                [("kind", "kind"), ("customer", "buyer_name"), ("issued", "issue_date"),
                 ("due", "due_date"), ("order", "order_number"), ("corrects", "corrects_number"),
                 ("reason", "reason"), ("terms", "payment_terms"), ("net", "net"),
                 ("VAT", "tax"), ("gross", "gross"), ("open", "open"),
                 ("status", "payment_status"), ("days overdue", "days_overdue"),
                 ("pay to", "payee_iban"), ("reference", "remittance_reference")],
                data["number"])
    out = console()
    out.print(table(data["lines"], [
        ("#", "line_no"), ("line id", "id"), ("SKU", "sku"), ("description", "description"),
        ("qty", "quantity"), ("unit", "unit"), ("price", "unit_price"),
        ("disc %", "discount_percent"), ("net", "net_amount"), ("VAT", "vat_code"),
        ("VAT %", "vat_rate")], "lines"))
    out.print(table(data["taxes"], [("VAT", "vat_code"), ("rate %", "vat_rate"),
                                    ("taxable", "taxable_amount"), ("tax", "tax_amount"),
                                    ("exemption", "exemption_reason")], "VAT breakdown"))
    if len(data["installments"]) > 1:
        out.print(table(data["installments"], [("due", "due_date"), ("amount", "amount")],
                        "instalments"))
    if data["allocations"]:
        out.print(table(data["allocations"], ALLOCATION_COLUMNS, "settled by"))
    if data["credit_notes"]:
        out.print(table(data["credit_notes"], [("number", "number"), ("date", "issue_date"),
                                               ("gross", "gross_amount"),
                                               ("reason", "reason")], "credit notes"))


credit_notes = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                           help="Credit notes: corrections of posted invoices.")


@credit_notes.command("create")
def create_credit_note(
    invoice: Annotated[str, typer.Argument(help="The invoice it corrects (number or id).")],
    reason: Reason,
    line: Annotated[list[str] | None, typer.Option(
        "--line", help="INVOICE_LINE_ID:QTY to credit part of a line (repeatable); the whole "
                       "invoice when omitted. Line ids: `o2c invoice show`.")] = None,
    on: OnOption = None,
) -> None:
    """Credit an invoice, in full or by line and quantity; the credit settles the invoice
    first, anything left stays as customer credit."""
    lines = None
    if line:
        lines = []
        for i, text in enumerate(line):
            line_id, quantity = pair(text, f"lines[{i}]")
            if not line_id.isdigit():
                raise InvalidInput(f"{line_id!r} is not an invoice line id",
                                   field=f"lines[{i}].invoice_line_id")
            lines.append(c.CreditLineInput(int(line_id),
                                           decimal(quantity, f"lines[{i}].quantity")))
    with reading() as conn:
        target = invoice_id(conn, invoice)
    note_id = run(c.CreateCreditNote(target, reason, tuple(lines) if lines else None,
                                     on=day(on, "on")))
    with reading() as conn:
        note = queries.invoice(conn, note_id, today())
    say(f"credit note {note['number']} posted for {note['corrects_number']}: "
        f"{money(note['gross_amount'], note['currency'])}; left as customer credit: "
        f"{money(note['residual'], note['currency'])}")


# -- payments ----------------------------------------------------------------------------------

payments = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                       help="Customer payments and their allocation to invoices.")
PaymentArgument = Annotated[str, typer.Argument(help="Payment number (PAY-000001) or id.")]


def _allocations(entries: list[str] | None) -> tuple[c.AllocationInput, ...]:
    result = []
    with reading() as conn:
        for i, text in enumerate(entries or []):
            invoice, amount = pair(text, f"allocations[{i}]")
            result.append(c.AllocationInput(invoice_id(conn, invoice),
                                            decimal(amount, f"allocations[{i}].amount")))
    return tuple(result)


@payments.command("record")
def record_payment(
    customer: Annotated[str, typer.Option("--customer", help="Customer code or id.")],
    amount: Annotated[str, typer.Option("--amount", help="Exact amount, e.g. 100.00.")],
    currency: Annotated[str, typer.Option("--currency", help="Must be the customer's.")],
    allocate: Allocate = None, auto: Auto = False, on: OnOption = None,
    method: Annotated[str, typer.Option(
        "--method", help="bank_transfer, direct_debit, card, cash or cheque.")
    ] = "bank_transfer",
    reference: Annotated[str, typer.Option("--reference", help="Remittance text.")] = "",
    payer_name: Annotated[str, typer.Option("--payer-name")] = "",
    payer_iban: Annotated[str, typer.Option("--payer-iban")] = "",
) -> None:
    """Record money received; allocate it to invoices now or later."""
    with reading() as conn:
        payer = customer_id(conn, customer)
    new_id = run(c.RecordPayment(
        payer, decimal(amount, "amount"), currency.upper(), received_on=day(on, "on"),
        method=method, reference=reference, payer_name=payer_name, payer_iban=payer_iban,
        allocations=_allocations(allocate), auto_allocate=auto), actor="cli:ar")
    _report_payment(new_id, "recorded")


def _report_payment(target: int, verb: str) -> None:
    with reading() as conn:
        data = queries.payment(conn, target)
    cur = data["currency"]
    say(f"{verb} {data['number']}: {money(data['amount'], cur)} from {data['customer_name']}")
    for allocation in data["allocations"]:
        if allocation["reversed_on"] is None:
            say(f"  applied {money(allocation['amount'], cur)} to "
                f"{allocation['invoice_number']}")
    if data["unapplied"]:
        say(f"  unapplied (customer credit): {money(data['unapplied'], cur)}")


@payments.command("allocate")
def allocate_payment(payment: PaymentArgument, allocate: Allocate = None, auto: Auto = False,
                     on: OnOption = None) -> None:
    """Apply a payment's unapplied money to invoices."""
    target = payment_id(payment)
    run(c.AllocatePayment(target, _allocations(allocate), auto, on=day(on, "on")),
        actor="cli:ar")
    _report_payment(target, "allocated")


@payments.command("reverse")
def reverse_payment(payment: PaymentArgument, reason: Reason, on: OnOption = None) -> None:
    """Reverse a payment recorded in error or returned by the bank (un-allocate it first)."""
    run(c.ReversePayment(payment_id(payment), reason, on=day(on, "on")), actor="cli:ar")
    say(f"{document_number('PAY', payment_id(payment))} reversed")


@payments.command("show")
def show_payment(payment: PaymentArgument, as_json: JsonOption = False) -> None:
    """A payment and where its money went."""
    with reading() as conn:
        data = queries.payment(conn, payment_id(payment))
    if as_json:
        print_json(data)
        return
    cur = data["currency"]
    show_fields({**data, "total": money(data["amount"], cur),
                 "left": money(data["unapplied"], cur)},
                [("customer", "customer_name"), ("received", "received_on"),
                 ("amount", "total"), ("unapplied", "left"), ("method", "method"),
                 ("state", "state"), ("reference", "reference"), ("payer", "payer_name"),
                 ("payer IBAN", "payer_iban"), ("exchange rate", "fx_rate")], data["number"])
    if data["allocations"]:
        console().print(table(data["allocations"], ALLOCATION_COLUMNS, "allocations"))


@payments.command("list")
def list_payments(customer: CustomerFilter = None, state: StateFilter = None,
                  date_from: FromFilter = None, date_to: ToFilter = None, q: TextFilter = None,
                  unapplied: Annotated[bool, typer.Option(
                      "--unapplied", help="Only payments with money not yet applied.")
                  ] = False,
                  as_json: JsonOption = False, limit: LimitOption = 50,
                  offset: OffsetOption = 0) -> None:
    """Payments, newest first."""
    with reading() as conn:
        result = queries.list_payments(conn, filters(
            conn, customer=customer, state=state, date_from=date_from, date_to=date_to, q=q,
            unapplied=unapplied or None), page(limit, offset))
    show_page(result, PAYMENT_COLUMNS, as_json, "payments")


allocations = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                          help="Allocations of payments and credit notes to invoices.")


@allocations.command("reverse")
def reverse_allocation(allocation: Annotated[int, typer.Argument(help="Allocation id.")],
                       reason: Reason, on: OnOption = None) -> None:
    """Undo an allocation: the invoice is open again and the money back on the payment."""
    run(c.Unallocate(allocation, reason, on=day(on, "on")), actor="cli:ar")
    with reading() as conn:
        data = queries.allocation(conn, allocation)
    say(f"allocation {allocation} reversed: {money(data['amount'], data['currency'])} of "
        f"{data['source_number']} no longer settles {data['invoice_number']}")


@allocations.command("list")
def list_allocations(customer: CustomerFilter = None,
                     payment: Annotated[str | None, typer.Option("--payment")] = None,
                     invoice: Annotated[str | None, typer.Option("--invoice")] = None,
                     as_json: JsonOption = False, limit: LimitOption = 50,
                     offset: OffsetOption = 0) -> None:
    """Allocations, oldest first."""
    with reading() as conn:
        result = queries.list_allocations(conn, filters(
            conn, customer=customer, payment_id=payment_id(payment) if payment else None,
            invoice_id=invoice_id(conn, invoice) if invoice else None), page(limit, offset))
    show_page(result, ALLOCATION_COLUMNS, as_json, "allocations")


# -- events ------------------------------------------------------------------------------------

EVENT_PREFIXES = {"order": "SO", "shipment": "SHP", "payment": "PAY"}


def events(object_type: Annotated[str, typer.Argument(
               help="order, shipment, invoice, payment, customer, product, stock, allocation, "
                    "open_item, company or warehouse.")],
           ref: Annotated[str, typer.Argument(
               help="Its number (SO-000001, INV-2026-00001, C-00001...) or id.")],
           as_json: JsonOption = False, limit: LimitOption = 50,
           offset: OffsetOption = 0) -> None:
    """The audit trail of one object: every state change, when and by whom."""
    with reading() as conn:
        if object_type == "invoice":
            target = invoice_id(conn, ref)
        elif object_type == "customer":
            target = customer_id(conn, ref)
        elif object_type in EVENT_PREFIXES:
            target = document_id(EVENT_PREFIXES[object_type], object_type, ref)
        elif ref.isdigit():
            target = int(ref)
        else:
            raise InvalidInput(f"{ref!r} is not an id", field="id")
        if not queries.object_exists(conn, object_type, target):
            raise NotFound(object_type, ref, field="id")
        result = queries.list_events(conn, object_type, target, page(limit, offset))
    show_page(result, [("when", "occurred_at"), ("event", "event"), ("by", "actor"),
                       ("data", "data")], as_json, "events")


# -- ledger ------------------------------------------------------------------------------------

ledger = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="The general ledger.")


@ledger.command("verify")
def verify_ledger(as_json: JsonOption = False) -> None:
    """Check the books: every entry balances, the trial balance is zero, and each sub-ledger
    equals its control account. Exit code 1 when a check fails."""
    with reading() as conn:
        figures = queries.ledger_figures(conn)
        names = {cid: queries.company(conn, cid)["code"] for cid in figures}
    results = [{"company_id": cid, "company": names[cid], "check": check.name, "ok": check.ok,
                "detail": check.detail} for cid, f in figures.items() for check in verify(f)]
    ok = all(r["ok"] for r in results)
    if as_json:
        print_json({"ok": ok, "checks": results})
    else:
        console().print(table([{**r, "result": "ok" if r["ok"] else "FAILED"} for r in results],
                              [("company", "company"), ("check", "check"),
                               ("result", "result"), ("detail", "detail")]))
        say("the ledger verifies" if ok else "the ledger does NOT verify",
            "bold green" if ok else "bold red")
    if not ok:
        raise typer.Exit(1)


@ledger.command("trial-balance")
def trial_balance(company: Annotated[str | None, typer.Option(
                      "--company", help="Company code; the first company when omitted.")
                  ] = None,
                  as_of: Annotated[str | None, typer.Option(
                      "--as-of", help="Entries up to this date; all when omitted.")] = None,
                  as_json: JsonOption = False) -> None:
    """Debit, credit and balance per account."""
    with reading() as conn:
        data = queries.trial_balance(conn, company_id(conn, company), day(as_of, "as_of"))
    if as_json:
        print_json(data)
        return
    cur = data["currency"]
    rows = data["accounts"] + [{"account": "", "name": "total", "debit": data["total_debit"],
                                "credit": data["total_credit"],
                                "balance": data["total_debit"] - data["total_credit"]}]
    console().print(table(rows, [("account", "account"), ("name", "name"), ("type", "type"),
                                 ("debit", "debit"), ("credit", "credit"),
                                 ("balance", "balance")],
                          f"trial balance in {cur}" + (f" as of {as_of}" if as_of else "")))
    say("balanced" if data["balanced"] else "NOT balanced", "green" if data["balanced"]
        else "bold red")

