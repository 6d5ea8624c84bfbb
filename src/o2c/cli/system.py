"""The database schema, the demo simulator and the server."""

from __future__ import annotations

import os
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from o2c.adapters.db import migrate
from o2c.cli.core import O2CGroup, console, day, money, print_json, say, state, table
from o2c.config import Settings
from o2c.demo import DEFAULT_END_DATE, SeedOptions, SeedReport, seed

db = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="The database schema.")


@db.command("upgrade")
def upgrade(revision: Annotated[str, typer.Option(
        "--revision", help="Alembic revision to upgrade to.")] = "head") -> None:
    """Create or upgrade the schema (Alembic)."""
    engine = state().engine()
    migrate.upgrade(engine, revision)
    say(f"database {engine.url.render_as_string(hide_password=True)} is at revision "
        f"{migrate.current(engine)}")


@db.command("current")
def current() -> None:
    """The schema revision the database is at."""
    revision = migrate.current(state().engine())
    say(revision if revision else "no o2c schema yet: run `o2c db upgrade`")


demo = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="The demo business simulator.")


@demo.command("seed")
def seed_demo(
    customers: Annotated[int, typer.Option("--customers", help="How many customers.")] = 200,
    orders: Annotated[int, typer.Option("--orders", help="Orders over the period.")] = 5000,
    seed_value: Annotated[int, typer.Option(
        "--seed", help="Same seed, same data (ids, numbers, amounts).")] = 42,
    end_date: Annotated[str | None, typer.Option(
        "--end-date", "--as-of",
        help="Last simulated day (default today, so the demo is current when the app runs "
             f"as of today; give a date, e.g. {DEFAULT_END_DATE}, for the same data on any "
             "day).")] = None,
    days: Annotated[int, typer.Option("--days", help="Length of the simulated period.")] = 365,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fill an empty database with a year of a believable business: an Italian distributor
    selling to customers in six countries, through every stage from order to cash."""
    last = day(end_date, "end_date") or date.today()
    options = SeedOptions(customers=customers, orders=orders, seed=seed_value, end_date=last,
                          days=days)
    app = state().app()
    if quiet or as_json or not sys.stderr.isatty():
        report = seed(app.engine, options)
    else:
        with Progress(TextColumn("simulating {task.description}"), BarColumn(),
                      MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(f"{options.first_day} to {last}", total=options.days)
            report = seed(app.engine, options,
                          progress=lambda done, _total: bar.update(task, completed=done))
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.ledger_ok:
        raise typer.Exit(1)


def _print_report(report: SeedReport) -> None:
    out = console()
    say(f"simulated {report.first_day} to {report.last_day}: {report.commands:,} commands in "
        f"{report.seconds:.1f} s", "bold")
    out.print(table([report.counts], [(k.replace("_", " "), k) for k in report.counts]))
    out.print(table([report.orders_by_state], [(k, k) for k in report.orders_by_state],
                    "orders by state"))
    out.print(table([report.shipments_by_state], [(k, k) for k in report.shipments_by_state],
                    "shipments by state"))
    out.print(table([report.invoices_by_payment_status],
                    [(k.replace("_", " "), k) for k in report.invoices_by_payment_status],
                    "invoices by payment status"))
    cur = report.company_currency
    rows = [{"currency": code, "open": amount, "overdue": report.overdue.get(code)}
            for code, amount in report.open_receivables.items()]
    out.print(table(rows, [("currency", "currency"), ("open receivables", "open"),
                           ("overdue", "overdue")], f"receivables on {report.last_day}"))
    say(f"{report.overdue_invoices} invoices overdue on {report.last_day} (the dashboard's "
        "figure for that day)")
    say(f"accounts receivable control account: {money(report.receivable_company, cur)}")
    say("the ledger verifies" if report.ledger_ok else "the ledger does NOT verify",
        "bold green" if report.ledger_ok else "bold red")


def serve(host: Annotated[str | None, typer.Option(
              "--host", help="Interface to listen on (O2C_HOST, default 127.0.0.1).")] = None,
          port: Annotated[int | None, typer.Option(
              "--port", help="Port (O2C_PORT, default 8000).")] = None) -> None:
    """Serve the REST API (OpenAPI at /docs) with uvicorn. On SQLite background jobs run
    inside the server (O2C_INPROCESS_WORKER=0 turns that off); on PostgreSQL they run in
    `o2c worker` processes."""
    import uvicorn

    from o2c.adapters import logs

    current = state()
    settings = current.settings()
    logs.configure(settings.log_format)
    current.app()  # fails early, with a hint, when the schema is missing
    # uvicorn builds the app itself (o2c.server:create_app: API and web pages), from the
    # environment: hand it the database this command was given.
    os.environ["O2C_DATABASE_URL"] = settings.database_url
    os.environ["O2C_INPROCESS_WORKER"] = "1" if settings.serves_jobs_by_default else "0"
    uvicorn.run("o2c.server:create_app", factory=True, host=host or settings.host,
                port=port or settings.port, log_config=None, access_log=False,
                **proxy_options(settings))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local caller could
    pose as another address: only the proxies named in O2C_TRUSTED_PROXIES are believed."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.trusted_proxies}


def worker(concurrency: Annotated[int, typer.Option(
               "--concurrency", min=1, max=64,
               help="Jobs this worker runs at the same time.")] = 1,
           queues: Annotated[str, typer.Option(
               "--queues", help="Comma-separated queues to take jobs from (mail, batch, "
                                "default); all when empty.")] = "",
           once: Annotated[bool, typer.Option(
               "--once", help="Stop when no job is waiting, instead of waiting for more.")
           ] = False) -> None:
    """Run background jobs: e-mail delivery, chunked runs, the schedules (O2C_SCHEDULES).
    On PostgreSQL start as many workers as you like, on any machine: each job is taken by
    one. On SQLite the jobs run inside `o2c serve`; this runs the schedules in the
    foreground instead."""
    from o2c.adapters import logs

    current = state()
    settings = current.settings()
    logs.configure(settings.log_format)
    o2c = current.app()
    names = [q.strip() for q in queues.split(",") if q.strip()] or None
    say(f"worker on {o2c.engine.url.render_as_string()}: queues {', '.join(names or ['all'])}, "
        f"concurrency {concurrency}")
    o2c.jobs.run_worker(concurrency, names, wait=not once)
