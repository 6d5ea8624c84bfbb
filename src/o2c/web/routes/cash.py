"""Payments and approvals in the back-office: a payment's page (allocations, journal entries,
timeline) with allocate, auto-allocate, un-allocate and reverse; a customer's credit (unapplied
payments and credit notes) applied to open invoices; a write-off request; and the approvals
inbox (dual control), where another person approves or rejects. The same commands as the API,
by the same permission table."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import cash_pages as db
from o2c.adapters.db import queries, reports
from o2c.adapters.db.queries import Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.access import APPROVERS, ApprovalKind, DecideApproval, RequestApproval
from o2c.domain.aggregate import document_number
from o2c.domain.errors import NotFound
from o2c.web.access import can, require, viewer
from o2c.web.render import FormError, check_csrf, execute, formatter, page, read, redirect, today
from o2c.web.routes import FormData, PageId, decimal_field, form_id, paging, web_router

cash_pages = web_router()

APPROVAL_STATES = ("pending", "approved", "rejected")
DECISION_DONE = {"approve": "Request {n} approved and carried out.",
                 "reject": "Request {n} rejected."}


def _back(form: dict[str, str], default: str) -> str:
    back = form.get("back", "")
    return back if back.startswith("/") and not back.startswith("//") else default


def _allocations_of(form: dict[str, str], errors: dict[str, str], message: str,
                    language: str) -> list[c.AllocationInput]:
    found = []
    for key in sorted(form):
        target = form_id(key[9:]) if key.startswith("allocate_") else None
        if target is not None:
            value = decimal_field(form, key, errors, message, language)
            if value:
                found.append(c.AllocationInput(invoice_id=target, amount=value))
    return found


# -- a payment ---------------------------------------------------------------------------------


@cash_pages.get("/payments/{payment_id}", name="web_payment", response_class=HTMLResponse)
def payment(request: Request, payment_id: PageId) -> Response:
    return payment_page(request, payment_id, {}, {})


def payment_page(request: Request, payment_id: int, form: dict[str, str],
                 errors: dict[str, str], status_code: int = 200) -> Response:
    with read(request) as conn:
        found = queries.payment(conn, payment_id)
        entries = db.payment_entries(conn, payment_id)
        open_invoices = queries.list_invoices(
            conn, Filters(customer_id=found["customer_id"],
                          extra={"open": True, "kind": "invoice"}),
            PageRequest(limit=200), today(request)).items if found["unapplied"] else []
        events = reports.timeline(conn, [("payment", payment_id)] + [
            ("allocation", a["id"]) for a in found["allocations"]])
    active = [a for a in found["allocations"] if a["reversed_on"] is None]
    return page(request, "payment.html", status_code=status_code, p=found, entries=entries,
                open_invoices=open_invoices, events=events, form=form, errors=errors,
                active=active, can_allocate=can(request, "allocate_payment"),
                can_unallocate=can(request, "unallocate"),
                can_reverse=can(request, "reverse_payment"))


@cash_pages.post("/payments/{payment_id}/allocate", name="web_allocate_payment",
                 response_class=HTMLResponse)
def allocate(request: Request, payment_id: PageId, form: FormData) -> Response:
    """Apply the payment's unapplied money to the invoices given, or (auto) to the oldest
    open ones first."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "allocate_payment")
    errors: dict[str, str] = {}
    auto = bool(form.get("auto"))
    allocations = [] if auto else _allocations_of(form, errors, fmt.gettext("not a number"),
                                                  fmt.language)
    if not auto and not allocations and not errors:
        errors["_"] = fmt.gettext("Say how much goes to which invoice.")
    if errors:
        return payment_page(request, payment_id, form, errors, status_code=422)
    try:
        made = execute(request, c.AllocatePayment(payment_id, tuple(allocations), auto=auto))
    except FormError as error:
        mapped = {}
        for field, message in error.errors.items():
            if field.startswith("allocations[") and not auto:
                index = int(field[len("allocations["):].split("]")[0])
                mapped[f"allocate_{allocations[index].invoice_id}"] = message
            else:
                mapped["_"] = message
        return payment_page(request, payment_id, form, mapped, status_code=422)
    return redirect(request, _back(form, f"/payments/{payment_id}"), fmt.gettext(
        "Allocations made: {n}.", n=len(made)))


@cash_pages.post("/payments/{payment_id}/reverse", name="web_reverse_payment",
                 response_class=HTMLResponse)
def reverse(request: Request, payment_id: PageId, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "reverse_payment")
    reason = form.get("reason", "").strip()
    if not reason:
        return redirect(request, f"/payments/{payment_id}", fmt.gettext("Give a reason."),
                        "error")
    try:
        execute(request, c.ReversePayment(payment_id, reason))
    except FormError as error:
        return redirect(request, f"/payments/{payment_id}", error.first, "error")
    return redirect(request, f"/payments/{payment_id}", fmt.gettext(
        "Payment {number} reversed.", number=document_number("PAY", payment_id)))


@cash_pages.post("/allocations/{allocation_id}/reverse", name="web_unallocate",
                 response_class=HTMLResponse)
def unallocate(request: Request, allocation_id: PageId, form: FormData) -> Response:
    """Undo an allocation: the invoice is open again and the money is credit again."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "unallocate")
    back = _back(form, "/payments")
    reason = form.get("reason", "").strip()
    if not reason:
        return redirect(request, back, fmt.gettext("Give a reason."), "error")
    try:
        execute(request, c.Unallocate(allocation_id, reason))
    except FormError as error:
        return redirect(request, back, error.first, "error")
    return redirect(request, back, fmt.gettext("Allocation undone; the money is credit again."))


# -- a customer's credit: unapplied payments and credit notes ------------------------------


@cash_pages.get("/customers/{customer_id}/credit", name="web_customer_credit",
                response_class=HTMLResponse)
def customer_credit(request: Request, customer_id: PageId) -> Response:
    return credit_page(request, customer_id, {}, {})


def credit_page(request: Request, customer_id: int, form: dict[str, str],
                errors: dict[str, str], status_code: int = 200) -> Response:
    as_of = today(request)
    with read(request) as conn:
        customer = queries.customer(conn, customer_id, as_of)
        unapplied = queries.list_payments(conn, Filters(customer_id=customer_id,
                                                        extra={"unapplied": True}),
                                          PageRequest(limit=200)).items
        notes = db.open_credit_notes(conn, customer_id)
        open_invoices = queries.list_invoices(
            conn, Filters(customer_id=customer_id, extra={"open": True, "kind": "invoice"}),
            PageRequest(limit=200), as_of).items
    sources = ([{"key": f"payment:{p['id']}", "number": p["number"], "date": p["received_on"],
                 "available": p["unapplied"], "currency": p["currency"]} for p in unapplied]
               + [{"key": f"credit_note:{n['invoice_id']}", "number": n["number"],
                   "date": n["issue_date"], "available": n["residual"],
                   "currency": n["currency"]} for n in notes])
    chosen = request.query_params.get("invoice", "")
    return page(request, "customer_credit.html", status_code=status_code, c=customer,
                sources=sources, open_invoices=open_invoices, form=form, errors=errors,
                chosen_invoice=form.get("invoice", chosen),
                can_apply=can(request, "allocate_payment") or can(request, "apply_credit_note"))


@cash_pages.post("/customers/{customer_id}/credit", name="web_apply_credit",
                 response_class=HTMLResponse)
def apply_credit(request: Request, customer_id: PageId, form: FormData) -> Response:
    """Apply an unapplied payment or a credit note of the customer to one open invoice."""
    fmt = formatter(request)
    check_csrf(request, form)
    errors: dict[str, str] = {}
    kind, _, source_text = form.get("source", "").partition(":")
    source_id = form_id(source_text)
    invoice_id = form_id(form.get("invoice", ""))
    if kind not in ("payment", "credit_note") or source_id is None:
        errors["source"] = fmt.gettext("Choose the credit to apply.")
    if invoice_id is None:
        errors["invoice"] = fmt.gettext("Choose the invoice.")
    value = decimal_field(form, "amount", errors, fmt.gettext("not a number"), fmt.language)
    if kind == "payment" and value is None and "amount" not in errors:
        errors["amount"] = fmt.gettext("how much?")
    if errors:
        return credit_page(request, customer_id, form, errors, status_code=422)
    assert source_id is not None and invoice_id is not None
    command: c.Command
    if kind == "payment":
        require(request, "allocate_payment")
        assert value is not None
        command = c.AllocatePayment(source_id, (c.AllocationInput(invoice_id, value),))
    else:
        require(request, "apply_credit_note")
        command = c.ApplyCreditNote(source_id, invoice_id, value)
    try:
        execute(request, command)
    except FormError as error:
        field = next(iter(error.errors))
        mapped = {"amount" if "amount" in field else "_": error.first}
        return credit_page(request, customer_id, form, mapped, status_code=422)
    return redirect(request, f"/customers/{customer_id}/credit",
                    fmt.gettext("Credit applied."))


@cash_pages.post("/invoices/{invoice_id}/write-off", name="web_request_write_off",
                 response_class=HTMLResponse)
def request_write_off(request: Request, invoice_id: PageId, form: FormData) -> Response:
    """Ask for the invoice's open amount to be written off; a controller approves it."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "request_write_off")
    reason = form.get("reason", "").strip()
    if not reason:
        return redirect(request, f"/invoices/{invoice_id}", fmt.gettext("Give a reason."),
                        "error")
    try:
        execute(request, RequestApproval(ApprovalKind.WRITE_OFF.value, invoice_id, reason))
    except FormError as error:
        return redirect(request, f"/invoices/{invoice_id}", error.first, "error")
    return redirect(request, f"/invoices/{invoice_id}", fmt.gettext(
        "Write-off requested; a controller approves it in Approvals."))


@cash_pages.post("/invoices/{invoice_id}/credit-note-approval",
                 name="web_request_credit_note", response_class=HTMLResponse)
def request_credit_note(request: Request, invoice_id: PageId, form: FormData) -> Response:
    """Ask for a credit note dual control holds back (above the threshold): the same form as
    the credit note's, sent to a controller for approval instead."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "request_approval")
    reason = form.get("reason", "").strip()
    errors: dict[str, str] = {}
    lines = []
    for key in sorted(form):
        line_id = form_id(key[5:]) if key.startswith("line_") else None
        if line_id is not None:
            quantity = decimal_field(form, key, errors, fmt.gettext("not a number"),
                                     fmt.language)
            if quantity is not None:
                lines.append({"invoice_line_id": line_id, "quantity": str(quantity)})
    if not reason or errors:
        return redirect(request, f"/invoices/{invoice_id}", fmt.gettext(
            "Give a reason." if not reason else "not a number"), "error")
    try:
        execute(request, RequestApproval(ApprovalKind.CREDIT_NOTE.value, invoice_id, reason,
                                         {"lines": lines} if lines else {}))
    except FormError as error:
        return redirect(request, f"/invoices/{invoice_id}", error.first, "error")
    return redirect(request, f"/invoices/{invoice_id}", fmt.gettext(
        "Credit note requested; a controller approves it in Approvals."))


# -- approvals ---------------------------------------------------------------------------------


@cash_pages.get("/approvals", name="web_approvals", response_class=HTMLResponse)
def approvals(request: Request) -> Response:
    fmt = formatter(request)
    state = request.query_params.get("state", "pending")
    state = state if state in APPROVAL_STATES else "pending"
    paged = paging(request)
    with read(request) as conn:
        rows, total = db.approval_inbox(conn, state, paged.limit, paged.offset)
    principal = viewer(request)
    for row in rows:
        row["mine"] = principal is not None and principal.username == row["requested_by"]
        row["may_decide"] = (state == "pending" and not row["mine"] and principal is not None
                             and principal.role in APPROVERS[ApprovalKind(row["kind"])]
                             and can(request, "approve_request"))
    return page(request, "approvals.html", requests=rows, state=state, states=APPROVAL_STATES,
                page=queries.Page(rows, total, paged.limit, paged.offset),
                approvers={k.value: ", ".join(sorted(fmt.gettext(r.value) for r in v))
                           for k, v in APPROVERS.items()})


@cash_pages.post("/approvals/{request_id}/{decision}", name="web_decide_approval",
                 response_class=HTMLResponse)
def decide(request: Request, request_id: PageId, decision: str, form: FormData) -> Response:
    """Approve (and carry out, in the same transaction) or reject; never by the requester."""
    fmt = formatter(request)
    check_csrf(request, form)
    if decision not in ("approve", "reject"):
        raise NotFound("decision", decision)
    require(request, f"{decision}_request")
    reason = form.get("reason", "").strip()
    try:
        result: Any = execute(request, DecideApproval(request_id, decision == "approve", reason))
    except FormError as error:
        return redirect(request, "/approvals", error.first, "error")
    return redirect(request, "/approvals", fmt.gettext(DECISION_DONE[decision], n=result))



