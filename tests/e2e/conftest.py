"""The API over HTTP (FastAPI's TestClient) against the real, migrated databases of
tests/conftest.py: SQLite always, PostgreSQL when O2C_TEST_PG_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from o2c.adapters.db.tables import metadata
from o2c.api import create_app
from o2c.bootstrap import App, SettableClock
from tests.fixtures.world import World, build_world

API = "/api/v1"


@pytest.fixture
def client(any_app: App) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def world(any_app: App) -> World:
    return build_world(any_app.bus)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: a rejected request must leave every one of them as it was."""
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables}


def advance(clock: SettableClock, days: int) -> None:
    clock.set(clock() + timedelta(days=days))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance", "code"} <= body.keys()
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> list[str | None]:
    return [error["field"] for error in body.get("errors") or []]
