"""How pages write and read numbers, prices, units and dates: by the page's language and the
browser's region."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.web.i18n import Formatter, territory
from o2c.web.routes import decimal_field

D = Decimal


@pytest.mark.parametrize(("accept", "shown"), [
    ("en-GB,en;q=0.9", "2 Mar 2026"), ("en-US,en;q=0.9", "Mar 2, 2026"), ("", "Mar 2, 2026"),
    ("it-IT,it", "Mar 2, 2026"),  # Italian asked for, English page: no region for it
])
def test_english_dates_follow_the_browsers_region(accept: str, shown: str) -> None:
    assert Formatter("en", territory("en", accept)).date(date(2026, 3, 2)) == shown


@pytest.mark.parametrize(("language", "price", "shown"), [
    ("en", "0.034567", "€0.034567"), ("en", "12.5", "€12.50"), ("en", "1250", "€1,250.00"),
    ("it", "12.5", "12,50\xa0€"), ("fr", "0.034567", "0,034567\xa0€"),
])
def test_unit_prices_look_like_amounts_with_the_decimals_they_carry(
        language: str, price: str, shown: str) -> None:
    assert Formatter(language).price(D(price), "EUR") == shown


@pytest.mark.parametrize(("language", "unit", "shown"), [
    ("en", "C62", "3 pcs"), ("it", "C62", "3 pz"), ("es", "HUR", "3 h"), ("en", "KGM", "3 kg"),
    ("en", "XYZ", "3 XYZ"),
])
def test_units_are_words_not_un_ece_codes(language: str, unit: str, shown: str) -> None:
    assert Formatter(language).quantity(D(3), unit) == shown


@pytest.mark.parametrize(("language", "typed", "read"), [
    ("it", "1.234", D(1234)), ("it", "1.234,56", D("1234.56")), ("it", "12,5", D("12.5")),
    ("it", "12.5", D("12.5")), ("en", "1,234.56", D("1234.56")), ("fr", "1 234,56",
                                                                   D("1234.56")),
])
def test_numbers_typed_in_the_page_language_are_read_as_meant(language: str, typed: str,
                                                              read: Decimal) -> None:
    errors: dict[str, str] = {}
    assert decimal_field({"x": typed}, "x", errors, "not a number", language) == read
    assert errors == {}


@pytest.mark.parametrize(("language", "typed", "example"), [
    ("en", "1,5", "1,234.50"), ("it", "abc", "1.234,50"), ("en", "12.5.1", "1,234.50"),
])
def test_a_number_the_language_cannot_read_is_refused_with_an_example(
        language: str, typed: str, example: str) -> None:
    errors: dict[str, str] = {}
    assert decimal_field({"x": typed}, "x", errors, "not a number", language) is None
    assert errors == {"x": f"not a number ({example})"}
