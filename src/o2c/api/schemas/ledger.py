"""The event log and the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from o2c.api.schemas.common import Dec, Model


class EventOut(Model):
    id: int
    object_type: str
    object_id: int
    event: str
    occurred_at: dt.datetime
    actor: str
    data: dict[str, Any]


class TrialBalanceAccountOut(Model):
    account: str
    name: str
    type: str
    debit: Dec
    credit: Dec
    balance: Dec = Field(description="debit - credit")


class TrialBalanceOut(Model):
    company_id: int
    currency: str
    as_of: dt.date | None
    accounts: list[TrialBalanceAccountOut]
    total_debit: Dec
    total_credit: Dec
    balanced: bool


class LedgerCheckOut(Model):
    name: str
    ok: bool
    detail: str


class LedgerVerificationOut(Model):
    company_id: int
    ok: bool = Field(description="every check passed")
    checks: list[LedgerCheckOut]


class JournalLineOut(Model):
    account: str
    debit: Dec
    credit: Dec
    customer_id: int | None
    currency: str
    amount_currency: Dec


class JournalEntryOut(Model):
    id: int
    company_id: int
    entry_date: dt.date
    source_type: str
    source_id: int | None
    memo: str
    reverses_entry_id: int | None
    lines: list[JournalLineOut]
