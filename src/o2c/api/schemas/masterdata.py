"""Companies, customers, payment terms, products, warehouses, stock, VAT and exchange rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from o2c.api.schemas.common import (
    Address,
    AddressIn,
    Amount,
    Day,
    Dec,
    Input,
    Model,
    Patch,
    Percent,
    Quantity,
    Rate,
    Ref,
    UnitPrice,
)
from o2c.domain import commands as c
from o2c.domain.catalog import ProductKind, VatCategory
from o2c.domain.shipping import DeliveryRoute

Country = Annotated[str, Field(min_length=2, max_length=2, examples=["IT"],
                               description="ISO 3166-1 alpha-2")]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["EUR"],
                                description="ISO 4217")]
CurrencyKey = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")]

# -- companies ----------------------------------------------------------------------------------


class RegistrationIn(Input):
    """What the company register says of the company; its invoices must show it (Italy:
    codice fiscale, REA office and number, share capital, sole shareholder)."""

    tax_code: str = Field("", max_length=32, description="national tax number (IT: codice "
                                                         "fiscale)")
    register_office: str = Field("", max_length=2, description="IT: province of the REA "
                                                               "office, e.g. MO")
    register_number: str = Field("", max_length=20, description="IT: numero REA")
    share_capital: Amount | None = Field(None, description="capital paid in")
    sole_shareholder: bool = Field(False, description="IT: socio unico")
    in_liquidation: bool = False


class CompanyIn(Input):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    country: Country
    currency: Currency
    vat_id: str = Field("", max_length=32)
    iban: str = Field("", max_length=42)
    bic: str = Field("", max_length=11)
    address: AddressIn = Field(default_factory=AddressIn)
    email: str = Field("", max_length=200)
    tax_rounding: str = Field("per_breakdown", max_length=20,
                              description="per_breakdown | per_line")
    rounding_mode: str = Field("half_up", max_length=20, description="half_up | half_even")
    overdue_hold_days: int = Field(30, ge=0, le=3650)
    default_credit_limit: Amount = Field(
        Decimal(0), description="the credit limit of a new customer when none is given")
    registration: RegistrationIn = Field(default_factory=RegistrationIn)

    def command(self) -> c.CreateCompany:
        return c.CreateCompany(**{**self.model_dump(), "address": self.address.as_dict(),
                                  "registration": self.registration.model_dump()})


class CompanyOut(Model):
    id: int
    code: str
    name: str
    country: str
    currency: str
    vat_id: str
    iban: str
    bic: str
    address: Address
    email: str
    tax_rounding: str
    rounding_mode: str
    overdue_hold_days: int
    default_credit_limit: Dec
    registration: dict[str, Any]


# -- payment terms ------------------------------------------------------------------------------


class TermLineIn(Input):
    percent: Percent
    days: int = Field(ge=0, le=3650)
    end_of_month: bool = False


class PaymentTermsIn(Input):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    lines: list[TermLineIn] = Field(min_length=1, max_length=12)
    discount_percent: Percent = Decimal(0)
    discount_days: int = Field(0, ge=0, le=3650)

    def command(self) -> c.CreatePaymentTerms:
        return c.CreatePaymentTerms(
            self.code, self.name,
            tuple((line.percent, line.days, line.end_of_month) for line in self.lines),
            discount_percent=self.discount_percent, discount_days=self.discount_days)


class TermLineOut(Model):
    percent: Dec
    days: int
    end_of_month: bool


class PaymentTermsOut(Model):
    id: int
    code: str
    name: str
    lines: list[TermLineOut]
    discount_percent: Dec
    discount_days: int


# -- customers ----------------------------------------------------------------------------------


class CustomerIn(Input):
    company_id: Ref
    name: str = Field(min_length=1, max_length=200)
    country: Country
    currency: str | None = Field(None, min_length=3, max_length=3,
                                 description="the company's currency when omitted")
    code: str | None = Field(None, max_length=32, description="generated when omitted")
    language: str = Field("en", max_length=5)
    vat_id: str = Field("", max_length=32)
    tax_code: str = Field("", max_length=32)
    email: str = Field("", max_length=200)
    billing_address: AddressIn = Field(default_factory=AddressIn)
    shipping_address: AddressIn | None = None
    payment_terms_code: str = Field("NET30", max_length=32)
    credit_limit: Amount | None = Field(
        None, description="omitted: the company's default limit for new customers; null: no "
                          "limit (only a credit manager or controller may give one); 0: "
                          "every order needs a credit manager")
    credit_blocked: bool = False
    overdue_hold_days: int | None = Field(None, ge=0, le=3650)
    invoice_policy: str = Field("on_shipment", max_length=20,
                                description="on_shipment | on_order")
    buyer_reference: str = Field("", max_length=100)

    def command(self) -> c.CreateCustomer:
        data = self.model_dump()
        data["billing_address"] = self.billing_address.as_dict()
        data["shipping_address"] = (None if self.shipping_address is None
                                    else self.shipping_address.as_dict())
        if "credit_limit" not in self.model_fields_set:
            data["credit_limit"] = c.DEFAULT_LIMIT
        return c.CreateCustomer(**data)


class CustomerPatch(Patch):
    """Only the fields sent change. `credit_limit: null` removes the limit and
    `overdue_hold_days: null` falls back to the company's; no other field may be null."""

    nullable = frozenset({"credit_limit", "overdue_hold_days"})

    name: str | None = Field(None, min_length=1, max_length=200)
    language: str | None = Field(None, max_length=5)
    vat_id: str | None = Field(None, max_length=32)
    tax_code: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=200)
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None
    payment_terms_code: str | None = Field(None, max_length=32)
    credit_limit: Amount | None = None
    credit_blocked: bool | None = None
    overdue_hold_days: int | None = Field(None, ge=0, le=3650)
    invoice_policy: str | None = Field(None, max_length=20)
    buyer_reference: str | None = Field(None, max_length=100)

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True)
        for name in ("billing_address", "shipping_address"):
            if name in changes:
                changes[name] = getattr(self, name).as_dict()
        return changes


class CustomerOut(Model):
    id: int
    company_id: int
    code: str
    name: str
    country: str
    currency: str
    language: str
    vat_id: str
    tax_code: str
    email: str
    billing_address: Address
    shipping_address: Address
    payment_terms_code: str
    credit_limit: Dec | None
    approved_credit_limit: Dec | None = Field(
        description="the limit last approved by a second person, lowered by every reduction "
                    "since: a raise of more than the threshold above it needs approval")
    credit_blocked: bool
    overdue_hold_days: int | None
    invoice_policy: str
    buyer_reference: str


class CreditPositionOut(Model):
    currency: str
    credit_limit: Dec | None
    open_receivables: Dec
    unapplied_credit: Dec
    uninvoiced_orders: Dec
    exposure: Dec = Field(description="open receivables - unapplied credit + uninvoiced orders")
    available: Dec | None = Field(description="credit limit - exposure; null without a limit")
    blocked: bool
    oldest_due_date: dt.date | None
    days_overdue: int
    overdue: Dec | None = Field(None, description="what is still owed of the instalments "
                                                  "due before today")


class CustomerDetailOut(CustomerOut):
    credit: CreditPositionOut


# -- products, warehouses, stock ----------------------------------------------------------------


class ProductIn(Input):
    company_id: Ref
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit_price: UnitPrice = Field(description="in the company's currency")
    unit: str = Field("C62", max_length=8, description="UN/ECE Rec 20 unit code")
    vat_category: VatCategory = VatCategory.STANDARD
    kind: ProductKind = Field(ProductKind.GOODS, description="goods or service: a service "
                                                             "sold to a business abroad is "
                                                             "reverse charged")
    prices: dict[CurrencyKey, UnitPrice] = Field(
        default_factory=dict, max_length=50, description="prices in other currencies")

    def command(self) -> c.CreateProduct:
        return c.CreateProduct(self.company_id, self.sku, self.name, self.unit_price,
                               unit=self.unit, vat_category=self.vat_category.value,
                               prices=dict(self.prices), kind=self.kind.value)


class ProductPatch(Patch):
    """Only the fields sent change; none may be null."""

    name: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, max_length=8)
    unit_price: UnitPrice | None = None
    vat_category: VatCategory | None = None
    kind: ProductKind | None = None
    prices: dict[CurrencyKey, UnitPrice] | None = Field(None, max_length=50)
    active: bool | None = None

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True)
        for name in ("vat_category", "kind"):
            if isinstance(changes.get(name), StrEnum):
                changes[name] = changes[name].value
        return changes


class StockOut(Model):
    id: int
    product_id: int
    warehouse_id: int
    sku: str
    name: str
    warehouse: str = Field(description="warehouse code")
    on_hand: Dec
    reserved: Dec
    available: Dec


class ProductOut(Model):
    id: int
    company_id: int
    sku: str
    name: str
    unit: str
    unit_price: Dec
    currency: str
    vat_category: str
    kind: str
    prices: dict[str, Dec]
    active: bool


class ProductDetailOut(ProductOut):
    stock: list[StockOut]


ROUTE_HELP = ("pick_pack_ship: shipments are picked, packed and shipped; pick_ship: "
              "picked and shipped; ship_only: shipped straight away")


class WarehouseIn(Input):
    company_id: Ref
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    address: AddressIn = Field(default_factory=AddressIn)
    delivery_route: DeliveryRoute = Field(DeliveryRoute.PICK_PACK_SHIP, description=ROUTE_HELP)

    def command(self) -> c.CreateWarehouse:
        return c.CreateWarehouse(**{**self.model_dump(), "address": self.address.as_dict(),
                                    "delivery_route": self.delivery_route.value})


class WarehousePatch(Patch):
    """Only the fields sent change; none may be null."""

    name: str | None = Field(None, min_length=1, max_length=200)
    address: AddressIn | None = None
    delivery_route: DeliveryRoute | None = Field(
        None, description=ROUTE_HELP + ". Shipments already created keep their route.")

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True, exclude_none=True)
        if self.address is not None:
            changes["address"] = self.address.as_dict()
        if isinstance(changes.get("delivery_route"), DeliveryRoute):
            changes["delivery_route"] = changes["delivery_route"].value
        return changes


class WarehouseOut(Model):
    id: int
    company_id: int
    code: str
    name: str
    address: Address
    delivery_route: DeliveryRoute


class ReceiveStockIn(Input):
    warehouse_id: Ref
    product_id: Ref
    quantity: Quantity
    reference: str = Field("", max_length=200)
    on: Day | None = Field(None, description="today when omitted")

    def command(self) -> c.ReceiveStock:
        return c.ReceiveStock(**self.model_dump())


class AdjustStockIn(Input):
    """Give `delta` (+/-) or the `counted` quantity after a stock count."""

    warehouse_id: Ref
    product_id: Ref
    reason: str = Field(min_length=1, max_length=200)
    delta: Quantity | None = None
    counted: Quantity | None = None
    on: Day | None = None

    def command(self) -> c.AdjustStock:
        return c.AdjustStock(**self.model_dump())


# -- VAT and exchange rates ---------------------------------------------------------------------


class VatRateIn(Input):
    country: Country
    category: VatCategory
    rate: Percent = Field(description="percent, e.g. 22")
    valid_from: Day
    valid_to: Day | None = None

    def command(self) -> c.SetVatRate:
        return c.SetVatRate(self.country, self.category.value, self.rate, self.valid_from,
                            self.valid_to)


class VatRateOut(Model):
    id: int
    country: str
    category: str
    rate: Dec
    valid_from: dt.date
    valid_to: dt.date | None


class ExchangeRateIn(Input):
    currency: Currency
    company_currency: Currency
    rate: Rate = Field(description="company-currency units per unit of `currency`")
    on: Day

    def command(self) -> c.SetExchangeRate:
        return c.SetExchangeRate(**self.model_dump())


class ExchangeRateOut(Model):
    id: int
    currency: str
    company_currency: str
    rate_date: dt.date
    rate: Dec
