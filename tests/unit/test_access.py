"""Dual-control rules, retention periods and the audit hash chain, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.access import (
    ApprovalKind,
    ApprovalState,
    Forbidden,
    Principal,
    Role,
    SameApprover,
    check_decision,
    retention_end,
)
from o2c.domain.audit import (
    GENESIS,
    PERSONAL,
    canonical,
    canonical_json,
    record_hash,
    split_personal,
    verify_chain,
)
from o2c.domain.errors import InvalidTransition

CONTROLLER = Principal("carla", Role.CONTROLLER, 2)


def test_nobody_but_a_controller_approves_a_write_off() -> None:
    for role in Role:
        decider = Principal("someone", role, 9)
        if role is Role.CONTROLLER:
            check_decision(ApprovalKind.WRITE_OFF, ApprovalState.PENDING, 1, "alice", decider)
        else:
            with pytest.raises(Forbidden):
                check_decision(ApprovalKind.WRITE_OFF, ApprovalState.PENDING, 1, "alice",
                               decider)


def test_the_requester_cannot_approve_their_own_request() -> None:
    with pytest.raises(SameApprover):
        check_decision(ApprovalKind.WRITE_OFF, ApprovalState.PENDING, 1, "carla", CONTROLLER)


def test_a_decided_request_cannot_be_decided_again() -> None:
    with pytest.raises(InvalidTransition):
        check_decision(ApprovalKind.CREDIT_NOTE, ApprovalState.APPROVED, 1, "alice",
                       CONTROLLER)


def test_a_credit_manager_approves_credit_limits_but_not_credit_notes() -> None:
    manager = Principal("mario", Role.CREDIT_MANAGER, 3)
    check_decision(ApprovalKind.CREDIT_LIMIT, ApprovalState.PENDING, 1, "alice", manager)
    with pytest.raises(Forbidden):
        check_decision(ApprovalKind.CREDIT_NOTE, ApprovalState.PENDING, 1, "alice", manager)


@pytest.mark.parametrize(("country", "until"), [
    ("IT", date(2036, 12, 31)), ("FR", date(2036, 12, 31)), ("ES", date(2032, 12, 31)),
    ("DE", date(2036, 12, 31)), ("MX", date(2031, 12, 31)),
])
def test_invoices_are_kept_for_the_legal_period_of_the_country(country: str,
                                                                until: date) -> None:
    assert retention_end(country, date(2026, 3, 2), date(2026, 6, 1)) == until


def test_retention_years_are_configurable_and_nothing_to_keep_ends_at_once() -> None:
    assert retention_end("IT", date(2026, 3, 2), date(2026, 6, 1), {"IT": 7}) == \
        date(2033, 12, 31)
    assert retention_end("IT", None, date(2026, 6, 1)) == date(2026, 6, 1)


def _chain(n: int) -> list[dict[str, Any]]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        record: dict[str, Any] = {
            "seq": seq, "occurred_at": datetime(2026, 3, 2, 9, seq, tzinfo=UTC),
            "actor": "alice", "role": "sales", "request_id": f"r{seq}",
            "command": "CreateOrder", "object_type": "order", "object_id": seq,
            "changes": [{"object": "order", "id": seq, "created": True}], "reason": None,
            "prev_hash": prev}
        record["hash"] = prev = record_hash(record)
        records.append(record)
    return records


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(_chain(5)) is None


def test_a_changed_record_breaks_the_chain_at_that_record() -> None:
    records = _chain(5)
    records[2]["actor"] = "mallory"
    broken = verify_chain(records)
    assert broken is not None and broken.seq == 3 and "changed" in broken.reason


def test_a_removed_record_breaks_the_chain_where_it_was() -> None:
    records = _chain(5)
    del records[1]
    broken = verify_chain(records)
    assert broken is not None and broken.seq == 3


def test_a_rehashed_forgery_still_breaks_the_link_to_the_next_record() -> None:
    records = _chain(5)
    records[1]["reason"] = "forged"
    records[1]["hash"] = record_hash(records[1])
    broken = verify_chain(records)
    assert broken is not None and broken.seq == 3 and "prev_hash" in broken.reason


def test_personal_values_stay_out_of_the_hashed_changes() -> None:
    masked, personal = split_personal("customer", {"name": ["Rossi", "Bianchi"],
                                                   "credit_limit": ["5000", "6000"]})
    assert masked == {"name": PERSONAL, "credit_limit": ["5000", "6000"]}
    assert personal == {"name": ["Rossi", "Bianchi"]}


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT
    | st.decimals(allow_nan=False, allow_infinity=False) | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(actor=_TEXT, command=_TEXT, reason=st.none() | _TEXT, changes=st.lists(
    st.dictionaries(_TEXT, _VALUE, max_size=4), max_size=4))
def test_the_writer_s_spliced_canonical_text_is_the_one_the_verifier_recomputes(
        actor: str, command: str, reason: str | None, changes: list[Any]) -> None:
    # The writer encodes the changes once and splices that text into the hashed payload;
    # verify_chain re-encodes the whole record. Any difference would break every chain.
    record = {"seq": 7, "occurred_at": datetime(2026, 3, 2, 9, tzinfo=UTC), "actor": actor,
              "role": "clerk", "request_id": None, "command": command,
              "object_type": "order", "object_id": 3, "changes": changes, "reason": reason,
              "prev_hash": GENESIS}
    assert canonical(record, canonical_json(changes)) == canonical(record)
    assert record_hash(record, canonical_json(changes)) == record_hash(record)
    # ...and both are the text records were always hashed with, so existing chains verify.
    written_so = json.dumps({**record, "occurred_at": record["occurred_at"].isoformat()},
                            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            default=str)
    assert canonical(record) == written_so
