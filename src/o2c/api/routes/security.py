"""Login and logout, users and API tokens, dual-control approvals (and the write-off request),
the audit trail and GDPR."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import security as db
from o2c.api.auth import SESSION_COOKIE, CurrentUser
from o2c.api.deps import AppDep, Bus, Conn, Paging
from o2c.api.routes import router
from o2c.api.schemas.common import Id, IdFilter, Page
from o2c.api.schemas.security import (
    ApprovalIn,
    ApprovalOut,
    AuditRecordOut,
    AuditVerificationOut,
    DecisionIn,
    ErasureIn,
    ErasureOut,
    LoginIn,
    NewTokenOut,
    PurgeIn,
    PurgeOut,
    SessionOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    WriteOffIn,
)
from o2c.bootstrap import App
from o2c.domain import access as a
from o2c.domain.aggregate import jsonable
from o2c.domain.errors import NotFound
from o2c.services import auth
from o2c.services.access import Erasure, NewToken, PurgeResult
from o2c.services.audit import verify_audit

# -- session login (the web UI's) ------------------------------------------------------------

session = router("authentication")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(app: App, response: Response, result: auth.LoginResult) -> None:
    response.set_cookie(SESSION_COOKIE, result.cookie, httponly=True, samesite="lax",
                        secure=app.settings.secure_cookies, path="/",
                        max_age=app.settings.session_hours * 3600)


def do_login(app: App, request: Request, username: str, password: str) -> auth.LoginResult:
    s = app.settings
    return auth.login(app.engine, username, password, client_address(request), app.clock(),
                      session_hours=s.session_hours, max_failures=s.login_max_failures,
                      lock_minutes=s.login_lock_minutes)


@session.post("/auth/login", response_model=SessionOut)
def login(body: LoginIn, request: Request, app: AppDep) -> JSONResponse:
    """Password login: sets the session cookie (HttpOnly, SameSite=Lax) and returns the CSRF
    token to send as `X-CSRF-Token` with state-changing requests. Repeated failures lock the
    user from that address for a while (429). API clients use Bearer tokens instead."""
    result = do_login(app, request, body.username, body.password)
    response = JSONResponse(SessionOut(
        username=result.principal.username, role=result.principal.role.value,
        customer_id=result.principal.customer_id, csrf_token=result.csrf_token,
        expires_at=result.expires_at).model_dump(mode="json"))
    set_session_cookie(app, response, result)
    return response


@session.post("/auth/logout", status_code=204)
def logout(request: Request, app: AppDep) -> Response:
    """Ends the session of the cookie (if any) and clears the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.logout(app.engine, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@session.get("/auth/me", response_model=SessionOut)
def whoami(principal: CurrentUser) -> SessionOut:
    return SessionOut(username=principal.username, role=principal.role.value,
                      customer_id=principal.customer_id)


# -- users and tokens ----------------------------------------------------------------------------

users = router("users")


def present_user(conn: Connection, user_id: int) -> UserOut:
    row = db.user_by_id(conn, user_id)
    assert row is not None
    return UserOut.model_validate(row)


@users.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, bus: Bus) -> JSONResponse:
    return bus.run(a.CreateUser(body.username, body.password, body.role, body.customer_id),
                   present_user, status_code=201)


@users.get("/users", response_model=Page[UserOut])
def list_users(conn: Conn, page: Paging) -> dict[str, Any]:
    return db.page_of_users(conn, page).as_dict()


@users.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: Annotated[str, Path(max_length=150)], bus: Bus) -> JSONResponse:
    """The user can no longer log in or use tokens; sessions end at once."""
    return bus.run(a.DisableUser(username), present_user)


tokens = router("tokens")


@tokens.post("/tokens", status_code=201, response_model=NewTokenOut)
def create_token(body: TokenIn, bus: Bus, principal: CurrentUser) -> JSONResponse:
    """A new API token for the caller (a token is never minted for somebody else). The token
    is in this response only: store it now."""
    def present(_conn: Connection, token: NewToken) -> NewTokenOut:
        return NewTokenOut(id=token.id, username=token.username, token=token.secret,
                           expires_at=token.expires_at)

    return bus.run(a.CreateToken(body.username or principal.username, body.name, body.days),
                   present, status_code=201)


@tokens.get("/tokens", response_model=Page[TokenOut])
def list_tokens(conn: Conn, page: Paging) -> dict[str, Any]:
    return db.page_of_tokens(conn, page).as_dict()


@tokens.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(token_id: Id, bus: Bus) -> JSONResponse:
    def present(conn: Connection, _id: int) -> TokenOut:
        return TokenOut.model_validate(db.token_listing(conn, token_id))

    return bus.run(a.RevokeToken(token_id), present)


# -- dual control ------------------------------------------------------------------------------

approvals = router("approvals")


def present_approval(conn: Connection, request_id: int) -> ApprovalOut:
    row = db.approval(conn, request_id)
    if row is None:
        raise NotFound("approval request", request_id)
    return ApprovalOut.model_validate(row)


@approvals.post("/approvals", status_code=201, response_model=ApprovalOut)
def request_approval(body: ApprovalIn, bus: Bus) -> JSONResponse:
    """Ask for a change that needs a second person: a credit limit raise above the
    threshold, a credit note above the threshold, a write-off. Another user approves it."""
    return bus.run(a.RequestApproval(body.kind.value, body.object_id, body.reason,
                                     body.payload()),
                   present_approval, payload=body, status_code=201)


@approvals.post("/invoices/{invoice_id}/write-off", status_code=201,
                response_model=ApprovalOut)
def request_write_off(invoice_id: Id, body: WriteOffIn, bus: Bus) -> JSONResponse:
    """Ask to write the invoice's residual off as bad debt; a controller (another person)
    approves it, which posts the write-off."""
    return bus.run(a.RequestApproval(a.ApprovalKind.WRITE_OFF.value, invoice_id, body.reason),
                   present_approval, payload=body, status_code=201)


@approvals.get("/approvals", response_model=Page[ApprovalOut])
def list_approvals(conn: Conn, page: Paging,
                   state: Annotated[a.ApprovalState | None, Query()] = None
                   ) -> dict[str, Any]:
    rows, total = db.list_approvals(conn, state.value if state else None, page.limit,
                                    page.offset)
    return {"items": rows, "total": total, "limit": page.limit, "offset": page.offset}


@approvals.get("/approvals/{request_id}", response_model=ApprovalOut)
def get_approval(request_id: Id, conn: Conn) -> ApprovalOut:
    return present_approval(conn, request_id)


@approvals.post("/approvals/{request_id}/approve", response_model=ApprovalOut)
def approve_request(request_id: Id, bus: Bus, body: DecisionIn | None = None
                    ) -> JSONResponse:
    """Approve and carry out the change, in one transaction. Not by the requester."""
    body = body or DecisionIn()
    return bus.run(a.DecideApproval(request_id, True, body.reason), present_approval,
                   payload=body)


@approvals.post("/approvals/{request_id}/reject", response_model=ApprovalOut)
def reject_request(request_id: Id, bus: Bus, body: DecisionIn | None = None
                   ) -> JSONResponse:
    body = body or DecisionIn()
    return bus.run(a.DecideApproval(request_id, False, body.reason), present_approval,
                   payload=body)


# -- audit trail ---------------------------------------------------------------------------------

audit = router("audit")


@audit.get("/audit", response_model=Page[AuditRecordOut])
def list_audit(conn: Conn, page: Paging,
               object_type: Annotated[str | None, Query(max_length=40)] = None,
               object_id: IdFilter = None) -> dict[str, Any]:
    """Audit records, newest first: who did what, when, in which request, what changed."""
    rows, total = db.list_audit(conn, object_type, object_id, page.limit, page.offset)
    return {"items": rows, "total": total, "limit": page.limit, "offset": page.offset}


@audit.get("/audit/verify", response_model=AuditVerificationOut, name="verify_audit")
def verify_audit_chain(app: AppDep) -> dict[str, Any]:
    """Recompute the hash chain; names the first broken record."""
    return verify_audit(app.engine).as_dict()


# -- GDPR ----------------------------------------------------------------------------------------

gdpr = router("gdpr")


@gdpr.get("/customers/{customer_id}/personal-data")
def gdpr_export(customer_id: Id, conn: Conn) -> JSONResponse:
    """Everything held about the customer (art. 15/20 GDPR), as JSON."""
    data = db.customer_export(conn, customer_id)
    if data is None:
        raise NotFound("customer", customer_id)
    return JSONResponse(jsonable(data))


@gdpr.post("/customers/{customer_id}/erase", response_model=ErasureOut)
def gdpr_erase(customer_id: Id, body: ErasureIn, bus: Bus) -> JSONResponse:
    """Erasure (art. 17): personal data not required by law is pseudonymised now; invoice
    data is kept until the end of the retention period of the customer's country."""
    def present(_conn: Connection, erasure: Erasure) -> ErasureOut:
        return ErasureOut(customer_id=erasure.customer_id,
                          retention_until=erasure.retention_until,
                          legal_basis=erasure.legal_basis)

    return bus.run(a.EraseCustomer(customer_id, body.reason), present, payload=body)


@gdpr.post("/gdpr/purge", response_model=PurgeOut)
def gdpr_purge(body: PurgeIn, bus: Bus) -> JSONResponse:
    """Pseudonymise the buyer on invoices of erased customers whose retention has ended."""
    def present(_conn: Connection, result: PurgeResult) -> PurgeOut:
        return PurgeOut(customers=result.customers, invoices=result.invoices)

    return bus.run(a.PurgeExpired(body.as_of), present, payload=body)


ROUTERS = (session, users, tokens, approvals, audit, gdpr)
