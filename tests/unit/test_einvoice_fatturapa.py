"""FatturaPA as SdI and the Italian VAT return read it, field by field: Natura and the law
each operation without Italian VAT rests on (in Italian), instalments (TP01, one
DettaglioPagamento each), early-payment discounts, the seller's REA data, and each kind of
tax identifier of the buyer. Every document also passes the XSD and SdI's rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from o2c.adapters.einvoice import fatturapa, validation
from o2c.domain.einvoice import Document, DocumentPreferences, Party
from o2c.domain.parties import Registration
from o2c.domain.payment_terms import EarlyPaymentDiscount, Installment
from tests.fixtures.einvoices import BUYER_FR, BUYER_IT, BUYER_US, SELLER_IT, document

D = Decimal
CONSUMER_FR = Party(name="Camille Martin", country="FR", line1="3 rue du Commerce",
                    city="Lyon", postal_code="69002")
CONSUMER_IT = Party(name="Giulia Rossi", country="IT", line1="Via Roma 3", city="Bologna",
                    postal_code="40121", region="BO", legal_id="RSSGLI80A41A944K",
                    tax_scheme="CF")
BUYER_MX = Party(name="Distribuidora Gourmet S.A. de C.V.", country="MX",
                 line1="Avenida Reforma 10", city="Ciudad de México", postal_code="11560",
                 legal_id="GRU930717V49", tax_scheme="RFC")


def _xml(doc: Document, prefs: DocumentPreferences | None = None) -> etree._Element:
    result = fatturapa.write(doc, prefs, 1)
    validation.ensure_valid("fatturapa", result.xml)  # XSD and SdI's rules
    return etree.fromstring(result.xml)


def _one(root: etree._Element, path: str) -> str:
    [value] = root.xpath(path)
    return str(value)


@pytest.mark.parametrize(("code", "buyer", "natura", "law"), [
    ("K", BUYER_FR, "N3.2", "art. 41 c. 1 lett. a) DL 331/93"),
    ("G", BUYER_US, "N3.1", "art. 8 c. 1 lett. a) DPR 633/72"),
    ("AE", BUYER_FR, "N2.1", "art. 7-ter DPR 633/72"),
    ("AE", BUYER_US, "N2.1", "art. 7-ter DPR 633/72"),
    ("AE", BUYER_IT, "N6.9", "art. 17 c. 6 DPR 633/72"),
    ("E", BUYER_IT, "N4", "art. 10 DPR 633/72"),
    ("Z", BUYER_IT, "N1", "art. 15 DPR 633/72"),
], ids=["intra-eu-goods", "export", "service-to-eu-business", "service-to-us-business",
        "domestic-reverse-charge", "exempt", "excluded-deposit"])
def test_operations_without_italian_vat_carry_natura_and_the_italian_law(
        code: str, buyer: Party, natura: str, law: str) -> None:
    root = _xml(document([("Voce", D(2), D("100.00"), code, D(0))], buyer=buyer))
    assert _one(root, "//DettaglioLinee/Natura/text()") == natura
    assert _one(root, "//DettaglioLinee/AliquotaIVA/text()") == "0.00"
    assert _one(root, "//DatiRiepilogo/Natura/text()") == natura
    assert _one(root, "//DatiRiepilogo/Imposta/text()") == "0.00"
    reference = _one(root, "//DatiRiepilogo/RiferimentoNormativo/text()")
    assert law in reference and len(reference) <= 100
    assert "Intra-community" not in reference and "Export" not in reference


def test_a_distance_sale_to_an_eu_consumer_is_n7_not_italian_vat_and_shows_the_foreign_vat(
        ) -> None:
    doc = replace(document([("Olio 1 l", D(2), D("10.00"), "S", D("5.5"))],
                           buyer=CONSUMER_FR), deliver_to_country="FR")
    root = _xml(doc)
    assert _one(root, "//DatiRiepilogo/Natura/text()") == "N7"
    assert _one(root, "//DatiRiepilogo/AliquotaIVA/text()") == "0.00"
    assert _one(root, "//DatiRiepilogo/Imposta/text()") == "0.00"  # no Italian VAT
    assert _one(root, "//DatiRiepilogo/ImponibileImporto/text()") == "20.00"
    assert "vendita a distanza" in _one(root, "//RiferimentoNormativo/text()")
    assert _one(root, "//AltriDatiGestionali/TipoDato/text()") == "IVA OSS"
    assert _one(root, "//AltriDatiGestionali/RiferimentoNumero/text()") == "5.50"
    # What the consumer pays, French VAT included, is the document total and the payment.
    assert _one(root, "//ImportoTotaleDocumento/text()") == "21.10"
    assert _one(root, "//ImportoPagamento/text()") == "21.10"
    assert _one(root, "//CessionarioCommittente//IdPaese/text()") == "FR"
    assert _one(root, "//CessionarioCommittente//IdCodice/text()") == "99999999999"
    assert _one(root, "//CodiceDestinatario/text()") == "XXXXXXX"


def test_instalments_are_tp01_with_one_payment_detail_each() -> None:
    doc = document([("Forno", D(1), D("1000.00"), "S", D(22))])
    doc = replace(doc, installments=(Installment(date(2026, 12, 2), D("610.00")),
                                     Installment(date(2027, 1, 1), D("610.00"))),
                  due_date=date(2027, 1, 1))
    root = _xml(doc)
    assert _one(root, "//CondizioniPagamento/text()") == "TP01"
    details = root.xpath("//DettaglioPagamento")
    assert [(d.findtext("DataScadenzaPagamento"), d.findtext("ImportoPagamento"))
            for d in details] == [("2026-12-02", "610.00"), ("2027-01-01", "610.00")]
    assert all(d.findtext("ModalitaPagamento") == "MP05" for d in details)


def test_one_due_date_is_tp02_and_an_early_payment_discount_is_stated() -> None:
    doc = document([("Forno", D(1), D("1000.00"), "S", D(22))])
    doc = replace(doc, installments=(Installment(date(2026, 12, 2), D("1220.00")),),
                  early_discount=EarlyPaymentDiscount(D(2), date(2026, 11, 12), D("24.40")))
    root = _xml(doc)
    assert _one(root, "//CondizioniPagamento/text()") == "TP02"
    [detail] = root.xpath("//DettaglioPagamento")
    assert (detail.findtext("DataScadenzaPagamento"), detail.findtext("ImportoPagamento"),
            detail.findtext("ScontoPagamentoAnticipato"),
            detail.findtext("DataLimitePagamentoAnticipato")) == (
        "2026-12-02", "1220.00", "24.40", "2026-11-12")


def test_split_payment_instalments_leave_the_vat_to_the_public_administration() -> None:
    doc = document([("Pasti", D(1), D("1000.00"), "S", D(10))])
    doc = replace(doc, split_payment=True,
                  installments=(Installment(date(2026, 12, 2), D("550.00")),
                                Installment(date(2027, 1, 1), D("550.00"))))
    root = _xml(doc, DocumentPreferences(1, codice_destinatario="UFABCD",
                                         public_administration=True))
    assert [d.text for d in root.xpath("//ImportoPagamento")] == ["500.00", "500.00"]
    assert _one(root, "//EsigibilitaIVA/text()") == "S"
    assert root.get("versione") == "FPA12"


def test_the_seller_register_data_goes_to_iscrizione_rea() -> None:
    seller = replace(SELLER_IT, registration=Registration(
        "00743110157", "MI", "1234567", D("10000"), sole_shareholder=True))
    root = _xml(replace(document([("Sedia", D(1), D("10"), "S", D(22))]), seller=seller))
    rea = root.xpath("//CedentePrestatore/IscrizioneREA")[0]
    assert [(e.tag, e.text) for e in rea] == [
        ("Ufficio", "MI"), ("NumeroREA", "1234567"), ("CapitaleSociale", "10000.00"),
        ("SocioUnico", "SU"), ("StatoLiquidazione", "LN")]
    assert _one(root, "//CedentePrestatore//CodiceFiscale/text()") == "00743110157"


@pytest.mark.parametrize(("buyer", "paese", "codice", "fiscale"), [
    (BUYER_IT, "IT", "01234560017", None),
    (CONSUMER_IT, None, None, "RSSGLI80A41A944K"),
    (BUYER_FR, "FR", "40303265045", None),
    (BUYER_US, "US", "745667571", None),
    (BUYER_MX, "MX", "GRU930717V49", None),
    (CONSUMER_FR, "FR", "99999999999", None),
], ids=["it-partita-iva", "it-consumer-codice-fiscale", "eu-vat-id", "us-ein", "mx-rfc",
        "eu-consumer"])
def test_each_kind_of_buyer_tax_identifier_goes_where_sdi_expects_it(
        buyer: Party, paese: str | None, codice: str | None, fiscale: str | None) -> None:
    code = "K" if buyer is BUYER_FR else "G" if buyer.country in ("US", "MX") else "S"
    doc = replace(document([("Voce", D(1), D("50.00"), code, D(22) if code == "S" else D(0))],
                           buyer=buyer), deliver_to_country="")
    root = _xml(doc)
    buyer_data = root.xpath("//CessionarioCommittente/DatiAnagrafici")[0]
    assert buyer_data.findtext("IdFiscaleIVA/IdPaese") == paese
    assert buyer_data.findtext("IdFiscaleIVA/IdCodice") == codice
    assert buyer_data.findtext("CodiceFiscale") == fiscale
