"""Cash application: propose, for each bank statement line, what it pays, with a score and the
reasons a person can check.

Pure: the service gathers candidates with a few set queries (open items by RF reference and by
invoice number, payer IBANs and names of customers, open items of the customers identified),
and this module decides. Rules, strongest first:

1. a structured ISO 11649 RF creditor reference that is an open invoice's;
2. an end-to-end id or remittance text naming invoices (spaces, dashes, a missing prefix and
   one wrong digit tolerated);
3. the payer (IBAN seen before, or name) identifies the customer, then the amount equals one
   open item, or a combination of that customer's open items (bounded search), oldest first.

Then the amount decides how: exactly the residual; short within tolerance (bank charges or an
early-payment discount, written off to their own account); partial; over-payment (the rest
stays unapplied customer credit). Outgoing lines are classified (bank fee, refund, returned
direct debit)."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.money import ZERO
from o2c.domain.references import is_valid_creditor_reference


class ProposalKind(StrEnum):
    RECEIPT = "receipt"  # customer payment: allocations, maybe write-off and unapplied rest
    UNAPPLIED = "unapplied"  # customer known, nothing to allocate: all becomes credit
    BANK_FEE = "bank_fee"
    REFUND = "refund"
    RETURNED_DEBIT = "returned_debit"
    NONE = "none"  # nothing found


class WriteOff(StrEnum):
    BANK_CHARGES = "bank_charges"
    DISCOUNT = "discount"


@dataclass(frozen=True, slots=True)
class MatchConfig:
    auto_threshold: Decimal = Decimal("0.90")  # apply automatically at or above
    review_threshold: Decimal = Decimal("0.60")  # propose for review at or above
    charges_tolerance: Decimal = Decimal("25.00")  # short payment booked to bank charges
    discount_tolerance_percent: Decimal = Decimal("3")  # short payment as discount taken
    combination_items: int = 12  # oldest open items considered for combinations
    combination_size: int = 4
    name_similarity: Decimal = Decimal("0.85")


@dataclass(frozen=True, slots=True)
class LineView:
    id: int
    amount: Decimal  # signed, + = money in
    currency: str
    booking_date: date
    remittance: str
    structured_reference: str
    end_to_end_id: str
    counterparty_iban: str
    counterparty_name: str
    transaction_code: str = ""


@dataclass(frozen=True, slots=True)
class ItemView:
    invoice_id: int
    number: str
    customer_id: int
    currency: str
    residual: Decimal
    due_date: date
    issue_date: date
    remittance_reference: str = ""


@dataclass(slots=True)
class Candidates:
    """What the service loaded for a batch of lines."""

    by_reference: dict[str, ItemView] = field(default_factory=dict)  # compact RF ref
    by_number: dict[str, ItemView] = field(default_factory=dict)  # invoice number
    customer_by_iban: dict[str, int] = field(default_factory=dict)
    customer_names: dict[int, str] = field(default_factory=dict)
    customer_codes: dict[int, str] = field(default_factory=dict)
    open_items: dict[int, list[ItemView]] = field(default_factory=dict)  # customer -> items


@dataclass(frozen=True, slots=True)
class Allocate:
    invoice_id: int
    number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Proposal:
    line_id: int
    kind: ProposalKind
    score: Decimal
    reasons: tuple[str, ...]
    customer_id: int | None = None
    allocations: tuple[Allocate, ...] = ()
    write_off: Decimal = ZERO
    write_off_kind: WriteOff | None = None
    write_off_invoice_id: int | None = None
    unapplied: Decimal = ZERO

    def decision(self, config: MatchConfig) -> str:
        if self.score >= config.auto_threshold:
            return "auto"
        if self.score >= config.review_threshold:
            return "review"
        return "unmatched"


# -- extracting keys from text ---------------------------------------------------------------

_RF = re.compile(r"R\s?F\s?\d\s?\d(?:\s?[0-9A-Z]){1,21}")
_INVOICE = re.compile(
    r"(?<![0-9A-Z])(?:[A-Z]{2,4}[\s\-/._]*(20\d\d)[\s\-/._]*(\d{1,7})"
    r"|(20\d\d)[\s\-/._]*(\d{5,7}))(?!\d)")
_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


_RF_START = re.compile(r"R\s?F\s?\d\s?\d")


def rf_references(line: LineView) -> list[str]:
    """Valid RF references in the structured field first, then in the free text."""
    found: list[str] = []
    for text in (line.structured_reference, line.remittance, line.end_to_end_id):
        upper = text.upper()
        starts = [m.start() for m in _RF_START.finditer(upper)]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(upper)
            match = _RF.match(upper, start, end)
            if match is None:
                continue
            ref = compact(match.group(0))
            # The match may have eaten following words: shrink until valid.
            while len(ref) >= 5 and not is_valid_creditor_reference(ref):
                ref = ref[:-1]
            if len(ref) >= 5 and ref not in found:
                found.append(ref)
    return found


def invoice_numbers(line: LineView, series: str = "INV") -> list[str]:
    """Invoice numbers the remittance text or end-to-end id names, in our canonical form
    (SERIES-YYYY-NNNNN): tolerates spaces, dashes, a missing or mangled prefix."""
    return numbers_in((line.remittance, line.end_to_end_id, line.structured_reference), series)


def numbers_in(texts: Iterable[str], series: str = "INV") -> list[str]:
    found: list[str] = []
    for text in texts:
        for match in _INVOICE.finditer(text.upper()):
            year = match.group(1) or match.group(3)
            seq = match.group(2) or match.group(4)
            number = f"{series}-{year}-{int(seq):05d}"
            if number not in found:
                found.append(number)
    return found


def one_typo(a: str, b: str) -> bool:
    """Same length with one different character, or two neighbours swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


_LEGAL = re.compile(r"\b(gmbh|ag|sa|sarl|srl|spa|bv|nv|ltd|limited|inc|llc|plc|co|kg|oy|ab|as|"
                    r"sas|sl|kft|sp z o o|the|and|und|et)\b")


def normalise_name(name: str) -> str:
    text = re.sub(r"[^a-z0-9 ]", " ", name.lower().replace(".", ""))
    return _SPACES.sub(" ", _LEGAL.sub(" ", text)).strip()


def similarity(a: str, b: str) -> Decimal:
    ratio = difflib.SequenceMatcher(None, normalise_name(a), normalise_name(b)).ratio()
    return Decimal(str(round(ratio, 2)))


class NameIndex:
    """Customers by normalised name (exact hits are free) and by word: fuzzy matching only
    compares names sharing the query's rarest words, so it stays cheap with many customers."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.exact: dict[str, list[int]] = {}
        self.by_token: dict[str, list[int]] = {}
        for customer_id, name in names.items():
            normal = normalise_name(name)
            self.exact.setdefault(normal, []).append(customer_id)
            for token in set(normal.split()):
                self.by_token.setdefault(token, []).append(customer_id)

    def best(self, name: str, floor: Decimal) -> tuple[int, Decimal] | None:
        normal = normalise_name(name)
        if not normal:
            return None
        exact = self.exact.get(normal)
        if exact is not None:
            return (exact[0], Decimal("1.00")) if len(exact) == 1 else None
        postings = sorted((self.by_token[t] for t in set(normal.split()) if t in self.by_token),
                          key=len)
        if not postings:
            return None
        pool = set(postings[0])
        for more in postings[1:]:
            if len(pool) <= 25:
                break
            narrower = pool.intersection(more)
            if not narrower:
                break
            pool = narrower
        if len(pool) > 200:
            return None
        scored = sorted(((similarity(name, self.names[c]), c) for c in pool), reverse=True)
        if not scored or scored[0][0] < floor:
            return None
        if len(scored) > 1 and scored[1][0] == scored[0][0]:
            return None  # two customers look alike: the name does not decide
        return scored[0][1], scored[0][0]


# -- the engine -------------------------------------------------------------------------------


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


class Matcher:
    """Proposes for a batch of lines; remembers what earlier lines of the batch took, so two
    lines never both settle the same residual."""

    def __init__(self, candidates: Candidates, config: MatchConfig | None = None) -> None:
        self.c = candidates
        self.config = config or MatchConfig()
        self.taken: dict[int, Decimal] = {}  # invoice id -> amount proposed in this batch
        self._names: NameIndex | None = None
        self._keys: dict[int, tuple[list[str], list[str]]] = {}

    @property
    def names(self) -> NameIndex:
        if self._names is None:
            self._names = NameIndex(self.c.customer_names)
        return self._names

    def keys(self, line: LineView) -> tuple[list[str], list[str]]:
        """RF references and invoice numbers the line quotes (computed once per line)."""
        found = self._keys.get(line.id)
        if found is None:
            found = self._keys[line.id] = (rf_references(line), invoice_numbers(line))
        return found

    def residual(self, item: ItemView) -> Decimal:
        return item.residual - self.taken.get(item.invoice_id, ZERO)

    def propose_all(self, lines: Iterable[LineView]) -> list[Proposal]:
        return [self.propose(line) for line in lines]

    def propose(self, line: LineView) -> Proposal:
        if line.amount < 0:
            return self._outgoing(line)
        proposal = self._incoming(line)
        for allocation in proposal.allocations:
            self.taken[allocation.invoice_id] = (self.taken.get(allocation.invoice_id, ZERO)
                                                 + allocation.amount)
        if proposal.write_off_invoice_id is not None:
            self.taken[proposal.write_off_invoice_id] = (
                self.taken.get(proposal.write_off_invoice_id, ZERO) + proposal.write_off)
        return proposal

    # incoming money ------------------------------------------------------------------------

    def _payer(self, line: LineView) -> tuple[int | None, Decimal, str]:
        iban = compact(line.counterparty_iban)
        if iban and iban in self.c.customer_by_iban:
            customer = self.c.customer_by_iban[iban]
            return customer, Decimal("1"), (
                f"payer IBAN {iban} known for customer {self._code(customer)}")
        if line.counterparty_name:
            best = self.names.best(line.counterparty_name, self.config.name_similarity)
            if best is not None:
                customer, score = best
                # A name is never as good as a known IBAN (1 means "IBAN seen before").
                score = min(score, Decimal("0.99"))
                return customer, score, (f"payer name '{line.counterparty_name}' ~ customer "
                                         f"{self._code(customer)}, name similarity {score}")
        return None, ZERO, ""

    def _code(self, customer_id: int) -> str:
        return self.c.customer_codes.get(customer_id, str(customer_id))

    def _incoming(self, line: LineView) -> Proposal:
        reasons: list[str] = []
        items: list[ItemView] = []
        strength = ZERO
        refs, numbers = self.keys(line)
        for ref in refs:
            item = self.c.by_reference.get(ref)
            if item is not None and item.currency == line.currency and item not in items:
                items.append(item)
                reasons.append(f"RF reference {_spaced(ref)} matches invoice {item.number}")
                strength = max(strength, Decimal("0.99"))
        payer, payer_score, payer_reason = self._payer(line)
        by_number: list[ItemView] = []
        for number in numbers:
            item = self.c.by_number.get(number)
            if (item is not None and item.currency == line.currency and item not in items
                    and item not in by_number):
                by_number.append(item)
        if (not items and by_number and payer is not None and payer_score == 1
                and all(i.customer_id != payer for i in by_number)):
            # Free text has no check digits: a number of another customer's invoice from a
            # known payer is more likely a typo of one of the payer's own.
            reasons.append("invoice number(s) " + ", ".join(i.number for i in by_number)
                           + " in the text belong to another customer than the payer; ignored")
            by_number = []
        for item in by_number:
            items.append(item)
            source = ("end-to-end id" if item.number in numbers_in([line.end_to_end_id])
                      else "remittance text")
            reasons.append(f"invoice number {item.number} found in {source}")
            strength = max(strength, Decimal("0.95"))
        weak = bool(by_number) and strength < Decimal("0.99")
        typo = False
        if not items and numbers and payer is not None:
            # One wrong digit: only against the identified payer's own open invoices.
            for number in numbers:
                for item in self.c.open_items.get(payer, ()):
                    if (one_typo(number, item.number) and item.currency == line.currency
                            and item not in items and self.residual(item) > 0):
                        items.append(item)
                        reasons.append(f"'{number}' in the text is one character off invoice "
                                       f"{item.number} of the payer")
                        strength = max(strength, Decimal("0.80"))
                        typo = weak = True
        if items:
            customers = {i.customer_id for i in items}
            if len(customers) > 1:
                return Proposal(line.id, ProposalKind.NONE, Decimal("0.30"),
                                (*reasons, "references point to several customers"))
            customer = items[0].customer_id
            confirmed = payer is not None and payer == customer
            if confirmed:
                reasons.append(payer_reason)
                strength = min(Decimal("0.99"), strength + Decimal("0.05"))
            elif payer is not None and payer_score == 1:
                reasons.append(f"but the payer IBAN belongs to customer {self._code(payer)}")
                strength -= Decimal("0.25")
            open_total = sum((max(self.residual(i), ZERO) for i in items), ZERO)
            if weak and line.amount == open_total and typo:
                strength += Decimal("0.07")
            elif weak and line.amount != open_total:
                # Text without check digits and an amount that does not agree: a person looks.
                strength = min(strength, Decimal("0.85"))
            return self._settle(line, customer, items, strength, reasons)
        if payer is None:
            return Proposal(line.id, ProposalKind.NONE, ZERO,
                            ("no reference, invoice number or known payer",))
        reasons.append(payer_reason)
        return self._by_amount(line, payer, payer_score, reasons)

    def _by_amount(self, line: LineView, customer: int, payer_score: Decimal,
                   reasons: list[str]) -> Proposal:
        base = Decimal("0.93") if payer_score == 1 else Decimal("0.70") * payer_score
        items = [i for i in self.c.open_items.get(customer, ())
                 if i.currency == line.currency and self.residual(i) > 0]
        items.sort(key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
        equal = [i for i in items if self.residual(i) == line.amount]
        if equal:
            chosen = equal[0]
            why = [*reasons, f"amount {_fmt(line.amount)} equals the residual of "
                             f"{chosen.number}"]
            score = base
            if len(equal) > 1:
                why.append(f"{len(equal)} open items have this amount; the oldest is proposed")
                score = min(score, Decimal("0.75"))
            return self._proposal(line, customer, [(chosen, line.amount)], score, why)
        combination = self._combination(line.amount, items)
        if combination is not None:
            chosen_items, unique = combination
            why = [*reasons, f"amount {_fmt(line.amount)} equals the residuals of "
                             + ", ".join(i.number for i in chosen_items)]
            score = base - Decimal("0.02")
            if not unique:
                why.append("other combinations add up too; the oldest is proposed")
                score = min(score, Decimal("0.75"))
            return self._proposal(line, customer, [(i, self.residual(i)) for i in chosen_items],
                                  score, why)
        return Proposal(line.id, ProposalKind.UNAPPLIED, min(base, Decimal("0.65")),
                        (*reasons, "no open item or combination matches the amount; "
                                   "proposed as unapplied credit"),
                        customer_id=customer, unapplied=line.amount)

    def _combination(self, amount: Decimal, items: Sequence[ItemView]
                     ) -> tuple[list[ItemView], bool] | None:
        """Oldest-first prefix, else the oldest subset of up to `combination_size` of the
        oldest `combination_items` open items whose residuals add up to the amount."""
        running = ZERO
        for n, item in enumerate(items, start=1):
            running += self.residual(item)
            if running == amount and n > 1:
                return list(items[:n]), True
            if running > amount:
                break
        pool = list(items[: self.config.combination_items])
        found: list[list[ItemView]] = []
        for size in range(2, min(self.config.combination_size, len(pool)) + 1):
            for combo in itertools.combinations(pool, size):
                if sum((self.residual(i) for i in combo), ZERO) == amount:
                    found.append(list(combo))
                    if len(found) > 1:
                        return found[0], False
        if found:
            return found[0], True
        return None

    def _settle(self, line: LineView, customer: int, items: list[ItemView],
                strength: Decimal, reasons: list[str]) -> Proposal:
        items = sorted(items, key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
        open_total = sum((max(self.residual(i), ZERO) for i in items), ZERO)
        amount = line.amount
        if open_total == 0:
            return Proposal(line.id, ProposalKind.UNAPPLIED, min(strength, Decimal("0.70")),
                            (*reasons, "the invoices named are already settled; proposed as "
                                       "unapplied credit"),
                            customer_id=customer, unapplied=amount)
        if amount == open_total:
            return self._proposal(line, customer, [(i, self.residual(i)) for i in items],
                                  strength, [*reasons, "amount equals residual" if len(items) == 1
                                             else "amount equals the residuals' sum"])
        if amount > open_total:
            return self._proposal(line, customer, [(i, self.residual(i)) for i in items],
                                  strength - Decimal("0.02"),
                                  [*reasons, f"over-payment: {_fmt(amount - open_total)} stays "
                                             "as unapplied customer credit"],
                                  unapplied=amount - open_total)
        short = open_total - amount
        plan: list[tuple[ItemView, Decimal]] = []
        left = amount
        for item in items:
            part = min(left, self.residual(item))
            if part > 0:
                plan.append((item, part))
            left -= part
        planned = {i.invoice_id: a for i, a in plan}
        left_open = [i for i in items if self.residual(i) > planned.get(i.invoice_id, ZERO)]
        discount_limit = open_total * self.config.discount_tolerance_percent / 100
        if len(left_open) == 1 and (short <= self.config.charges_tolerance
                                    or short <= discount_limit):
            target = left_open[0]
            kind = (WriteOff.BANK_CHARGES if short <= self.config.charges_tolerance
                    else WriteOff.DISCOUNT)
            label = "bank charges" if kind is WriteOff.BANK_CHARGES else "early-payment discount"
            return self._proposal(
                line, customer, plan, strength - Decimal("0.03"),
                [*reasons, f"short payment of {_fmt(short)} within tolerance, written off as "
                           f"{label}"], write_off=(short, kind, target))
        return self._proposal(line, customer, plan, strength - Decimal("0.04"),
                              [*reasons, f"partial payment: {_fmt(short)} stays open"])

    def _proposal(self, line: LineView, customer: int, plan: list[tuple[ItemView, Decimal]],
                  score: Decimal, reasons: list[str], unapplied: Decimal = ZERO,
                  write_off: tuple[Decimal, WriteOff, ItemView] | None = None) -> Proposal:
        allocations = tuple(Allocate(i.invoice_id, i.number, a) for i, a in plan if a > 0)
        return Proposal(
            line.id, ProposalKind.RECEIPT, max(min(score, Decimal("0.99")), ZERO),
            tuple(r for r in reasons if r), customer_id=customer, allocations=allocations,
            write_off=write_off[0] if write_off else ZERO,
            write_off_kind=write_off[1] if write_off else None,
            write_off_invoice_id=write_off[2].invoice_id if write_off else None,
            unapplied=unapplied)

    # outgoing money ------------------------------------------------------------------------

    def _outgoing(self, line: LineView) -> Proposal:
        text = f"{line.remittance} {line.transaction_code}".upper()
        if any(word in text for word in FEE_WORDS) and not line.counterparty_iban:
            return Proposal(line.id, ProposalKind.BANK_FEE, Decimal("0.95"),
                            ("outgoing line without counterparty, text says bank fee/charges",))
        if any(word in text for word in ("RETURN", "RUECKLAST", "R-TRANSACTION", "RJCT", "MD06",
                                         "AM04", "RDDT", "REVERSAL", "RÜCKLAST")):
            return Proposal(line.id, ProposalKind.RETURNED_DEBIT, Decimal("0.70"),
                            ("outgoing line reads as a returned direct debit; review",))
        payer, _, reason = self._payer(line)
        if payer is not None or "REFUND" in text:
            return Proposal(line.id, ProposalKind.REFUND, Decimal("0.70"),
                            tuple(r for r in ("outgoing payment to a customer: refund", reason)
                                  if r), customer_id=payer)
        return Proposal(line.id, ProposalKind.NONE, ZERO, ("outgoing line not recognised",))


FEE_WORDS = ("FEE", "CHARGE", "CHRG", "SRVCHG", "GEBUEHR", "GEBÜHR", "FRAIS", "COMMISSION",
             "SPESE")


def _spaced(ref: str) -> str:
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
