"""VAT: which treatment applies to a sale, and totals per VAT breakdown (EN 16931)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.catalog import VatCategory, check_decimals
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO, RoundingMode, round_amount
from o2c.domain.parties import EU_COUNTRIES, RoundingPolicy, TaxRounding

HUNDRED = Decimal(100)


class VatCode(StrEnum):
    """UNCL 5305 VAT category codes used by EN 16931 (BT-118, BT-151)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"


@dataclass(frozen=True, slots=True)
class VatRate:
    country: str
    category: VatCategory
    rate: Decimal  # percent
    valid_from: date
    valid_to: date | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        check_decimals(self.rate, 4, "rate")
        if not ZERO <= self.rate < HUNDRED:
            raise InvalidInput(f"VAT rate must be between 0 and 100, got {self.rate}",
                               field="rate")
        if self.category in (VatCategory.ZERO, VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE) \
                and self.rate != 0:
            raise InvalidInput(f"a {self.category} VAT rate must be 0", field="rate")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise InvalidInput("valid_to is before valid_from", field="valid_to")

    def applies_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class VatTreatment:
    code: VatCode
    rate_country: str  # whose rate table applies (the buyer's for EU distance sales)
    rate_category: VatCategory
    exemption_reason: str = ""
    exemption_code: str = ""  # VATEX code (CEF code list)

    @property
    def needs_rate_lookup(self) -> bool:
        return self.code in (VatCode.STANDARD,)


# Exemption reasons (BT-120) citing the law, by treatment.
EXPORT_TEXT = "Export outside the EU, exempt (Art. 146 Directive 2006/112/EC)"
INTRA_EU_TEXT = "Intra-community supply, exempt (Art. 138 Directive 2006/112/EC)"
SERVICES_REVERSE_CHARGE_TEXT = ("Reverse charge: service to a business established abroad "
                                "(Art. 44 and 196 Directive 2006/112/EC)")
DOMESTIC_REVERSE_CHARGE_TEXT = "Reverse charge (Art. 199 Directive 2006/112/EC)"
EXEMPT_TEXT = "Exempt from VAT (Art. 132-135 Directive 2006/112/EC)"


def determine_treatment(
    seller_country: str, buyer_country: str, buyer_is_business: bool, category: VatCategory,
    *, service: bool = False,
) -> VatTreatment:
    """The VAT treatment of selling goods (or a service) of `category` from seller to buyer.

    Domestic sales use the product's category. Goods to a business in another EU country are
    an intra-community supply (K); to anywhere outside the EU, an export (G). EU distance sales
    of goods to consumers are taxed at the buyer country's rate (One-Stop-Shop rules since
    2021). A service to a business established in another country is taxed where the
    business is (Art. 44): reverse charge (AE); to a consumer, where the seller is (Art. 45).
    """
    seller_in_eu = seller_country in EU_COUNTRIES
    buyer_in_eu = buyer_country in EU_COUNTRIES
    abroad = buyer_country != seller_country
    if category is VatCategory.EXEMPT:
        return VatTreatment(VatCode.EXEMPT, seller_country, category, EXEMPT_TEXT)
    if service:
        if abroad and buyer_is_business:
            return VatTreatment(VatCode.REVERSE_CHARGE, seller_country,
                                VatCategory.REVERSE_CHARGE, SERVICES_REVERSE_CHARGE_TEXT,
                                "VATEX-EU-AE")
        buyer_country = seller_country  # B2C services: the supplier's country (Art. 45)
        abroad = False
    if abroad and not (seller_in_eu and buyer_in_eu):
        return VatTreatment(VatCode.EXPORT, seller_country, VatCategory.ZERO,
                            EXPORT_TEXT if seller_in_eu else "Export",
                            "VATEX-EU-G" if seller_in_eu else "")
    rate_country = seller_country
    if abroad:
        if buyer_is_business:
            return VatTreatment(VatCode.INTRA_EU, seller_country, VatCategory.ZERO,
                                INTRA_EU_TEXT, "VATEX-EU-IC")
        rate_country = buyer_country
    if category is VatCategory.REVERSE_CHARGE:
        if not buyer_is_business:
            return VatTreatment(VatCode.STANDARD, rate_country, VatCategory.STANDARD)
        return VatTreatment(VatCode.REVERSE_CHARGE, rate_country, category,
                            DOMESTIC_REVERSE_CHARGE_TEXT, "VATEX-EU-AE")
    if category is VatCategory.ZERO:
        return VatTreatment(VatCode.ZERO, rate_country, category)
    return VatTreatment(VatCode.STANDARD, rate_country, category)


def pick_rate(rates: Iterable[VatRate], country: str, category: VatCategory, on: date
              ) -> VatRate | None:
    candidates = [r for r in rates if r.country == country and r.category == category
                  and r.applies_on(on)]
    return max(candidates, key=lambda r: r.valid_from, default=None)


def line_net_amount(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str,
    mode: RoundingMode = RoundingMode.HALF_UP,
) -> Decimal:
    """Named rounding point: the line net amount (BT-131)."""
    gross = quantity * unit_price
    if discount_percent:
        gross = gross * (HUNDRED - discount_percent) / HUNDRED
    return round_amount(gross, currency, mode)


@dataclass(frozen=True, slots=True)
class TaxableLine:
    net_amount: Decimal
    vat_code: str
    vat_rate: Decimal
    exemption_reason: str = ""


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    vat_code: str
    vat_rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str = ""


@dataclass(frozen=True, slots=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal
    breakdown: tuple[TaxBreakdown, ...]


def compute_totals(lines: Iterable[TaxableLine], currency: str, policy: RoundingPolicy) -> Totals:
    """VAT per breakdown (code, rate): tax = round(taxable x rate) once per group (BR-CO-17),
    or the sum of per-line rounded taxes when the company rounds per line.
    Totals are sums of rounded parts (BR-CO-10, BR-CO-13..16) and are never re-rounded."""
    groups: dict[tuple[str, Decimal], list[TaxableLine]] = {}
    for line in lines:
        groups.setdefault((line.vat_code, line.vat_rate.normalize()), []).append(line)
    breakdown = []
    for (code, rate), members in sorted(groups.items(), key=lambda g: (g[0][0], -g[0][1])):
        taxable = sum((m.net_amount for m in members), ZERO)
        if policy.tax_rounding is TaxRounding.PER_LINE:
            tax = sum((round_amount(m.net_amount * m.vat_rate / HUNDRED, currency, policy.mode)
                       for m in members), ZERO)
        else:
            tax = round_amount(taxable * rate / HUNDRED, currency, policy.mode)
        reason = next((m.exemption_reason for m in members if m.exemption_reason), "")
        breakdown.append(TaxBreakdown(code, members[0].vat_rate, taxable, tax, reason))
    net = sum((b.taxable_amount for b in breakdown), ZERO)
    tax_total = sum((b.tax_amount for b in breakdown), ZERO)
    return Totals(net, tax_total, net + tax_total, tuple(breakdown))
