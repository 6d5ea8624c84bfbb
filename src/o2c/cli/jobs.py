"""`o2c jobs`: background jobs (failed ones to retry or cancel) and chunked runs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from o2c.adapters.db import jobs as job_store
from o2c.cli.core import (
    JsonOption,
    LimitOption,
    O2CGroup,
    OffsetOption,
    app,
    console,
    print_json,
    run,
    say,
    table,
)
from o2c.domain import commands as c

jobs = typer.Typer(cls=O2CGroup, no_args_is_help=True,
                   help="Background jobs: list, retry, cancel; chunked runs.")


@jobs.command("list")
def list_jobs(status: Annotated[str | None, typer.Option(
                  help="failed, todo, doing, succeeded, cancelled.")] = "failed",
              limit: LimitOption = 50, offset: OffsetOption = 0,
              as_json: JsonOption = False) -> None:
    """Jobs, newest first, with the error of their last failed attempt (failed ones by
    default). On SQLite: the jobs of this process only (they run inside `o2c serve`)."""
    o2c = app()
    with o2c.engine.connect() as conn:
        found, total = o2c.jobs.list_jobs(conn, status or None, limit, offset)
    rows: list[dict[str, Any]] = [asdict(job) for job in found]
    if as_json:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    console().print(table(rows, [("Id", "id"), ("Task", "task"), ("Status", "status"),
                                 ("Attempts", "attempts"), ("Error", "error")],
                          title=f"{total} job(s)"))


@jobs.command("retry")
def retry(job_id: int) -> None:
    """Run a failed job again now."""
    run(c.RetryJob(job_id))
    say(f"job {job_id} will run again")


@jobs.command("cancel")
def cancel(job_id: int) -> None:
    """Cancel a waiting job, or give up a failed one."""
    run(c.CancelJob(job_id))
    say(f"job {job_id} cancelled")


@jobs.command("deliver-run")
def deliver_run(chunk_size: Annotated[int, typer.Option(min=1, max=10000)] = 100,
                as_json: JsonOption = False) -> None:
    """Split the invoice e-mails due now into chunks, one job each, for `o2c worker`
    processes to run in parallel."""
    o2c = app()
    run_id = run(c.PlanDeliveryRun(chunk_size))
    with o2c.engine.connect() as conn:
        progress = job_store.run_progress(conn, run_id)
    if as_json:
        print_json(progress)
        return
    say(f"run {run_id}: {progress['items']} e-mails in {progress['chunks']} chunks")


@jobs.command("runs")
def runs(limit: LimitOption = 20, offset: OffsetOption = 0, as_json: JsonOption = False
         ) -> None:
    """Chunked runs, newest first, with their progress."""
    with app().engine.connect() as conn:
        found, total = job_store.recent_runs(conn, limit, offset)
    if as_json:
        print_json({"items": found, "total": total, "limit": limit, "offset": offset})
        return
    console().print(table(found, [("Id", "id"), ("Kind", "kind"), ("Records", "items"),
                                  ("Chunks", "chunks"), ("Done", "chunks_done")],
                          title=f"{total} run(s)"))
