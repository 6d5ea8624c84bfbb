"""The back-office and the portal over HTTP (FastAPI's TestClient): sign-in, what each role
sees and may do, forms that report errors next to their fields and write nothing, portal
isolation, the dashboard against the API, and languages. The browser tests
(test_web_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.server import create_app
from tests.e2e.conftest import API, row_counts, token_for
from tests.e2e.web_support import Shop, csrf_of, open_shop, sign_in, text_of
from tests.fixtures.world import line


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    """A browser-like client: cookies kept, redirects followed unless asked otherwise."""
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def test_a_visitor_is_sent_to_sign_in_and_back_to_the_page_asked_for(browser: TestClient
                                                                     ) -> None:
    first = browser.get("/orders?state=confirmed", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Forders%3Fstate%3Dconfirmed"
    signed = sign_in(browser, "sales", next_page="/orders?state=confirmed")
    assert signed.status_code == 303  # type: ignore[attr-defined]
    assert signed.headers["location"] == "/orders?state=confirmed"  # type: ignore[attr-defined]
    page = browser.get("/orders?state=confirmed")
    assert page.status_code == 200 and "<h1>Orders</h1>" in page.text


def test_a_wrong_password_keeps_the_visitor_out(browser: TestClient) -> None:
    response = sign_in(browser, "sales", password="wrong")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_sign_in_never_sends_the_visitor_to_another_site(browser: TestClient) -> None:
    response = sign_in(browser, "sales", next_page="//evil.example/")
    assert response.headers["location"] == "/"  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", [
    "/", "/orders", "/orders/new", "/credit-holds", "/warehouse", "/warehouse?view=stock",
    "/invoices", "/invoices?aging=1_30", "/payments", "/payments/new", "/customers"])
def test_every_back_office_page_renders_for_an_administrator(browser: TestClient,
                                                             path: str) -> None:
    sign_in(browser, "admin")
    response = browser.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_document_pages_render_with_their_timelines(browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "admin")
    order = browser.get(f"/orders/{shop.orders['rossi']}")
    assert "shipment</strong> shipped" in order.text and "Office chair" in order.text
    invoice = browser.get(f"/invoices/{shop.invoices['rossi']}")
    assert invoice.status_code == 200 and "Rossi Arredamenti" in invoice.text
    customer = browser.get(f"/customers/{shop.world.customers['rossi']}")
    assert customer.status_code == 200 and 'id="statement-tab"' in customer.text
    assert 'id="statement"' not in customer.text  # a tab of its own, not 8,000 px below
    statement = browser.get(f"/customers/{shop.world.customers['rossi']}?view=statement")
    assert statement.status_code == 200 and 'id="statement"' in statement.text
    pdf = browser.get(f"/invoices/{shop.invoices['rossi']}/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"


def test_the_dashboard_shows_the_figures_of_the_api(any_app: App, browser: TestClient,
                                                    shop: Shop) -> None:
    sign_in(browser, "admin")
    page = browser.get("/").text
    api = TestClient(create_app(any_app))
    api.headers["Authorization"] = f"Bearer {token_for(any_app, 'api-user', 'controller')}"
    figures = api.get(f"{API}/reports/dashboard").json()
    assert Decimal(figures["open_receivables"]) > 0
    shown = text_of(page, "open-receivables-value")
    assert shown == f"€{Decimal(figures['open_receivables']):,.2f}"
    assert text_of(page, "overdue-value") == f"€{Decimal(figures['overdue']):,.2f}"
    assert text_of(page, "open-invoices-count") == f"{figures['open_invoices']} open invoices"


def test_the_dashboard_total_equals_the_receivable_control_account(any_app: App,
                                                                   shop: Shop) -> None:
    api = TestClient(create_app(any_app))
    api.headers["Authorization"] = f"Bearer {token_for(any_app, 'api-user', 'controller')}"
    figures = api.get(f"{API}/reports/dashboard").json()
    balance = api.get(f"{API}/ledger/trial-balance").json()
    [receivable] = [a for a in balance["accounts"] if a["account"] == "1200"]
    assert Decimal(figures["open_receivables"]) == Decimal(receivable["balance"])
    assert sum(Decimal(b["amount"]) for b in figures["aging"]) == Decimal(
        figures["open_receivables"])


def test_a_form_without_the_session_token_is_refused_and_writes_nothing(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "sales")
    before = row_counts(any_app.engine)
    response = browser.post("/orders/new", data={
        "customer": shop.codes["rossi"], "sku_0": "CHAIR", "quantity_0": "1",
        "line_count": "5", "csrf_token": "forged"})
    assert response.status_code == 403 and "form expired" in response.text
    assert row_counts(any_app.engine) == before


def test_hostile_form_fields_and_addresses_get_a_clear_refusal_never_a_server_error(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "sales")
    token = csrf_of(browser.get("/orders/new").text)
    before = row_counts(any_app.engine)
    control = browser.post("/orders/new", data={
        "customer": shop.codes["rossi"], "sku_0": "CHAIR", "quantity_0": "1",
        "customer_reference": "PO\x07", "line_count": "5", "csrf_token": token})
    assert control.status_code == 422 and "U+0007" in control.text
    long = browser.post("/orders/new", data={
        "customer": shop.codes["rossi"], "sku_0": "CHAIR", "quantity_0": "1",
        "customer_reference": "x" * 6000, "line_count": "5", "csrf_token": token})
    assert long.status_code == 422
    assert row_counts(any_app.engine) == before
    for url in ("/orders/2147483648", "/invoices/99999999999999999999", "/orders/0"):
        assert browser.get(url).status_code == 422, url
    assert browser.get("/orders?offset=99999999999999999999999").status_code == 200


def test_a_bad_quantity_is_shown_next_to_its_field_and_nothing_is_written(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "sales")
    token = csrf_of(browser.get("/orders/new").text)
    before = row_counts(any_app.engine)
    response = browser.post("/orders/new", data={
        "customer": shop.codes["rossi"], "sku_0": "CHAIR", "quantity_0": "two",
        "sku_1": "NOPE", "quantity_1": "1", "line_count": "5", "csrf_token": token})
    assert response.status_code == 422
    assert re.search(r'name="quantity_0"[^>]*value="two"', response.text)  # typed stays
    assert "not a number" in response.text and "no product with SKU NOPE" in response.text
    assert row_counts(any_app.engine) == before


def test_an_order_placed_in_the_back_office_can_be_confirmed(browser: TestClient,
                                                            shop: Shop) -> None:
    sign_in(browser, "sales")
    token = csrf_of(browser.get("/orders/new").text)
    created = browser.post("/orders/new", data={
        "customer": shop.codes["dupont"], "sku_0": "DESK", "quantity_0": "1.5",
        "line_count": "5", "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303
    order_url = created.headers["location"]
    page = browser.get(order_url)
    assert "created." in page.text and "1.5" in page.text
    confirmed = browser.post(f"{order_url}/confirm", data={"csrf_token": csrf_of(page.text)})
    assert "confirmed: credit check passed" in confirmed.text  # and the shipment, as the CLI
    assert 'class="badge confirmed"' in confirmed.text and "Stock reserved on shipment" in \
        confirmed.text


def test_each_role_sees_only_its_sections_and_is_refused_the_rest(browser: TestClient,
                                                                  shop: Shop) -> None:
    sign_in(browser, "warehouse")
    home = browser.get("/warehouse").text
    assert 'href="/warehouse"' in home and 'href="/credit-holds"' not in home
    payments = browser.get("/payments").text  # every staff role may read payments...
    assert 'href="/payments/new"' not in payments  # ...but not record one
    token = csrf_of(home)
    refused = browser.post("/payments/new", data={
        "customer": shop.codes["rossi"], "amount": "10", "received_on": "2026-03-02",
        "csrf_token": token})
    assert refused.status_code == 403
    release = browser.post(f"/credit-holds/{shop.orders['rossi']}/release",
                           data={"reason": "ok", "csrf_token": token})
    assert release.status_code == 403


def test_the_payment_form_shows_what_each_invoice_keeps_open(browser: TestClient,
                                                            shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    form = browser.get(f"/payments/new?customer={shop.codes['rossi']}").text
    invoice_id = shop.invoices["rossi"]
    assert f'name="allocate_{invoice_id}"' in form
    preview = browser.post("/payments/new/preview", data={
        "customer": shop.codes["rossi"], "amount": "300", f"allocate_{invoice_id}": "100",
        "csrf_token": csrf_of(form)})
    # 2 chairs at 120.00 + 22% VAT = 292.80; 100 allocated leaves 192.80, 200 unapplied
    assert text_of(preview.text, f"after-{invoice_id}") == "€192.80"
    assert text_of(preview.text, "unapplied-total") == "€200.00"


def test_a_portal_customer_sees_only_their_own_documents(browser: TestClient,
                                                         shop: Shop) -> None:
    sign_in(browser, "portal-rossi")
    assert browser.get("/portal").status_code == 200
    invoices = browser.get("/portal/invoices").text
    assert "Rossi" not in invoices or "Dupont" not in invoices
    mine = browser.get(f"/portal/invoices/{shop.invoices['rossi']}")
    assert mine.status_code == 200
    for path in (f"/portal/invoices/{shop.invoices['dupont']}",
                 f"/portal/invoices/{shop.invoices['dupont']}/pdf",
                 f"/portal/orders/{shop.orders['dupont']}"):
        assert browser.get(path).status_code == 404, path
    assert browser.get("/orders").status_code == 403  # the back-office is not theirs
    assert browser.get(f"/invoices/{shop.invoices['dupont']}").status_code == 403


def test_pages_speak_the_language_chosen_and_format_amounts_by_it(browser: TestClient,
                                                                  shop: Shop) -> None:
    sign_in(browser, "admin")
    italian = browser.get("/?lang=it").text
    assert "<h1>Cruscotto" in italian and "Crediti aperti" in italian
    assert "€" in italian and ",", italian
    assert "Ordini" in browser.get("/orders").text  # the choice is remembered
    browser.cookies.delete("o2c_lang")
    french = browser.get("/orders", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text
    assert "Commandes" in french
    spanish = browser.get(f"/invoices/{shop.invoices['rossi']}?lang=es").text
    assert "Factura" in spanish and "292,80\u00a0€" in spanish  # no-break space, as Babel


def test_a_credit_note_is_created_from_the_invoice_page(browser: TestClient,
                                                        shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    invoice_id = shop.invoices["rossi"]
    page = browser.get(f"/invoices/{invoice_id}").text
    line_id = re.search(r'name="line_(\d+)"', page)
    assert line_id
    created = browser.post(f"/invoices/{invoice_id}/credit-note", data={
        "reason": "one chair arrived damaged", f"line_{line_id.group(1)}": "1",
        "csrf_token": csrf_of(page)})
    assert "Credit note created and posted." in created.text
    assert "<h1>Credit note" in created.text and "€146.40" in created.text  # 120 + 22%
    after = browser.get(f"/invoices/{invoice_id}").text
    assert text_of(after, "invoice-residual") == "€146.40"


def test_the_invoice_page_offers_its_e_invoices_to_the_portal_customer(browser: TestClient,
                                                                       shop: Shop) -> None:
    sign_in(browser, "portal-rossi")
    invoice_id = shop.invoices["rossi"]
    page = browser.get(f"/portal/invoices/{invoice_id}").text
    assert f"/api/v1/invoices/{invoice_id}/document?format=ubl" in page
    ubl = browser.get(f"/api/v1/invoices/{invoice_id}/document?format=ubl")
    assert ubl.status_code == 200 and b"<cbc:ID>INV-" in ubl.content
    other = browser.get(f"/api/v1/invoices/{shop.invoices['dupont']}/document?format=ubl")
    assert other.status_code == 404


def test_a_ship_only_shipment_offers_shipping_at_once_and_counts_packages(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    any_app.bus.handle(c.UpdateWarehouse(shop.world.warehouse_id,
                                         {"delivery_route": "ship_only"}))
    order_id = any_app.bus.handle(c.CreateOrder(shop.world.customers["rossi"],
                                                (line(shop.world.products["DESK"], 1),)))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    sign_in(browser, "warehouse")
    listed = browser.get("/warehouse").text
    assert f'id="ship-{shipment_id}"' in listed and f'id="pick-{shipment_id}"' not in listed
    page = browser.get(f"/warehouse/shipments/{shipment_id}").text
    assert "Ship directly" in page and ">Picked<" not in page and 'name="packages"' in page
    bad = browser.post(f"/warehouse/shipments/{shipment_id}/ship", data={
        "csrf_token": csrf_of(page), "packages": "0",
        "back": f"/warehouse/shipments/{shipment_id}"})
    assert "Packages must be a whole number, at least 1." in bad.text
    shipped = browser.post(f"/warehouse/shipments/{shipment_id}/ship", data={
        "csrf_token": csrf_of(page), "carrier": "BRT", "packages": "3",
        "back": f"/warehouse/shipments/{shipment_id}"})
    assert "shipped; the invoice is posted." in shipped.text
    assert "3 packages" in shipped.text and 'class="badge shipped"' in shipped.text
