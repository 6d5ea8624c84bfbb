"""What the viewer of a page may see and do: the navigation per role and the actions a page
offers. Both defer to the API's permission table, so a button is shown exactly when the
matching API operation would be allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from o2c.domain.access import Forbidden


def viewer(request: Request) -> Any:
    """Who is looking (set by authentication), or None."""
    return getattr(request.state, "principal", None)


Permission = Callable[[str, Any], bool]  # (operation, role) -> allowed


def can(request: Request, operation: str) -> bool:
    """True when the viewer may run the API operation `operation` (e.g. `confirm_order`),
    by the permission table the server wires in (`o2c.server`)."""
    principal = viewer(request)
    allowed: Permission | None = getattr(request.app.state, "allowed", None)
    if principal is None or allowed is None:
        return False
    return allowed(operation, principal.role)


def require(request: Request, operation: str) -> None:
    """Refuse (403) an action the viewer's role may not run."""
    if not can(request, operation):
        raise Forbidden(f"your role may not {operation.replace('_', ' ')}",
                        operation=operation)


@dataclass(frozen=True)
class Section:
    label: str
    url: str
    operation: str  # the read operation the section shows


SECTIONS = (
    Section("Dashboard", "/", "dashboard"),
    Section("Orders", "/orders", "list_orders"),
    Section("Credit holds", "/credit-holds", "release_order"),
    Section("Warehouse", "/warehouse", "list_shipments"),
    Section("Invoices", "/invoices", "list_invoices"),
    Section("Payments", "/payments", "list_payments"),
    Section("Bank", "/bank", "web_bank"),
    Section("Approvals", "/approvals", "web_approvals"),
    Section("Customers", "/customers", "list_customers"),
    Section("Products", "/products", "web_products"),
    Section("Ledger", "/ledger/trial-balance", "web_trial_balance"),
    Section("Aged receivables", "/reports/aging", "web_aged_receivables"),
    Section("Jobs", "/jobs", "list_jobs"),  # background jobs (issue 19)
)


PORTAL_SECTIONS = (
    Section("Overview", "/portal", "portal_home"),
    Section("Orders", "/portal/orders", "portal_orders"),
    Section("Invoices", "/portal/invoices", "portal_invoices"),
    Section("Payments", "/portal/payments", "portal_payments"),
    Section("Statement", "/portal/statement", "portal_statement"),
)


def navigation(request: Request) -> list[Section]:
    principal = viewer(request)
    if principal is not None and principal.customer_id is not None:
        return list(PORTAL_SECTIONS)
    return [s for s in SECTIONS if can(request, s.operation)]
