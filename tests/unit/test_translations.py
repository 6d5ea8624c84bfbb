"""Every text a page shows is in each catalogue: the msgids used by the templates and the web
code (literal texts, and the codes pages translate: states, statuses, events, roles...) are
present and translated in it, fr and es; the codes also have their English words in en (an
English sentence is its own msgid)."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import o2c.web
from o2c.domain.access import Role
from o2c.domain.analytics import AGING_BUCKETS
from o2c.domain.credit import HOLD_REASONS
from o2c.domain.invoicing import InvoiceKind
from o2c.domain.orders import InvoicingStatus, OrderState, ShippingStatus
from o2c.domain.parties import InvoicePolicy
from o2c.domain.payment_terms import TERMS_TEXTS, PaymentTerms, TermLine
from o2c.domain.payments import PaymentMethod, PaymentState
from o2c.domain.receivables import PaymentStatus
from o2c.domain.shipping import DeliveryRoute, ShipmentState
from o2c.web.i18n import Formatter

WEB = Path(o2c.web.__file__).parent
DOMAIN = WEB.parent / "domain"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
CODE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
# Texts that read the same in every language (names, formats, symbols).
SAME_EVERYWHERE = {"IBAN", "PDF", "UBL", "Factur-X", "FatturaPA", "SKU", "DSO", "OK", "o2c",
                   "CSV", "XLSX", "API", "Email", "E-mail", "%", "#", "Total", "Portal",
                   "Dashboard", "Stock", "Note", "Notes", "Code", "Status", "Date",
                   "Description", "Pack", "Standard", "Factur-X/UBL", "Login", "Document"}
# Words a language has borrowed or shares with English (Italian "file", "PEC" is Italian).
SAME_IN = {"it": {"File", "PEC"}, "fr": {"Actions", "Format", "Score", "Type"}, "es": set[str]()}


def _template_msgids() -> set[str]:
    found = set()
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        found |= {m.group(2) for m in re.finditer(r"""\b_\(\s*(["'])(.+?)\1""", text)
                  if not m.group(2).endswith("_")}  # a prefix: 'aging_' ~ code
    return found


def _code_msgids() -> set[str]:
    """Texts the web code passes to gettext, literally or from a table of messages."""
    found = set()
    for path in sorted(WEB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "gettext"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
            if isinstance(node, ast.Dict) and any(
                    isinstance(v, ast.Constant) and isinstance(v.value, str)
                    and re.search(r"\{number\}|\.$", v.value) for v in node.values):
                found |= {v.value for v in node.values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return found


def _events() -> set[str]:
    names = set()
    for path in DOMAIN.glob("*.py"):
        names |= set(re.findall(r"""\brecord\(\s*["']([a-z_]+)["']""", path.read_text()))
    return names


def _codes() -> set[str]:
    enums: list[type[StrEnum]] = [OrderState, ShippingStatus, InvoicingStatus, ShipmentState,
                                  PaymentStatus, PaymentState, PaymentMethod, InvoiceKind,
                                  InvoicePolicy, Role]
    codes = {member.value for enum in enums for member in enum}
    codes |= {f"aging_{b.code}" for b in AGING_BUCKETS}
    codes |= {f"route_{r.value}" for r in DeliveryRoute}
    codes |= {"invoice", "credit_note", "payment", "order", "shipment", "customer",
              "allocation", "applied", "partially_applied", "unapplied"}
    codes |= {f"{step}_action" for step in ("pick", "pack", "ship", "deliver")}
    codes |= {f"unit_{code}" for code in ("C62", "H87", "KGM", "GRM", "LTR", "MTR", "HUR",
                                          "DAY", "MTK", "MTQ")}
    return codes | _events()


def _catalogue(language: str) -> dict[str, str]:
    with (WEB / "translations" / f"{language}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and not m.fuzzy}


# Texts the domain writes in English from templates, shown translated (fmt.hold_reasons,
# fmt.payment_terms).
GENERATED = set(HOLD_REASONS) | set(TERMS_TEXTS.values())
USED = _template_msgids() | _code_msgids() | _codes() | GENERATED


def test_the_extraction_finds_the_texts_of_templates_code_and_codes() -> None:
    assert {"Invoices", "Order {number} created.", "credit_hold", "aging_1_30",
            "shipped"} <= USED


@pytest.mark.parametrize("language", ["it", "fr", "es"])
def test_every_text_a_page_shows_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    missing = sorted(m for m in USED if not catalogue.get(m))
    assert not missing, f"{language}.po lacks {len(missing)}: {missing}"
    untranslated = sorted(m for m in USED if catalogue[m] == m and not CODE.match(m)
                          and m not in SAME_EVERYWHERE and m not in SAME_IN[language])
    assert not untranslated, f"{language}.po leaves English: {untranslated}"


def test_every_code_a_page_shows_has_its_english_words() -> None:
    catalogue = _catalogue("en")
    missing = sorted(m for m in _codes() if not catalogue.get(m))
    assert not missing, f"en.po lacks {len(missing)}: {missing}"


@pytest.mark.parametrize("language", ["it", "fr", "es"])
def test_placeholders_survive_translation(language: str) -> None:
    catalogue = _catalogue(language)
    wrong = {m: t for m, t in catalogue.items() if m in USED
             and set(re.findall(r"\{\w+\}", m)) != set(re.findall(r"\{\w+\}", t))}
    assert not wrong, wrong


@pytest.mark.parametrize(("language", "reasons", "terms"), [
    ("it", "l'esposizione di 5,856.00 EUR supererebbe il fido di 5,000.00 EUR; 73.20 EUR "
           "scaduti da 16 giorni (oltre 10)",
     "50% a 30 giorni, 50% a 60 giorni fine mese; sconto del 2% se pagata entro 10 giorni"),
    ("fr", "client bloqué (crédit)", "Net à 30 jours"),
    ("en", "customer is on credit block", "Net 30 days"),
])
def test_hold_reasons_and_payment_terms_read_in_the_page_language(
        language: str, reasons: str, terms: str) -> None:
    fmt = Formatter(language)
    held = ("exposure 5,856.00 EUR would exceed the credit limit 5,000.00 EUR; 73.20 EUR "
            "overdue for 16 days (more than 10)") if language == "it" else HOLD_REASONS[0]
    assert fmt.hold_reasons(held) == reasons
    lines = ((TermLine(Decimal(50), 30), TermLine(Decimal(50), 60, True))
             if language == "it" else (TermLine(Decimal(100), 30),))
    described = PaymentTerms(code="T", name="t", lines=lines,
                             discount_percent=Decimal(2) if language == "it" else Decimal(0),
                             discount_days=10 if language == "it" else 0).describe()
    assert fmt.payment_terms(described) == terms
