"""The interactive API documentation at /docs, from Swagger UI assets shipped in the package
(static/swagger-ui, see its README for source and licence): it works offline and needs no
inline script."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

ASSETS = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_URL = "/docs/assets"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>o2c API</title>
<link rel="icon" type="image/png" href="{ASSETS_URL}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_URL}/o2c-docs.js"></script>
</body>
</html>
"""


def install(api: FastAPI) -> None:
    """Serve /docs and its assets (public, like the OpenAPI document it shows)."""
    api.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    def docs(_: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    api.add_route("/docs", docs, include_in_schema=False)
