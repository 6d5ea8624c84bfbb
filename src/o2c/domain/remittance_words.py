"""Words and bank transaction codes cash application reads in a statement line: whole
words only, in the languages of the statements it meets."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words that make a short payment a payment on account or a disputed deduction, never a
# write-off (Italian, English, German, French, Spanish).
ON_ACCOUNT_WORDS = frozenset({
    "ACCONTO", "ACCONTI", "ACONTO", "ANTICIPO", "PARZIALE", "SALDO PARZIALE", "ON ACCOUNT",
    "PART PAYMENT", "PARTIAL", "INSTALMENT", "INSTALLMENT", "RATA", "ABSCHLAG", "ANZAHLUNG",
    "TEILZAHLUNG", "A CONTO", "ACOMPTE", "PAIEMENT PARTIEL", "A CUENTA", "PAGO PARCIAL",
    "PARCIAL"})
DISPUTE_WORDS = frozenset({
    "CONTESTAZIONE", "CONTESTATO", "CONTESTATA", "RECLAMO", "TRATTENUTA", "TRATTENUTO",
    "DETRATTO", "DETRAZIONE", "NOTA DI CREDITO", "MERCE DANNEGGIATA", "DANNEGGIATA", "RESO",
    "DISPUTE", "DISPUTED", "DEDUCTION", "DEDUCTED", "LESS", "DAMAGED", "SHORTAGE", "CLAIM",
    "ABZUG", "ABZUEGLICH", "ABZÜGLICH", "REKLAMATION", "MANGEL", "LITIGE", "RETENUE",
    "RECLAMATION", "RECLAMACION", "DESCUENTO NO", "DEDUCCION", "ABONO"})



# Bank transaction codes (ISO 20022 external code sets): charges, returns.
CHARGE_FAMILIES = frozenset({"CHRG"})
CHARGE_SUBFAMILIES = frozenset({"CHRG", "COMM", "FEES", "COMT", "SRVC", "INTR", "TAXE",
                                "ADJT"})
RETURN_SUBFAMILIES = frozenset({"UPDD", "RRTN", "ARET", "RCDD", "PRDD"})
FEE_WORDS = frozenset({
    "FEE", "FEES", "CHARGE", "CHARGES", "CHRG", "SRVCHG", "GEBUEHR", "GEBUEHREN", "GEBÜHR",
    "GEBÜHREN", "ENTGELT", "KONTOFUEHRUNG", "KONTOFÜHRUNG", "KONTOFÜHRUNGSGEBÜHR",
    "KONTOFUEHRUNGSGEBUEHR", "FRAIS", "COMMISSION",
    "COMMISSIONS", "COMMISSIONI", "COMM", "COMPETENZE", "CANONE", "SPESE", "IMPOSTA DI BOLLO",
    "BOLLO", "COMISION", "COMISIONES", "COMISIÓN", "MANTENIMIENTO", "CUOTA"})
DIRECT_DEBIT_WORDS = frozenset({
    "SDD", "ADDEBITO DIRETTO", "ADDEBITO SDD", "RID", "LASTSCHRIFT", "SEPA LASTSCHRIFT",
    "PRELEVEMENT", "PRÉLÈVEMENT", "DOMICILIACION", "ADEUDO", "DIRECT DEBIT", "MANDATE",
    "MANDATO"})
RETURN_WORDS = frozenset({
    "RETURN", "RETURNED", "RUECKLAST", "RUECKLASTSCHRIFT", "RÜCKLASTSCHRIFT", "RÜCKLAST",
    "R-TRANSACTION", "RJCT", "MD06", "AM04", "MS02", "AC04", "REVERSAL", "STORNO", "INSOLUTO",
    "IMPAGATO", "IMPAYE", "IMPAYÉ", "DEVOLUCION", "DEVOLUCIÓN"})


def has_words(text: str, words: Iterable[str]) -> list[str]:
    """The words (or phrases) of `words` found in `text` as whole words."""
    upper = " " + re.sub(r"[^0-9A-ZÀ-ÖØ-Ý]+", " ", text.upper()) + " "
    return sorted(w for w in words if f" {w} " in upper)
