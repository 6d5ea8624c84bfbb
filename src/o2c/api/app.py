"""The REST API: FastAPI with sync endpoints under /api/v1, OpenAPI at /docs.

    uvicorn --factory o2c.api.app:create_app
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

import o2c
from o2c.api import auth_errors, docs, errors
from o2c.api.auth import RequestContext, authorize
from o2c.api.errors import PROBLEM_JSON
from o2c.api.permissions import PUBLIC
from o2c.api.routes import (
    PREFIX,
    bank,
    catalog,
    documents,
    events,
    invoices,
    ledger,
    masterdata,
    operations,
    orders,
    payments,
    reports,
    shipments,
)
from o2c.api.routes import login as login_pages
from o2c.api.routes import security as security_routes
from o2c.api.screening import BodyLimit, screen_input
from o2c.bootstrap import App, bootstrap

DESCRIPTION = """
Order-to-Cash: orders, credit, stock, shipping, invoicing, receivables and ledger.

* **Exact numbers.** Amounts, quantities, prices and rates are decimals: send them as JSON
  strings (`"12.50"`) or numbers (read as decimals, never floats); responses carry them as
  strings.
* **Idempotency.** Every POST accepts an `Idempotency-Key` header. The same key with the same
  body returns the stored response (header `Idempotent-Replayed: true`) without writing
  anything; the same key with another body is a 409.
* **Errors** are RFC 9457 `application/problem+json` with a `code` naming the condition.
  404: something referred to does not exist; 409: an illegal state transition, a concurrent
  change, a duplicate or a reused key; 422: invalid input or a business rule, with
  `errors: [{field, message}]` (`field` like `lines[0].quantity`). A rejected request writes
  nothing.
* **Authentication.** Every `/api/v1` route needs `Authorization: Bearer <token>` (tokens
  from `o2c token create` or `POST /api/v1/tokens`) or the session cookie of
  `POST /api/v1/auth/login` (then send `X-CSRF-Token` on POST/PATCH). 401: no or bad
  credentials; 403: the role may not do this (see `o2c.api.permissions`). Every response
  carries `X-Request-ID` (yours, or a new one); the audit trail records it.
* **Lists** are paginated (`limit` 1-500, default 50; `offset`) and return
  `{items, total, limit, offset}`.
"""


def operation_id(route: APIRoute) -> str:
    """Operation ids are the route names (create_order, confirm_order...)."""
    return route.name


def create_app(app: App | None = None) -> FastAPI:
    """The API wired to `app` (bootstrapped from the environment when None)."""
    app = app or bootstrap()
    api = FastAPI(title="o2c", version=o2c.__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  generate_unique_id_function=operation_id,
                  # Every route is checked: authenticated and allowed by api/permissions.py
                  # (public ones are named there too).
                  dependencies=[Depends(authorize), Depends(screen_input)])
    api.state.o2c = app
    errors.install(api)
    auth_errors.install(api)
    api.add_middleware(RequestContext, hsts=app.settings.secure_cookies)
    api.add_middleware(BodyLimit)
    for module_router in (masterdata.companies, masterdata.terms, masterdata.customers,
                          catalog.products, catalog.warehouses, catalog.stock, catalog.rates,
                          orders.orders, shipments.shipments, invoices.invoices,
                          payments.payments, payments.allocations, events.events,
                          ledger.ledger, reports.reports, bank.bank,
                          documents.documents):
        api.include_router(module_router, prefix=PREFIX)
    for security_router in security_routes.ROUTERS:
        api.include_router(security_router, prefix=PREFIX)
    api.include_router(login_pages.pages)
    docs.install(api)

    # operations (issue 19): the failed-jobs API, /metrics, /health/live, /health/ready
    api.include_router(operations.jobs, prefix=PREFIX)
    api.include_router(operations.probes)
    _problems_only_as_problem_json(api)
    return api


def _problems_only_as_problem_json(api: FastAPI) -> None:
    """Every status an operation can answer is documented, errors as
    application/problem+json only (FastAPI would add application/json for the Problem model
    too)."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if operation.get("operationId") in PUBLIC:
                        operation["security"] = []  # health, login, logout: no credentials
                    responses = operation.setdefault("responses", {})
                    for status, description in _problems_of(operation):
                        responses.setdefault(str(status), {
                            "description": description,
                            "content": {PROBLEM_JSON: {"schema": {
                                "$ref": "#/components/schemas/Problem"}}}})
                    for status, response in responses.items():
                        content = response.get("content", {})
                        if status.startswith(("4", "5")) and PROBLEM_JSON in content:
                            content.pop("application/json", None)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


# Problems every operation of a kind can answer, beyond those its router declares (404, 409,
# 422): authentication and permissions, the body limit, throttled logins, purged documents.
_GUARDED = [(401, "No or bad credentials"),
            (403, "The role may not do this, or may not set one of the fields sent")]
_WITH_BODY = [(413, "The request body is larger than its kind needs")]


def _problems_of(operation: dict[str, Any]) -> list[tuple[int, str]]:
    name = operation.get("operationId", "")
    problems = [] if name in PUBLIC else list(_GUARDED)
    if "requestBody" in operation:
        problems += _WITH_BODY
        problems.append((400, "The body could not be read (a broken upload)"))
    if name == "login":
        problems += [(401, "Wrong user name or password"),
                     (429, "Too many failed logins: try again later (Retry-After)")]
    if name == "get_invoice_document":
        problems.append((410, "The buyer's data was purged: only the PDF is left"))
    return problems
