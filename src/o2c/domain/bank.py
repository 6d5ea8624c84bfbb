"""Bank statements in one neutral shape, whatever file they came from (camt.053/054, MT940,
OFX, CSV), and the checks every statement must pass before anything is written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO


class BankFileError(InvalidInput):
    """A bank file is rejected whole: says which file, where (line or XPath) and why."""

    def __init__(self, filename: str, location: str, reason: str) -> None:
        where = f"{filename}, {location}" if location else filename
        super().__init__(f"{where}: {reason}", field="file", file=filename, location=location,
                         reason=reason)
        self.filename = filename
        self.location = location
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked entry. `amount` is signed: positive = money in (credit to our account)."""

    location: str  # line number or XPath of the entry in the file
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    bank_reference: str = ""  # AcctSvcrRef / MT940 bank reference / OFX FITID
    entry_reference: str = ""  # NtryRef / MT940 customer reference
    end_to_end_id: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""  # unstructured remittance information, joined
    structured_reference: str = ""  # ISO 11649 RF creditor reference (or other CdtrRef)
    transaction_code: str = ""  # bank transaction code (domain/family/sub-family, GVC, TRNTYPE)
    ultimate_debtor: str = ""  # the party the payer pays on behalf of (camt UltmtDbtr)
    referred_documents: str = ""  # invoice numbers in structured remittance (RfrdDocInf/Nb)
    # What the payer sent in another currency (camt AmtDtls/InstdAmt, or from CcyXchg)
    instructed_amount: Decimal | None = None
    instructed_currency: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass(slots=True)
class Statement:
    statement_id: str
    account_iban: str
    currency: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    from_date: date | None
    to_date: date | None
    location: str = ""
    lines: list[StatementLine] = field(default_factory=list)
    closing_date: date | None = None
    forward_balance: Decimal | None = None  # forward available (camt FWAV), when given

    def check_balances(self, filename: str) -> None:
        """Opening balance + sum of entries = closing balance (when the file gives both)."""
        if self.opening_balance is None or self.closing_balance is None:
            return
        moved = sum((line.amount for line in self.lines), ZERO)
        if self.opening_balance + moved == self.closing_balance:
            return
        # Some banks (Swiss PostFinance, for one) leave entries value-dated after the closing
        # date out of the booked closing balance and show them in the forward balance.
        if self.closing_date is not None:
            settled = sum((line.amount for line in self.lines
                           if line.value_date is None or line.value_date <= self.closing_date),
                          ZERO)
            if (self.opening_balance + settled == self.closing_balance
                    and settled != moved and self.forward_balance is not None
                    and self.opening_balance + moved == self.forward_balance):
                return
        raise BankFileError(
            filename, self.location,
            f"statement {self.statement_id}: opening balance {self.opening_balance} + "
            f"entries {moved} = {self.opening_balance + moved}, but closing balance is "
            f"{self.closing_balance}")


@dataclass(slots=True)
class StatementFile:
    filename: str
    format: str  # camt.053.001.08, camt.054.001.02, mt940, ofx, csv:<profile>
    statements: list[Statement]
    schema_validated: bool = False

    @property
    def line_count(self) -> int:
        return sum(len(s.lines) for s in self.statements)


def dedup_key(account_iban: str, line: StatementLine) -> str:
    """The same entry seen again (same file re-imported, or an overlapping statement) gets the
    same key: the bank's own references plus account, date and amount."""
    refs = "|".join((line.bank_reference, line.entry_reference, line.end_to_end_id))
    if not refs.strip("|"):
        # No reference from the bank: fall back on what the entry says.
        refs = "|".join((line.counterparty_iban, line.remittance, line.structured_reference))
    raw = "\x1f".join((account_iban, line.booking_date.isoformat(), str(line.amount),
                       line.currency, refs))
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def compact_iban(iban: str) -> str:
    return "".join(iban.split()).upper()
