"""Validation of business identifiers with python-stdnum (VAT ids, fiscal codes) and schwifty
(IBAN, BIC). Returns the compact, normalised form or raises InvalidInput naming the field."""

from __future__ import annotations

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from o2c.domain.errors import InvalidInput
from o2c.domain.parties import (
    EU_COUNTRIES,
    NATIONAL_TAX_IDS,
    VAT_COUNTRIES,
    check_tax_identifiers,
)

# VAT identifiers outside the EU: python-stdnum module by country (prefix added on output).
_OTHER_VAT = {"GB": "vat", "CH": "vat", "NO": "mva"}


def normalise_vat_id(country: str, value: str, field: str = "vat_id") -> str:
    """A VAT identifier, compact with its country prefix (IT00743110157; EL for Greece); the
    prefix may be omitted on input. Only countries with VAT identifiers have them: a US EIN or
    a Mexican RFC is a national tax number (`normalise_tax_code`), and is refused here."""
    value = value.strip()
    if not value:
        return ""
    if country not in VAT_COUNTRIES:
        check_tax_identifiers(country, value, "")  # raises, naming the field to use
    prefix = "EL" if country == "GR" else country
    compact = "".join(ch for ch in value.upper() if ch.isalnum())
    if not compact.startswith(prefix):
        compact = prefix + compact
    try:
        if country in EU_COUNTRIES:
            return str(eu_vat.validate(compact))
        module = get_cc_module(country.lower(), _OTHER_VAT[country])
        assert module is not None
        valid = str(module.validate(compact))
        return valid if valid.startswith(country) else country + valid
    except ValidationError as error:
        raise InvalidInput(f"{value!r} is not a valid {country} VAT id: {error}",
                           field=field) from None


# National tax numbers (TaxIdentifiers.scheme): python-stdnum module by country.
_NATIONAL = {"IT": "codicefiscale", "ES": "nif", "FR": "siren", "MX": "rfc", "US": "ein"}


def normalise_tax_code(country: str, value: str, field: str = "tax_code") -> str:
    """The national tax number of `country` (IT codice fiscale or the company's numeric code,
    FR SIREN, ES NIF, MX RFC, US EIN), compact and checked; other countries' as given."""
    value = value.strip()
    if not value:
        return ""
    module_name = _NATIONAL.get(country)
    module = get_cc_module(country.lower(), module_name) if module_name else None
    if module is None:
        return value.replace(" ", "").upper()
    if country == "IT" and value.strip().isdigit():
        module = get_cc_module("it", "iva")  # a company's codice fiscale is numeric
    assert module is not None
    try:
        return str(module.validate(value))
    except ValidationError as error:
        scheme = NATIONAL_TAX_IDS.get(country, ("", ""))[0]
        raise InvalidInput(f"{value!r} is not a valid {country} tax number ({scheme}): "
                           f"{error}", field=field) from None


def normalise_iban(value: str, field: str = "iban") -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    value = value.strip()
    if not value:
        return ""
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as error:
        raise InvalidInput(f"{value!r} is not a valid IBAN: {error}", field=field) from None


def normalise_bic(value: str, field: str = "bic") -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    value = value.strip()
    if not value:
        return ""
    try:
        return str(BIC(value, allow_invalid=False).compact)
    except SchwiftyException as error:
        raise InvalidInput(f"{value!r} is not a valid BIC: {error}", field=field) from None
