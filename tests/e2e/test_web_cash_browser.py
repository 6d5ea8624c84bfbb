"""The cash jobs in a real browser (Debian's Chromium driven by Playwright, as
test_web_browser.py): an AR clerk uploads a statement and reconciles a line, applies a
customer's existing credit to an open invoice and auto-allocates a payment; a controller
approves the write-off an AR clerk asked for. Each checks the outcome in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import CreateUser
from o2c.server import create_app
from tests.e2e.test_web_browser import CHROMIUM_FLAGS, chromium_path, shot
from tests.e2e.web_support import PASSWORD, Shop, open_shop, served
from tests.services.bank_support import entry, statement_file

D = Decimal


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def shop(app: App) -> Shop:
    shop = open_shop(app)
    app.bus.handle(CreateUser("controller", PASSWORD, "controller"))
    return shop


@pytest.fixture
def server(app: App, shop: Shop) -> Iterator[str]:
    with served(create_app(app)) as base:
        yield base


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(chromium: Browser, server: str, console_errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(base_url=server, locale="en-GB",
                                   viewport={"width": 1366, "height": 900})
    opened = context.new_page()

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{opened.url}: {message.text}")

    opened.on("console", record)
    yield opened
    context.close()


def sign_in(page: Page, username: str, to: str) -> None:
    page.goto(f"/login?next={to}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(to) + r"$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login$"))


def residual(app: App, invoice_id: int) -> Decimal:
    with app.engine.connect() as conn:
        return D(conn.execute(select(t.open_items.c.residual).where(
            t.open_items.c.invoice_id == invoice_id)).scalar_one())


def test_an_ar_clerk_uploads_a_statement_and_reconciles_a_line(
        app: App, page: Page, shop: Shop, tmp_path: Path, console_errors: list[str]) -> None:
    invoice_id = shop.invoices["rossi"]
    with app.engine.connect() as conn:
        ref = conn.execute(select(t.invoices.c.remittance_reference).where(
            t.invoices.c.id == invoice_id)).scalar_one()
    statement = tmp_path / "march.xml"
    statement.write_bytes(statement_file([
        entry("292.80", ref=ref, name="Rossi Arredamenti", on=date(2026, 3, 2)),
        entry("-12.50", text="bank fees", on=date(2026, 3, 2))]))
    sign_in(page, "ar_clerk", "/bank")
    page.get_by_label(re.compile("Statement file")).set_input_files(str(statement))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("lines imported: 2")
    page.get_by_role("link", name="Bank", exact=True).click()
    page.get_by_role("button", name="Match lines").click()
    expect(page).to_have_url(re.compile(r"/bank/lines\?status=proposed$"))
    expect(page.get_by_role("status")).to_contain_text("Lines matched: 2")
    with app.engine.connect() as conn:
        line_id = conn.execute(select(t.bank_lines.c.id).where(
            t.bank_lines.c.amount > 0)).scalar_one()
    row = page.locator(f"#line-{line_id}")
    expect(row).to_contain_text("Rossi Arredamenti")
    expect(row).to_contain_text("INV-2026-00001")
    expect(row.locator("ul.reasons li").first).to_be_visible()
    shot(page, "bank-review")
    row.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text(f"Line {line_id} applied.")
    expect(page.locator(f"#line-{line_id}")).to_have_count(0)  # no longer waits for review
    with app.engine.connect() as conn:
        status, payment_id = conn.execute(select(t.bank_lines.c.status,
                                                 t.bank_lines.c.payment_id).where(
            t.bank_lines.c.id == line_id)).one()
    assert status == "applied" and payment_id is not None
    assert residual(app, invoice_id) == 0
    page.goto(f"/bank/lines/{line_id}")
    page.locator("#line-payment").click()
    expect(page.locator("h1")).to_contain_text("Payment PAY-")
    expect(page.locator("#entries")).to_contain_text("1100")
    shot(page, "payment-page")
    assert console_errors == []


def test_an_ar_clerk_applies_existing_credit_to_an_open_invoice(
        app: App, page: Page, shop: Shop, console_errors: list[str]) -> None:
    invoice_id = shop.invoices["rossi"]
    payment_id = app.bus.handle(c.RecordPayment(shop.world.customers["rossi"], D("300.00"),
                                                "EUR", reference="advance"))
    sign_in(page, "ar_clerk", f"/invoices/{invoice_id}")
    page.get_by_role("link", name="Apply customer credit").click()
    expect(page.locator("h1")).to_contain_text("Customer credit")
    page.get_by_label("Credit", exact=True).select_option(f"payment:{payment_id}")
    page.get_by_label(re.compile(r"^Amount")).fill("292.80")
    shot(page, "customer-credit")
    page.get_by_role("button", name="Apply credit").click()
    expect(page.get_by_role("status")).to_contain_text("Credit applied.")
    assert residual(app, invoice_id) == 0
    with app.engine.connect() as conn:
        unapplied = conn.execute(select(t.payments.c.unapplied).where(
            t.payments.c.id == payment_id)).scalar_one()
    assert D(unapplied) == D("7.20")
    assert console_errors == []


def test_an_ar_clerk_auto_allocates_a_payment_and_un_allocates_it_with_a_reason(
        app: App, page: Page, shop: Shop, console_errors: list[str]) -> None:
    invoice_id = shop.invoices["rossi"]
    payment_id = app.bus.handle(c.RecordPayment(shop.world.customers["rossi"], D("100.00"),
                                                "EUR"))
    sign_in(page, "ar_clerk", "/payments")
    page.get_by_role("link", name=re.compile(r"^PAY-")).first.click()
    expect(page).to_have_url(re.compile(rf"/payments/{payment_id}$"))
    page.get_by_role("button", name="Auto-allocate, oldest first").click()
    expect(page.get_by_role("status")).to_contain_text("Allocations made: 1.")
    expect(page.locator("#payment-unapplied")).to_have_text("€0.00")
    assert residual(app, invoice_id) == D("192.80")
    page.get_by_label(re.compile("Reason to un-allocate")).fill("wrong invoice")
    page.get_by_role("button", name="Un-allocate").click()
    expect(page.get_by_role("status")).to_contain_text("Allocation undone")
    assert residual(app, invoice_id) == D("292.80")
    assert console_errors == []


def test_a_controller_approves_the_write_off_an_ar_clerk_asked_for(
        app: App, page: Page, shop: Shop, console_errors: list[str]) -> None:
    invoice_id = shop.invoices["dupont"]
    sign_in(page, "ar_clerk", f"/invoices/{invoice_id}")
    page.get_by_label("Reason for the write-off").fill("customer insolvent")
    page.get_by_role("button", name="Request write-off").click()
    expect(page.get_by_role("status")).to_contain_text("Write-off requested")
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_text("You asked for this; another person decides.")).to_be_visible()
    sign_out(page)
    sign_in(page, "controller", "/")
    page.get_by_role("link", name="Approvals").click()
    with app.engine.connect() as conn:
        request_id = conn.execute(select(t.approval_requests.c.id)).scalar_one()
    card = page.locator(f"#approval-{request_id}")
    expect(card).to_contain_text("Write-off")
    expect(card).to_contain_text("€240.00")
    expect(card).to_contain_text("customer insolvent")
    shot(page, "approvals")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("approved and carried out")
    assert residual(app, invoice_id) == 0
    with app.engine.connect() as conn:
        state, decided_by = conn.execute(select(t.approval_requests.c.state,
                                                t.approval_requests.c.decided_by)).one()
    assert (state, decided_by) == ("approved", "controller")
    assert console_errors == []
