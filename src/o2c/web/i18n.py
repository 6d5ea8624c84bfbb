"""The language of a page and how numbers, amounts and dates look in it.

Texts are translated from gettext catalogues (`translations/<lang>.po`, edited by
translators, read once at start); numbers and dates are formatted by Babel. Amounts keep the
ISO 4217 minor units of their currency (Babel's own currency digits differ for some)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, parse_pattern

from o2c.domain.credit import HOLD_REASONS
from o2c.domain.money import MINOR_UNITS
from o2c.domain.payment_terms import TERMS_TEXTS

LANGUAGES = ("en", "it", "fr", "es")
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "fr": "Français", "es": "Español"}
DEFAULT_LANGUAGE = "en"
CATALOGUES = Path(__file__).parent / "translations"


@cache
def _catalogue(language: str) -> dict[str, str]:
    path = CATALOGUES / f"{language}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def negotiate(requested: str | None, cookie: str | None, accept_language: str | None) -> str:
    """An explicit choice, then the remembered one, then the browser's preference."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and not quality.strip().endswith("=0"):
            return primary
    return DEFAULT_LANGUAGE


@cache
def _locale(language: str, region: str) -> Locale:
    return Locale.parse(f"{language}_{region}" if region else language)


def territory(language: str, accept_language: str | None) -> str:
    """The region the browser asks for with the page's language ("en-GB" -> "GB"): dates and
    numbers follow it (2 Mar 2026 in Britain, Mar 2, 2026 in the US). Empty when none."""
    for part in (accept_language or "").split(","):
        tag = part.strip().split(";")[0].strip().replace("_", "-")
        primary, _, region = tag.partition("-")
        if primary.lower() == language and re.fullmatch(r"[A-Za-z]{2}", region):
            try:
                Locale.parse(f"{language}_{region.upper()}")
            except (ValueError, UnknownLocaleError):
                return ""
            return region.upper()
    return ""


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """A text made from `template` ("{amount} overdue for {days} days"), values captured."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                    for i, part in enumerate(parts))
    return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class Formatter:
    """Everything a template needs to speak one language."""

    language: str
    territory: str = ""  # "GB", "US": the browser's region for this language

    @property
    def locale(self) -> Locale:
        return _locale(self.language, self.territory)

    def gettext(self, text: str, **values: object) -> str:
        translated = _catalogue(self.language).get(text, text)
        return translated.format(**values) if values else translated

    def generated(self, text: str, templates: tuple[str, ...] | list[str],
                  separator: str) -> str:
        """A text the domain wrote in English from known templates (hold reasons, payment
        terms), in this language: each part is matched to its template and translated with
        its values; a part that matches none stays as it is."""
        out = []
        for part in text.split(separator):
            for template in templates:
                match = _pattern(template).match(part)
                if match:
                    part = self.gettext(template, **match.groupdict())
                    break
            out.append(part)
        return separator.join(out)

    def hold_reasons(self, text: str) -> str:
        return self.generated(text, HOLD_REASONS, "; ")

    def payment_terms(self, text: str) -> str:
        head, _, discount = text.partition("; ")
        result = self.generated(head, list(TERMS_TEXTS.values()), ", ")
        if discount:
            result += "; " + self.generated(discount, [TERMS_TEXTS["discount"]], "; ")
        return result

    def money(self, value: Decimal | None, currency: str) -> str:
        if value is None:
            return ""
        digits = MINOR_UNITS.get(currency, 2)
        pattern = parse_pattern(self.locale.currency_formats["standard"].pattern)
        pattern.frac_prec = (digits, digits)
        return str(pattern.apply(value, self.locale, currency=currency, currency_digits=False))

    def price(self, value: Decimal | None, currency: str) -> str:
        """A unit price like an amount (currency, grouping), with the decimals it carries
        beyond the currency's (0.034567 stays 0.034567)."""
        if value is None:
            return ""
        digits = MINOR_UNITS.get(currency, 2)
        exponent = value.normalize().as_tuple().exponent
        places = max(digits, -exponent if isinstance(exponent, int) else digits)
        pattern = parse_pattern(self.locale.currency_formats["standard"].pattern)
        pattern.frac_prec = (places, places)
        return str(pattern.apply(value, self.locale, currency=currency, currency_digits=False))

    def unit(self, code: str) -> str:
        """A unit of measure as a word of the language (pcs, kg); UN/ECE codes (C62, KGM)
        are for e-invoices."""
        key = f"unit_{code}"
        word = self.gettext(key)
        return code if word == key else word

    def quantity(self, value: Decimal | int | None, unit: str) -> str:
        return f"{self.number(value)} {self.unit(unit)}".strip()

    def number(self, value: Decimal | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale,
                                                       decimal_quantization=False)

    def percent(self, value: Decimal | None) -> str:
        return "" if value is None else format_percent(value / 100, locale=self.locale,
                                                       decimal_quantization=False)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, format="short", locale=self.locale)
        return format_date(value, format="medium", locale=self.locale)
