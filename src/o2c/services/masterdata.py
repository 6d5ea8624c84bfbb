"""Companies, customers, products, warehouses, payment terms, VAT and exchange rates."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from enum import Enum
from typing import Any

from o2c.adapters.identifiers import (
    normalise_bic,
    normalise_iban,
    normalise_tax_code,
    normalise_vat_id,
)
from o2c.adapters.mail import normalise_email
from o2c.domain import commands as c
from o2c.domain.catalog import Product, ProductKind, VatCategory, check_decimals
from o2c.domain.credit import LimitDefault, approved_after
from o2c.domain.errors import AlreadyExists, InvalidInput, NotFound
from o2c.domain.inventory import Warehouse
from o2c.domain.ledger import DEFAULT_CHART
from o2c.domain.money import RoundingMode, in_minor_units, plain
from o2c.domain.parties import (
    Address,
    Company,
    Customer,
    InvoicePolicy,
    Registration,
    RoundingPolicy,
    TaxRounding,
    check_currency,
    check_tax_identifiers,
)
from o2c.domain.payment_terms import PaymentTerms, TermLine
from o2c.domain.shipping import DeliveryRoute
from o2c.domain.tax import VatRate
from o2c.services.uow import UnitOfWork


def _enum(kind: Any, value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{field} must be one of {[k.value for k in kind]}, got {value!r}",
                           field=field) from None


def _refuse_other_fields(changes: dict[str, Any], allowed: set[str],
                         message: str = "{} cannot be changed") -> None:
    """An update names only fields it may change; the first other one (by name) is refused."""
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(message.format(name), field=name)


def _shown(value: Any) -> Any:
    """A product field as its change is logged: prices in plain decimals, codes as text."""
    if isinstance(value, Decimal):
        return str(plain(value))
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


def create_company(cmd: c.CreateCompany, uow: UnitOfWork) -> int:
    if uow.companies.find_by(code=cmd.code):
        raise AlreadyExists("company", cmd.code, field="code")
    company = Company(
        code=cmd.code, name=cmd.name, country=cmd.country, currency=cmd.currency,
        vat_id=normalise_vat_id(cmd.country, cmd.vat_id), iban=normalise_iban(cmd.iban),
        bic=normalise_bic(cmd.bic), address=Address.from_dict(cmd.address),
        email=normalise_email(cmd.email),
        rounding=RoundingPolicy(_enum(TaxRounding, cmd.tax_rounding, "tax_rounding"),
                                _enum(RoundingMode, cmd.rounding_mode, "rounding_mode")),
        overdue_hold_days=cmd.overdue_hold_days, default_credit_limit=cmd.default_credit_limit,
        registration=_registration(cmd.country, cmd.registration))
    company.record("created", code=cmd.code, currency=cmd.currency)
    uow.companies.add(company)
    assert company.id is not None
    uow.lookups.ensure_chart(company.id, DEFAULT_CHART)
    return company.id


def _registration(country: str, data: dict[str, Any]) -> Registration:
    registration = Registration.from_dict(data)
    return replace(registration, tax_code=normalise_tax_code(
        country, registration.tax_code, "registration.tax_code"))


def create_payment_terms(cmd: c.CreatePaymentTerms, uow: UnitOfWork) -> int:
    if uow.lookups.payment_terms(cmd.code) is not None:
        raise AlreadyExists("payment terms", cmd.code, field="code")
    terms = PaymentTerms(code=cmd.code, name=cmd.name,
                         lines=tuple(TermLine(p, d, eom) for p, d, eom in cmd.lines),
                         discount_percent=cmd.discount_percent, discount_days=cmd.discount_days)
    return uow.lookups.add_payment_terms(terms)


def _check_terms(uow: UnitOfWork, code: str) -> None:
    if uow.lookups.payment_terms(code) is None:
        raise NotFound("payment terms", code, field="payment_terms_code")


def _company(uow: UnitOfWork, company_id: int) -> Company:
    company = uow.companies.find(company_id)
    if company is None:
        raise NotFound("company", company_id, field="company_id")
    return company


def create_customer(cmd: c.CreateCustomer, uow: UnitOfWork) -> int:
    company = _company(uow, cmd.company_id)
    assert company.id is not None
    code = cmd.code or uow.lookups.next_customer_code(company.id)
    if uow.customers.find_by(company_id=company.id, code=code):
        raise AlreadyExists("customer", code, field="code")
    _check_terms(uow, cmd.payment_terms_code)
    currency = check_currency(cmd.currency or company.currency, "currency")
    limit = (company.default_credit_limit if cmd.credit_limit is LimitDefault.COMPANY
             else cmd.credit_limit)
    # A local system actor's limit stands approved; a user's counts from the company default.
    approved = (limit if not uow.dual_control
                else approved_after(company.default_credit_limit, limit, by_approval=False))
    billing = Address.from_dict({"country": cmd.country, **cmd.billing_address})
    vat_id = normalise_vat_id(cmd.country, cmd.vat_id)
    tax_code = normalise_tax_code(cmd.country, cmd.tax_code)
    check_tax_identifiers(cmd.country, vat_id, tax_code)
    customer = Customer(
        company_id=company.id, code=code, name=cmd.name, country=cmd.country,
        currency=currency, language=cmd.language, vat_id=vat_id, tax_code=tax_code,
        email=normalise_email(cmd.email),
        billing_address=billing,
        shipping_address=Address.from_dict({"country": cmd.country, **cmd.shipping_address})
        if cmd.shipping_address is not None else billing,
        payment_terms_code=cmd.payment_terms_code, credit_limit=limit,
        approved_credit_limit=approved, credit_blocked=cmd.credit_blocked,
        overdue_hold_days=cmd.overdue_hold_days,
        invoice_policy=_enum(InvoicePolicy, cmd.invoice_policy, "invoice_policy"),
        buyer_reference=cmd.buyer_reference)
    if currency != company.currency and not _has_any_rate(uow, currency, company.currency):
        raise InvalidInput(f"no exchange rate {currency}->{company.currency} is known; add one "
                           f"before billing in {currency}", field="currency")
    customer.record("created", code=code, currency=currency, credit_limit=None
                    if limit is None else in_minor_units(limit, currency))
    uow.customers.add(customer)
    assert customer.id is not None
    return customer.id


def _has_any_rate(uow: UnitOfWork, currency: str, company_currency: str) -> bool:
    from datetime import date

    return uow.lookups.exchange_rate(currency, company_currency, date.max) is not None


_CUSTOMER_FIELDS = {
    "name", "language", "vat_id", "tax_code", "email", "billing_address", "shipping_address",
    "payment_terms_code", "credit_limit", "credit_blocked", "overdue_hold_days",
    "invoice_policy", "buyer_reference",
}


def update_customer(cmd: c.UpdateCustomer, uow: UnitOfWork) -> int:
    customer = uow.customers.get(cmd.customer_id, for_update=True)
    _refuse_other_fields(cmd.changes, _CUSTOMER_FIELDS, "{} cannot be changed here")
    changes = dict(cmd.changes)
    if "vat_id" in changes:
        changes["vat_id"] = normalise_vat_id(customer.country, changes["vat_id"] or "")
    if "tax_code" in changes:
        changes["tax_code"] = normalise_tax_code(customer.country, changes["tax_code"] or "")
    if "email" in changes:
        changes["email"] = normalise_email(changes["email"] or "")
    if "vat_id" in changes or "tax_code" in changes:
        check_tax_identifiers(customer.country, changes.get("vat_id", customer.vat_id),
                              changes.get("tax_code", customer.tax_code))
    for key in ("billing_address", "shipping_address"):
        if key in changes:
            changes[key] = Address.from_dict({"country": customer.country, **changes[key]})
    if "payment_terms_code" in changes:
        _check_terms(uow, changes["payment_terms_code"])
    if "invoice_policy" in changes:
        changes["invoice_policy"] = _enum(InvoicePolicy, changes["invoice_policy"],
                                          "invoice_policy")
    if "credit_limit" in changes:
        new = changes["credit_limit"]
        changes["credit_limit"] = new = None if new is None else Decimal(new)
        # An approved request, or a local system actor, sets what is approved from now on.
        by_approval = uow.approval_id is not None or not uow.dual_control
        changes["approved_credit_limit"] = approved_after(customer.approved_credit_limit, new,
                                                          by_approval=by_approval)
    customer.change(**changes)
    assert customer.id is not None
    return customer.id


def create_product(cmd: c.CreateProduct, uow: UnitOfWork) -> int:
    company = _company(uow, cmd.company_id)
    if uow.products.find_by(company_id=cmd.company_id, sku=cmd.sku):
        raise AlreadyExists("product", cmd.sku, field="sku")
    for currency in cmd.prices:
        check_currency(currency, f"prices.{currency}")
        if currency == company.currency:
            raise InvalidInput(f"the {currency} price is unit_price", field=f"prices.{currency}")
    product = Product(company_id=cmd.company_id, sku=cmd.sku, name=cmd.name, unit=cmd.unit,
                      unit_price=cmd.unit_price,
                      vat_category=_enum(VatCategory, cmd.vat_category, "vat_category"),
                      prices=dict(cmd.prices), kind=_enum(ProductKind, cmd.kind, "kind"))
    product.record("created", sku=cmd.sku, unit_price=plain(cmd.unit_price))
    uow.products.add(product)
    assert product.id is not None
    return product.id


def update_product(cmd: c.UpdateProduct, uow: UnitOfWork) -> int:
    product = uow.products.get(cmd.product_id, for_update=True)
    _refuse_other_fields(cmd.changes, {"name", "unit", "unit_price", "vat_category",
                                       "prices", "active", "kind"})
    before = {k: getattr(product, k) for k in cmd.changes}
    for key, value in cmd.changes.items():
        if key == "vat_category":
            value = _enum(VatCategory, value, "vat_category")
        elif key == "kind":
            value = _enum(ProductKind, value, "kind")
        setattr(product, key, value)
    product.__post_init__()
    product.record("updated", changes={k: {"before": _shown(before[k]),
                                           "after": _shown(getattr(product, k))}
                                       for k in cmd.changes})
    assert product.id is not None
    return product.id


def create_warehouse(cmd: c.CreateWarehouse, uow: UnitOfWork) -> int:
    _company(uow, cmd.company_id)
    if uow.warehouses.find_by(company_id=cmd.company_id, code=cmd.code):
        raise AlreadyExists("warehouse", cmd.code, field="code")
    warehouse = Warehouse(company_id=cmd.company_id, code=cmd.code, name=cmd.name,
                          address=Address.from_dict(cmd.address),
                          delivery_route=_enum(DeliveryRoute, cmd.delivery_route,
                                               "delivery_route"))
    warehouse.record("created", code=cmd.code, delivery_route=warehouse.delivery_route.value)
    uow.warehouses.add(warehouse)
    assert warehouse.id is not None
    return warehouse.id


def update_warehouse(cmd: c.UpdateWarehouse, uow: UnitOfWork) -> int:
    """Name, address and delivery route. A new route applies to shipments created from now
    on: those already on their way finish the route they started."""
    warehouse = uow.warehouses.get(cmd.warehouse_id, for_update=True)
    _refuse_other_fields(cmd.changes, {"name", "address", "delivery_route"})
    if "delivery_route" in cmd.changes:
        warehouse.change_delivery_route(
            _enum(DeliveryRoute, cmd.changes["delivery_route"], "delivery_route"))
    before = {"name": warehouse.name, "address": warehouse.address.as_dict()}
    if "name" in cmd.changes:
        name = str(cmd.changes["name"]).strip()
        if not name:
            raise InvalidInput("a warehouse needs a name", field="name")
        warehouse.name = name
    if "address" in cmd.changes:
        warehouse.address = Address.from_dict(cmd.changes["address"])
    after = {"name": warehouse.name, "address": warehouse.address.as_dict()}
    changed = {k: {"before": before[k], "after": after[k]} for k in before
               if before[k] != after[k]}
    if changed:
        warehouse.record("updated", changes=changed)
    assert warehouse.id is not None
    return warehouse.id


def set_vat_rate(cmd: c.SetVatRate, uow: UnitOfWork) -> int:
    rate = VatRate(country=cmd.country, category=_enum(VatCategory, cmd.category, "category"),
                   rate=cmd.rate, valid_from=cmd.valid_from, valid_to=cmd.valid_to)
    if uow.lookups.vat_rate_exists(cmd.country, rate.category.value, cmd.valid_from):
        raise AlreadyExists("VAT rate", f"{cmd.country}/{cmd.category} from {cmd.valid_from}",
                            field="valid_from")
    return uow.lookups.add_vat_rate(rate)


def set_exchange_rate(cmd: c.SetExchangeRate, uow: UnitOfWork) -> int:
    check_currency(cmd.currency, "currency")
    check_currency(cmd.company_currency, "company_currency")
    if cmd.rate <= 0:
        raise InvalidInput("exchange rate must be positive", field="rate")
    check_decimals(cmd.rate, 10, "rate")
    if cmd.currency == cmd.company_currency:
        raise InvalidInput("an exchange rate needs two different currencies", field="currency")
    return uow.lookups.set_exchange_rate(cmd.currency, cmd.company_currency, cmd.on, cmd.rate)
