"""ISO 11649 structured creditor references, checked against python-stdnum."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import iso11649

from o2c.domain.references import (
    creditor_reference,
    format_creditor_reference,
    is_valid_creditor_reference,
)

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_the_iso_11649_example_reference_is_reproduced() -> None:
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert format_creditor_reference("RF18539007547034") == "RF18 5390 0754 7034"


def test_invoice_numbers_become_valid_references_without_separators() -> None:
    reference = creditor_reference("INV-2026-00001")
    assert reference.startswith("RF") and reference.endswith("INV202600001")
    assert iso11649.is_valid(reference)
    assert is_valid_creditor_reference(format_creditor_reference(reference))


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet=ALNUM + "abcdefxyz -/.", min_size=1, max_size=30))
def test_every_reference_created_is_valid_for_stdnum(base: str) -> None:
    body = "".join(ch for ch in base.upper() if ch.isalnum())
    assume(1 <= len(body) <= 21)
    reference = creditor_reference(base)
    assert iso11649.is_valid(reference)
    assert is_valid_creditor_reference(reference)
    assert reference[4:] == body
    assert iso11649.compact(reference) == reference


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="0123456789", min_size=1, max_size=21), st.data())
def test_a_single_wrong_digit_makes_a_reference_invalid(base: str, data: st.DataObject) -> None:
    reference = creditor_reference(base)
    position = data.draw(st.integers(min_value=4, max_value=len(reference) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != reference[position]]))
    mutated = reference[:position] + wrong + reference[position + 1:]
    assert not is_valid_creditor_reference(mutated)
    assert not iso11649.is_valid(mutated)


@pytest.mark.parametrize("base", ["", "---", "A" * 22])
def test_a_reference_needs_one_to_twenty_one_alphanumerics(base: str) -> None:
    with pytest.raises(ValueError):
        creditor_reference(base)


@pytest.mark.parametrize("text", ["RF19539007547034", "XX18539007547034", "RF1", "RF00"])
def test_wrong_references_are_recognised(text: str) -> None:
    assert not is_valid_creditor_reference(text)
