"""No request, however hostile, gets a server error, and every answer is one the OpenAPI
document declares: a Schemathesis run over every operation, as an administrator and as a
portal customer, with valid and with schema-breaking input, on SQLite and PostgreSQL.

The run is seeded (derandomized) and short in `make test` (O2C_FUZZ_EXAMPLES, 6 cases per
operation and mode); `make fuzz` explores more."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import CreateToken, CreateUser
from o2c.server import create_app
from tests.e2e.fuzz import fuzz
from tests.fixtures.security import invoiced
from tests.fixtures.world import World

EXAMPLES = int(os.environ.get("O2C_FUZZ_EXAMPLES", "6"))


@pytest.fixture
def business(any_app: App, world: World) -> World:
    """Invoices, a payment and a credit hold to act on, and a user the fuzzer may disable."""
    for name in ("rossi", "dupont"):
        invoiced(any_app.bus, any_app.engine, world, name)
    any_app.bus.handle(c.RecordPayment(world.customers["rossi"], Decimal(50), "EUR"))
    any_app.bus.handle(CreateUser("fuzz-victim", None, "sales"))
    return world


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("role", ["admin", "customer"])
def test_no_request_gets_a_server_error_and_every_answer_is_documented(
        any_app: App, business: World, role: str, mode: str) -> None:
    customer_id = business.customers["rossi"] if role == "customer" else None
    username = f"fuzz-{role}"
    any_app.bus.handle(CreateUser(username, None, role, customer_id))
    minted = iter(range(10**6))

    def token() -> str:
        secret: str = any_app.bus.handle(CreateToken(username, f"fuzz-{next(minted)}")).secret
        return secret

    api = create_app(any_app)
    with TestClient(api):  # runs the app's startup, as a server would
        run = fuzz(api, token, mode=mode, examples=EXAMPLES)
    print(f"fuzz {role} {mode}: {run.report()}")
    assert run.requests >= EXAMPLES * 80
    assert run.failures == [], "\n\n".join(run.failures)
