"""Every back-office and portal page in Chromium, in en, it, fr and es: no text of the page is
an English msgid its catalogue translates (or a raw code), and the browser logs no console
error (a CSP violation is one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, ConsoleMessage, Page
from sqlalchemy import select

import o2c.web
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.server import create_app
from tests.e2e.test_web_browser import chromium, chromium_path, sign_in  # noqa: F401
from tests.e2e.web_support import open_shop, served
from tests.fixtures.world import line

LANGUAGES = ("en", "it", "fr", "es")
CATALOGUES = (next(iter(o2c.web.__path__)) + "/translations")
# What every page may contain that equals a msgid: names and symbols.
NEUTRAL = re.compile(r"^[\W\d]*$")

TEXTS_JS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const text = walk.currentNode.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
    for (const name of ['placeholder', 'title', 'aria-label']) {
      const v = el.getAttribute(name); if (v) out.push(v.trim());
    }
  }
  return out;
}"""


def _catalogue(language: str) -> dict[str, str]:
    with open(f"{CATALOGUES}/{language}.po", "rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle, locale=language)
                if m.id and m.string}


def _read_page(page: Page, where: str, bad: set[str], errors: list[str],
               problems: list[str]) -> list[str]:
    """The texts the page shows; an untranslated msgid among them or a console error so far
    is written down as a problem of `where` (the console errors are then forgotten)."""
    texts: list[str] = page.evaluate(TEXTS_JS)
    found = sorted({text for text in texts if text in bad})
    if found:
        problems.append(f"{where}: untranslated {found}")
    if errors:
        problems.append(f"{where}: console {errors}")
        errors.clear()
    return texts


def _untranslated(language: str) -> set[str]:
    """Texts that would show a msgid as it is: an English text its catalogue translates, or
    a code (credit_hold) in any language."""
    catalogue = _catalogue(language)
    codes = {m for m in _catalogue("en") if re.fullmatch(r"[a-z]+_[a-z0-9_]+", m)}
    if language == "en":
        return codes
    english = {m for m, s in catalogue.items() if s != m and "{" not in m
               and not NEUTRAL.match(m)}
    return english | codes


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A shop with every kind of document (held order, instalments, credit note, payment),
    served once for the module."""
    from o2c.adapters.db.engine import make_engine
    from o2c.adapters.db.migrate import upgrade
    from o2c.bootstrap import SettableClock, bootstrap
    from o2c.config import Settings
    from tests.conftest import START

    url = f"sqlite:///{tmp_path_factory.mktemp('languages')}/o2c.db"
    engine = make_engine(url)
    upgrade(engine)
    app: App = bootstrap(Settings(database_url=url), engine=engine, clock=SettableClock(START))
    shop = open_shop(app)
    world = shop.world
    held = app.bus.handle(c.CreateOrder(world.customers["rossi"],
                                        (line(world.products["DESK"], 20),)))
    app.bus.handle(c.ConfirmOrder(held))
    note = app.bus.handle(c.CreateCreditNote(shop.invoices["dupont"], "damaged"))
    app.bus.handle(c.RecordPayment(world.customers["rossi"], Decimal("100.00"), "EUR",
                                   received_on=date(2026, 3, 2), auto_allocate=True))
    with engine.connect() as conn:
        shipment = conn.execute(select(t.shipments.c.id).order_by(t.shipments.c.id)
                                ).scalars().first()
        payment = conn.execute(select(t.payments.c.id)).scalars().first()
    ids = {"order": str(held), "invoice": str(shop.invoices["rossi"]), "note": str(note),
           "customer": str(world.customers["rossi"]), "shipment": str(shipment),
           "payment": str(payment), "portal_invoice": str(shop.invoices["dupont"]),
           "portal_order": str(shop.orders["dupont"])}
    with served(create_app(app)) as base:
        yield base, ids
    engine.dispose()


BACK_OFFICE = ["/", "/orders", "/orders/new", "/orders/{order}", "/credit-holds", "/warehouse",
               "/warehouse?view=stock", "/warehouse/shipments/{shipment}", "/invoices",
               "/invoices/{invoice}", "/invoices/{note}", "/payments", "/payments/new",
               "/customers", "/customers/{customer}", "/customers/{customer}?view=statement",
               # cash, approvals, master data, ledger and jobs pages
               "/bank", "/bank/lines", "/approvals", "/payments/{payment}",
               "/customers/{customer}/credit", "/customers/new", "/customers/{customer}/edit",
               "/customers/{customer}/ledger", "/products", "/products/new", "/warehouses",
               "/warehouses/new", "/ledger/trial-balance", "/ledger/journal",
               "/reports/aging", "/jobs"]
PORTAL = ["/portal", "/portal/orders", "/portal/orders/new", "/portal/orders/{portal_order}",
          "/portal/invoices", "/portal/invoices/{portal_invoice}", "/portal/payments",
          "/portal/statement"]


def _visit_all(chromium: Browser, base: str, user: str, paths: list[str],  # noqa: F811
               ids: dict[str, str]) -> list[str]:
    problems: list[str] = []
    context = chromium.new_context(base_url=base, viewport={"width": 1366, "height": 900})
    page: Page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, user, paths[0])
    for language in LANGUAGES:
        bad = _untranslated(language)
        for template in paths:
            path = template.format(**ids)
            response = page.goto(path + ("&" if "?" in path else "?") + f"lang={language}")
            assert response is not None
            if response.status != 200:
                problems.append(f"{language} {path}: HTTP {response.status}")
            texts = _read_page(page, f"{language} {path}", bad, errors, problems)
            assert len(texts) > 10, (language, path, texts)
    context.close()
    return problems


def test_every_back_office_page_speaks_each_language_without_console_errors(
        chromium: Browser, shop_server: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    base, ids = shop_server
    problems = _visit_all(chromium, base, "admin", BACK_OFFICE, ids)
    assert problems == [], "\n".join(problems)


def test_every_portal_page_speaks_each_language_without_console_errors(
        chromium: Browser, shop_server: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    base, ids = shop_server
    problems = _visit_all(chromium, base, "portal-dupont", PORTAL, ids)
    assert problems == [], "\n".join(problems)


def test_the_api_documentation_renders_offline_without_console_errors(
        chromium: Browser, shop_server: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    base, _ = shop_server
    context = chromium.new_context(base_url=base, offline=False)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Anything not served by the app (a CDN) is refused, as on a machine without internet.
    page.route(re.compile(r"^(?!" + re.escape(base) + ").*"), lambda route: route.abort())
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60000)  # a 1.7 MB bundle
    assert "o2c" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20
    context.close()
    assert errors == []


def test_the_sign_in_page_and_its_errors_speak_each_language_without_console_errors(
        chromium: Browser, shop_server: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    base, _ = shop_server
    problems: list[str] = []
    errors: list[str] = []
    for language in LANGUAGES:
        errors.clear()
        context = chromium.new_context(base_url=base, viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        bad = _untranslated(language)
        page.goto(f"/login?lang={language}")
        assert page.get_attribute("html", "lang") == language
        _read_page(page, f"{language} /login", bad, errors, problems)
        page.fill("#username", "admin")
        page.fill("#password", "not the password")
        errors.clear()
        page.click("#sign-in")  # the error page: the form kept the language
        # Chromium logs the page's own 401 status as a console error: that one is expected.
        page.wait_for_load_state("load")
        errors[:] = [e for e in errors if "status of 401" not in e]
        _read_page(page, f"{language} /login (error)", bad, errors, problems)
        assert page.get_attribute("html", "lang") == language
        assert page.locator(".flash.error").count() == 1
        context.close()
    assert problems == [], "\n".join(problems)
