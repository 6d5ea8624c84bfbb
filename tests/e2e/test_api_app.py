"""The app factory: `create_app()` with no argument wires itself from the environment."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from o2c.api import create_app
from tests.e2e.conftest import API, ok, token_for


def test_create_app_without_an_app_uses_the_database_from_the_environment(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", sqlite_url)
    api = create_app()
    try:
        with TestClient(api) as client:
            client.headers["Authorization"] = \
                f"Bearer {token_for(api.state.o2c, 'admin', 'admin')}"
            created = ok(client.post(f"{API}/companies", json={
                "code": "ENV", "name": "From the environment", "country": "FR",
                "currency": "EUR"}), 201)
            assert ok(client.get(f"{API}/companies/{created['id']}"))["code"] == "ENV"
            assert ok(client.get("/openapi.json"))["info"]["title"] == "o2c"
    finally:
        api.state.o2c.engine.dispose()
