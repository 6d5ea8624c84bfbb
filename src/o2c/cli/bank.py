"""Bank accounts, statement import, cash application (match, accept, reject, split, un-match)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from o2c.adapters.db.bank import BankStore
from o2c.cli.core import (
    Column,
    JsonOption,
    LimitOption,
    O2CGroup,
    OffsetOption,
    app,
    company_id,
    console,
    customer_id,
    day,
    decimal,
    fail,
    invoice_id,
    print_json,
    reading,
    run,
    say,
    table,
    today,
)
from o2c.cli.system import demo
from o2c.domain import commands as c

APPLY_CHUNK = 5000
LINE_COLUMNS: list[Column] = [
    ("id", "id"), ("booked", "booking_date"), ("amount", "amount"), ("currency", "currency"),
    ("payer", "counterparty_name"), ("text", "text"), ("status", "status"), ("kind", "kind"),
    ("score", "score"), ("proposal", "summary")]

bank = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                   help="Bank statements and cash application.")
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]


@bank.command("account-add")
def add_account(iban: Annotated[str, typer.Argument(help="IBAN (or the bank's account id).")],
                company: Annotated[str | None, typer.Option("--company")] = None,
                currency: Annotated[str | None, typer.Option("--currency")] = None,
                name: Annotated[str, typer.Option("--name")] = "") -> None:
    """Register a company bank account statements may be imported for."""
    with reading() as conn:
        owner = company_id(conn, company)
    new_id = run(c.AddBankAccount(owner, iban, currency.upper() if currency else None, name))
    say(f"bank account {new_id} registered")


@bank.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    account: Annotated[str | None, typer.Option(
        "--account", help="IBAN the file must be for.")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help="camt, mt940, ofx or csv (detected when omitted).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="CSV column-mapping profile.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import a bank statement file: checked whole first; nothing is imported twice."""
    result = run(c.ImportBankFile(file.read_bytes(), file.name, account=account,
                                  format=format, csv_profile=profile), actor="cli:bank")
    data = {"file_id": result.file_id, "format": result.format,
            "schema_validated": result.schema_validated, "statements": result.statements,
            "lines_in_file": result.lines_in_file, "imported": result.imported,
            "skipped_duplicates": result.skipped_duplicates,
            "already_imported": result.already_imported}
    if as_json:
        print_json(data)
        return
    if result.already_imported:
        say(f"{file.name}: already imported, nothing new")
        return
    say(f"{file.name} ({result.format}{', schema-validated' if result.schema_validated else ''})"
        f": {result.imported} lines imported, {result.skipped_duplicates} already known")


@bank.command("match")
def match(as_of: Annotated[str | None, typer.Option(
              "--as-of", help="Match lines booked up to this day (today by default).")] = None,
          auto: Annotated[bool, typer.Option(
              "--auto", help="Apply the proposals scored above the auto threshold.")] = False,
          auto_threshold: Annotated[str | None, typer.Option("--auto-threshold")] = None,
          review_threshold: Annotated[str | None, typer.Option("--review-threshold")] = None,
          charges_tolerance: Annotated[str | None, typer.Option(
              "--charges-tolerance", help="Short payment booked as bank charges (25.00).")
          ] = None,
          discount_tolerance: Annotated[str | None, typer.Option(
              "--discount-tolerance", help="Short payment as discount, percent (3).")] = None,
          as_json: JsonOption = False) -> None:
    """Propose a match for every open statement line; with --auto, apply the sure ones."""
    on = day(as_of, "as_of") or today()
    result = run(c.MatchBankLines(
        on, auto_threshold=decimal(auto_threshold, "auto_threshold") if auto_threshold
        else None,
        review_threshold=decimal(review_threshold, "review_threshold") if review_threshold
        else None,
        charges_tolerance=decimal(charges_tolerance, "charges_tolerance")
        if charges_tolerance else None,
        discount_tolerance_percent=decimal(discount_tolerance, "discount_tolerance")
        if discount_tolerance else None), actor="cli:bank")
    applied, errors = 0, {}
    if auto and result.auto:
        with Progress(console=console(), transient=True, disable=as_json) as progress:
            task = progress.add_task("applying", total=len(result.auto))
            for start in range(0, len(result.auto), APPLY_CHUNK):
                chunk = tuple(result.auto[start:start + APPLY_CHUNK])
                done = run(c.ApplyBankLines(chunk), actor="cli:bank")
                applied += len(done.applied)
                errors.update(done.errors)
                progress.advance(task, len(chunk))
    data = {"as_of": on, "lines": result.lines, "automatic": len(result.auto),
            "review": result.review, "unmatched": result.unmatched, "by_kind": result.by_kind,
            "applied": applied, "errors": {str(k): v for k, v in errors.items()}}
    if as_json:
        print_json(data)
        return
    say(f"{result.lines} lines: {len(result.auto)} sure, {result.review} to review, "
        f"{result.unmatched} unmatched" + (f"; {applied} applied" if auto else ""))
    for line_id, why in list(errors.items())[:20]:
        say(f"  line {line_id}: {why}", "yellow")


def _summary(row: dict[str, Any]) -> str:
    proposal = row.get("proposal") or {}
    parts = [f"{a['number']} {a['amount']}" for a in proposal.get("allocations", [])]
    if proposal.get("write_off") not in (None, "0", "0.00"):
        parts.append(f"write-off {proposal['write_off']}")
    if proposal.get("unapplied") not in (None, "0", "0.00"):
        parts.append(f"credit {proposal['unapplied']}")
    return ", ".join(parts)


@bank.command("lines")
def list_lines(status: Annotated[str | None, typer.Option(
                   "--status", help="unmatched, proposed, applied or rejected.")] = None,
               file: Annotated[int | None, typer.Option("--file", help="Bank file id.")] = None,
               limit: LimitOption = 50, offset: OffsetOption = 0,
               as_json: JsonOption = False) -> None:
    """Statement lines with their proposals, scores and reasons."""
    with reading() as conn:
        rows, total = BankStore(conn).list_lines(
            status=status, file_id=file, limit=limit, offset=offset)
    if as_json:
        print_json({"items": rows and [{k: v for k, v in r.items() if k != "dedup_key"}
                                       for r in rows], "total": total})
        return
    for row in rows:
        row["text"] = (row["structured_reference"] or row["remittance"])[:40]
        row["summary"] = _summary(row)
    console().print(table(rows, LINE_COLUMNS, f"bank lines ({total})"))


@bank.command("show")
def show_line(line: Annotated[int, typer.Argument(help="Bank line id.")],
              as_json: JsonOption = False) -> None:
    """One line: what the bank said, the proposal and every reason."""
    with reading() as conn:
        row = BankStore(conn).line(line)
    if row is None:
        raise fail(f"bank line {line} not found")
    if as_json:
        print_json(row)
        return
    say(f"line {row['id']}: {row['amount']} {row['currency']} on {row['booking_date']} "
        f"from {row['counterparty_name'] or '?'} {row['counterparty_iban']}")
    say(f"  text: {row['structured_reference']} {row['remittance']}".rstrip())
    say(f"  status {row['status']}, {row['kind'] or 'not matched'}, score {row['score']}")
    say(f"  proposal: {_summary(row) or '-'}")
    for reason in row["reasons"]:
        say(f"  - {reason}")


@bank.command("accept")
def accept(lines: Annotated[list[int], typer.Argument(help="Bank line ids.")]) -> None:
    """Apply these lines' proposals (payments, allocations, journal entries)."""
    result = run(c.ApplyBankLines(tuple(lines)), actor="cli:bank")
    say(f"{len(result.applied)} applied")
    for line_id, why in result.errors.items():
        say(f"  line {line_id}: {why}", "yellow")
    if result.errors and not result.applied:
        raise typer.Exit(2)


@bank.command("reject")
def reject(line: Annotated[int, typer.Argument()], reason: Reason = "") -> None:
    """Reject a line's proposal; it waits for a person."""
    run(c.RejectBankProposal(line, reason), actor="cli:bank")
    say(f"proposal of line {line} rejected")


@bank.command("split")
def split(line: Annotated[int, typer.Argument()],
          customer: Annotated[str, typer.Option("--customer", help="Customer code or id.")],
          allocate: Annotated[list[str] | None, typer.Option(
              "--allocate", help="INVOICE:AMOUNT (repeatable); the rest stays credit.")] = None
          ) -> None:
    """Say by hand what a line pays."""
    allocations = []
    with reading() as conn:
        payer = customer_id(conn, customer)
        for i, spec in enumerate(allocate or []):
            invoice, _, amount = spec.rpartition(":")
            if not invoice:
                raise fail(f"--allocate {spec!r}: expected INVOICE:AMOUNT")
            allocations.append(c.AllocationInput(invoice_id(conn, invoice),
                                                 decimal(amount, f"allocate[{i}]")))
    run(c.SplitBankLine(line, payer, tuple(allocations)), actor="cli:bank")
    say(f"line {line} applied as split by hand")


@bank.command("unmatch")
def unmatch(line: Annotated[int, typer.Argument()], reason: Reason,
            on: Annotated[str | None, typer.Option("--on")] = None) -> None:
    """Undo a wrongly applied line: its entries are reversed."""
    run(c.UnmatchBankLine(line, reason, on=day(on, "on")), actor="cli:bank")
    say(f"line {line} un-matched")



@bank.command("evaluate")
def evaluate_labels(labels: Annotated[Path, typer.Option(
                        "--labels", exists=True, dir_okay=False,
                        help="Labels written by `o2c demo bank-statement`.")],
                    as_json: JsonOption = False) -> None:
    """Precision and auto-match rate of the current proposals against a labelled statement."""
    import json

    from o2c.demo.bank_statement import Label, evaluate
    from o2c.domain.reconciliation import MatchConfig

    truth = [Label(x["bank_reference"], x["pattern"], x["customer_id"],
                   frozenset(x["invoice_ids"]), x["matchable"])
             for x in json.loads(labels.read_text())]
    config = MatchConfig()
    outcome: dict[str, dict[str, Any]] = {}
    with reading() as conn:
        for row in BankStore(conn).outcomes():
            score = row["score"] if row["score"] is not None else 0
            applied = row["status"] == "applied"
            outcome[row["bank_reference"]] = {
                "decision": "auto" if applied or score >= config.auto_threshold else "review",
                "kind": row["kind"], "customer_id": row["customer_id"],
                "invoice_ids": [a["invoice_id"] for a in row["proposal"].get("allocations", [])]}
    result = evaluate(truth, outcome).as_json()
    if as_json:
        print_json(result)
        return
    say(f"{result['lines']} lines, {result['matchable']} matchable: {result['automatic']} "
        f"automatic, precision {result['precision']:.2%}, auto-match rate "
        f"{result['auto_match_rate']:.2%}")


@demo.command("bank-statement")
def demo_bank_statement(
    out: Annotated[Path, typer.Option("--out", help="camt.053 file to write.")],
    labels: Annotated[Path, typer.Option("--labels", help="JSON truth to write.")],
    lines: Annotated[int, typer.Option("--lines", min=1, max=1_000_000)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    on: Annotated[str | None, typer.Option("--on", help="Booking day of the lines.")] = None,
    cold: Annotated[bool, typer.Option(
        "--cold", help="A new installation: register no payer IBAN.")] = False,
) -> None:
    """Write a labelled synthetic bank statement paying the database's open invoices, with
    the patterns real AR teams see (RF references, invoice numbers spelled many ways or
    mis-quoted, amount-only payers, several invoices at once, a parent paying for a
    subsidiary, partial, short and on-account payments, duplicates, fees, SDD debits,
    refunds); payer names as banks write them."""
    import json

    from o2c.demo.bank_statement import from_database

    content, truth = from_database(app().engine, app().bus, lines, seed=seed,
                                   on=day(on, "on"), cold=cold)
    out.write_bytes(content)
    labels.write_text(json.dumps([label.as_json() for label in truth], indent=1))
    say(f"{len(truth)} lines written to {out}, labels to {labels}")


@bank.command("payer-add")
def payer_add(iban: Annotated[str, typer.Argument(help="The payer's IBAN.")],
              customer: Annotated[str, typer.Option("--customer", help="Customer code or id.")],
              company: Annotated[str | None, typer.Option("--company")] = None,
              replace: Annotated[bool, typer.Option(
                  "--replace", help="Move an IBAN known for another customer.")] = False
              ) -> None:
    """Register a customer's bank account (an IBAN that pays for it) in master data."""
    with reading() as conn:
        owner = company_id(conn, company)
        payer = customer_id(conn, customer)
    added = run(c.RegisterPayerAccounts(owner, ((iban, payer),), replace=replace),
                actor="cli:bank")
    say(f"{added} payer IBAN registered" if added else "already known")


@bank.command("payers")
def payers(customer: Annotated[str | None, typer.Option("--customer")] = None,
           company: Annotated[str | None, typer.Option("--company")] = None,
           as_json: JsonOption = False) -> None:
    """Customers' bank accounts: known payer IBANs and where they come from."""
    with reading() as conn:
        owner = company_id(conn, company)
        rows = BankStore(conn).payer_accounts(
            owner, customer_id(conn, customer) if customer else None)
    if as_json:
        print_json(rows)
        return
    console().print(table(rows, [("customer", "code"), ("IBAN", "iban"), ("source", "source")]))


@bank.command("payers-from-history")
def payers_from_history(company: Annotated[str | None, typer.Option("--company")] = None
                        ) -> None:
    """Learn payer IBANs from received payments: an IBAN that paid one customer only."""
    with reading() as conn:
        owner = company_id(conn, company)
    added = run(c.ImportPayerAccountsFromHistory(owner), actor="cli:bank")
    say(f"{added} payer IBANs learnt from payment history")


@bank.command("group-set")
def group_set(customer: Annotated[str, typer.Argument(help="Customer code or id.")],
              parent: Annotated[str | None, typer.Option(
                  "--parent", help="The parent that pays for it; omit to leave the group.")]
              = None) -> None:
    """Put a customer in a group: its parent pays its invoices."""
    with reading() as conn:
        child = customer_id(conn, customer)
        parent_id = customer_id(conn, parent, "parent") if parent else None
    run(c.SetCustomerParent(child, parent_id), actor="cli:bank")
    say(f"customer {customer} " + (f"is in {parent}'s group" if parent else "has no group"))
