"""The application a server runs: the REST API and the web pages in one ASGI app.

    uvicorn --factory o2c.server:create_app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from o2c import web
from o2c.api.app import create_app as create_api
from o2c.api.permissions import allowed
from o2c.bootstrap import App


def create_app(app: App | None = None) -> FastAPI:
    server = create_api(app)
    web.install(server, allowed)
    _run_jobs_in_process(server)
    return server


def _run_jobs_in_process(server: FastAPI) -> None:
    """On SQLite (or with O2C_INPROCESS_WORKER=1) the server runs the background jobs and
    their schedules itself, in a thread, from startup to shutdown."""
    o2c: App = server.state.o2c
    if not o2c.settings.runs_jobs_in_process:
        return
    previous = server.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        o2c.jobs.start_in_background()
        try:
            async with previous(application) as state:
                yield state
        finally:
            o2c.jobs.stop()

    server.router.lifespan_context = lifespan
