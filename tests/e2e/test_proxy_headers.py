"""Who is calling, as the login lock counts it: uvicorn believes X-Forwarded-For from
127.0.0.1 by default, so any local caller could claim a new address with every attempt and
never be locked out. o2c believes it only from the proxies named in O2C_TRUSTED_PROXIES."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from o2c.bootstrap import App
from o2c.cli.system import proxy_options
from o2c.domain.access import CreateUser, SetPassword
from o2c.server import create_app
from tests.e2e.web_support import served


def _attempts(base: str, count: int) -> list[int]:
    """Wrong passwords, each claiming to come from another address."""
    with httpx.Client(base_url=base) as http:
        return [http.post("/api/v1/auth/login", json={"username": "mara", "password": "wrong"},
                          headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(count)]


@pytest.fixture
def mara(app: App) -> None:
    app.bus.handle(CreateUser("mara", None, "sales"))
    app.bus.handle(SetPassword("mara", "the right password"))


def test_a_local_caller_cannot_dodge_the_login_lock_with_x_forwarded_for(
        app: App, mara: None) -> None:
    with served(create_app(app), **proxy_options(app.settings)) as base:
        statuses = _attempts(base, app.settings.login_max_failures + 1)
    assert statuses[-1] == 429  # locked: every attempt came from 127.0.0.1


def test_a_configured_proxy_is_believed(app: App, mara: None) -> None:
    behind_proxy = replace(app, settings=replace(app.settings, trusted_proxies="127.0.0.1"))
    with served(create_app(behind_proxy), **proxy_options(behind_proxy.settings)) as base:
        statuses = _attempts(base, app.settings.login_max_failures + 1)
    assert set(statuses) == {401}  # each a different client address, as the proxy says
