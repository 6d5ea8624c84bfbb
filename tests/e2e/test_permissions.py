"""Every operation of the API has a rule in the one permission table, and no request gets past
authentication without valid credentials: bad, expired or revoked tokens and malformed headers
get a clear 401 and write nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from o2c.api.permissions import PERMISSIONS, PUBLIC
from o2c.bootstrap import App, SettableClock
from o2c.domain.access import LOGIN_ROLES, CreateToken, CreateUser, DisableUser, RevokeToken, Role
from o2c.domain.commands import CreateCompany, CreateCustomer, CreatePaymentTerms
from o2c.server import create_app
from tests.e2e.conftest import API, ok, problem, row_counts, token_for


def _operations(client: TestClient) -> list[tuple[str, str, str]]:
    spec = client.get("/openapi.json").json()
    return [(method.upper(), path, operation["operationId"])
            for path, operations in spec["paths"].items()
            for method, operation in operations.items()]


def test_every_route_of_the_openapi_spec_has_a_permission_rule(anonymous: TestClient) -> None:
    missing = [f"{method} {path} ({op})" for method, path, op in _operations(anonymous)
               if op not in PERMISSIONS and op not in PUBLIC]
    assert missing == [], "add a line to o2c/api/permissions.py for: " + ", ".join(missing)


def _route_names(client: TestClient) -> set[str]:
    """Every route of the served app, the web pages (not in the OpenAPI spec) included."""

    def walk(routes: list[Any]) -> set[str]:
        names = set()
        for route in routes:
            if isinstance(route, APIRoute):
                names.add(route.name)
            elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
                names |= walk(route.original_router.routes)
            elif hasattr(route, "routes") and not hasattr(route, "app"):
                names |= walk(route.routes)
        return names

    return walk(client.app.routes)  # type: ignore[attr-defined]


def test_every_web_page_has_a_permission_rule(anonymous: TestClient) -> None:
    missing = sorted(_route_names(anonymous) - set(PERMISSIONS) - PUBLIC)
    assert missing == [], "add a line to o2c/api/permissions.py for: " + ", ".join(missing)


def test_the_permission_table_names_only_operations_that_exist(anonymous: TestClient) -> None:
    operations = {op for _, _, op in _operations(anonymous)} | _route_names(anonymous)
    assert set(PERMISSIONS) - operations == set()
    assert not set(PERMISSIONS) & PUBLIC


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_api_route_refuses_a_request_without_credentials(any_app: App,
                                                               anonymous: TestClient) -> None:
    before = row_counts(any_app.engine)
    for method, path, op in _operations(anonymous):
        if op in PUBLIC or not path.startswith(API):
            continue
        response = anonymous.request(method, _concrete(path), json={})
        body = problem(response, 401)
        assert body["code"] == "not_authenticated", (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert row_counts(any_app.engine) == before


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer o2c_x", "Bearer a b",
    "Token o2c_abc", "Bearer o2c_" + "x" * 300,
])
def test_a_malformed_authorization_header_is_a_401(anonymous: TestClient, header: str) -> None:
    body = problem(anonymous.get(f"{API}/orders", headers={"Authorization": header}), 401)
    assert body["code"] == "not_authenticated"


def test_unknown_expired_revoked_tokens_and_disabled_users_get_a_401_and_change_nothing(
        any_app: App, anonymous: TestClient, clock: SettableClock) -> None:
    good = token_for(any_app, "alice", "sales")
    short = any_app.bus.handle(CreateToken("alice", "short", days=1)).secret
    revoked = any_app.bus.handle(CreateToken("alice", "revoked"))
    any_app.bus.handle(RevokeToken(revoked.id))
    ok(anonymous.get(f"{API}/orders", headers={"Authorization": f"Bearer {good}"}))
    clock.set(clock() + timedelta(days=2))
    before = row_counts(any_app.engine)
    order = {"customer_id": 1, "lines": [{"product_id": 1, "quantity": "1"}]}
    for token, detail in [("o2c_not-a-token", "not valid"), (short, "expired"),
                          (revoked.secret, "revoked")]:
        response = anonymous.post(f"{API}/orders", json=order,
                                  headers={"Authorization": f"Bearer {token}"})
        assert detail in problem(response, 401)["detail"]
    any_app.bus.handle(DisableUser("alice"))
    after_disable = row_counts(any_app.engine)
    response = anonymous.post(f"{API}/orders", json=order,
                              headers={"Authorization": f"Bearer {good}"})
    assert "disabled" in problem(response, 401)["detail"]
    assert row_counts(any_app.engine) == after_disable
    assert {k: v for k, v in before.items() if k not in ("audit_log", "users")} == \
        {k: v for k, v in after_disable.items() if k not in ("audit_log", "users")}


def test_tokens_are_stored_only_as_hashes_and_shown_once(any_app: App,
                                                         client: TestClient) -> None:
    created = ok(client.post(f"{API}/tokens", json={"name": "scanner"}), 201)
    secret = created["token"]
    assert created["username"] == "admin"
    listed = ok(client.get(f"{API}/tokens"))["items"]
    assert secret not in str(listed)
    assert any(t["prefix"] == secret[:12] for t in listed)
    with any_app.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert secret not in stored and all(len(h) == 64 for h in stored)
    me = ok(client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {secret}"}))
    assert (me["username"], me["role"]) == ("admin", "admin")
    ok(client.post(f"{API}/tokens/{created['id']}/revoke"))
    problem(client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {secret}"}), 401)


def test_public_routes_need_no_credentials(anonymous: TestClient) -> None:
    assert ok(anonymous.get("/health")) == {"status": "ok"}
    assert anonymous.get("/docs").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200
    assert anonymous.get("/login").status_code == 200


def test_every_response_carries_security_headers_and_a_request_id(
        client: TestClient, anonymous: TestClient) -> None:
    responses = [client.get(f"{API}/orders"), anonymous.get(f"{API}/orders"),
                 anonymous.get("/login"), anonymous.get("/docs")]
    assert [r.status_code for r in responses] == [200, 401, 200, 200]
    for response in responses:
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    given = client.get(f"{API}/orders", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"


def test_hsts_is_sent_when_cookies_are_secure(any_app: App) -> None:
    secure = replace(any_app, settings=replace(any_app.settings, secure_cookies=True))
    with TestClient(create_app(secure)) as https:
        assert "max-age" in https.get("/health").headers["Strict-Transport-Security"]


def test_tokens_and_passwords_never_reach_the_logs(any_app: App, client: TestClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    password = "a-very-secret-password-42"
    ok(client.post(f"{API}/users", json={"username": "lena", "role": "controller",
                                         "password": password}), 201)
    client.post(f"{API}/auth/login", json={"username": "lena", "password": "wrong-password"})
    with TestClient(client.app) as browser:  # lena's own session mints lena's token
        session = browser.post(f"{API}/auth/login",
                               json={"username": "lena", "password": password})
        token = ok(browser.post(f"{API}/tokens", json={"name": "excel"},
                                headers={"X-CSRF-Token": session.json()["csrf_token"]}),
                   201)["token"]
    client.get(f"{API}/orders", headers={"Authorization": f"Bearer {token}"})
    client.get(f"{API}/orders", headers={"Authorization": "Bearer o2c_bogus-secret-value"})
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "failed login" in logged and "logged in" in logged
    for secret in (password, "wrong-password", token, "o2c_bogus-secret-value",
                   session.cookies.get("o2c_session") or "-", session.json()["csrf_token"]):
        assert secret not in logged
    assert password not in repr(CreateUser("lena", password, "controller"))


def test_each_role_is_refused_exactly_the_operations_its_rules_do_not_grant(
        any_app: App, anonymous: TestClient, client_as: Callable[..., TestClient]) -> None:
    """Every operation x every role: 403 where the table says no, and never a 403 of the
    permission check where it says yes (objects do not exist here: 404 or 422 then)."""
    any_app.bus.handle(CreatePaymentTerms("NET30", "Net 30", ((Decimal(100), 30, False),)))
    company = any_app.bus.handle(CreateCompany("ACME", "Acme", "IT", "EUR"))
    customer = any_app.bus.handle(CreateCustomer(company, "Rossi", "IT",
                                                 tax_code="RSSMRA80A01H501U"))
    clients = {role: client_as(role.value, customer_id=customer if role is Role.CUSTOMER
                               else None) for role in sorted(LOGIN_ROLES)}
    operations = [(m, re.sub(r"\{[^}]+\}", "999999", p), op)
                  for m, p, op in _operations(anonymous) if op not in PUBLIC]
    wrong = []
    for method, path, op in operations:
        for role, role_client in clients.items():
            response = role_client.request(method, path, json={})
            refused = response.status_code == 403 and \
                response.json().get("operation") == op
            if refused == (role in PERMISSIONS[op]):
                wrong.append(f"{role.value} {method} {path}: {response.status_code}")
    assert wrong == []
