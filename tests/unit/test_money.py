"""Money: exact amounts tagged with a currency, one rounding function, exact allocation."""

from __future__ import annotations

import decimal
import threading
from decimal import Decimal

import iso4217
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, UnknownCurrency
from o2c.domain.money import (
    MINOR_UNITS,
    Money,
    RoundingMode,
    allocate,
    is_rounded,
    minor_units,
    quantum,
    round_amount,
    to_decimal,
    total,
)

D = Decimal
PROPERTY = settings(deadline=None, max_examples=200)


def test_minor_units_table_equals_the_iso4217_exponents() -> None:
    published = {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}
    assert published == MINOR_UNITS


@pytest.mark.parametrize(("currency", "digits", "smallest"), [
    ("EUR", 2, D("0.01")), ("JPY", 0, D(1)), ("KWD", 3, D("0.001")), ("CLF", 4, D("0.0001")),
])
def test_quantum_is_the_smallest_amount_of_the_currency(currency: str, digits: int,
                                                        smallest: Decimal) -> None:
    assert minor_units(currency) == digits
    assert quantum(currency) == smallest


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        Money(D(1), "XXY")
    with pytest.raises(UnknownCurrency):
        round_amount(D(1), "EURO")


def test_adding_and_subtracting_money_of_one_currency_is_exact() -> None:
    a, b = Money(D("0.10"), "EUR"), Money(D("0.20"), "EUR")
    assert a + b == Money(D("0.30"), "EUR")
    assert b - a == Money(D("0.10"), "EUR")
    assert -a == Money(D("-0.10"), "EUR")
    assert a * 3 == Money(D("0.30"), "EUR")
    assert 3 * a == Money(D("0.30"), "EUR")
    assert total([a, b, a], "EUR") == Money(D("0.40"), "EUR")
    assert total([], "JPY") == Money.zero("JPY")


@pytest.mark.parametrize("operation", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b,
])
def test_mixing_currencies_raises_currency_mismatch(operation: object) -> None:
    eur, usd = Money(D(1), "EUR"), Money(D(1), "USD")
    with pytest.raises(CurrencyMismatch) as error:
        operation(eur, usd)  # type: ignore[operator]
    assert error.value.details == {"expected": "EUR", "got": "USD"}


def test_a_total_over_several_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatch):
        total([Money(D(1), "EUR"), Money(D(1), "USD")], "EUR")


@pytest.mark.parametrize("make", [
    lambda: Money(0.1, "EUR"),  # type: ignore[arg-type]
    lambda: Money.of(0.1, "EUR"),  # type: ignore[arg-type]
    lambda: Money(D(1), "EUR") * 1.5,  # type: ignore[operator]
    lambda: to_decimal(1.0),  # type: ignore[arg-type]
    lambda: to_decimal(True),
    lambda: round_amount(0.125, "EUR"),  # type: ignore[arg-type]
])
def test_floats_never_become_money(make: object) -> None:
    with pytest.raises(TypeError):
        make()  # type: ignore[operator]


def test_a_float_reaching_decimal_arithmetic_raises_in_every_thread() -> None:
    with pytest.raises(decimal.FloatOperation):
        D(0.1)
    with pytest.raises(decimal.FloatOperation):
        _ = D("0.1") < 0.2
    raised: list[BaseException] = []

    def in_thread() -> None:
        try:
            D(0.1)
        except decimal.FloatOperation as error:
            raised.append(error)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert len(raised) == 1


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", ""])
def test_text_that_is_not_a_finite_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        to_decimal(text)


def test_exact_inputs_are_accepted() -> None:
    assert to_decimal("  12.50 ") == D("12.50")
    assert to_decimal(7) == D(7)
    assert Money.of("19.99", "EUR").amount == D("19.99")
    assert str(Money(D("5"), "EUR")) == "5.00 EUR"
    assert str(Money(D("5"), "KWD")) == "5.000 KWD"


@pytest.mark.parametrize(("amount", "currency", "half_up", "half_even"), [
    ("2.345", "EUR", "2.35", "2.34"),
    ("2.355", "EUR", "2.36", "2.36"),
    ("-2.345", "EUR", "-2.35", "-2.34"),
    ("0.005", "EUR", "0.01", "0.00"),
    ("12.5", "JPY", "13", "12"),
    ("13.5", "JPY", "14", "14"),
    ("1.0005", "KWD", "1.001", "1.000"),
    ("7.123449", "EUR", "7.12", "7.12"),
])
def test_round_amount_rounds_half_up_or_half_even_to_minor_units(
        amount: str, currency: str, half_up: str, half_even: str) -> None:
    up = round_amount(D(amount), currency, RoundingMode.HALF_UP)
    even = round_amount(D(amount), currency, RoundingMode.HALF_EVEN)
    assert (up, even) == (D(half_up), D(half_even))
    assert up.as_tuple().exponent == -minor_units(currency)


def test_half_up_is_the_default_rounding() -> None:
    assert round_amount(D("0.125"), "EUR") == D("0.13")
    assert Money(D("0.125"), "EUR").rounded() == Money(D("0.13"), "EUR")
    assert Money(D("0.125"), "EUR").rounded(RoundingMode.HALF_EVEN) == Money(D("0.12"), "EUR")


CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD", "CLF"])


@st.composite
def allocations(draw: st.DrawFn) -> tuple[Decimal, list[Decimal], str]:
    currency = draw(CURRENCIES)
    units = draw(st.integers(min_value=-10**9, max_value=10**9))
    weights = draw(st.lists(
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False,
                    allow_infinity=False), min_size=1, max_size=12))
    return D(units) * quantum(currency), weights, currency


@PROPERTY
@given(allocations())
def test_allocated_parts_always_sum_exactly_to_the_total(
        case: tuple[Decimal, list[Decimal], str]) -> None:
    amount, weights, currency = case
    parts = allocate(amount, weights, currency)
    assert sum(parts, D(0)) == amount
    assert len(parts) == len(weights)
    assert all(is_rounded(p, currency) for p in parts)
    # Each part is within one minor unit of its exact proportional share.
    weight_sum = sum(weights, D(0))
    for part, weight in zip(parts, weights, strict=True):
        exact = amount * weight / weight_sum if weight_sum else amount / len(weights)
        assert abs(part - exact) < quantum(currency)
        # A part never has the opposite sign of the total.
        assert part * amount >= 0


def test_allocate_splits_by_largest_remainder_with_ties_to_the_earlier_part() -> None:
    assert allocate(D("100.00"), [D(1), D(1), D(1)], "EUR") == [
        D("33.34"), D("33.33"), D("33.33")]
    assert allocate(D("0.05"), [D(3), D(7)], "EUR") == [D("0.02"), D("0.03")]  # tie: earlier
    assert allocate(D("0.10"), [D(1), D(2)], "EUR") == [D("0.03"), D("0.07")]
    assert allocate(D(10), [D(0), D(0)], "JPY") == [D(5), D(5)]
    assert allocate(D("-1.00"), [D(1), D(2)], "EUR") == [D("-0.33"), D("-0.67")]


@pytest.mark.parametrize(("amount", "weights"), [
    ("1.00", []), ("1.00", [D(-1), D(2)]), ("1.005", [D(1)]),
])
def test_allocate_refuses_bad_input(amount: str, weights: list[Decimal]) -> None:
    with pytest.raises(ValueError):
        allocate(D(amount), weights, "EUR")
