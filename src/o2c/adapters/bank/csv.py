"""CSV bank exports through named column-mapping profiles, configurable without code.

A profile says how to read one bank's export: delimiter, encoding, decimal and thousands
separators, date format, rows to skip, and which column holds what; the amount is either one
signed column, one column plus a debit/credit indicator column, or separate debit and credit
columns. Built-in profiles are below; more are read from the TOML file named by
O2C_BANK_CSV_PROFILES, e.g.

    [profiles.mybank]
    delimiter = ";"
    decimal = ","
    thousands = "."
    date_format = "%d.%m.%Y"
    encoding = "cp1252"
    columns = { date = "Buchungstag", amount = "Betrag", currency = "Waehrung",
                name = "Auftraggeber", iban = "IBAN", text = ["Verwendungszweck"],
                reference = "Kundenreferenz" }

A value that does not fit the profile (a decimal point where it expects a decimal comma, a
date in another format) rejects the whole file with its line and column."""

from __future__ import annotations

import csv
import io
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from o2c.domain.bank import BankFileError, Statement, StatementFile, StatementLine, compact_iban


@dataclass(frozen=True)
class CsvProfile:
    name: str
    delimiter: str = ","
    decimal: str = "."
    thousands: str = ""
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8-sig"
    skip_rows: int = 0
    currency: str = ""  # fixed currency when the file has no currency column
    credit_values: tuple[str, ...] = ("C", "CR", "CRDT", "H", "+")  # indicator column values
    columns: dict[str, Any] = field(default_factory=dict)
    # keys: date, value_date, amount, debit, credit, indicator, currency, name, iban, text
    # (one column or a list), reference, bank_reference, end_to_end_id, account


BUILT_IN: dict[str, CsvProfile] = {
    "generic": CsvProfile(
        "generic", columns={"date": "date", "value_date": "value_date", "amount": "amount",
                            "currency": "currency", "name": "counterparty_name",
                            "iban": "counterparty_iban", "text": ["remittance"],
                            "reference": "reference", "bank_reference": "bank_reference",
                            "account": "account"}),
    "eu-semicolon": CsvProfile(
        "eu-semicolon", delimiter=";", decimal=",", thousands=".", date_format="%d.%m.%Y",
        columns={"date": "Buchungstag", "value_date": "Valuta", "amount": "Betrag",
                 "currency": "Waehrung", "name": "Name", "iban": "IBAN",
                 "text": ["Verwendungszweck"], "bank_reference": "Referenz",
                 "end_to_end_id": "EREF", "account": "Konto"}),
    "debit-credit": CsvProfile(
        "debit-credit", date_format="%d/%m/%Y",
        columns={"date": "Date", "debit": "Debit", "credit": "Credit",
                 "currency": "Currency", "name": "Description", "text": ["Details"],
                 "bank_reference": "Transaction ID", "account": "Account"}),
}


def profiles() -> dict[str, CsvProfile]:
    found = dict(BUILT_IN)
    path = os.environ.get("O2C_BANK_CSV_PROFILES")
    if path and Path(path).is_file():
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        for name, spec in data.get("profiles", {}).items():
            spec = dict(spec)
            if "credit_values" in spec:
                spec["credit_values"] = tuple(spec["credit_values"])
            found[name] = CsvProfile(name=name, **spec)
    return found


def parse(content: bytes, filename: str, profile_name: str | None) -> StatementFile:
    available = profiles()
    profile = available.get(profile_name or "generic")
    if profile is None:
        raise BankFileError(filename, "", f"unknown CSV profile '{profile_name}'; known: "
                                          f"{', '.join(sorted(available))}")
    try:
        text = content.decode(profile.encoding)
    except UnicodeDecodeError as error:
        raise BankFileError(filename, f"byte {error.start}",
                            f"not {profile.encoding} text (profile {profile.name})") from None
    rows = list(csv.reader(io.StringIO(text), delimiter=profile.delimiter))[profile.skip_rows:]
    if not rows:
        raise BankFileError(filename, "line 1", "empty CSV file")
    header = [h.strip() for h in rows[0]]
    cols = profile.columns
    index: dict[str, int] = {}
    for key, spec in cols.items():
        names = spec if isinstance(spec, list) else [spec]
        for name in names:
            if name in header:
                index.setdefault(key, header.index(name))
                index[f"{key}:{name}"] = header.index(name)
    needed = ["date"] + (["amount"] if "amount" in cols else ["debit", "credit"])
    missing = [cols[k] for k in needed if k in cols and k not in index]
    if missing or ("amount" not in cols and "debit" not in cols):
        raise BankFileError(filename, "line 1", f"profile {profile.name}: column(s) "
                            f"{', '.join(map(str, missing)) or 'amount'} not in the header "
                            f"{header}")
    statements: dict[tuple[str, str], Statement] = {}
    first_line = profile.skip_rows + 2
    for number, row in enumerate(rows[1:], start=first_line):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise BankFileError(filename, f"line {number}",
                                f"{len(row)} fields, the header has {len(header)}")

        def get(key: str, row: list[str] = row) -> str:
            at = index.get(key)
            return row[at].strip() if at is not None else ""

        booked = _date(get("date"), profile, filename, number, str(cols.get("date")))
        value_text = get("value_date")
        value = (_date(value_text, profile, filename, number, str(cols.get("value_date")))
                 if value_text else None)
        if "amount" in cols:
            amount = _decimal(get("amount"), profile, filename, number, str(cols["amount"]))
            if "indicator" in cols:
                amount = abs(amount)
                if get("indicator").upper() not in profile.credit_values:
                    amount = -amount
        else:
            debit_text, credit_text = get("debit"), get("credit")
            debit = _decimal(debit_text, profile, filename, number, str(cols["debit"])) \
                if debit_text else Decimal(0)
            credit = _decimal(credit_text, profile, filename, number, str(cols["credit"])) \
                if credit_text else Decimal(0)
            amount = abs(credit) - abs(debit)
        currency = (get("currency") or profile.currency).upper()
        if not currency:
            raise BankFileError(filename, f"line {number}",
                                f"no currency: the profile {profile.name} names no currency "
                                "column or fixed currency")
        texts = [row[index[f"text:{n}"]].strip()
                 for n in (cols.get("text") or []) if f"text:{n}" in index]
        account = compact_iban(get("account"))
        statement = statements.get((account, currency))
        if statement is None:
            statement = statements[(account, currency)] = Statement(
                f"{filename}:{account or 'account'}", account, currency, None, None, None,
                None, location=f"line {number}")
        statement.lines.append(StatementLine(
            location=f"line {number}", booking_date=booked, value_date=value, amount=amount,
            currency=currency, bank_reference=get("bank_reference"),
            end_to_end_id=get("end_to_end_id"), counterparty_name=get("name"),
            counterparty_iban=compact_iban(get("iban")),
            remittance=" ".join(t for t in texts if t)[:1000],
            structured_reference=get("reference")))
    if not statements:
        raise BankFileError(filename, "line 2", "no entries")
    for statement in statements.values():
        dates = [line.booking_date for line in statement.lines]
        statement.from_date, statement.to_date = min(dates), max(dates)
    return StatementFile(filename, f"csv:{profile.name}", list(statements.values()))


def _date(text: str, profile: CsvProfile, filename: str, line: int, column: str) -> date:
    try:
        return datetime.strptime(text, profile.date_format).date()
    except ValueError:
        raise BankFileError(filename, f"line {line}, column {column}",
                            f"'{text}' is not a date in the format {profile.date_format} "
                            f"(profile {profile.name})") from None


def _decimal(text: str, profile: CsvProfile, filename: str, line: int, column: str
             ) -> Decimal:
    raw = text.replace(" ", "").replace("\u00a0", "")
    other = "." if profile.decimal == "," else ","
    where = f"line {line}, column {column}"
    # The other separator used as a decimal point (two decimals after it) means the file was
    # written with another convention than the profile's: refuse rather than misread.
    if other in raw and profile.thousands != other:
        raise BankFileError(filename, where, f"'{text}' uses '{other}' but profile "
                            f"{profile.name} has decimal '{profile.decimal}'")
    if other in raw and re.search(rf"\{other}\d{{1,2}}$", raw) and profile.decimal not in raw:
        raise BankFileError(filename, where, f"'{text}' looks like a decimal '{other}' but "
                            f"profile {profile.name} has decimal '{profile.decimal}'")
    if profile.thousands:
        raw = raw.replace(profile.thousands, "")
    raw = raw.replace(profile.decimal, ".")
    sign = Decimal(1)
    if raw.endswith("-"):
        raw, sign = raw[:-1], Decimal(-1)
    try:
        return sign * Decimal(raw)
    except InvalidOperation:
        raise BankFileError(filename, where, f"'{text}' is not an amount") from None
