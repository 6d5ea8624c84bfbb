"""Verification of the audit trail: recompute every hash in chain order and compare the last
one with the chain head (which catches records cut off the end)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from o2c.adapters.db import security as db
from o2c.domain.audit import GENESIS, ChainBreak, verify_chain


@dataclass(frozen=True)
class AuditVerification:
    records: int
    broken: ChainBreak | None
    head_hash: str = GENESIS  # publish it elsewhere (anchor) to detect a rewritten chain

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records,
                "first_broken_seq": self.broken.seq if self.broken else None,
                "problem": self.broken.reason if self.broken else None,
                "head_hash": self.head_hash}


def verify_audit(engine: Engine, progress: Callable[[int], None] | None = None,
                 every: int = 1000) -> AuditVerification:
    """`progress(records checked)` is called every `every` records."""
    with engine.connect() as conn:
        head = db.audit_head(conn) or {"seq": 0, "hash": GENESIS}
        count = 0
        last: dict[str, Any] | None = None

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal count, last
            for record in db.audit_records(conn):
                count += 1
                last = record
                if progress is not None and count % every == 0:
                    progress(count)
                yield record

        broken = verify_chain(counted())
        if broken is None:
            last_seq = last["seq"] if last else 0
            last_hash = last["hash"] if last else GENESIS
            if head["seq"] != last_seq or head["hash"] != last_hash:
                broken = ChainBreak(last_seq + 1, f"the chain head is at record "
                                    f"{head['seq']} but the log ends at {last_seq} (records "
                                    "were removed from the end)")
        return AuditVerification(count, broken, last["hash"] if last else GENESIS)
