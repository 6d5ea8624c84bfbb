"""Errors named after the business condition. The edges map their kind to a status code."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RULE_VIOLATION = "rule_violation"
    GONE = "gone"  # existed, and was removed for good (GDPR purge)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class DomainError(Exception):
    """A business condition that stops a command. `field` is the input path it concerns."""

    kind: ClassVar[ErrorKind] = ErrorKind.RULE_VIOLATION

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    @property
    def code(self) -> str:
        return _snake(type(self).__name__)


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND

    def __init__(self, object_type: str, key: object, *, field: str | None = None) -> None:
        super().__init__(f"{object_type} {key} does not exist", field=field,
                         object_type=object_type, key=key)


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT


class Gone(DomainError):
    kind = ErrorKind.GONE


class RuleViolation(DomainError):
    kind = ErrorKind.RULE_VIOLATION


class InvalidInput(RuleViolation):
    """Input that a business rule rejects (bad VAT id, negative quantity...)."""


class AlreadyExists(Conflict):
    def __init__(self, object_type: str, key: object, *, field: str | None = None) -> None:
        super().__init__(f"{object_type} {key} already exists", field=field,
                         object_type=object_type, key=key)


class InvalidTransition(Conflict):
    def __init__(self, object_type: str, object_id: object, state: str, action: str,
                 why: str = "") -> None:
        super().__init__(
            f"cannot {action} {object_type} {object_id}: " + (why or f"it is {state}"),
            object_type=object_type, object_id=object_id, state=state, action=action,
        )


class ConcurrentModification(Conflict):
    def __init__(self, object_type: str, object_id: object) -> None:
        super().__init__(
            f"{object_type} {object_id} was changed by someone else; reload and retry",
            object_type=object_type, object_id=object_id,
        )


class DocumentPosted(Conflict):
    def __init__(self, object_type: str, number: object) -> None:
        super().__init__(f"{object_type} {number} is posted and can no longer change; correct "
                         f"it with a credit note", object_type=object_type, number=number)


class CurrencyMismatch(RuleViolation):
    def __init__(self, expected: str, got: str, *, field: str | None = None) -> None:
        super().__init__(f"currency {got} does not match {expected}", field=field,
                         expected=expected, got=got)


class UnknownCurrency(RuleViolation):
    def __init__(self, currency: str, *, field: str | None = None) -> None:
        super().__init__(f"{currency!r} is not an ISO 4217 currency", field=field,
                         currency=currency)


class UnbalancedEntry(RuleViolation):
    def __init__(self, debit: object, credit: object, memo: str) -> None:
        super().__init__(f"journal entry '{memo}' does not balance: debit {debit} != credit "
                         f"{credit}", debit=str(debit), credit=str(credit))


class OverAllocation(RuleViolation):
    """More would be applied than the source has left or the target still owes."""


class InsufficientStock(RuleViolation):
    pass


class MissingExchangeRate(RuleViolation):
    def __init__(self, currency: str, company_currency: str, on: object) -> None:
        super().__init__(f"no exchange rate {currency}->{company_currency} on or before {on}",
                         currency=currency, company_currency=company_currency, on=str(on))


class MissingVatRate(RuleViolation):
    def __init__(self, country: str, category: str, on: object) -> None:
        super().__init__(f"no {category} VAT rate for {country} valid on {on}",
                         country=country, category=category, on=str(on))
