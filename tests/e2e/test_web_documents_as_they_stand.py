"""Pages show documents as they stand now: a credit note reads as a credit (negative in
lists, with how much of it was applied, no "pay to", "credit note posted"), a released or
completed order no longer shows why it was once held, and a held order that reserved
nothing owes no backorder."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.server import create_app
from tests.e2e.web_support import Shop, open_shop, sign_in
from tests.fixtures.world import line


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _row_of(html: str, number: str) -> str:
    match = re.search(rf"<tr><td[^>]*><a [^>]*>{number}</a>.*?</tr>", html, re.S)
    assert match, f"no row for {number}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_a_credit_note_is_listed_negative_with_its_status_and_its_page_reads_as_a_credit(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    note_id = any_app.bus.handle(c.CreateCreditNote(shop.invoices["rossi"], "damaged"))
    sign_in(browser, "admin")
    page = browser.get(f"/invoices/{note_id}").text
    number = re.search(r"<h1>Credit note (CN-\d{4}-\d{5})", page)
    assert number, page[:2000]
    assert "Pay to" not in page and "Payment terms" not in page
    assert "Credit note</strong> posted" in page and "Invoice</strong> posted" not in page
    row = _row_of(browser.get("/invoices").text, number.group(1))
    # Applied in full to the invoice it corrects: 2 chairs, 240.00 + 22% VAT.
    assert "-€292.80" in row and "applied" in row and "partly" not in row
    invoice_row = _row_of(browser.get("/invoices").text, "INV-2026-00001")
    assert "€292.80" in invoice_row and "-€" not in invoice_row


def test_a_released_order_no_longer_shows_its_credit_hold_reason(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    any_app.bus.handle(c.UpdateCustomer(shop.world.customers["rossi"],
                                        {"credit_limit": "100.00"}))
    order_id = any_app.bus.handle(c.CreateOrder(shop.world.customers["rossi"],
                                                (line(shop.world.products["DESK"], 3),)))
    held = any_app.bus.handle(c.ConfirmOrder(order_id))
    assert held.state == "credit_hold"
    sign_in(browser, "admin")
    page = browser.get(f"/orders/{order_id}").text
    assert "Credit hold</dt>" in page
    # A held order reserved nothing and waits for a credit decision, not for stock.
    assert _quantities(page) == ["3", "0", "0", "0"]  # ordered, reserved, shipped, backorder
    any_app.bus.handle(c.ReleaseOrder(order_id, "paid a deposit"))
    released = browser.get(f"/orders/{order_id}").text
    assert "Credit hold</dt>" not in released
    assert _quantities(released) == ["3", "3", "0", "0"]  # reserved in full on release


def _quantities(html: str) -> list[str]:
    match = re.search(r"DESK · Standing desk</td>((?:<td class=\"num\">[^<]*</td>){5})", html)
    assert match, "no DESK line"
    cells = re.findall(r'<td class="num">([^<]*)</td>', match.group(1))
    return [cells[0].split()[0], *cells[2:]]


def test_a_portal_user_refused_a_back_office_page_reads_why_in_their_language(
        browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "portal-dupont")
    refused = browser.get("/orders?lang=fr")
    assert refused.status_code == 403
    assert "Non autorisé" in refused.text and "Votre rôle (client)" in refused.text
    assert "may not" not in refused.text
