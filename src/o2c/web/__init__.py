"""Back-office web UI and customer portal: server-rendered Jinja2 pages enhanced by htmx,
served by the same app as the API and calling the same services and queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from o2c.web.access import Permission

STATIC = Path(__file__).parent / "static"


def _page_language(request: Request) -> dict[str, Any]:
    """The language of a page outside the back-office (the sign-in page of o2c.api): its
    code, translator and the languages to switch to, as the back-office negotiates them."""
    from o2c.web.i18n import LANGUAGE_NAMES, LANGUAGES
    from o2c.web.render import LANGUAGE_COOKIE, formatter
    fmt = formatter(request)
    return {"lang": fmt.language, "_": fmt.gettext, "languages": LANGUAGES,
            "language_names": LANGUAGE_NAMES, "language_cookie": LANGUAGE_COOKIE}


def install(api: FastAPI, allowed: Permission) -> None:
    """Mount the pages and their static assets on the API's app; `allowed(operation, role)`
    is the permission table the pages show buttons and sections by."""
    from o2c.web.errors import install_page_errors
    from o2c.web.routes.backoffice import backoffice
    from o2c.web.routes.bank import bank_pages
    from o2c.web.routes.cash import cash_pages
    from o2c.web.routes.ledger import ledger_pages
    from o2c.web.routes.masterdata import masterdata_pages
    from o2c.web.routes.operations import operations
    from o2c.web.routes.portal import portal

    api.state.allowed = allowed
    api.state.page_language = _page_language
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """Browsers ask for /favicon.ico whatever the page links to."""
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    api.include_router(masterdata_pages)  # first: /customers/new before /customers/{id}
    api.include_router(backoffice)
    api.include_router(ledger_pages)
    api.include_router(bank_pages)
    api.include_router(cash_pages)  # after the back-office: /payments/new is not a payment id
    api.include_router(portal)
    api.include_router(operations)  # background jobs (issue 19)
    install_page_errors(api)
