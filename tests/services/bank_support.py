"""Builders for bank statement tests: invoices through the bus, statements as real files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from o2c.adapters.bank import camt
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.bank import Statement, StatementLine
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal
ACCOUNT = "IT60X0542811101000000123456"  # the world's company IBAN
ROSSI_IBAN = "IT02L1234512345123456789012"


def invoice(app: App, world: World, customer: str, sku: str = "CHAIR", quantity: int = 1,
            on: date = date(2026, 3, 2)) -> dict[str, object]:
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer],
                                            (line(world.products[sku], quantity),),
                                            order_date=on))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=on)).shipment_ids
    s.ship(app.bus, shipment_id, on=on)
    [row] = s.invoices_of_order(app.engine, order_id)
    with app.engine.connect() as conn:
        return dict(conn.execute(select(t.invoices).where(t.invoices.c.id == row["id"]))
                    .mappings().one())


def entry(amount: str, *, ref: str = "", text: str = "", name: str = "", iban: str = "",
          bank_ref: str = "", on: date = date(2026, 3, 20), code: str = "",
          ultimate: str = "", referred: str = "") -> StatementLine:
    return StatementLine("", on, on, D(amount), "EUR", bank_reference=bank_ref,
                         counterparty_name=name, counterparty_iban=iban, remittance=text,
                         structured_reference=ref, transaction_code=code,
                         ultimate_debtor=ultimate, referred_documents=referred)


def statement_file(lines: list[StatementLine], *, opening: str = "1000.00",
                   statement_id: str = "STMT-1", version: str = "camt.053.001.08",
                   account: str = ACCOUNT, closing: Decimal | None = None) -> bytes:
    numbered = [StatementLine(**{**{f: getattr(x, f) for f in StatementLine.__slots__},
                                 "bank_reference": x.bank_reference or f"{statement_id}-{i}"})
                for i, x in enumerate(lines, start=1)]
    total = sum((x.amount for x in numbered), D(0))
    statement = Statement(statement_id, account, "EUR", D(opening),
                          closing if closing is not None else D(opening) + total,
                          date(2026, 3, 1), date(2026, 3, 31), lines=numbered)
    return camt.write([statement], version)
