"""Password login for the web UI: argon2id hashes, a session cookie (HttpOnly, SameSite=Lax,
Secure when configured) with a CSRF token for state-changing requests, the sign-in form with
its own CSRF token, and throttling of repeated failures kept in the database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.api import create_app
from o2c.bootstrap import App, SettableClock
from o2c.domain.access import CreateUser, DisableUser
from tests.e2e.conftest import API, ok, problem, row_counts
from tests.fixtures.world import World

PASSWORD = "correct horse battery staple"


@pytest.fixture
def lena(any_app: App) -> str:
    any_app.bus.handle(CreateUser("lena", PASSWORD, "sales"))
    return "lena"


def _login(client: TestClient, username: str = "lena", password: str = PASSWORD) -> dict[str, str]:
    return dict(ok(client.post(f"{API}/auth/login",
                               json={"username": username, "password": password})))


def test_passwords_are_stored_as_argon2id_hashes(any_app: App, lena: str) -> None:
    with any_app.engine.connect() as conn:
        stored = conn.execute(select(t.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_sets_a_secure_session_cookie_and_returns_the_csrf_token(
        anonymous: TestClient, lena: str) -> None:
    response = anonymous.post(f"{API}/auth/login",
                              json={"username": "lena", "password": PASSWORD})
    body = ok(response)
    assert (body["username"], body["role"]) == ("lena", "sales")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("o2c_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # O2C_SECURE_COOKIES is off for http://localhost
    assert ok(anonymous.get(f"{API}/auth/me"))["username"] == "lena"


def test_the_cookie_is_secure_when_configured(any_app: App, lena: str) -> None:
    secure = replace(any_app, settings=replace(any_app.settings, secure_cookies=True))
    with TestClient(create_app(secure), base_url="https://testserver") as https:
        response = https.post(f"{API}/auth/login",
                              json={"username": "lena", "password": PASSWORD})
        assert "Secure" in response.headers["set-cookie"]


def test_a_state_change_with_the_session_cookie_needs_the_csrf_token(
        any_app: App, anonymous: TestClient, lena: str, world: World) -> None:
    csrf = _login(anonymous)["csrf_token"]
    order = {"customer_id": world.customers["rossi"],
             "lines": [{"product_id": world.products["BOOK"], "quantity": "1"}]}
    before = row_counts(any_app.engine)
    body = problem(anonymous.post(f"{API}/orders", json=order), 403)
    assert "X-CSRF-Token" in body["detail"]
    problem(anonymous.post(f"{API}/orders", json=order, headers={"X-CSRF-Token": "guess"}),
            403)
    assert row_counts(any_app.engine) == before
    created = ok(anonymous.post(f"{API}/orders", json=order,
                                headers={"X-CSRF-Token": csrf}), 201)
    events = ok(anonymous.get(f"{API}/orders/{created['id']}"))
    assert events["id"] == created["id"]


def test_logout_ends_the_session(anonymous: TestClient, lena: str) -> None:
    _login(anonymous)
    cookie = anonymous.cookies.get("o2c_session")
    assert anonymous.post(f"{API}/auth/logout").status_code == 204
    anonymous.cookies.set("o2c_session", cookie or "")
    problem(anonymous.get(f"{API}/auth/me"), 401)


def test_a_disabled_user_loses_the_session_at_once(any_app: App, anonymous: TestClient,
                                                  lena: str) -> None:
    _login(anonymous)
    any_app.bus.handle(DisableUser("lena"))
    problem(anonymous.get(f"{API}/auth/me"), 401)
    problem(anonymous.post(f"{API}/auth/login",
                           json={"username": "lena", "password": PASSWORD}), 401)


def test_wrong_passwords_and_unknown_users_get_the_same_401(anonymous: TestClient,
                                                           lena: str) -> None:
    wrong = problem(anonymous.post(f"{API}/auth/login",
                                   json={"username": "lena", "password": "nope"}), 401)
    unknown = problem(anonymous.post(f"{API}/auth/login",
                                     json={"username": "nobody", "password": "nope"}), 401)
    assert wrong["detail"] == unknown["detail"] == "wrong username or password"
    assert "set-cookie" not in wrong


def test_repeated_failures_lock_the_login_for_a_while_across_processes(
        any_app: App, lena: str, clock: SettableClock) -> None:
    first, second = create_app(any_app), create_app(any_app)  # two app servers, one database
    with TestClient(first) as a, TestClient(second) as b:
        for attempt in range(5):
            server = a if attempt % 2 else b
            problem(server.post(f"{API}/auth/login",
                                json={"username": "lena", "password": f"guess-{attempt}"}),
                    401)
        locked = b.post(f"{API}/auth/login", json={"username": "lena", "password": PASSWORD})
        assert problem(locked, 429)["code"] == "login_throttled"
        assert int(locked.headers["Retry-After"]) == 15 * 60
        clock.set(clock() + timedelta(minutes=16))
        assert ok(a.post(f"{API}/auth/login",
                         json={"username": "lena", "password": PASSWORD}))["role"] == "sales"
        # A success starts the count again.
        problem(a.post(f"{API}/auth/login", json={"username": "lena", "password": "x"}), 401)
        ok(a.post(f"{API}/auth/login", json={"username": "lena", "password": PASSWORD}))


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_sign_in_form_logs_in_with_its_csrf_token_and_signs_out_with_the_sessions(
        anonymous: TestClient, lena: str) -> None:
    page = anonymous.get("/login")
    assert page.status_code == 200 and "Sign in" in page.text
    assert "text/html" in page.headers["content-type"]
    signed_in = anonymous.post("/login", data={"username": "lena", "password": PASSWORD,
                                               "csrf_token": _form_token(page.text)},
                               follow_redirects=False)
    assert signed_in.status_code == 303 and "o2c_session=" in signed_in.headers["set-cookie"]
    home = anonymous.get("/login")
    assert "Signed in as <strong>lena</strong>" in home.text
    problem(anonymous.post(f"{API}/orders", json={}), 403)  # the API still wants the header
    refused = anonymous.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    out = anonymous.post("/logout", data={"csrf_token": _form_token(home.text)},
                         follow_redirects=False)
    assert out.status_code == 303
    assert "Sign in" in anonymous.get("/login").text


def test_the_sign_in_form_refuses_a_post_without_its_csrf_token(anonymous: TestClient,
                                                                lena: str) -> None:
    anonymous.get("/login")
    forged = anonymous.post("/login", data={"username": "lena", "password": PASSWORD,
                                            "csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403 and "o2c_session" not in forged.headers.get(
        "set-cookie", "")
    wrong = anonymous.post("/login", data={"username": "lena", "password": "bad",
                                           "csrf_token": _form_token(
                                               anonymous.get("/login").text)})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text


@pytest.mark.parametrize(("ask", "headers", "expected"), [
    ("?lang=it", {}, "Nome utente"), ("", {"Accept-Language": "fr-FR,fr;q=0.9"},
                                      "Nom d'utilisateur"),
    ("?lang=es", {"Accept-Language": "fr"}, "Nombre de usuario"), ("", {}, "Username")])
def test_the_sign_in_page_speaks_the_language_asked_remembered_or_preferred(
        anonymous: TestClient, ask: str, headers: dict[str, str], expected: str) -> None:
    page = anonymous.get(f"/login{ask}", headers=headers)
    assert page.status_code == 200 and expected in page.text.replace("&#39;", "'")


def test_the_sign_in_errors_are_translated_and_the_chosen_language_is_remembered(
        anonymous: TestClient, lena: str) -> None:
    form = anonymous.get("/login?lang=fr")
    assert anonymous.cookies.get("o2c_lang") == "fr"
    wrong = anonymous.post("/login", data={"username": "lena", "password": "bad",
                                           "csrf_token": _form_token(form.text)})
    assert wrong.status_code == 401
    assert "Nom d&#39;utilisateur ou mot de passe incorrect." in wrong.text
    assert 'lang="fr"' in wrong.text
    expired = anonymous.post("/login?lang=it", data={"username": "lena", "password": "bad",
                                                     "csrf_token": "0" * 64})
    assert expired.status_code == 403 and "Il modulo è scaduto" in expired.text
