"""Master data: companies, customers, products, stock, VAT and exchange rates, payment terms,
warehouses."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from o2c.adapters.db import queries
from o2c.cli.core import (
    AsOfOption,
    Column,
    JsonOption,
    LimitOption,
    O2CGroup,
    OffsetOption,
    OnOption,
    TextFilter,
    company_id,
    console,
    customer_id,
    day,
    decimal,
    filters,
    money,
    page,
    pair,
    print_json,
    product_id,
    reading,
    run,
    say,
    show_fields,
    show_page,
    table,
    today,
    warehouse_id,
)
from o2c.domain import commands as c
from o2c.domain.credit import LimitDefault
from o2c.domain.errors import InvalidInput

CompanyOption = Annotated[str | None, typer.Option(
    "--company", help="Company code; the first company when omitted.")]
Street = Annotated[str, typer.Option("--street", help="Address line.")]
City = Annotated[str, typer.Option("--city")]
PostalCode = Annotated[str, typer.Option("--postal-code")]


def _address(street: str, city: str, postal_code: str, country: str = "") -> dict[str, str]:
    address = {"line1": street, "city": city, "postal_code": postal_code}
    if country:
        address["country"] = country
    return {k: v for k, v in address.items() if v}


# -- companies ---------------------------------------------------------------------------------

companies = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Selling companies.")


@companies.command("create")
def create_company(
    code: Annotated[str, typer.Argument(help="Short code, e.g. ACME.")],
    name: Annotated[str, typer.Argument(help="Legal name.")],
    country: Annotated[str, typer.Option("--country", help="ISO country code, e.g. IT.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO currency, e.g. EUR.")],
    vat_id: Annotated[str, typer.Option("--vat-id")] = "",
    iban: Annotated[str, typer.Option("--iban")] = "",
    bic: Annotated[str, typer.Option("--bic")] = "",
    email: Annotated[str, typer.Option("--email")] = "",
    street: Street = "", city: City = "", postal_code: PostalCode = "",
    overdue_hold_days: Annotated[int, typer.Option(
        "--overdue-hold-days", help="Hold orders of customers overdue longer than this.")] = 30,
    default_credit_limit: Annotated[str, typer.Option(
        "--default-credit-limit",
        help="Credit limit of a new customer when none is given (0: a credit manager "
             "decides on its first order).")] = "0",
    tax_code: Annotated[str, typer.Option(
        "--tax-code", help="National tax number (IT: codice fiscale).")] = "",
    register_office: Annotated[str, typer.Option(
        "--register-office", help="IT: province of the REA office, e.g. MO.")] = "",
    register_number: Annotated[str, typer.Option(
        "--register-number", help="IT: numero REA.")] = "",
    share_capital: Annotated[str | None, typer.Option(
        "--share-capital", help="Capital paid in, in the company currency.")] = None,
    sole_shareholder: Annotated[bool, typer.Option(
        "--sole-shareholder", help="IT: socio unico.")] = False,
) -> None:
    """Create a selling company (with its chart of accounts and its register data, which
    its invoices show)."""
    registration = {"tax_code": tax_code, "register_office": register_office.upper(),
                    "register_number": register_number, "sole_shareholder": sole_shareholder,
                    "share_capital": None if share_capital is None
                    else decimal(share_capital, "share_capital")}
    new_id = run(c.CreateCompany(code, name, country.upper(), currency.upper(), vat_id=vat_id,
                                 iban=iban, bic=bic, email=email,
                                 address=_address(street, city, postal_code, country.upper()),
                                 overdue_hold_days=overdue_hold_days,
                                 default_credit_limit=decimal(default_credit_limit,
                                                              "default_credit_limit"),
                                 registration=registration))
    say(f"created company {code} (id {new_id})")


@companies.command("list")
def list_companies(as_json: JsonOption = False, limit: LimitOption = 50,
                   offset: OffsetOption = 0) -> None:
    """List companies."""
    with reading() as conn:
        result = queries.list_companies(conn, page(limit, offset))
    show_page(result, [("id", "id"), ("code", "code"), ("name", "name"),
                       ("country", "country"), ("currency", "currency"), ("VAT id", "vat_id"),
                       ("IBAN", "iban")], as_json, "companies")


# -- customers ---------------------------------------------------------------------------------

customers = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Customers and their credit.")

CUSTOMER_COLUMNS: list[Column] = [
    ("code", "code"), ("name", "name"), ("country", "country"), ("currency", "currency"),
    ("terms", "payment_terms_code"), ("credit limit", "credit_limit"),
    ("blocked", "credit_blocked"), ("VAT id", "vat_id")]


def _limit(text: str | None) -> Decimal | LimitDefault | None:
    """A credit limit: an amount, `none` for no limit, omitted for the company's default."""
    if text is None:
        return c.DEFAULT_LIMIT
    if text.lower() == "none":
        return None
    return decimal(text, "credit_limit")


@customers.command("create")
def create_customer(
    name: Annotated[str, typer.Argument(help="Name of the customer.")],
    country: Annotated[str, typer.Option("--country", help="ISO country code, e.g. FR.")],
    currency: Annotated[str | None, typer.Option(
        "--currency", help="Billing currency; the company's when omitted.")] = None,
    code: Annotated[str | None, typer.Option("--code", help="Generated when omitted.")] = None,
    language: Annotated[str, typer.Option("--language", help="en, it, fr, es or de.")] = "en",
    vat_id: Annotated[str, typer.Option("--vat-id")] = "",
    tax_code: Annotated[str, typer.Option("--tax-code")] = "",
    email: Annotated[str, typer.Option("--email")] = "",
    terms: Annotated[str, typer.Option("--terms", help="Payment terms code.")] = "NET30",
    credit_limit: Annotated[str | None, typer.Option(
        "--credit-limit", help="Amount in the customer's currency, or `none` for no limit; "
                               "the company's default limit when omitted.")] = None,
    invoice_policy: Annotated[str, typer.Option(
        "--invoice-policy", help="on_shipment or on_order.")] = "on_shipment",
    buyer_reference: Annotated[str, typer.Option("--buyer-reference")] = "",
    street: Street = "", city: City = "", postal_code: PostalCode = "",
    company: CompanyOption = None,
) -> None:
    """Create a customer."""
    limit = _limit(credit_limit)
    with reading() as conn:
        owner = company_id(conn, company)
    new_id = run(c.CreateCustomer(
        owner, name, country.upper(), currency=currency.upper() if currency else None,
        code=code, language=language, vat_id=vat_id, tax_code=tax_code, email=email,
        billing_address=_address(street, city, postal_code), payment_terms_code=terms,
        credit_limit=limit, invoice_policy=invoice_policy, buyer_reference=buyer_reference))
    with reading() as conn:
        created = queries.customer(conn, new_id, today())
    say(f"created customer {created['code']} {created['name']} (id {new_id})")


@customers.command("show")
def show_customer(customer: Annotated[str, typer.Argument(help="Code (C-00001) or id.")],
                  as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """A customer with its credit position."""
    with reading() as conn:
        data = queries.customer(conn, customer_id(conn, customer), day(as_of, "as_of") or today())
    if as_json:
        print_json(data)
        return
    show_fields(data, [("code", "code"), ("country", "country"), ("currency", "currency"),
                       ("language", "language"), ("VAT id", "vat_id"), ("email", "email"),
                       ("payment terms", "payment_terms_code"),
                       ("invoicing", "invoice_policy")], f"{data['code']} {data['name']}")
    credit = data["credit"]
    cur = credit["currency"]
    lines = {
        "credit limit": "no limit" if credit["credit_limit"] is None
        else money(credit["credit_limit"], cur),
        "open receivables": money(credit["open_receivables"], cur),
        "unapplied credit": money(credit["unapplied_credit"], cur),
        "confirmed, not invoiced": money(credit["uninvoiced_orders"], cur),
        "exposure": money(credit["exposure"], cur),
        "available": "unlimited" if credit["available"] is None
        else money(credit["available"], cur),
        "credit block": "yes" if credit["blocked"] else "no",
        "oldest overdue due date": str(credit["oldest_due_date"] or "-"),
        "days overdue": str(credit["days_overdue"]),
    }
    show_fields(lines, [(k, k) for k in lines], "credit")


@customers.command("list")
def list_customers(q: TextFilter = None,
                   country: Annotated[str | None, typer.Option("--country")] = None,
                   as_json: JsonOption = False, limit: LimitOption = 50,
                   offset: OffsetOption = 0) -> None:
    """List customers (by code)."""
    with reading() as conn:
        result = queries.list_customers(conn, filters(conn, q=q, country=country),
                                        page(limit, offset))
    show_page(result, CUSTOMER_COLUMNS, as_json, "customers")


@customers.command("update")
def update_customer(
    customer: Annotated[str, typer.Argument(help="Code (C-00001) or id.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    vat_id: Annotated[str | None, typer.Option("--vat-id")] = None,
    terms: Annotated[str | None, typer.Option("--terms")] = None,
    credit_limit: Annotated[str | None, typer.Option(
        "--credit-limit", help="New limit, or `none` for no limit.")] = None,
    block: Annotated[bool | None, typer.Option(
        "--block/--unblock", help="Put on (or lift) a credit block.")] = None,
    invoice_policy: Annotated[str | None, typer.Option("--invoice-policy")] = None,
    buyer_reference: Annotated[str | None, typer.Option("--buyer-reference")] = None,
) -> None:
    """Change a customer's master data."""
    changes: dict[str, Any] = {k: v for k, v in {
        "name": name, "email": email, "language": language, "vat_id": vat_id,
        "payment_terms_code": terms, "credit_blocked": block, "invoice_policy": invoice_policy,
        "buyer_reference": buyer_reference}.items() if v is not None}
    if credit_limit is not None:
        changes["credit_limit"] = _limit(credit_limit)
    if not changes:
        raise InvalidInput("nothing to change; give at least one option", field="options")
    with reading() as conn:
        target = customer_id(conn, customer)
    run(c.UpdateCustomer(target, changes))
    say(f"updated customer {customer}: {', '.join(sorted(changes))}")


# -- products ----------------------------------------------------------------------------------

products = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Products and prices.")


KindOption = Annotated[str, typer.Option(
    "--kind", help="goods or service (a service sold to a business abroad is reverse "
                   "charged).")]


@products.command("create")
def create_product(
    sku: Annotated[str, typer.Argument(help="Stock keeping unit, e.g. CHAIR-01.")],
    name: Annotated[str, typer.Argument()],
    price: Annotated[str, typer.Option("--price", help="Unit price in the company currency.")],
    unit: Annotated[str, typer.Option("--unit", help="UN/ECE unit: C62, KGM, HUR...")] = "C62",
    vat_category: Annotated[str, typer.Option(
        "--vat-category", help="standard, reduced, super_reduced, zero, exempt...")
    ] = "standard",
    price_in: Annotated[list[str] | None, typer.Option(
        "--price-in", help="CURRENCY:PRICE, e.g. USD:13.50 (repeatable).")] = None,
    kind: KindOption = "goods",
    company: CompanyOption = None,
) -> None:
    """Create a product."""
    prices = {}
    for entry in price_in or []:
        currency, amount = pair(entry, "price_in")
        prices[currency.upper()] = decimal(amount, f"prices.{currency.upper()}")
    with reading() as conn:
        owner = company_id(conn, company)
    new_id = run(c.CreateProduct(owner, sku, name, decimal(price, "unit_price"), unit=unit,
                                 vat_category=vat_category, prices=prices, kind=kind))
    say(f"created product {sku} (id {new_id})")


@products.command("update")
def update_product(
    sku: Annotated[str, typer.Argument(help="SKU of the product.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    price: Annotated[str | None, typer.Option(
        "--price", help="Unit price in the company currency.")] = None,
    vat_category: Annotated[str | None, typer.Option("--vat-category")] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="goods or service (a service sold to a business abroad is reverse "
                       "charged).")] = None,
    active: Annotated[bool | None, typer.Option(
        "--active/--inactive", help="Inactive products cannot be ordered.")] = None,
) -> None:
    """Change a product's name, price, VAT category, kind or whether it is sold."""
    changes: dict[str, Any] = {k: v for k, v in {
        "name": name, "vat_category": vat_category, "kind": kind, "active": active}.items()
        if v is not None}
    if price is not None:
        changes["unit_price"] = decimal(price, "unit_price")
    if not changes:
        raise InvalidInput("nothing to change; give at least one option", field="options")
    with reading() as conn:
        target = product_id(conn, sku)
    run(c.UpdateProduct(target, changes))
    say(f"updated product {sku}: {', '.join(sorted(changes))}")


@products.command("list")
def list_products(q: TextFilter = None, as_json: JsonOption = False, limit: LimitOption = 50,
                  offset: OffsetOption = 0) -> None:
    """List products (by SKU)."""
    with reading() as conn:
        result = queries.list_products(conn, filters(conn, q=q), page(limit, offset))
    show_page(result, [("SKU", "sku"), ("name", "name"), ("unit", "unit"),
                       ("price", "unit_price"), ("currency", "currency"),
                       ("VAT", "vat_category"), ("other prices", "prices")],
              as_json, "products")


@products.command("show")
def show_product(sku: Annotated[str, typer.Argument(help="SKU or id.")],
                 as_json: JsonOption = False) -> None:
    """A product with its stock per warehouse."""
    with reading() as conn:
        data = queries.product(conn, product_id(conn, sku))
    if as_json:
        print_json(data)
        return
    show_fields(data, [("name", "name"), ("unit", "unit"), ("price", "unit_price"),
                       ("currency", "currency"), ("VAT category", "vat_category"),
                       ("other prices", "prices"), ("active", "active")], data["sku"])
    console().print(table(data["stock"], STOCK_COLUMNS, "stock"))


# -- stock -------------------------------------------------------------------------------------

stock = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Stock on hand and reserved.")
WarehouseOption = Annotated[str | None, typer.Option(
    "--warehouse", help="Warehouse code; needed only when there are several.")]
STOCK_COLUMNS: list[Column] = [("SKU", "sku"), ("name", "name"), ("warehouse", "warehouse"),
                               ("on hand", "on_hand"), ("reserved", "reserved"),
                               ("available", "available")]


@stock.command("receive")
def receive_stock(sku: Annotated[str, typer.Argument(help="SKU or product id.")],
                  quantity: Annotated[str, typer.Argument(help="Quantity received.")],
                  warehouse: WarehouseOption = None,
                  reference: Annotated[str, typer.Option(
                      "--reference", help="Delivery note or purchase order.")] = "",
                  on: OnOption = None) -> None:
    """Goods arrive: stock goes up and waiting orders get them first."""
    with reading() as conn:
        product, where = product_id(conn, sku), warehouse_id(conn, warehouse)
    run(c.ReceiveStock(where, product, decimal(quantity, "quantity"), reference,
                       on=day(on, "on")))
    _print_level(product, where)


@stock.command("adjust")
def adjust_stock(sku: Annotated[str, typer.Argument(help="SKU or product id.")],
                 reason: Annotated[str, typer.Option("--reason", help="Why the stock changes.")],
                 delta: Annotated[str | None, typer.Option(
                     "--delta", help="Change, e.g. -2 (give this or --counted).")] = None,
                 counted: Annotated[str | None, typer.Option(
                     "--counted", help="Quantity found by a stock count.")] = None,
                 warehouse: WarehouseOption = None, on: OnOption = None) -> None:
    """Correct on-hand stock by a difference or to a counted quantity."""
    with reading() as conn:
        product, where = product_id(conn, sku), warehouse_id(conn, warehouse)
    run(c.AdjustStock(where, product, reason,
                      delta=decimal(delta, "delta") if delta is not None else None,
                      counted=decimal(counted, "counted") if counted is not None else None,
                      on=day(on, "on")))
    _print_level(product, where)


def _print_level(product: int, warehouse: int) -> None:
    with reading() as conn:
        rows = queries.list_stock(conn, filters(conn, product_id=product,
                                                warehouse_id=warehouse)).items
    console().print(table(rows, STOCK_COLUMNS))


@stock.command("list")
def list_stock(q: TextFilter = None, warehouse: WarehouseOption = None,
               as_json: JsonOption = False, limit: LimitOption = 50,
               offset: OffsetOption = 0) -> None:
    """Stock per product and warehouse."""
    with reading() as conn:
        where = warehouse_id(conn, warehouse) if warehouse else None
        result = queries.list_stock(conn, filters(conn, q=q, warehouse_id=where),
                                    page(limit, offset))
    show_page(result, STOCK_COLUMNS, as_json, "stock levels")


# -- VAT and exchange rates --------------------------------------------------------------------

vat_rates = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="VAT rates by country.")


@vat_rates.command("set")
def set_vat_rate(country: Annotated[str, typer.Argument(help="ISO country code.")],
                 category: Annotated[str, typer.Argument(
                     help="standard, reduced, super_reduced, zero...")],
                 rate: Annotated[str, typer.Argument(help="Percent, e.g. 22 or 5.5.")],
                 valid_from: Annotated[str | None, typer.Option(
                     "--from", help="First day it applies; today by default.")] = None,
                 valid_to: Annotated[str | None, typer.Option("--to")] = None) -> None:
    """Set a VAT rate from a date (the rate it replaces ends the day before)."""
    start = day(valid_from, "valid_from") or today()
    run(c.SetVatRate(country.upper(), category, decimal(rate, "rate"), start,
                     day(valid_to, "valid_to")))
    say(f"{country.upper()} {category} VAT is {rate}% from {start}")


@vat_rates.command("list")
def list_vat_rates(as_json: JsonOption = False, limit: LimitOption = 50,
                   offset: OffsetOption = 0) -> None:
    """VAT rates by country and category."""
    with reading() as conn:
        result = queries.list_vat_rates(conn, page(limit, offset))
    show_page(result, [("country", "country"), ("category", "category"), ("rate %", "rate"),
                       ("from", "valid_from"), ("to", "valid_to")], as_json, "VAT rates")


fx_rates = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Exchange rates.")


@fx_rates.command("set")
def set_fx_rate(currency: Annotated[str, typer.Argument(help="Foreign currency, e.g. USD.")],
                rate: Annotated[str, typer.Argument(
                    help="Company-currency units per unit of CURRENCY, e.g. 0.92.")],
                on: OnOption = None,
                company_currency: Annotated[str | None, typer.Option(
                    "--company-currency", help="The first company's when omitted.")] = None
                ) -> None:
    """Set the rate of a currency on a day."""
    if company_currency is None:
        with reading() as conn:
            company_currency = queries.company(conn, company_id(conn, None))["currency"]
    when = day(on, "on") or today()
    run(c.SetExchangeRate(currency.upper(), company_currency.upper(), decimal(rate, "rate"),
                          when))
    say(f"1 {currency.upper()} = {rate} {company_currency.upper()} on {when}")


@fx_rates.command("list")
def list_fx_rates(as_json: JsonOption = False, limit: LimitOption = 50,
                  offset: OffsetOption = 0) -> None:
    """Exchange rates, newest first per currency."""
    with reading() as conn:
        result = queries.list_exchange_rates(conn, page(limit, offset))
    show_page(result, [("currency", "currency"), ("in", "company_currency"),
                       ("date", "rate_date"), ("rate", "rate")], as_json, "exchange rates")


# -- payment terms and warehouses --------------------------------------------------------------

terms = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Payment terms.")


@terms.command("create")
def create_terms(
    code: Annotated[str, typer.Argument(help="e.g. NET30.")],
    name: Annotated[str, typer.Argument(help="e.g. 'Net 30 days'.")],
    line: Annotated[list[str] | None, typer.Option(
        "--line", help="PERCENT:DAYS[:eom] per instalment (repeatable), e.g. 100:30:eom.")
    ] = None,
    discount: Annotated[str, typer.Option(
        "--discount", help="Early-payment discount percent.")] = "0",
    discount_days: Annotated[int, typer.Option("--discount-days")] = 0,
) -> None:
    """Create payment terms: instalments, end of month, early-payment discount."""
    lines = []
    for i, text in enumerate(line or ["100:30"]):
        parts = pair(text, f"lines[{i}]", (2, 3))
        if len(parts) == 3 and parts[2].lower() != "eom":
            raise InvalidInput(f"{text!r}: the third part can only be 'eom'", field=f"lines[{i}]")
        try:
            days = int(parts[1])
        except ValueError:
            raise InvalidInput(f"{parts[1]!r} is not a number of days",
                               field=f"lines[{i}].days") from None
        lines.append((decimal(parts[0], f"lines[{i}].percent"), days, len(parts) == 3))
    run(c.CreatePaymentTerms(code, name, tuple(lines), decimal(discount, "discount_percent"),
                             discount_days))
    with reading() as conn:
        say(f"created payment terms {code}: {queries.payment_terms(conn, code)['name']}")


@terms.command("list")
def list_terms(as_json: JsonOption = False, limit: LimitOption = 50,
               offset: OffsetOption = 0) -> None:
    """Payment terms."""
    with reading() as conn:
        result = queries.list_payment_terms(conn, page(limit, offset))
    show_page(result, [("code", "code"), ("name", "name"), ("instalments", "lines"),
                       ("discount %", "discount_percent"), ("discount days", "discount_days")],
              as_json, "payment terms")


warehouses = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Warehouses.")


RouteOption = Annotated[str, typer.Option(
    "--delivery-route", help="pick_pack_ship (pick, pack, ship), pick_ship or ship_only "
                             "(shipments leave as soon as they are reserved).")]


@warehouses.command("create")
def create_warehouse(code: Annotated[str, typer.Argument()],
                     name: Annotated[str, typer.Argument()],
                     street: Street = "", city: City = "", postal_code: PostalCode = "",
                     company: CompanyOption = None,
                     delivery_route: RouteOption = "pick_pack_ship") -> None:
    """Create a warehouse."""
    with reading() as conn:
        owner = company_id(conn, company)
    new_id = run(c.CreateWarehouse(owner, code, name, _address(street, city, postal_code),
                                   delivery_route=delivery_route))
    say(f"created warehouse {code} (id {new_id}, delivery route {delivery_route})")


@warehouses.command("set-route")
def set_delivery_route(code: Annotated[str, typer.Argument(help="Warehouse code.")],
                       delivery_route: Annotated[str, typer.Argument(
                           help="pick_pack_ship, pick_ship or ship_only.")]) -> None:
    """Change the steps new shipments of a warehouse go through (shipments already created
    keep theirs)."""
    with reading() as conn:
        where = warehouse_id(conn, code)
    run(c.UpdateWarehouse(where, {"delivery_route": delivery_route}))
    say(f"warehouse {code}: new shipments follow the {delivery_route} route")


@warehouses.command("list")
def list_warehouses(as_json: JsonOption = False, limit: LimitOption = 50,
                    offset: OffsetOption = 0) -> None:
    """Warehouses."""
    with reading() as conn:
        result = queries.list_warehouses(conn, page(limit, offset))
    show_page(result, [("id", "id"), ("code", "code"), ("name", "name"),
                       ("delivery route", "delivery_route"), ("address", "address")], as_json,
              "warehouses")
