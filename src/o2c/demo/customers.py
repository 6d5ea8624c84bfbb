"""The demo's customers: who they are (names, addresses, tax ids, currency, language) and how
they behave (how much they buy, on what terms, how they pay)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

from o2c.demo.catalog import COUNTRIES, FX_START, PAYER_BANKS, TERMS, CountrySpec
from o2c.demo.identities import (
    business_tax_id,
    codice_fiscale,
    iban,
    italian_vat_id,
    office_code,
    slug,
)
from o2c.domain.einvoice import VAT_EAS
from o2c.domain.parties import VAT_COUNTRIES
from o2c.domain.payment_terms import PaymentTerms, TermLine

D = Decimal


class Habit(StrEnum):
    """How a customer pays its invoices."""

    PUNCTUAL = "punctual"  # on the due date, give or take a few days (early with a discount)
    DIRECT_DEBIT = "direct_debit"  # collected on the due date; now and then it bounces
    LATE = "late"  # a customer-specific number of days after the due date
    PARTIAL = "partial"  # part before the due date, the rest weeks later
    RARELY = "rarely"  # pays few invoices, very late; the rest stays open
    OVERPAYS = "overpays"  # rounds up, sometimes pays twice: money left as credit


HABIT_WEIGHTS = ((Habit.PUNCTUAL, 42), (Habit.DIRECT_DEBIT, 12), (Habit.LATE, 24),
                 (Habit.PARTIAL, 9), (Habit.RARELY, 5), (Habit.OVERPAYS, 8))

PAYMENT_TERMS = {spec.code: PaymentTerms(
    code=spec.code, name=spec.name, lines=tuple(TermLine(*line) for line in spec.lines),
    discount_percent=spec.discount_percent, discount_days=spec.discount_days)
    for spec in TERMS}


@dataclass
class Profile:
    """One customer as the simulator knows it; `id` and `code` come from the system."""

    name: str
    country: CountrySpec
    consumer: bool
    size: int  # relative order frequency
    habit: Habit
    terms_code: str
    lateness: int  # days late, for LATE payers
    vat_id: str
    email: str
    address: dict[str, str]
    payer_iban: str
    buyer_reference: str
    credit_limit: Decimal | None = None
    tax_code: str = ""  # national tax number: IT codice fiscale, US EIN, MX RFC
    # how it receives e-invoices (SetDocumentPreferences fields), None: PDF by e-mail
    documents: dict[str, Any] | None = None
    id: int = 0
    code: str = ""
    order_count: int = field(default=0)

    @property
    def currency(self) -> str:
        return self.country.currency

    @property
    def language(self) -> str:
        return self.country.language

    @property
    def terms(self) -> PaymentTerms:
        return PAYMENT_TERMS[self.terms_code]

    @property
    def invoiced_on_order(self) -> bool:
        """Pro-forma customers are invoiced when the order is confirmed and pay up front."""
        return self.terms_code == "PREPAY"

    @property
    def region(self) -> str:
        if self.country.code == "IT":
            return "IT"
        return "EU" if self.currency == "EUR" else "OVERSEAS"


def _weighted(rng: random.Random, pairs: tuple[tuple[object, int], ...]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def invent_customers(rng: random.Random, count: int) -> list[Profile]:
    """`count` distinct customers spread over the six countries by their share."""
    countries = [rng.choices(COUNTRIES, weights=[c.share for c in COUNTRIES])[0]
                 for _ in range(count)]
    names: set[str] = set()
    return [_invent(rng, country, names) for country in countries]


def _invent(rng: random.Random, country: CountrySpec, taken: set[str]) -> Profile:
    consumer = rng.randint(1, 100) <= country.consumers
    while True:
        name = _consumer_name(rng, country) if consumer else _business_name(rng, country)
        if name not in taken:
            taken.add(name)
            break
    city = rng.choice(country.cities)
    address = {"line1": f"{rng.choice(country.streets)} {rng.randint(1, 180)}",
               "city": city.name, "postal_code": city.postal_code, "region": city.region}
    if consumer:
        first, last = name.split(" ", 1)
        email = f"{slug(first)}.{slug(last)}@mail.example"
        return Profile(name=name, country=country, consumer=True, size=rng.randint(1, 3),
                       habit=Habit.PUNCTUAL, terms_code="PREPAY", lateness=0, vat_id="",
                       email=email, address=address, payer_iban="", buyer_reference="",
                       tax_code=codice_fiscale(rng, first, last)
                       if country.code == "IT" else "")
    if country.code == "IT" and rng.randint(1, 100) <= 8:
        return _public_administration(rng, country, address, taken)
    habit = Habit(str(_weighted(rng, HABIT_WEIGHTS)))
    if habit is Habit.DIRECT_DEBIT and country.code not in PAYER_BANKS:
        habit = Habit.PUNCTUAL  # SEPA direct debit needs a European bank account
    terms = str(_weighted(rng, country.terms))
    if habit is Habit.DIRECT_DEBIT and terms == "PREPAY":
        terms = "NET30"
    banks = PAYER_BANKS.get(country.code)
    size = min(int(rng.paretovariate(1.16) * 10), 300)
    if habit is Habit.RARELY:
        size = min(size, 15)  # bad payers are small businesses
    tax_id = business_tax_id(country.code, rng, name)
    vat_country = country.code in VAT_COUNTRIES
    documents: dict[str, Any] | None = None
    if country.code == "IT":
        documents = {"format": "fatturapa", "codice_destinatario": office_code(rng, 7)}
    elif vat_country and rng.randint(1, 100) <= 40:  # reached through Peppol
        documents = {"format": "ubl", "peppol_id": f"{VAT_EAS[country.code]}:{tax_id}"}
    return Profile(
        name=name, country=country, consumer=False, size=size, habit=habit,
        terms_code=terms, lateness=rng.randint(5, 25),
        vat_id=tax_id if vat_country else "", tax_code="" if vat_country else tax_id,
        email=f"accounts@{slug(name)}.example", address=address,
        payer_iban=iban(country.code, rng.choice(banks), rng) if banks else "",
        buyer_reference="".join(rng.choice(string.ascii_uppercase + string.digits)
                                for _ in range(7)) if country.code == "IT" else "",
        documents=documents)


def _public_administration(rng: random.Random, country: CountrySpec,
                           address: dict[str, str], taken: set[str]) -> Profile:
    """A town's school canteen: a public administration, invoiced as FatturaPA FPA12 to its
    office code, with split payment (the town pays the VAT to the State)."""
    city = address["city"]
    name = f"Comune di {city} - Servizio mensa scolastica"
    suffix = 2
    while name in taken:
        name, suffix = f"Comune di {city} - Mensa scolastica {suffix}", suffix + 1
    taken.add(name)
    vat_id = italian_vat_id(rng)
    return Profile(
        name=name, country=country, consumer=False, size=rng.randint(5, 20),
        habit=Habit.LATE, terms_code="NET60", lateness=rng.randint(10, 40), vat_id=vat_id,
        tax_code=vat_id[2:], email=f"protocollo@comune-{slug(city)}.example", address=address,
        payer_iban="", buyer_reference=office_code(rng, 6),
        documents={"format": "fatturapa", "codice_destinatario": office_code(rng, 6),
                   "public_administration": True})


def _business_name(rng: random.Random, country: CountrySpec) -> str:
    kind = rng.choice(country.business_kinds)
    form = rng.choice(country.legal_forms)
    style = rng.randint(1, 3)
    if country.code == "US":
        if style == 1:
            return f"{rng.choice(country.business_names)} {kind} {form}"
        return f"{rng.choice(country.surnames)} & Sons {kind} {form}"
    if style == 1:
        return f"{kind} {rng.choice(country.business_names)} {form}"
    if style == 2:
        return f"{kind} {rng.choice(country.surnames)} {form}"
    return (f"{kind} {rng.choice(country.business_names)} di "
            f"{rng.choice(country.surnames)} {form}") if country.code == "IT" else \
        f"{kind} {rng.choice(country.surnames)} & {rng.choice(country.surnames)} {form}"


def _consumer_name(rng: random.Random, country: CountrySpec) -> str:
    return f"{rng.choice(country.first_names)} {rng.choice(country.surnames)}"


def assign_credit_limits(rng: random.Random, customers: list[Profile],
                         yearly_revenue: Decimal) -> None:
    """A credit limit worth one to two times the customer's purchases over its payment period
    (and its usual delay) plus a month; a few trusted accounts have none, a few new ones must
    be approved each time."""
    total_size = sum(c.size for c in customers)
    for customer in customers:
        if customer.consumer:
            continue
        roll = rng.randint(1, 100)
        if roll <= 4 and customer.habit in (Habit.PUNCTUAL, Habit.DIRECT_DEBIT):
            customer.credit_limit = None
            continue
        if roll >= 98:
            customer.credit_limit = D(0)
            continue
        revenue = yearly_revenue * customer.size / total_size
        days = max(line.days for line in customer.terms.lines) + 30
        if customer.habit in (Habit.LATE, Habit.PARTIAL):
            days += customer.lateness
        factor = D(rng.randint(11, 20)) / 10
        limit_eur = revenue * days / 365 * factor
        in_currency = limit_eur / FX_START.get(customer.currency, D(1))
        thousands = (max(in_currency, D(2000)) / 1000).to_integral_value(ROUND_CEILING)
        customer.credit_limit = thousands * 1000
