"""Invoice documents throughput: PDF/A-3 + Factur-X per second.

N EN 16931 invoices (L lines each, two VAT rates, a line discount, a freight charge) are
rendered one after the other as the delivery worker does: CII written, validated (XSD + EN
16931 schematron in the SaxonC worker process, unless --no-validate), the PDF/A-3b rendered by
WeasyPrint and the CII embedded by factur-x. Prints the time per stage and, as its last line,
one JSON object.

    python bench/documents.py --invoices 1000 [--lines 5] [--no-validate]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import date
from decimal import Decimal

from o2c.adapters.einvoice import cii, pdf, validation
from o2c.domain.einvoice import AllowanceCharge, Document, Line, Party, compute, line_net

D = Decimal
SELLER = Party(name="Bench S.r.l.", country="IT", vat_id="IT00743110157", line1="Via Roma 1",
               city="Milano", postal_code="20121", email="billing@bench.example")
BUYER = Party(name="Client SARL", country="FR", vat_id="FR40303265045", line1="1 rue X",
              city="Paris", postal_code="75001", email="ap@client.example")


def invoice(i: int, lines: int) -> Document:
    built = []
    for n in range(lines):
        qty, price = D(1 + (i + n) % 7), (D("9.99") + D(n) / D(3)).quantize(D("0.01"))
        acs = (AllowanceCharge(False, D("1.00"), "Discount", "95"),) if n == 0 else ()
        rate = D(22) if n % 3 else D(10)
        built.append(Line(id=str(n + 1), name=f"Product {n} for invoice {i}", quantity=qty,
                          unit="C62", net_price=price,
                          net_amount=line_net(qty, price, "EUR", acs), vat_code="S",
                          vat_rate=rate, seller_item_id=f"SKU-{n:04d}", allowances_charges=acs))
    doc_ac = (AllowanceCharge(True, D("7.50"), "Freight", "FC", vat_code="S", vat_rate=D(22)),)
    breakdown, totals = compute("EUR", built, doc_ac)
    return Document(type_code="380", number=f"INV-2026-{i:05d}", issue_date=date(2026, 11, 2),
                    currency="EUR", seller=SELLER, buyer=BUYER, lines=tuple(built),
                    breakdown=breakdown, totals=totals, allowances_charges=doc_ac,
                    due_date=date(2026, 12, 2), payment_means_code="58",
                    payee_iban="IT60X0542811101000000123456", payment_terms="Net 30 days",
                    language=("it", "fr", "es", "de", "en")[i % 5])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    docs = [invoice(i + 1, args.lines) for i in range(args.invoices)]
    # Warm up: load pango/fonts and compile the schematron once, outside the timing.
    warm = docs[0]
    validation.validate("cii", cii.write(warm))
    pdf.render_facturx(warm)
    timings = {"cii": 0.0, "validate": 0.0, "pdf": 0.0, "embed": 0.0}
    sizes = 0
    started = time.perf_counter()
    for doc in docs:
        t0 = time.perf_counter()
        xml = cii.write(doc)
        t1 = time.perf_counter()
        if not args.no_validate:
            validation.ensure_valid("cii", xml)
        t2 = time.perf_counter()
        rendered = pdf.render_pdf(doc)
        t3 = time.perf_counter()
        result = pdf.embed_facturx(rendered, xml, doc)
        t4 = time.perf_counter()
        timings["cii"] += t1 - t0
        timings["validate"] += t2 - t1
        timings["pdf"] += t3 - t2
        timings["embed"] += t4 - t3
        sizes += len(result)
    elapsed = time.perf_counter() - started
    n = args.invoices
    for stage, seconds in timings.items():
        print(f"{stage:>9}: {seconds / n * 1000:8.2f} ms/invoice")
    print(f"{n} invoices in {elapsed:.1f} s: {n / elapsed:.2f} Factur-X PDFs/s")
    print(json.dumps({
        "bench": "documents", "invoices": n, "lines": args.lines,
        "validated": not args.no_validate, "seconds": round(elapsed, 2),
        "facturx_pdfs_per_s": round(n / elapsed, 2),
        "ms_per_invoice": {k: round(v / n * 1000, 2) for k, v in timings.items()},
        "avg_pdf_kib": round(sizes / n / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
