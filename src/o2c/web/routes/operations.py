"""Back-office operations: the background jobs, failed ones first, with retry and cancel
(the same commands as the API's)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import jobs as job_store
from o2c.adapters.db.queries import Page
from o2c.domain import commands as c
from o2c.domain.errors import NotFound
from o2c.web.access import can, require
from o2c.web.render import FormError, app_of, check_csrf, execute, formatter, page, read, redirect
from o2c.web.routes import FormData, PageId, paging, web_router

operations = web_router()

JOB_STATUSES = ("failed", "todo", "doing", "succeeded", "cancelled")
JOB_ACTIONS = {"retry": "retry_job", "cancel": "cancel_job"}


@operations.get("/jobs", name="web_jobs", response_class=HTMLResponse)
def jobs(request: Request) -> Response:
    status = request.query_params.get("status", "failed")
    if status not in JOB_STATUSES:
        status = "failed"
    wanted = paging(request, 50)
    with read(request) as conn:
        found, total = app_of(request).jobs.list_jobs(conn, status, wanted.limit,
                                                       wanted.offset)
        runs, _ = job_store.recent_runs(conn, 5)
    listed = Page([asdict(job) for job in found], total, wanted.limit, wanted.offset)
    return page(request, "jobs.html", page=listed, status=status, statuses=JOB_STATUSES,
                runs=runs,
                can_act=can(request, "retry_job"))


@operations.post("/jobs/{job_id}/{action}", name="web_job_action",
                 response_class=HTMLResponse)
def job_action(request: Request, job_id: PageId, action: str, form: FormData) -> Response:
    fmt = formatter(request)
    check_csrf(request, form)
    operation = JOB_ACTIONS.get(action)
    if operation is None:
        raise NotFound("action", action)
    require(request, operation)
    command = c.RetryJob(job_id) if action == "retry" else c.CancelJob(job_id)
    try:
        execute(request, command)
    except FormError as error:
        return redirect(request, "/jobs", error.first, "error")
    done = "Job {id} will run again." if action == "retry" else "Job {id} cancelled."
    return redirect(request, "/jobs", fmt.gettext(done, id=job_id))
