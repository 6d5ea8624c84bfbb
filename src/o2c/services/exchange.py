"""Exchange rates as services need them: the rate in force on a date, or a clear error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.domain.errors import MissingExchangeRate
from o2c.domain.parties import Company
from o2c.services.uow import UnitOfWork


def fx_rate(uow: UnitOfWork, currency: str, company: Company, on: date) -> Decimal:
    """Company-currency units per unit of `currency`, from the latest rate on or before `on`."""
    rate = uow.lookups.exchange_rate(currency, company.currency, on)
    if rate is None:
        raise MissingExchangeRate(currency, company.currency, on)
    return rate
