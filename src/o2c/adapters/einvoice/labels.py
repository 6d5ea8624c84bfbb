"""Words printed on invoice documents, in the customer's language (it, fr, es, de, en), and
the legal mentions each case requires."""

from __future__ import annotations

from o2c.domain.einvoice import Document

LABELS: dict[str, dict[str, str]] = {
    "en": {"invoice": "Invoice", "credit_note": "Credit note", "number": "Number",
           "date": "Date", "due_date": "Due date", "seller": "Seller", "buyer": "Bill to",
           "vat_id": "VAT number", "tax_code": "Tax code", "your_order": "Your order",
           "our_order": "Our order", "buyer_reference": "Your reference",
           "corrects": "Corrects invoice", "item": "Item", "description": "Description",
           "quantity": "Qty", "unit_price": "Unit price", "discount": "Adjustments",
           "vat": "VAT", "amount": "Amount", "vat_summary": "VAT summary",
           "taxable": "Taxable amount", "rate": "Rate", "tax": "VAT amount",
           "subtotal": "Total of lines", "allowances": "Allowances", "charges": "Charges",
           "net_total": "Total without VAT", "tax_total": "Total VAT",
           "gross_total": "Total with VAT", "payable": "Amount due",
           "payment": "Payment", "iban": "IBAN", "bic": "BIC", "reference": "Reference",
           "terms": "Payment terms", "delivery_date": "Delivery date",
           "tax_in_accounting": "VAT in accounting currency",
           "stamp_duty": "Stamp duty", "page": "Page"},
    "it": {"invoice": "Fattura", "credit_note": "Nota di credito", "number": "Numero",
           "date": "Data", "due_date": "Scadenza", "seller": "Cedente", "buyer": "Cliente",
           "vat_id": "Partita IVA", "tax_code": "Codice fiscale", "your_order": "Vostro ordine",
           "our_order": "Nostro ordine", "buyer_reference": "Vostro riferimento",
           "corrects": "Rettifica fattura", "item": "Codice", "description": "Descrizione",
           "quantity": "Q.tà", "unit_price": "Prezzo unitario", "discount": "Sconti",
           "vat": "IVA", "amount": "Importo", "vat_summary": "Riepilogo IVA",
           "taxable": "Imponibile", "rate": "Aliquota", "tax": "Imposta",
           "subtotal": "Totale righe", "allowances": "Sconti", "charges": "Maggiorazioni",
           "net_total": "Totale imponibile", "tax_total": "Totale IVA",
           "gross_total": "Totale documento", "payable": "Netto a pagare",
           "payment": "Pagamento", "iban": "IBAN", "bic": "BIC", "reference": "Riferimento",
           "terms": "Condizioni di pagamento", "delivery_date": "Data consegna",
           "tax_in_accounting": "IVA in valuta di conto",
           "stamp_duty": "Imposta di bollo", "page": "Pagina"},
    "fr": {"invoice": "Facture", "credit_note": "Avoir", "number": "Numéro",
           "date": "Date", "due_date": "Échéance", "seller": "Vendeur", "buyer": "Client",
           "vat_id": "N° TVA", "tax_code": "SIREN", "your_order": "Votre commande",
           "our_order": "Notre commande", "buyer_reference": "Votre référence",
           "corrects": "Rectifie la facture", "item": "Article", "description": "Désignation",
           "quantity": "Qté", "unit_price": "Prix unitaire", "discount": "Remises",
           "vat": "TVA", "amount": "Montant HT", "vat_summary": "Récapitulatif TVA",
           "taxable": "Base HT", "rate": "Taux", "tax": "Montant TVA",
           "subtotal": "Total des lignes", "allowances": "Remises", "charges": "Frais",
           "net_total": "Total HT", "tax_total": "Total TVA",
           "gross_total": "Total TTC", "payable": "Net à payer",
           "payment": "Règlement", "iban": "IBAN", "bic": "BIC", "reference": "Référence",
           "terms": "Conditions de paiement", "delivery_date": "Date de livraison",
           "tax_in_accounting": "TVA en devise de comptabilité",
           "stamp_duty": "Droit de timbre", "page": "Page"},
    "es": {"invoice": "Factura", "credit_note": "Factura rectificativa", "number": "Número",
           "date": "Fecha", "due_date": "Vencimiento", "seller": "Emisor",
           "buyer": "Cliente", "vat_id": "NIF-IVA", "tax_code": "NIF",
           "your_order": "Su pedido", "our_order": "Nuestro pedido",
           "buyer_reference": "Su referencia", "corrects": "Rectifica la factura",
           "item": "Artículo", "description": "Descripción", "quantity": "Cant.",
           "unit_price": "Precio unitario", "discount": "Descuentos", "vat": "IVA",
           "amount": "Importe", "vat_summary": "Resumen de IVA", "taxable": "Base imponible",
           "rate": "Tipo", "tax": "Cuota", "subtotal": "Total líneas",
           "allowances": "Descuentos", "charges": "Recargos", "net_total": "Total sin IVA",
           "tax_total": "Total IVA", "gross_total": "Total con IVA",
           "payable": "Importe a pagar", "payment": "Pago", "iban": "IBAN", "bic": "BIC",
           "reference": "Referencia", "terms": "Condiciones de pago",
           "delivery_date": "Fecha de entrega",
           "tax_in_accounting": "IVA en moneda contable",
           "stamp_duty": "Impuesto de timbre", "page": "Página"},
    "de": {"invoice": "Rechnung", "credit_note": "Gutschrift", "number": "Nummer",
           "date": "Datum", "due_date": "Fällig am", "seller": "Verkäufer",
           "buyer": "Rechnungsempfänger", "vat_id": "USt-IdNr.", "tax_code": "Steuernummer",
           "your_order": "Ihre Bestellung", "our_order": "Unser Auftrag",
           "buyer_reference": "Ihr Zeichen", "corrects": "Korrigiert Rechnung",
           "item": "Artikel", "description": "Beschreibung", "quantity": "Menge",
           "unit_price": "Einzelpreis", "discount": "Rabatte", "vat": "USt.",
           "amount": "Betrag", "vat_summary": "Umsatzsteuer", "taxable": "Nettobetrag",
           "rate": "Satz", "tax": "Steuer", "subtotal": "Summe Positionen",
           "allowances": "Nachlässe", "charges": "Zuschläge", "net_total": "Gesamt netto",
           "tax_total": "Umsatzsteuer gesamt", "gross_total": "Gesamt brutto",
           "payable": "Zahlbetrag", "payment": "Zahlung", "iban": "IBAN", "bic": "BIC",
           "reference": "Verwendungszweck", "terms": "Zahlungsbedingungen",
           "delivery_date": "Lieferdatum", "tax_in_accounting": "USt. in Buchungswährung",
           "stamp_duty": "Stempelsteuer", "page": "Seite"},
}

# Mentions required when a VAT category applies (Directive 2006/112/EC art. 226 (11), (11a)).
CATEGORY_MENTIONS: dict[str, dict[str, str]] = {
    "AE": {"en": "Reverse charge: VAT to be accounted for by the customer (Art. 196 Directive "
                 "2006/112/EC).",
           "it": "Inversione contabile: imposta da assolvere a cura del cessionario (art. 17 "
                 "DPR 633/72).",
           "fr": "Autoliquidation : TVA due par le preneur (art. 283-2 du CGI).",
           "es": "Inversión del sujeto pasivo (art. 84.Uno.2º Ley 37/1992).",
           "de": "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG)."},
    "K": {"en": "Intra-community supply exempt from VAT (Art. 138 Directive 2006/112/EC).",
          "it": "Operazione non imponibile, cessione intracomunitaria (art. 41 DL 331/93).",
          "fr": "Exonération de TVA, livraison intracommunautaire (art. 262 ter I du CGI).",
          "es": "Entrega intracomunitaria exenta (art. 25 Ley 37/1992).",
          "de": "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b UStG)."},
    "G": {"en": "Export outside the EU, exempt from VAT (Art. 146 Directive 2006/112/EC).",
          "it": "Operazione non imponibile, esportazione (art. 8 DPR 633/72).",
          "fr": "Exonération de TVA, exportation (art. 262 I du CGI).",
          "es": "Exportación exenta (art. 21 Ley 37/1992).",
          "de": "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a UStG)."},
    "E": {"en": "Exempt from VAT.", "it": "Operazione esente da IVA.",
          "fr": "Exonération de TVA.", "es": "Operación exenta de IVA.",
          "de": "Steuerfreie Leistung."},
}

# Mentions the seller's country requires on every invoice.
SELLER_MENTIONS: dict[str, dict[str, str]] = {
    "FR": {"fr": "Pénalités de retard : trois fois le taux d'intérêt légal. Indemnité "
                 "forfaitaire pour frais de recouvrement : 40 € (art. L441-10 et D441-5 du Code "
                 "de commerce). Pas d'escompte pour paiement anticipé.",
           "en": "Late payment penalties: three times the French legal interest rate; fixed "
                 "recovery fee EUR 40 (Code de commerce L441-10, D441-5). No discount for early "
                 "payment."},
    "IT": {"it": "Copia di cortesia: l'originale del documento è trasmesso tramite il Sistema "
                 "di Interscambio (SdI).",
           "en": "Courtesy copy: the legal invoice is the one transmitted through the Italian "
                 "Exchange System (SdI).",
           "fr": "Copie de courtoisie : la facture légale est celle transmise par le système "
                 "d'échange italien (SdI).",
           "es": "Copia de cortesía: la factura legal es la transmitida a través del Sistema "
                 "de Intercambio italiano (SdI).",
           "de": "Höflichkeitskopie: maßgeblich ist die über das italienische "
                 "Austauschsystem (SdI) übermittelte Rechnung."},
    "DE": {"de": "Leistungsdatum entspricht dem Lieferdatum, sofern nicht anders angegeben.",
           "en": "Date of supply is the delivery date unless stated otherwise."},
}

# The exemption note of a VAT breakdown line, by category, in the document's language (the
# e-invoice keeps the legal English text and its VATEX code).
EXEMPTION_NOTES: dict[str, dict[str, str]] = {
    "K": {"en": "Intra-community supply", "it": "Cessione intracomunitaria",
          "fr": "Livraison intracommunautaire", "es": "Entrega intracomunitaria",
          "de": "Innergemeinschaftliche Lieferung"},
    "G": {"en": "Export outside the EU", "it": "Esportazione extra UE",
          "fr": "Exportation hors UE", "es": "Exportación fuera de la UE",
          "de": "Ausfuhr aus der EU"},
    "AE": {"en": "Reverse charge", "it": "Inversione contabile", "fr": "Autoliquidation",
           "es": "Inversión del sujeto pasivo",
           "de": "Steuerschuldnerschaft des Leistungsempfängers"},
    "E": {"en": "Exempt from VAT", "it": "Esente IVA", "fr": "Exonéré de TVA",
          "es": "Exento de IVA", "de": "Steuerfrei"},
}


def exemption_note(code: str, reason: str, language: str) -> str:
    """The breakdown line's exemption note in `language` (its own text when none is known)."""
    notes = EXEMPTION_NOTES.get(code)
    return _pick(notes, language) if notes and reason else reason


STAMP_MENTION = {"it": "Imposta di bollo assolta in modo virtuale (DM 17/06/2014).",
                 "en": "Italian stamp duty paid virtually (DM 17/06/2014)."}


# Words for payment terms, instalments and the seller's register data, by language.
TERMS: dict[str, dict[str, str]] = {
    "en": {"due": "{amount} due on {date}", "single": "Payment due on {date}",
           "instalments": "Payment in {n} instalments", "discount":
           "{percent}% early-payment discount ({amount}) if paid by {date}",
           "rea": "Company register (REA)", "capital": "Share capital",
           "paid_in": "fully paid", "sole": "Sole shareholder", "liquidation": "In liquidation",
           "tax_id": "Tax number"},
    "it": {"due": "{amount} con scadenza {date}", "single": "Pagamento entro il {date}",
           "instalments": "Pagamento in {n} rate", "discount":
           "Sconto pagamento anticipato {percent}% ({amount}) entro il {date}",
           "rea": "REA", "capital": "Capitale sociale", "paid_in": "i.v.",
           "sole": "Socio unico", "liquidation": "In liquidazione",
           "tax_id": "Identificativo fiscale"},
    "fr": {"due": "{amount} à échéance du {date}", "single": "Paiement au {date}",
           "instalments": "Paiement en {n} échéances", "discount":
           "Escompte de {percent} % ({amount}) pour paiement avant le {date}",
           "rea": "Registre des entreprises (REA)", "capital": "Capital social",
           "paid_in": "entièrement libéré", "sole": "Associé unique",
           "liquidation": "En liquidation", "tax_id": "Identifiant fiscal"},
    "es": {"due": "{amount} con vencimiento el {date}", "single": "Pago el {date}",
           "instalments": "Pago en {n} plazos", "discount":
           "Descuento por pronto pago del {percent}% ({amount}) si se paga antes del {date}",
           "rea": "Registro mercantil (REA)", "capital": "Capital social",
           "paid_in": "desembolsado", "sole": "Socio único", "liquidation": "En liquidación",
           "tax_id": "Número fiscal"},
    "de": {"due": "{amount} fällig am {date}", "single": "Zahlbar bis {date}",
           "instalments": "Zahlung in {n} Raten", "discount":
           "{percent} % Skonto ({amount}) bei Zahlung bis {date}",
           "rea": "Handelsregister (REA)", "capital": "Stammkapital", "paid_in": "eingezahlt",
           "sole": "Alleingesellschafter", "liquidation": "In Liquidation",
           "tax_id": "Steuernummer"},
}
# National tax numbers by their own names; "fiscal" ones use the country's word.
SCHEME_NAMES = {"CF": {"it": "Codice fiscale", "en": "Italian tax code (codice fiscale)",
                       "fr": "Code fiscal italien", "es": "Código fiscal italiano",
                       "de": "Italienische Steuernummer"},
                "EIN": {"en": "EIN (US tax number)", "it": "EIN (identificativo fiscale USA)",
                        "fr": "EIN (identifiant fiscal américain)",
                        "es": "EIN (número fiscal de EE. UU.)", "de": "EIN (US-Steuernummer)"},
                "RFC": {"es": "RFC", "en": "RFC (Mexican tax number)",
                        "it": "RFC (identificativo fiscale messicano)",
                        "fr": "RFC (identifiant fiscal mexicain)",
                        "de": "RFC (mexikanische Steuernummer)"},
                "SIREN": {"fr": "SIREN", "en": "SIREN", "it": "SIREN", "es": "SIREN",
                          "de": "SIREN"},
                "NIF": {"es": "NIF", "en": "NIF (Spanish tax number)", "it": "NIF",
                        "fr": "NIF", "de": "NIF"}}


def tax_number_label(scheme: str, language: str) -> str:
    """The label of a national tax number on the document: never "VAT number"."""
    names = SCHEME_NAMES.get(scheme)
    if names:
        return _pick(names, language)
    words = TERMS.get(language, TERMS["en"])
    return f"{words['tax_id']} ({scheme})" if scheme else words["tax_id"]


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def _pick(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts["en"]


def legal_mentions(doc: Document) -> list[str]:
    mentions = []
    for code in dict.fromkeys(b.code for b in doc.breakdown):
        if code in CATEGORY_MENTIONS:
            mentions.append(_pick(CATEGORY_MENTIONS[code], doc.language))
    if doc.stamp_duty:
        mentions.append(_pick(STAMP_MENTION, doc.language))
    if doc.seller.country in SELLER_MENTIONS:
        mentions.append(_pick(SELLER_MENTIONS[doc.seller.country], doc.language))
    return mentions


def terms_words(language: str) -> dict[str, str]:
    return TERMS.get(language, TERMS["en"])
