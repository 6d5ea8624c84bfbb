"""Operations: background jobs (the failed-jobs view: list, retry, cancel), Prometheus
metrics, liveness and readiness."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from o2c.adapters import metrics
from o2c.adapters.db import health
from o2c.adapters.db import jobs as job_store
from o2c.api.deps import AppDep, Bus, Conn, Paging
from o2c.api.routes import router
from o2c.api.schemas.common import Id, Model, Page
from o2c.domain import commands as c

jobs = router("jobs")
probes = APIRouter(tags=["operations"])

JobStatus = Literal["todo", "doing", "succeeded", "failed", "cancelled", "aborting",
                    "aborted"]


class JobOut(Model):
    id: int
    task: str = Field(description="o2c.deliver_invoice, o2c.deliver_chunk...")
    status: str
    queue: str
    attempts: int = Field(description="attempts made so far")
    scheduled_at: datetime | None = Field(description="when it is due (retries: later)")
    args: dict[str, Any]
    error: str = Field(description="the error of its last failed attempt, if any")


class JobActionOut(Model):
    id: int
    status: str


class RunOut(Model):
    id: int
    kind: str = Field(description="deliver_invoices")
    key: str
    as_of: datetime
    items: int = Field(description="records the run covers")
    chunks: int
    chunks_done: int
    progress: float = Field(description="share of chunks done, 0 to 1")


class RunIn(Model):
    chunk_size: int = Field(100, ge=1, le=10000, description="records per chunk (per job)")


@jobs.get("/jobs/runs", response_model=Page[RunOut])
def list_job_runs(conn: Conn, page: Paging) -> dict[str, Any]:
    """Chunked runs, newest first, with their progress."""
    found, total = job_store.recent_runs(conn, page.limit, page.offset)
    return {"items": found, "total": total, "limit": page.limit, "offset": page.offset}


@jobs.post("/jobs/runs", response_model=RunOut, status_code=201)
def plan_delivery_run(bus: Bus, body: RunIn | None = None) -> JSONResponse:
    """Split the invoice e-mails due now into chunks, one job each, for the workers to run
    in parallel."""
    body = body or RunIn()

    def present(conn: Connection, run_id: int) -> RunOut:
        return RunOut(**job_store.run_progress(conn, run_id) | {
            "as_of": job_store.run_as_of(conn, run_id)})

    return bus.run(c.PlanDeliveryRun(body.chunk_size), present, payload=body,
                   status_code=201)


@jobs.get("/jobs", response_model=Page[JobOut])
def list_jobs(app: AppDep, conn: Conn, page: Paging,
              status: Annotated[JobStatus | None, Query(
                  description="failed: the jobs to act on (retry or cancel)")] = None
              ) -> dict[str, Any]:
    """Background jobs, newest first, with the error of each one's last failed attempt. On
    SQLite (jobs in-process) the jobs since the server started."""
    found, total = app.jobs.list_jobs(conn, status, page.limit, page.offset)
    return {"items": [JobOut(id=j.id, task=j.task, status=j.status, queue=j.queue,
                             attempts=j.attempts, scheduled_at=j.scheduled_at, args=j.args,
                             error=j.error) for j in found],
            "total": total, "limit": page.limit, "offset": page.offset}


def _presenter(status: str) -> Any:
    def present(conn: Connection, job_id: int) -> JobActionOut:
        return JobActionOut(id=job_id, status=status)
    return present


@jobs.post("/jobs/{job_id}/retry", response_model=JobActionOut)
def retry_job(job_id: Id, bus: Bus) -> JSONResponse:
    """Run a failed job again now."""
    return bus.run(c.RetryJob(job_id), _presenter("todo"))


@jobs.post("/jobs/{job_id}/cancel", response_model=JobActionOut)
def cancel_job(job_id: Id, bus: Bus) -> JSONResponse:
    """A waiting job will not run; a failed one is given up (leaves the failed list)."""
    return bus.run(c.CancelJob(job_id), _presenter("cancelled"))


@probes.get("/metrics", response_class=Response)
def metrics_endpoint(app: AppDep) -> Response:
    """Prometheus metrics (text format)."""
    return Response(metrics.exposition(app.engine, app.clock),
                    media_type=metrics.CONTENT_TYPE)


@probes.get("/health/live")
def health_live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@probes.get("/health/ready")
def health_ready(app: AppDep) -> JSONResponse:
    """Ready for traffic: the database answers, its schema is the code's, and the job queue
    is not stuck (no job due for longer than O2C_QUEUE_STUCK_SECONDS, default 600). 503
    with the failed checks otherwise."""
    checks = health.readiness(app.engine, app.clock(), app.settings.queue_stuck_seconds,
                              in_process_worker=app.jobs.running
                              if app.settings.runs_jobs_in_process else None)
    ok = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)
