"""SWIFT MT940 (customer statement) into the neutral statement model, with line numbers.

Read here rather than with the `mt-940` package: that package joins the ?20..?29 purpose
sub-fields of a structured :86: without separators ("RF18...INV-2026-00001"), which hides
invoice numbers, and reports no line numbers; a truncated file must be refused with where it
stops. Handles SWIFT block wrappers ({1:..}{4: ... -}), several statements per file,
:60M:/:62M: intermediate balances, structured (GVC ?xx sub-fields) and free :86: text, and
SEPA keywords (EREF+, SVWZ+, /EREF/, /REMI/)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from o2c.domain.bank import BankFileError, Statement, StatementFile, StatementLine, compact_iban

_TAG = re.compile(r"^:(\d\d[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d+,\d*)$")
_LINE = re.compile(r"^(\d{6})(\d{4})?(R?[CD])([A-Z])?(\d+,\d{0,2})([NSF][A-Z0-9]{3})"
                   r"([^/]*?)(?://(.*))?$")
_SUBFIELD = re.compile(r"\?(\d\d)")
_IBANISH = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{10,30})\b")


@dataclass
class _Tag:
    name: str
    text: str
    line: int
    extra: list[str] = field(default_factory=list)

    @property
    def value(self) -> str:
        return "\n".join([self.text, *self.extra])


def _decode(content: bytes) -> str:
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _date(text: str, filename: str, line: int) -> date:
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise BankFileError(filename, f"line {line}", f"'{text}' is not a date (YYMMDD)"
                            ) from None


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _tags(text: str, filename: str) -> list[_Tag]:
    tags: list[_Tag] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped in ("-", "-}") or stripped.startswith("{"):
            # Block wrappers: {1:...}{2:...}{4:  and the closing -}
            if stripped.startswith("{") and ":" in stripped and stripped.rstrip().endswith(
                    "{4:"):
                continue
            if stripped.startswith("{"):
                rest = stripped.split("{4:", 1)
                if len(rest) == 2 and rest[1].strip():
                    line = rest[1]
                else:
                    continue
            else:
                continue
        found = _TAG.match(line)
        if found:
            tags.append(_Tag(found.group(1), found.group(2), number))
        elif tags:
            tags[-1].extra.append(line)
        else:
            raise BankFileError(filename, f"line {number}",
                                "expected an MT940 field (:20:, :25:, ...)")
    return tags


def parse(content: bytes, filename: str) -> StatementFile:
    tags = _tags(_decode(content), filename)
    if not tags:
        raise BankFileError(filename, "line 1", "empty file: no MT940 fields")
    statements: list[Statement] = []
    current: Statement | None = None
    start_line = 0
    previous = ""
    for tag in tags:
        name = tag.name
        after_line, previous = previous == "61", tag.name
        if name == "20":
            if current is not None:
                raise BankFileError(
                    filename, f"line {tag.line}",
                    f"the statement starting at line {start_line} has no closing balance "
                    "(:62F:) before the next one begins")
            current = Statement(tag.text.strip(), "", "", None, None, None, None,
                                location=f"line {tag.line}")
            start_line = tag.line
            continue
        if current is None and statements and name in ("64", "65", "86"):
            continue  # available balances and information after the closing balance
        if current is None:
            raise BankFileError(filename, f"line {tag.line}",
                                f"field :{name}: outside a statement (missing :20:)")
        if name == "25":
            account = tag.text.strip().split("/")[-1]
            current.account_iban = compact_iban(account)
        elif name == "28C":
            current.statement_id = f"{current.statement_id}/{tag.text.strip()}"
        elif name in ("60F", "60M"):
            sign, on, currency, amount = _balance(tag, filename)
            current.opening_balance = sign * amount
            current.currency = currency
            current.from_date = on
        elif name == "61":
            current.lines.append(_line(tag, filename, current.currency))
        elif name == "86":
            if after_line:  # information to the account owner about the entry just above
                current.lines[-1] = _details(current.lines[-1], tag.value)
        elif name in ("62F", "62M"):
            sign, on, currency, amount = _balance(tag, filename)
            if current.currency and currency != current.currency:
                raise BankFileError(filename, f"line {tag.line}",
                                    f"closing balance in {currency}, opening in "
                                    f"{current.currency}")
            current.closing_balance = sign * amount
            current.to_date = on
            current.closing_date = on
            statements.append(current)
            current = None
        # :64:, :65:, :34F:, :13D: and others carry nothing the statement needs.
    if current is not None:
        raise BankFileError(filename, f"line {tags[-1].line}",
                            f"the statement starting at line {start_line} ends without a "
                            "closing balance (:62F:): the file looks truncated")
    for statement in statements:
        if not statement.account_iban:
            raise BankFileError(filename, statement.location, "statement without :25: account")
        statement.check_balances(filename)
    return StatementFile(filename, "mt940", statements)


def _balance(tag: _Tag, filename: str) -> tuple[Decimal, date, str, Decimal]:
    found = _BALANCE.match(tag.text.strip())
    if found is None:
        raise BankFileError(filename, f"line {tag.line}",
                            f":{tag.name}: '{tag.text.strip()}' is not D/C + YYMMDD + currency + "
                            "amount")
    sign = Decimal(-1) if found.group(1) == "D" else Decimal(1)
    return sign, _date(found.group(2), filename, tag.line), found.group(3), _amount(
        found.group(4))


def _line(tag: _Tag, filename: str, currency: str) -> StatementLine:
    found = _LINE.match(tag.text.strip())
    if found is None:
        raise BankFileError(filename, f"line {tag.line}",
                            f":61: '{tag.text.strip()}' is not a valid statement line")
    value_date = _date(found.group(1), filename, tag.line)
    booking = value_date
    if found.group(2):
        month, day = int(found.group(2)[:2]), int(found.group(2)[2:])
        year = value_date.year
        # An entry date in January for a December value date (or the reverse) crosses years.
        if month == 1 and value_date.month == 12:
            year += 1
        elif month == 12 and value_date.month == 1:
            year -= 1
        try:
            booking = date(year, month, day)
        except ValueError:
            raise BankFileError(filename, f"line {tag.line}", "invalid entry date") from None
    mark = found.group(3)
    debit = mark in ("D", "RC")  # RC: reversal of a credit is money out
    amount = _amount(found.group(5))
    customer_ref = found.group(7).strip()
    bank_ref = (found.group(8) or "").strip()
    supplementary = " ".join(x.strip() for x in tag.extra if x.strip())
    return StatementLine(
        location=f"line {tag.line}", booking_date=booking, value_date=value_date,
        amount=-amount if debit else amount, currency=currency, bank_reference=bank_ref,
        entry_reference="" if customer_ref.upper() == "NONREF" else customer_ref,
        transaction_code=found.group(6), remittance=supplementary)


def _details(line: StatementLine, text: str) -> StatementLine:
    """Structured :86: (GVC + ?xx sub-fields) or free text with SEPA keywords."""
    flat = text.replace("\r", "").replace("\n", "")
    name = iban = e2e = ""
    code = line.transaction_code
    if re.match(r"^\d{3}\?", flat):
        code = f"{line.transaction_code}/{flat[:3]}"
        parts: dict[str, list[str]] = {}
        pieces = _SUBFIELD.split(flat[3:])
        for key, value in zip(pieces[1::2], pieces[2::2], strict=False):
            parts.setdefault(key, []).append(value.strip())
        purpose = [v for k in sorted(parts) if "20" <= k <= "29" or "60" <= k <= "63"
                   for v in parts[k]]
        remittance = " ".join(p for p in [" ".join(parts.get("00", [])), *purpose] if p)
        iban = "".join(parts.get("31", []))
        name = " ".join(parts.get("32", []) + parts.get("33", []))
    else:
        remittance = " ".join(text.split())
    joined = remittance
    for pattern in (r"EREF\+(\S+)", r"/EREF/([^/]+)"):
        found = re.search(pattern, joined)
        if found:
            e2e = found.group(1).strip()
            if e2e.upper() == "NOTPROVIDED":
                e2e = ""
            break
    if not iban:
        for pattern in (r"IBAN\+(\S+)", r"/IBAN/([^/]+)"):
            found = re.search(pattern, joined)
            if found:
                iban = found.group(1)
                break
    if not name:
        for pattern in (r"/NAME/([^/]+)", r"ABWA\+([^+]+?)(?:\s+\w{4}\+|$)"):
            found = re.search(pattern, joined)
            if found:
                name = found.group(1).strip()
                break
    if line.remittance:
        remittance = f"{remittance} {line.remittance}".strip()
    return StatementLine(
        location=line.location, booking_date=line.booking_date, value_date=line.value_date,
        amount=line.amount, currency=line.currency, bank_reference=line.bank_reference,
        entry_reference=line.entry_reference, end_to_end_id=e2e,
        counterparty_name=name, counterparty_iban=compact_iban(iban),
        remittance=remittance[:1000], transaction_code=code)
