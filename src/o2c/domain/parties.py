"""Companies (the sellers) and their customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import InvalidInput, UnknownCurrency
from o2c.domain.money import MINOR_UNITS, RoundingMode, in_minor_units, is_rounded

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
LANGUAGES = frozenset({"en", "it", "fr", "es", "de"})
# Countries whose businesses have VAT identifiers (EN 16931 BT-31 / BT-48, with the country
# prefix). Elsewhere a business has a national tax number (US EIN, MX RFC), never a VAT id.
VAT_COUNTRIES = EU_COUNTRIES | {"GB", "CH", "NO"}
# The national tax identifier a party's `tax_code` holds, by country: (scheme, ISO 6523 ICD
# code of that register where there is one, for BT-30-1 / BT-47-1).
NATIONAL_TAX_IDS: dict[str, tuple[str, str]] = {
    "IT": ("CF", "0210"),  # codice fiscale
    "FR": ("SIREN", "0002"),
    "ES": ("NIF", ""),
    "DE": ("StNr", ""),  # Steuernummer
    "MX": ("RFC", ""),  # Registro Federal de Contribuyentes
    "US": ("EIN", ""),  # Employer Identification Number
}


@dataclass(frozen=True, slots=True)
class TaxIdentifiers:
    """A party's tax identifiers, typed: the VAT id (with its country prefix) and the national
    tax number under its scheme. Each output format puts each where it belongs."""

    country: str
    vat_id: str = ""
    national: str = ""

    @property
    def scheme(self) -> str:
        """EIN, RFC, CF, SIREN, NIF, StNr, or TIN for a country we have no name for."""
        return NATIONAL_TAX_IDS.get(self.country, ("TIN", ""))[0]

    @property
    def icd(self) -> str:
        return NATIONAL_TAX_IDS.get(self.country, ("", ""))[1]

    @classmethod
    def of(cls, country: str, vat_id: str, tax_code: str) -> TaxIdentifiers:
        """From stored master data or an invoice snapshot. Documents posted before tax ids
        were typed may hold a US EIN or a Mexican RFC as `vat_id`: outside the VAT countries
        that value is the national tax number."""
        if vat_id and country not in VAT_COUNTRIES:
            return cls(country, "", tax_code or vat_id)
        return cls(country, vat_id, tax_code)


def check_tax_identifiers(country: str, vat_id: str, tax_code: str) -> None:
    """What a customer's tax identifiers must be when they are entered: a VAT id only in a
    country that has them, and a codice fiscale for an Italian consumer (no FatturaPA can be
    issued to them without one)."""
    if vat_id and country not in VAT_COUNTRIES:
        scheme = NATIONAL_TAX_IDS.get(country, ("tax number", ""))[0]
        raise InvalidInput(f"a customer in {country} has no VAT identifier: give its {scheme} "
                           "as tax_code", field="vat_id")
    if country == "IT" and not vat_id and not tax_code:
        raise InvalidInput("an Italian customer without a partita IVA (a consumer) needs a "
                           "codice fiscale: without it no FatturaPA can be issued",
                           field="tax_code")


@dataclass(frozen=True, slots=True)
class Registration:
    """What the company register says about a company, which its invoices must show
    (Italy: art. 2250 c.c. and art. 21 DPR 633/72; FatturaPA IscrizioneREA)."""

    tax_code: str = ""  # national tax number (IT codice fiscale)
    register_office: str = ""  # IT: province of the REA office (MO)
    register_number: str = ""  # IT: numero REA
    share_capital: Decimal | None = None  # capital paid in, in the company's currency
    sole_shareholder: bool = False  # IT: socio unico
    in_liquidation: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"tax_code": self.tax_code, "register_office": self.register_office,
                "register_number": self.register_number,
                "share_capital": None if self.share_capital is None else str(self.share_capital),
                "sole_shareholder": self.sole_shareholder, "in_liquidation": self.in_liquidation}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Registration:
        data = data or {}
        capital = data.get("share_capital")
        return cls(tax_code=str(data.get("tax_code") or ""),
                   register_office=str(data.get("register_office") or ""),
                   register_number=str(data.get("register_number") or ""),
                   share_capital=None if capital in (None, "") else Decimal(str(capital)),
                   sole_shareholder=bool(data.get("sole_shareholder", False)),
                   in_liquidation=bool(data.get("in_liquidation", False)))

    def check(self) -> None:
        office = self.register_office
        if office and (len(office) != 2 or not office.isalpha() or not office.isupper()):
            raise InvalidInput(f"the register office is a 2-letter province code (MO), got "
                               f"{office!r}", field="registration.register_office")
        if bool(office) != bool(self.register_number):
            raise InvalidInput("a company register entry needs both the office and the number",
                               field="registration.register_number")
        if self.share_capital is not None and self.share_capital < 0:
            raise InvalidInput("share capital must not be negative",
                               field="registration.share_capital")


class TaxRounding(StrEnum):
    """EN 16931 rounds VAT once per breakdown (BR-CO-17); CFDI-style rounding is per line."""

    PER_BREAKDOWN = "per_breakdown"
    PER_LINE = "per_line"


class InvoicePolicy(StrEnum):
    ON_SHIPMENT = "on_shipment"
    ON_ORDER = "on_order"


@dataclass(frozen=True, slots=True)
class RoundingPolicy:
    tax_rounding: TaxRounding = TaxRounding.PER_BREAKDOWN
    mode: RoundingMode = RoundingMode.HALF_UP


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "line1": self.line1, "line2": self.line2, "city": self.city,
            "postal_code": self.postal_code, "region": self.region, "country": self.country,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Address:
        data = data or {}
        return cls(**{k: str(data.get(k) or "") for k in
                      ("line1", "line2", "city", "postal_code", "region", "country")})


# ISO 3166-1 alpha-2: the 249 officially assigned codes (no reserved or user-assigned ones
# such as EU, UN or XK): a country on an invoice must be one a tax authority knows.
ISO_3166_COUNTRIES = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
})


def check_country(country: str, field_name: str) -> str:
    if country not in ISO_3166_COUNTRIES:
        raise InvalidInput(f"country must be an ISO 3166 alpha-2 code like 'IT', got {country!r}",
                           field=field_name)
    return country


def check_currency(currency: str, field_name: str) -> str:
    if currency not in MINOR_UNITS:
        raise UnknownCurrency(currency, field=field_name)
    return currency


@dataclass(kw_only=True, eq=False)
class Company(Aggregate):
    object_type = "company"

    code: str
    name: str
    country: str
    currency: str
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    address: Address = field(default_factory=Address)
    email: str = ""
    rounding: RoundingPolicy = field(default_factory=RoundingPolicy)
    overdue_hold_days: int = 30  # customers overdue longer than this go on credit hold
    # What a new customer may owe before a credit manager looks at it (in the customer's
    # currency); None would be "no limit", which only an approver may give.
    default_credit_limit: Decimal = Decimal(0)
    registration: Registration = field(default_factory=Registration)

    def __post_init__(self) -> None:
        check_country(self.country, "country")
        check_currency(self.currency, "currency")
        if self.address.country:
            check_country(self.address.country, "address.country")
        self.registration.check()
        if self.overdue_hold_days < 0:
            raise InvalidInput("overdue_hold_days must not be negative", field="overdue_hold_days")
        if self.default_credit_limit < 0:
            raise InvalidInput("default_credit_limit must not be negative",
                               field="default_credit_limit")


@dataclass(kw_only=True, eq=False)
class Customer(Aggregate):
    object_type = "customer"

    company_id: int
    code: str
    name: str
    country: str
    currency: str
    language: str = "en"
    vat_id: str = ""  # normalised (compact, with country prefix for EU VAT)
    tax_code: str = ""  # national fiscal code where there is no VAT id (IT codice fiscale, MX RFC)
    email: str = ""
    billing_address: Address = field(default_factory=Address)
    shipping_address: Address = field(default_factory=Address)
    payment_terms_code: str = "NET30"
    credit_limit: Decimal | None = None  # None: no limit; 0: every order needs approval
    # The limit last approved by a second person (or set by a local system actor), lowered by
    # every reduction since: raises without approval are measured from here (o2c.domain.credit).
    approved_credit_limit: Decimal | None = None
    credit_blocked: bool = False
    overdue_hold_days: int | None = None  # None: the company's rule applies
    invoice_policy: InvoicePolicy = InvoicePolicy.ON_SHIPMENT
    buyer_reference: str = ""  # EN 16931 BT-10 (e.g. Leitweg-ID, PA office code)

    def __post_init__(self) -> None:
        check_country(self.country, "country")
        check_currency(self.currency, "currency")
        for name in ("billing_address", "shipping_address"):
            address = getattr(self, name)
            if address.country:
                check_country(address.country, f"{name}.country")
        if self.language not in LANGUAGES:
            raise InvalidInput(f"language must be one of {sorted(LANGUAGES)}, got "
                               f"{self.language!r}", field="language")
        if self.credit_limit is not None:
            if self.credit_limit < 0:
                raise InvalidInput("credit_limit must not be negative", field="credit_limit")
            if not is_rounded(self.credit_limit, self.currency):
                raise InvalidInput(f"credit_limit {self.credit_limit} has more decimals than "
                                   f"{self.currency} allows", field="credit_limit")
        if self.overdue_hold_days is not None and self.overdue_hold_days < 0:
            raise InvalidInput("overdue_hold_days must not be negative", field="overdue_hold_days")

    @property
    def is_business(self) -> bool:
        """A VAT-registered business, or outside the VAT countries one with a national
        business tax number (EIN, RFC). An Italian consumer's codice fiscale does not count."""
        return bool(self.vat_id) or (self.country not in VAT_COUNTRIES and bool(self.tax_code))

    @property
    def tax_identifiers(self) -> TaxIdentifiers:
        return TaxIdentifiers.of(self.country, self.vat_id, self.tax_code)

    def change(self, **changes: Any) -> dict[str, tuple[Any, Any]]:
        """Apply master-data changes and record them; returns {field: (before, after)}."""
        diff: dict[str, tuple[Any, Any]] = {}
        for name, value in changes.items():
            before = getattr(self, name)
            if before != value:
                diff[name] = (before, value)
                setattr(self, name, value)
        self.__post_init__()
        if diff:
            self.record("updated", changes={k: {"before": self._plain(b),
                                                 "after": self._plain(a)}
                                             for k, (b, a) in diff.items()})
        return diff

    def block(self, reason: str) -> None:
        if not self.credit_blocked:
            self.credit_blocked = True
            self.record("credit_blocked", reason=reason)

    def unblock(self, reason: str) -> None:
        if self.credit_blocked:
            self.credit_blocked = False
            self.record("credit_unblocked", reason=reason)

    def _plain(self, value: Any) -> Any:
        if isinstance(value, Address):
            return value.as_dict()
        if isinstance(value, Decimal):  # the one Decimal of a customer is its credit limit
            return str(in_minor_units(value, self.currency))
        if isinstance(value, StrEnum):
            return value.value
        return value
