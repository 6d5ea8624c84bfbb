"""Bank statements and cash application: upload a statement file, match its lines (with a
score and the reasons), accept, reject or split proposals, un-match a wrong one."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db.bank import BankStore
from o2c.api.deps import AppDep, Bus, Conn, Paging
from o2c.api.routes import router
from o2c.api.schemas.bank import (
    ApplyOut,
    BankAccountIn,
    BankAccountOut,
    BankLineOut,
    CustomerGroupIn,
    ImportOut,
    MatchIn,
    MatchOut,
    PayerAccountOut,
    PayerAccountsIn,
    PayerAccountsOut,
    PayerHistoryIn,
    RejectIn,
    SplitIn,
    UnmatchIn,
    UploadIn,
)
from o2c.api.schemas.common import Id, IdFilter, Page
from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput, NotFound, RuleViolation

bank = router("bank")
APPLY_CHUNK = 5000
MAX_FILE = 200 * 2**20


def _line(conn: Connection, line_id: int) -> BankLineOut:
    row = BankStore(conn).line(line_id)
    if row is None:
        raise NotFound("bank line", line_id)
    return BankLineOut.model_validate(row)


@bank.post("/bank-accounts", status_code=201, response_model=BankAccountOut)
def add_account(body: BankAccountIn, bus: Bus) -> JSONResponse:
    """A company bank account statements can be imported for."""
    def present(conn: Connection, account_id: int) -> BankAccountOut:
        found = [a for a in BankStore(conn).accounts()
                 if a["id"] == account_id]
        return BankAccountOut.model_validate(found[0])

    return bus.run(body.command(), present, payload=body, status_code=201)


@bank.get("/bank-accounts", response_model=list[BankAccountOut])
def list_accounts(conn: Conn) -> list[dict[str, Any]]:
    return BankStore(conn).accounts()


@bank.post("/bank-statements", status_code=201, response_model=ImportOut)
def import_statement(
    bus: Bus,
    file: Annotated[UploadFile, File(description="camt.053/054, MT940, OFX or CSV")],
    account: Annotated[str | None, Form(max_length=40,
                                        description="IBAN the file must be for")] = None,
    format: Annotated[str | None, Form(max_length=10,
                                       description="camt, mt940, ofx or csv")] = None,
    profile: Annotated[str | None, Form(max_length=40,
                                        description="CSV column-mapping profile")] = None,
) -> JSONResponse:
    """Upload a statement file. It is checked whole (schema, balances, account, currency)
    before anything is written; a line already imported is never imported again."""
    content = file.file.read(MAX_FILE + 1)
    if len(content) > MAX_FILE:
        raise InvalidInput(f"file larger than {MAX_FILE // 2**20} MiB", field="file")
    command = c.ImportBankFile(content, file.filename or "upload", account=account,
                               format=format, csv_profile=profile)

    def present(_: Connection, result: Any) -> ImportOut:
        return ImportOut.model_validate(result, from_attributes=True)

    # What the Idempotency-Key guards: the same key with another file or form is a 409.
    upload = UploadIn(sha256=hashlib.sha256(content).hexdigest(), filename=command.filename,
                      account=account, format=format, profile=profile)
    return bus.run(command, present, payload=upload, status_code=201)


@bank.get("/bank-lines", response_model=Page[BankLineOut])
def list_lines(conn: Conn, page: Paging,
               status: Annotated[str | None, Query(max_length=20)] = None,
               file_id: IdFilter = None) -> dict[str, Any]:
    rows, total = BankStore(conn).list_lines(
        status=status, file_id=file_id, limit=page.limit, offset=page.offset)
    return {"items": rows, "total": total, "limit": page.limit, "offset": page.offset}


@bank.get("/bank-lines/{line_id}", response_model=BankLineOut)
def get_line(line_id: Id, conn: Conn) -> BankLineOut:
    return _line(conn, line_id)


@bank.post("/bank-matching", response_model=MatchOut)
def match(body: MatchIn, app: AppDep) -> MatchOut:
    """Propose a match for every open line booked by `as_of`; with `auto`, apply those
    scored at or above the threshold (one transaction per chunk of lines)."""
    result = app.bus.handle(c.MatchBankLines(
        body.as_of, auto_threshold=body.auto_threshold, review_threshold=body.review_threshold,
        charges_tolerance=body.charges_tolerance,
        discount_tolerance_percent=body.discount_tolerance_percent), actor="api")
    applied, errors = 0, {}
    if body.auto:
        for start in range(0, len(result.auto), APPLY_CHUNK):
            done = app.bus.handle(c.ApplyBankLines(tuple(result.auto[start:start + APPLY_CHUNK])),
                                  actor="api")
            applied += len(done.applied)
            errors.update({str(k): v for k, v in done.errors.items()})
    return MatchOut(lines=result.lines, automatic=len(result.auto), review=result.review,
                    unmatched=result.unmatched, by_kind=result.by_kind, applied=applied,
                    errors=errors)


@bank.post("/bank-lines/{line_id}/accept", response_model=BankLineOut)
def accept(line_id: Id, bus: Bus) -> JSONResponse:
    """Apply the proposal: payment, allocations and journal entries, as by hand."""
    def present(conn: Connection, result: Any) -> BankLineOut:
        if line_id in result.errors:
            raise RuleViolation(result.errors[line_id], field="line_id")
        return _line(conn, line_id)

    return bus.run(c.ApplyBankLines((line_id,)), present)


@bank.post("/bank-lines/{line_id}/reject", response_model=BankLineOut)
def reject(line_id: Id, body: RejectIn, bus: Bus) -> JSONResponse:
    return bus.run(c.RejectBankProposal(line_id, body.reason), _line, payload=body)


@bank.post("/bank-lines/{line_id}/split", response_model=BankLineOut)
def split(line_id: Id, body: SplitIn, bus: Bus) -> JSONResponse:
    """Say by hand which invoices the line pays; the rest stays unapplied customer credit."""
    return bus.run(body.command(line_id), lambda conn, _: _line(conn, line_id), payload=body)


@bank.post("/bank-lines/{line_id}/unmatch", response_model=BankLineOut)
def unmatch(line_id: Id, body: UnmatchIn, bus: Bus) -> JSONResponse:
    """Undo a wrongly applied line: allocations, write-off and payment are reversed."""
    return bus.run(c.UnmatchBankLine(line_id, body.reason, body.on), _line, payload=body)


@bank.get("/bank-payer-accounts", response_model=list[PayerAccountOut])
def list_payer_accounts(conn: Conn, company_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
                        customer_id: IdFilter = None) -> list[dict[str, Any]]:
    """Customers' bank accounts: the IBANs known to pay for them, and how they are known."""
    return BankStore(conn).payer_accounts(company_id, customer_id)


@bank.post("/bank-payer-accounts", response_model=PayerAccountsOut)
def register_payer_accounts(body: PayerAccountsIn, bus: Bus) -> JSONResponse:
    """Register payer IBANs in the customers' master data (e.g. from an export of the old
    system); a payment from a known IBAN with a unique exact amount applies automatically."""
    def present(conn: Connection, added: int) -> PayerAccountsOut:
        rows = BankStore(conn).payer_accounts(body.company_id)
        return PayerAccountsOut(registered=added, accounts=[
            PayerAccountOut.model_validate(r) for r in rows])

    return bus.run(body.command(), present, payload=body)


@bank.post("/bank-payer-accounts/import-history", response_model=PayerAccountsOut)
def import_payer_history(body: PayerHistoryIn, bus: Bus) -> JSONResponse:
    """Learn payer IBANs from received payments: an IBAN that paid for one customer only."""
    def present(conn: Connection, added: int) -> PayerAccountsOut:
        rows = BankStore(conn).payer_accounts(body.company_id)
        return PayerAccountsOut(registered=added, accounts=[
            PayerAccountOut.model_validate(r) for r in rows])

    return bus.run(c.ImportPayerAccountsFromHistory(body.company_id), present, payload=body)


@bank.post("/customer-groups", response_model=CustomerGroupIn)
def set_customer_group(body: CustomerGroupIn, bus: Bus) -> JSONResponse:
    """Put a customer in its parent's group (the parent pays for it), or take it out."""
    return bus.run(c.SetCustomerParent(body.customer_id, body.parent_id),
                   lambda _conn, _: body, payload=body)


__all__ = ["ApplyOut", "bank"]
