"""Back-office jobs of issue 18 done by clicking in Debian's Chromium (Playwright), checked in
the database: a credit manager edits a credit limit and, for a raise past the threshold,
asks for approval instead; an AR clerk downloads the aged receivables (CSV and XLSX) and the
file's figures are the open items'; the new-order form shows the running total."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import func, select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from tests.e2e.test_web_browser import chromium, server, shop, sign_in  # noqa: F401
from tests.e2e.web_support import Shop


@pytest.fixture
def page(chromium: Browser, server: str) -> Iterator[Page]:  # noqa: F811
    """A page that records console errors (a CSP violation shows there)."""
    context = chromium.new_context(base_url=server, locale="en-GB", accept_downloads=True,
                                   viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        # A form shown again with its errors answers 422 by design; Chromium logs that.
        # Any other console error (a CSP violation, a missing asset) fails the test.
        known = "status of 422" in message.text
        if message.type == "error" and not known:
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", record)
    yield page
    context.close()
    assert errors == [], errors


def _customer(app: App, customer_id: int) -> dict[str, object]:
    with app.engine.connect() as conn:
        return dict(conn.execute(select(t.customers).where(t.customers.c.id == customer_id))
                    .mappings().one())


def test_a_credit_manager_edits_a_credit_limit_and_asks_approval_for_a_big_raise(
        app: App, page: Page, shop: Shop) -> None:  # noqa: F811
    customer_id = shop.world.customers["rossi"]
    sign_in(page, "credit_manager", "/customers")
    page.get_by_role("link", name=shop.codes["rossi"]).click()
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.locator("#limit-rule")).to_contain_text("dual control")
    page.get_by_label(re.compile(r"^Credit limit")).fill("4500")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    assert _customer(app, customer_id)["credit_limit"] == Decimal("4500")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label(re.compile(r"^Credit limit")).fill("60000")
    page.get_by_role("button", name="Save").first.click()
    approval = page.locator("#approval-needed")
    expect(approval).to_contain_text("second person")
    assert _customer(app, customer_id)["credit_limit"] == Decimal("4500")  # not yet
    approval.get_by_label("Reason for the raise").fill("framework contract 2027")
    approval.get_by_role("button", name="Request approval").click()
    expect(page.get_by_role("status")).to_contain_text("Approval request")
    with app.engine.connect() as conn:
        request = conn.execute(select(t.approval_requests).where(
            t.approval_requests.c.object_id == customer_id)).mappings().one()
    assert request["state"] == "pending" and request["kind"] == "credit_limit"
    assert Decimal(request["payload"]["credit_limit"]) == Decimal("60000")
    assert _customer(app, customer_id)["credit_limit"] == Decimal("4500")


def _open_items(app: App) -> dict[str, Decimal]:
    oi, c = t.open_items, t.customers
    with app.engine.connect() as conn:
        return {r.code: r.total.quantize(Decimal("0.01")) for r in conn.execute(
            select(c.c.code, func.sum(oi.c.residual_company).label("total"))
            .join(c, c.c.id == oi.c.customer_id)
            .where(oi.c.kind == "invoice", oi.c.residual > 0).group_by(c.c.code))}


def test_an_ar_clerk_exports_the_aged_receivables_and_the_file_matches_the_ledger(
        app: App, page: Page, shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    sign_in(page, "ar_clerk", "/")
    page.get_by_role("link", name="Aged receivables").first.click()
    expect(page.get_by_role("heading", name=re.compile("Aged receivables"))).to_be_visible()
    expected = _open_items(app)
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["Code"]: Decimal(r["Total"]) for r in rows if r["Code"]} == expected
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="XLSX").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    assert sheet is not None
    figures = {row[0]: Decimal(str(row[-1])) for row in sheet.iter_rows(min_row=2,
                                                                          values_only=True)}
    assert {k: v for k, v in figures.items() if k} == expected


def test_the_new_order_form_shows_the_running_total_before_saving(
        page: Page, shop: Shop) -> None:  # noqa: F811
    sign_in(page, "sales", "/orders/new")
    page.get_by_label("Customer", exact=True).fill(shop.codes["dupont"])
    page.get_by_label("Product 1", exact=True).fill("DESK")
    page.get_by_label("Quantity 1", exact=True).fill("2")
    expect(page.locator("#preview-total")).not_to_have_text(re.compile(r"^\D*0[.,]00\D*$"))
    expect(page.locator("#preview-lines")).to_contain_text("Standing desk")
    expect(page.locator("#preview-credit")).to_contain_text("Exposure after this order")
