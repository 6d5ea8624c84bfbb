"""`o2c bank ...` and `o2c demo bank-statement` on a real SQLite database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from o2c.bootstrap import App
from tests.e2e.test_cli import Cli, as_json, o2c, world  # noqa: F401  (fixtures)
from tests.fixtures.world import World
from tests.services.bank_support import invoice

D = Decimal
FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"
ACCOUNT = "IT60 X054 2811 1010 0000 0123 456"


def test_import_match_accept_and_unmatch_from_the_command_line(
        o2c: Cli, app: App, world: World) -> None:  # noqa: F811
    invoice(app, world, "rossi")
    invoice(app, world, "rossi", "DESK")
    sta = str(FIXTURES / "statement.sta")
    imported = as_json(o2c("bank", "import", sta, "--account", ACCOUNT, "--json"))
    assert (imported["format"], imported["imported"]) == ("mt940", 3)
    assert "already imported" in o2c("bank", "import", sta).stdout
    matched = as_json(o2c("bank", "match", "--as-of", "2026-03-31", "--json"))
    assert (matched["automatic"], matched["applied"]) == (3, 0)
    listed = as_json(o2c("bank", "lines", "--status", "proposed", "--json"))
    ids = [row["id"] for row in listed["items"]]
    assert "3 applied" in o2c("bank", "accept", *map(str, ids)).stdout
    shown = o2c("bank", "show", str(ids[0])).stdout
    assert "RF reference RF76 INV2 0260 0001 matches invoice INV-2026-00001" in shown
    o2c("bank", "unmatch", str(ids[0]), "--reason", "wrong customer")
    assert as_json(o2c("bank", "show", str(ids[0]), "--json"))["status"] == "rejected"
    assert "the ledger verifies" in o2c("ledger", "verify").stdout


def test_a_broken_file_is_refused_with_where_and_why(o2c: Cli, world: World) -> None:  # noqa: F811
    result = o2c("bank", "import", str(FIXTURES / "broken_unbalanced.xml"), code=2)
    assert "broken_unbalanced.xml, /Document/BkToCstmrStmt/Stmt[1]" in result.stderr
    assert "closing balance is 10693.15" in result.stderr


def test_the_demo_writes_a_labelled_statement_that_matches_itself(
        o2c: Cli, app: App, world: World, tmp_path: Path) -> None:  # noqa: F811
    for _ in range(6):
        invoice(app, world, "rossi")
        invoice(app, world, "dupont", "DESK")
    out, labels = tmp_path / "st.xml", tmp_path / "labels.json"
    o2c("demo", "bank-statement", "--lines", "12", "--out", str(out), "--labels", str(labels),
        "--on", "2026-03-20")
    assert len(json.loads(labels.read_text())) == 12
    o2c("bank", "import", str(out))
    o2c("bank", "match", "--as-of", "2026-03-31", "--auto")
    score = as_json(o2c("bank", "evaluate", "--labels", str(labels), "--json"))
    assert score["precision"] >= D("0.995")
    assert "the ledger verifies" in o2c("ledger", "verify").stdout


def test_payer_ibans_and_groups_from_the_command_line(o2c: Cli, world: World) -> None:  # noqa: F811
    o2c("customer", "list")  # the world's customers exist
    assert "1 payer IBAN registered" in o2c("bank", "payer-add", "IT02L1234512345123456789012",
                                            "--customer", "C-00001").stdout
    listed = as_json(o2c("bank", "payers", "--json"))
    assert [(r["code"], r["source"]) for r in listed] == [("C-00001", "master_data")]
    assert "0 payer IBANs learnt" in o2c("bank", "payers-from-history").stdout
    assert "group" in o2c("bank", "group-set", "C-00001", "--parent", "C-00002").stdout


def test_the_demo_writes_an_adversarial_statement_for_a_new_installation(
        o2c: Cli, app: App, world: World, tmp_path: Path) -> None:  # noqa: F811
    for _ in range(8):
        invoice(app, world, "rossi")
        invoice(app, world, "dupont", "DESK")
    out, labels = tmp_path / "st.xml", tmp_path / "labels.json"
    o2c("demo", "bank-statement", "--lines", "20", "--out", str(out), "--labels", str(labels),
        "--on", "2026-03-20", "--seed", "3", "--cold")
    assert as_json(o2c("bank", "payers", "--json")) == []  # cold: no payer IBAN known
    o2c("bank", "import", str(out))
    o2c("bank", "match", "--as-of", "2026-03-31", "--auto")
    score = as_json(o2c("bank", "evaluate", "--labels", str(labels), "--json"))
    assert score["lines"] == 20 and score["precision"] >= D("0.995")
    assert "the ledger verifies" in o2c("ledger", "verify").stdout
