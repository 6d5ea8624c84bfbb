"""Back-office web UI and customer portal: server-rendered Jinja2 pages enhanced by htmx,
served by the same app as the API and calling the same services and queries."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(api: FastAPI) -> None:
    """Mount the pages and their static assets on the API's app."""
    from o2c.web.routes.backoffice import backoffice
    from o2c.web.routes.portal import portal

    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    api.include_router(backoffice)
    api.include_router(portal)
