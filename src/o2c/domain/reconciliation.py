"""Cash application: propose, for each bank statement line, what it pays, with a score and the
reasons a person can check.

Pure: the service gathers candidates with a few set queries (open items by RF reference and by
invoice number, payer IBANs, names and groups of customers, open items of the customers
identified, the day's rates of other currencies), and this module decides. Rules, strongest
first:

1. a structured ISO 11649 RF creditor reference that is an open invoice's;
2. invoice numbers in the referred-document field, the end-to-end id or the remittance text
   (`o2c.domain.remittance`: many spellings, one wrong digit against the payer's own);
3. the payer (IBAN known for the customer or its group, or the name, `o2c.domain.party_names`)
   identifies the customer, then the amount equals one open item, or a combination of that
   customer's open items (bounded search), oldest first.

The payer is checked against the invoice's customer and its group: a quoted number of another
customer lowers the score and says so. Then the amount decides how: exactly the residual;
short within tolerance (bank charges or an early-payment discount, written off) unless the
text says on account or names a disputed deduction; partial; more than quoted (the payer's
other invoices that make up the rest, else an over-payment for a person). Invoices in another
currency are paid at the bank's rate (instructed amount) or the day's. Outgoing lines are
classified by the bank transaction code first, whole words second (bank fee, refund,
returned direct debit, a creditor's direct debit).

Only automatic proposals consume open items within a run, and the result does not depend on
the order of the lines (`Matcher.propose_all`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from o2c.domain.money import ZERO, round_amount
from o2c.domain.party_names import (
    NameIndex,
    NameScorer,
    difflib_scorer,
    name_similarity,
    normalise_name,
)
from o2c.domain.remittance import (
    compact,
    invoice_numbers,
    loose_numbers,
    numbers_in,
    one_typo,
    rf_references,
)
from o2c.domain.remittance_words import (
    CHARGE_FAMILIES,
    CHARGE_SUBFAMILIES,
    DIRECT_DEBIT_WORDS,
    DISPUTE_WORDS,
    FEE_WORDS,
    ON_ACCOUNT_WORDS,
    RETURN_SUBFAMILIES,
    RETURN_WORDS,
    has_words,
)


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
    ultimate_debtor: str = ""  # the party the payer pays for (camt UltmtDbtr)
    bank_reference: str = ""  # the bank's own reference: orders lines the same everywhere
    instructed_amount: Decimal | None = None  # what the payer sent in another currency
    instructed_currency: str = ""


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
    parent_of: dict[int, int] = field(default_factory=dict)  # subsidiary -> parent customer
    # (currency, line currency, day) -> units of the line's currency per unit of currency
    rates: dict[tuple[str, str, date], Decimal] = field(default_factory=dict)


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
    # The payment's currency and amount when the invoices are in another currency than the
    # line (the line's amount at the bank's or the day's rate); "" and None otherwise.
    currency: str = ""
    amount: Decimal | None = None

    def decision(self, config: MatchConfig) -> str:
        if self.score >= config.auto_threshold:
            return "auto"
        if self.score >= config.review_threshold:
            return "review"
        return "unmatched"


# -- the engine -------------------------------------------------------------------------------


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@dataclass(frozen=True, slots=True)
class Payer:
    """Who sent the money, as far as the line tells: a customer by a known IBAN (score 1) or
    by name (the similarity)."""

    customer: int
    score: Decimal
    reason: str
    by_iban: bool


class Matcher:
    """Proposes for a batch of lines. Only automatic applications consume open items, and the
    outcome does not depend on the order of the lines: every line is first proposed against
    the open items as loaded; automatic proposals that would together take more than an
    invoice's residual are settled by strength, then booking date and bank reference; the
    others are proposed again against what the automatic ones leave, for review only."""

    def __init__(self, candidates: Candidates, config: MatchConfig | None = None,
                 scorer: NameScorer = difflib_scorer) -> None:
        self.c = candidates
        self.config = config or MatchConfig()
        self.scorer = scorer
        self.taken: dict[int, Decimal] = {}  # invoice id -> amount applied automatically
        self._names: NameIndex | None = None
        self._keys: dict[int, tuple[list[str], list[str], list[str]]] = {}
        self._items: dict[int, ItemView] = {}  # items proposals touched, by invoice id
        self._children: dict[int, list[int]] | None = None

    @property
    def names(self) -> NameIndex:
        if self._names is None:
            self._names = NameIndex(self.c.customer_names, self.scorer)
        return self._names

    def keys(self, line: LineView) -> tuple[list[str], list[str]]:
        """RF references and invoice numbers the line quotes (computed once per line)."""
        refs, numbers, _ = self.all_keys(line)
        return refs, numbers

    def all_keys(self, line: LineView) -> tuple[list[str], list[str], list[str]]:
        """RF references, invoice numbers, and numbers quoted without a year (candidates)."""
        found = self._keys.get(line.id)
        if found is None:
            numbers = invoice_numbers(line)
            loose = [n for n in loose_numbers(line) if n not in numbers]
            found = self._keys[line.id] = (rf_references(line), numbers, loose)
        return found

    def residual(self, item: ItemView) -> Decimal:
        return item.residual - self.taken.get(item.invoice_id, ZERO)

    # customer groups ---------------------------------------------------------------------

    def group(self, customer: int) -> int:
        return self.c.parent_of.get(customer, customer)

    def related(self, a: int, b: int) -> bool:
        return a == b or self.group(a) == self.group(b)

    def members(self, customer: int) -> list[int]:
        """The customer's group: its parent first, then the parent's subsidiaries."""
        if self._children is None:
            self._children = {}
            for child, parent in sorted(self.c.parent_of.items()):
                self._children.setdefault(parent, []).append(child)
        root = self.group(customer)
        return [root, *self._children.get(root, [])]

    # the batch ---------------------------------------------------------------------------

    def propose_all(self, lines: Iterable[LineView]) -> list[Proposal]:
        lines = list(lines)
        config = self.config
        self.taken = {}
        first = {line.id: self._one(line) for line in lines}
        by_id = {line.id: line for line in lines}

        def order(p: Proposal) -> tuple[Any, ...]:
            line = by_id[p.line_id]
            return (-p.score, line.booking_date, line.bank_reference, line.amount,
                    line.remittance, line.structured_reference, line.counterparty_iban,
                    line.id)

        automatic = sorted((p for p in first.values() if p.kind is ProposalKind.RECEIPT
                            and p.decision(config) == "auto"), key=order)
        left = {i: item.residual for i, item in self._items.items()}
        losers: set[int] = set()
        for proposal in automatic:
            wanted = _consumption(proposal)
            if all(amount <= left.get(i, ZERO) for i, amount in wanted.items()):
                for i, amount in wanted.items():
                    left[i] = left.get(i, ZERO) - amount
            else:
                losers.add(proposal.line_id)
        self.taken = {i: item.residual - left[i] for i, item in self._items.items()
                      if left.get(i, item.residual) != item.residual}
        result: list[Proposal] = []
        ceiling = config.auto_threshold - Decimal("0.01")
        for line in lines:
            proposal = first[line.id]
            if proposal.line_id in losers or (proposal.decision(config) != "auto"
                                               and self._touches_taken(proposal)):
                again = self._one(line)
                note = ("another line of this statement settles the same invoice; review"
                        if proposal.line_id in losers else
                        "open items taken by automatic applications of this statement left "
                        "out")
                proposal = replace(again, score=min(again.score, ceiling),
                                   reasons=(*again.reasons, note))
            result.append(proposal)
        return result

    def _touches_taken(self, proposal: Proposal) -> bool:
        return any(i in self.taken for i in _consumption(proposal)) or (
            proposal.kind is not ProposalKind.RECEIPT and bool(self.taken))

    def propose(self, line: LineView) -> Proposal:
        """One line against what automatic proposals before it left open."""
        proposal = self._one(line)
        if proposal.decision(self.config) == "auto":
            for invoice_id, amount in _consumption(proposal).items():
                self.taken[invoice_id] = self.taken.get(invoice_id, ZERO) + amount
        return proposal

    def _one(self, line: LineView) -> Proposal:
        if line.amount < 0:
            return self._outgoing(line)
        return self._incoming(line)

    # incoming money ------------------------------------------------------------------------

    def payer(self, line: LineView) -> Payer | None:
        iban = compact(line.counterparty_iban)
        if iban and iban in self.c.customer_by_iban:
            customer = self.c.customer_by_iban[iban]
            return Payer(customer, Decimal("1"),
                         f"payer IBAN {iban} known for customer {self._code(customer)}", True)
        if not line.counterparty_name:
            return None
        found = self.names.matches(line.counterparty_name, self.config.name_similarity)
        note = ""
        if len(found) > 1:
            # Several customers share the name: the one with something open in the currency.
            busy = [(c, s) for c, s in found
                    if any(i.currency == line.currency for i in self.c.open_items.get(c, ()))]
            if len(busy) != 1:
                return None
            note = (f" ({len(found)} customers have this name; only this one has open "
                    "items)")
            found = busy
        if len(found) != 1:
            return None
        customer, score = found[0]
        # A name is never as good as a known IBAN (1 means "IBAN seen before").
        score = min(score, Decimal("0.99"))
        return Payer(customer, score, f"payer name '{line.counterparty_name}' ~ customer "
                                      f"{self._code(customer)}, name similarity {score}{note}",
                     False)

    def _payer(self, line: LineView) -> tuple[int | None, Decimal, str]:
        found = self.payer(line)
        return (found.customer, found.score, found.reason) if found else (None, ZERO, "")

    def payer_ids(self, line: LineView) -> list[int]:
        """Every customer the payer (or the ultimate debtor) may be, with their groups: whose
        open items the service loads."""
        iban = compact(line.counterparty_iban)
        found: list[int] = []
        if iban and iban in self.c.customer_by_iban:
            found.append(self.c.customer_by_iban[iban])
        for name in (line.counterparty_name, line.ultimate_debtor):
            if name:
                found.extend(c for c, _ in self.names.matches(name,
                                                              self.config.name_similarity))
        return sorted({m for c in found for m in self.members(c)})

    def _code(self, customer_id: int) -> str:
        return self.c.customer_codes.get(customer_id, str(customer_id))

    def _named(self, line: LineView, customer: int) -> bool:
        """The line's payer name or ultimate debtor is this customer's name."""
        name = self.c.customer_names.get(customer, "")
        floor = self.config.name_similarity
        return bool(name) and any(
            text and name_similarity(text, name, self.scorer) >= floor
            for text in (line.counterparty_name, line.ultimate_debtor))

    def _vouch(self, line: LineView, payer: Payer | None, customer: int
               ) -> tuple[str, str]:
        """Does the payer fit the invoice's customer? confirmed / contradicted / unknown, and
        the reason."""
        code = self._code(customer)
        if payer is not None and payer.by_iban:
            if payer.customer == customer:
                return "confirmed", payer.reason
            if self.related(payer.customer, customer):
                return "confirmed", (f"{payer.reason}, of the same group as {code}")
            if self._named(line, customer):
                return "unknown", (f"the payer IBAN is known for customer "
                                   f"{self._code(payer.customer)}, but the name is {code}'s")
            return "contradicted", (f"but the payer IBAN belongs to customer "
                                    f"{self._code(payer.customer)}, not to {code} or its "
                                    "group")
        for member in self.members(customer):
            if self._named(line, member):
                how = ("payer" if member == customer else f"its group's {self._code(member)}")
                return "confirmed", f"payer name or ultimate debtor is {code}'s ({how})"
        if payer is not None and not self.related(payer.customer, customer):
            return "contradicted", (f"but the payer looks like customer "
                                    f"{self._code(payer.customer)} (name similarity "
                                    f"{payer.score}), not {code} or its group")
        return "unknown", ""

    def amount_in(self, line: LineView, currency: str) -> tuple[Decimal, bool, str] | None:
        """The line's amount in `currency`: (amount, exact, how). Exact in its own currency
        and when the bank gives the instructed amount; at the day's rate otherwise."""
        if currency == line.currency:
            return line.amount, True, ""
        if line.instructed_currency == currency and line.instructed_amount:
            return line.instructed_amount, True, (
                f"paid {_fmt(line.amount)} {line.currency} for {_fmt(line.instructed_amount)} "
                f"{currency} (the bank's exchange details)")
        rate = self.c.rates.get((currency, line.currency, line.booking_date))
        if not rate:
            return None
        value = round_amount(line.amount / rate, currency)
        return value, False, (f"{_fmt(line.amount)} {line.currency} is {_fmt(value)} "
                              f"{currency} at the day's rate {rate}")

    def _incoming(self, line: LineView) -> Proposal:
        reasons: list[str] = []
        items: list[ItemView] = []
        strength = ZERO
        refs, numbers, loose = self.all_keys(line)
        for ref in refs:
            item = self.c.by_reference.get(ref)
            if (item is not None and self.amount_in(line, item.currency) is not None
                    and item not in items):
                items.append(item)
                reasons.append(f"RF reference {_spaced(ref)} matches invoice {item.number}")
                strength = max(strength, Decimal("0.99"))
        payer = self.payer(line)
        by_number: list[ItemView] = []
        for number in numbers:
            item = self.c.by_number.get(number)
            if (item is not None and self.amount_in(line, item.currency) is not None
                    and item not in items and item not in by_number):
                by_number.append(item)
        typo = False
        if not items and payer is not None and (by_number or numbers or loose):
            own = [i for m in self.members(payer.customer) for i in self.c.open_items.get(m, ())
                   if i.currency == line.currency and self.residual(i) > 0]
            if by_number and not any(self.related(i.customer_id, payer.customer)
                                     for i in by_number):
                # Free text has no check digits: another customer's number from an identified
                # payer is more likely a typo of one of the payer's own, or a mistake.
                # The payer's own invoice of exactly this amount first, then a typo of one of
                # the payer's numbers.
                quoted = ", ".join(i.number for i in by_number)
                by_amount = self._by_amount(line, payer, [
                    payer.reason, f"invoice number(s) {quoted} in the text belong to "
                    "another customer than the payer; the payer's own open items are "
                    "searched"])
                if by_amount.allocations and by_amount.unapplied == 0:
                    return by_amount
                if any(one_typo(n, i.number) for n in numbers for i in own):
                    reasons.append(f"invoice number(s) {quoted} in the text belong to another "
                                   "customer than the payer")
                    by_number = []
                elif by_amount.allocations:
                    return by_amount
            if not by_number:
                for number in numbers:
                    for item in own:
                        if one_typo(number, item.number) and item not in items:
                            items.append(item)
                            reasons.append(f"'{number}' in the text is one character off "
                                           f"invoice {item.number} of the payer")
                            strength = max(strength, Decimal("0.80"))
                            typo = True
                for number in loose:
                    for item in own:
                        if item.number == number and item not in items:
                            items.append(item)
                            reasons.append(f"invoice {item.number} of the payer quoted "
                                           "without its year")
                            strength = max(strength, Decimal("0.88"))
        if (not items and by_number and payer is not None
                and sum((self.residual(i) for i in by_number), ZERO) != line.amount):
            # The number is the payer's but the amount is not: one wrong digit away may be the
            # invoice of exactly this amount.
            own_exact = [i for m in self.members(payer.customer)
                         for i in self.c.open_items.get(m, ())
                         if i.currency == line.currency and self.residual(i) == line.amount
                         and any(one_typo(n, i.number) for n in numbers)]
            if len(own_exact) == 1:
                quoted = ", ".join(i.number for i in by_number)
                items.append(own_exact[0])
                reasons.append(f"'{quoted}' in the text is one character off invoice "
                               f"{own_exact[0].number} of the payer, whose residual is the "
                               "amount")
                strength = max(strength, Decimal("0.80"))
                typo = True
                by_number = []
        for item in by_number:
            items.append(item)
            source = ("end-to-end id" if item.number in numbers_in([line.end_to_end_id])
                      else "structured reference"
                      if item.number in numbers_in([line.structured_reference])
                      else "remittance text")
            reasons.append(f"invoice number {item.number} found in {source}")
            strength = max(strength, Decimal("0.95"))
        weak = (bool(by_number) or typo or any("without its year" in r for r in reasons)) \
            and strength < Decimal("0.99")
        if items:
            customers = sorted({i.customer_id for i in items})
            if len({i.currency for i in items}) > 1:
                return Proposal(line.id, ProposalKind.NONE, Decimal("0.30"),
                                (*reasons, "the invoices named are in several currencies"))
            if len(customers) > 1:
                return Proposal(line.id, ProposalKind.NONE, Decimal("0.30"),
                                (*reasons, "references point to several customers"))
            customer = customers[0]
            state, why = self._vouch(line, payer, customer)
            if state == "confirmed":
                reasons.append(why)
                strength = min(Decimal("0.99"), strength + Decimal("0.05"))
            elif state == "contradicted":
                reasons.append(why)
                strength = min(strength - Decimal("0.15"), Decimal("0.80"))
            elif why:
                reasons.append(why)
            open_total = sum((max(self.residual(i), ZERO) for i in items), ZERO)
            converted = self.amount_in(line, items[0].currency)
            paid = converted[0] if converted else line.amount
            if weak and paid == open_total and typo:
                strength += Decimal("0.07")
            elif weak and paid < open_total:
                # Text without check digits and an amount that does not agree: a person looks.
                # (More than quoted: the payer's other invoices must make up the rest exactly,
                # or the over-payment waits for a person.)
                strength = min(strength, Decimal("0.85"))
            return self._settle(line, customer, items, strength, reasons)
        if payer is None:
            return Proposal(line.id, ProposalKind.NONE, ZERO,
                            ("no reference, invoice number or known payer",))
        return self._by_amount(line, payer, [payer.reason])

    def _by_amount(self, line: LineView, payer: Payer, reasons: list[str]) -> Proposal:
        if payer.by_iban:
            base = Decimal("0.93")
        elif payer.score >= Decimal("0.95"):
            base = Decimal("0.91")  # a well-identified name and a unique exact amount
        else:
            base = Decimal("0.70") * payer.score
        reasons = list(reasons)
        customers = [payer.customer]
        group = self.members(payer.customer)
        if len(group) > 1:
            named = [m for m in group if m != payer.customer and self._named(line, m)]
            named += [m for m in group if m != payer.customer and m not in named
                      and _mentions(line.remittance, self.c.customer_names.get(m, ""))]
            if len(named) == 1:
                customers = named
                reasons.append(f"the line names {self._code(named[0])}, of the payer's group")
            elif group[0] == payer.customer:
                customers = group  # a parent pays for its subsidiaries
        # Amount-only matching is exact: the line's currency, or what the bank says the payer
        # sent in another one.
        currency, amount = line.currency, line.amount
        if line.instructed_currency and line.instructed_amount:
            currency, amount = line.instructed_currency, line.instructed_amount
        pay = (currency, amount) if currency != line.currency else None
        items = [i for c in customers for i in self.c.open_items.get(c, ())
                 if i.currency == currency and self.residual(i) > 0]
        items.sort(key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
        equal = [i for i in items if self.residual(i) == amount]
        if equal:
            chosen = equal[0]
            why = [*reasons, f"amount {_fmt(amount)} equals the residual of "
                             f"{chosen.number}"]
            if chosen.customer_id != payer.customer:
                why.append(f"{chosen.number} is of {self._code(chosen.customer_id)}, of the "
                           "payer's group")
            score = base
            if len(equal) > 1:
                why.append(f"{len(equal)} open items have this amount; the oldest is proposed")
                score = min(score, Decimal("0.75"))
            return self._proposal(line, chosen.customer_id, [(chosen, amount)], score, why,
                                  pay=pay)
        target = customers[0]
        own = [i for i in items if i.customer_id == target]
        combination = self._combination(amount, own)
        if combination is not None:
            chosen_items, unique = combination
            why = [*reasons, f"amount {_fmt(amount)} equals the residuals of "
                             + ", ".join(i.number for i in chosen_items)]
            score = base - Decimal("0.02")
            if not unique:
                why.append("other combinations add up too; the oldest is proposed")
                score = min(score, Decimal("0.75"))
            return self._proposal(line, target, [(i, self.residual(i)) for i in chosen_items],
                                  score, why, pay=pay)
        return Proposal(line.id, ProposalKind.UNAPPLIED, min(base, Decimal("0.65")),
                        (*reasons, "no open item or combination matches the amount; "
                                   "proposed as unapplied credit"),
                        customer_id=target, unapplied=amount,
                        currency=pay[0] if pay else "", amount=pay[1] if pay else None)

    def _combination(self, amount: Decimal, items: Sequence[ItemView], size: int = 0
                     ) -> tuple[list[ItemView], bool] | None:
        """Oldest-first prefix, else the oldest subset of up to `combination_size` of the
        oldest `combination_items` open items (or up to `size` of all those given) whose
        residuals add up to the amount."""
        running = ZERO
        for n, item in enumerate(items, start=1):
            running += self.residual(item)
            if running == amount and n > 1:
                return list(items[:n]), True
            if running > amount:
                break
        pool = list(items[: max(size and len(items), self.config.combination_items)])
        values = [self.residual(i) for i in pool]
        where: dict[Decimal, list[int]] = {}
        for index, value in enumerate(values):
            where.setdefault(value, []).append(index)
        found: list[list[int]] = []
        # Subsets in the order itertools.combinations gives them, smallest first; the last
        # member is looked up by value instead of tried one by one.
        for n in range(2, min(size or self.config.combination_size, len(pool)) + 1):
            for head in itertools.combinations(range(len(pool)), n - 1):
                need = amount - sum((values[i] for i in head), ZERO)
                for last in where.get(need, ()):
                    if last > head[-1]:
                        found.append([*head, last])
                        if len(found) > 1:
                            return [pool[i] for i in found[0]], False
        if found:
            return [pool[i] for i in found[0]], True
        return None

    def _settle(self, line: LineView, customer: int, items: list[ItemView],
                strength: Decimal, reasons: list[str]) -> Proposal:
        items = sorted(items, key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
        open_total = sum((max(self.residual(i), ZERO) for i in items), ZERO)
        currency = items[0].currency
        converted = self.amount_in(line, currency)
        assert converted is not None  # items are only taken in a currency the line converts to
        amount, exact, how = converted
        pay = (currency, amount) if currency != line.currency else None
        if how:
            reasons = [*reasons, how]
        if not exact and open_total and abs(amount - open_total) <= open_total / 100:
            # At the day's rate the amounts never agree to the cent: the difference is an
            # exchange difference, booked when the payment is allocated.
            reasons.append("within 1% of the residual at the day's rate: the invoice is paid, "
                           "the difference is an exchange difference")
            amount = open_total
            pay = (currency, amount)
        if open_total == 0:
            return Proposal(line.id, ProposalKind.UNAPPLIED, min(strength, Decimal("0.70")),
                            (*reasons, "the invoices named are already settled; proposed as "
                                       "unapplied credit"),
                            customer_id=customer, unapplied=amount,
                            currency=pay[0] if pay else "", amount=pay[1] if pay else None)
        if amount == open_total:
            return self._proposal(line, customer, [(i, self.residual(i)) for i in items],
                                  strength, [*reasons, "amount equals residual" if len(items) == 1
                                             else "amount equals the residuals' sum"], pay=pay)
        if amount > open_total:
            rest = amount - open_total
            others = sorted((i for i in self.c.open_items.get(customer, ())
                             if i not in items and i.currency == currency
                             and self.residual(i) > 0),
                            key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
            equal = [i for i in others if self.residual(i) == rest]
            # Invoices paid together are usually issued together: look around the quoted ones.
            ordered = sorted((*items, *others),
                             key=lambda i: (i.due_date, i.issue_date, i.invoice_id))
            at = [ordered.index(i) for i in items]
            near = [i for i in ordered[max(0, min(at) - 8) : max(at) + 9] if i in others]
            found = (([equal[0]], len(equal) == 1) if equal
                     else self._combination(rest, near)
                     or self._combination(rest, others[:24], size=3))
            if found is not None:
                extra, unique = found
                return self._proposal(
                    line, customer, [(i, self.residual(i)) for i in (*items, *extra)],
                    strength - Decimal("0.03") if unique else min(strength, Decimal("0.80")),
                    [*reasons, f"the rest, {_fmt(rest)}, equals the residual(s) of "
                               + ", ".join(i.number for i in extra) + ", not quoted"
                               + ("" if unique else "; other invoices add up too")], pay=pay)
            # An over-payment is rare; an invoice paid but not quoted is not: a person looks.
            return self._proposal(line, customer, [(i, self.residual(i)) for i in items],
                                  min(strength - Decimal("0.02"), Decimal("0.85")),
                                  [*reasons, f"over-payment: {_fmt(rest)} stays "
                                             "as unapplied customer credit"],
                                  unapplied=rest, pay=pay)
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
        on_account = has_words(f"{line.remittance} {line.structured_reference}",
                                ON_ACCOUNT_WORDS)
        disputed = has_words(f"{line.remittance} {line.structured_reference}",
                              DISPUTE_WORDS)
        if on_account or disputed:
            said = ", ".join(f"'{w.lower()}'" for w in (*on_account, *disputed))
            what = ("a deduction the customer disputes" if disputed
                    else "a payment on account")
            return self._proposal(line, customer, plan, strength - Decimal("0.04"),
                                  [*reasons, f"partial payment: the text says {said} "
                                             f"({what}), so {_fmt(short)} stays open, not "
                                             "written off"], pay=pay)
        if len(left_open) == 1 and (short <= self.config.charges_tolerance
                                    or short <= discount_limit):
            target = left_open[0]
            kind = (WriteOff.BANK_CHARGES if short <= self.config.charges_tolerance
                    else WriteOff.DISCOUNT)
            label = "bank charges" if kind is WriteOff.BANK_CHARGES else "early-payment discount"
            return self._proposal(
                line, customer, plan, strength - Decimal("0.03"),
                [*reasons, f"short payment of {_fmt(short)} within tolerance, written off as "
                           f"{label}"], write_off=(short, kind, target), pay=pay)
        return self._proposal(line, customer, plan, strength - Decimal("0.04"),
                              [*reasons, f"partial payment: {_fmt(short)} stays open"], pay=pay)

    def _proposal(self, line: LineView, customer: int, plan: list[tuple[ItemView, Decimal]],
                  score: Decimal, reasons: list[str], unapplied: Decimal = ZERO,
                  write_off: tuple[Decimal, WriteOff, ItemView] | None = None,
                  pay: tuple[str, Decimal] | None = None) -> Proposal:
        for item, _ in plan:
            self._items.setdefault(item.invoice_id, item)
        if write_off is not None:
            self._items.setdefault(write_off[2].invoice_id, write_off[2])
        allocations = tuple(Allocate(i.invoice_id, i.number, a) for i, a in plan if a > 0)
        return Proposal(
            line.id, ProposalKind.RECEIPT, max(min(score, Decimal("0.99")), ZERO),
            tuple(r for r in reasons if r), customer_id=customer, allocations=allocations,
            write_off=write_off[0] if write_off else ZERO,
            write_off_kind=write_off[1] if write_off else None,
            write_off_invoice_id=write_off[2].invoice_id if write_off else None,
            unapplied=unapplied, currency=pay[0] if pay else "",
            amount=pay[1] if pay else None)

    # outgoing money ------------------------------------------------------------------------

    def _outgoing(self, line: LineView) -> Proposal:
        """Bank transaction code first (ISO 20022 domain/family/sub-family), whole words of
        the text second."""
        code = [p.upper() for p in ([*line.transaction_code.split("/"), "", "", ""])[:3]]
        domain, family, sub = code
        text = f"{line.remittance} {line.structured_reference}"
        debit_words = has_words(text, DIRECT_DEBIT_WORDS)
        if family in CHARGE_FAMILIES or sub in CHARGE_SUBFAMILIES:
            return Proposal(line.id, ProposalKind.BANK_FEE, Decimal("0.95"),
                            (f"bank transaction code {line.transaction_code} is a charge",))
        if sub in RETURN_SUBFAMILIES:
            return Proposal(line.id, ProposalKind.RETURNED_DEBIT, Decimal("0.70"),
                            (f"bank transaction code {line.transaction_code}: a returned "
                             "direct debit; review",))
        if family == "RDDT" or debit_words:
            return Proposal(line.id, ProposalKind.NONE, ZERO,
                            ("a direct debit a creditor collected from this account "
                             f"({line.transaction_code or ', '.join(debit_words)}): not a bank "
                             "fee nor a customer's",))
        if family == "CCRD" or domain == "CAMT" or family == "CWDL":
            return Proposal(line.id, ProposalKind.NONE, ZERO,
                            (f"card or cash operation ({line.transaction_code})",))
        fee_words = has_words(text, FEE_WORDS)
        if fee_words and not line.counterparty_iban and family not in ("ICDT", "RCDT"):
            return Proposal(line.id, ProposalKind.BANK_FEE, Decimal("0.92"),
                            ("outgoing line without counterparty, text says "
                             + ", ".join(w.lower() for w in fee_words),))
        returned = has_words(text, RETURN_WORDS)
        if returned:
            return Proposal(line.id, ProposalKind.RETURNED_DEBIT, Decimal("0.70"),
                            ("outgoing line reads as a returned direct debit ("
                             + ", ".join(returned) + "); review",))
        payer = self.payer(line)
        if payer is not None or has_words(text, ("REFUND", "RIMBORSO", "ERSTATTUNG",
                                                  "REMBOURSEMENT", "REEMBOLSO")):
            return Proposal(line.id, ProposalKind.REFUND, Decimal("0.70"),
                            tuple(r for r in ("outgoing payment to a customer: refund",
                                              payer.reason if payer else "") if r),
                            customer_id=payer.customer if payer else None)
        return Proposal(line.id, ProposalKind.NONE, ZERO, ("outgoing line not recognised",))


def _consumption(proposal: Proposal) -> dict[int, Decimal]:
    """Invoice id -> how much of its residual the proposal takes (allocations, write-off)."""
    found: dict[int, Decimal] = {}
    for allocation in proposal.allocations:
        found[allocation.invoice_id] = found.get(allocation.invoice_id, ZERO) + allocation.amount
    if proposal.write_off_invoice_id is not None:
        found[proposal.write_off_invoice_id] = (found.get(proposal.write_off_invoice_id, ZERO)
                                                + proposal.write_off)
    return found


def _mentions(text: str, name: str) -> bool:
    """The remittance text contains the customer's name (normalised, as whole words)."""
    normal = normalise_name(name)
    if not normal or len(normal) < 4:
        return False
    return f" {normal} " in f" {normalise_name(text)} "


def _spaced(ref: str) -> str:
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
