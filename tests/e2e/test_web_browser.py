"""The web pages in a real browser: Debian's Chromium driven by Playwright against the app
served by uvicorn on a free localhost port, over a real SQLite database. Screenshots of the
main pages land in tests/e2e/screenshots/ (git-ignored) for review."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.server import create_app
from tests.e2e.conftest import API, token_for
from tests.e2e.web_support import PASSWORD, Shop, open_shop, served
from tests.fixtures.world import line

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install "
                    "chromium)")
    return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def shop(app: App) -> Shop:
    return open_shop(app)


@pytest.fixture
def server(app: App, shop: Shop) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port, until the test ends."""
    with served(create_app(app)) as base:
        yield base


@pytest.fixture
def page(chromium: Browser, server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=server, locale="en-GB",
                                   viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str, to: str = "/") -> None:
    # By field, not label: the sign-in page speaks the browser's language.
    page.goto(f"/login?next={to}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.wait_for_url(re.compile(re.escape(to) + r"$"))


def test_a_user_signs_in_and_out(page: Page) -> None:
    page.goto("/orders")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    shot(page, "login")
    page.get_by_label("Username").fill("sales")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/orders$"))
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/orders")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_an_order_is_created_and_confirmed_through_the_ui(page: Page, shop: Shop) -> None:
    sign_in(page, "sales", "/orders")
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Customer", exact=True).fill(shop.codes["dupont"])
    page.get_by_label("Customer reference").fill("PO-BROWSER-1")
    page.get_by_label("Product 1", exact=True).fill("DESK")
    page.get_by_label("Quantity 1", exact=True).fill("2")
    page.get_by_label("Product 2", exact=True).fill("BOOK")
    page.get_by_label("Quantity 2", exact=True).fill("3")
    page.get_by_role("button", name="Create order").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    expect(page.locator("h1")).to_contain_text("draft")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("confirmed")
    expect(page.locator("h1")).to_contain_text("confirmed")
    expect(page.get_by_role("cell", name="DESK · Standing desk")).to_be_visible()
    shot(page, "order")


def test_a_credit_manager_releases_a_held_order(app: App, page: Page, shop: Shop) -> None:
    # Rossi's limit is 5,000: 20 desks go over it and the order waits on credit hold.
    order_id = app.bus.handle(c.CreateOrder(shop.world.customers["rossi"],
                                            (line(shop.world.products["DESK"], 20),)))
    assert app.bus.handle(c.ConfirmOrder(order_id)).state == "credit_hold"
    sign_in(page, "credit_manager", "/credit-holds")
    card = page.locator(f"#order-{order_id}")
    expect(card).to_contain_text("Rossi Arredamenti")
    expect(card).to_contain_text("Credit limit")
    shot(page, "credit-holds")
    card.get_by_label(re.compile("Reason to release")).fill("Paid a deposit by phone")
    card.get_by_role("button", name="Release").click()
    expect(page.get_by_role("status")).to_contain_text("released")
    page.goto(f"/orders/{order_id}")
    expect(page.locator("h1")).to_contain_text("confirmed")


def test_the_warehouse_ships_and_the_invoice_appears(app: App, page: Page, shop: Shop
                                                     ) -> None:
    order_id = app.bus.handle(c.CreateOrder(shop.world.customers["dupont"],
                                            (line(shop.world.products["CHAIR"], 4),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    sign_in(page, "warehouse", "/warehouse")
    row = page.locator(f"#shipment-{shipment_id}")
    row.get_by_role("button", name="Pick").click()
    expect(page.get_by_role("status")).to_contain_text("picked")
    row.get_by_role("button", name="Pack").click()
    expect(page.get_by_role("status")).to_contain_text("packed")
    row.get_by_label(re.compile("Carrier")).fill("DHL")
    row.get_by_label(re.compile("Tracking number")).fill("JD0001")
    shot(page, "warehouse")
    row.get_by_role("button", name="Ship").click()
    expect(page.get_by_role("status")).to_contain_text("invoice is posted")
    page.goto(f"/orders/{order_id}")
    invoice_link = page.get_by_role("link", name=re.compile(r"^INV-"))
    expect(invoice_link).to_be_visible()
    invoice_link.click()
    expect(page.locator("h1")).to_contain_text("Invoice INV-")
    # 4 x 120.00; Dupont is a French business: intra-EU reverse charge, no Italian VAT
    expect(page.locator("#invoice-residual")).to_have_text("€480.00")
    shot(page, "invoice")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.startswith("INV-")


def test_a_payment_is_recorded_and_allocated_with_live_residuals(page: Page, shop: Shop
                                                                 ) -> None:
    sign_in(page, "ar_clerk", "/payments")
    page.get_by_role("link", name="Record a payment").click()
    page.get_by_label("Customer").fill(shop.codes["rossi"])
    page.get_by_role("button", name="Show open invoices").click()
    page.get_by_label("Amount received (EUR)").fill("300.00")
    page.get_by_label("Reference").fill("Bonifico Rossi")
    invoice_id = shop.invoices["rossi"]
    page.get_by_label(re.compile("Allocate to INV-")).fill("292.80")
    # htmx asks the server what stays open as the clerk types
    expect(page.locator(f"#after-{invoice_id}")).to_have_text("€0.00")
    expect(page.locator("#unapplied-total")).to_have_text("€7.20")
    shot(page, "payment")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    page.goto(f"/invoices/{invoice_id}")
    expect(page.locator("h1")).to_contain_text("paid")
    expect(page.locator("#invoice-residual")).to_have_text("€0.00")


def test_the_dashboard_numbers_equal_the_api(app: App, page: Page, shop: Shop) -> None:
    api = TestClient(create_app(app))
    api.headers["Authorization"] = f"Bearer {token_for(app, 'reporter', 'controller')}"
    figures = api.get(f"{API}/reports/dashboard").json()
    sign_in(page, "admin", "/")
    shot(page, "dashboard")
    expect(page.locator("#open-receivables-value")).to_have_text(
        f"€{Decimal(figures['open_receivables']):,.2f}")
    expect(page.locator("#overdue-value")).to_have_text(f"€{Decimal(figures['overdue']):,.2f}")
    expect(page.locator("#cash-value")).to_have_text(
        f"€{Decimal(figures['cash_received_this_month']):,.2f}")
    page.locator("#open-receivables").click()  # each number opens the list behind it
    expect(page).to_have_url(re.compile(r"/invoices\?open=1"))
    expect(page.locator("tbody tr")).to_have_count(figures["open_invoices"])


def test_the_portal_customer_sees_only_their_own_data(page: Page, shop: Shop) -> None:
    sign_in(page, "portal-rossi", "/portal")
    expect(page.locator("h1")).to_have_text("Rossi Arredamenti S.p.A.")
    shot(page, "portal")
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_text("Dupont")).to_have_count(0)
    response = page.goto(f"/portal/invoices/{shop.invoices['dupont']}")
    assert response is not None and response.status == 404
    response = page.goto("/customers")
    assert response is not None and response.status == 403


def test_the_portal_customer_places_an_order_from_the_catalog(page: Page) -> None:
    sign_in(page, "portal-dupont", "/portal")
    page.get_by_role("link", name="Place an order").click()
    page.get_by_label("Product 1", exact=True).fill("BOOK")
    page.get_by_label("Quantity 1", exact=True).fill("10")
    page.get_by_role("button", name="Create order").click()
    expect(page.get_by_role("status")).to_contain_text("received")
    expect(page).to_have_url(re.compile(r"/portal/orders/\d+$"))


def test_pages_follow_the_browser_language(chromium: Browser, server: str) -> None:
    context = chromium.new_context(base_url=server, locale="it-IT")
    page = context.new_page()
    sign_in(page, "admin", "/")
    expect(page.locator("h1")).to_contain_text("Cruscotto")
    expect(page.locator("#open-receivables-value")).to_contain_text("€")
    context.close()
