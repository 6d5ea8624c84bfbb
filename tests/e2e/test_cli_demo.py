"""`o2c demo seed` and `o2c serve` from the command line."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from typer.testing import CliRunner

from o2c.adapters.db import reports
from o2c.adapters.db.engine import make_engine
from o2c.cli import app as cli_app


def invoke(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, ["--database-url", url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_demo_seed_fills_an_empty_database_and_reports_a_verified_ledger(db_url: str) -> None:
    code, out, err = invoke(db_url, "demo", "seed", "--customers", "6", "--orders", "40",
                            "--days", "45", "--seed", "3", "--end-date", "2026-10-31",
                            "--json")

    assert code == 0, err
    report = json.loads(out, parse_float=Decimal)
    assert report["ledger_ok"] is True
    assert report["counts"]["customers"] == 6 and report["counts"]["orders"] == 40
    assert report["last_day"] == "2026-10-31" and report["first_day"] == "2026-09-17"
    assert all(isinstance(v, str) for v in report["open_receivables"].values())
    code, out, _ = invoke(db_url, "ledger", "verify")
    assert code == 0 and "the ledger verifies" in out


def test_demo_seed_prints_a_summary_table_without_a_progress_bar_when_piped(
        db_url: str) -> None:
    code, out, err = invoke(db_url, "demo", "seed", "--customers", "4", "--orders", "15",
                            "--days", "20", "--as-of", "2026-10-31")

    assert code == 0, err
    assert "simulated 2026-10-12 to 2026-10-31" in out
    assert "orders by state" in out and "the ledger verifies" in out
    assert "simulating" not in out + err  # no progress bar outside a terminal


def test_the_demo_year_ends_today_and_make_run_prints_the_dashboards_overdue_figures(
        db_url: str) -> None:
    code, out, err = invoke(db_url, "demo", "seed", "--customers", "6", "--orders", "60",
                            "--days", "90", "--json")
    assert code == 0, err
    report = json.loads(out, parse_float=Decimal)
    assert report["last_day"] == date.today().isoformat()

    code, out, err = invoke(db_url, "invoice", "summary", "--json")
    assert code == 0, err
    summary = json.loads(out, parse_float=Decimal)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            dashboard = reports.dashboard(conn, 1, date.today())
    finally:
        engine.dispose()
    assert summary["as_of"] == date.today().isoformat()
    assert (summary["overdue_invoices"], Decimal(summary["overdue"])) == (
        dashboard["overdue_invoices"], dashboard["overdue"])
    assert summary["overdue_invoices"] == report["overdue_invoices"]
    code, out, _ = invoke(db_url, "invoice", "summary")
    assert f"{dashboard['overdue_invoices']} overdue" in out


def test_demo_seed_refuses_a_database_that_already_holds_data(db_url: str) -> None:
    assert invoke(db_url, "company", "create", "X", "X S.p.A.", "--country", "IT",
                  "--currency", "EUR")[0] == 0

    code, _, err = invoke(db_url, "demo", "seed", "--customers", "3", "--orders", "5")

    assert code == 2
    assert err.startswith("error: the database already holds a company")


def test_demo_seed_rejects_impossible_sizes(db_url: str) -> None:
    code, _, err = invoke(db_url, "demo", "seed", "--customers", "0")

    assert code == 2
    assert err.strip() == "error: customers must be between 1 and 100000 (field: customers)"


def test_serve_asks_for_the_schema_before_starting(tmp_path: object) -> None:
    code, _, err = invoke(f"sqlite:///{tmp_path}/empty.db", "serve", "--port", "0")

    assert code == 1
    assert "run `o2c db upgrade` first" in err
