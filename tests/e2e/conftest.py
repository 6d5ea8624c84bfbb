"""The API over HTTP (FastAPI's TestClient) against the real, migrated databases of
tests/conftest.py: SQLite always, PostgreSQL when O2C_TEST_PG_URL is set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from o2c.adapters.db.tables import metadata
from o2c.bootstrap import App, SettableClock
from o2c.domain.access import CreateToken, CreateUser
from o2c.server import create_app
from tests.fixtures.world import World, build_world

API = "/api/v1"


def token_for(app: App, username: str, role: str, customer_id: int | None = None) -> str:
    """A user with `role` (created by the local system actor) and an API token of theirs."""
    app.bus.handle(CreateUser(username, None, role, customer_id))
    token: str = app.bus.handle(CreateToken(username, "tests")).secret
    return token


@pytest.fixture
def anonymous(any_app: App) -> Iterator[TestClient]:
    """A client with no credentials at all."""
    with TestClient(create_app(any_app), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def client(any_app: App) -> Iterator[TestClient]:
    """The API as an administrator (Bearer token): what the API tests run as."""
    with TestClient(create_app(any_app), raise_server_exceptions=True) as test_client:
        test_client.headers["Authorization"] = \
            f"Bearer {token_for(any_app, 'admin', 'admin')}"
        yield test_client


ClientAs = Callable[..., TestClient]


@pytest.fixture
def client_as(any_app: App) -> Iterator[ClientAs]:
    """`client_as("warehouse")`: a client authenticated as a new user with that role
    (`customer_id=` for portal users); the username is the role unless given."""
    api = create_app(any_app)
    opened: list[TestClient] = []

    def make(role: str, *, customer_id: int | None = None, username: str | None = None
             ) -> TestClient:
        name = username or (role if customer_id is None else f"{role}-{customer_id}")
        test_client = TestClient(api, raise_server_exceptions=True)
        test_client.headers["Authorization"] = \
            f"Bearer {token_for(any_app, name, role, customer_id)}"
        opened.append(test_client)
        return test_client

    yield make
    for test_client in opened:
        test_client.close()


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
