"""What is actually due of open items with instalment terms, in SQL.

Each instalment is a row of `open_item_installments`; payments and credit notes cover the
oldest instalment first, so what is still owed of one instalment is the item's residual
minus what the later instalments add up to, clamped to 0..amount. Summed over the
instalments due before a date it gives what is overdue; grouped by the instalment's due date
it gives the aging buckets. One grouped query whatever the number of items."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select, type_coerce

from o2c.adapters.db import tables as t
from o2c.adapters.db.types import AMOUNT
from o2c.domain.money import ZERO
from o2c.domain.receivables import OpenItemKind

oi, ii = t.open_items, t.open_item_installments
ITEM_INSTALLMENTS = oi.join(ii, ii.c.open_item_id == oi.c.id)


def owed_sum(company: bool = False) -> Any:
    """SUM of what is still owed, 0 (not NULL) over no rows, keeping the exact type."""
    return func.coalesce(func.sum(still_owed(company)), literal(ZERO, AMOUNT))


def still_owed(company: bool = False) -> Any:
    """What is still owed of one instalment (document or company currency)."""
    if company:
        residual, later, whole = oi.c.residual_company, ii.c.later_company, ii.c.amount_company
    else:
        residual, later, whole = oi.c.residual, ii.c.later, ii.c.amount
    return type_coerce(case((residual <= later, literal(ZERO, AMOUNT)),
                            (residual - later >= whole, whole),
                            else_=residual - later), AMOUNT)


def owing(company: bool = False) -> Any:
    """The instalments that still have something owed (lets the query skip paid ones)."""
    if company:
        return and_(ii.c.later_company < oi.c.residual_company, ii.c.amount_company > 0)
    return and_(ii.c.later < oi.c.residual, ii.c.amount > 0)


def overdue_by_invoice(conn: Connection, invoice_ids: list[int], as_of: date
                       ) -> dict[int, Any]:
    """Invoice id -> what it has overdue on `as_of` (instalments due before it, less what
    was paid); invoices with nothing overdue are absent."""
    if not invoice_ids:
        return {}
    rows = conn.execute(
        select(oi.c.invoice_id, owed_sum().label("overdue"))
        .select_from(ITEM_INSTALLMENTS)
        .where(oi.c.invoice_id.in_(invoice_ids), ii.c.due_date < as_of, owing())
        .group_by(oi.c.invoice_id))
    return {r.invoice_id: r.overdue for r in rows}


def overdue_by_customer(conn: Connection, customer_ids: list[int], as_of: date
                        ) -> dict[int, Any]:
    """Customer id -> what its invoices have overdue on `as_of`, in document currency."""
    rows = conn.execute(
        select(oi.c.customer_id, owed_sum().label("overdue"))
        .select_from(ITEM_INSTALLMENTS)
        .where(oi.c.customer_id.in_(customer_ids), oi.c.kind == OpenItemKind.INVOICE.value,
               t.OPEN_ITEM, ii.c.due_date < as_of, owing())
        .group_by(oi.c.customer_id))
    return {r.customer_id: r.overdue for r in rows}
