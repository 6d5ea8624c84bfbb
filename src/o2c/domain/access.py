"""Who may do what: roles, the principal a command runs for, dual control (segregation of
duties) and the commands that manage users, tokens, approvals, write-offs and GDPR erasure.

The permission table mapping each API operation to the roles allowed lives in
`o2c.api.permissions`; the rules here are the ones the services enforce whatever the edge.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from o2c.domain.commands import Command
from o2c.domain.errors import DomainError, ErrorKind, InvalidTransition, RuleViolation


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    WAREHOUSE = "warehouse"
    AR_CLERK = "ar_clerk"  # payments, cash application
    CREDIT_MANAGER = "credit_manager"  # limits, holds
    COLLECTOR = "collector"
    CONTROLLER = "controller"  # ledger, write-off approval, reports
    AUDITOR = "auditor"  # read-only
    CUSTOMER = "customer"  # portal user tied to one customer account
    SYSTEM = "system"  # local CLI, demo, batch runs: not a login role


# Years invoices (and what identifies the buyer on them) must be kept, by country.
DEFAULT_RETENTION_YEARS: dict[str, int] = {"IT": 10, "FR": 10, "ES": 6, "DE": 10, "MX": 5}

LOGIN_ROLES = frozenset(Role) - {Role.SYSTEM}
STAFF = frozenset(LOGIN_ROLES - {Role.CUSTOMER})


@dataclass(frozen=True)
class Principal:
    """Who a command or a read runs for."""

    username: str
    role: Role
    user_id: int | None = None
    customer_id: int | None = None  # set for portal customers: everything is scoped to it

    @property
    def is_system(self) -> bool:
        return self.role is Role.SYSTEM

    @property
    def actor(self) -> str:
        """The name the event log and the hashed audit trail keep. Portal users are people
        of the customer: they appear by user id only, so erasing them never touches the
        hash chain (staff and system actors appear by name)."""
        if self.customer_id is not None:
            return f"portal-user-{self.user_id}"
        return self.username


@functools.lru_cache(maxsize=64)
def system(name: str = "system") -> Principal:
    """A local system actor (CLI, demo, batch runs); principals are immutable, so the few
    names in use are built once."""
    return Principal(name, Role.SYSTEM)


class Forbidden(DomainError):
    """The principal's role may not do this (HTTP 403)."""

    kind = ErrorKind.RULE_VIOLATION


class ApprovalRequired(RuleViolation):
    """Above a threshold: ask for approval (POST /api/v1/approvals) instead."""


class SameApprover(RuleViolation):
    def __init__(self, request_id: int, username: str) -> None:
        super().__init__(f"approval request {request_id} was made by {username}; another "
                         "person must approve it", request_id=request_id)


# -- dual control ----------------------------------------------------------------------------


class ApprovalKind(StrEnum):
    CREDIT_LIMIT = "credit_limit"  # raise of a credit limit above the threshold
    CREDIT_NOTE = "credit_note"  # credit note above the threshold
    WRITE_OFF = "write_off"  # always


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


# Who may approve what: nobody but a controller approves a write-off.
APPROVERS: dict[ApprovalKind, frozenset[Role]] = {
    ApprovalKind.CREDIT_LIMIT: frozenset({Role.CREDIT_MANAGER, Role.CONTROLLER}),
    ApprovalKind.CREDIT_NOTE: frozenset({Role.CONTROLLER}),
    ApprovalKind.WRITE_OFF: frozenset({Role.CONTROLLER}),
}


@dataclass(frozen=True)
class Controls:
    """Dual-control thresholds (above them a second person must approve; amounts in the
    document's currency) and GDPR retention years per country."""

    credit_limit_increase: Decimal = Decimal(10000)
    credit_note: Decimal = Decimal(5000)
    retention_years: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_RETENTION_YEARS))


def check_decision(kind: ApprovalKind, state: ApprovalState, request_id: int,
                   requested_by: str, decider: Principal) -> None:
    """The rules of a decision on an approval request."""
    if state is not ApprovalState.PENDING:
        raise InvalidTransition("approval_request", request_id, state.value, "decide")
    if decider.role not in APPROVERS[kind]:
        allowed = ", ".join(sorted(r.value for r in APPROVERS[kind]))
        raise Forbidden(f"a {kind.value} request is approved only by: {allowed}",
                        request_id=request_id)
    if decider.username == requested_by:
        raise SameApprover(request_id, requested_by)


# -- GDPR retention --------------------------------------------------------------------------

FALLBACK_RETENTION_YEARS = 10

LEGAL_BASIS: dict[str, str] = {
    "IT": "art. 2220 Codice civile; DPR 600/1973 art. 22",
    "FR": "Code de commerce art. L123-22; LPF art. L102 B",
    "ES": "Código de Comercio art. 30; LGT art. 66",
    "DE": "HGB § 257; AO § 147",
    "MX": "Código Fiscal de la Federación art. 30",
}


def retention_end(country: str, last_document: date | None, on: date,
                  years: dict[str, int] | None = None) -> date:
    """The day invoice data of a customer may be deleted: `years` after the end of the year
    of the last document (the usual start of the legal period), or `on` when there is none."""
    if last_document is None:
        return on
    table = years or DEFAULT_RETENTION_YEARS
    span = table.get(country.upper(), FALLBACK_RETENTION_YEARS)
    return date(last_document.year + span, 12, 31)


def pseudonym(kind: str, object_id: int) -> str:
    return f"erased-{kind}-{object_id}"


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateUser(Command):
    username: str
    password: str | None
    role: str
    customer_id: int | None = None

    def __repr__(self) -> str:  # a password never reaches a log
        return f"CreateUser(username={self.username!r}, role={self.role!r})"


@dataclass(frozen=True)
class DisableUser(Command):
    username: str


@dataclass(frozen=True)
class SetPassword(Command):
    username: str
    password: str

    def __repr__(self) -> str:
        return f"SetPassword(username={self.username!r})"


@dataclass(frozen=True)
class CreateToken(Command):
    username: str
    name: str
    days: int | None = 90  # None: no expiry


@dataclass(frozen=True)
class RevokeToken(Command):
    token_id: int


@dataclass(frozen=True)
class RequestApproval(Command):
    kind: str
    object_id: int  # customer (credit limit), invoice (credit note, write-off)
    reason: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecideApproval(Command):
    request_id: int
    approve: bool
    reason: str = ""


@dataclass(frozen=True)
class WriteOffInvoice(Command):
    """Write an invoice's residual off to bad debt; runs only from an approved request."""

    invoice_id: int
    reason: str
    on: date | None = None


@dataclass(frozen=True)
class EraseCustomer(Command):
    customer_id: int
    reason: str


@dataclass(frozen=True)
class PurgeExpired(Command):
    as_of: date
