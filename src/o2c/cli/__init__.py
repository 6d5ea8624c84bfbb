"""The `o2c` command line: master data, orders, shipping, invoices, payments, the ledger,
the demo simulator and the server, on the database named by O2C_DATABASE_URL (or
--database-url). Lists and reports print Rich tables, or JSON with --json; domain errors print
`error: <message> (field: x)` and exit with code 2."""

from __future__ import annotations

from typing import Annotated

import typer

from o2c.cli import bank, documents, jobs, masterdata, receivables, sales, security, system
from o2c.cli.core import O2CGroup, State, use_state

app = typer.Typer(
    cls=O2CGroup, no_args_is_help=True, pretty_exceptions_show_locals=False,
    help="o2c: order-to-cash from the command line.")


@app.callback()
def root(ctx: typer.Context,
         database_url: Annotated[str | None, typer.Option(
             "--database-url", envvar="O2C_DATABASE_URL", show_envvar=True,
             help="SQLAlchemy URL of the database (default sqlite:///var/o2c.db).")] = None
         ) -> None:
    state = State(database_url)
    use_state(state)
    ctx.call_on_close(state.close)


for group, name in [
    (system.db, "db"), (masterdata.companies, "company"), (masterdata.customers, "customer"),
    (masterdata.products, "product"), (masterdata.stock, "stock"),
    (masterdata.vat_rates, "vat-rate"), (masterdata.fx_rates, "fx-rate"),
    (masterdata.terms, "terms"), (masterdata.warehouses, "warehouse"),
    (sales.orders, "order"), (sales.shipments, "shipment"), (receivables.invoices, "invoice"),
    (receivables.credit_notes, "credit-note"), (receivables.payments, "payment"),
    (receivables.allocations, "allocation"), (receivables.ledger, "ledger"),
    (system.demo, "demo"),
    (bank.bank, "bank"),
]:
    app.add_typer(group, name=name)
app.command("events")(receivables.events)
# invoice documents and e-invoicing (issue 6): `invoice render|check`, `customer documents`
app.add_typer(documents.outbox, name="outbox")
app.command("serve")(system.serve)
app.command("worker")(system.worker)  # background jobs (issue 19)
app.add_typer(jobs.jobs, name="jobs")

# -- security (issue 3) ------------------------------------------------------------------------
for group, name in [(security.users, "user"), (security.tokens, "token"),
                    (security.audit, "audit"), (security.gdpr, "gdpr")]:
    app.add_typer(group, name=name)
system.db.command("grant-app-role")(security.grant_app_role)


def main() -> None:
    app()


__all__ = ["app", "main"]
