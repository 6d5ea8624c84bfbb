"""The tamper-evident audit trail: each record's SHA-256 covers a canonical JSON of its fields
and the previous record's hash, so changing, inserting or deleting any record breaks the chain
from there on.

Personal data stays OUT of the hashed payload. Values of personal-data fields (a customer's
name, addresses, e-mail, VAT id, tax code...) are replaced in `changes` by the marker
"<personal>" and kept in a side table (`audit_personal_data`) that GDPR erasure may
pseudonymise. That way erasing a person never breaks the chain, and the chain still proves
*that* and *when* the field changed and who changed it. (Hashing the personal value itself
would keep a fingerprint of it forever, which is itself personal data.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from o2c.domain.aggregate import json_encoder

GENESIS = "0" * 64
PERSONAL = "<personal>"

# Fields that identify or describe a natural person (sole traders, contacts), per object.
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"name", "email", "vat_id", "tax_code", "billing_address",
                           "shipping_address", "buyer_reference"}),
    "user": frozenset({"username", "password_hash"}),
}

HASHED_FIELDS = ("seq", "occurred_at", "actor", "role", "request_id", "command",
                 "object_type", "object_id", "changes", "reason", "prev_hash")


# How the hashed text encodes values: keys sorted, no whitespace, non-ASCII kept, anything
# else as str().
canonical_json = json_encoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=str)


def canonical(record: Mapping[str, Any], changes_json: str | None = None) -> str:
    """The hashed text: only HASHED_FIELDS, keys sorted, no whitespace, UTC ISO times.

    `changes_json` is canonical_json(record["changes"]) when the caller already has it (the
    writer stores that same text): it is spliced in rather than encoded again."""
    payload = {}
    for name in HASHED_FIELDS:
        value = record.get(name)
        if isinstance(value, datetime):
            value = value.isoformat()
        payload[name] = value
    if changes_json is None:
        return canonical_json(payload)
    # Sorted, "actor" < "changes" < every other field: the text is {"actor":..,"changes":..,
    # <the rest>}, exactly what encoding the whole payload gives.
    actor = canonical_json(payload.pop("actor"))
    del payload["changes"]
    return f'{{"actor":{actor},"changes":{changes_json},{canonical_json(payload)[1:]}'


def record_hash(record: Mapping[str, Any], changes_json: str | None = None) -> str:
    return hashlib.sha256(canonical(record, changes_json).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(records: Iterable[Mapping[str, Any]], prev_hash: str = GENESIS,
                 expected_seq: int = 1) -> ChainBreak | None:
    """The first record (in seq order) whose link or hash does not hold, or None."""
    for record in records:
        if record["seq"] != expected_seq:
            return ChainBreak(record["seq"],
                              f"sequence jumps from {expected_seq - 1} to {record['seq']} "
                              "(a record was removed or inserted)")
        if record["prev_hash"] != prev_hash:
            return ChainBreak(record["seq"],
                              "prev_hash does not match the previous record's hash")
        if record_hash(record) != record["hash"]:
            return ChainBreak(record["seq"],
                              "hash does not match the record's content (it was changed)")
        prev_hash = record["hash"]
        expected_seq += 1
    return None


def split_personal(object_type: str, changes: Mapping[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(changes with personal values masked, the personal values) for one object."""
    personal_fields = PERSONAL_FIELDS.get(object_type, frozenset())
    masked: dict[str, Any] = {}
    personal: dict[str, Any] = {}
    for name, value in changes.items():
        if name in personal_fields:
            masked[name] = PERSONAL
            personal[name] = value
        else:
            masked[name] = value
    return masked, personal
