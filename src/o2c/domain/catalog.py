"""Products that can be sold, with their unit, price and VAT category."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import InvalidInput

UNIT_PRICE_DECIMALS = 6
QUANTITY_DECIMALS = 4

# UN/ECE Recommendation 20 unit codes accepted on order lines (EN 16931 BT-130).
UNITS = {
    "C62": "unit", "H87": "piece", "KGM": "kilogram", "GRM": "gram", "LTR": "litre",
    "MTR": "metre", "MTK": "square metre", "HUR": "hour", "DAY": "day", "MON": "month",
    "SET": "set", "PK": "package", "BX": "box", "XPP": "piece",
}


class VatCategory(StrEnum):
    """How a product is taxed at home; cross-border rules may override it."""

    STANDARD = "standard"
    REDUCED = "reduced"
    SUPER_REDUCED = "super_reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    REVERSE_CHARGE = "reverse_charge"  # domestic reverse charge (e.g. certain electronics)


class ProductKind(StrEnum):
    """Goods or services: where a cross-border sale is taxed depends on it (services to a
    business abroad are reverse charged, art. 44 and 196 of Directive 2006/112/EC)."""

    GOODS = "goods"
    SERVICE = "service"


def decimals_of(value: Decimal) -> int:
    if not isinstance(value, Decimal):  # a float would carry binary noise: refuse it
        raise TypeError(f"expected a Decimal, got {type(value).__name__} {value!r}")
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_decimals(value: Decimal, places: int, field_name: str) -> Decimal:
    """Values are stored exactly with a fixed number of decimals; more is an input error."""
    if decimals_of(value) > places:
        raise InvalidInput(f"{value} has more than {places} decimals", field=field_name)
    return value


def check_quantity(quantity: Decimal, field_name: str) -> Decimal:
    if quantity <= 0:
        raise InvalidInput(f"quantity must be greater than zero, got {quantity}", field=field_name)
    if decimals_of(quantity) > QUANTITY_DECIMALS:
        raise InvalidInput(f"quantity {quantity} has more than {QUANTITY_DECIMALS} decimals",
                           field=field_name)
    return quantity


def check_unit_price(price: Decimal, field_name: str) -> Decimal:
    if price < 0:
        raise InvalidInput(f"unit price must not be negative, got {price}", field=field_name)
    if decimals_of(price) > UNIT_PRICE_DECIMALS:
        raise InvalidInput(f"unit price {price} has more than {UNIT_PRICE_DECIMALS} decimals",
                           field=field_name)
    return price


@dataclass(kw_only=True, eq=False)
class Product(Aggregate):
    object_type = "product"

    company_id: int
    sku: str
    name: str
    unit: str = "C62"
    unit_price: Decimal  # in the company's currency
    vat_category: VatCategory = VatCategory.STANDARD
    prices: dict[str, Decimal] = field(default_factory=dict)  # other currencies
    kind: ProductKind = ProductKind.GOODS
    active: bool = True

    def __post_init__(self) -> None:
        if not self.sku.strip():
            raise InvalidInput("sku must not be empty", field="sku")
        if self.unit not in UNITS:
            raise InvalidInput(f"unit must be a UN/ECE Rec 20 code among {sorted(UNITS)}, got "
                               f"{self.unit!r}", field="unit")
        check_unit_price(self.unit_price, "unit_price")
        for currency, price in self.prices.items():
            check_unit_price(price, f"prices.{currency}")

    def price_in(self, currency: str, company_currency: str) -> Decimal | None:
        if currency == company_currency:
            return self.unit_price
        return self.prices.get(currency)
