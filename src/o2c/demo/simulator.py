"""A year of Bottega Emiliana's business, a day at a time, through the message bus.

Every stage runs as the real command with its real policies: sales take orders, credit
control holds, releases and rejects them, the warehouse picks, packs and ships (partly, now and
then), invoices post on shipment (or on order for pro-forma customers), goods come back and
are credited, customers pay the way they habitually do, accounts receivable applies what is
left over, and purchasing restocks every Monday. The clock is a `SettableClock` moved through
the simulated days, and every random choice comes from one `random.Random(seed)`, so the same
seed writes the same rows, ids, numbers and amounts."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial
from typing import Any

from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import MAX_LIMIT, Filters, Page, PageRequest
from o2c.bootstrap import App, SettableClock
from o2c.demo.catalog import (
    CARRIERS,
    COMPANY,
    FX_DAILY_STEP,
    FX_START,
    PRODUCTS,
    REFUSAL_REASONS,
    RETURN_REASONS,
    TERMS,
    VAT_FROM,
    VAT_RATES,
    WAREHOUSE,
    ProductSpec,
)
from o2c.demo.customers import Habit, Profile, assign_credit_limits, invent_customers
from o2c.domain import commands as c
from o2c.domain.einvoice import SetDocumentPreferences
from o2c.domain.money import ZERO, round_amount
from o2c.domain.orders import OrderState

D = Decimal
ONE = D(1)
HUNDRED = D(100)

# Days the company is closed besides weekends (Italian public holidays with a fixed date).
HOLIDAYS = {(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25),
            (12, 26)}
# How busy each month is, in percent of an average month (August is holiday season, the
# Christmas season is the busiest).
SEASON = {1: 80, 2: 90, 3: 100, 4: 105, 5: 110, 6: 105, 7: 95, 8: 45, 9: 105, 10: 110,
          11: 125, 12: 130}
LINES_PER_ORDER = ((1, 30), (2, 30), (3, 22), (4, 12), (5, 6))  # (lines, weight)
MEAN_LINES = D(sum(n * w for n, w in LINES_PER_ORDER)) / sum(w for _, w in LINES_PER_ORDER)
# Purchasing reorders a product when what is available covers less than REORDER_WEEKS of
# demand, up to ORDER_UP_TO_WEEKS of it.
REORDER_WEEKS = D("1.5")
ORDER_UP_TO_WEEKS = D(4)
PAYMENT_TEXT = {"it": "Saldo fattura", "fr": "Règlement facture", "es": "Pago factura",
                "de": "Zahlung Rechnung", "en": "Payment of invoice"}


@dataclass(frozen=True)
class PlannedPayment:
    """A payment a customer will make on a day: towards an invoice (None: an unallocated
    transfer, such as a duplicate), plus what it rounds up or over-pays."""

    customer_id: int
    invoice_id: int | None
    number: str
    amount: Decimal
    method: str = "bank_transfer"
    extra: Decimal = ZERO


@dataclass(frozen=True)
class Item:
    """A product on sale, with the demand purchasing plans for."""

    id: int
    spec: ProductSpec
    weekly_demand: Decimal


class Business:
    """The company and its customers, suppliers and carriers, acting day by day."""

    def __init__(self, app: App, clock: SettableClock, rng: random.Random, *,
                 customers: int, orders: int, first_day: date, last_day: date) -> None:
        self.app = app
        self.bus = app.bus
        self.clock = clock
        self.rng = rng
        self.customer_count = customers
        self.order_count = orders
        self.first_day = first_day
        self.last_day = last_day
        self.commands = 0
        self.company_id = 0
        self.warehouse_id = 0
        self.products: list[Item] = []
        self.profiles: dict[int, Profile] = {}
        self.active: list[Profile] = []
        self.order_customer: dict[int, Profile] = {}
        self.fx = dict(FX_START)
        self.agenda: dict[date, list[Callable[[date], None]]] = defaultdict(list)
        self.payments_due: dict[date, list[PlannedPayment]] = defaultdict(list)
        self.billed: set[int] = set()
        self.reminded: dict[int, date] = {}
        self.purchase_orders = 0
        self.today = first_day

    # -- plumbing ------------------------------------------------------------------------------

    def do(self, command: c.Command, actor: str) -> Any:
        """Send one command through the bus, as `actor` would from the back office. The
        clock moves on a little with each one, never past the end of the day."""
        moment = self.clock() + timedelta(seconds=self.rng.randint(5, 40))
        self.clock.set(min(moment, datetime.combine(self.today, time(23, 59, 59), UTC)))
        self.commands += 1
        return self.bus.handle(command, actor=actor)

    def read(self) -> Connection:
        return self.app.engine.connect()

    def later(self, day: date, task: Callable[[date], None]) -> None:
        """Put `task` on the agenda of a later business day."""
        if day <= self.today:
            day = self.business_days_after(self.today, 1)
        self.agenda[day].append(task)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS

    def business_days_after(self, day: date, count: int) -> date:
        while count > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def next_business_day(self, day: date) -> date:
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def chance(self, percent: float) -> bool:
        return self.rng.random() * 100 < percent

    def morning(self, day: date) -> None:
        self.today = day
        self.clock.set(datetime.combine(day, time(8, 0), UTC))

    # -- the year ------------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        setup_day = self.first_day - timedelta(days=1)
        self.morning(setup_day)
        self.set_up_the_business(setup_day)
        days = [self.first_day + timedelta(days=i)
                for i in range((self.last_day - self.first_day).days + 1)]
        orders_per_day = self.plan_order_intake(days)
        for index, day in enumerate(days):
            if self.is_business_day(day):
                self.business_day(day, orders_per_day.get(day, 0))
            if progress is not None:
                progress(index + 1, len(days))

    def business_day(self, day: date, new_orders: int) -> None:
        self.morning(day)
        self.publish_exchange_rates(day)
        if day.weekday() == 0 or day == self.first_day:
            self.receive_purchases(day)
        while self.agenda.get(day):
            for task in self.agenda.pop(day):
                task(day)
        self.customers_pay(day)
        if day.weekday() == 4:
            self.send_payment_reminders(day)
        for _ in range(new_orders):
            self.take_order(day)
        self.work_the_warehouse(day)
        self.plan_payments_for_todays_invoices(day)
        if self.is_month_end(day):
            self.close_the_month(day)

    def is_month_end(self, day: date) -> bool:
        next_day = self.business_days_after(day, 1)
        return next_day.month != day.month or day == self.last_day

    def plan_order_intake(self, days: list[date]) -> dict[date, int]:
        """How many orders arrive each business day: the total spread by season."""
        open_days = [d for d in days if self.is_business_day(d)]
        if not open_days:
            return {}
        chosen = self.rng.choices(open_days, weights=[SEASON[d.month] for d in open_days],
                                  k=self.order_count)
        counts: dict[date, int] = defaultdict(int)
        for day in chosen:
            counts[day] += 1
        return counts

    # -- master data ---------------------------------------------------------------------------

    def set_up_the_business(self, day: date) -> None:
        for terms in TERMS:
            self.do(terms, "admin")
        self.company_id = self.do(COMPANY, "admin")
        for country, category, rate in VAT_RATES:
            self.do(c.SetVatRate(country, category, D(rate), VAT_FROM), "admin")
        self.publish_exchange_rates(day)
        code, name, address = WAREHOUSE
        self.warehouse_id = self.do(c.CreateWarehouse(self.company_id, code, name, address),
                                    "admin")
        self.list_the_catalogue()
        self.receive_opening_stock(day)
        self.sign_up_customers(day)

    def list_the_catalogue(self) -> None:
        weight_total = sum(p.weight for p in PRODUCTS)
        open_days = sum(1 for i in range((self.last_day - self.first_day).days + 1)
                        if self.is_business_day(self.first_day + timedelta(days=i)))
        orders_per_week = D(self.order_count) * 5 / max(open_days, 1)
        for spec in PRODUCTS:
            product_id = self.do(c.CreateProduct(
                self.company_id, spec.sku, spec.name, D(spec.price), unit=spec.unit,
                vat_category=spec.category,
                prices={cur: D(price) for cur, price in spec.prices.items()},
                kind="service" if spec.service else "goods"), "admin")
            share = D(spec.weight) / weight_total
            self.products.append(Item(product_id, spec,
                                      orders_per_week * MEAN_LINES * share * _mean_qty(spec)))

    def sign_up_customers(self, day: date) -> None:
        """Most customers are on the books from the start; the rest sign up during the year."""
        profiles = invent_customers(self.rng, self.customer_count)
        assign_credit_limits(self.rng, profiles, self.expected_revenue())
        newcomers = len(profiles) // 5
        for profile in profiles[:len(profiles) - newcomers]:
            self.sign_up(profile, day)
        span = max((self.last_day - self.first_day).days * 5 // 6, 1)
        for profile in profiles[len(profiles) - newcomers:]:
            joins = self.next_business_day(self.first_day
                                           + timedelta(days=self.rng.randint(0, span)))
            self.later(joins, partial(self.sign_up, profile))

    def sign_up(self, profile: Profile, day: date) -> None:
        country = profile.country
        profile.id = self.do(c.CreateCustomer(
            self.company_id, profile.name, country.code, currency=profile.currency,
            language=profile.language, vat_id=profile.vat_id, tax_code=profile.tax_code,
            email=profile.email,
            billing_address=profile.address, payment_terms_code=profile.terms_code,
            credit_limit=profile.credit_limit,
            invoice_policy="on_order" if profile.invoiced_on_order else "on_shipment",
            buyer_reference=profile.buyer_reference), "sales")
        with self.read() as conn:
            profile.code = queries.customer(conn, profile.id, day)["code"]
        self.profiles[profile.id] = profile
        self.active.append(profile)
        if profile.documents is not None:
            self.do(SetDocumentPreferences(profile.id, **profile.documents), "sales")

    def expected_revenue(self) -> Decimal:
        """Roughly what a year of orders is worth (EUR, VAT included), to size credit limits."""
        weight_total = sum(p.weight for p in PRODUCTS)
        line_value = sum((D(p.price) * _mean_qty(p) * p.weight for p in PRODUCTS), D(0))
        return line_value / weight_total * MEAN_LINES * D("1.12") * self.order_count

    # -- exchange rates and stock ------------------------------------------------------------------

    def publish_exchange_rates(self, day: date) -> None:
        """The day's reference rates: a random walk pulled gently back to where it started."""
        for currency, start in FX_START.items():
            step = self.rng.randint(-FX_DAILY_STEP[currency], FX_DAILY_STEP[currency])
            rate = self.fx[currency]
            rate = rate * (ONE + D(step) / 10000) + (start - rate) / 80
            self.fx[currency] = rate.quantize(D("0.0000001"))
            self.do(c.SetExchangeRate(currency, COMPANY.currency, self.fx[currency], day),
                    "treasury")

    def weeks_of_demand(self, product: Item, day: date, weeks: Decimal) -> Decimal:
        season = 3 if day.month in product.spec.season else 1
        demand = product.weekly_demand * SEASON[day.month] / HUNDRED * season * weeks
        return demand.to_integral_value(ROUND_CEILING)

    def receive_opening_stock(self, day: date) -> None:
        for product in self.products:
            quantity = self.weeks_of_demand(product, self.first_day, ORDER_UP_TO_WEEKS) + 1
            self.do(c.ReceiveStock(self.warehouse_id, product.id, quantity,
                                   "opening stock", on=day), "warehouse")

    def receive_purchases(self, day: date) -> None:
        """Monday: suppliers deliver what purchasing reordered for products running low, up
        to a few weeks of demand. Some suppliers are unreliable: late, or short."""
        available = {row["product_id"]: row["available"] for row in self.stock_levels()}
        for product in self.products:
            on_shelf = available.get(product.id, D(0))
            if on_shelf >= self.weeks_of_demand(product, day, REORDER_WEEKS):
                continue
            missing = self.weeks_of_demand(product, day, ORDER_UP_TO_WEEKS) - on_shelf
            if product.spec.short:
                if self.chance(45):
                    continue  # the supplier is late this week
                missing = (missing * self.rng.randint(50, 100) / 100).to_integral_value(
                    ROUND_CEILING)
            self.purchase_orders += 1
            reference = (f"technician capacity week {day.isocalendar().week}"
                         if product.spec.unit == "HUR"
                         else f"DDT {self.purchase_orders:05d}")
            self.do(c.ReceiveStock(self.warehouse_id, product.id, missing, reference, on=day),
                    "warehouse")

    def stock_levels(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return list(all_rows(lambda page: queries.list_stock(conn, Filters(), page)))

    def count_the_stock(self, day: date) -> None:
        """Month end: a spot count of two products finds breakage or a forgotten case."""
        levels = {row["product_id"]: row for row in self.stock_levels()}
        goods = [p for p in self.products if p.spec.unit != "HUR"]
        for product in self.rng.sample(goods, 2):
            level = levels[product.id]
            if self.chance(60):
                delta = -min(D(self.rng.randint(1, 3)), level["available"])
                reason = "stock count: breakage"
            else:
                delta = D(self.rng.randint(1, 2))
                reason = "stock count: found in the wrong location"
            if delta:
                self.do(c.AdjustStock(self.warehouse_id, product.id, reason, delta=delta,
                                      on=day), "warehouse")

    # -- sales and credit control ----------------------------------------------------------------

    def take_order(self, day: date) -> None:
        customer = self.rng.choices(self.active, weights=[p.size for p in self.active])[0]
        customer.order_count += 1
        reference = (f"WEB-{self.rng.randint(100000, 999999)}" if customer.consumer
                     else f"PO-{day.year}-{customer.order_count:04d}")
        order_id = self.do(c.CreateOrder(customer.id, tuple(self.basket(customer, day)),
                                         order_date=day, customer_reference=reference),
                           "sales")
        self.order_customer[order_id] = customer
        if not customer.consumer and self.chance(8):
            # A quotation: the customer signs it (or not) within a few weeks.
            self.later(self.business_days_after(day, self.rng.randint(3, 20)),
                       partial(self.customer_answers_quotation, order_id))
        elif self.chance(20):
            # Entered after the cut-off: confirmed the next morning.
            self.later(self.business_days_after(day, 1), partial(self.confirm, order_id))
        else:
            self.confirm(order_id, day)

    def basket(self, customer: Profile, day: date) -> Iterator[c.OrderLineInput]:
        choices = [p for p in self.products if p.spec.retail or not customer.consumer]
        weights = [p.spec.weight * (3 if day.month in p.spec.season else 1)
                   * (4 if customer.currency in p.spec.prices else 1) for p in choices]
        count = self.rng.choices([n for n, _ in LINES_PER_ORDER],
                                 weights=[w for _, w in LINES_PER_ORDER])[0]
        picked: list[Item] = []
        while len(picked) < min(count, len(choices)):
            product = self.rng.choices(choices, weights=weights)[0]
            if product not in picked:
                picked.append(product)
        for product in picked:
            low, high, step = product.spec.qty
            if customer.consumer:
                high = max(low, high // 4)
            quantity = D(step) * self.rng.randint(low, high)
            discount = (D(self.rng.choice((5, 8, 10)))
                        if customer.size >= 30 and self.chance(30) else D(0))
            yield c.OrderLineInput(product.id, quantity, self.quote(customer, product),
                                   discount_percent=discount)

    def quote(self, customer: Profile, product: Item) -> Decimal | None:
        """The price list's price (None) or, for a currency the list lacks, today's EUR price
        converted, plus 6% for the exchange risk."""
        if customer.currency == COMPANY.currency or customer.currency in product.spec.prices:
            return None
        converted = D(product.spec.price) / self.fx[customer.currency] * D("1.06")
        return round_amount(converted, customer.currency)

    def confirm(self, order_id: int, day: date) -> None:
        result = self.do(c.ConfirmOrder(order_id, on=day), "sales")
        customer = self.order_customer[order_id]
        if result.state is OrderState.CREDIT_HOLD:
            self.later(self.credit_meeting_after(day),
                       partial(self.review_credit_hold, order_id, 0))
        elif not customer.invoiced_on_order and self.chance(1.5):
            self.later(self.business_days_after(day, self.rng.randint(1, 2)),
                       partial(self.customer_cancels, order_id))

    def credit_meeting_after(self, day: date) -> date:
        """Credit control meets on Tuesdays and Thursdays to decide on held orders."""
        meeting = self.business_days_after(day, 1)
        while meeting.weekday() not in (1, 3):
            meeting = self.business_days_after(meeting, 1)
        return meeting

    def customer_answers_quotation(self, order_id: int, day: date) -> None:
        if self.chance(75):
            self.confirm(order_id, day)
        else:
            self.do(c.CancelOrder(order_id, "quotation not accepted by the customer"), "sales")

    def review_credit_hold(self, order_id: int, deferrals: int, day: date) -> None:
        """Credit control decides on a held order: release it, reject it, or wait for the
        customer's promise to pay until the next meeting; sometimes the customer withdraws
        first."""
        roll = self.rng.randint(1, 100)
        if roll <= 6:
            self.do(c.CancelOrder(order_id, "customer withdrew the order during credit review"),
                    "sales")
        elif roll <= 30 and deferrals < 2:
            self.later(self.credit_meeting_after(day),
                       partial(self.review_credit_hold, order_id, deferrals + 1))
        elif self.order_customer[order_id].habit is Habit.RARELY:
            if self.chance(70):
                self.do(c.RejectOrder(order_id, "rejected: invoices long overdue and no "
                                                "payment plan agreed"), "credit")
            else:
                self.do(c.ReleaseOrder(order_id, "released against a payment plan", on=day),
                        "credit")
        elif self.chance(12):
            self.do(c.RejectOrder(order_id, "rejected: exposure too high for this customer"),
                    "credit")
        else:
            self.do(c.ReleaseOrder(order_id, "approved by the credit manager after a call with "
                                             "the customer", on=day), "credit")

    def customer_cancels(self, order_id: int, day: date) -> None:
        """A customer calls off a confirmed order; too late once something has shipped."""
        with self.read() as conn:
            order = queries.order(conn, order_id, day)
        if (order["state"] == OrderState.CONFIRMED.value
                and order["shipping_status"] == "not_shipped"
                and order["invoicing_status"] == "not_invoiced"):
            self.do(c.CancelOrder(order_id, "customer cancelled: event postponed"), "sales")

    def review_credit_lines(self, day: date) -> None:
        """Month end: block customers whose invoices are long overdue, unblock those who have
        caught up, and raise the limit of good payers who are close to it."""
        with self.read() as conn:
            positions = [(p, queries.credit_position(conn, p.id, day))
                         for p in self.active if not p.consumer]
        for profile, position in positions:
            overdue = position["days_overdue"]
            if not position["blocked"] and overdue > 75:
                self.do(c.UpdateCustomer(profile.id, {"credit_blocked": True}), "credit")
            elif position["blocked"] and overdue == 0:
                self.do(c.UpdateCustomer(profile.id, {"credit_blocked": False}), "credit")
            elif (profile.habit in (Habit.PUNCTUAL, Habit.DIRECT_DEBIT)
                  and position["credit_limit"] and position["exposure"] * 5
                  > position["credit_limit"] * 4):
                raised = (position["credit_limit"] * D("1.25") / 1000).to_integral_value(
                    ROUND_CEILING) * 1000
                profile.credit_limit = raised
                self.do(c.UpdateCustomer(profile.id, {"credit_limit": raised}), "credit")

    # -- the warehouse -----------------------------------------------------------------------------

    def work_the_warehouse(self, day: date) -> None:
        """Pick, pack and ship what is ready, and hear back from carriers about deliveries."""
        with self.read() as conn:
            shipments = sorted(all_rows(lambda page: queries.list_shipments(
                conn, Filters(state="ready,picked,packed,shipped"), page)),
                key=lambda s: s["id"])
        for shipment in shipments:
            customer = self.profiles[shipment["customer_id"]]
            if shipment["state"] == "shipped":
                if self.chance({"IT": 60, "EU": 35, "OVERSEAS": 12}[customer.region]):
                    self.deliver(shipment, customer, day)
                continue
            self.prepare_and_ship(shipment, customer, day)

    def prepare_and_ship(self, shipment: dict[str, Any], customer: Profile, day: date) -> None:
        shipment_id, state = shipment["id"], shipment["state"]
        if state == "ready":
            if not self.chance(80):
                return
            self.do(c.PickShipment(shipment_id, on=day), "warehouse")
            state = "picked"
        if state == "picked":
            if self.chance(0.4):
                self.do(c.CancelShipment(shipment_id, "goods damaged while picking; picked "
                                                      "again from stock"), "warehouse")
                self.do(c.ReserveBackorders(shipment["order_id"], on=day), "warehouse")
                return
            if not self.chance(70):
                return
            packages = 1 + sum(int(line["quantity"]) for line in shipment["lines"]) // 12
            self.do(c.PackShipment(shipment_id, packages=min(packages, 40), on=day),
                    "warehouse")
            state = "packed"
        if state == "packed" and self.chance(75):
            self.ship(shipment, customer, day)

    def ship(self, shipment: dict[str, Any], customer: Profile, day: date) -> None:
        """Hand the goods to the carrier; now and then the truck is full and part of a line
        waits for the next one."""
        quantities = None
        splittable = [line for line in shipment["lines"] if line["quantity"] >= 2]
        if splittable and self.chance(4):
            short = self.rng.choice(splittable)
            quantities = {line["order_line_id"]: line["quantity"] for line in shipment["lines"]}
            quantities[short["order_line_id"]] = (short["quantity"] / 2).to_integral_value(
                ROUND_FLOOR)
        carrier = self.rng.choice(CARRIERS[customer.region])
        tracking = "".join(str(self.rng.randint(0, 9)) for _ in range(12))
        self.do(c.ShipShipment(shipment["id"], on=day, carrier=carrier,
                               tracking_number=tracking, quantities=quantities), "warehouse")

    def deliver(self, shipment: dict[str, Any], customer: Profile, day: date) -> None:
        self.do(c.DeliverShipment(shipment["id"], on=day), "warehouse")
        if not customer.invoiced_on_order and self.chance(5):
            self.later(self.business_days_after(day, self.rng.randint(2, 12)),
                       partial(self.customer_returns_goods, shipment["id"]))

    def customer_returns_goods(self, shipment_id: int, day: date) -> None:
        """Goods come back: a whole delivery refused (credited in full) or part of a line
        (credited by quantity). What can be sold again goes back into stock."""
        with self.read() as conn:
            found = queries.shipment_invoices(conn, shipment_id, day)
            if not found:
                return
            invoice = queries.invoice(conn, found[0]["id"], day)
        goods = [line for line in invoice["lines"] if line["unit"] != "HUR"]
        if not goods:
            return
        if invoice["residual"] == invoice["gross_amount"] and self.chance(25):
            reason, resaleable = self.rng.choice(REFUSAL_REASONS)
            self.do(c.CreateCreditNote(invoice["id"], reason, on=day), "ar")
            if resaleable:
                self.restock(goods, reason, day)
            return
        line = self.rng.choice(goods)
        quantity = line["quantity"]
        if line["unit"] == "KGM":
            returned = (quantity * self.rng.randint(1, 4) / 4).quantize(D("0.01"))
        else:
            returned = D(self.rng.randint(1, max(int(quantity), 1)))
        returned = min(max(returned, D("0.01")), quantity)
        reason, resaleable = self.rng.choice(RETURN_REASONS)
        self.do(c.CreateCreditNote(invoice["id"], reason,
                                   (c.CreditLineInput(line["id"], returned),), on=day), "ar")
        if resaleable:
            self.restock([{**line, "quantity": returned}], reason, day)

    def restock(self, lines: list[dict[str, Any]], reason: str, day: date) -> None:
        for line in lines:
            self.do(c.ReceiveStock(self.warehouse_id, line["product_id"], line["quantity"],
                                   f"customer return: {reason}", on=day), "warehouse")

    # -- receivables ---------------------------------------------------------------------------

    def plan_payments_for_todays_invoices(self, day: date) -> None:
        with self.read() as conn:
            invoices = list(all_rows(lambda page: queries.list_invoices(
                conn, Filters(date_from=day, date_to=day, extra={"kind": "invoice"}), page,
                day)))
        for invoice in sorted(invoices, key=lambda i: i["id"]):
            if invoice["id"] not in self.billed:
                self.billed.add(invoice["id"])
                self.plan_payment(invoice, self.profiles[invoice["customer_id"]])

    def plan_payment(self, invoice: dict[str, Any], customer: Profile) -> None:
        """When and how much the customer will pay, by its habit and the invoice's terms."""
        issued, gross = invoice["issue_date"], invoice["gross_amount"]
        terms = customer.terms
        due = [(i.due_date, i.amount) for i in terms.schedule(issued, gross, customer.currency)]

        def pay(on: date, amount: Decimal, method: str = "bank_transfer",
                extra: Decimal = D(0), invoice_id: int | None = invoice["id"]) -> None:
            when = self.next_business_day(max(on, issued + timedelta(days=1)))
            self.payments_due[when].append(PlannedPayment(
                customer.id, invoice_id, invoice["number"], amount, method, extra))

        def days(low: int, high: int) -> timedelta:
            return timedelta(days=self.rng.randint(low, high))

        habit = customer.habit
        if customer.consumer:
            pay(issued + days(0, 2), gross, "card")
        elif habit is Habit.PUNCTUAL and terms.discount_percent:
            pay(issued + days(3, terms.discount_days), gross)
        elif habit is Habit.PUNCTUAL:
            for on, amount in due:
                pay(on + days(-5, 2), amount)
        elif habit is Habit.DIRECT_DEBIT:
            for on, amount in due:
                pay(on, amount, "direct_debit")
        elif habit is Habit.LATE:
            for on, amount in due:
                pay(on + days(customer.lateness - 4, customer.lateness + 4), amount)
        elif habit is Habit.PARTIAL:
            first = round_amount(gross * self.rng.randint(30, 70) / HUNDRED, customer.currency)
            pay(due[0][0] - days(0, 10), first)
            pay(due[-1][0] + days(10, 32), gross - first)
        elif habit is Habit.RARELY:
            if self.chance(40):
                pay(due[-1][0] + days(45, 150), gross)
        elif habit is Habit.OVERPAYS:
            for on, amount in due:
                rounded_up = (amount / 10).to_integral_value(ROUND_CEILING) * 10
                pay(on + days(-3, 3), amount, extra=rounded_up - amount)
                if self.chance(10):  # the same transfer sent twice
                    pay(on + days(1, 5), amount, invoice_id=None)

    def customers_pay(self, day: date) -> None:
        """Each customer paying today sends one transfer (or is collected once) for what it
        means to pay, less what credit notes or earlier payments have already settled."""
        grouped: dict[tuple[int, str], list[PlannedPayment]] = defaultdict(list)
        for payment in self.payments_due.pop(day, []):
            grouped[(payment.customer_id, payment.method)].append(payment)
        residuals: dict[int, Decimal] = {}
        for customer_id in sorted({customer_id for customer_id, _ in grouped}):
            residuals.update((row["id"], row["residual"])
                             for row in self.open_invoices(day, customer_id))
        for (customer_id, method), payments in grouped.items():
            self.customer_pays(self.profiles[customer_id], method, payments, residuals, day)

    def customer_pays(self, customer: Profile, method: str, planned: list[PlannedPayment],
                      residuals: dict[int, Decimal], day: date) -> None:
        allocations: dict[int, Decimal] = defaultdict(Decimal)
        numbers: list[str] = []
        unallocated = D(0)
        for payment in planned:
            if payment.invoice_id is None:
                unallocated += payment.amount
                continue
            amount = min(payment.amount, residuals.get(payment.invoice_id, D(0)))
            if amount > 0:
                allocations[payment.invoice_id] += amount
                residuals[payment.invoice_id] -= amount
                numbers.append(payment.number)
                unallocated += payment.extra
        total = sum(allocations.values(), D(0)) + unallocated
        if total <= 0:
            return
        auto = method == "bank_transfer" and bool(allocations) and self.chance(12)
        text = PAYMENT_TEXT[customer.language]
        reference = f"{text} {', '.join(numbers)}" if numbers else f"{text} ({customer.code})"
        payment_id = self.do(c.RecordPayment(
            customer.id, total, customer.currency, received_on=day, method=method,
            reference=reference[:300], payer_name=customer.name, payer_iban=customer.payer_iban,
            allocations=() if auto else tuple(c.AllocationInput(i, a)
                                              for i, a in allocations.items()),
            auto_allocate=auto), "ar")
        if method == "direct_debit" and self.chance(4):
            self.later(self.business_days_after(day, 3),
                       partial(self.direct_debit_bounces, payment_id, customer))

    def send_payment_reminders(self, day: date) -> None:
        """Friday: accounts receivable reminds customers of invoices more than two weeks
        overdue (at most every other week); all but the worst payers then pay what is left."""
        for invoice in self.open_invoices(day):
            customer = self.profiles[invoice["customer_id"]]
            last = self.reminded.get(invoice["id"])
            if (invoice["days_overdue"] < 15 or customer.habit is Habit.RARELY
                    or (last is not None and (day - last).days < 14)):
                continue
            self.reminded[invoice["id"]] = day
            when = self.business_days_after(day, self.rng.randint(3, 10))
            self.payments_due[when].append(PlannedPayment(
                customer.id, invoice["id"], invoice["number"], invoice["residual"]))

    def open_invoices(self, day: date, customer_id: int | None = None
                      ) -> list[dict[str, Any]]:
        """Every invoice (of a customer) that still owes something, oldest first."""
        with self.read() as conn:
            rows = list(all_rows(lambda page: queries.list_invoices(
                conn, Filters(customer_id=customer_id, extra={"open": True, "kind": "invoice"}),
                page, day)))
        return sorted(rows, key=lambda row: row["id"])

    def direct_debit_bounces(self, payment_id: int, customer: Profile, day: date) -> None:
        """The customer's bank returns the collection: un-apply it, reverse it, and the
        customer pays the same invoices by transfer a couple of weeks later."""
        with self.read() as conn:
            payment = queries.payment(conn, payment_id)
        reason = "direct debit returned by the bank: insufficient funds (AM04)"
        active = [a for a in payment["allocations"] if a["reversed_on"] is None]
        for allocation in active:
            self.do(c.Unallocate(allocation["id"], reason, on=day), "ar")
        self.do(c.ReversePayment(payment_id, reason, on=day), "ar")
        again = self.business_days_after(day, self.rng.randint(5, 15))
        for allocation in active:
            self.payments_due[again].append(PlannedPayment(
                customer.id, allocation["invoice_id"], allocation["invoice_number"],
                allocation["amount"]))

    def close_the_month(self, day: date) -> None:
        oldest_open: dict[int, int] = {}
        for row in self.open_invoices(day):
            oldest_open.setdefault(row["customer_id"], row["id"])
        self.apply_unapplied_cash(oldest_open, day)
        self.apply_unused_credit_notes(oldest_open, day)
        self.review_credit_lines(day)
        self.count_the_stock(day)

    def apply_unapplied_cash(self, oldest_open: dict[int, int], day: date) -> None:
        """Accounts receivable applies about half of the money customers left on account
        (over-payments, duplicates) to their open invoices, oldest first."""
        with self.read() as conn:
            waiting = list(all_rows(lambda page: queries.list_payments(
                conn, Filters(state="received", extra={"unapplied": True}), page)))
        for payment in sorted(waiting, key=lambda p: p["id"]):
            if payment["customer_id"] in oldest_open and self.chance(50):
                self.do(c.AllocatePayment(payment["id"], auto=True, on=day), "ar")

    def apply_unused_credit_notes(self, oldest_open: dict[int, int], day: date) -> None:
        """A credit note left over (its invoice was already paid) settles the customer's
        oldest open invoice."""
        with self.read() as conn:
            credits = list(all_rows(lambda page: queries.list_invoices(
                conn, Filters(extra={"open": True, "kind": "credit_note"}), page, day)))
        for note in sorted(credits, key=lambda n: n["id"]):
            if note["customer_id"] in oldest_open and self.chance(60):
                # One per customer and month: the payments above may have settled the rest.
                invoice_id = oldest_open.pop(note["customer_id"])
                with self.read() as conn:
                    still_open = queries.invoice(conn, invoice_id, day)["residual"] > 0
                if still_open:
                    self.do(c.ApplyCreditNote(note["id"], invoice_id, on=day), "ar")


def all_rows(fetch: Callable[[PageRequest], Page]) -> Iterator[dict[str, Any]]:
    """Every row of a paginated list, page by page."""
    offset = 0
    while True:
        page = fetch(PageRequest(limit=MAX_LIMIT, offset=offset))
        yield from page.items
        offset += MAX_LIMIT
        if offset >= page.total:
            return


def _mean_qty(spec: ProductSpec) -> Decimal:
    low, high, step = spec.qty
    return D(step) * (low + high) / 2
