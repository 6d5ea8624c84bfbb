"""A labelled synthetic bank statement: lines paying open invoices the way customers really
pay, with the noise cash application meets, and for each line the truth (which customer,
which invoices) to measure the matcher against.

Mix of lines (by default): ~60% quote the invoice's RF creditor reference; ~20% name invoice
numbers in the free text (spaced, dashed, prefix missing, lower case, some with one wrong
digit); ~10% pay one invoice's amount with no reference from a payer whose IBAN is known;
~5% pay several invoices at once; ~5% pay part of an invoice or short-pay it (bank charges
deducted, early-payment discount taken); plus bank fees, refunds and lines nobody can place.

    o2c demo bank-statement --lines 2000 --out statement.xml --labels labels.json
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from o2c.domain.bank import Statement, StatementLine
from o2c.domain.money import ZERO
from o2c.domain.references import format_creditor_reference

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SimItem:
    invoice_id: int
    number: str
    customer_id: int
    residual: Decimal
    reference: str  # RF creditor reference
    due_date: date


@dataclass(frozen=True, slots=True)
class SimCustomer:
    id: int
    name: str
    iban: str
    known: bool  # the company has seen this IBAN pay before


@dataclass(frozen=True, slots=True)
class Label:
    bank_reference: str
    pattern: str  # rf, text, text_typo, amount, multi, partial, short, fee, refund, noise
    customer_id: int | None
    invoice_ids: frozenset[int]
    matchable: bool  # a careful person could place it from the line alone

    def as_json(self) -> dict[str, Any]:
        return {"bank_reference": self.bank_reference, "pattern": self.pattern,
                "customer_id": self.customer_id, "invoice_ids": sorted(self.invoice_ids),
                "matchable": self.matchable}


MIX = (("rf", 57), ("text", 16), ("text_typo", 3), ("amount", 10), ("multi", 5),
       ("partial", 2.5), ("short", 2.5), ("fee", 2), ("refund", 1), ("noise", 1))


def _mangle(number: str, rng: random.Random) -> str:
    series, year, seq = number.split("-")
    style = rng.randrange(6)
    if style == 0:
        return number
    if style == 1:
        return f"{series} {year} {seq}"
    if style == 2:
        return f"{year}-{seq}"  # prefix missing
    if style == 3:
        return f"{series.lower()}{year}/{seq}"
    if style == 4:
        return f"{series}{year}{seq}"
    return f"{series}-{year}-{int(seq)}"  # leading zeros dropped


def _typo(number: str, rng: random.Random) -> str:
    series, year, seq = number.split("-")
    i = rng.randrange(len(seq))
    digit = str((int(seq[i]) + rng.randrange(1, 10)) % 10)
    return f"{series}-{year}-{seq[:i]}{digit}{seq[i + 1:]}"


_PHRASES = ("Payment", "Invoice", "Inv.", "Rechnung", "Facture", "Fattura", "Pago factura",
            "Settlement of", "Zahlung")


def generate(items: dict[int, list[SimItem]], customers: dict[int, SimCustomer], lines: int,
             *, seed: int = 7, on: date = date(2026, 10, 30), currency: str = "EUR",
             prefix: str = "SIM") -> tuple[list[StatementLine], list[Label]]:
    """`items`: open invoices by customer (each is paid at most once here)."""
    rng = random.Random(seed)
    pool = {cid: sorted(found, key=lambda i: (i.due_date, i.invoice_id))
            for cid, found in items.items() if found}
    order = sorted(pool)
    used: set[int] = set()
    known = [c for c in order if customers[c].known]
    patterns = [p for p, _ in MIX]
    weights = [w for _, w in MIX]
    out: list[StatementLine] = []
    labels: list[Label] = []

    def free(cid: int) -> list[SimItem]:
        return [i for i in pool[cid] if i.invoice_id not in used]

    def pick(from_customers: list[int], need: int = 1) -> tuple[int, list[SimItem]] | None:
        for _ in range(50):
            cid = rng.choice(from_customers)
            available = free(cid)
            if len(available) >= need:
                if need == 1:
                    return cid, [rng.choice(available)]
                start = rng.randrange(len(available) - need + 1)
                return cid, available[start : start + need]
        return None

    n = 0
    while n < lines:
        pattern = rng.choices(patterns, weights)[0]
        ref = f"{prefix}{n + 1:08d}"
        day = on
        if pattern == "fee":
            out.append(StatementLine("", day, day, -Decimal(rng.choice(("2.50", "4.50", "12.00",
                                                                         "35.00"))),
                                     currency, bank_reference=ref,
                                     remittance=rng.choice(("Account maintenance fee",
                                                            "SEPA charges", "Bank charges Q3")),
                                     transaction_code="ACMT/MDOP/CHRG"))
            labels.append(Label(ref, pattern, None, frozenset(), True))
            n += 1
            continue
        if pattern == "refund":
            cid = rng.choice(order)
            cu = customers[cid]
            out.append(StatementLine("", day, day, -Decimal(rng.randrange(1000, 50000)) * CENT,
                                     currency, bank_reference=ref, counterparty_name=cu.name,
                                     counterparty_iban=cu.iban,
                                     remittance="Refund of credit balance",
                                     transaction_code="PMNT/ICDT/ESCT"))
            labels.append(Label(ref, pattern, cid, frozenset(), False))
            n += 1
            continue
        if pattern == "noise":
            amount = Decimal(rng.randrange(1000, 200000)) * CENT
            out.append(StatementLine("", day, day, amount, currency, bank_reference=ref,
                                     counterparty_name=f"Walk-in {rng.randrange(10**6)}",
                                     counterparty_iban=f"DE{rng.randrange(10**19):020d}",
                                     remittance=rng.choice(("", "transfer", "see email"))))
            labels.append(Label(ref, pattern, None, frozenset(), False))
            n += 1
            continue
        need = rng.randrange(2, 5) if pattern == "multi" else 1
        chosen = pick(known if pattern in ("amount", "text_typo") else order, need)
        if chosen is None:
            continue
        cid, paid = chosen
        cu = customers[cid]
        used.update(i.invoice_id for i in paid)
        total = sum((i.residual for i in paid), ZERO)
        structured = remittance = ""
        amount = total
        item = paid[0]
        if pattern == "rf":
            if rng.random() < 0.85:
                structured = item.reference
            else:
                remittance = f"{rng.choice(_PHRASES)} {format_creditor_reference(item.reference)}"
        elif pattern == "text":
            remittance = f"{rng.choice(_PHRASES)} {_mangle(item.number, rng)}"
        elif pattern == "text_typo":
            remittance = f"{rng.choice(_PHRASES)} {_typo(item.number, rng)}"
        elif pattern == "amount":
            remittance = rng.choice(("", "Thank you", "Payment", "Our ref 4471", "Transfer"))
        elif pattern == "multi":
            if rng.random() < 0.8:
                remittance = "Invoices " + ", ".join(_mangle(i.number, rng) for i in paid)
            else:
                remittance = " ".join(i.reference for i in paid)
        elif pattern == "partial":
            structured = item.reference
            amount = (total * Decimal(rng.randrange(20, 80)) / 100).quantize(CENT)
        elif pattern == "short":
            structured = item.reference
            if rng.random() < 0.5:
                amount = total - Decimal(rng.choice(("3.50", "7.00", "12.50", "15.00")))
            else:
                amount = total - (total * Decimal("0.02")).quantize(CENT)
        if amount <= 0:
            continue
        out.append(StatementLine("", day, day, amount, currency, bank_reference=ref,
                                 counterparty_name=cu.name, counterparty_iban=cu.iban,
                                 remittance=remittance, structured_reference=structured,
                                 transaction_code="PMNT/RCDT/ESCT"))
        labels.append(Label(ref, pattern, cid, frozenset(i.invoice_id for i in paid), True))
        n += 1
    return out, labels


def statement(lines: list[StatementLine], account_iban: str, *, opening: Decimal = ZERO,
              statement_id: str = "SIM-1", currency: str = "EUR") -> Statement:
    total = sum((line.amount for line in lines), ZERO)
    first = min((line.booking_date for line in lines), default=date(2026, 1, 1))
    last = max((line.booking_date for line in lines), default=first)
    return Statement(statement_id, account_iban, currency, opening, opening + total, first,
                     last, lines=lines)


@dataclass
class Score:
    lines: int = 0
    matchable: int = 0
    automatic: int = 0
    automatic_correct: int = 0
    automatic_on_matchable: int = 0
    review: int = 0
    by_pattern: dict[str, list[int]] | None = None  # pattern -> [lines, auto, correct]

    @property
    def precision(self) -> float:
        return self.automatic_correct / self.automatic if self.automatic else 1.0

    @property
    def auto_match_rate(self) -> float:
        return self.automatic_on_matchable / self.matchable if self.matchable else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "matchable": self.matchable, "automatic": self.automatic,
                "automatic_correct": self.automatic_correct, "review": self.review,
                "precision": round(self.precision, 5),
                "auto_match_rate": round(self.auto_match_rate, 5),
                "by_pattern": self.by_pattern}


def evaluate(labels: Iterable[Label], outcome: dict[str, dict[str, Any]]) -> Score:
    """`outcome`: bank reference -> {"decision": auto|review|unmatched, "kind",
    "customer_id", "invoice_ids"} as the matcher left the line."""
    score = Score(by_pattern={})
    assert score.by_pattern is not None
    for label in labels:
        got = outcome.get(label.bank_reference)
        score.lines += 1
        counts = score.by_pattern.setdefault(label.pattern, [0, 0, 0])
        counts[0] += 1
        if label.matchable:
            score.matchable += 1
        if got is None:
            continue
        if got["decision"] == "review":
            score.review += 1
        if got["decision"] != "auto":
            continue
        score.automatic += 1
        counts[1] += 1
        if label.matchable:
            score.automatic_on_matchable += 1
        if label.pattern == "fee":
            correct = got["kind"] == "bank_fee"
        else:
            correct = (label.customer_id == got["customer_id"]
                       and set(label.invoice_ids) == set(got["invoice_ids"]))
        if correct:
            score.automatic_correct += 1
            counts[2] += 1
    return score
