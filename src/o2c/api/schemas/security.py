"""DTOs of authentication, users, tokens, approvals, the audit trail and GDPR."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from o2c.api.schemas.common import Amount, Day, Dec, Input, Model, Ref
from o2c.api.schemas.invoices import CreditLineIn
from o2c.domain.access import ApprovalKind


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(Model):
    username: str
    role: str
    customer_id: int | None = None
    csrf_token: str | None = Field(None, description="send it as X-CSRF-Token on POST/PATCH "
                                                     "requests made with the session cookie")
    expires_at: datetime | None = None


class UserIn(Input):
    username: str = Field(min_length=3, max_length=150)
    role: str = Field(max_length=20, examples=["sales"])
    password: str | None = Field(None, min_length=12, max_length=1000,
                                 description="omit for a token-only user")
    customer_id: Ref | None = Field(None, description="portal users (role customer) only")


class UserOut(Model):
    id: int
    username: str
    role: str
    customer_id: int | None = None
    disabled: bool
    created_at: datetime


class TokenIn(Input):
    username: str | None = Field(None, max_length=150,
                                 description="must be the caller: a token is for the person "
                                             "who asks for it (omit it)")
    name: str = Field("api", max_length=100)
    days: int | None = Field(90, ge=1, le=3650, description="lifetime; null: no expiry")


class TokenOut(Model):
    id: int
    name: str
    prefix: str = Field(description="the first characters, to recognise the token")
    username: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_at: datetime


class NewTokenOut(Model):
    id: int
    username: str
    token: str = Field(description="shown this once; only a hash of it is stored")
    expires_at: datetime | None = None


class ApprovalIn(Input):
    kind: ApprovalKind = Field(description="credit_limit (object: customer), credit_note "
                                           "(object: invoice), write_off (object: invoice)")
    object_id: Ref
    reason: str = Field(min_length=1, max_length=2000)
    credit_limit: Amount | None = Field(
        None, description="credit_limit requests: the new limit; null (sent explicitly) "
                          "removes the limit")
    lines: list[CreditLineIn] | None = Field(
        None, min_length=1, max_length=500,
        description="credit_note requests: lines as for POST /invoices/{id}/credit-notes; "
                    "omitted: the whole invoice")

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> ApprovalIn:
        """Each kind carries only what its command takes: a credit limit request names the
        new limit, a credit note request may name lines, a write-off neither."""
        sent = self.model_fields_set
        if self.kind is ApprovalKind.CREDIT_LIMIT and "credit_limit" not in sent:
            raise PydanticCustomError("missing_for_kind",
                                      "a credit_limit request says the new credit_limit")
        if self.kind is not ApprovalKind.CREDIT_LIMIT and "credit_limit" in sent:
            raise PydanticCustomError("not_for_kind",
                                      "credit_limit belongs to credit_limit requests only")
        if self.kind is not ApprovalKind.CREDIT_NOTE and self.lines is not None:
            raise PydanticCustomError("not_for_kind",
                                      "lines belong to credit_note requests only")
        return self

    def payload(self) -> dict[str, Any]:
        if self.kind is ApprovalKind.CREDIT_LIMIT:
            limit = self.credit_limit
            return {"credit_limit": None if limit is None else str(limit)}
        if self.lines is not None:
            return {"lines": [line.model_dump(mode="json") for line in self.lines]}
        return {}


class WriteOffIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(Input):
    reason: str = Field("", max_length=2000)


class ApprovalOut(Model):
    id: int
    kind: str
    object_type: str
    object_id: int
    payload: dict[str, Any]
    amount: Dec | None = None
    currency: str | None = None
    reason: str
    state: str
    requested_by: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str = ""
    result_id: int | None = None
    created_at: datetime


class AuditRecordOut(Model):
    seq: int
    occurred_at: datetime
    actor: str
    role: str
    request_id: str | None = None
    command: str
    object_type: str | None = None
    object_id: int | None = None
    changes: list[dict[str, Any]]
    reason: str | None = None
    prev_hash: str
    hash: str


class AuditVerificationOut(Model):
    ok: bool
    records: int
    first_broken_seq: int | None = None
    problem: str | None = None
    head_hash: str = Field(description="hash of the last record: kept elsewhere, it shows "
                                       "later whether the whole chain was rewritten")


class ErasureIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class ErasureOut(Model):
    customer_id: int
    retention_until: date
    legal_basis: str


class PurgeIn(Input):
    as_of: Day = Field(description="not after today: retention ends on a day that has come")


class PurgeOut(Model):
    customers: list[int]
    invoices: int
