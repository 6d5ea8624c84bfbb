"""Validation of business identifiers with python-stdnum (VAT ids, fiscal codes) and schwifty
(IBAN, BIC). Returns the compact, normalised form or raises InvalidInput naming the field."""

from __future__ import annotations

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from o2c.domain.errors import InvalidInput
from o2c.domain.parties import EU_COUNTRIES

# Tax identifiers of non-EU countries we sell to: module name in python-stdnum.
_NATIONAL_TAX_IDS = {"MX": "rfc", "US": "ein", "GB": "vat", "CH": "vat", "NO": "mva"}


def normalise_vat_id(country: str, value: str, field: str = "vat_id") -> str:
    """EU VAT ids keep their country prefix (IT00743110157); the prefix may be omitted on input.
    Outside the EU, the national business tax id (MX RFC, US EIN...) is checked."""
    value = value.strip()
    if not value:
        return ""
    if country in EU_COUNTRIES:
        prefix = "EL" if country == "GR" else country
        compact = "".join(ch for ch in value.upper() if ch.isalnum())
        if not compact[:2].isalpha():
            compact = prefix + compact
        try:
            return str(eu_vat.validate(compact))
        except ValidationError as error:
            raise InvalidInput(f"{value!r} is not a valid {country} VAT id: {error}",
                               field=field) from None
    module_name = _NATIONAL_TAX_IDS.get(country)
    if module_name is None:
        return value.replace(" ", "").upper()
    module = get_cc_module(country.lower(), module_name)
    if module is None:
        return value.replace(" ", "").upper()
    try:
        return str(module.validate(value))
    except ValidationError as error:
        raise InvalidInput(f"{value!r} is not a valid {country} tax id "
                           f"({module_name.upper()}): {error}", field=field) from None


_FISCAL_CODES = {"IT": "codicefiscale", "ES": "nif", "FR": "siren", "MX": "rfc"}


def normalise_tax_code(country: str, value: str, field: str = "tax_code") -> str:
    value = value.strip()
    if not value:
        return ""
    module_name = _FISCAL_CODES.get(country)
    module = get_cc_module(country.lower(), module_name) if module_name else None
    if module is None:
        return value.replace(" ", "").upper()
    try:
        return str(module.validate(value))
    except ValidationError as error:
        raise InvalidInput(f"{value!r} is not a valid {country} fiscal code: {error}",
                           field=field) from None


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
