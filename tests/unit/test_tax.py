"""VAT: the treatment of a sale and the totals per VAT breakdown (EN 16931)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.catalog import VatCategory
from o2c.domain.errors import InvalidInput
from o2c.domain.money import RoundingMode, round_amount
from o2c.domain.parties import RoundingPolicy, TaxRounding
from o2c.domain.tax import (
    TaxableLine,
    VatCode,
    VatRate,
    compute_totals,
    determine_treatment,
    line_net_amount,
    pick_rate,
)

D = Decimal
PER_BREAKDOWN = RoundingPolicy(TaxRounding.PER_BREAKDOWN)
PER_LINE = RoundingPolicy(TaxRounding.PER_LINE)
S, REDUCED, ZERO_CAT = VatCategory.STANDARD, VatCategory.REDUCED, VatCategory.ZERO
EXEMPT, RC = VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE


# -- determine_treatment -----------------------------------------------------------------------

TREATMENTS = [
    # seller, buyer, business, category -> code, rate country, rate category, VATEX code
    pytest.param("IT", "IT", True, S, VatCode.STANDARD, "IT", S, "", id="domestic-b2b"),
    pytest.param("IT", "IT", False, REDUCED, VatCode.STANDARD, "IT", REDUCED, "",
                 id="domestic-b2c-reduced"),
    pytest.param("IT", "IT", True, ZERO_CAT, VatCode.ZERO, "IT", ZERO_CAT, "",
                 id="domestic-zero-rated"),
    pytest.param("IT", "FR", True, S, VatCode.INTRA_EU, "IT", ZERO_CAT, "VATEX-EU-IC",
                 id="intra-eu-b2b"),
    pytest.param("IT", "DE", True, REDUCED, VatCode.INTRA_EU, "IT", ZERO_CAT, "VATEX-EU-IC",
                 id="intra-eu-b2b-reduced-goods"),
    pytest.param("IT", "FR", False, S, VatCode.STANDARD, "FR", S, "",
                 id="eu-distance-sale-b2c-at-buyer-rate"),
    pytest.param("IT", "DE", False, REDUCED, VatCode.STANDARD, "DE", REDUCED, "",
                 id="eu-distance-sale-b2c-reduced-at-buyer-rate"),
    pytest.param("IT", "US", True, S, VatCode.EXPORT, "IT", ZERO_CAT, "VATEX-EU-G",
                 id="export-b2b"),
    pytest.param("IT", "CH", False, REDUCED, VatCode.EXPORT, "IT", ZERO_CAT, "VATEX-EU-G",
                 id="export-b2c"),
    pytest.param("CH", "DE", True, S, VatCode.EXPORT, "CH", ZERO_CAT, "",
                 id="non-eu-seller-export"),
    pytest.param("IT", "IT", False, EXEMPT, VatCode.EXEMPT, "IT", EXEMPT, "", id="exempt"),
    pytest.param("IT", "US", True, EXEMPT, VatCode.EXEMPT, "IT", EXEMPT, "",
                 id="exempt-stays-exempt-abroad"),
    pytest.param("IT", "IT", True, RC, VatCode.REVERSE_CHARGE, "IT", RC, "VATEX-EU-AE",
                 id="domestic-reverse-charge-b2b"),
    pytest.param("IT", "IT", False, RC, VatCode.STANDARD, "IT", S, "",
                 id="reverse-charge-goods-to-consumer-pay-standard-vat"),
    pytest.param("IT", "FR", True, RC, VatCode.INTRA_EU, "IT", ZERO_CAT, "VATEX-EU-IC",
                 id="reverse-charge-goods-intra-eu-b2b"),
]


@pytest.mark.parametrize(("seller", "buyer", "business", "category", "code", "rate_country",
                          "rate_category", "vatex"), TREATMENTS)
def test_treatment_of_a_sale_follows_the_eu_vat_rules(
        seller: str, buyer: str, business: bool, category: VatCategory, code: VatCode,
        rate_country: str, rate_category: VatCategory, vatex: str) -> None:
    treatment = determine_treatment(seller, buyer, business, category)
    assert treatment.code is code
    assert treatment.rate_country == rate_country
    assert treatment.rate_category is rate_category
    assert treatment.exemption_code == vatex
    # Only standard-rated sales look a rate up; every other code has a reason or a 0 rate.
    assert treatment.needs_rate_lookup == (code is VatCode.STANDARD)
    if code in (VatCode.INTRA_EU, VatCode.EXPORT, VatCode.EXEMPT, VatCode.REVERSE_CHARGE):
        assert treatment.exemption_reason


SERVICES = [
    # seller, buyer, business, category -> code, rate country, VATEX code
    pytest.param("IT", "FR", True, S, VatCode.REVERSE_CHARGE, "IT", "VATEX-EU-AE",
                 id="service-to-eu-business-reverse-charge-not-intra-eu-supply"),
    pytest.param("IT", "US", True, S, VatCode.REVERSE_CHARGE, "IT", "VATEX-EU-AE",
                 id="service-to-non-eu-business-reverse-charge-not-export"),
    pytest.param("IT", "FR", False, S, VatCode.STANDARD, "IT", "",
                 id="service-to-eu-consumer-at-the-seller-rate-not-oss"),
    pytest.param("IT", "IT", True, S, VatCode.STANDARD, "IT", "", id="domestic-service"),
]


@pytest.mark.parametrize(("seller", "buyer", "business", "category", "code", "rate_country",
                          "vatex"), SERVICES)
def test_services_are_taxed_where_the_business_buyer_is_or_where_the_seller_is(
        seller: str, buyer: str, business: bool, category: VatCategory, code: VatCode,
        rate_country: str, vatex: str) -> None:
    treatment = determine_treatment(seller, buyer, business, category, service=True)
    assert (treatment.code, treatment.rate_country, treatment.exemption_code) == (
        code, rate_country, vatex)
    if code is VatCode.REVERSE_CHARGE:
        assert "Art. 44 and 196" in treatment.exemption_reason


# -- rates -------------------------------------------------------------------------------------

def test_pick_rate_takes_the_rate_in_force_on_the_day() -> None:
    old = VatRate("IT", S, D(21), date(2011, 9, 17), date(2013, 9, 30))
    new = VatRate("IT", S, D(22), date(2013, 10, 1))
    other = VatRate("FR", S, D(20), date(2014, 1, 1))
    rates = [old, new, other]
    assert pick_rate(rates, "IT", S, date(2013, 9, 30)) is old
    assert pick_rate(rates, "IT", S, date(2013, 10, 1)) is new
    assert pick_rate(rates, "IT", S, date(2010, 1, 1)) is None
    assert pick_rate(rates, "IT", REDUCED, date(2020, 1, 1)) is None


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"category": S, "rate": D(100)}, "rate"),
    ({"category": S, "rate": D(-1)}, "rate"),
    ({"category": S, "rate": D("22.00001")}, "rate"),
    ({"category": ZERO_CAT, "rate": D(5)}, "rate"),
    ({"category": EXEMPT, "rate": D(1)}, "rate"),
    ({"category": S, "rate": D(22), "valid_to": date(2019, 12, 31)}, "valid_to"),
])
def test_an_impossible_vat_rate_is_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        VatRate(country="IT", valid_from=date(2020, 1, 1), **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


# -- line amounts and totals -------------------------------------------------------------------

@pytest.mark.parametrize(("qty", "price", "discount", "net"), [
    ("2", "120.00", "0", "240.00"),
    ("3", "0.034567", "0", "0.10"),  # unit prices carry more decimals; the line is rounded
    ("1000", "0.034567", "0", "34.57"),
    ("3", "19.90", "10", "53.73"),  # 59.70 less 10% = 53.73
    ("1", "0.125", "0", "0.13"),
    ("1", "10.00", "100", "0.00"),
])
def test_line_net_amount_is_rounded_once_after_the_discount(
        qty: str, price: str, discount: str, net: str) -> None:
    assert line_net_amount(D(qty), D(price), D(discount), "EUR") == D(net)


def test_vat_is_rounded_once_per_breakdown_not_per_line() -> None:
    """BR-CO-17: three lines of 1.03 at 22% carry 0.2266 VAT each; rounded per breakdown the
    invoice owes 0.68, rounded per line (a per-company option) 3 x 0.23 = 0.69."""
    lines = [TaxableLine(D("1.03"), "S", D(22)) for _ in range(3)]
    per_breakdown = compute_totals(lines, "EUR", PER_BREAKDOWN)
    per_line = compute_totals(lines, "EUR", PER_LINE)
    assert (per_breakdown.net, per_breakdown.tax, per_breakdown.gross) == (
        D("3.09"), D("0.68"), D("3.77"))
    assert (per_line.net, per_line.tax, per_line.gross) == (D("3.09"), D("0.69"), D("3.78"))


def test_breakdowns_group_by_code_and_rate_and_carry_the_exemption_reason() -> None:
    lines = [
        TaxableLine(D("240.00"), "S", D(22)),
        TaxableLine(D("59.70"), "S", D(4)),
        TaxableLine(D("100.00"), "S", D("22.00")),  # same rate written differently
        TaxableLine(D("50.00"), "K", D(0), "Intra-community supply"),
    ]
    totals = compute_totals(lines, "EUR", PER_BREAKDOWN)
    assert [(b.vat_code, b.vat_rate, b.taxable_amount, b.tax_amount, b.exemption_reason)
            for b in totals.breakdown] == [
        ("K", D(0), D("50.00"), D("0.00"), "Intra-community supply"),
        ("S", D(22), D("340.00"), D("74.80"), ""),
        ("S", D(4), D("59.70"), D("2.39"), ""),
    ]
    assert totals.net == D("449.70")
    assert totals.tax == D("77.19")
    assert totals.gross == D("526.89")


def test_half_even_companies_round_vat_half_even() -> None:
    lines = [TaxableLine(D("0.25"), "S", D(10))]  # 0.025 VAT
    assert compute_totals(lines, "EUR", PER_BREAKDOWN).tax == D("0.03")
    even = RoundingPolicy(TaxRounding.PER_BREAKDOWN, RoundingMode.HALF_EVEN)
    assert compute_totals(lines, "EUR", even).tax == D("0.02")


TAXABLE = st.builds(
    TaxableLine,
    net_amount=st.integers(min_value=0, max_value=10**8).map(lambda u: D(u) / 100),
    vat_code=st.sampled_from(["S", "Z", "K"]),
    vat_rate=st.sampled_from([D(0), D(4), D(10), D("5.5"), D(22), D(19)]),
)


@settings(deadline=None, max_examples=200)
@given(st.lists(TAXABLE, min_size=1, max_size=15), st.sampled_from([PER_BREAKDOWN, PER_LINE]))
def test_totals_are_sums_of_rounded_parts_and_never_re_rounded(
        lines: list[TaxableLine], policy: RoundingPolicy) -> None:
    totals = compute_totals(lines, "EUR", policy)
    assert totals.net == sum((line.net_amount for line in lines), D(0))
    assert totals.net == sum((b.taxable_amount for b in totals.breakdown), D(0))
    assert totals.tax == sum((b.tax_amount for b in totals.breakdown), D(0))
    assert totals.gross == totals.net + totals.tax
    for b in totals.breakdown:
        members = [x for x in lines if x.vat_code == b.vat_code and x.vat_rate == b.vat_rate]
        if policy is PER_BREAKDOWN:
            assert b.tax_amount == round_amount(b.taxable_amount * b.vat_rate / 100, "EUR")
        else:
            assert b.tax_amount == sum(
                (round_amount(m.net_amount * m.vat_rate / 100, "EUR") for m in members), D(0))
        # Rounding per breakdown and per line differ by at most half a cent per line.
        exact = b.taxable_amount * b.vat_rate / 100
        assert abs(b.tax_amount - exact) <= D("0.005") * len(members)
