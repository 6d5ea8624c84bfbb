"""The dashboard's trends (receivables and DSO by month, cash in by week, drawn as SVG on the
server) and its "what needs me today" list, checked against the ledger and the queues."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from o2c.adapters.db import tables as t
from o2c.adapters.db import views
from o2c.bootstrap import App, SettableClock
from o2c.domain import commands as c
from o2c.domain.access import RequestApproval
from o2c.domain.ledger import RECEIVABLE
from o2c.server import create_app
from tests.e2e.web_support import Shop, open_shop, sign_in


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _values(svg_id: str, html: str, element: str = "rect") -> list[Decimal]:
    svg = html[html.index(f'id="{svg_id}"'):]
    svg = svg[:svg.index("</svg>")]
    return [Decimal(v) for v in re.findall(rf'<{element} class="[^"]*" [^>]*data-value="([^"]+)"',
                                           svg)]


def test_the_last_months_receivables_bar_is_the_control_accounts_balance(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "admin")
    html = browser.get("/").text
    bars = _values("receivables-trend", html)
    assert len(bars) == 12
    jl = t.journal_lines
    with any_app.engine.connect() as conn:
        balance = conn.execute(select(func.sum(jl.c.debit) - func.sum(jl.c.credit))
                               .where(jl.c.account == RECEIVABLE)).scalar_one()
    assert bars[-1] == balance.quantize(Decimal("0.01")) > 0
    assert bars[:-1] == [0] * 11  # the shop's first sales are this month


def test_receivables_and_dso_follow_the_ledger_month_by_month(
        any_app: App, shop: Shop, clock: SettableClock) -> None:
    first_month = clock().date()
    clock.set(clock() + timedelta(days=40))
    as_of = clock().date()
    with any_app.engine.connect() as conn:
        company_id = conn.execute(select(func.min(t.companies.c.id))).scalar_one()
        trends = views.trends(conn, company_id, as_of)
        receivable = conn.execute(
            select(func.sum(t.open_items.c.residual_company))
            .where(t.open_items.c.kind == "invoice")).scalar_one()
    by_month = {m["month"]: m for m in trends["months"]}
    start = by_month[first_month.replace(day=1)]
    assert start["receivables"] == receivable.quantize(Decimal("0.01"))
    # DSO = receivables / sales of the three months to month end x their days
    window_days = (start["end"] - views.add_months(start["month"], -2)).days + 1
    assert window_days == 90  # January to March 2026
    assert start["dso_days"] == (start["receivables"] / start["sales"] * window_days).quantize(
        Decimal("0.1"))
    assert trends["months"][-1]["receivables"] == start["receivables"]  # nothing paid since


def test_cash_in_by_week_shows_a_payment_in_its_week(browser: TestClient, any_app: App,
                                                     shop: Shop) -> None:
    customer_id = shop.world.customers["rossi"]
    any_app.bus.handle(c.RecordPayment(customer_id, Decimal("123.45"), "EUR",
                                       reference="week test"))
    sign_in(browser, "admin")
    bars = _values("cash-trend", browser.get("/").text)
    assert len(bars) == 12 and bars[-1] == Decimal("123.45") and sum(bars[:-1]) == 0


def test_what_needs_me_today_counts_holds_overdue_and_approvals(
        browser: TestClient, any_app: App, shop: Shop, clock: SettableClock) -> None:
    customer_id = shop.world.customers["rossi"]
    any_app.bus.handle(RequestApproval("credit_limit", customer_id, "bigger orders",
                                       {"credit_limit": "90000"}))
    clock.set(clock() + timedelta(days=120))
    sign_in(browser, "admin")
    html = browser.get("/").text
    with any_app.engine.connect() as conn:
        holds = conn.execute(select(func.count()).where(
            t.sales_orders.c.state == "credit_hold")).scalar_one()
    assert f"Orders on credit hold: {holds}" in html
    assert re.search(r'id="todo-overdue"><a href="/invoices\?payment_status=overdue">Overdue '
                     r'invoices: 2 \(', html)
    assert '<a href="/approvals">Approval requests pending: 1</a>' in html
    assert 'href="/bank?status=proposed"' in html


def test_the_dashboard_trends_are_translated(browser: TestClient) -> None:
    sign_in(browser, "admin")
    html = browser.get("/?lang=it").text
    assert "Crediti e DSO per mese" in html and "Incassi per settimana" in html
