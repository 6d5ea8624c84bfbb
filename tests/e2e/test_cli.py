"""The `o2c` command line (Typer's CliRunner) against a real, migrated SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.cli import app as cli_app
from tests.fixtures.world import World, build_world

D = Decimal
DAY = "2026-03-02"
Cli = Callable[..., Result]


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli_app, ["--database-url", url, *args])


@pytest.fixture
def o2c(db_url: str) -> Cli:
    def run(*args: str, code: int = 0) -> Result:
        result = invoke(db_url, *args)
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


@pytest.fixture
def world(app: App) -> World:
    """Company ACME, terms, VAT, a USD rate, warehouse MIL, products CHAIR/DESK/BOOK/SCREW with
    100 in stock, customers C-00001 (Rossi, IT, limit 5000), C-00002 (Dupont, FR),
    C-00003 (Smith & Co, US, USD)."""
    return build_world(app.bus)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout, parse_float=Decimal)


def test_upgrade_creates_the_schema_that_other_commands_ask_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "no o2c schema yet" in invoke(url, "db", "current").stdout
    before = invoke(url, "customer", "list")
    assert before.exit_code == 1
    assert "run `o2c db upgrade` first" in before.stderr
    assert "Traceback" not in before.output

    upgraded = invoke(url, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert invoke(url, "db", "current").stdout.strip() == "0015"
    after = invoke(url, "customer", "list")
    assert after.exit_code == 0
    assert "no customers found" in after.stdout


def test_master_data_and_an_order_are_created_from_the_command_line(o2c: Cli) -> None:
    o2c("company", "create", "ACME", "Acme S.r.l.", "--country", "IT", "--currency", "EUR",
        "--vat-id", "IT00743110157", "--iban", "IT60 X054 2811 1010 0000 0123 456")
    o2c("terms", "create", "NET30", "Net 30 days", "--line", "100:30")
    o2c("terms", "create", "3060", "Half at 30, half at 60", "--line", "50:30",
        "--line", "50:60", "--discount", "2", "--discount-days", "10")
    o2c("vat-rate", "set", "IT", "standard", "22", "--from", "2020-01-01")
    o2c("fx-rate", "set", "USD", "0.92", "--on", "2026-01-01")
    o2c("warehouse", "create", "MIL", "Milano")
    o2c("product", "create", "CHAIR", "Office chair", "--price", "120.00",
        "--price-in", "USD:131.50")
    o2c("stock", "receive", "CHAIR", "10", "--reference", "DDT 1", "--on", DAY)
    created = o2c("customer", "create", "Rossi S.p.A.", "--country", "IT",
                  "--vat-id", "00743110157", "--credit-limit", "5000", "--language", "it")
    assert "created customer C-00001 Rossi S.p.A." in created.stdout

    order = o2c("order", "create", "--customer", "C-00001", "--line", "CHAIR:2",
                "--line", "CHAIR:1:99.90", "--date", DAY, "--reference", "PO-7")
    assert "created order SO-000001 (draft)" in order.stdout
    assert "gross 414.68 EUR" in order.stdout  # (240.00 + 99.90) x 1.22

    shown = as_json(o2c("order", "show", "SO-000001", "--json"))
    assert shown["state"] == "draft"
    assert [line["unit_price"] for line in shown["lines"]] == ["120", "99.9"]
    terms = as_json(o2c("terms", "list", "--json"))["items"]
    assert {x["code"]: x["discount_percent"] for x in terms} == {"3060": "2", "NET30": "0"}
    stock = as_json(o2c("stock", "list", "--json"))["items"]
    assert stock[0]["available"] == "10"


def test_confirm_names_the_credit_hold_reason_and_release_reserves_the_stock(
        o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00001", "--line", "DESK:12", "--date", DAY)

    held = o2c("order", "confirm", "SO-000001", "--on", DAY)
    assert "SO-000001 is on CREDIT HOLD" in held.stdout
    assert "would exceed the credit limit 5,000.00 EUR" in held.stdout

    released = o2c("order", "release", "SO-000001", "--reason", "paid in advance", "--on", DAY)
    assert "released from credit hold and confirmed" in released.stdout
    assert "reserved on shipment SHP-000001" in released.stdout
    orders = as_json(o2c("order", "list", "--state", "confirmed", "--json"))
    assert [o["number"] for o in orders["items"]] == ["SO-000001"]


def test_confirm_lists_what_goes_on_backorder(o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00002", "--line", "CHAIR:120", "--date", DAY)

    confirmed = as_json(o2c("order", "confirm", "SO-000001", "--on", DAY, "--json"))

    assert confirmed["state"] == "confirmed" and confirmed["approved"] is True
    assert confirmed["shipments"] == ["SHP-000001"]
    assert confirmed["backorder"] == [{"line_no": 1, "sku": "CHAIR", "quantity": "20"}]


def test_shipping_posts_the_invoice_and_a_payment_settles_it(o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00001", "--line", "CHAIR:3", "--line", "BOOK:2",
        "--date", DAY)
    o2c("order", "confirm", "SO-000001", "--on", DAY)
    o2c("shipment", "pick", "SHP-000001", "--on", DAY)
    o2c("shipment", "pack", "SHP-000001", "--packages", "2", "--on", DAY)

    shipped = o2c("shipment", "ship", "SHP-000001", "--carrier", "BRT", "--tracking", "X1",
                  "--qty", "CHAIR:2", "--on", DAY)

    # 2 x 120.00 at 22% + 2 x 19.90 at 4%
    assert "invoice INV-2026-00001 posted: 334.19 EUR, due 2026-04-01" in shipped.stdout
    assert "the rest waits on shipment SHP-000002" in shipped.stdout
    paid = o2c("payment", "record", "--customer", "C-00001", "--amount", "400.00",
               "--currency", "EUR", "--allocate", "INV-2026-00001:334.19", "--on", DAY,
               "--reference", "bonifico")
    assert "applied 334.19 EUR to INV-2026-00001" in paid.stdout
    assert "unapplied (customer credit): 65.81 EUR" in paid.stdout
    invoices = as_json(o2c("invoice", "list", "--customer", "C-00001", "--as-of", DAY,
                           "--json"))
    assert [(i["number"], i["payment_status"], i["residual"]) for i in invoices["items"]] == [
        ("INV-2026-00001", "paid", "0.00")]
    payments = as_json(o2c("payment", "list", "--unapplied", "--json"))
    assert [p["unapplied"] for p in payments["items"]] == ["65.81"]


def test_ledger_verify_exits_0_when_the_books_balance_and_1_when_they_do_not(
        o2c: Cli, world: World, app: App) -> None:
    o2c("order", "create", "--customer", "C-00002", "--line", "DESK:1", "--date", DAY)
    o2c("order", "confirm", "SO-000001", "--on", DAY)
    for step in ("pick", "pack", "ship"):
        o2c("shipment", step, "SHP-000001", "--on", DAY)

    report = as_json(o2c("ledger", "verify", "--json"))
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]] == [
        "every entry balances", "trial balance is zero",
        "AR sub-ledger equals the receivable control account",
        "customer credit sub-ledger equals its control account"]

    with app.engine.begin() as conn:  # someone edits the books behind the system's back
        line_id = conn.execute(select(func.min(t.journal_lines.c.id))
                               .where(t.journal_lines.c.debit > 0)).scalar_one()
        conn.execute(update(t.journal_lines).where(t.journal_lines.c.id == line_id)
                     .values(debit=t.journal_lines.c.debit + D("1.00")))
    broken = as_json(o2c("ledger", "verify", "--json", code=1))
    assert broken["ok"] is False
    assert {c["check"] for c in broken["checks"] if not c["ok"]} >= {
        "every entry balances", "trial balance is zero"}
    assert "does NOT verify" in o2c("ledger", "verify", code=1).stdout


def test_json_lists_carry_exact_decimal_strings_and_iso_dates(o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00003", "--line", "SCREW:1000:0.034567",
        "--date", DAY)

    orders = as_json(o2c("order", "list", "--customer", "C-00003", "--json"))
    products = as_json(o2c("product", "list", "--q", "SCREW", "--json"))
    balance = as_json(o2c("ledger", "trial-balance", "--json"))

    [order] = orders["items"]
    assert order["gross_amount"] == "34.57" and order["currency"] == "USD"  # export: no VAT
    assert order["order_date"] == DAY
    assert products["items"][0]["unit_price"] == "0.034567"
    assert {k: orders[k] for k in ("total", "limit", "offset")} == {
        "total": 1, "limit": 50, "offset": 0}
    assert balance["balanced"] is True and balance["currency"] == "EUR"
    assert all(isinstance(a["debit"], str) for a in balance["accounts"])


def test_list_pages_with_limit_and_offset(o2c: Cli, world: World) -> None:
    first = as_json(o2c("customer", "list", "--limit", "2", "--json"))
    second = as_json(o2c("customer", "list", "--limit", "2", "--offset", "2", "--json"))

    assert first["total"] == second["total"] == 3
    assert [c["code"] for c in first["items"] + second["items"]] == [
        "C-00001", "C-00002", "C-00003"]
    table = o2c("customer", "list", "--limit", "2").stdout
    assert "customers 1-2 of 3 (next page: --offset 2)" in table


@pytest.mark.parametrize(("args", "message"), [
    (("payment", "record", "--customer", "C-00001", "--amount", "12,5x", "--currency", "EUR"),
     "error: '12,5x' is not a number (field: amount)"),
    (("payment", "record", "--customer", "C-00001", "--amount", "10.00", "--currency", "USD"),
     "error: currency USD does not match EUR (field: currency)"),
    (("order", "create", "--customer", "C-09999", "--line", "CHAIR:1"),
     "error: customer C-09999 does not exist (field: customer)"),
    (("order", "create", "--customer", "C-00001", "--line", "CHAIR:-1"),
     "error: quantity must be greater than zero, got -1 (field: lines[0].quantity)"),
    (("order", "create", "--customer", "C-00001", "--line", "CHAIR"),
     "error: 'CHAIR' does not have the form this option expects (field: lines[0])"),
    (("order", "confirm", "SO-000042"), "error: order 42 does not exist"),
    (("invoice", "list", "--from", "2026-13-01"),
     "error: '2026-13-01' is not a date (use YYYY-MM-DD) (field: from)"),
])
def test_bad_input_exits_2_with_a_one_line_message_and_writes_nothing(
        o2c: Cli, world: World, app: App, args: tuple[str, ...], message: str) -> None:
    with app.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.event_log)).scalar_one()

    result = o2c(*args, code=2)

    assert result.stderr.strip() == message
    assert "Traceback" not in result.output
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.event_log)).scalar_one() == before


def test_events_show_an_orders_audit_trail_with_its_actors(o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00002", "--line", "BOOK:1", "--date", DAY)
    o2c("order", "confirm", "SO-000001", "--on", DAY)
    o2c("shipment", "pick", "SHP-000001", "--on", DAY)

    trail = as_json(o2c("events", "order", "SO-000001", "--json"))["items"]
    shipment = as_json(o2c("events", "shipment", "SHP-000001", "--json"))["items"]

    assert [(e["event"], e["actor"]) for e in trail] == [
        ("created", "cli"), ("confirmed", "cli"), ("reserved", "cli")]
    assert [e["event"] for e in shipment] == ["created", "picked"]
    assert shipment[1]["actor"] == "cli:warehouse"
    o2c("events", "order", "SO-000077", code=2)


def test_credit_note_for_a_returned_line_settles_the_unpaid_invoice(
        o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00001", "--line", "CHAIR:4", "--date", DAY)
    o2c("order", "confirm", "SO-000001", "--on", DAY)
    for step in ("pick", "pack", "ship"):
        o2c("shipment", step, "SHP-000001", "--on", DAY)
    invoice = as_json(o2c("invoice", "show", "INV-2026-00001", "--json"))
    line_id = invoice["lines"][0]["id"]

    note = o2c("credit-note", "create", "INV-2026-00001", "--line", f"{line_id}:1",
               "--reason", "one chair damaged", "--on", DAY)

    assert "credit note CN-2026-00001 posted for INV-2026-00001: 146.40 EUR" in note.stdout
    after = as_json(o2c("invoice", "show", "INV-2026-00001", "--as-of", DAY, "--json"))
    assert after["residual"] == "439.20" and after["payment_status"] == "partially_paid"


def test_a_payment_can_be_allocated_later_reversed_and_its_allocation_undone(
        o2c: Cli, world: World) -> None:
    o2c("order", "create", "--customer", "C-00001", "--line", "BOOK:10", "--date", DAY)
    o2c("order", "confirm", "SO-000001", "--on", DAY)
    for step in ("pick", "pack", "ship"):
        o2c("shipment", step, "SHP-000001", "--on", DAY)
    o2c("payment", "record", "--customer", "C-00001", "--amount", "250.00", "--currency",
        "EUR", "--on", DAY)

    allocated = o2c("payment", "allocate", "PAY-000001", "--auto", "--on", DAY)
    assert "applied 206.96 EUR to INV-2026-00001" in allocated.stdout
    o2c("payment", "reverse", "PAY-000001", "--reason", "recorded twice", code=2)
    [allocation] = as_json(o2c("payment", "show", "PAY-000001", "--json"))["allocations"]
    undone = o2c("allocation", "reverse", str(allocation["id"]), "--reason", "wrong customer",
                 "--on", DAY)
    assert "no longer settles INV-2026-00001" in undone.stdout
    o2c("payment", "reverse", "PAY-000001", "--reason", "wrong customer", "--on", DAY)
    assert as_json(o2c("payment", "show", "PAY-000001", "--json"))["state"] == "reversed"
    assert as_json(o2c("ledger", "verify", "--json"))["ok"] is True


def test_a_warehouse_set_to_ship_only_ships_confirmed_orders_without_pick_and_pack(
        o2c: Cli, world: World) -> None:
    changed = o2c("warehouse", "set-route", "MIL", "ship_only")
    assert "new shipments follow the ship_only route" in changed.stdout
    listed = as_json(o2c("warehouse", "list", "--json"))["items"]
    assert [(w["code"], w["delivery_route"]) for w in listed] == [("MIL", "ship_only")]
    o2c("order", "create", "--customer", "C-00001", "--line", "CHAIR:1", "--date", DAY)
    confirmed = o2c("order", "confirm", "SO-000001", "--on", DAY)
    assert "reserved on shipment SHP-000001, ready to ship" in confirmed.stdout
    refused = o2c("shipment", "pick", "SHP-000001", code=2)
    assert "has no pick step" in refused.stderr
    shipped = o2c("shipment", "ship", "SHP-000001", "--packages", "2", "--on", DAY)
    assert "SHP-000001 shipped" in shipped.stdout
    shown = as_json(o2c("shipment", "show", "SHP-000001", "--json"))
    assert (shown["route"], shown["state"], shown["packages"], shown["next_step"]) == (
        "ship_only", "shipped", 2, "deliver")
    bad = o2c("warehouse", "set-route", "MIL", "drone", code=2)
    assert "delivery_route must be one of" in bad.stderr
