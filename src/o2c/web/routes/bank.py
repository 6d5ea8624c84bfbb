"""Bank statements and cash application in the back-office: the imported statements, an
upload form (camt.053/054, MT940, OFX, CSV as the API and CLI take them), matching, and the
lines with their proposals, score and reasons to accept, reject, split or un-match. The same
commands as the API (o2c.api.routes.bank), by the same permission table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from o2c.adapters.bank.csv import profiles
from o2c.adapters.db import cash_pages, queries
from o2c.adapters.db.bank import BankStore
from o2c.adapters.db.queries import Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.errors import InvalidInput, NotFound
from o2c.web.access import can, require
from o2c.web.render import FormError, check_csrf, execute, formatter, page, read, redirect, today
from o2c.web.routes import (
    FormData,
    IdParam,
    PageId,
    decimal_field,
    form_id,
    paging,
    web_router,
)

bank_pages = web_router()

MAX_FILE = 200 * 2**20  # as the API
APPLY_CHUNK = 5000  # lines applied per transaction after matching, as the API
REVIEW_PAGE = 50
FORMATS = ("camt", "mt940", "ofx", "csv")
LINE_ACTIONS = {"accept": "accept", "reject": "reject", "split": "split", "unmatch": "unmatch"}
STATUSES = cash_pages.LINE_STATUSES
LINE_DONE = {"accept": "Line {n} applied.", "reject": "Proposal of line {n} rejected.",
             "split": "Line {n} split and applied.", "unmatch": "Line {n} un-matched."}


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]
    filename: str
    content: bytes


async def upload_of(request: Request) -> Upload:
    """A posted statement file and the form's text fields (checked as every form's are)."""
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    content, filename = b"", ""
    if isinstance(upload, UploadFile):
        content = await upload.read(MAX_FILE + 1)
        filename = upload.filename or "upload"
    fields = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
    fmt = formatter(request)
    if len(content) > MAX_FILE:
        raise InvalidInput(fmt.gettext("The file is larger than {n} MiB.", n=MAX_FILE // 2**20),
                           field="file")
    return Upload(fields, filename, content)


UploadData = Annotated[Upload, Depends(upload_of)]


def _key(text: str) -> tuple[date, int] | None:
    """The keyset position `2026-03-20.1234` (booking date, line id) of a review page."""
    day, _, line_id = text.partition(".")
    number = form_id(line_id)
    try:
        return (date.fromisoformat(day), number) if number is not None else None
    except ValueError:
        return None


# -- statements --------------------------------------------------------------------------------


@bank_pages.get("/bank", name="web_bank", response_class=HTMLResponse)
def bank(request: Request) -> Response:
    paged = paging(request, 20)
    with read(request) as conn:
        files, total = cash_pages.statement_files(conn, paged.limit, paged.offset)
        counts = cash_pages.line_counts(conn, queries.default_company_id(conn))
        accounts = BankStore(conn).accounts()
    return page(request, "bank.html", files=files, counts=counts, formats=FORMATS,
                accounts=accounts,
                profiles=sorted(profiles()),
                page=queries.Page(files, total, paged.limit, paged.offset),
                can_upload=can(request, "import_statement"), can_match=can(request, "match"))


@bank_pages.post("/bank/upload", name="web_bank_upload", response_class=HTMLResponse)
def upload(request: Request, data: UploadData) -> Response:
    fmt = formatter(request)
    check_csrf(request, data.fields)
    require(request, "import_statement")
    if not data.content:
        return redirect(request, "/bank", fmt.gettext("Choose a statement file to upload."),
                        "error")
    chosen = data.fields.get("format", "")
    profile = data.fields.get("profile", "")
    try:
        account = data.fields.get("account", "").strip()
        result = execute(request, c.ImportBankFile(
            data.content, data.filename, account=account or None,
            format=chosen if chosen in FORMATS else None,
            csv_profile=profile if profile in profiles() else None))
    except FormError as error:
        return redirect(request, "/bank", fmt.gettext(
            "The statement was not imported, nothing was written: {why}", why=error.first),
                        "error")
    if result.already_imported:
        return redirect(request, "/bank", fmt.gettext(
            "{file} was imported before; nothing new.", file=data.filename))
    return redirect(request, f"/bank/lines?file={result.file_id}&status=unmatched",
                    fmt.gettext("{file}: lines imported: {n}; already known: {skipped}.",
                                file=data.filename, n=result.imported,
                                skipped=result.skipped_duplicates))


@bank_pages.post("/bank/match", name="web_bank_match", response_class=HTMLResponse)
def match(request: Request, form: FormData) -> Response:
    """Propose a match for every open line booked by today; with `auto`, apply those scored
    at or above the automatic threshold (one transaction per chunk, as the API)."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "match")
    try:
        result = execute(request, c.MatchBankLines(today(request)))
        applied = 0
        if form.get("auto"):
            require(request, "accept")
            for start in range(0, len(result.auto), APPLY_CHUNK):
                done = execute(request, c.ApplyBankLines(
                    tuple(result.auto[start:start + APPLY_CHUNK])))
                applied += len(done.applied)
    except FormError as error:
        return redirect(request, "/bank", error.first, "error")
    return redirect(request, "/bank/lines?status=proposed", fmt.gettext(
        "Lines matched: {n}; waiting for review: {review}; no match: {unmatched}; "
        "applied: {applied}.", n=result.lines, review=result.review + len(result.auto) - applied,
        unmatched=result.unmatched, applied=applied))


# -- lines -------------------------------------------------------------------------------------


@bank_pages.get("/bank/lines", name="web_bank_lines", response_class=HTMLResponse)
def lines(request: Request, file: IdParam = None) -> Response:
    params = request.query_params
    status = params.get("status", "proposed")
    status = status if status in STATUSES else ""
    after = _key(params.get("after", ""))
    with read(request) as conn:
        statement = cash_pages.statement_file(conn, file) if file else None
        # one company's lines (the file's, or the default company's)
        company_id = statement["company_id"] if statement else queries.default_company_id(conn)
        rows, next_key = cash_pages.review_lines(conn, company_id=company_id,
                                                 status=status or None, file_id=file,
                                                 after=after, limit=REVIEW_PAGE)
        counts = cash_pages.line_counts(conn, company_id, file)
    return page(request, "bank_lines.html", lines=rows, counts=counts, status=status,
                statuses=STATUSES, file=statement, after=after,
                next_after=f"{next_key[0].isoformat()}.{next_key[1]}" if next_key else None,
                can_act=can(request, "accept"))


@bank_pages.get("/bank/lines/{line_id}", name="web_bank_line", response_class=HTMLResponse)
def line(request: Request, line_id: PageId) -> Response:
    return line_page(request, line_id, {"customer": request.query_params.get("customer", "")},
                     {})


def line_page(request: Request, line_id: int, form: dict[str, str], errors: dict[str, str],
              status_code: int = 200) -> Response:
    """A statement line: what the bank says, the proposal with its score and reasons, and
    the forms to split it by hand over a customer's open invoices or to un-match it."""
    fmt = formatter(request)
    code = form.get("customer", "").strip()
    with read(request) as conn:
        found = cash_pages.review_line(conn, line_id)
        if found is None:
            raise NotFound("bank line", line_id)
        customer = None
        if code:
            customer = next((x for x in queries.list_customers(
                conn, Filters(q=code), PageRequest(limit=20)).items if x["code"] == code), None)
            if customer is None:
                errors.setdefault("customer", fmt.gettext("no customer with code {code}",
                                                          code=code))
        elif found["customer_id"] is not None:
            customer = queries.customer(conn, found["customer_id"], today(request))
        open_invoices = queries.list_invoices(
            conn, Filters(customer_id=customer["id"], extra={"open": True, "kind": "invoice"}),
            PageRequest(limit=200), today(request)).items if customer else []
    proposed = {a["invoice_id"]: a["amount"] for a in found["allocations"]}
    return page(request, "bank_line.html", status_code=status_code, line=found,
                customer=customer, open_invoices=open_invoices, proposed=proposed, form=form,
                payment_number=document_number("PAY", found["payment_id"])
                if found["payment_id"] else "",
                errors=errors, can_act=can(request, "accept"))


@bank_pages.post("/bank/lines/{line_id}/{action}", name="web_bank_line_action",
                 response_class=HTMLResponse)
def line_action(request: Request, line_id: PageId, action: str, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    if action not in LINE_ACTIONS:
        raise NotFound("action", action)
    require(request, LINE_ACTIONS[action])
    back = form.get("back", "")
    back = back if back.startswith("/bank") and not back.startswith("//") else \
        f"/bank/lines/{line_id}"
    reason = form.get("reason", "").strip()
    command: c.Command
    if action == "accept":
        command = c.ApplyBankLines((line_id,))
    elif action == "reject":
        command = c.RejectBankProposal(line_id, reason)
    elif action == "unmatch":
        if not reason:
            return redirect(request, back, fmt.gettext("Give a reason."), "error")
        command = c.UnmatchBankLine(line_id, reason)
    else:
        split = split_command(request, line_id, form)
        if isinstance(split, Response):
            return split
        command = split
    try:
        result: Any = execute(request, command)
    except FormError as error:
        if action == "split":
            return line_page(request, line_id, form, {"_": error.first}, status_code=422)
        return redirect(request, back, error.first, "error")
    if action == "accept" and line_id in result.errors:
        return redirect(request, back, result.errors[line_id], "error")
    return redirect(request, back, fmt.gettext(LINE_DONE[action], n=line_id))


def split_command(request: Request, line_id: int, form: dict[str, str]
                  ) -> c.SplitBankLine | Response:
    """The invoices a person says the line pays (the rest stays customer credit)."""
    fmt = formatter(request)
    errors: dict[str, str] = {}
    code = form.get("customer", "").strip()
    with read(request) as conn:
        customer = next((x for x in queries.list_customers(
            conn, Filters(q=code or None), PageRequest(limit=20)).items if x["code"] == code),
            None)
    if customer is None:
        errors["customer"] = fmt.gettext("no customer with code {code}", code=code)
    allocations = []
    for key in sorted(form):
        target = form_id(key[9:]) if key.startswith("allocate_") else None
        if target is not None:
            value = decimal_field(form, key, errors, fmt.gettext("not a number"), fmt.language)
            if value:
                allocations.append(c.AllocationInput(invoice_id=target, amount=value))
    if errors or customer is None:
        return line_page(request, line_id, form, errors, status_code=422)
    return c.SplitBankLine(line_id, customer["id"], tuple(allocations))

