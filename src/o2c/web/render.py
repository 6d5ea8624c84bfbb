"""Rendering pages: the Jinja2 environment, the language of the request, flash messages,
the CSRF token of forms, and running a command from a form."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection

from o2c.bootstrap import App
from o2c.domain.access import Forbidden
from o2c.domain.commands import Command
from o2c.domain.errors import DomainError
from o2c.web.access import can, navigation, viewer
from o2c.web.i18n import LANGUAGE_NAMES, LANGUAGES, Formatter, negotiate, territory

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGE_COOKIE = "o2c_lang"
FLASH_COOKIE = "o2c_flash"
CSRF_FIELD = "csrf_token"

environment = Environment(loader=FileSystemLoader(TEMPLATES),
                          autoescape=select_autoescape(["html", "svg"]),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def app_of(request: Request) -> App:
    app: App = request.app.state.o2c
    return app


def home(request: Request) -> str:
    principal = viewer(request)
    return "/portal" if principal is not None and principal.customer_id is not None else "/"


def today(request: Request) -> date:
    return app_of(request).clock().date()


def formatter(request: Request) -> Formatter:
    language = negotiate(request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                         request.headers.get("accept-language"))
    return Formatter(language, territory(language, request.headers.get("accept-language")))


def actor(request: Request) -> str:
    principal = viewer(request)
    return str(getattr(principal, "actor", None) or "web")


# -- CSRF: every page is behind a session (o2c.api.auth); its token goes into each form ------


def csrf_token(request: Request) -> str:
    return str(getattr(request.state, "session_csrf", "") or "")


class CsrfRejected(Forbidden):
    """A form without the session's token: posted by another site, or from an old page."""


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    expected = csrf_token(request)
    given = str(form.get(CSRF_FIELD, "") or request.headers.get("X-CSRF-Token", ""))
    if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
        raise CsrfRejected("the form expired or came from another site; reload the page and "
                           "try again", field=CSRF_FIELD)


# -- flash messages survive one redirect ------------------------------------------------------


def _encode(messages: list[dict[str, str]]) -> str:
    return base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()


def _decode(raw: str | None) -> list[dict[str, str]]:
    if not raw:
        return []
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return []
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def redirect(request: Request, url: str, message: str | None = None,
             level: str = "success") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(FLASH_COOKIE, _encode([{"level": level, "text": message}]),
                            httponly=True, samesite="lax", path="/")
    return response


def page(request: Request, template: str, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    fmt = formatter(request)
    messages = _decode(request.cookies.get(FLASH_COOKIE))
    body = environment.get_template(template).render(
        request=request, fmt=fmt, _=fmt.gettext, lang=fmt.language, languages=LANGUAGES,
        language_names=LANGUAGE_NAMES, messages=messages, csrf_token=csrf_token(request),
        user=viewer(request), navigation=navigation(request),
        can=lambda operation: can(request, operation), home=home(request),
        path=request.url.path, query=dict(request.query_params),
        url_with=lambda **changes: _url_with(request, changes), **context)
    response = HTMLResponse(body, status_code=status_code)
    if messages:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if "lang" in request.query_params and fmt.language == request.query_params["lang"]:
        response.set_cookie(LANGUAGE_COOKIE, fmt.language, max_age=365 * 86400,
                            samesite="lax", path="/")
    return response


def _url_with(request: Request, changes: dict[str, Any]) -> str:
    params = {**dict(request.query_params), **{k: v for k, v in changes.items()}}
    params = {k: v for k, v in params.items() if v not in (None, "")}
    params.pop("lang", None)
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


# -- forms -------------------------------------------------------------------------------------


class FormError(Exception):
    """A form to show again, with the error next to its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors

    @property
    def first(self) -> str:
        """The message to flash when the form is not shown again."""
        return next(iter(self.errors.values()))


def execute(request: Request, command: Command) -> Any:
    """Run one command through the bus, as the logged-in user; a business error comes back
    as a FormError keyed by the field it concerns."""
    try:
        return app_of(request).bus.execute(
            command, actor=actor(request), principal=viewer(request),
            request_id=getattr(request.state, "request_id", None)).result
    except DomainError as error:
        raise FormError({error.field or "_": error.message}) from error


def read(request: Request) -> Connection:
    return app_of(request).engine.connect()
