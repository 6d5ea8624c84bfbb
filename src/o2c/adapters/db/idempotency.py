"""Stored responses for Idempotency-Key: a replay returns them and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from o2c.adapters.db import tables as t


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    body: Any


class IdempotencyStore:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now

    def find(self, key: str) -> StoredResponse | None:
        row = self.conn.execute(select(t.idempotency_keys)
                                .where(t.idempotency_keys.c.key == key)).mappings().first()
        if row is None:
            return None
        return StoredResponse(row["fingerprint"], row["status_code"], row["response"])

    def store(self, key: str, fingerprint: str, method: str, path: str, status_code: int,
              body: Any) -> None:
        self.conn.execute(insert(t.idempotency_keys), {
            "key": key, "fingerprint": fingerprint, "method": method, "path": path,
            "status_code": status_code, "response": body, "created_at": self.now})
