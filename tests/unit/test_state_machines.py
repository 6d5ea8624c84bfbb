"""Declared transitions: every move the tables do not allow raises InvalidTransition, through
the aggregates' named methods, and leaves the state (and the event list) as it was."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from o2c.domain.errors import InvalidTransition
from o2c.domain.invoicing import INVOICE_TRANSITIONS, InvoiceState
from o2c.domain.orders import ORDER_TRANSITIONS, OrderState
from o2c.domain.payment_terms import net_days
from o2c.domain.payments import PAYMENT_TRANSITIONS, PaymentState
from o2c.domain.shipping import SHIPMENT_TRANSITIONS, ShipmentState
from o2c.domain.statemachine import allowed_actions, move
from tests.unit import builders

D = Decimal
ON = date(2026, 3, 2)

TABLES: dict[str, tuple[Mapping[str, tuple[frozenset[Any], Any]], type[StrEnum], StrEnum]] = {
    "order": (ORDER_TRANSITIONS, OrderState, OrderState.DRAFT),
    "shipment": (SHIPMENT_TRANSITIONS, ShipmentState, ShipmentState.READY),
    "invoice": (INVOICE_TRANSITIONS, InvoiceState, InvoiceState.DRAFT),
    "payment": (PAYMENT_TRANSITIONS, PaymentState, PaymentState.RECEIVED),
}


def _all_moves() -> list[Any]:
    cases = []
    for name, (table, states, _) in TABLES.items():
        for state in states:
            for action in table:
                cases.append(pytest.param(name, state, action, id=f"{name}-{state}-{action}"))
    return cases


@pytest.mark.parametrize(("name", "state", "action"), _all_moves())
def test_move_allows_exactly_the_declared_transitions(name: str, state: StrEnum,
                                                      action: str) -> None:
    table = TABLES[name][0]
    sources, target = table[action]
    if state in sources:
        assert move(table, state, action, name, 1) is target
        assert action in allowed_actions(table, state)
    else:
        with pytest.raises(InvalidTransition) as error:
            move(table, state, action, name, 1)
        assert error.value.details["state"] == state.value
        assert error.value.details["action"] == action
        assert action not in allowed_actions(table, state)


@pytest.mark.parametrize("name", list(TABLES))
def test_every_state_is_reachable_from_the_initial_state(name: str) -> None:
    table, states, initial = TABLES[name]
    reached = {initial}
    frontier = [initial]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(table, state):
            target = table[action][1]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(states)


# -- the same, through each aggregate's named methods -------------------------------------------

def _order(state: StrEnum) -> Any:
    result = builders.order("2")
    result.state = state  # type: ignore[assignment]
    return result


def _shipment(state: StrEnum) -> Any:
    result = builders.shipment("2")
    result.state = state  # type: ignore[assignment]
    return result


def _invoice(state: StrEnum) -> Any:
    result = builders.draft_invoice()
    if state is InvoiceState.POSTED:
        result.post("INV-2026-00001", net_days(30), builders.ROUNDING)
        result.events.clear()
    return result


def _payment(state: StrEnum) -> Any:
    result = builders.payment("10.00")
    result.state = state  # type: ignore[assignment]
    return result


ORDER_METHODS: dict[str, Callable[[Any], Any]] = {
    "confirm": lambda o: o.confirm(D(0), ON),
    "hold": lambda o: o.hold(["over the limit"], D(0)),
    "release": lambda o: o.release("approved by credit manager", ON),
    "reject": lambda o: o.reject("too risky"),
    "cancel": lambda o: o.cancel("customer changed their mind"),
}
SHIPMENT_METHODS: dict[str, Callable[[Any], Any]] = {
    "pick": lambda s: s.pick(ON), "pack": lambda s: s.pack(ON), "ship": lambda s: s.ship(ON),
    "deliver": lambda s: s.deliver(ON), "cancel": lambda s: s.cancel("no longer needed"),
}
INVOICE_METHODS: dict[str, Callable[[Any], Any]] = {
    "post": lambda i: i.post("INV-2026-00002", net_days(30), builders.ROUNDING),
}
PAYMENT_METHODS: dict[str, Callable[[Any], Any]] = {
    "reverse": lambda p: p.reverse("returned by the bank"),
}
AGGREGATES: dict[str, tuple[Callable[[StrEnum], Any], dict[str, Callable[[Any], Any]]]] = {
    "order": (_order, ORDER_METHODS), "shipment": (_shipment, SHIPMENT_METHODS),
    "invoice": (_invoice, INVOICE_METHODS), "payment": (_payment, PAYMENT_METHODS),
}


def test_every_declared_action_has_a_named_method_except_internal_completion() -> None:
    for name, (_, methods) in AGGREGATES.items():
        table = TABLES[name][0]
        assert set(table) - set(methods) <= {"complete"}, name


def _method_cases() -> list[Any]:
    cases = []
    for name, (_, methods) in AGGREGATES.items():
        for state in TABLES[name][1]:
            for action in methods:
                cases.append(pytest.param(name, state, action, id=f"{name}-{state}-{action}"))
    return cases


@pytest.mark.parametrize(("name", "state", "action"), _method_cases())
def test_named_methods_change_state_only_along_the_table(name: str, state: StrEnum,
                                                         action: str) -> None:
    build, methods = AGGREGATES[name]
    table = TABLES[name][0]
    aggregate = build(state)
    sources, target = table[action]
    if state in sources:
        methods[action](aggregate)
        assert aggregate.state is target
        assert aggregate.events, "a state change is recorded as an event"
    else:
        before = list(aggregate.events)
        with pytest.raises(InvalidTransition):
            methods[action](aggregate)
        assert aggregate.state is state
        assert aggregate.events == before


def test_an_order_completes_once_everything_is_shipped_and_invoiced() -> None:
    order = builders.order("2")
    order.confirm(D(0), ON)
    [line] = order.lines
    assert line.id is not None
    order.reserve({line.id: D(2)})
    order.record_shipped({line.id: D(2)}, "SHP-1")
    assert order.state is OrderState.CONFIRMED
    order.record_invoiced({line.id: D(2)}, order.gross_amount, "INV-1")
    assert order.state is OrderState.COMPLETED  # type: ignore[comparison-overlap]
    assert [e.name for e in order.events][-1] == "completed"
    with pytest.raises(InvalidTransition, match="it is completed"):
        order.cancel("too late")
    assert order.state is OrderState.COMPLETED
