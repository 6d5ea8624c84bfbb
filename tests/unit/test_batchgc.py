"""Bulk commands raise the collector's threshold while they run and put it back after,
also when they fail, and when they nest."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from o2c.services.batchgc import BULK_THRESHOLDS, fewer_collections


@pytest.fixture(autouse=True)
def known_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_threshold_is_raised_inside_and_restored_after() -> None:
    with fewer_collections():
        assert gc.get_threshold() == BULK_THRESHOLDS
        with fewer_collections():
            assert gc.get_threshold() == BULK_THRESHOLDS
        assert gc.get_threshold() == BULK_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_the_threshold_is_restored_when_the_command_fails() -> None:
    with pytest.raises(ValueError), fewer_collections():
        raise ValueError("boom")
    assert gc.get_threshold() == (700, 10, 10)
