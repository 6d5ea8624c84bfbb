"""A role sets only the fields its work needs. A portal customer used to order at its own
prices ("unit_price": "0.01", "discount_percent": "100", an order date in the past) and sales
then confirmed it; now every field a role may not set is refused with 403 naming it, whatever
its value and however the customer signed in, and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o2c.api.permissions import FIELD_PERMISSIONS, PERMISSIONS
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import LOGIN_ROLES, Forbidden, Principal, Role
from tests.e2e.conftest import API, ClientAs, fields, ok, problem, row_counts
from tests.fixtures.security import user
from tests.fixtures.world import World, line


def _order(world: World, **line_fields: Any) -> dict[str, Any]:
    return {"customer_id": world.customers["rossi"],
            "lines": [{"product_id": world.products["DESK"], "quantity": "2", **line_fields}]}


@pytest.mark.parametrize(("change", "field"), [
    ({"unit_price": "0.01"}, "lines[0].unit_price"),
    ({"discount_percent": "100"}, "lines[0].discount_percent"),
    ({"discount_percent": "0"}, "lines[0].discount_percent"),
    ({"description": "FREE SAMPLE"}, "lines[0].description"),
    ({"order_date": "2026-01-02"}, "order_date"),
    ({"warehouse_id": 1}, "warehouse_id")])
def test_a_portal_customer_cannot_choose_prices_discounts_or_dates(
        any_app: App, world: World, client_as: ClientAs, change: dict[str, Any],
        field: str) -> None:
    portal = client_as("customer", customer_id=world.customers["rossi"])
    line_fields = {k: v for k, v in change.items() if k not in ("order_date", "warehouse_id")}
    body = {**_order(world, **line_fields),
            **{k: v for k, v in change.items() if k in ("order_date", "warehouse_id")}}
    before = row_counts(any_app.engine)
    refused = problem(portal.post(f"{API}/orders", json=body), 403)
    assert fields(refused) == [field] and field in refused["detail"]
    assert row_counts(any_app.engine) == before
    # The same order at the price list's price, today, is theirs to place.
    placed = ok(portal.post(f"{API}/orders", json={
        **_order(world), "customer_reference": "PO-77", "notes": "door 3"}), 201)
    assert Decimal(placed["lines"][0]["unit_price"]) == Decimal("450.50")


def test_the_refusal_holds_for_a_customer_signed_in_with_a_cookie(
        any_app: App, world: World, anonymous: TestClient) -> None:
    user(any_app.bus, "rossi-buyer", Role.CUSTOMER, world.customers["rossi"])
    from o2c.domain.access import SetPassword

    any_app.bus.handle(SetPassword("rossi-buyer", "a long portal password"))
    session = ok(anonymous.post(f"{API}/auth/login", json={
        "username": "rossi-buyer", "password": "a long portal password"}))
    before = row_counts(any_app.engine)
    refused = problem(anonymous.post(f"{API}/orders", json=_order(world, unit_price="0.01"),
                                     headers={"X-CSRF-Token": session["csrf_token"]}), 403)
    assert fields(refused) == ["lines[0].unit_price"]
    assert row_counts(any_app.engine) == before


def test_the_services_refuse_the_same_fields_to_a_portal_customer_on_any_edge(
        any_app: App, world: World) -> None:
    """The web portal and any future edge go through the same guard as the API's table."""
    rossi = world.customers["rossi"]
    customer = Principal("rossi-web", Role.CUSTOMER, 99, rossi)
    for order in (c.CreateOrder(rossi, (line(world.products["DESK"], 1, "0.01"),)),
                  c.CreateOrder(rossi, (line(world.products["DESK"], 1),),
                                order_date=c.date(2026, 1, 2))):
        with pytest.raises(Forbidden):
            any_app.bus.handle(order, principal=customer)
    assert any_app.bus.handle(c.CreateOrder(rossi, (line(world.products["DESK"], 1),)),
                              principal=customer) > 0


# -- the property: every role, every write operation with field rules, any value --------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=5)

PATHS = {"create_order": ("POST", "/orders"), "create_customer": ("POST", "/customers"),
         "update_customer": ("PATCH", "/customers/{customer}")}

# Every (operation, field, role) where the role may call the operation but not set the field.
REFUSALS = sorted((operation, field, role)
                  for operation, rules in FIELD_PERMISSIONS.items()
                  for field, permitted in rules.items()
                  for role in PERMISSIONS[operation] - permitted)


def _body_with(field: str, value: Any) -> dict[str, Any]:
    """A body that sets `field` ("lines[].x": x on a line) to `value`."""
    name, _, rest = field.partition(".")
    if name.endswith("[]"):
        return {name[:-2]: [{rest: value}]}
    return {name: value}


def test_every_write_operation_with_field_rules_is_reachable_here() -> None:
    assert set(FIELD_PERMISSIONS) == set(PATHS)
    assert {(op, f, r) for op, f, r in REFUSALS if r is Role.CUSTOMER} >= {
        ("create_order", "lines[].unit_price", Role.CUSTOMER),
        ("create_order", "lines[].discount_percent", Role.CUSTOMER),
        ("create_order", "order_date", Role.CUSTOMER)}
    assert ("create_customer", "credit_limit", Role.SALES) in REFUSALS
    assert ("update_customer", "credit_limit", Role.SALES) in REFUSALS


@pytest.mark.parametrize(("operation", "field", "role"), REFUSALS)
def test_a_field_the_role_may_not_set_is_refused_whatever_its_value_and_nothing_is_written(
        any_app: App, world: World, client_as: ClientAs, operation: str, field: str,
        role: Role) -> None:
    client = client_as(role.value, customer_id=world.customers["rossi"]
                       if role is Role.CUSTOMER else None)
    method, path = PATHS[operation]
    url = API + path.format(customer=world.customers["rossi"])
    before = row_counts(any_app.engine)

    @settings(max_examples=15, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(value=ANY_JSON, rest=st.fixed_dictionaries({}, optional={
        "customer_id": st.just(world.customers["rossi"]), "company_id": st.integers(1, 3),
        "name": st.text(min_size=1, max_size=10), "country": st.sampled_from(["IT", "FR"])}))
    def refused(value: Any, rest: dict[str, Any]) -> None:
        body = {**rest, **_body_with(field, value)}
        answer = problem(client.request(method, url, json=body), 403)
        assert field.replace("[]", "[0]") in fields(answer)

    refused()
    assert row_counts(any_app.engine) == before


def test_a_role_that_may_set_the_field_is_not_refused_for_it(
        any_app: App, world: World, client_as: ClientAs) -> None:
    """The rules refuse what they name and nothing more: sales price an order, a credit
    manager sets a limit."""
    sales = client_as("sales")
    ok(sales.post(f"{API}/orders", json=_order(world, unit_price="400", discount_percent="5")),
       201)
    ok(client_as("credit_manager").patch(f"{API}/customers/{world.customers['rossi']}",
                                         json={"credit_limit": "6000"}))
    assert {Role.SALES, Role.CREDIT_MANAGER} <= LOGIN_ROLES
