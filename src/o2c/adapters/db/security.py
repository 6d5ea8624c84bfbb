"""SQL of the security capability: users, API tokens, web sessions, login throttling, the
hash-chained audit trail, approval requests, GDPR erasure, and the PostgreSQL grants that make
audit and ledger rows append-only for the application role."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from o2c.adapters.db import tables as t
from o2c.adapters.db.fastpath import SerializedJSON, Statement
from o2c.adapters.db.mapper import Change, Created
from o2c.adapters.db.queries import Page, PageRequest, paginate
from o2c.domain.aggregate import jsonable
from o2c.domain.audit import GENESIS, canonical_json, record_hash, split_personal
from o2c.domain.money import plain

Row = dict[str, Any]

# -- users, tokens, sessions -------------------------------------------------------------------


def user_by_name(conn: Connection, username: str) -> Row | None:
    row = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
    return dict(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> Row | None:
    row = conn.execute(select(t.users).where(t.users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def insert_user(conn: Connection, values: Row) -> int:
    return int(conn.execute(insert(t.users).returning(t.users.c.id), values).scalar_one())


def update_user(conn: Connection, user_id: int, values: Row) -> None:
    conn.execute(update(t.users).where(t.users.c.id == user_id)
                 .values(**values, version=t.users.c.version + 1))


_USERS = select(t.users.c.id, t.users.c.username, t.users.c.role, t.users.c.customer_id,
                t.users.c.disabled, t.users.c.created_at)


def list_users(conn: Connection) -> list[Row]:
    return [dict(r) for r in conn.execute(_USERS.order_by(t.users.c.id)).mappings()]


def page_of_users(conn: Connection, page: PageRequest) -> Page:
    return paginate(conn, _USERS, page, [t.users.c.id])


def insert_token(conn: Connection, values: Row) -> int:
    return int(conn.execute(insert(t.api_tokens).returning(t.api_tokens.c.id),
                            values).scalar_one())


def token_by_id(conn: Connection, token_id: int) -> Row | None:
    row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)
                       ).mappings().first()
    return dict(row) if row else None


def revoke_token(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == token_id)
                 .values(revoked_at=now, version=t.api_tokens.c.version + 1))


_TOKENS = (select(t.api_tokens.c.id, t.api_tokens.c.name, t.api_tokens.c.prefix,
                   t.api_tokens.c.expires_at, t.api_tokens.c.revoked_at,
                   t.api_tokens.c.created_at, t.users.c.username)
           .join(t.users, t.users.c.id == t.api_tokens.c.user_id))


def list_tokens(conn: Connection, user_id: int | None = None) -> list[Row]:
    query = _TOKENS.order_by(t.api_tokens.c.id)
    if user_id is not None:
        query = query.where(t.api_tokens.c.user_id == user_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def page_of_tokens(conn: Connection, page: PageRequest) -> Page:
    return paginate(conn, _TOKENS, page, [t.api_tokens.c.id])


def token_listing(conn: Connection, token_id: int) -> Row | None:
    row = conn.execute(_TOKENS.where(t.api_tokens.c.id == token_id)).mappings().first()
    return dict(row) if row else None


_TOKEN_USER = Statement(
    select(t.api_tokens.c.id.label("token_id"), t.api_tokens.c.expires_at,
           t.api_tokens.c.revoked_at, t.users.c.id, t.users.c.username, t.users.c.role,
           t.users.c.customer_id, t.users.c.disabled)
    .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
    .where(t.api_tokens.c.token_hash == bindparam("token_hash")))


def user_of_token(conn: Connection, token_hash: str) -> Row | None:
    return _TOKEN_USER.first(conn, {"token_hash": token_hash})


def insert_session(conn: Connection, values: Row) -> None:
    conn.execute(insert(t.web_sessions), values)


_SESSION_USER = Statement(
    select(t.web_sessions.c.csrf_token, t.web_sessions.c.expires_at, t.users.c.id,
           t.users.c.username, t.users.c.role, t.users.c.customer_id, t.users.c.disabled)
    .join(t.users, t.users.c.id == t.web_sessions.c.user_id)
    .where(t.web_sessions.c.session_hash == bindparam("session_hash")))


def user_of_session(conn: Connection, session_hash: str) -> Row | None:
    return _SESSION_USER.first(conn, {"session_hash": session_hash})


def delete_session(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(t.web_sessions).where(t.web_sessions.c.session_hash == session_hash))


def delete_sessions_of(conn: Connection, user_id: int) -> None:
    conn.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == user_id))


# -- login throttling (in the database, so it holds across processes) -------------------------


def login_failure(conn: Connection, key: str) -> Row | None:
    row = conn.execute(select(t.login_failures).where(t.login_failures.c.key == key)
                       ).mappings().first()
    return dict(row) if row else None


def record_login_failure(conn: Connection, key: str, now: datetime, lock_after: int,
                         lock_until: datetime) -> int:
    """Counts a failed login; from the `lock_after`-th the key is locked until `lock_until`.
    Returns the number of failures."""
    upsert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = upsert(t.login_failures).values(key=key, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"failures": t.login_failures.c.failures + 1, "last_failure_at": now})
    conn.execute(statement)
    failures = int(conn.execute(select(t.login_failures.c.failures)
                                .where(t.login_failures.c.key == key)).scalar_one())
    if failures >= lock_after:
        conn.execute(update(t.login_failures).where(t.login_failures.c.key == key)
                     .values(locked_until=lock_until))
    return failures


def clear_login_failures(conn: Connection, key: str) -> None:
    conn.execute(delete(t.login_failures).where(t.login_failures.c.key == key))


# -- the audit trail -----------------------------------------------------------------------------

SECRET_FIELDS = frozenset({"password_hash", "token_hash", "session_hash", "csrf_token"})
# Creations recorded with their values: master data, where the values are the decision
# (a new customer's credit limit...). Documents (orders, invoices, payments...) are recorded
# by id: their content is the document itself, posted ones never change, and their payload
# carries personal data of buyers and payers that must stay out of the hashed records.
CREATION_VALUES = frozenset({"company", "customer", "product", "warehouse"})
HEAD_ID = 1

# The head row is locked (PostgreSQL) for the rest of the transaction; a trigger on
# audit_log (migration 0002) moves it to each new record, so a command costs two statements.
_LOCK_HEAD = Statement(
    select(t.audit_chain_head.c.seq, t.audit_chain_head.c.hash)
    .where(t.audit_chain_head.c.id == HEAD_ID).with_for_update())
_INSERT_AUDIT = Statement(insert(t.audit_log))
_INSERT_PERSONAL = Statement(insert(t.audit_personal_data))


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    role: str
    request_id: str | None
    command: str
    reason: str | None
    changes: Sequence[Change]
    store_personal: bool = True


_NATIVE = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """A JSON value (the hot path: most changed values are already plain). Decimals lose the
    trailing zeros of the stored scale, so a record reads the same on either database."""
    if isinstance(value, _NATIVE):
        return value
    return str(plain(value)) if isinstance(value, Decimal) else jsonable(value)


def _ensure_head(conn: Connection) -> None:
    upsert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(upsert(t.audit_chain_head).values(id=HEAD_ID, seq=0, hash=GENESIS)
                 .on_conflict_do_nothing(index_elements=["id"]))


def append_audit(conn: Connection, entry: AuditEntry, now: datetime) -> None:
    """One record per command, chained to the previous one. The chain head row is locked
    first (until commit): concurrent commands chain in commit order."""
    head = _LOCK_HEAD.first(conn)
    if head is None:  # an emptied database (tests truncate every table)
        _ensure_head(conn)
        head = _LOCK_HEAD.first(conn)
        assert head is not None
    changes: list[Row] = []
    personal: list[tuple[str, int, Row]] = []
    for object_type, object_id, fields in entry.changes:
        if fields is None:
            changes.append({"object": object_type, "id": object_id, "created": True})
            continue
        if isinstance(fields, Created):
            if object_type not in CREATION_VALUES:
                changes.append({"object": object_type, "id": object_id, "created": True})
                continue
            created = {name: ("<secret>" if name in SECRET_FIELDS else _plain(value))
                       for name, value in fields.row.items() if name != "version"}
            masked, private = split_personal(object_type, created)
            if private and entry.store_personal:
                personal.append((object_type, object_id, private))
            changes.append({"object": object_type, "id": object_id, "created": masked})
            continue
        values = {name: ("<secret>" if name in SECRET_FIELDS else
                         [_plain(pair[0]), _plain(pair[1])])
                  for name, pair in fields.items() if name != "version"}
        masked, private = split_personal(object_type, values)
        if private and entry.store_personal:
            personal.append((object_type, object_id, private))
        changes.append({"object": object_type, "id": object_id, "fields": masked})
    first = entry.changes[0] if entry.changes else None
    record: Row = {
        "seq": head["seq"] + 1, "occurred_at": now.astimezone(UTC), "actor": entry.actor,
        "role": entry.role, "request_id": entry.request_id, "command": entry.command,
        "object_type": first[0] if first else None,
        "object_id": first[1] if first else None, "changes": changes,
        "reason": entry.reason, "prev_hash": head["hash"],
    }
    # The changes are encoded once: the stored text is the one the hash covers.
    changes_json = canonical_json(changes)
    record["hash"] = record_hash(record, changes_json)
    _INSERT_AUDIT.run(conn, {**record, "changes": SerializedJSON(changes_json)})
    if personal:
        _INSERT_PERSONAL.run_many(conn, [
            {"audit_seq": record["seq"], "object_type": o, "object_id": i, "data": d}
            for o, i, d in personal])


def audit_records(conn: Connection, batch: int = 5000) -> Iterator[Row]:
    """Every record in chain order, read in batches (keyset on seq)."""
    last = 0
    while True:
        rows = conn.execute(select(t.audit_log).where(t.audit_log.c.seq > last)
                            .order_by(t.audit_log.c.seq).limit(batch)).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = rows[-1]["seq"]


def audit_head(conn: Connection) -> Row | None:
    row = conn.execute(select(t.audit_chain_head)
                       .where(t.audit_chain_head.c.id == HEAD_ID)).mappings().first()
    return dict(row) if row else None


def list_audit(conn: Connection, object_type: str | None, object_id: int | None,
               limit: int, offset: int) -> tuple[list[Row], int]:
    query = select(t.audit_log)
    if object_type:
        query = query.where(t.audit_log.c.object_type == object_type)
    if object_id is not None:
        query = query.where(t.audit_log.c.object_id == object_id)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(t.audit_log.c.seq.desc()).limit(limit).offset(offset)
                        ).mappings().all()
    return [dict(r) for r in rows], int(total)


# -- approval requests -------------------------------------------------------------------------


def insert_approval(conn: Connection, values: Row) -> int:
    return int(conn.execute(insert(t.approval_requests).returning(t.approval_requests.c.id),
                            values).scalar_one())


def approval(conn: Connection, request_id: int, *, for_update: bool = False) -> Row | None:
    query = select(t.approval_requests).where(t.approval_requests.c.id == request_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def decide_approval(conn: Connection, request_id: int, values: Row, expected_state: str
                    ) -> bool:
    result = conn.execute(update(t.approval_requests)
                          .where(t.approval_requests.c.id == request_id,
                                 t.approval_requests.c.state == expected_state)
                          .values(**values, version=t.approval_requests.c.version + 1))
    return result.rowcount == 1


def list_approvals(conn: Connection, state: str | None, limit: int, offset: int
                   ) -> tuple[list[Row], int]:
    query = select(t.approval_requests)
    if state:
        query = query.where(t.approval_requests.c.state == state)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(t.approval_requests.c.id).limit(limit).offset(offset)
                        ).mappings().all()
    return [dict(r) for r in rows], int(total)


def credited_without_approval(conn: Connection, invoice_id: int) -> Decimal:
    """What the credit notes of an invoice credit in all (its currency), leaving out those an
    approved request created: dual control counts the rest together."""
    notes, requests = t.invoices, t.approval_requests
    approved = select(requests.c.result_id).where(
        requests.c.kind == "credit_note", requests.c.state == "approved",
        requests.c.result_id.is_not(None))
    amounts = conn.execute(select(notes.c.gross_amount).where(
        notes.c.corrects_invoice_id == invoice_id, notes.c.kind == "credit_note",
        notes.c.id.not_in(approved))).scalars().all()
    return sum((abs(a) for a in amounts), Decimal(0))


def ensure_account(conn: Connection, company_id: int, code: str, name: str, kind: str) -> None:
    exists = conn.execute(select(t.accounts.c.code).where(
        t.accounts.c.company_id == company_id, t.accounts.c.code == code)).first()
    if exists is None:
        conn.execute(insert(t.accounts), {"company_id": company_id, "code": code,
                                          "name": name, "type": kind})


# -- GDPR ----------------------------------------------------------------------------------------


def customer_export(conn: Connection, customer_id: int) -> Row | None:
    """Everything held about a customer and its contacts, as plain rows."""
    customer = conn.execute(select(t.customers).where(t.customers.c.id == customer_id)
                            ).mappings().first()
    if customer is None:
        return None

    def rows(table: Any, column: Any) -> list[Row]:
        return [dict(r) for r in conn.execute(select(table).where(column == customer_id)
                                              .order_by(table.c.id)).mappings()]

    invoice_ids = select(t.invoices.c.id).where(t.invoices.c.customer_id == customer_id)
    order_ids = select(t.sales_orders.c.id).where(t.sales_orders.c.customer_id == customer_id)
    users = [{k: v for k, v in r.items() if k != "password_hash"}
             for r in rows(t.users, t.users.c.customer_id)]
    return {
        "customer": dict(customer),
        "portal_users": users,
        "orders": rows(t.sales_orders, t.sales_orders.c.customer_id),
        "order_lines": [dict(r) for r in conn.execute(
            select(t.order_lines).where(t.order_lines.c.order_id.in_(order_ids))
            .order_by(t.order_lines.c.id)).mappings()],
        "shipments": rows(t.shipments, t.shipments.c.customer_id),
        "invoices": rows(t.invoices, t.invoices.c.customer_id),
        "invoice_lines": [dict(r) for r in conn.execute(
            select(t.invoice_lines).where(t.invoice_lines.c.invoice_id.in_(invoice_ids))
            .order_by(t.invoice_lines.c.id)).mappings()],
        "open_items": rows(t.open_items, t.open_items.c.customer_id),
        "payments": rows(t.payments, t.payments.c.customer_id),
        "allocations": rows(t.allocations, t.allocations.c.customer_id),
        "events": [dict(r) for r in conn.execute(
            select(t.event_log).where(t.event_log.c.object_type == "customer",
                                      t.event_log.c.object_id == customer_id)
            .order_by(t.event_log.c.id)).mappings()],
        "audit_personal_data": [dict(r) for r in conn.execute(
            select(t.audit_personal_data).where(
                t.audit_personal_data.c.object_type == "customer",
                t.audit_personal_data.c.object_id == customer_id)
            .order_by(t.audit_personal_data.c.id)).mappings()],
        "erasure": next(iter(rows(t.gdpr_erasures, t.gdpr_erasures.c.customer_id)), None),
    }


def last_document_date(conn: Connection, customer_id: int) -> date | None:
    value = conn.execute(select(func.max(t.invoices.c.issue_date))
                         .where(t.invoices.c.customer_id == customer_id)).scalar_one()
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def erasure_of(conn: Connection, customer_id: int) -> Row | None:
    row = conn.execute(select(t.gdpr_erasures).where(
        t.gdpr_erasures.c.customer_id == customer_id)).mappings().first()
    return dict(row) if row else None


def insert_erasure(conn: Connection, values: Row) -> int:
    return int(conn.execute(insert(t.gdpr_erasures).returning(t.gdpr_erasures.c.id),
                            values).scalar_one())


def pseudonymise_side_data(conn: Connection, customer_id: int, marker: str,
                           now: datetime) -> None:
    """Personal data held beside the customer row: audited personal values, portal users and
    their credentials, the payload of the customer's events."""
    conn.execute(update(t.audit_personal_data).where(
        t.audit_personal_data.c.object_type == "customer",
        t.audit_personal_data.c.object_id == customer_id).values(data={"erased": marker}))
    # Event payloads (not hashed, not append-only) may carry the values that changed.
    conn.execute(update(t.event_log).where(t.event_log.c.object_type == "customer",
                                          t.event_log.c.object_id == customer_id)
                 .values(data={"erased": marker}))
    user_ids = select(t.users.c.id).where(t.users.c.customer_id == customer_id)
    conn.execute(update(t.audit_personal_data).where(
        t.audit_personal_data.c.object_type == "user",
        t.audit_personal_data.c.object_id.in_(user_ids)).values(data={"erased": marker}))
    conn.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id.in_(user_ids)))
    conn.execute(update(t.api_tokens).where(t.api_tokens.c.user_id.in_(user_ids),
                                            t.api_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    conn.execute(update(t.users).where(t.users.c.customer_id == customer_id).values(
        username=literal(f"{marker}-user-", String) + cast(t.users.c.id, String),
        password_hash=None,
        disabled=True))


def expired_erasures(conn: Connection, as_of: date) -> list[Row]:
    return [dict(r) for r in conn.execute(
        select(t.gdpr_erasures).where(t.gdpr_erasures.c.retention_until < as_of,
                                      t.gdpr_erasures.c.purged_at.is_(None))
        .order_by(t.gdpr_erasures.c.id)).mappings()]


def purge_invoice_party_data(conn: Connection, customer_id: int, marker: str,
                             country: str, now: datetime) -> int:
    """After the retention period: the buyer's identity on invoices and orders, and the payer
    on payments, are replaced too (amounts, numbers, the buyer's country and the ledger stay,
    so the books still add up and each document still shows what it was)."""
    buyer = {"name": marker, "country": country, "address": {"country": country},
             "erased": True}
    count = conn.execute(update(t.invoices).where(t.invoices.c.customer_id == customer_id)
                         .values(buyer=buyer, buyer_reference="")).rowcount
    conn.execute(update(t.sales_orders).where(t.sales_orders.c.customer_id == customer_id)
                 .values(customer_reference="", notes=""))
    # Who paid, from which account: bank records, kept as long as the invoices they settle.
    conn.execute(update(t.payments).where(t.payments.c.customer_id == customer_id)
                 .values(payer_name=marker, payer_iban="", reference=""))
    conn.execute(update(t.gdpr_erasures).where(t.gdpr_erasures.c.customer_id == customer_id)
                 .values(purged_at=now))
    return int(count)


# -- PostgreSQL: the application role may not UPDATE or DELETE audit and ledger rows --------

APPEND_ONLY_TABLES = ("audit_log", "journal_entries", "journal_lines")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(engine: Engine, role: str) -> list[str]:
    """GRANT the application role what it needs: all DML on the working tables, but only
    INSERT and SELECT on the append-only ones. Returns the statements it ran."""
    if engine.dialect.name != "postgresql":
        raise ValueError("grants exist only on PostgreSQL")
    if not _ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain role name (a-z, 0-9, _)")
    working = [table.name for table in t.metadata.sorted_tables
               if table.name not in APPEND_ONLY_TABLES]
    quoted = ", ".join(f'"{name}"' for name in working)
    append_only = ", ".join(f'"{name}"' for name in APPEND_ONLY_TABLES)
    statements = [
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON {quoted} TO "{role}"',
        f'REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM "{role}"',
        f'GRANT SELECT, INSERT ON {append_only} TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        f'GRANT SELECT ON alembic_version TO "{role}"',
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    return statements

