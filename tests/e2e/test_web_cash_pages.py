"""The cash pages of the back-office over HTTP (FastAPI's TestClient): bank statements uploaded,
matched and reviewed (accept, reject, split, un-match), the review list paged by key, a
payment's page (allocate, auto-allocate, un-allocate, reverse), customer credit applied, and
the approvals inbox (dual control). Each checks the outcome in the database; the browser tests
(test_web_cash_browser.py) do the same jobs by clicking."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import ApprovalKind, CreateUser, RequestApproval
from o2c.domain.reconciliation import ProposalKind
from o2c.server import create_app
from o2c.web.i18n import LANGUAGES, _catalogue
from o2c.web.routes import bank as bank_routes
from o2c.web.routes import cash as cash_routes
from tests.e2e.conftest import row_counts
from tests.e2e.web_support import PASSWORD, Shop, csrf_of, open_shop, sign_in
from tests.services.bank_support import entry, statement_file

D = Decimal
TODAY = date(2026, 3, 2)  # the test clock's day
WEB = Path(__file__).parents[2] / "src" / "o2c" / "web"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"


@pytest.fixture
def shop(any_app: App) -> Shop:
    shop = open_shop(any_app)
    any_app.bus.handle(CreateUser("controller", PASSWORD, "controller"))
    return shop


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def post(browser: TestClient, page: str, action: str, **data: str) -> object:
    """Submit a form of `page` (its CSRF token read off the page) to `action`."""
    token = csrf_of(browser.get(page).text)
    return browser.post(action, data={"csrf_token": token, **data})


def remittance_of(app: App, invoice_id: int) -> str:
    with app.engine.connect() as conn:
        return str(conn.execute(select(t.invoices.c.remittance_reference).where(
            t.invoices.c.id == invoice_id)).scalar_one())


def residual(app: App, invoice_id: int) -> Decimal:
    with app.engine.connect() as conn:
        return D(conn.execute(select(t.open_items.c.residual).where(
            t.open_items.c.invoice_id == invoice_id)).scalar_one())


def lines_by_status(app: App) -> dict[int, str]:
    with app.engine.connect() as conn:
        return dict(conn.execute(select(t.bank_lines.c.id, t.bank_lines.c.status)).all())


def upload(browser: TestClient, content: bytes, name: str = "march.xml") -> object:
    token = csrf_of(browser.get("/bank").text)
    return browser.post("/bank/upload", data={"csrf_token": token, "format": ""},
                        files={"file": (name, content)})


def rossi_statement(app: App, shop: Shop, amount: str = "292.80") -> bytes:
    ref = remittance_of(app, shop.invoices["rossi"])
    return statement_file([entry(amount, ref=ref, name="Rossi Arredamenti", on=TODAY)])


def test_a_statement_is_uploaded_matched_and_a_line_accepted_from_the_review_list(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    uploaded = upload(browser, rossi_statement(any_app, shop))
    assert uploaded.status_code == 200 and "lines imported: 1;" in uploaded.text  # type: ignore[attr-defined]
    matched = post(browser, "/bank", "/bank/match")
    assert "waiting for review: 1" in matched.text  # type: ignore[attr-defined]
    [line_id] = lines_by_status(any_app)
    review = browser.get("/bank/lines?status=proposed")
    row = review.text[review.text.index(f'id="line-{line_id}"'):]
    assert "Rossi Arredamenti" in row and "€292.80" in row and "INV-2026-00001" in row
    assert re.search(r'class="num">\d+%</td>', row)  # the score
    assert '<ul class="reasons"><li>' in row  # and the reasons the matcher gives
    accepted = post(browser, "/bank/lines?status=proposed", f"/bank/lines/{line_id}/accept",
                    back="/bank/lines?status=proposed")
    assert f"Line {line_id} applied." in accepted.text  # type: ignore[attr-defined]
    assert lines_by_status(any_app) == {line_id: "applied"}
    assert residual(any_app, shop.invoices["rossi"]) == 0
    detail = browser.get(f"/bank/lines/{line_id}")
    assert 'id="line-payment"' in detail.text and "Un-match" in detail.text


def test_a_line_is_rejected_then_split_by_hand_then_un_matched_with_a_reason(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    upload(browser, statement_file([entry("100.00", text="acconto", name="Rossi Arredamenti",
                                          on=TODAY)]))
    post(browser, "/bank", "/bank/match")
    [line_id] = lines_by_status(any_app)
    post(browser, f"/bank/lines/{line_id}", f"/bank/lines/{line_id}/reject",
         reason="not an advance")
    assert lines_by_status(any_app) == {line_id: "rejected"}
    invoice_id = shop.invoices["rossi"]
    split_form = browser.get(f"/bank/lines/{line_id}?customer={shop.codes['rossi']}")
    assert f"allocate_{invoice_id}" in split_form.text
    too_much = post(browser, f"/bank/lines/{line_id}", f"/bank/lines/{line_id}/split",
                    customer=shop.codes["rossi"], **{f"allocate_{invoice_id}": "150"})
    assert too_much.status_code == 422  # type: ignore[attr-defined]
    assert lines_by_status(any_app) == {line_id: "rejected"}
    post(browser, f"/bank/lines/{line_id}", f"/bank/lines/{line_id}/split",
         customer=shop.codes["rossi"], **{f"allocate_{invoice_id}": "100.00"})
    assert lines_by_status(any_app) == {line_id: "applied"}
    assert residual(any_app, invoice_id) == D("192.80")
    refused = post(browser, f"/bank/lines/{line_id}", f"/bank/lines/{line_id}/unmatch",
                   reason="")
    assert "Give a reason." in refused.text  # type: ignore[attr-defined]
    post(browser, f"/bank/lines/{line_id}", f"/bank/lines/{line_id}/unmatch",
         reason="paid another invoice")
    assert lines_by_status(any_app) == {line_id: "rejected"}
    assert residual(any_app, invoice_id) == D("292.80")


@pytest.mark.parametrize(("name", "profile", "lines"), [
    ("camt053_v08.xml", "", 3), ("camt054_v02.xml", "", None), ("statement.sta", "", 3),
    ("statement.ofx", "", None), ("statement_eu.csv", "eu-semicolon", None),
    ("statement_debit_credit.csv", "debit-credit", None)])
def test_every_statement_format_the_api_takes_uploads_from_the_page(
        any_app: App, browser: TestClient, shop: Shop, name: str, profile: str,
        lines: int | None) -> None:
    sign_in(browser, "ar_clerk")
    token = csrf_of(browser.get("/bank").text)
    uploaded = browser.post("/bank/upload", data={
        "csrf_token": token, "format": "", "profile": profile,
        "account": "IT60X0542811101000000123456"},
        files={"file": (name, (FIXTURES / name).read_bytes())})
    assert "flash success" in uploaded.text, uploaded.text[-1500:]
    with any_app.engine.connect() as conn:
        imported = conn.execute(select(func.count()).select_from(t.bank_lines)).scalar_one()
    assert imported == lines if lines is not None else imported > 0
    assert f"{name}</a>" in browser.get("/bank").text


def test_a_broken_statement_is_refused_naming_where_and_writes_nothing(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "ar_clerk")
    before = row_counts(any_app.engine)
    refused = upload(browser, (FIXTURES / "broken_truncated.sta").read_bytes(),
                     "broken_truncated.sta")
    assert "flash error" in refused.text  # type: ignore[attr-defined]
    assert "broken_truncated.sta, line 9" in refused.text  # type: ignore[attr-defined]
    assert row_counts(any_app.engine) == before


def test_the_review_list_pages_by_key_in_booking_order(any_app: App, browser: TestClient,
                                                      shop: Shop) -> None:
    entries = [entry(f"{10 + i}.00", text=f"payment {i}", name="Rossi Arredamenti", on=TODAY)
               for i in range(120)]
    any_app.bus.handle(c.ImportBankFile(statement_file(entries), "many.xml"))
    sign_in(browser, "admin")
    seen: list[str] = []
    url: str | None = "/bank/lines?status=unmatched"
    pages = 0
    while url:
        html = browser.get(url).text
        seen += re.findall(r'<tr id="line-(\d+)"', html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    assert pages == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert [int(x) for x in seen] == sorted(int(x) for x in seen)


def test_roles_without_cash_duties_see_no_bank_and_may_not_act(browser: TestClient,
                                                               any_app: App, shop: Shop
                                                               ) -> None:
    sign_in(browser, "warehouse")
    assert browser.get("/bank").status_code == 403
    assert 'href="/bank"' not in browser.get("/warehouse").text
    browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/warehouse").text)})
    sign_in(browser, "auditor")
    page = browser.get("/bank")
    assert page.status_code == 200 and "Upload a statement" not in page.text
    refused = browser.post("/bank/match", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403


def test_a_payment_page_allocates_by_hand_and_automatically_un_allocates_and_reverses(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    rossi = shop.world.customers["rossi"]
    payment_id = any_app.bus.handle(c.RecordPayment(rossi, D("300.00"), "EUR"))
    invoice_id = shop.invoices["rossi"]
    sign_in(browser, "ar_clerk")
    page = f"/payments/{payment_id}"
    shown = browser.get(page)
    assert 'id="payment-unapplied">€300.00' in shown.text and "Journal entries" in shown.text
    assert f'href="/payments/{payment_id}"' in browser.get("/payments").text
    post(browser, page, f"{page}/allocate", **{f"allocate_{invoice_id}": "100.00"})
    assert residual(any_app, invoice_id) == D("192.80")
    post(browser, page, f"{page}/allocate", auto="1")
    assert residual(any_app, invoice_id) == 0
    after = browser.get(page).text
    assert 'id="payment-unapplied">€7.20' in after
    assert after.count("allocation of") >= 2 or after.count("<tr id=\"allocation-") == 2
    with any_app.engine.connect() as conn:
        allocation_ids = list(conn.execute(select(t.allocations.c.id).where(
            t.allocations.c.payment_id == payment_id)).scalars())
    refused = post(browser, page, f"{page}/reverse", reason="returned by the bank")
    assert refused.status_code == 200 and "flash error" in refused.text  # type: ignore[attr-defined]
    for allocation_id in allocation_ids:
        post(browser, page, f"/allocations/{allocation_id}/reverse", reason="wrong customer",
             back=page)
    assert residual(any_app, invoice_id) == D("292.80")
    post(browser, page, f"{page}/reverse", reason="returned by the bank")
    with any_app.engine.connect() as conn:
        state = conn.execute(select(t.payments.c.state).where(
            t.payments.c.id == payment_id)).scalar_one()
    assert state == "reversed"
    assert "reversal" in browser.get(page).text  # the reversing journal entries are listed


def test_customer_credit_applies_a_credit_note_and_unapplied_money_to_an_open_invoice(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    rossi = shop.world.customers["rossi"]
    first = shop.invoices["rossi"]
    order_id = any_app.bus.handle(c.CreateOrder(rossi, (c.OrderLineInput(
        shop.world.products["CHAIR"], D(1)),)))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    for step in (c.PickShipment(shipment_id), c.PackShipment(shipment_id),
                 c.ShipShipment(shipment_id, carrier="BRT", tracking_number="T2")):
        any_app.bus.handle(step)
    with any_app.engine.connect() as conn:
        second = conn.execute(select(t.invoices.c.id).where(
            t.invoices.c.shipment_id == shipment_id)).scalar_one()
    # the second invoice is paid, then credited: the credit note is credit to apply elsewhere
    any_app.bus.handle(c.RecordPayment(rossi, D("146.40"), "EUR", allocations=(
        c.AllocationInput(second, D("146.40")),)))
    note_id = any_app.bus.handle(c.CreateCreditNote(second, "damaged"))
    payment_id = any_app.bus.handle(c.RecordPayment(rossi, D("50.00"), "EUR"))
    sign_in(browser, "ar_clerk")
    page = f"/customers/{rossi}/credit"
    shown = browser.get(page).text
    assert f'id="source-credit_note-{note_id}"' in shown
    assert f'id="source-payment-{payment_id}"' in shown
    post(browser, page, page, source=f"credit_note:{note_id}", invoice=str(first), amount="")
    assert residual(any_app, first) == D("292.80") - D("146.40")
    asked = post(browser, page, page, source=f"payment:{payment_id}", invoice=str(first),
                 amount="")
    assert asked.status_code == 422  # type: ignore[attr-defined]
    post(browser, page, page, source=f"payment:{payment_id}", invoice=str(first),
         amount="50.00")
    assert residual(any_app, first) == D("96.40")
    invoice_page = browser.get(f"/invoices/{first}").text
    assert 'id="register-payment"' in invoice_page and 'id="apply-credit"' in invoice_page


def test_register_payment_on_an_open_invoice_fills_its_open_amount_and_shows_the_payment(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    invoice_id = shop.invoices["rossi"]
    sign_in(browser, "ar_clerk")
    assert f'href="/payments/new?invoice={invoice_id}"' in browser.get(
        f"/invoices/{invoice_id}").text
    form = browser.get(f"/payments/new?invoice={invoice_id}").text
    assert 'name="amount" type="text" value="292.80"' in form
    assert f'name="allocate_{invoice_id}"' in form and 'value="292.80"' in form
    recorded = post(browser, f"/payments/new?invoice={invoice_id}", "/payments/new",
                    customer=shop.codes["rossi"], amount="292.80", received_on="2026-03-02",
                    method="bank_transfer", **{f"allocate_{invoice_id}": "292.80"})
    assert re.search(r"/payments/\d+$", str(recorded.url))  # type: ignore[attr-defined]
    assert "recorded" in recorded.text  # type: ignore[attr-defined]
    assert residual(any_app, invoice_id) == 0


def test_a_write_off_requested_on_the_invoice_page_is_approved_by_another_person(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    invoice_id = shop.invoices["dupont"]
    sign_in(browser, "ar_clerk")
    post(browser, f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/write-off",
         reason="customer insolvent")
    inbox = browser.get("/approvals").text
    assert "You asked for this; another person decides." in inbox
    assert "/approve" not in inbox
    with any_app.engine.connect() as conn:
        request_id = conn.execute(select(t.approval_requests.c.id)).scalar_one()
    browser.post("/logout", data={"csrf_token": csrf_of(inbox)})
    sign_in(browser, "credit_manager")  # limits only: a write-off is the controller's
    inbox = browser.get("/approvals").text
    assert "Decided by: controller" in inbox and f"/approvals/{request_id}/approve" not in inbox
    refused = browser.post(f"/approvals/{request_id}/approve",
                           data={"csrf_token": csrf_of(inbox)})
    assert "flash error" in refused.text
    browser.post("/logout", data={"csrf_token": csrf_of(inbox)})
    sign_in(browser, "controller")
    inbox = browser.get("/approvals").text
    card = inbox[inbox.index(f'id="approval-{request_id}"'):]
    assert "€240.00" in card and "bad debt" in card and "customer insolvent" in card
    done = post(browser, "/approvals", f"/approvals/{request_id}/approve", reason="ok")
    assert f"Request {request_id} approved" in done.text  # type: ignore[attr-defined]
    assert residual(any_app, invoice_id) == 0
    with any_app.engine.connect() as conn:
        decided = conn.execute(select(t.approval_requests.c.state,
                                      t.approval_requests.c.decided_by)).one()
    assert tuple(decided) == ("approved", "controller")


def test_a_credit_limit_raise_is_rejected_from_the_inbox_with_a_reason(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    rossi = shop.world.customers["rossi"]
    request_id = any_app.bus.handle(RequestApproval("credit_limit", rossi, "big season",
                                                    {"credit_limit": "90000"}))
    sign_in(browser, "credit_manager")
    inbox = browser.get("/approvals").text
    assert "Sets the credit limit of Rossi Arredamenti S.p.A. to €90,000.00" in inbox
    post(browser, "/approvals", f"/approvals/{request_id}/reject", reason="too risky")
    assert "too risky" in browser.get("/approvals?state=rejected").text
    with any_app.engine.connect() as conn:
        limit = conn.execute(select(t.customers.c.credit_limit).where(
            t.customers.c.id == rossi)).scalar_one()
    assert D(limit) == D("5000")  # as it was


def test_a_credit_note_asked_for_on_the_invoice_page_is_approved_by_a_controller(
        any_app: App, browser: TestClient, shop: Shop) -> None:
    invoice_id = shop.invoices["rossi"]
    sign_in(browser, "ar_clerk")
    asked = post(browser, f"/invoices/{invoice_id}",
                 f"/invoices/{invoice_id}/credit-note-approval", reason="damaged")
    assert "Credit note requested" in asked.text  # type: ignore[attr-defined]
    with any_app.engine.connect() as conn:
        request_id = conn.execute(select(t.approval_requests.c.id)).scalar_one()
    browser.post("/logout", data={"csrf_token": csrf_of(asked.text)})  # type: ignore[attr-defined]
    sign_in(browser, "controller")
    inbox = browser.get("/approvals").text
    assert "Posts a credit note of €292.80 on INV-2026-00001." in inbox
    post(browser, "/approvals", f"/approvals/{request_id}/approve")
    with any_app.engine.connect() as conn:
        result_id = conn.execute(select(t.approval_requests.c.result_id)).scalar_one()
        kind = conn.execute(select(t.invoices.c.kind).where(
            t.invoices.c.id == result_id)).scalar_one()
    assert kind == "credit_note" and residual(any_app, invoice_id) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cash_pages_render_in_every_language(any_app: App, browser: TestClient,
                                                 shop: Shop, language: str) -> None:
    payment_id = any_app.bus.handle(c.RecordPayment(shop.world.customers["rossi"],
                                                    D("10.00"), "EUR"))
    sign_in(browser, "admin")
    for path in ("/bank", "/bank/lines", "/approvals", f"/payments/{payment_id}",
                 f"/customers/{shop.world.customers['rossi']}/credit"):
        response = browser.get(f"{path}{'&' if '?' in path else '?'}lang={language}")
        assert response.status_code == 200, (path, response.text[:500])
        assert "bank_status_" not in response.text and "approval_" not in response.text


def test_every_text_of_the_cash_pages_is_translated_in_every_catalogue() -> None:
    """Italian, French and Spanish translate every text; English names the codes."""
    texts: set[str] = set()
    for name in ("bank.html", "bank_lines.html", "bank_line.html", "payment.html",
                 "customer_credit.html", "approvals.html"):
        source = (WEB / "templates" / name).read_text()
        texts |= set(re.findall(r'_\("((?:[^"\\]|\\.)+)"', source))
        texts |= set(re.findall(r"_\('((?:[^'\\]|\\.)+)'", source))
    for name in ("bank.py", "cash.py"):
        source = (WEB / "routes" / name).read_text()
        for pieces in re.findall(r'gettext\(\s*((?:"[^"]*"\s*)+)', source):
            texts.add("".join(re.findall(r'"([^"]*)"', pieces)))
    texts |= set(bank_routes.LINE_DONE.values()) | set(cash_routes.DECISION_DONE.values())
    texts = {x for x in texts if not x.endswith("_")}  # a prefix: its codes follow
    texts |= {"Bank", "Approvals", "Register payment", "Apply customer credit", "Write off",
              "Reason for the write-off", "Request write-off", "Ask a controller to approve it",
              "Asks for the open amount to be written off as a bad debt; a controller "
              "approves it in Approvals."}  # the navigation and the invoice page
    codes = {f"bank_status_{s}" for s in bank_routes.STATUSES}
    codes |= {f"approval_{s}" for s in cash_routes.APPROVAL_STATES}
    codes |= {f"approval_kind_{k.value}" for k in ApprovalKind}
    codes |= {f"bank_kind_{k.value}" for k in ProposalKind}
    codes |= set(bank_routes.STATUSES) | {"pending", "approved", "reversed"}
    assert len(texts) > 100
    for language in LANGUAGES:
        catalogue = _catalogue(language)
        wanted = codes if language == "en" else texts | codes
        missing = sorted(x for x in wanted if x not in catalogue)
        assert not missing, (language, missing)
