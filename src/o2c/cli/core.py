"""What every command shares: the database it works on, errors as one-line messages with exit
code 2, exact number parsing, identifiers (codes, SKUs, document numbers) turned into ids, and
output as Rich tables or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.core import TyperGroup

from o2c.adapters.db import migrate, queries
from o2c.adapters.db.engine import make_engine
from o2c.adapters.db.queries import Filters, Page, PageRequest
from o2c.bootstrap import App, bootstrap
from o2c.config import Settings
from o2c.domain.aggregate import parse_document_number
from o2c.domain.errors import DomainError, InvalidInput, NotFound
from o2c.domain.money import MINOR_UNITS, to_decimal

EXIT_DOMAIN_ERROR = 2
EXIT_ENVIRONMENT = 1
UPGRADE_HINT = "run `o2c db upgrade` first"


class SchemaMissing(Exception):
    """The database has no o2c tables yet."""


# -- the database a command works on ---------------------------------------------------------------


@dataclass
class State:
    database_url: str | None = None
    _engine: Engine | None = None
    _app: App | None = None

    def settings(self) -> Settings:
        settings = Settings.from_env()
        if self.database_url:
            settings = replace(settings, database_url=self.database_url)
        return settings

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings().database_url)
        return self._engine

    def app(self) -> App:
        """The app wired to the database; the schema must be there."""
        if self._app is None:
            engine = self.engine()
            if migrate.current(engine) is None:
                raise SchemaMissing()
            self._app = bootstrap(self.settings(), engine=engine)
        return self._app

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


_state = State()


def use_state(state: State) -> None:
    global _state
    _state = state


def state() -> State:
    return _state


def app() -> App:
    return _state.app()


def today() -> date:
    return app().clock().date()


@contextmanager
def reading() -> Iterator[Connection]:
    """A read connection (one snapshot) to the app's database."""
    with app().engine.connect() as conn:
        yield conn


def run(command: Any, actor: str = "cli") -> Any:
    """Send a command through the bus: one transaction."""
    return app().bus.handle(command, actor=actor)


# -- errors ------------------------------------------------------------------------------------


def fail(message: str, code: int = EXIT_DOMAIN_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


class O2CGroup(TyperGroup):
    """Turns domain errors into `error: <message> (field: x)` on stderr and exit code 2, and
    a missing schema into a hint to upgrade it (exit code 1), without a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            field = f" (field: {error.field})" if error.field else ""
            raise fail(f"{error.message}{field}") from None
        except SchemaMissing:
            raise fail(f"the database has no o2c schema; {UPGRADE_HINT}",
                       EXIT_ENVIRONMENT) from None
        except (OperationalError, ProgrammingError) as error:
            text = str(error.orig)
            if "no such table" in text or ("relation" in text and "does not exist" in text):
                raise fail(f"the database schema is incomplete ({text}); {UPGRADE_HINT}",
                           EXIT_ENVIRONMENT) from None
            raise fail(f"database error: {text}", EXIT_ENVIRONMENT) from None


# -- parsing -----------------------------------------------------------------------------------


def decimal(text: str, field: str) -> Decimal:
    """An exact number from text (never through a float)."""
    try:
        return to_decimal(text)
    except (ValueError, TypeError):
        raise InvalidInput(f"{text!r} is not a number", field=field) from None


def day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (use YYYY-MM-DD)", field=field) from None


def pair(text: str, field: str, parts: tuple[int, int] = (2, 2)) -> list[str]:
    """`A:B[:C]` split on colons, with between `parts[0]` and `parts[1]` parts."""
    pieces = text.split(":")
    if not parts[0] <= len(pieces) <= parts[1] or not all(p.strip() for p in pieces):
        raise InvalidInput(f"{text!r} does not have the form this option expects", field=field)
    return [p.strip() for p in pieces]


# -- identifiers -------------------------------------------------------------------------------


def company_id(conn: Connection, code: str | None) -> int:
    """The company with `code`, or the only (first) one."""
    if code is None:
        found = queries.default_company_id(conn)
        if found is None:
            raise InvalidInput("there is no company yet; create one with `o2c company create`",
                               field="company")
        return found
    for row in queries.list_companies(conn, PageRequest(limit=queries.MAX_LIMIT)).items:
        if row["code"].upper() == code.upper() or str(row["id"]) == code:
            return int(row["id"])
    raise NotFound("company", code, field="company")


def customer_id(conn: Connection, ref: str, field: str = "customer") -> int:
    """A customer by code (C-00001) or id."""
    page = queries.list_customers(conn, Filters(q=ref), PageRequest(limit=queries.MAX_LIMIT))
    for row in page.items:
        if row["code"].upper() == ref.upper():
            return int(row["id"])
    if ref.isdigit():
        return int(ref)
    raise NotFound("customer", ref, field=field)


def product_id(conn: Connection, ref: str, field: str = "sku") -> int:
    """A product by SKU or id."""
    page = queries.list_products(conn, Filters(q=ref), PageRequest(limit=queries.MAX_LIMIT))
    for row in page.items:
        if row["sku"].upper() == ref.upper():
            return int(row["id"])
    if ref.isdigit():
        return int(ref)
    raise NotFound("product", ref, field=field)


def warehouse_id(conn: Connection, code: str | None) -> int:
    """The warehouse with `code`, or the only one there is."""
    rows = queries.list_warehouses(conn, PageRequest(limit=queries.MAX_LIMIT)).items
    if code is None:
        if len(rows) == 1:
            return int(rows[0]["id"])
        if not rows:
            raise InvalidInput("there is no warehouse yet; create one with "
                               "`o2c warehouse create`", field="warehouse")
        raise InvalidInput("there are several warehouses; say which with --warehouse",
                           field="warehouse")
    for row in rows:
        if row["code"].upper() == code.upper() or str(row["id"]) == code:
            return int(row["id"])
    raise NotFound("warehouse", code, field="warehouse")


def document_id(prefix: str, kind: str, ref: str) -> int:
    """SHP-000012, PAY-000003... or the plain id."""
    parsed = parse_document_number(prefix, ref)
    if parsed is not None:
        return parsed
    if ref.strip().isdigit():
        return int(ref)
    raise NotFound(kind, ref, field=kind)


def order_id(ref: str) -> int:
    return queries.order_id_of(ref)


def shipment_id(ref: str) -> int:
    return document_id("SHP", "shipment", ref)


def payment_id(ref: str) -> int:
    return document_id("PAY", "payment", ref)


def invoice_id(conn: Connection, ref: str) -> int:
    return queries.invoice_id_of(conn, ref.strip().upper())


# -- output ------------------------------------------------------------------------------------


def console() -> Console:
    """Tables at the terminal's width; piped or captured output is not cut at 80 columns."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=200, no_color=True)


def say(message: str, style: str | None = None) -> None:
    console().print(Text(message, style=style or ""), soft_wrap=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    """JSON with Decimals as exact strings and dates in ISO form."""
    typer.echo(json.dumps(data, default=_plain, indent=2, ensure_ascii=False))


def number(value: Decimal | None) -> str:
    """Exactly as stored, with thousands separators: 1,234.50."""
    return "" if value is None else f"{value:,f}"


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "-"
    digits = MINOR_UNITS.get(currency, 2)
    return f"{value:,.{digits}f} {currency}"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=_plain, ensure_ascii=False)
    return str(value)


Column = tuple[str, str]  # (header, key); numbers are right-aligned


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column],
          title: str | None = None) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold")
    for header, key in columns:
        numeric = bool(rows) and isinstance(rows[0].get(key), Decimal | int) \
            and not isinstance(rows[0].get(key), bool) and key != "id"
        result.add_column(header, justify="right" if numeric else "left",
                          overflow="fold")
    for row in rows:
        result.add_row(*(cell(row.get(key)) for _, key in columns))
    return result


def show_page(page: Page, columns: Sequence[Column], as_json: bool, what: str) -> None:
    """A list as JSON ({items, total, limit, offset}) or as a table with a footer."""
    if as_json:
        print_json(page.as_dict())
        return
    out = console()
    if not page.items:
        out.print(Text(f"no {what} found" + (f" (offset {page.offset})" if page.offset else "")))
        return
    out.print(table(page.items, columns))
    first, last = page.offset + 1, page.offset + len(page.items)
    footer = f"{what} {first}-{last} of {page.total}"
    if last < page.total:
        footer += f" (next page: --offset {last})"
    out.print(Text(footer, style="dim"))


def show_fields(data: dict[str, Any], fields: Sequence[Column], title: str) -> None:
    grid = Table(title=title, title_justify="left", show_header=False, box=None,
                 title_style="bold")
    grid.add_column(style="dim")
    grid.add_column()
    for label, key in fields:
        grid.add_row(label, cell(data.get(key)))
    console().print(grid)


# -- options shared by list commands -----------------------------------------------------------

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (Decimals as strings, "
                                                         "dates ISO) instead of a table.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=queries.MAX_LIMIT,
                                          help="Rows per page.")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Rows to skip.")]
CustomerFilter = Annotated[str | None, typer.Option("--customer",
                                                    help="Customer code (C-00001) or id.")]
StateFilter = Annotated[str | None, typer.Option("--state", help="Only this state.")]
FromFilter = Annotated[str | None, typer.Option("--from", help="From this date (YYYY-MM-DD).")]
ToFilter = Annotated[str | None, typer.Option("--to", help="Up to this date (YYYY-MM-DD).")]
TextFilter = Annotated[str | None, typer.Option("--q", help="Free text: number, name, code.")]
OnOption = Annotated[str | None, typer.Option("--on", help="Business date (YYYY-MM-DD); "
                                                           "today when omitted.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Date payment statuses are "
                                                                "judged on; today by default.")]


def filters(conn: Connection, *, customer: str | None = None, state: str | None = None,
            date_from: str | None = None, date_to: str | None = None, q: str | None = None,
            **extra: Any) -> Filters:
    return Filters(customer_id=customer_id(conn, customer) if customer else None,
                   state=state, date_from=day(date_from, "from"), date_to=day(date_to, "to"),
                   q=q, extra={k: v for k, v in extra.items() if v is not None})


def page(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)
