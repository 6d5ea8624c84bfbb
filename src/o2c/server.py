"""The application a server runs: the REST API and the web pages in one ASGI app.

    uvicorn --factory o2c.server:create_app
"""

from __future__ import annotations

from fastapi import FastAPI

from o2c import web
from o2c.api.app import create_app as create_api
from o2c.api.permissions import allowed
from o2c.bootstrap import App


def create_app(app: App | None = None) -> FastAPI:
    server = create_api(app)
    web.install(server, allowed)
    return server
