"""Master data in the back-office: customers (credit terms, payment terms, addresses, tax ids
and document settings), products and prices, warehouses and their delivery routes. Each form
sends the same command as the API; the services decide who may change what, and a credit
limit raised past the dual-control threshold becomes an approval request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import documents as document_store
from o2c.adapters.db import queries
from o2c.adapters.db.queries import MAX_LIMIT, Filters, PageRequest
from o2c.domain import commands as c
from o2c.domain.access import ApprovalKind, ApprovalRequired, RequestApproval
from o2c.domain.catalog import ProductKind, VatCategory
from o2c.domain.einvoice import DocumentFormat, SetDocumentPreferences
from o2c.domain.parties import InvoicePolicy
from o2c.domain.shipping import DeliveryRoute
from o2c.web.access import can, require
from o2c.web.render import (
    FormError,
    app_of,
    check_csrf,
    execute,
    formatter,
    page,
    read,
    redirect,
    today,
)
from o2c.web.routes import FormData, PageId, decimal_field, paging, web_router

masterdata_pages = web_router()

ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code", "region")
LANGUAGES = ("en", "it", "fr", "es", "de")


def _address(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {name: form.get(f"{prefix}_{name}", "").strip() for name in ADDRESS_FIELDS}


def _address_form(prefix: str, address: dict[str, Any] | None) -> dict[str, str]:
    return {f"{prefix}_{name}": str((address or {}).get(name) or "") for name in ADDRESS_FIELDS}


def _whole_number(form: dict[str, str], name: str, errors: dict[str, str],
                  message: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 3650:
        errors[name] = message
        return None
    return int(text)


def _terms(conn: Any) -> list[dict[str, Any]]:
    return queries.list_payment_terms(conn, PageRequest(limit=MAX_LIMIT)).items


# -- customers -------------------------------------------------------------------------------


def _customer_values(customer: dict[str, Any]) -> dict[str, str]:
    """The edit form filled in with what is stored."""
    limit = customer["credit_limit"]
    hold = customer["overdue_hold_days"]
    return {"name": customer["name"], "language": customer["language"],
            "email": customer["email"], "vat_id": customer["vat_id"],
            "tax_code": customer["tax_code"], "payment_terms_code": customer["payment_terms_code"],
            "invoice_policy": customer["invoice_policy"],
            "buyer_reference": customer["buyer_reference"],
            "credit_limit": "" if limit is None else str(limit),
            "credit_blocked": "1" if customer["credit_blocked"] else "",
            "overdue_hold_days": "" if hold is None else str(hold),
            **_address_form("billing", customer["billing_address"]),
            **_address_form("shipping", customer["shipping_address"])}


def customer_form(request: Request, form: dict[str, str], errors: dict[str, str],
                  customer: dict[str, Any] | None = None, approval: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    with read(request) as conn:
        terms = _terms(conn)
        settings = (document_store.preferences(conn, customer["id"])
                    if customer is not None else None)
        company_id = queries.default_company_id(conn)
        company = queries.company(conn, company_id) if company_id else None
    return page(request, "customer_form.html", status_code=status_code, form=form,
                errors=errors, customer=customer, terms=terms,
                languages_spoken=LANGUAGES + tuple(
                    {form.get("language", "")} - set(LANGUAGES) - {""}),
                policies=list(InvoicePolicy), approval=approval, company=company,
                threshold=app_of(request).bus.controls.credit_limit_increase,
                settings=settings, formats=list(DocumentFormat),
                can_request=can(request, "web_request_credit_limit"),
                can_documents=can(request, "web_customer_documents"))


def _customer_fields(request: Request, form: dict[str, str],
                     errors: dict[str, str]) -> dict[str, Any]:
    """What the form says, typed: text stripped, the limit as a decimal (empty: none)."""
    fmt = formatter(request)
    values: dict[str, Any] = {
        name: form.get(name, "").strip()
        for name in ("name", "language", "email", "vat_id", "tax_code", "payment_terms_code",
                     "invoice_policy", "buyer_reference")}
    values["credit_limit"] = decimal_field(form, "credit_limit", errors,
                                           fmt.gettext("not a number"), fmt.language)
    values["credit_blocked"] = bool(form.get("credit_blocked"))
    values["overdue_hold_days"] = _whole_number(form, "overdue_hold_days", errors,
                                                fmt.gettext("a whole number of days"))
    values["billing_address"] = _address(form, "billing")
    values["shipping_address"] = _address(form, "shipping")
    if not values["name"]:
        errors["name"] = fmt.gettext("a name, please")
    return values


@masterdata_pages.get("/customers/new", name="web_new_customer", response_class=HTMLResponse)
def new_customer(request: Request) -> Response:
    return customer_form(request, {"language": formatter(request).language,
                                   "payment_terms_code": "NET30",
                                   "invoice_policy": InvoicePolicy.ON_SHIPMENT.value}, {})


@masterdata_pages.post("/customers/new", name="web_create_customer",
                       response_class=HTMLResponse)
def create_customer(request: Request, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "create_customer")
    errors: dict[str, str] = {}
    values = _customer_fields(request, form, errors)
    country = form.get("country", "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors["country"] = fmt.gettext("two letters, e.g. IT")
    if errors:
        return customer_form(request, form, errors, status_code=422)
    with read(request) as conn:
        company_id = queries.default_company_id(conn)
    if company_id is None:
        return customer_form(request, form, {"_": fmt.gettext("Create a company first.")},
                             status_code=422)
    limit = values.pop("credit_limit")
    shipping = values.pop("shipping_address")
    try:
        customer_id = execute(request, c.CreateCustomer(
            company_id=company_id, country=country,
            currency=form.get("currency", "").strip().upper() or None,
            code=form.get("code", "").strip() or None,
            credit_limit=c.DEFAULT_LIMIT if limit is None else limit,
            shipping_address=shipping if any(shipping.values()) else None, **values))
    except FormError as error:
        return customer_form(request, form, _form_errors(error), status_code=422)
    return redirect(request, f"/customers/{customer_id}",
                    fmt.gettext("Customer {name} created.", name=values["name"]))


def _form_errors(error: FormError) -> dict[str, str]:
    """Domain field paths (`billing_address.postal_code`) to the form's inputs."""
    return {field.replace(".", "_"): message for field, message in error.errors.items()}


@masterdata_pages.get("/customers/{customer_id}/edit", name="web_edit_customer",
                      response_class=HTMLResponse)
def edit_customer(request: Request, customer_id: PageId) -> Response:
    with read(request) as conn:
        found = queries.customer(conn, customer_id, today(request))
    return customer_form(request, _customer_values(found), {}, customer=found)


@masterdata_pages.post("/customers/{customer_id}/edit", name="web_update_customer",
                       response_class=HTMLResponse)
def update_customer(request: Request, customer_id: PageId, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "update_customer")
    with read(request) as conn:
        found = queries.customer(conn, customer_id, today(request))
    errors: dict[str, str] = {}
    values = _customer_fields(request, form, errors)
    if errors:
        return customer_form(request, form, errors, customer=found, status_code=422)
    stored: dict[str, Any] = {**found,
                              "billing_address": {k: (found["billing_address"] or {}).get(k, "")
                                                  for k in ADDRESS_FIELDS},
                              "shipping_address": {k: (found["shipping_address"] or {}).get(
                                  k, "") for k in ADDRESS_FIELDS}}
    # Only what the person changed is sent: a field left as it was needs no right to change.
    changes = {name: value for name, value in values.items() if value != stored[name]}
    if not changes:
        return redirect(request, f"/customers/{customer_id}", fmt.gettext("Nothing changed."))
    try:
        execute(request, c.UpdateCustomer(customer_id, changes))
    except FormError as error:
        approval = None
        if isinstance(error.__cause__, ApprovalRequired) and "credit_limit" in changes:
            limit = changes["credit_limit"]
            approval = {"credit_limit": "" if limit is None else str(limit)}
        return customer_form(request, form, _form_errors(error), customer=found,
                             approval=approval, status_code=422)
    return redirect(request, f"/customers/{customer_id}",
                    fmt.gettext("Customer {name} saved.", name=values["name"]))


@masterdata_pages.post("/customers/{customer_id}/credit-limit-request",
                       name="web_request_credit_limit", response_class=HTMLResponse)
def request_credit_limit(request: Request, customer_id: PageId, form: FormData) -> Response:
    """Ask a second person (credit manager or controller) to approve a raised limit."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "request_approval")
    errors: dict[str, str] = {}
    limit = decimal_field(form, "credit_limit", errors, fmt.gettext("not a number"),
                          fmt.language)
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = fmt.gettext("Give a reason.")
    back = f"/customers/{customer_id}"
    if errors:
        return redirect(request, back, next(iter(errors.values())), "error")
    try:
        request_id = execute(request, RequestApproval(
            kind=ApprovalKind.CREDIT_LIMIT.value, object_id=customer_id, reason=reason,
            payload={"credit_limit": None if limit is None else str(limit)}))
    except FormError as error:
        return redirect(request, back, error.first, "error")
    return redirect(request, back, fmt.gettext(
        "Approval request {id} sent: the new limit applies once another person approves it.",
        id=request_id))


@masterdata_pages.post("/customers/{customer_id}/document-settings",
                       name="web_customer_documents", response_class=HTMLResponse)
def customer_documents(request: Request, customer_id: PageId, form: FormData) -> Response:
    """How the customer receives invoices: format, Peppol id, SdI code or PEC, e-mail."""
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "put_document_settings")
    back = f"/customers/{customer_id}/edit"
    try:
        execute(request, SetDocumentPreferences(
            customer_id=customer_id, format=form.get("format", "pdf"),
            peppol_id=form.get("peppol_id", "").strip(),
            codice_destinatario=form.get("codice_destinatario", "").strip(),
            pec=form.get("pec", "").strip(),
            public_administration=bool(form.get("public_administration")),
            delivery_email=form.get("delivery_email", "").strip(),
            attach_xml=bool(form.get("attach_xml"))))
    except FormError as error:
        return redirect(request, back, error.first, "error")
    return redirect(request, back, fmt.gettext("Document settings saved."))


# -- products -------------------------------------------------------------------------------


@masterdata_pages.get("/products", name="web_products", response_class=HTMLResponse)
def products(request: Request) -> Response:
    q = request.query_params.get("q") or None
    with read(request) as conn:
        result = queries.list_products(conn, Filters(q=q), paging(request))
    return page(request, "products.html", page=result,
                can_create=can(request, "create_product"))


def product_form(request: Request, form: dict[str, str], errors: dict[str, str],
                 product: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    with read(request) as conn:
        company_id = queries.default_company_id(conn)
        currency = queries.company(conn, company_id)["currency"] if company_id else ""
    return page(request, "product_form.html", status_code=status_code, form=form,
                errors=errors, product=product, currency=currency,
                categories=list(VatCategory), kinds=list(ProductKind))


def _prices_text(prices: dict[str, Any]) -> str:
    return "\n".join(f"{code} {value}" for code, value in sorted(prices.items()))


def _product_fields(request: Request, form: dict[str, str],
                    errors: dict[str, str]) -> dict[str, Any]:
    fmt = formatter(request)
    values: dict[str, Any] = {name: form.get(name, "").strip()
                              for name in ("name", "unit", "vat_category", "kind")}
    if not values["name"]:
        errors["name"] = fmt.gettext("a name, please")
    values["unit_price"] = decimal_field(form, "unit_price", errors,
                                         fmt.gettext("not a number"), fmt.language)
    if values["unit_price"] is None and "unit_price" not in errors:
        errors["unit_price"] = fmt.gettext("a price, please")
    prices: dict[str, Decimal] = {}
    for number, line in enumerate(form.get("prices", "").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        price = decimal_field({"p": parts[1] if len(parts) == 2 else ""}, "p", errors,
                              "", fmt.language) if len(parts) == 2 else None
        errors.pop("p", None)
        if price is None or len(parts[0]) != 3:
            errors["prices"] = fmt.gettext(
                "line {n}: a currency code and a price, e.g. USD 12.50", n=number)
            continue
        prices[parts[0].upper()] = price
    values["prices"] = prices
    return values


@masterdata_pages.get("/products/new", name="web_new_product", response_class=HTMLResponse)
def new_product(request: Request) -> Response:
    return product_form(request, {"unit": "C62", "vat_category": VatCategory.STANDARD.value,
                                  "kind": ProductKind.GOODS.value}, {})


@masterdata_pages.post("/products/new", name="web_create_product", response_class=HTMLResponse)
def create_product(request: Request, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "create_product")
    errors: dict[str, str] = {}
    values = _product_fields(request, form, errors)
    sku = form.get("sku", "").strip()
    if not sku:
        errors["sku"] = fmt.gettext("a SKU, please")
    with read(request) as conn:
        company_id = queries.default_company_id(conn)
    if company_id is None:
        errors["_"] = fmt.gettext("Create a company first.")
    if errors:
        return product_form(request, form, errors, status_code=422)
    assert company_id is not None
    try:
        product_id = execute(request, c.CreateProduct(company_id=company_id, sku=sku, **values))
    except FormError as error:
        return product_form(request, form, _form_errors(error), status_code=422)
    return redirect(request, f"/products/{product_id}/edit",
                    fmt.gettext("Product {sku} created.", sku=sku))


@masterdata_pages.get("/products/{product_id}/edit", name="web_edit_product",
                      response_class=HTMLResponse)
def edit_product(request: Request, product_id: PageId) -> Response:
    with read(request) as conn:
        found = queries.product(conn, product_id)
    form = {"name": found["name"], "unit": found["unit"], "unit_price": str(found["unit_price"]),
            "vat_category": found["vat_category"], "kind": found["kind"],
            "prices": _prices_text(found["prices"] or {}),
            "active": "1" if found["active"] else ""}
    return product_form(request, form, {}, product=found)


@masterdata_pages.post("/products/{product_id}/edit", name="web_update_product",
                       response_class=HTMLResponse)
def update_product(request: Request, product_id: PageId, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "update_product")
    with read(request) as conn:
        found = queries.product(conn, product_id)
    errors: dict[str, str] = {}
    values = _product_fields(request, form, errors)
    values["active"] = bool(form.get("active"))
    if errors:
        return product_form(request, form, errors, product=found, status_code=422)
    stored = {**found, "prices": {k: Decimal(str(v)) for k, v in (found["prices"] or {}).items()}}
    changes = {name: value for name, value in values.items() if value != stored[name]}
    if changes:
        try:
            execute(request, c.UpdateProduct(product_id, changes))
        except FormError as error:
            return product_form(request, form, _form_errors(error), product=found,
                                status_code=422)
    return redirect(request, "/products", fmt.gettext("Product {sku} saved.", sku=found["sku"]))


# -- warehouses -------------------------------------------------------------------------------


@masterdata_pages.get("/warehouses", name="web_warehouses", response_class=HTMLResponse)
def warehouses(request: Request) -> Response:
    with read(request) as conn:
        result = queries.list_warehouses(conn, paging(request))
    return page(request, "warehouses.html", page=result,
                can_create=can(request, "create_warehouse"))


def warehouse_form(request: Request, form: dict[str, str], errors: dict[str, str],
                   warehouse: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return page(request, "warehouse_form.html", status_code=status_code, form=form,
                errors=errors, warehouse=warehouse, routes=list(DeliveryRoute))


@masterdata_pages.get("/warehouses/new", name="web_new_warehouse", response_class=HTMLResponse)
def new_warehouse(request: Request) -> Response:
    return warehouse_form(request, {"delivery_route": DeliveryRoute.PICK_PACK_SHIP.value}, {})


@masterdata_pages.post("/warehouses/new", name="web_create_warehouse",
                       response_class=HTMLResponse)
def create_warehouse(request: Request, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "create_warehouse")
    errors: dict[str, str] = {}
    code, name = form.get("code", "").strip(), form.get("name", "").strip()
    if not code:
        errors["code"] = fmt.gettext("a code, please")
    if not name:
        errors["name"] = fmt.gettext("a name, please")
    with read(request) as conn:
        company_id = queries.default_company_id(conn)
    if company_id is None:
        errors["_"] = fmt.gettext("Create a company first.")
    if errors:
        return warehouse_form(request, form, errors, status_code=422)
    assert company_id is not None
    try:
        execute(request, c.CreateWarehouse(
            company_id=company_id, code=code, name=name, address=_address(form, "address"),
            delivery_route=form.get("delivery_route", DeliveryRoute.PICK_PACK_SHIP.value)))
    except FormError as error:
        return warehouse_form(request, form, _form_errors(error), status_code=422)
    return redirect(request, "/warehouses", fmt.gettext("Warehouse {code} created.", code=code))


@masterdata_pages.get("/warehouses/{warehouse_id}/edit", name="web_edit_warehouse",
                      response_class=HTMLResponse)
def edit_warehouse(request: Request, warehouse_id: PageId) -> Response:
    with read(request) as conn:
        found = queries.warehouse(conn, warehouse_id)
    form = {"name": found["name"], "delivery_route": found["delivery_route"],
            **_address_form("address", found["address"])}
    return warehouse_form(request, form, {}, warehouse=found)


@masterdata_pages.post("/warehouses/{warehouse_id}/edit", name="web_update_warehouse",
                       response_class=HTMLResponse)
def update_warehouse(request: Request, warehouse_id: PageId, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    require(request, "update_warehouse")
    with read(request) as conn:
        found = queries.warehouse(conn, warehouse_id)
    name = form.get("name", "").strip()
    if not name:
        return warehouse_form(request, form, {"name": fmt.gettext("a name, please")},
                              warehouse=found, status_code=422)
    address = _address(form, "address")
    stored_address = {k: (found["address"] or {}).get(k, "") for k in ADDRESS_FIELDS}
    changes: dict[str, Any] = {}
    if name != found["name"]:
        changes["name"] = name
    if address != stored_address:
        changes["address"] = address
    if form.get("delivery_route", found["delivery_route"]) != found["delivery_route"]:
        changes["delivery_route"] = form["delivery_route"]
    if changes:
        try:
            execute(request, c.UpdateWarehouse(warehouse_id, changes))
        except FormError as error:
            return warehouse_form(request, form, _form_errors(error), warehouse=found,
                                  status_code=422)
    return redirect(request, "/warehouses",
                    fmt.gettext("Warehouse {code} saved.", code=found["code"]))
