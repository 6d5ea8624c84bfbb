"""The e-invoice corpus of the demo business: every posted invoice and credit note of a seeded
demo (every VAT treatment, credit notes, instalments, early-payment discounts, USD and MXN
buyers, consumers, public administration and Peppol buyers) renders in every format it can
have, and every XML passes its XSD, the EN 16931 schematron, the Peppol BIS rules (Peppol UBL)
and SdI's rules (FatturaPA), with no failure.

The default run checks a covering sample (the first documents of each case); with
O2C_EINVOICE_CORPUS=all it checks every document (a few minutes)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from o2c.adapters.db import documents as store
from o2c.adapters.db.engine import make_engine
from o2c.adapters.einvoice import fatturapa
from o2c.demo import SeedOptions, seed
from o2c.domain.einvoice import Document, DocumentPreferences
from o2c.services import documents as service

CORPUS = SeedOptions(customers=90, orders=250, seed=42)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
PER_CASE = 2
TREATMENTS = {"S/IVA", "S/N7", "K/N3.2", "G/N3.1", "AE/N2.1", "AE/N6.9", "E/N4", "Z/N1"}


@pytest.fixture(scope="module")
def corpus(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Engine]:
    target = tmp_path_factory.mktemp("corpus") / "o2c.db"
    shutil.copyfile(sqlite_template, target)
    engine = make_engine(f"sqlite:///{target}")
    seed(engine, CORPUS)
    yield engine
    engine.dispose()


def cases(doc: Document, prefs: DocumentPreferences | None) -> set[str]:
    """What makes a document a case of its own for the checks."""
    found = set()
    for b in doc.breakdown:
        nature = fatturapa.natura(doc, b.code, b.rate)
        found.add(f"{b.code}/{nature[0] if nature else 'IVA'}")
    found.add("credit note" if doc.is_credit_note else "invoice")
    found.add(f"currency {doc.currency}")
    if len(doc.installments) > 1:
        found.add("instalments")
    if doc.early_discount:
        found.add("early-payment discount")
    if prefs and prefs.public_administration:
        found.add("public administration")
    if doc.peppol:
        found.add("peppol")
    if not doc.buyer.vat_id and doc.buyer.country in ("IT", "FR", "ES", "DE"):
        found.add("consumer")
    if doc.buyer.tax_scheme:
        found.add(f"buyer tax number {doc.buyer.tax_scheme}")
    return found


def test_every_demo_document_renders_in_every_format_and_passes_every_rule_set(
        corpus: Engine) -> None:
    everything = os.environ.get("O2C_EINVOICE_CORPUS") == "all"
    seen: dict[str, int] = {}
    chosen = []
    with corpus.connect() as conn:
        for invoice_id in store.posted_document_ids(conn):
            doc, prefs = service.document_of(conn, invoice_id, NOW)
            found = cases(doc, prefs)
            if everything or any(seen.get(case, 0) < PER_CASE for case in found):
                chosen.append(invoice_id)
                for case in found:
                    seen[case] = seen.get(case, 0) + 1
        run = service.check_all(conn, NOW, ids=chosen)
    # The demo covers every case the e-invoices have to get right.
    assert set(seen) >= TREATMENTS, sorted(TREATMENTS - set(seen))
    assert {"credit note", "instalments", "early-payment discount", "currency USD",
            "currency MXN", "consumer", "public administration", "peppol",
            "buyer tax number EIN", "buyer tax number RFC", "buyer tax number CF"} <= set(seen)
    assert run.failures == []
    # The only warning allowed is the one the README justifies: CII's XSD requires
    # ApplicableHeaderTradeDelivery, which is empty when an invoice has no delivery data.
    unjustified = [w for w in run.warnings if not (
        w["rule"] == "PEPPOL-EN16931-R008" and w["warning"].endswith(
            "/SupplyChainTradeTransaction[1]/ApplicableHeaderTradeDelivery[1]"))]
    assert unjustified == []
    assert run.documents == len(chosen)
    # Every document in all four formats (the seller is Italian, no buyer was purged).
    assert run.rendered == {fmt: len(chosen) for fmt in ("pdf", "facturx", "ubl", "fatturapa")}
    assert run.peppol >= PER_CASE
