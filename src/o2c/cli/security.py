"""Users and API tokens, the audit trail, GDPR, and the PostgreSQL grants of the application
role. Commands act as the local system actor `cli:security` (whoever runs the CLI already
holds the database credentials)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from o2c.adapters.db import security as db
from o2c.cli.core import (
    JsonOption,
    O2CGroup,
    app,
    console,
    customer_id,
    day,
    fail,
    print_json,
    reading,
    run,
    say,
    state,
    table,
)
from o2c.domain import access as a
from o2c.domain.aggregate import jsonable
from o2c.services.audit import verify_audit

ACTOR = "cli:security"
PASSWORD_ENV = "O2C_NEW_PASSWORD"

users = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Users and their roles.")


def _password(ask: bool) -> str | None:
    """From O2C_NEW_PASSWORD, or asked twice on the terminal; never a command-line argument
    (it would end up in the shell history and the process list)."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    if not ask:
        return None
    if not sys.stdin.isatty():
        raise fail(f"set {PASSWORD_ENV} or run on a terminal to type the password")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="admin, sales, warehouse, ar_clerk, "
                                      "credit_manager, collector, controller, auditor or "
                                      "customer.")],
    customer: Annotated[str | None, typer.Option(
        "--customer", help="Portal users (role customer): their customer (code or id).")
                        ] = None,
    password: Annotated[bool, typer.Option(
        "--password/--no-password", help=f"Set a password (from {PASSWORD_ENV} or asked); "
        "without one the user works with API tokens only.")] = True,
) -> None:
    """Create a user."""
    target = None
    if customer is not None:
        with reading() as conn:
            target = customer_id(conn, customer)
    user_id = run(a.CreateUser(username, _password(password), role, target), actor=ACTOR)
    say(f"user {username} ({role}) created with id {user_id}")


@users.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """All users with their roles."""
    with reading() as conn:
        rows = db.list_users(conn)
    if as_json:
        print_json(rows)
        return
    console().print(table(rows, [("id", "id"), ("username", "username"), ("role", "role"),
                                 ("customer", "customer_id"), ("disabled", "disabled"),
                                 ("created", "created_at")], "users"))


@users.command("disable")
def disable_user(username: Annotated[str, typer.Argument()]) -> None:
    """The user can no longer log in nor use tokens; sessions end at once."""
    run(a.DisableUser(username), actor=ACTOR)
    say(f"user {username} disabled")


@users.command("set-password")
def set_password(username: Annotated[str, typer.Argument()]) -> None:
    """Set a new password (from O2C_NEW_PASSWORD, or asked); sessions end."""
    password = _password(True)
    assert password is not None
    run(a.SetPassword(username, password), actor=ACTOR)
    say(f"password of {username} changed")


@users.command("demo-admin")
def demo_admin(
    username: Annotated[str, typer.Option("--username")] = "admin",
    password_file: Annotated[Path, typer.Option(
        "--password-file", help="Where the generated password is kept (mode 0600).")
                             ] = Path("var/demo-admin-password"),
) -> None:
    """For `make run`: make sure a demo administrator exists (idempotent) and print how to
    log in and get a token. The password is generated once and kept in --password-file."""
    with reading() as conn:
        exists = db.user_by_name(conn, username) is not None
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
    if not exists:
        run(a.CreateUser(username, password, a.Role.ADMIN.value), actor=ACTOR)
    settings = state().settings()
    base = f"http://{settings.host}:{settings.port}"
    say(f"demo administrator: {username} / password in {password_file}: {password}", "bold")
    say(f"  sign in:   {base}/login   (API docs: {base}/docs)")
    say(f"  a token:   {o2c_command()} token create {username}   then   curl -H "
        "'Authorization: Bearer "
        f"<token>' {base}/api/v1/orders")


def o2c_command() -> str:
    """How to call o2c from here, as typed: `o2c` when it is on the PATH, else its path in
    the virtualenv relative to the current directory (`.venv/bin/o2c` under `make run`)."""
    if shutil.which("o2c"):
        return "o2c"
    script = Path(sys.executable).parent / "o2c"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


tokens = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="API tokens (Bearer).")


@tokens.command("create")
def create_token(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What it is for.")] = "cli",
    days: Annotated[int, typer.Option("--days", min=0, max=3650,
                                      help="Lifetime in days; 0: no expiry.")] = 90,
    as_json: JsonOption = False,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    token = run(a.CreateToken(username, name, days or None), actor=ACTOR)
    if as_json:
        print_json({"id": token.id, "username": token.username, "token": token.secret,
                    "expires_at": token.expires_at})
        return
    typer.echo(token.secret)
    expiry = token.expires_at.date().isoformat() if token.expires_at else "never"
    say(f"token {token.id} for {username}, expires {expiry}; it is shown only now",
        "dim")


@tokens.command("list")
def list_tokens(as_json: JsonOption = False) -> None:
    """Tokens (never the secrets)."""
    with reading() as conn:
        rows = db.list_tokens(conn)
    if as_json:
        print_json(rows)
        return
    console().print(table(rows, [("id", "id"), ("user", "username"), ("name", "name"),
                                 ("starts with", "prefix"), ("expires", "expires_at"),
                                 ("revoked", "revoked_at")], "API tokens"))


@tokens.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument()]) -> None:
    run(a.RevokeToken(token_id), actor=ACTOR)
    say(f"token {token_id} revoked")


audit = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="The tamper-evident audit trail.")


@audit.command("verify")
def verify(as_json: JsonOption = False) -> None:
    """Recompute the SHA-256 hash chain and name the first broken record (exit code 1)."""
    engine = app().engine
    if as_json or not sys.stderr.isatty():
        result = verify_audit(engine)
    else:
        with reading() as conn:
            total = (db.audit_head(conn) or {"seq": 0})["seq"]
        with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("audit", total=total)
            result = verify_audit(engine, lambda done: bar.update(task, completed=done))
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        say(f"the audit trail verifies: {result.records:,} records, chain intact; head "
            f"{result.head_hash}", "bold green")
    else:
        assert result.broken is not None
        say(f"the audit trail is BROKEN at record seq {result.broken.seq}: "
            f"{result.broken.reason}", "bold red")
    if not result.ok:
        raise typer.Exit(1)


@audit.command("list")
def list_audit(
    object_type: Annotated[str | None, typer.Option("--object-type")] = None,
    object_id: Annotated[int | None, typer.Option("--object-id")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The latest audit records (newest first)."""
    with reading() as conn:
        rows, _total = db.list_audit(conn, object_type, object_id, limit, 0)
    if as_json:
        print_json(rows)
        return
    console().print(table(rows, [("seq", "seq"), ("when", "occurred_at"), ("by", "actor"),
                                 ("role", "role"), ("command", "command"),
                                 ("object", "object_type"), ("id", "object_id"),
                                 ("reason", "reason")], "audit trail"))


gdpr = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="GDPR: export, erasure, purge.")


@gdpr.command("export")
def export(customer: Annotated[str, typer.Argument(help="Customer code or id.")]) -> None:
    """Everything held about a customer, as JSON (art. 15 and 20)."""
    with reading() as conn:
        target = customer_id(conn, customer)
        data = db.customer_export(conn, target)
    print_json(jsonable(data))


@gdpr.command("erase")
def erase(customer: Annotated[str, typer.Argument(help="Customer code or id.")],
          reason: Annotated[str, typer.Option("--reason", help="The request (who, when).")],
          as_json: JsonOption = False) -> None:
    """Pseudonymise the customer's personal data; invoice data is kept for the legal
    retention period of its country (then `o2c gdpr purge`)."""
    with reading() as conn:
        target = customer_id(conn, customer)
    erasure = run(a.EraseCustomer(target, reason), actor=ACTOR)
    result = {"customer_id": erasure.customer_id,
              "retention_until": erasure.retention_until.isoformat(),
              "legal_basis": erasure.legal_basis}
    if as_json:
        print_json(result)
        return
    say(f"customer {target} erased; invoices kept until {result['retention_until']} "
        f"({erasure.legal_basis})")


@gdpr.command("purge")
def purge(as_of: Annotated[str, typer.Option("--as-of", help="Purge retention periods "
                                             "ended before this day.")],
          as_json: JsonOption = False) -> None:
    """After the retention period, the buyer on the invoices of erased customers goes too.
    Running it again changes nothing."""
    on = day(as_of, "as_of")
    assert on is not None
    result = run(a.PurgeExpired(on), actor=ACTOR)
    if as_json:
        print_json({"customers": result.customers, "invoices": result.invoices})
        return
    say(f"purged {len(result.customers)} customers, {result.invoices} invoices")


def grant_app_role(role: Annotated[str, typer.Argument(
        help="The PostgreSQL role the application connects as.")]) -> None:
    """PostgreSQL: grant the application role what it needs, with INSERT and SELECT only on
    the audit and ledger tables (so it can never UPDATE or DELETE them). Run as the owner."""
    try:
        statements = db.grant_app_role(state().engine(), role)
    except ValueError as error:
        raise fail(str(error)) from None
    for statement in statements:
        say(statement, "dim")
    say(f"role {role} may append to {', '.join(db.APPEND_ONLY_TABLES)} but not change them")


__all__ = ["audit", "gdpr", "grant_app_role", "tokens", "users"]
