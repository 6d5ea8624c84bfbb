"""`o2c user`, `o2c token`, `o2c audit` and `o2c gdpr` against a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from o2c.api import create_app
from o2c.bootstrap import App, SettableClock
from o2c.cli import app as cli_app
from tests.fixtures.security import invoiced
from tests.fixtures.world import World, build_world


def invoke(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli_app, ["--database-url", url, *args], env=env)


def test_a_user_and_a_token_made_on_the_cli_work_on_the_api(app: App, db_url: str) -> None:
    made = invoke(db_url, "user", "create", "carla", "--role", "controller",
                  env={"O2C_NEW_PASSWORD": "a-long-enough-password"})
    assert made.exit_code == 0, made.output
    token = invoke(db_url, "token", "create", "carla", "--name", "laptop")
    assert token.exit_code == 0
    secret = token.stdout.splitlines()[0]
    assert secret.startswith("o2c_")
    with TestClient(create_app(app)) as client:
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["role"] == "controller"
        listed = json.loads(invoke(db_url, "token", "list", "--json").stdout)
        assert secret not in json.dumps(listed)
        assert invoke(db_url, "token", "revoke", str(listed[0]["id"])).exit_code == 0
        assert client.get("/api/v1/auth/me",
                          headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    users = json.loads(invoke(db_url, "user", "list", "--json").stdout)
    assert [(u["username"], u["role"]) for u in users] == [("carla", "controller")]
    assert invoke(db_url, "user", "disable", "carla").exit_code == 0


def test_bad_user_input_is_a_one_line_error(db_url: str, app: App) -> None:
    bad = invoke(db_url, "user", "create", "xavier", "--role", "root", "--no-password")
    assert bad.exit_code == 2 and "unknown role 'root'" in bad.stderr
    assert "Traceback" not in bad.output
    short = invoke(db_url, "user", "create", "yvonne", "--role", "sales",
                   env={"O2C_NEW_PASSWORD": "short"})
    assert short.exit_code == 2 and "at least 12 characters" in short.stderr


def test_the_demo_admin_is_created_once_and_its_login_printed(db_url: str, app: App,
                                                              tmp_path: Path) -> None:
    secret_file = tmp_path / "demo-password"
    first = invoke(db_url, "user", "demo-admin", "--password-file", str(secret_file))
    second = invoke(db_url, "user", "demo-admin", "--password-file", str(secret_file))
    assert first.exit_code == second.exit_code == 0
    password = secret_file.read_text().strip()
    assert password in first.stdout and password in second.stdout
    assert "o2c token create admin" in first.stdout and "/login" in first.stdout
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    with TestClient(create_app(app)) as client:
        response = client.post("/api/v1/auth/login",
                               json={"username": "admin", "password": password})
        assert response.json()["role"] == "admin"


@pytest.fixture
def world(app: App) -> World:
    return build_world(app.bus)


def test_gdpr_commands_export_erase_and_purge_and_the_books_verify(
        app: App, db_url: str, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI runs on the real clock: the invoice is from 2020 and Italian invoices are kept
    # five years here, so the retention has ended by the time the test runs.
    monkeypatch.setenv("O2C_RETENTION_YEARS", "IT=5")
    clock = app.clock
    assert isinstance(clock, SettableClock)
    clock.set(datetime(2020, 6, 2, 9, tzinfo=UTC))
    invoiced(app.bus, app.engine, world)
    exported = json.loads(invoke(db_url, "gdpr", "export", "C-00001").stdout)
    assert exported["customer"]["name"] == "Rossi Arredamenti S.p.A."
    erased = invoke(db_url, "gdpr", "erase", "C-00001", "--reason", "letter of 2 March",
                    "--json")
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.stdout)["retention_until"] == "2025-12-31"
    assert "Rossi" not in invoke(db_url, "gdpr", "export", "C-00001").stdout.split(
        '"invoices"')[0]
    future = invoke(db_url, "gdpr", "purge", "--as-of", "2099-01-01")
    assert future.exit_code != 0 and "after today" in future.output
    purged = json.loads(invoke(db_url, "gdpr", "purge", "--as-of", "2026-01-01",
                               "--json").stdout)
    assert purged == {"customers": [world.customers["rossi"]], "invoices": 1}
    assert invoke(db_url, "ledger", "verify").exit_code == 0
    verified = invoke(db_url, "audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True
    records = json.loads(invoke(db_url, "audit", "list", "--json", "--limit", "3").stdout)
    assert [r["command"] for r in records] == ["PurgeExpired", "EraseCustomer",
                                               "ShipShipment"]
    assert records[0]["actor"] == "cli:security"


def test_grant_app_role_is_refused_on_sqlite(db_url: str, app: App) -> None:
    result = invoke(db_url, "db", "grant-app-role", "o2c_app")
    assert result.exit_code == 2 and "only on PostgreSQL" in result.stderr
