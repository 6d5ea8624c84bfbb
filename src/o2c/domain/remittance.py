"""Keys a statement line quotes: ISO 11649 RF creditor references (checked) and invoice
numbers in the many ways payers write them, without taking dates, order or delivery numbers
for invoices."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from o2c.domain.references import is_valid_creditor_reference

if TYPE_CHECKING:
    from o2c.domain.reconciliation import LineView

_RF = re.compile(r"R\s?F\s?\d\s?\d(?:\s?[0-9A-Z]){1,21}")
_SEP = r"[\s\-/._]*"
# SERIES-YYYY-NNNNN in its many spellings; YYYY-NNNNN; NNNN/YYYY; INV-YY-NNNNN.
_INVOICE = re.compile(
    r"(?<![0-9A-Z])(?:(?P<prefix>[A-Z]{2,9})\.?" + _SEP + r")?(?:"
    r"(?P<year>20\d\d)" + _SEP + r"(?P<seq>\d{1,7})"
    r"|(?P<seq2>\d{1,7})/(?P<year2>20\d\d)"
    r"|(?P<yy>2\d)-(?P<seq3>\d{3,7}))(?![0-9A-Z])")
# "n. 2259", "nr 2259", "no. 2259", "fattura 2259": a sequence without a year.
_LOOSE = re.compile(r"(?<![0-9A-Z])(?:N|NR|NO|NUM|NUMERO|FATTURA|FATT|FT|FACTURA|FACT|FACTURE|"
                    r"RECHNUNG|RG|INVOICE|INV)\.?\s*(?:N\.?\s*)?(?P<seq>\d{3,7})(?![0-9A-Z/.\-])")
_DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12]\d|3[01])"
                   r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)\d\d)(?!\d)")
# Words before a number that make it something other than an invoice of ours.
NOT_INVOICE = frozenset({
    "ORD", "ORDER", "ORDINE", "ORDRE", "PEDIDO", "PED", "AUFTRAG", "BEST", "BESTELLUNG", "SO",
    "PO", "ODA", "OC", "OV", "CMD", "COMMANDE", "DEL", "DDT", "DN", "BOL", "LS", "LIEFERSCHEIN",
    "BL", "ALB", "ALBARAN", "CONTRACT", "CONTRATTO", "VERTRAG", "CTR", "CRO", "TRN", "CUST",
    "CLIENTE", "KUNDE", "KDNR", "CLIENT", "ACCOUNT", "CONTO", "KONTO", "CODE", "CODICE", "CIG",
    "CUP", "PRATICA", "TICKET", "CASE", "REF", "DATE", "DATA", "DATUM", "FECHA", "DAL", "AL",
    "DU", "AU", "VOM", "BIS", "FROM", "TO", "PERIOD", "PERIODO", "RATA", "MESE", "MONTH"})
_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


_RF_START = re.compile(r"R\s?F\s?\d\s?\d")


def rf_references(line: LineView) -> list[str]:
    """Valid RF references in the structured field first, then in the free text."""
    found: list[str] = []
    for text in (line.structured_reference, line.remittance, line.end_to_end_id):
        upper = text.upper()
        starts = [m.start() for m in _RF_START.finditer(upper)]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(upper)
            match = _RF.match(upper, start, end)
            if match is None:
                continue
            ref = compact(match.group(0))
            # The match may have eaten following words: shrink until valid.
            while len(ref) >= 5 and not is_valid_creditor_reference(ref):
                ref = ref[:-1]
            if len(ref) >= 5 and ref not in found:
                found.append(ref)
    return found


def invoice_numbers(line: LineView, series: str = "INV") -> list[str]:
    """Invoice numbers the structured reference (referred documents), remittance text or
    end-to-end id names, in our canonical form (SERIES-YYYY-NNNNN): tolerates spaces, dashes,
    a missing or mangled prefix, "2259/2026" and two-digit years; dates and numbers that
    follow an order, delivery or contract word are not invoice numbers."""
    return numbers_in((line.structured_reference, line.remittance, line.end_to_end_id), series)


def numbers_in(texts: Iterable[str], series: str = "INV") -> list[str]:
    found: list[str] = []
    for text in texts:
        upper = _DATE.sub(" ", text.upper())
        for match in _INVOICE.finditer(upper):
            prefix = match.group("prefix")
            if prefix is not None and prefix in NOT_INVOICE:
                continue
            if match.group("year"):
                year, seq = match.group("year"), match.group("seq")
            elif match.group("year2"):
                year, seq = match.group("year2"), match.group("seq2")
            else:
                if prefix is None:  # "26-1234" alone is too weak; "INV-26-01234" is not
                    continue
                year, seq = "20" + match.group("yy"), match.group("seq3")
            number = f"{series}-{year}-{int(seq):05d}"
            if number not in found:
                found.append(number)
    return found


def loose_numbers(line: LineView, series: str = "INV") -> list[str]:
    """Invoice numbers quoted without a year ("n. 2259", "fattura 2259"): the candidates of
    the booking year and the year before, in that order."""
    found: list[str] = []
    year = line.booking_date.year
    for text in (line.structured_reference, line.remittance):
        upper = _DATE.sub(" ", text.upper())
        for match in _LOOSE.finditer(upper):
            seq = int(match.group("seq"))
            for y in (year, year - 1):
                number = f"{series}-{y}-{seq:05d}"
                if number not in found:
                    found.append(number)
    return found


def one_typo(a: str, b: str) -> bool:
    """Same length with one different character, or two neighbours swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


