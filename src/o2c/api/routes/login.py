"""The server-rendered sign-in page the web UI uses (and `/health`).

Forms carry a CSRF token: the sign-in form a token bound to a short-lived cookie by an HMAC
with O2C_SECRET_KEY (double submit), the sign-out form the session's own CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from o2c.api.auth import SESSION_COOKIE
from o2c.api.deps import AppDep
from o2c.api.routes.security import do_login, set_session_cookie
from o2c.bootstrap import App
from o2c.config import secret_key_from_env
from o2c.domain.access import Principal
from o2c.domain.errors import DomainError
from o2c.services import auth

LOGIN_CSRF_COOKIE = "o2c_login_csrf"
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                         autoescape=select_autoescape(["html"]))

# /health is part of the API's description; the sign-in pages are web pages, not API.
pages = APIRouter(tags=["web"], include_in_schema=True)


_KEYS: dict[int, bytes] = {}


def _key(app: App) -> bytes:
    """O2C_SECRET_KEY (settings), else the development key of var/secret_key; read once."""
    key = _KEYS.get(id(app))
    if key is None:
        key = _KEYS[id(app)] = (app.settings.secret_key or secret_key_from_env()).encode()
    return key


def _form_token(app: App, nonce: str) -> str:
    return hmac.new(_key(app), nonce.encode(), hashlib.sha256).hexdigest()


def _signed_in(app: App, request: Request) -> auth.Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return auth.authenticate_session(app.engine, cookie, app.clock())
    except DomainError:
        return None


def home_of(user: Principal) -> str:
    """Where a user lands after signing in: the portal for customers, else the back-office."""
    return "/portal" if user.customer_id is not None else "/"


def safe_next(target: str) -> str:
    """Only a path of this site (never another host) to go back to after signing in."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\", "/login", "/logout"))
    return target if ok else ""


def _english(text: str, **values: object) -> str:
    return text.format(**values) if values else text


def _language(request: Request | None) -> dict[str, Any]:
    """The page's language as the web UI negotiates it (?lang=, its cookie, Accept-Language),
    installed on the app by o2c.web; English when the API runs without the web UI."""
    negotiate = getattr(request.app.state, "page_language", None) if request else None
    if negotiate is None:
        return {"lang": "en", "_": _english, "languages": (), "language_names": {},
                "language_cookie": ""}
    language: dict[str, Any] = negotiate(request)
    return language


def _page(app: App, request: Request | None = None, *, user: Principal | None = None,
          csrf: str = "", error: str = "",
          username: str = "", status: int = 200, next_page: str = "") -> HTMLResponse:
    nonce = ""
    if user is None:
        nonce = secrets.token_urlsafe(16)
        csrf = _form_token(app, nonce)
    language = _language(request)
    if error:
        error = language["_"](error)
    html = _templates.get_template("login.html").render(
        **language, user=user, csrf_token=csrf, error=error, username=username,
        next=safe_next(next_page),
        home=home_of(user) if user else "/")
    response = HTMLResponse(html, status_code=status)
    cookie = language["language_cookie"]
    if request is not None and cookie and request.query_params.get("lang") == language["lang"]:
        response.set_cookie(cookie, language["lang"], samesite="lax",
                            path="/", max_age=365 * 24 * 3600)
    if nonce:
        response.set_cookie(LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="strict",
                            secure=app.settings.secure_cookies, path="/login", max_age=3600)
    return response


@pages.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@pages.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, app: AppDep, next: str = "") -> HTMLResponse:
    session = _signed_in(app, request)
    if session is not None:
        return _page(app, request, user=session.principal, csrf=session.csrf_token)
    return _page(app, request, next_page=next)


@pages.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login_submit(request: Request, app: AppDep,
                 username: Annotated[str, Form(max_length=150)],
                 password: Annotated[str, Form(max_length=1000)],
                 csrf_token: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not nonce or not auth.same_secret(csrf_token, _form_token(app, nonce)):
        return _page(app, request, error="The form expired; please sign in again.", status=403,
                     next_page=next)
    try:
        result = do_login(app, request, username, password)
    except auth.LoginThrottled:
        return _page(app, request, error="Too many failed attempts; try again later.",
                     username=username, status=429, next_page=next)
    except auth.NotAuthenticated:
        return _page(app, request, error="Wrong username or password.", username=username,
                     status=401, next_page=next)
    response = RedirectResponse(safe_next(next) or home_of(result.principal), status_code=303)
    set_session_cookie(app, response, result)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@pages.post("/logout", include_in_schema=False)
def logout_submit(request: Request, app: AppDep,
                  csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    session = _signed_in(app, request)
    if session is not None:
        if not auth.same_secret(csrf_token, session.csrf_token):
            return _page(app, request, user=session.principal, csrf=session.csrf_token,
                         error="The form expired; try again.", status=403)
        auth.logout(app.engine, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
