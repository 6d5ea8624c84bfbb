"""Service tests run each command through the bus against a real, migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from o2c.bootstrap import App
from tests.fixtures.world import World, build_world
from tests.services.support import assert_ledger_ok


@pytest.fixture
def world(app: App) -> Iterator[World]:
    """The shared test business; whatever a test did, the books must still add up after it."""
    built = build_world(app.bus)
    yield built
    assert_ledger_ok(app.engine)
