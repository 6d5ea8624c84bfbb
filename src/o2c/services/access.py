"""Users, API tokens, dual control (approval requests), write-offs and GDPR erasure, each a
command through the bus (so each is audited); and the guards that hold users to dual control
on the core commands (credit limit raises, large credit notes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from o2c.adapters import passwords
from o2c.adapters.db import security as db
from o2c.domain import commands as c
from o2c.domain.access import (
    APPROVERS,
    LEGAL_BASIS,
    LOGIN_ROLES,
    ApprovalKind,
    ApprovalRequired,
    ApprovalState,
    CreateToken,
    CreateUser,
    DecideApproval,
    DisableUser,
    EraseCustomer,
    Forbidden,
    PurgeExpired,
    RequestApproval,
    RevokeToken,
    Role,
    SetPassword,
    WriteOffInvoice,
    check_decision,
    pseudonym,
    retention_end,
)
from o2c.domain.credit import LimitDefault, raise_needs_approval
from o2c.domain.errors import (
    AlreadyExists,
    ConcurrentModification,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from o2c.domain.ledger import RECEIVABLE, AccountType, JournalEntry, JournalLine
from o2c.domain.money import in_minor_units
from o2c.domain.receivables import OpenItemKind
from o2c.services import invoicing, masterdata
from o2c.services.bus import Guard, Handler
from o2c.services.uow import UnitOfWork

BAD_DEBT = "6900"  # 6800 is bank charges (cash application)
MIN_PASSWORD = 12

# -- users and tokens ------------------------------------------------------------------------


def create_user(cmd: CreateUser, uow: UnitOfWork) -> int:
    username = cmd.username.strip()
    if not 3 <= len(username) <= 150 or any(ch.isspace() for ch in username):
        raise InvalidInput("a username has 3 to 150 characters and no spaces",
                           field="username")
    try:
        role = Role(cmd.role)
    except ValueError:
        raise InvalidInput(f"unknown role {cmd.role!r}; one of "
                           f"{', '.join(sorted(r.value for r in LOGIN_ROLES))}",
                           field="role") from None
    if role not in LOGIN_ROLES:
        raise InvalidInput(f"{role.value} is not a role users can have", field="role")
    if role is Role.CUSTOMER:
        if cmd.customer_id is None:
            raise InvalidInput("a customer portal user needs customer_id", field="customer_id")
        uow.customers.get(cmd.customer_id)
    elif cmd.customer_id is not None:
        raise InvalidInput("only customer portal users are tied to a customer",
                           field="customer_id")
    if cmd.password is not None and len(cmd.password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters",
                           field="password")
    if db.user_by_name(uow.conn, username) is not None:
        raise AlreadyExists("user", username, field="username")
    user_id = db.insert_user(uow.conn, {
        "username": username, "role": role.value, "customer_id": cmd.customer_id,
        "password_hash": passwords.hash_password(cmd.password) if cmd.password else None,
        "disabled": False, "created_at": uow.now})
    uow.extra_changes.append(("user", user_id, {"username": [None, username],
                                                "role": [None, role.value]}))
    return user_id


def _user(uow: UnitOfWork, username: str) -> dict[str, Any]:
    user = db.user_by_name(uow.conn, username)
    if user is None:
        raise NotFound("user", username, field="username")
    return user


def disable_user(cmd: DisableUser, uow: UnitOfWork) -> int:
    user = _user(uow, cmd.username)
    db.update_user(uow.conn, user["id"], {"disabled": True})
    db.delete_sessions_of(uow.conn, user["id"])
    uow.extra_changes.append(("user", user["id"], {"disabled": [user["disabled"], True]}))
    return int(user["id"])


def set_password(cmd: SetPassword, uow: UnitOfWork) -> int:
    user = _user(uow, cmd.username)
    if len(cmd.password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters",
                           field="password")
    db.update_user(uow.conn, user["id"], {"password_hash": passwords.hash_password(
        cmd.password)})
    db.delete_sessions_of(uow.conn, user["id"])
    uow.extra_changes.append(("user", user["id"], {"password_hash": ["", ""]}))
    return int(user["id"])


@dataclass(frozen=True)
class NewToken:
    id: int
    secret: str  # shown once; only its hash is stored
    username: str
    expires_at: Any

    def __repr__(self) -> str:
        return f"NewToken(id={self.id}, username={self.username!r})"


def create_token(cmd: CreateToken, uow: UnitOfWork) -> NewToken:
    # A token is its holder's: minted for somebody else, it would let one person act as two
    # (and approve their own request). Only the local system actor (o2c token create, run by
    # whoever operates the server) hands tokens out.
    if not uow.principal.is_system and cmd.username != uow.principal.username:
        raise Forbidden("a token is for the user who asks for it: log in as "
                        f"{cmd.username} to get one", field="username")
    user = _user(uow, cmd.username)
    if user["disabled"]:
        raise RuleViolation(f"user {cmd.username} is disabled", field="username")
    if cmd.days is not None and not 1 <= cmd.days <= 3650:
        raise InvalidInput("a token lives 1 to 3650 days", field="days")
    name = cmd.name.strip() or "token"
    secret = passwords.new_secret()
    expires = None if cmd.days is None else uow.now + timedelta(days=cmd.days)
    token_id = db.insert_token(uow.conn, {
        "user_id": user["id"], "name": name[:100], "token_hash": passwords.secret_hash(secret),
        "prefix": secret[:12], "expires_at": expires, "created_at": uow.now})
    uow.extra_changes.append(("api_token", token_id, None))
    return NewToken(token_id, secret, user["username"], expires)


def revoke_token(cmd: RevokeToken, uow: UnitOfWork) -> int:
    token = db.token_by_id(uow.conn, cmd.token_id)
    if token is None:
        raise NotFound("token", cmd.token_id, field="token_id")
    if token["revoked_at"] is None:
        db.revoke_token(uow.conn, cmd.token_id, uow.now)
        uow.extra_changes.append(("api_token", cmd.token_id,
                                  {"revoked_at": [None, uow.now.isoformat()]}))
    return cmd.token_id


# -- dual control ----------------------------------------------------------------------------


def request_approval(cmd: RequestApproval, uow: UnitOfWork) -> int:
    try:
        kind = ApprovalKind(cmd.kind)
    except ValueError:
        raise InvalidInput(f"unknown approval kind {cmd.kind!r}", field="kind") from None
    if not cmd.reason.strip():
        raise InvalidInput("an approval request needs a reason", field="reason")
    amount: Decimal | None = None
    currency: str | None = None
    payload = dict(cmd.payload)
    if kind is ApprovalKind.CREDIT_LIMIT:
        customer = uow.customers.get(cmd.object_id, for_update=True)
        object_type = "customer"
        if "credit_limit" not in payload:
            raise InvalidInput("say the new credit_limit", field="credit_limit")
        if payload["credit_limit"] is not None:
            try:
                amount = Decimal(str(payload["credit_limit"]))
            except ArithmeticError:
                raise InvalidInput("credit_limit is not a number",
                                   field="credit_limit") from None
            if not amount.is_finite() or amount < 0:
                raise InvalidInput("a credit limit is a number, not negative",
                                   field="credit_limit")
        payload = {"credit_limit": None if amount is None else str(amount)}
        currency = customer.currency
    else:
        object_type = "invoice"
        invoice = uow.invoices.get(cmd.object_id)
        currency = invoice.currency
        if kind is ApprovalKind.WRITE_OFF:
            item = uow.open_items.lock_for_invoices([cmd.object_id]).get(cmd.object_id)
            if item is None or item.kind is not OpenItemKind.INVOICE or item.residual <= 0:
                raise RuleViolation(f"{invoice.label} has nothing left to write off",
                                    field="object_id")
            amount = item.residual
            payload = {}
        else:
            # Checked exactly as the credit note will be when approved, and priced by it.
            lines = _credit_lines(payload.get("lines"))
            note = invoicing.draft_credit_note(uow, invoice, c.CreateCreditNote(
                cmd.object_id, cmd.reason, lines))
            amount = abs(note.gross_amount)
            payload = {} if lines is None else {"lines": [
                {"invoice_line_id": x.invoice_line_id,
                 "quantity": None if x.quantity is None else str(x.quantity),
                 "unit_price": None if x.unit_price is None else str(x.unit_price)}
                for x in lines]}
    request_id = db.insert_approval(uow.conn, {
        "kind": kind.value, "object_type": object_type, "object_id": cmd.object_id,
        "payload": payload, "amount": amount, "currency": currency, "reason": cmd.reason,
        "state": ApprovalState.PENDING.value, "requested_by": uow.principal.username,
        "created_at": uow.now})
    uow.extra_changes.append(("approval_request", request_id, None))
    return request_id


def decide_approval(cmd: DecideApproval, uow: UnitOfWork) -> int:
    request = db.approval(uow.conn, cmd.request_id, for_update=True)
    if request is None:
        raise NotFound("approval request", cmd.request_id, field="request_id")
    kind = ApprovalKind(request["kind"])
    state = ApprovalState(request["state"])
    check_decision(kind, state, cmd.request_id, request["requested_by"], uow.principal)
    result_id: int | None = None
    if cmd.approve:
        uow.approval_id = cmd.request_id
        try:
            result_id = _carry_out(kind, request, uow)
        finally:
            uow.approval_id = None
    new_state = ApprovalState.APPROVED if cmd.approve else ApprovalState.REJECTED
    if not db.decide_approval(uow.conn, cmd.request_id, {
            "state": new_state.value, "decided_by": uow.principal.username,
            "decided_at": uow.now, "decision_reason": cmd.reason,
            "result_id": result_id}, state.value):
        raise ConcurrentModification("approval_request", cmd.request_id)
    uow.extra_changes.append(("approval_request", cmd.request_id,
                              {"state": [state.value, new_state.value]}))
    uow.audit_object = ("approval_request", cmd.request_id)
    return cmd.request_id


def _carry_out(kind: ApprovalKind, request: dict[str, Any], uow: UnitOfWork) -> int:
    payload = request["payload"] or {}
    if kind is ApprovalKind.CREDIT_LIMIT:
        limit = payload["credit_limit"]
        return masterdata.update_customer(c.UpdateCustomer(
            request["object_id"], {"credit_limit": None if limit is None else Decimal(limit)}),
            uow)
    if kind is ApprovalKind.CREDIT_NOTE:
        return invoicing.create_credit_note(c.CreateCreditNote(
            request["object_id"], request["reason"], _credit_lines(payload.get("lines"))), uow)
    return write_off_invoice(WriteOffInvoice(request["object_id"], request["reason"]), uow)


def _credit_lines(raw: Any) -> tuple[c.CreditLineInput, ...] | None:
    """The lines of a credit note request (None: the whole invoice); anything that is not a
    line the credit note command takes is refused, naming where it is."""
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidInput("lines is a non-empty list of credit note lines", field="lines")
    lines = []
    for index, item in enumerate(raw):
        where = f"lines[{index}]"
        if not isinstance(item, dict) or set(item) - {"invoice_line_id", "quantity",
                                                       "unit_price"}:
            raise InvalidInput("a line has invoice_line_id and optionally quantity and "
                               "unit_price", field=where)
        line_id = item.get("invoice_line_id")
        if not isinstance(line_id, int) or isinstance(line_id, bool) or line_id < 1:
            raise InvalidInput("invoice_line_id is the id of a line of the invoice",
                               field=f"{where}.invoice_line_id")
        lines.append(c.CreditLineInput(line_id, _decimal(item.get("quantity"),
                                                         f"{where}.quantity"),
                                       _decimal(item.get("unit_price"), f"{where}.unit_price")))
    return tuple(lines)


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float | bool):
        raise InvalidInput("an exact decimal (a string such as \"1.5\")", field=field)
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput("not a number", field=field) from None
    if not number.is_finite():
        raise InvalidInput("not a number", field=field)
    return number


def write_off_invoice(cmd: WriteOffInvoice, uow: UnitOfWork) -> int:
    """Bad debt: the invoice's residual goes to expense account 6900 with a balanced entry
    and its open item closes. Only an approved request gets here."""
    if uow.approval_id is None:
        raise ApprovalRequired("a write-off needs an approved request: POST "
                               "/api/v1/invoices/{id}/write-off asks for one",
                               field="invoice_id")
    item = uow.open_items.lock_for_invoices([cmd.invoice_id]).get(cmd.invoice_id)
    if item is None:
        raise NotFound("invoice", cmd.invoice_id, field="invoice_id")
    residual, company_value = item.write_off()
    db.ensure_account(uow.conn, item.company_id, BAD_DEBT, "Bad debts written off",
                      AccountType.EXPENSE.value)
    party = {"customer_id": item.customer_id, "currency": item.currency}
    entry = uow.ledger.post(JournalEntry(
        company_id=item.company_id, entry_date=cmd.on or uow.today(),
        source_type="write_off", source_id=item.invoice_id,
        memo=f"write-off of {item.number}: {cmd.reason}"[:300],
        lines=[JournalLine(BAD_DEBT, debit=company_value),
               JournalLine(RECEIVABLE, credit=company_value, amount_currency=-residual,
                           **party)]))  # type: ignore[arg-type]
    assert entry.id is not None
    uow.extra_changes.append(("journal_entry", entry.id, None))
    return entry.id


# -- guards: dual control on core commands ----------------------------------------------------

CREDIT_ROLES = frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.SYSTEM})
CREDIT_FIELDS = frozenset({"credit_limit", "credit_blocked", "overdue_hold_days"})


def guard_update_customer(cmd: c.UpdateCustomer, uow: UnitOfWork,
                          run: Callable[[], Any]) -> Any:
    touched = CREDIT_FIELDS & set(cmd.changes)
    if touched and uow.principal.role not in CREDIT_ROLES and uow.approval_id is None:
        raise Forbidden(f"{', '.join(sorted(touched))} are changed by a credit manager",
                        field=sorted(touched)[0])
    if "credit_limit" in cmd.changes and uow.dual_control and uow.approval_id is None:
        customer = uow.customers.get(cmd.customer_id, for_update=True)
        new = cmd.changes["credit_limit"]
        _check_limit(uow, customer.approved_credit_limit, None if new is None else Decimal(new),
                     customer.currency)
    return run()


def _check_limit(uow: UnitOfWork, approved: Decimal | None, new: Decimal | None,
                 currency: str) -> None:
    """A limit more than the threshold above the last approved one (however many steps it
    took to get there), or no limit at all, needs a second person."""
    threshold = uow.controls.credit_limit_increase
    if not raise_needs_approval(approved, new, threshold):
        return
    if new is None:
        raise ApprovalRequired("no credit limit at all needs a second person's approval: "
                               "POST /api/v1/approvals", field="credit_limit")
    base = "no limit" if approved is None else f"{in_minor_units(approved, currency)} {currency}"
    raise ApprovalRequired(
        f"a credit limit of {in_minor_units(new, currency)} {currency} is more than "
        f"{threshold} above the last approved limit ({base}): it needs a second person's "
        "approval: POST /api/v1/approvals", field="credit_limit")


APPROVER_ROLES = APPROVERS[ApprovalKind.CREDIT_LIMIT] | {Role.SYSTEM}


def guard_create_customer(cmd: c.CreateCustomer, uow: UnitOfWork,
                          run: Callable[[], Any]) -> Any:
    """Credit terms of a new customer are the credit manager's too; a limit above the
    company's default by more than the threshold needs approval, and no limit at all only an
    approver may ask for."""
    touched = sorted(name for name, default in (("credit_limit", c.DEFAULT_LIMIT),
                                                ("credit_blocked", False),
                                                ("overdue_hold_days", None))
                     if getattr(cmd, name) != default)
    if touched and uow.principal.role not in CREDIT_ROLES:
        raise Forbidden(f"{', '.join(touched)} are set by a credit manager", field=touched[0])
    if cmd.credit_limit is None and uow.principal.role not in APPROVER_ROLES:
        raise Forbidden("only a credit manager or a controller may give a customer no credit "
                        "limit", field="credit_limit")
    if uow.dual_control and cmd.credit_limit is not c.DEFAULT_LIMIT:
        company = uow.companies.find(cmd.company_id)
        if company is not None:
            new = cmd.credit_limit
            assert not isinstance(new, LimitDefault)
            _check_limit(uow, company.default_credit_limit, new,
                         cmd.currency or company.currency)
    return run()


def guard_credit_note(cmd: c.CreateCreditNote, uow: UnitOfWork,
                      run: Callable[[], Any]) -> Any:
    """Credit notes on one invoice add up: above the threshold in total (not counting those
    a second person approved), the next one needs approval, however small."""
    note_id = run()
    if uow.dual_control and uow.approval_id is None:
        note = uow.invoices.get(note_id)
        credited = db.credited_without_approval(uow.conn, cmd.invoice_id)
        if credited > uow.controls.credit_note:
            amount = in_minor_units(abs(note.gross_amount), note.currency)
            total = in_minor_units(credited, note.currency)
            raise ApprovalRequired(
                f"a credit note of {amount} {note.currency} brings what is credited on this "
                f"invoice without approval to {total} {note.currency} (more than "
                f"{uow.controls.credit_note}): it needs a second person's approval: POST "
                "/api/v1/approvals", field="lines")
    return note_id


# -- GDPR ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    retention_until: date
    legal_basis: str


def erase_customer(cmd: EraseCustomer, uow: UnitOfWork) -> Erasure:
    """Pseudonymise what the law does not require; invoice data (with the buyer as it was
    invoiced) is kept until the end of the legal retention period of the customer's country."""
    if not cmd.reason.strip():
        raise InvalidInput("an erasure needs a reason (the data subject's request)",
                           field="reason")
    customer = uow.customers.get(cmd.customer_id, for_update=True)
    assert customer.id is not None
    if db.erasure_of(uow.conn, customer.id) is not None:
        raise AlreadyExists("erasure of customer", customer.id, field="customer_id")
    marker = pseudonym("customer", customer.id)
    uow.store_personal = False  # the old values must not land in the audit side table
    customer.change(name=marker, email="", vat_id="", tax_code="", buyer_reference="",
                    billing_address=_blank_address(customer.billing_address),
                    shipping_address=_blank_address(customer.shipping_address))
    # The "updated" event would carry the old values into the event log: drop it.
    customer.events[:] = [e for e in customer.events if e.name != "updated"]
    country = customer.country
    until = retention_end(country, db.last_document_date(uow.conn, customer.id),
                          uow.today(), uow.controls.retention_years)
    basis = (f"GDPR art. 17(3)(b): invoices kept for the legal retention period "
             f"({LEGAL_BASIS.get(country, 'national bookkeeping law')})")
    db.pseudonymise_side_data(uow.conn, customer.id, marker, uow.now)
    erasure_id = db.insert_erasure(uow.conn, {
        "customer_id": customer.id, "country": country, "reason": cmd.reason,
        "legal_basis": basis, "retention_until": until,
        "requested_by": uow.principal.username, "erased_at": uow.now})
    customer.record("erased", retention_until=until, legal_basis=basis)
    uow.extra_changes.append(("gdpr_erasure", erasure_id, None))
    return Erasure(customer.id, until, basis)


def _blank_address(address: Any) -> Any:
    return type(address).from_dict({"country": address.country})


@dataclass(frozen=True)
class PurgeResult:
    customers: list[int]
    invoices: int


def purge_expired(cmd: PurgeExpired, uow: UnitOfWork) -> PurgeResult:
    """After the retention period the buyer data on invoices goes too. Idempotent."""
    if cmd.as_of > uow.today():
        # Retention ends on a day that has come: a future date would purge today what the law
        # still requires to be kept.
        raise InvalidInput(f"as_of {cmd.as_of.isoformat()} is after today "
                           f"({uow.today().isoformat()})", field="as_of")
    purged: list[int] = []
    invoices = 0
    for erasure in db.expired_erasures(uow.conn, cmd.as_of):
        invoices += db.purge_invoice_party_data(uow.conn, erasure["customer_id"],
                                                pseudonym("customer", erasure["customer_id"]),
                                                erasure["country"], uow.now)
        purged.append(erasure["customer_id"])
        uow.extra_changes.append(("gdpr_erasure", erasure["id"],
                                  {"purged_at": [None, uow.now.isoformat()]}))
    return PurgeResult(purged, invoices)


def guard_portal_order(cmd: c.CreateOrder, uow: UnitOfWork, run: Callable[[], Any]) -> Any:
    """A portal customer orders only for its own account (another account: as if it did not
    exist), at the price list's prices, today, from the company's warehouse: what
    o2c.api.permissions.FIELD_PERMISSIONS refuses at the API, for every other edge too."""
    own = uow.principal.customer_id
    if own is None:
        return run()
    if cmd.customer_id != own:
        raise NotFound("customer", cmd.customer_id, field="customer_id")
    chosen = [name for name, value in (("order_date", cmd.order_date),
                                       ("warehouse_id", cmd.warehouse_id)) if value is not None]
    for index, line in enumerate(cmd.lines):
        chosen += [f"lines[{index}].{name}" for name, value in (
            ("unit_price", line.unit_price), ("description", line.description),
            ("discount_percent", line.discount_percent or None)) if value is not None]
    if chosen:
        raise Forbidden(f"a customer may not choose {', '.join(chosen)}", field=chosen[0])
    return run()


HANDLERS: dict[type[c.Command], Handler] = {
    CreateUser: create_user, DisableUser: disable_user, SetPassword: set_password,
    CreateToken: create_token, RevokeToken: revoke_token,
    RequestApproval: request_approval, DecideApproval: decide_approval,
    WriteOffInvoice: write_off_invoice,
    EraseCustomer: erase_customer, PurgeExpired: purge_expired,
}

GUARDS: dict[type[c.Command], Guard] = {
    c.CreateOrder: guard_portal_order,
    c.CreateCustomer: guard_create_customer,
    c.UpdateCustomer: guard_update_customer,
    c.CreateCreditNote: guard_credit_note,
}

__all__ = ["GUARDS", "HANDLERS"]
