"""Bank files into the neutral statement model: every format from fixture files written after
the published specifications, the official ISO 20022 samples, and broken files refused whole
with the file, where (line or XPath) and why."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from o2c.adapters.bank import detect, parse_file
from o2c.domain.bank import BankFileError

D = Decimal
FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"
# The shared standards folder next to the repository (offline copies of official files).
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "standards" / "iso20022" / "examples"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/standards/iso20022/examples")
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.xml"))
ROSSI_IBAN = "IT02L1234512345123456789012"


def parse(name: str, profile: str | None = None):  # type: ignore[no-untyped-def]
    return parse_file((FIXTURES / name).read_bytes(), name, csv_profile=profile)


@pytest.mark.parametrize("name, version", [
    ("camt053_v02.xml", "camt.053.001.02"), ("camt053_v04.xml", "camt.053.001.04"),
    ("camt053_v08.xml", "camt.053.001.08")])
def test_camt053_statements_are_schema_validated_and_read(name: str, version: str) -> None:
    parsed = parse(name)
    assert (parsed.format, parsed.schema_validated) == (version, True)
    [statement] = parsed.statements
    assert (statement.account_iban, statement.currency) == ("IT60X0542811101000000123456", "EUR")
    assert (statement.opening_balance, statement.closing_balance) == (D("10000.00"),
                                                                      D("10693.51"))
    first, second, fee = statement.lines
    assert (first.amount, first.structured_reference, first.counterparty_iban) == (
        D("146.40"), "RF76INV202600001", ROSSI_IBAN)
    assert first.bank_reference == "BPM20260320-000117"
    assert first.location == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"
    assert "INV 2026 00002" in second.remittance and second.end_to_end_id == ""
    assert (fee.amount, fee.transaction_code) == (D("-2.50"), "ACMT/MDOP/CHRG")


@pytest.mark.parametrize("name", ["camt054_v02.xml", "camt054_v08.xml"])
def test_camt054_notifications_are_read(name: str) -> None:
    parsed = parse(name)
    assert parsed.format.startswith("camt.054") and parsed.schema_validated
    [line] = parsed.statements[0].lines
    assert line.amount == D("146.40") and line.structured_reference == "RF76INV202600001"


def test_a_camt_version_without_a_vendored_schema_is_read_by_namespace() -> None:
    content = (FIXTURES / "camt053_v04.xml").read_bytes().replace(b"camt.053.001.04",
                                                                b"camt.053.001.05")
    parsed = parse_file(content, "v05.xml")
    assert (parsed.format, parsed.schema_validated) == ("camt.053.001.05", False)
    assert len(parsed.statements[0].lines) == 3


@pytest.mark.skipif(not SAMPLE_NAMES, reason="shared/standards/iso20022/examples not found")
@pytest.mark.parametrize("sample", SAMPLE_NAMES or ["none"])
def test_the_published_iso20022_samples_are_read(sample: str) -> None:
    parsed = parse_file((SAMPLES / sample).read_bytes(), sample)
    assert parsed.schema_validated and parsed.line_count > 0


def test_mt940_with_swift_blocks_and_structured_details() -> None:
    parsed = parse("statement.sta")
    assert parsed.format == "mt940"
    [statement] = parsed.statements
    assert statement.account_iban == "IT60X0542811101000000123456"
    first, second, fee = statement.lines
    assert (first.amount, first.counterparty_iban, first.counterparty_name) == (
        D("146.40"), ROSSI_IBAN, "ROSSI ARREDAMENTI S.P.A.")
    assert "RF76INV202600001" in first.remittance and first.location == "line 6"
    assert second.end_to_end_id == "ROSSI-PAY-2026-0031"
    assert "INV-2026-00002" in second.remittance
    assert fee.amount == D("-2.50")


def test_ofx_and_csv_profiles() -> None:
    ofx = parse("statement.ofx")
    assert [line.amount for line in ofx.statements[0].lines] == [D("146.40"), D("549.61"),
                                                                 D("-2.50")]
    eu = parse("statement_eu.csv", "eu-semicolon")
    assert eu.format == "csv:eu-semicolon"
    assert [line.amount for line in eu.statements[0].lines] == [D("146.40"), D("549.61"),
                                                                D("-2.50")]
    dc = parse("statement_debit_credit.csv", "debit-credit")
    assert [line.amount for line in dc.statements[0].lines] == [D("146.40"), D("-2.50")]


def test_a_csv_profile_is_configured_without_code(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "profiles.toml").write_text(
        '[profiles.mybank]\ndelimiter = "|"\ndate_format = "%Y%m%d"\ncurrency = "EUR"\n'
        'columns = { date = "D", amount = "A", indicator = "S", text = ["T1", "T2"] }\n')
    monkeypatch.setenv("O2C_BANK_CSV_PROFILES", str(tmp_path / "profiles.toml"))
    content = b"D|A|S|T1|T2\n20260320|146.40|C|RF76INV202600001|thanks\n20260321|2.50|D|fee|\n"
    parsed = parse_file(content, "mybank.csv", "csv", "mybank")
    first, second = parsed.statements[0].lines
    assert (first.amount, first.remittance) == (D("146.40"), "RF76INV202600001 thanks")
    assert second.amount == D("-2.50")


def test_formats_are_detected_from_the_content() -> None:
    assert detect((FIXTURES / "camt053_v08.xml").read_bytes()) == "camt"
    assert detect((FIXTURES / "statement.sta").read_bytes()) == "mt940"
    assert detect((FIXTURES / "statement.ofx").read_bytes()) == "ofx"
    assert detect((FIXTURES / "statement_eu.csv").read_bytes()) == "csv"


@pytest.mark.parametrize("name, profile, where, reason", [
    ("broken_truncated.sta", None, "line 9", "the file looks truncated"),
    ("broken_wrong_namespace.xml", None, "/Document",
     "not an ISO 20022 camt.053/camt.054 document"),
    ("broken_unbalanced.xml", None, "/Document/BkToCstmrStmt/Stmt[1]",
     "closing balance is 10693.15"),
    ("broken_xxe.xml", None, "line 1", "DOCTYPE"),
    ("broken_wrong_decimal.csv", "eu-semicolon", "line 2, column Betrag",
     "profile eu-semicolon has decimal ','"),
])
def test_broken_files_are_refused_saying_where_and_why(name: str, profile: str | None,
                                                       where: str, reason: str) -> None:
    with pytest.raises(BankFileError) as raised:
        parse(name, profile)
    assert raised.value.filename == name
    assert raised.value.location == where
    assert reason in raised.value.reason


def test_an_entity_is_never_expanded_even_without_the_doctype_check() -> None:
    content = (FIXTURES / "broken_xxe.xml").read_bytes()
    with pytest.raises(BankFileError) as raised:
        parse_file(content, "xxe.xml")
    assert "root:" not in str(raised.value)


def test_a_schema_violation_names_the_element() -> None:
    content = (FIXTURES / "camt053_v08.xml").read_bytes().replace(
        b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CREDIT</CdtDbtInd>", 1)
    with pytest.raises(BankFileError) as raised:
        parse_file(content, "invalid.xml")
    assert "/Document/BkToCstmrStmt/Stmt/Bal[1]/CdtDbtInd" in raised.value.location
    assert "camt.053.001.08.xsd" in raised.value.reason
