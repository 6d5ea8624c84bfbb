"""A labelled synthetic bank statement: lines paying open invoices the way customers really
pay, with the noise cash application meets, and for each line the truth (which customer,
which invoices) to measure the matcher against.

Adversarial (issue 17), with the patterns real AR teams see (`MIX`): RF references in the
structured field or the text; invoice numbers in referred-document fields, in free text
spelled many ways ("2259/2026", "INV-26-02259", no prefix), buried among dates, order and
delivery numbers, quoted without the year ("n. 2259") or with one wrong digit; a customer
quoting another customer's invoice by mistake; amount-only payments; several invoices in
one transfer, all or only some quoted; a parent company paying for a subsidiary (ultimate
debtor or the subsidiary's name in the text); partial and short payments, payments on
account and disputed deductions; a payment made twice; bank fees by code and by word, a
creditor's SDD debit, refunds and credits nobody can place. Payer names come as the bank
writes them: upper case, legal form changed or dropped, accents lost, cut at 35 characters.
With `cold`, no payer IBAN is known (a new installation).

    o2c demo bank-statement --lines 2000 --out statement.xml --labels labels.json
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert

from o2c.adapters.db import tables as t
from o2c.adapters.db.fastpath import Statement as SqlStatement
from o2c.domain import commands as c
from o2c.domain.bank import Statement, StatementLine
from o2c.domain.ledger import RECEIVABLE, REVENUE
from o2c.domain.money import ZERO
from o2c.domain.references import creditor_reference, format_creditor_reference

CENT = Decimal("0.01")
D = Decimal
ACCOUNT = "IT60X0542811101000000123456"
FIRST_DAY = date(2025, 11, 1)
AS_OF = date(2026, 10, 30)


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
    parent_name: str = ""  # the group's parent, which may pay for it
    parent_iban: str = ""


@dataclass(frozen=True, slots=True)
class Label:
    bank_reference: str
    pattern: str  # see MIX
    customer_id: int | None
    invoice_ids: frozenset[int]
    matchable: bool  # a careful person could place it from the line alone

    def as_json(self) -> dict[str, Any]:
        return {"bank_reference": self.bank_reference, "pattern": self.pattern,
                "customer_id": self.customer_id, "invoice_ids": sorted(self.invoice_ids),
                "matchable": self.matchable}


# Patterns real AR teams see, with their share of lines (percent).
MIX = (("rf", 30), ("referred", 4), ("text", 10), ("text_noisy", 5), ("text_loose", 3),
       ("text_typo", 3), ("misquote", 4), ("amount", 10), ("multi", 5),
       ("multi_some_quoted", 3), ("parent", 4), ("partial", 2.5), ("short", 2.5),
       ("on_account", 1.5), ("duplicate", 1.5), ("fee", 3), ("sdd", 1), ("refund", 1),
       ("noise", 1.5))


def _mangle(number: str, rng: random.Random) -> str:
    series, year, seq = number.split("-")
    style = rng.randrange(9)
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
    if style == 5:
        return f"{int(seq)}/{year}"  # number/year, as Italian invoices are quoted
    if style == 6:
        return f"{series}-{year[2:]}-{seq}"  # two-digit year
    if style == 7:
        return f"{series.lower()}.{year}.{seq}"
    return f"{series}-{year}-{int(seq)}"  # leading zeros dropped


def _typo(number: str, rng: random.Random) -> str:
    series, year, seq = number.split("-")
    i = rng.randrange(len(seq))
    digit = str((int(seq[i]) + rng.randrange(1, 10)) % 10)
    return f"{series}-{year}-{seq[:i]}{digit}{seq[i + 1:]}"


_PHRASES = ("Payment", "Invoice", "Inv.", "Rechnung", "Facture", "Fattura", "Pago factura",
            "Settlement of", "Zahlung", "Saldo fatt.", "Bonifico a saldo")
_LEGAL = (("S.p.A.", ("SPA", "S.P.A.", "SpA", "")), ("GmbH", ("GMBH", "Gmbh", "")),
          ("SARL", ("S.A.R.L.", "Sarl", "")), ("S.L.", ("SL", "S L", "")),
          ("Ltd", ("LTD", "Limited", "")), ("B.V.", ("BV", "")), ("Oy", ("OY", "")),
          ("Kft.", ("KFT", "Kft", "")), ("S.n.c.", ("SNC", "")), ("S.r.l.", ("SRL", "Srl", "")))
_ACCENTS = str.maketrans("àèéìòùäöüçñÀÈÉÌÒÙÄÖÜÇÑ", "aeeiouaoucnAEEIOUAOUCN")


def payer_name(name: str, rng: random.Random) -> str:
    """The customer's name as the payer's bank writes it: upper case, legal form changed or
    dropped, accents lost, cut at 35 characters; now and then only initials, or nothing."""
    roll = rng.random()
    if roll < 0.06:
        return ""  # some banks pass no ordering party name
    if roll < 0.10:  # initials and the legal form: "R.A. 0001 SPA"
        words = name.split()
        return " ".join(w[0] + "." if w[0].isalpha() else w for w in words[:-1]).upper()
    out = name
    if rng.random() < 0.5:
        for form, variants in _LEGAL:
            if out.endswith(" " + form):
                out = (out[: -len(form)] + rng.choice(variants)).strip()
                break
    if rng.random() < 0.5:
        out = out.translate(_ACCENTS)
    if rng.random() < 0.6:
        out = out.upper()
    if rng.random() < 0.2:
        out = out[:35]
    return out


def _noisy(quoted: str, day: date, rng: random.Random) -> str:
    """Remittance full of dates, order and delivery numbers around the invoice number."""
    other = day - timedelta(days=rng.randrange(5, 60))
    parts = [f"Ord. SO-{rng.randrange(1, 999999):06d} del {other:%d/%m/%Y}",
             f"DDT {day.year}/{rng.randrange(1, 9999):05d}",
             f"DEL {other.isoformat()}", f"ORDER {day.year}-{rng.randrange(1, 99999):05d}",
             f"fatt. {quoted}", f"scad. {day:%d.%m.%Y}"]
    rng.shuffle(parts)
    return " ".join(parts)[:140]


_FEES = (("CANONE MENSILE CONTO", "ACMT/MDOP/CHRG"), ("COMM. BONIFICO SEPA", "PMNT/ICDT/CHRG"),
         ("COMPETENZE DI CHIUSURA", "ACMT/MDOP/INTR"), ("IMPOSTA DI BOLLO E/C", "ACMT/MDOP/TAXE"),
         ("Account maintenance fee", "ACMT/MDOP/CHRG"), ("SEPA charges", "ACMT/MDOP/OTHR"),
         ("Kontoführungsgebühr", "ACMT/MDOP/OTHR"), ("Bank charges Q3", "ACMT/MDOP/OTHR"),
         ("SPESE TENUTA CONTO", "ACMT/MDOP/OTHR"))


def generate(items: dict[int, list[SimItem]], customers: dict[int, SimCustomer], lines: int,
             *, seed: int = 7, on: date = date(2026, 10, 30), currency: str = "EUR",
             prefix: str = "SIM") -> tuple[list[StatementLine], list[Label]]:
    """`items`: open invoices by customer (each is paid at most once here, except by the
    duplicate pattern). A customer whose IBAN is not `known` is found by name only."""
    rng = random.Random(seed)
    pool = {cid: sorted(found, key=lambda i: (i.due_date, i.invoice_id))
            for cid, found in items.items() if found}
    order = sorted(pool)
    used: set[int] = set()
    in_group = [cid for cid in order if customers[cid].parent_name]
    patterns = [p for p, _ in MIX if p != "parent" or in_group]
    weights = [w for p, w in MIX if p != "parent" or in_group]
    out: list[StatementLine] = []
    labels: list[Label] = []
    paid_once: list[tuple[SimItem, SimCustomer]] = []

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

    n = misses = 0
    while n < lines and misses < 10_000:  # stops early when the open invoices run out
        pattern = rng.choices(patterns, weights)[0]
        ref = f"{prefix}{n + 1:08d}"
        day = on
        if pattern == "fee":
            text, code = rng.choice(_FEES)
            out.append(StatementLine("", day, day, -Decimal(rng.choice(("2.00", "4.50", "12.00",
                                                                         "35.00"))),
                                     currency, bank_reference=ref, remittance=text,
                                     transaction_code=code))
            labels.append(Label(ref, pattern, None, frozenset(), True))
            n += 1
            continue
        if pattern == "sdd":
            out.append(StatementLine("", day, day, -Decimal(rng.randrange(5000, 90000)) * CENT,
                                     currency, bank_reference=ref,
                                     counterparty_name="CONDOMINIO VIA ROMA 12",
                                     remittance="ADDEBITO SDD CORE SPESE CONDOMINIALI RATA "
                                                f"{rng.randrange(1, 5)}",
                                     transaction_code="PMNT/RDDT/ESDD"))
            labels.append(Label(ref, pattern, None, frozenset(), False))
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
                                     remittance=rng.choice(("", "transfer", "see email",
                                                            f"rimborso {day:%d/%m/%Y}"))))
            labels.append(Label(ref, pattern, None, frozenset(), False))
            n += 1
            continue
        if pattern == "duplicate":
            if not paid_once:
                misses += 1
                continue
            item, cu = rng.choice(paid_once)
            out.append(StatementLine("", day, day, item.residual, currency, bank_reference=ref,
                                     counterparty_name=payer_name(cu.name, rng),
                                     counterparty_iban=cu.iban,
                                     structured_reference=item.reference,
                                     transaction_code="PMNT/RCDT/ESCT"))
            # Paid twice: a person refunds or keeps it as credit; nothing to apply.
            labels.append(Label(ref, pattern, cu.id, frozenset(), False))
            n += 1
            continue
        need = (rng.randrange(2, 5) if pattern == "multi"
                else rng.randrange(2, 4) if pattern == "multi_some_quoted" else 1)
        chosen = pick(in_group if pattern == "parent" else order, need)
        if chosen is None:
            misses += 1
            continue
        cid, paid = chosen
        cu = customers[cid]
        used.update(i.invoice_id for i in paid)
        total = sum((i.residual for i in paid), ZERO)
        structured = remittance = referred = ultimate = ""
        name, iban = payer_name(cu.name, rng), cu.iban
        amount = total
        item = paid[0]
        if pattern == "rf":
            if rng.random() < 0.85:
                structured = item.reference
            else:
                remittance = f"{rng.choice(_PHRASES)} {format_creditor_reference(item.reference)}"
        elif pattern == "referred":
            referred = rng.choice((item.number, _mangle(item.number, rng)))
        elif pattern == "text":
            remittance = f"{rng.choice(_PHRASES)} {_mangle(item.number, rng)}"
        elif pattern == "text_noisy":
            remittance = _noisy(_mangle(item.number, rng), day, rng)
        elif pattern == "text_loose":
            seq = int(item.number.rsplit("-", 1)[1])
            remittance = rng.choice((f"Fattura n. {seq}", f"pagamento fatt. nr {seq}",
                                     f"Invoice no. {seq}"))
        elif pattern == "text_typo":
            remittance = f"{rng.choice(_PHRASES)} {_typo(item.number, rng)}"
        elif pattern == "misquote":
            # The customer quotes another customer's invoice number by mistake.
            other = rng.choice(order)
            theirs = pool[other][rng.randrange(len(pool[other]))]
            if other == cid:
                used.difference_update(i.invoice_id for i in paid)
                continue
            remittance = f"{rng.choice(_PHRASES)} {theirs.number}"
        elif pattern == "amount":
            remittance = rng.choice(("", "Thank you", "Payment", "Our ref 4471", "Transfer",
                                     f"Pagamento del {day:%d/%m/%Y}"))
        elif pattern == "multi":
            if rng.random() < 0.8:
                remittance = "Invoices " + ", ".join(_mangle(i.number, rng) for i in paid)
            else:
                remittance = " ".join(i.reference for i in paid)
        elif pattern == "multi_some_quoted":
            remittance = f"{rng.choice(_PHRASES)} {_mangle(item.number, rng)} e altre"
        elif pattern == "parent":
            name, iban = payer_name(cu.parent_name, rng), cu.parent_iban
            if rng.random() < 0.6:
                ultimate = cu.name
            else:
                remittance = f"per conto di {cu.name}"
            if rng.random() < 0.5:
                structured = item.reference
        elif pattern == "partial":
            structured = item.reference
            amount = (total * Decimal(rng.randrange(20, 80)) / 100).quantize(CENT)
        elif pattern == "short":
            structured = item.reference
            if rng.random() < 0.5:
                amount = total - Decimal(rng.choice(("3.50", "7.00", "12.50", "15.00")))
            else:
                amount = total - (total * Decimal("0.02")).quantize(CENT)
        elif pattern == "on_account":
            structured = item.reference
            amount = total - Decimal(rng.choice(("5.00", "10.00", "20.00")))
            remittance = rng.choice(("acconto", "in acconto", "payment on account",
                                     "trattenuta per merce danneggiata", "Teilzahlung"))
        if amount <= 0:
            continue
        out.append(StatementLine("", day, day, amount, currency, bank_reference=ref,
                                 counterparty_name=name, counterparty_iban=iban,
                                 remittance=remittance, structured_reference=structured,
                                 transaction_code="PMNT/RCDT/ESCT", ultimate_debtor=ultimate,
                                 referred_documents=referred))
        # Without a reference, an unknown IBAN and no usable name, nobody can place the line.
        placeable = (cu.known or pattern not in ("amount", "text_loose", "misquote")
                     or len(name) > 12)
        labels.append(Label(ref, pattern, cid, frozenset(i.invoice_id for i in paid),
                            placeable))
        if pattern == "rf" and len(paid) == 1:
            paid_once.append((item, cu))
        n += 1
    return out, labels


def statement(lines: list[StatementLine], account_iban: str, *, opening: Decimal = ZERO,
              statement_id: str = "SIM-1", currency: str = "EUR") -> Statement:
    total = sum((line.amount for line in lines), ZERO)
    first = min((line.booking_date for line in lines), default=date(2026, 1, 1))
    last = max((line.booking_date for line in lines), default=first)
    return Statement(statement_id, account_iban, currency, opening, opening + total, first,
                     last, lines=lines)


def from_database(engine: Engine, bus: Any, lines: int, *, seed: int = 7,
                  on: date | None = None, known_share: float = 0.85, cold: bool = False
                  ) -> tuple[bytes, list[Label]]:
    """A labelled camt.053.001.08 statement paying the open invoices of the database's first
    company, into its first bank account (its own IBAN). Customers get a payer IBAN; a share
    of them are registered as known payers (as months of remittances would have taught),
    none with `cold` (a new installation). Customer groups of the database are used; when it
    has none, every 25th customer becomes the parent of the two after it."""
    from o2c.adapters.bank import camt
    from o2c.adapters.db.bank import BankStore

    rng = random.Random(seed)
    with engine.connect() as conn:
        company = conn.execute(t.companies.select().order_by(t.companies.c.id)).mappings().first()
        if company is None:
            raise ValueError("the database has no company: run `o2c demo seed` first")
        store = BankStore(conn)
        items = store.open_invoices(company["id"], company["currency"])
        names = {r["id"]: r["name"] for r in store.customers(company["id"])}
        ibans = {i: f"DE{(i * 7919) % 89 + 10:02d}{600000000000000000 + i:018d}" for i in names}
        known_now = store.payers(company["id"], ibans.values())
        groups = store.parents(company["id"])
    if not groups:
        ordered = sorted(names)
        for index, child in enumerate(ordered):
            if index % 25 in (1, 2):
                parent = ordered[index - index % 25]
                bus.handle(c.SetCustomerParent(child, parent))
                groups[child] = parent
    day = on or max((i.issue_date for i in items), default=date.today())
    pool: dict[int, list[SimItem]] = {}
    for item in items:
        pool.setdefault(item.customer_id, []).append(SimItem(
            item.invoice_id, item.number, item.customer_id, item.residual,
            item.remittance_reference, item.due_date))
    teach = [] if cold else [(ibans[i], i) for i in sorted(names)
                             if rng.random() < known_share and ibans[i] not in known_now]
    if teach:
        bus.handle(c.RegisterPayerAccounts(company["id"], tuple(teach), source="history"))
    known = set() if cold else {i for _, i in teach} | set(known_now.values())
    customers = {i: SimCustomer(i, names[i], ibans[i], i in known,
                                names[groups[i]] if i in groups else "",
                                ibans[groups[i]] if i in groups else "") for i in names}
    statement_lines, labels = generate(pool, customers, lines, seed=seed, on=day,
                                       currency=company["currency"])
    account = "".join(str(company["iban"]).split()).upper()
    content = camt.write([statement(statement_lines, account, opening=D("10000.00"),
                                    statement_id=f"SIM-{day.isoformat()}",
                                    currency=company["currency"])],
                         message_id=f"O2C-SIM-{seed}")
    return content, labels


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


# -- a receivables book at scale, bulk-inserted (the bench and the quality test) ------------

SURNAMES = ("Rossi", "Bianchi", "Dupont", "Martin", "Garcia", "Muller", "Schmidt", "Jansen",
            "Novak", "Silva", "Smith", "Brown", "Kowalski", "Nielsen", "Virtanen", "Horvath")
TRADES = ("Arredamenti", "Logistics", "Bau", "Textiles", "Foods", "Metals", "Pharma", "Energy",
          "Optics", "Print", "Motors", "Garden", "Tools", "Paper", "Glass", "Plastics")
FORMS = ("S.p.A.", "GmbH", "SARL", "S.L.", "Ltd", "B.V.", "Oy", "Kft.")


def customer_name(i: int) -> str:
    return (f"{SURNAMES[i % 16]} {TRADES[(i // 16) % 16]} {i // 256:04d} "
            f"{FORMS[(i // 7) % 8]}")


def customer_iban(i: int) -> str:
    return f"DE{(i * 7919) % 89 + 10:02d}{500000000000000000 + i:018d}"


def amount_of(rng: random.Random) -> Decimal:
    return D(rng.randrange(5_000, 2_000_000)) / 100


def parent_of(i: int) -> int | None:
    """Customer groups of the simulated book: customer 50k + 1 is the parent of customers
    50k + 10, 50k + 20 and 50k + 30."""
    return i - i % 50 + 1 if i % 50 in (10, 20, 30) else None


def seed_receivables(engine: Engine, bus: Any, open_items: int, lines: int, seed: int,
          progress: Callable[[str], None] = lambda _: None, *, cold: bool = False
          ) -> tuple[dict[int, list[SimItem]], dict[int, SimCustomer]]:
    """Bulk-insert the business; returns the generator's pool (a sample of customers with
    all their open items) so memory does not hold a million items. `cold`: a new
    installation, no payer IBAN known yet."""
    handle = bus.handle
    handle(c.CreatePaymentTerms("NET30", "Net 30 days", ((D(100), 30, False),)))
    company = handle(c.CreateCompany("BENCH", "Bench S.r.l.", "IT", "EUR",
                                     vat_id="IT00743110157", iban=ACCOUNT))
    n_customers = max(1, open_items // 20)
    now = datetime(2026, 10, 30, 18, tzinfo=UTC)
    rng = random.Random(seed)
    known = {i for i in range(1, n_customers + 1) if rng.random() < 0.85}
    if cold:
        known = set()
    # The generator's pool: every k-th customer, enough items for twice the lines.
    step = max(1, n_customers * 20 // max(1, 2 * lines))
    sampled = {i for i in range(1, n_customers + 1) if i % step == 0}
    pool: dict[int, list[SimItem]] = {i: [] for i in sampled}
    customers: dict[int, SimCustomer] = {}
    with engine.begin() as conn:
        rows = []
        for i in range(1, n_customers + 1):
            rows.append({
                "id": i, "company_id": company, "code": f"C-{i:07d}", "name": customer_name(i),
                "country": "DE", "currency": "EUR", "language": "de", "vat_id": "",
                "tax_code": "", "email": "", "billing_address": {}, "shipping_address": {},
                "payment_terms_code": "NET30", "credit_limit": None, "credit_blocked": False,
                "overdue_hold_days": None, "invoice_policy": "on_shipment",
                "buyer_reference": "", "version": 0, "created_at": now})
            if i in sampled:
                parent = parent_of(i)
                customers[i] = SimCustomer(
                    i, customer_name(i), customer_iban(i), i in known,
                    customer_name(parent) if parent else "",
                    customer_iban(parent) if parent else "")
        for start in range(0, len(rows), 10000):
            conn.execute(insert(t.customers), rows[start : start + 10000])
        if known:
            conn.execute(insert(t.bank_payer_accounts), [
                {"company_id": company, "iban": customer_iban(i), "customer_id": i,
                 "source": "history"} for i in sorted(known)])
        groups = [{"customer_id": i, "company_id": company, "parent_id": parent_of(i)}
                  for i in range(1, n_customers + 1) if parent_of(i) is not None]
        if groups:
            conn.execute(insert(t.customer_groups), groups)
    progress(f"{n_customers} customers")
    insert_invoice = SqlStatement(insert(t.invoices))
    insert_item = SqlStatement(insert(t.open_items))
    total = D(0)
    batch_inv: list[dict[str, Any]] = []
    batch_oi: list[dict[str, Any]] = []
    batch_ii: list[dict[str, Any]] = []
    insert_installments = SqlStatement(insert(t.open_item_installments))
    conn_cm = engine.begin()
    conn = conn_cm.__enter__()
    try:
        for i in range(1, open_items + 1):
            customer = (i - 1) % n_customers + 1
            issue = FIRST_DAY + timedelta(days=(i - 1) * 360 // open_items)
            due = issue + timedelta(days=30)
            number = f"INV-2026-{i:05d}"
            gross = amount_of(rng)
            net = (gross / D("1.19")).quantize(D("0.01"))
            reference = creditor_reference(number)
            total += gross
            batch_inv.append({
                "id": i, "kind": "invoice", "state": "posted", "number": number,
                "company_id": company, "customer_id": customer, "currency": "EUR",
                "company_currency": "EUR", "fx_rate": D(1), "issue_date": issue,
                "delivery_date": issue, "due_date": due, "order_id": None, "order_number": "",
                "order_reference": "", "buyer_reference": "", "shipment_id": None,
                "corrects_invoice_id": None, "corrects_number": "", "reason": "",
                "seller": {}, "buyer": {}, "payment_means_code": "58", "payee_iban": ACCOUNT,
                "remittance_reference": reference, "payment_terms_code": "NET30",
                "payment_terms_text": "Net 30 days", "discount_percent": D(0),
                "discount_until": None, "discount_amount": D(0), "net_amount": net,
                "tax_amount": gross - net, "gross_amount": gross,
                "tax_amount_company": gross - net, "gross_amount_company": gross,
                "installments": [], "version": 0, "created_at": now})
            batch_oi.append({
                "id": i, "invoice_id": i, "kind": "invoice", "number": number,
                "company_id": company,
                "customer_id": customer, "currency": "EUR", "company_currency": "EUR",
                "issue_date": issue, "amount": gross, "residual": gross,
                "amount_company": gross, "residual_company": gross, "paid": D(0),
                "credited": D(0), "due_date": due, "final_due_date": due, "installments": [],
                "version": 0})
            batch_ii.append({
                "open_item_id": i, "seq": 1, "due_date": due, "amount": gross,
                "amount_company": gross, "later": D(0), "later_company": D(0)})
            if customer in pool:
                pool[customer].append(SimItem(i, number, customer, gross, reference, due))
            if len(batch_inv) == 10000:
                insert_invoice.run_many(conn, batch_inv)
                insert_item.run_many(conn, batch_oi)
                insert_installments.run_many(conn, batch_ii)
                batch_inv, batch_oi, batch_ii = [], [], []
                if i % 200000 == 0:
                    progress(f"{i} invoices")
        if batch_inv:
            insert_invoice.run_many(conn, batch_inv)
            insert_item.run_many(conn, batch_oi)
            insert_installments.run_many(conn, batch_ii)
        # One opening entry keeps the AR control account equal to the open items.
        entry_id = conn.execute(insert(t.journal_entries).values(
            company_id=company, entry_date=FIRST_DAY, source_type="opening", source_id=None,
            memo="opening receivables", reverses_entry_id=None, created_at=now)
            .returning(t.journal_entries.c.id)).scalar_one()
        conn.execute(insert(t.journal_lines), [
            {"entry_id": entry_id, "company_id": company, "account": RECEIVABLE,
             "debit": total, "credit": D(0), "customer_id": None, "currency": "",
             "amount_currency": D(0)},
            {"entry_id": entry_id, "company_id": company, "account": REVENUE, "debit": D(0),
             "credit": total, "customer_id": None, "currency": "", "amount_currency": D(0)}])
    finally:
        conn_cm.__exit__(None, None, None)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("customers", "invoices", "open_items"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    progress(f"{open_items} invoices and open items")
    return pool, customers
