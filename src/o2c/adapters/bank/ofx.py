"""OFX (1.x SGML and 2.x XML) bank statements through `ofxtools`, into the neutral model.

OFX gives a ledger balance at the end but no opening balance, so the balance check applies
only when the file carries both (it never does in practice); dedup relies on FITID."""

from __future__ import annotations

import io
import warnings
from decimal import Decimal
from typing import Any

from o2c.domain.bank import BankFileError, Statement, StatementFile, StatementLine, compact_iban


def parse(content: bytes, filename: str) -> StatementFile:
    from ofxtools.Parser import OFXTree

    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise BankFileError(filename, "line 1", "a DOCTYPE or entity declaration is not "
                                                "allowed in a bank file")
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. IBANs longer than OFX's 22-character ACCTID
            tree.parse(io.BytesIO(content))
            ofx = tree.convert()
    except Exception as error:  # ofxtools raises many kinds (ParseError, ValueError, ...)
        raise BankFileError(filename, "", f"not a valid OFX file: {error}") from None
    statements: list[Statement] = []
    for s_index, raw in enumerate(ofx.statements, start=1):
        where = f"STMTRS[{s_index}]"
        account = getattr(raw, "account", None)
        acctid = compact_iban(str(getattr(account, "acctid", "") or ""))
        currency = str(raw.curdef)
        tranlist = raw.banktranlist
        statement = Statement(
            f"{filename}:{s_index}", acctid, currency, None,
            _balance(getattr(raw, "ledgerbal", None)), _day(getattr(tranlist, "dtstart", None)),
            _day(getattr(tranlist, "dtend", None)), location=where)
        for t_index, tx in enumerate(tranlist or [], start=1):
            at = f"{where}/STMTTRN[{t_index}]"
            posted = _day(tx.dtposted)
            if posted is None:
                raise BankFileError(filename, at, "transaction without DTPOSTED")
            amount = Decimal(tx.trnamt)
            if amount == 0:
                continue
            memo = str(tx.memo or "")
            payee = str(tx.name or "")
            statement.lines.append(StatementLine(
                location=at, booking_date=posted, value_date=_day(getattr(tx, "dtavail", None)),
                amount=amount, currency=str(getattr(tx, "currency", None) or currency),
                bank_reference=str(tx.fitid or ""),
                entry_reference=str(getattr(tx, "refnum", None) or ""),
                counterparty_name=payee, remittance=memo[:1000],
                transaction_code=str(tx.trntype or "")))
        statements.append(statement)
    if not statements:
        raise BankFileError(filename, "", "no bank statement (STMTRS) in the OFX file")
    return StatementFile(filename, "ofx", statements)


def _day(value: Any) -> Any:
    return value.date() if value is not None else None


def _balance(ledger: Any) -> Decimal | None:
    return Decimal(ledger.balamt) if ledger is not None else None
