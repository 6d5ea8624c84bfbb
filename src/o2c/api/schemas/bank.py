"""Bank accounts, imported statement lines, proposals and cash application."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from o2c.api.schemas.common import Amount, Day, Dec, Input, Model, Ref
from o2c.domain import commands as c


class BankAccountIn(Input):
    company_id: Ref
    iban: str = Field(min_length=5, max_length=40, description="IBAN or the bank's account id")
    currency: str | None = Field(None, min_length=3, max_length=3)
    name: str = Field("", max_length=200)

    def command(self) -> c.AddBankAccount:
        return c.AddBankAccount(self.company_id, self.iban, self.currency, self.name)


class BankAccountOut(Model):
    id: int
    company_id: int
    iban: str
    currency: str
    name: str


class UploadIn(Input):
    """The identity of an uploaded statement, for Idempotency-Key checks."""

    sha256: str
    filename: str
    account: str | None
    format: str | None
    profile: str | None


class ImportOut(Model):
    file_id: int | None = Field(description="null when the file was imported before")
    format: str
    schema_validated: bool = Field(description="checked against the ISO 20022 XSD")
    statements: int
    lines_in_file: int
    imported: int
    skipped_duplicates: int
    already_imported: bool


class BankLineOut(Model):
    id: int
    file_id: int
    statement_id: int
    location: str = Field(description="line number or XPath of the entry in its file")
    booking_date: dt.date
    value_date: dt.date | None
    amount: Dec = Field(description="signed: positive is money in")
    currency: str
    bank_reference: str
    entry_reference: str
    end_to_end_id: str
    counterparty_name: str
    counterparty_iban: str
    remittance: str
    structured_reference: str
    ultimate_debtor: str = Field("", description="the party the payer paid for (UltmtDbtr)")
    status: str = Field(description="unmatched, proposed, applied or rejected")
    kind: str
    score: Dec | None
    reasons: list[str]
    proposal: dict[str, Any]
    customer_id: int | None
    payment_id: int | None
    entry_id: int | None
    applied_on: dt.date | None


class MatchIn(Input):
    as_of: Day
    auto: bool = Field(False, description="apply proposals scored at or above the threshold")
    auto_threshold: Amount | None = Field(None, description="0.90 by default")
    review_threshold: Amount | None = Field(None, description="0.60 by default")
    charges_tolerance: Amount | None = Field(
        None, description="short payment written off as bank charges (25.00 by default)")
    discount_tolerance_percent: Amount | None = Field(
        None, description="short payment written off as early-payment discount (3%)")


class MatchOut(Model):
    lines: int
    automatic: int
    review: int
    unmatched: int
    by_kind: dict[str, int]
    applied: int
    errors: dict[str, str]


class ApplyOut(Model):
    applied: list[int]
    payments: int
    allocations: int
    errors: dict[str, str]


class SplitAllocationIn(Input):
    invoice_id: Ref
    amount: Amount


class SplitIn(Input):
    customer_id: Ref
    allocations: list[SplitAllocationIn] = Field(default_factory=list, max_length=500)

    def command(self, line_id: int) -> c.SplitBankLine:
        return c.SplitBankLine(line_id, self.customer_id, tuple(
            c.AllocationInput(a.invoice_id, a.amount) for a in self.allocations))


class RejectIn(Input):
    reason: str = Field("", max_length=500)


class UnmatchIn(Input):
    reason: str = Field(min_length=1, max_length=500)
    on: Day | None = None


class PayerAccountIn(Input):
    iban: str = Field(min_length=5, max_length=40, description="the payer's IBAN")
    customer_id: Ref


class PayerAccountsIn(Input):
    company_id: Ref
    accounts: list[PayerAccountIn] = Field(min_length=1, max_length=5000)
    replace: bool = Field(False, description="move an IBAN known for another customer")

    def command(self) -> c.RegisterPayerAccounts:
        return c.RegisterPayerAccounts(
            self.company_id, tuple((a.iban, a.customer_id) for a in self.accounts),
            source="master_data", replace=self.replace)


class PayerHistoryIn(Input):
    company_id: Ref


class PayerAccountOut(Model):
    iban: str
    customer_id: int
    code: str = Field(description="the customer's code")
    source: str = Field(description="master_data, history or learned")


class PayerAccountsOut(Model):
    registered: int = Field(description="IBANs added (or moved) by this request")
    accounts: list[PayerAccountOut]


class CustomerGroupIn(Input):
    customer_id: Ref
    parent_id: Ref | None = Field(description="the parent that pays for it; null: no group")
