"""Authentication: API tokens (Bearer), password login with throttling, web sessions with a
CSRF token. These are not business commands (nothing of the business changes), so they do
not go through the bus; each runs in its own short transaction."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from o2c.adapters import passwords
from o2c.adapters.db import security as db
from o2c.adapters.db.engine import WRITE
from o2c.domain.access import Principal, Role
from o2c.domain.errors import DomainError, ErrorKind

log = logging.getLogger(__name__)

SESSION_PREFIX = "o2cs_"


class NotAuthenticated(DomainError):
    """No valid credentials (HTTP 401): the request did nothing."""

    kind = ErrorKind.RULE_VIOLATION


class LoginThrottled(DomainError):
    """Too many failed logins for this user from this address (HTTP 429)."""

    kind = ErrorKind.RULE_VIOLATION

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many failed logins; try again after {until.isoformat()}",
                         retry_after=until)
        self.until = until


def _principal(row: dict[str, object]) -> Principal:
    customer_id = row["customer_id"]
    return Principal(str(row["username"]), Role(str(row["role"])), int(str(row["id"])),
                     None if customer_id is None else int(str(customer_id)))


def authenticate_token(engine: Engine, token: str, now: datetime) -> Principal:
    with engine.connect() as conn:
        row = db.user_of_token(conn, passwords.secret_hash(token))
    if row is None:
        raise NotAuthenticated("the token is not valid")
    if row["revoked_at"] is not None:
        raise NotAuthenticated("the token was revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise NotAuthenticated("the token has expired")
    if row["disabled"]:
        raise NotAuthenticated("the user is disabled")
    return _principal(row)


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str


def authenticate_session(engine: Engine, cookie: str, now: datetime) -> Session:
    with engine.connect() as conn:
        row = db.user_of_session(conn, passwords.secret_hash(cookie))
    if row is None or row["expires_at"] <= now:
        raise NotAuthenticated("the session is not valid or has expired; log in again")
    if row["disabled"]:
        raise NotAuthenticated("the user is disabled")
    return Session(_principal(row), str(row["csrf_token"]))


@dataclass(frozen=True)
class LoginResult:
    principal: Principal
    cookie: str  # the session secret for the cookie; only its hash is stored
    csrf_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"LoginResult(principal={self.principal!r})"


def login(engine: Engine, username: str, password: str, client: str, now: datetime, *,
          session_hours: int, max_failures: int, lock_minutes: int) -> LoginResult:
    """Check the password (argon2id). After `max_failures` failures for this user from this
    address, logins are refused for `lock_minutes` without even checking the password."""
    key = f"{username.strip().lower()[:150]}|{client[:100]}"
    result: LoginResult | None = None
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        failure = db.login_failure(conn, key)
        if failure and failure["locked_until"] is not None and failure["locked_until"] > now:
            raise LoginThrottled(failure["locked_until"])
        user = db.user_by_name(conn, username.strip())
        ok = passwords.verify_password(user["password_hash"] if user else None, password)
        if ok and user is not None and not user["disabled"]:
            db.clear_login_failures(conn, key)
            cookie = passwords.new_secret(SESSION_PREFIX)
            csrf = secrets.token_urlsafe(32)
            expires = now + timedelta(hours=session_hours)
            db.insert_session(conn, {"session_hash": passwords.secret_hash(cookie),
                                     "user_id": user["id"], "csrf_token": csrf,
                                     "expires_at": expires, "created_at": now})
            result = LoginResult(_principal(user), cookie, csrf, expires)
        else:
            # Committed although the caller gets an error: that is the point of counting.
            count = db.record_login_failure(conn, key, now, max_failures,
                                            now + timedelta(minutes=lock_minutes))
            log.info("failed login for %r from %s (%d in a row)", username[:150], client,
                     count)
    if result is None:
        raise NotAuthenticated("wrong username or password")
    log.info("user %s logged in from %s", result.principal.username, client)
    return result


def logout(engine: Engine, cookie: str) -> None:
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        db.delete_session(conn, passwords.secret_hash(cookie))


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
