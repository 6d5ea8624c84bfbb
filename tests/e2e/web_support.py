"""Helpers of the web page tests: people of each role with passwords, signing in through the
real login form, and reading tokens and figures off the rendered pages."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.access import CreateUser
from tests.fixtures.world import World, build_world, line

PASSWORD = "correct horse battery staple"
STAFF = ("admin", "sales", "credit_manager", "warehouse", "ar_clerk", "auditor")


@dataclass
class Shop:
    """A business with staff users, two portal customers and one invoiced order each."""

    world: World
    codes: dict[str, str]  # customer key -> customer code
    invoices: dict[str, int]  # customer key -> an invoice of theirs
    orders: dict[str, int]


def open_shop(app: App) -> Shop:
    world = build_world(app.bus)
    for role in STAFF:
        app.bus.handle(CreateUser(role, PASSWORD, role))
    for key in ("rossi", "dupont"):
        app.bus.handle(CreateUser(f"portal-{key}", PASSWORD, "customer", world.customers[key]))
    invoices, orders = {}, {}
    for key in ("rossi", "dupont"):
        order_id = app.bus.handle(c.CreateOrder(world.customers[key],
                                                (line(world.products["CHAIR"], 2),)))
        [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
        app.bus.handle(c.PickShipment(shipment_id))
        app.bus.handle(c.PackShipment(shipment_id))
        app.bus.handle(c.ShipShipment(shipment_id, carrier="BRT", tracking_number="T1"))
        orders[key] = order_id
        with app.engine.connect() as conn:
            invoices[key] = conn.execute(select(t.invoices.c.id).where(
                t.invoices.c.shipment_id == shipment_id)).scalar_one()
    with app.engine.connect() as conn:
        codes = {key: conn.execute(select(t.customers.c.code).where(
            t.customers.c.id == customer_id)).scalar_one()
            for key, customer_id in world.customers.items()}
    return Shop(world, codes, invoices, orders)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD,
            next_page: str = "") -> object:
    form = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(form.text), "next": next_page},
                       follow_redirects=False)


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with this id (tags stripped, spaces collapsed)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:div|td|dd|a|span)>', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(asgi_app: Any, **options: Any) -> Iterator[str]:
    """`asgi_app` served by uvicorn in a thread on a free localhost port (with `options` as
    uvicorn's), until the block ends."""
    port = free_port()
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning",
                            **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
