"""What the viewer of a page may see and do: the navigation per role and the actions a page
offers. Both defer to the API's permission table, so a button is shown exactly when the
matching API operation would be allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request


def viewer(request: Request) -> Any:
    """Who is looking (set by authentication), or None."""
    return getattr(request.state, "principal", None)


def can(request: Request, operation: str) -> bool:
    """True when the viewer may run the API operation `operation` (e.g. `confirm_order`)."""
    principal = viewer(request)
    if principal is None:  # no authentication configured for this app (library use, tests)
        return True
    return bool(principal.may(operation))


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
    Section("Customers", "/customers", "list_customers"),
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
