"""The ledger views of the back-office (journal, trial balance, aged receivables, customer
ledger) and their CSV/XLSX downloads, checked against the database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App, SettableClock
from o2c.domain.ledger import CUSTOMER_CREDIT, RECEIVABLE
from o2c.server import create_app
from tests.e2e.web_support import Shop, open_shop, sign_in


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _csv(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _open_residuals(app: App) -> dict[str, Decimal]:
    oi, c = t.open_items, t.customers
    with app.engine.connect() as conn:
        return {r.code: r.total for r in conn.execute(
            select(c.c.code, func.sum(oi.c.residual_company).label("total"))
            .join(c, c.c.id == oi.c.customer_id)
            .where(oi.c.kind == "invoice", oi.c.residual > 0).group_by(c.c.code))}


@pytest.mark.parametrize("path", ["/ledger/trial-balance", "/ledger/journal",
                                  "/ledger/journal?account=1200", "/reports/aging"])
def test_ledger_pages_render_for_a_controller_and_an_administrator(
        browser: TestClient, path: str) -> None:
    sign_in(browser, "admin")
    response = browser.get(path)
    assert response.status_code == 200, response.text


def test_the_trial_balance_page_shows_the_ledger_totals_and_balances(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "ar_clerk")
    page = browser.get("/ledger/trial-balance")
    with any_app.engine.connect() as conn:
        debit = conn.execute(select(func.sum(t.journal_lines.c.debit))).scalar_one()
    assert debit > 0
    assert f"{debit:,.2f}"[:-3] in page.text.replace("\u202f", ",")  # the integer part
    rows = _csv(browser.get("/ledger/trial-balance?format=csv").content)
    assert rows[-1]["Name"] == "Totals"
    assert Decimal(rows[-1]["Debit"]) == Decimal(rows[-1]["Credit"]) == debit.quantize(
        Decimal("0.01"))


def test_the_aged_receivables_download_has_each_customers_open_amount(
        browser: TestClient, any_app: App, clock: SettableClock) -> None:
    clock.set(clock() + timedelta(days=120))  # every invoice has fallen due
    sign_in(browser, "ar_clerk")
    expected = _open_residuals(any_app)
    assert expected
    rows = _csv(browser.get("/reports/aging?format=csv").content)
    by_code = {r["Code"]: r for r in rows if r["Code"]}
    assert {code: Decimal(r["Total"]) for code, r in by_code.items()} == {
        code: value.quantize(Decimal("0.01")) for code, value in expected.items()}
    total = rows[-1]
    assert total["Name"] == "Totals"
    assert Decimal(total["Total"]) == sum(expected.values()).quantize(Decimal("0.01"))
    assert Decimal(total["Not yet due"]) == 0  # all overdue 120 days after issue


def test_the_aged_receivables_workbook_reads_back_with_the_same_figures(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "admin")
    response = browser.get("/reports/aging?format=xlsx&lang=fr")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Code" and header[-1] == "Total TTC"  # French headers
    figures = {row[0]: Decimal(str(row[-1])) for row in sheet.iter_rows(min_row=2,
                                                                          values_only=True)}
    expected = _open_residuals(any_app)
    for code, value in expected.items():
        assert figures[code] == value.quantize(Decimal("0.01"))


def test_the_journal_filtered_by_account_shows_only_entries_touching_it(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "admin")
    rows = _csv(browser.get(f"/ledger/journal?account={RECEIVABLE}&format=csv").content)
    entries = {r["Entry"] for r in rows}
    with any_app.engine.connect() as conn:
        expected = {str(i) for i in conn.execute(
            select(t.journal_lines.c.entry_id).where(t.journal_lines.c.account == RECEIVABLE)
        ).scalars()}
    assert entries == expected and entries
    per_entry: dict[str, Decimal] = {}
    for r in rows:  # every entry exported whole, and balanced
        per_entry[r["Entry"]] = per_entry.get(r["Entry"], Decimal(0)) + Decimal(
            r["Debit"] or 0) - Decimal(r["Credit"] or 0)
    assert set(per_entry.values()) == {Decimal(0)}


def test_the_customer_ledger_closes_on_the_customers_receivable_balance(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    customer_id = shop.world.customers["rossi"]
    jl = t.journal_lines
    with any_app.engine.connect() as conn:
        balance = conn.execute(select(func.sum(jl.c.debit) - func.sum(jl.c.credit)).where(
            jl.c.customer_id == customer_id,
            jl.c.account.in_((RECEIVABLE, CUSTOMER_CREDIT)))).scalar_one()
    rows = _csv(browser.get(f"/customers/{customer_id}/ledger?format=csv").content)
    assert Decimal(rows[-1]["Balance"]) == balance.quantize(Decimal("0.01")) > 0
    page = browser.get(f"/customers/{customer_id}/ledger")
    assert page.status_code == 200 and 'id="ledger-closing"' in page.text


def test_a_warehouse_clerk_may_not_read_the_ledger(browser: TestClient) -> None:
    sign_in(browser, "warehouse")
    assert browser.get("/ledger/journal").status_code == 403
    assert browser.get("/reports/aging?format=csv").status_code == 403
    assert "/ledger/trial-balance" not in browser.get("/warehouse").text


def test_an_unknown_download_format_is_not_found(browser: TestClient) -> None:
    sign_in(browser, "admin")
    assert browser.get("/reports/aging?format=pdf").status_code == 404
