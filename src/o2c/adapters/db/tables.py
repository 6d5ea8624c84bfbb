"""The database schema (SQLAlchemy Core). Alembic migrations are written from it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)

from o2c.adapters.db.types import AMOUNT, FX_RATE, PERCENT, QUANTITY, UNIT_PRICE, UtcDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _version() -> Column[int]:
    return Column("version", Integer, nullable=False, server_default="0")


def _created() -> Column[object]:
    return Column("created_at", UtcDateTime(), nullable=False)


companies = Table(
    "companies", metadata, _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("vat_id", String(32), nullable=False, server_default=""),
    Column("iban", String(34), nullable=False, server_default=""),
    Column("bic", String(11), nullable=False, server_default=""),
    Column("address", JSON, nullable=False),
    Column("email", String(200), nullable=False, server_default=""),
    Column("tax_rounding", String(20), nullable=False),
    Column("rounding_mode", String(20), nullable=False),
    Column("overdue_hold_days", Integer, nullable=False),
    _version(), _created(),
    Column("default_credit_limit", AMOUNT, nullable=False, server_default="0"),
    CheckConstraint("default_credit_limit >= 0", name="default_credit_limit_positive"),
    # company register data for invoices (domain.parties.Registration)
    Column("registration", JSON, nullable=False, server_default="{}"),
)

accounts = Table(
    "accounts", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("code", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(16), nullable=False),
    UniqueConstraint("company_id", "code"),
)

payment_terms = Table(
    "payment_terms", metadata, _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("discount_percent", PERCENT, nullable=False),
    Column("discount_days", Integer, nullable=False),
)

customers = Table(
    "customers", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("language", String(5), nullable=False),
    Column("vat_id", String(32), nullable=False, server_default=""),
    Column("tax_code", String(32), nullable=False, server_default=""),
    Column("email", String(200), nullable=False, server_default=""),
    Column("billing_address", JSON, nullable=False),
    Column("shipping_address", JSON, nullable=False),
    Column("payment_terms_code", String(32), nullable=False),
    Column("credit_limit", AMOUNT, nullable=True),
    Column("credit_blocked", Boolean, nullable=False),
    Column("overdue_hold_days", Integer, nullable=True),
    Column("invoice_policy", String(20), nullable=False),
    Column("buyer_reference", String(100), nullable=False, server_default=""),
    _version(), _created(),
    Column("approved_credit_limit", AMOUNT, nullable=True),
    UniqueConstraint("company_id", "code"),
    CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit_positive"),
    CheckConstraint("approved_credit_limit IS NULL OR approved_credit_limit >= 0",
                    name="approved_credit_limit_positive"),
)
Index("ix_customers_name", customers.c.name)

products = Table(
    "products", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit", String(8), nullable=False),
    Column("unit_price", UNIT_PRICE, nullable=False),
    Column("vat_category", String(20), nullable=False),
    Column("prices", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    _version(), _created(),
    UniqueConstraint("company_id", "sku"),
    CheckConstraint("unit_price >= 0", name="unit_price_positive"),
    Column("kind", String(16), nullable=False, server_default="goods"),
    CheckConstraint("kind IN ('goods', 'service')", name="product_kind"),
)

DELIVERY_ROUTES = "{column} IN ('pick_pack_ship', 'pick_ship', 'ship_only')"

warehouses = Table(
    "warehouses", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", JSON, nullable=False),
    # The steps its shipments go through (domain.shipping.DeliveryRoute).
    Column("delivery_route", String(16), nullable=False, server_default="pick_pack_ship"),
    _version(), _created(),
    UniqueConstraint("company_id", "code"),
    CheckConstraint(DELIVERY_ROUTES.format(column="delivery_route"), name="known_delivery_route"),
)

stock_levels = Table(
    "stock_levels", metadata, _id(),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("on_hand", QUANTITY, nullable=False),
    Column("reserved", QUANTITY, nullable=False),
    _version(),
    UniqueConstraint("product_id", "warehouse_id"),
    # The no-oversell invariant, enforced by the database as the last line of defence.
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
)

stock_moves = Table(
    "stock_moves", metadata, _id(),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("moved_on", Date, nullable=False),
    _created(),
)
Index("ix_stock_moves_product_warehouse", stock_moves.c.product_id, stock_moves.c.warehouse_id)

vat_rates = Table(
    "vat_rates", metadata, _id(),
    Column("country", String(2), nullable=False),
    Column("category", String(20), nullable=False),
    Column("rate", PERCENT, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    UniqueConstraint("country", "category", "valid_from"),
)

exchange_rates = Table(
    "exchange_rates", metadata, _id(),
    Column("currency", String(3), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("rate_date", Date, nullable=False),
    Column("rate", FX_RATE, nullable=False),
    UniqueConstraint("currency", "company_currency", "rate_date"),
    CheckConstraint("rate > 0", name="rate_positive"),
)

number_sequences = Table(
    "number_sequences", metadata,
    Column("company_id", ForeignKey("companies.id"), primary_key=True),
    Column("series", String(16), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_value", Integer, nullable=False),
)

sales_orders = Table(
    "sales_orders", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("state", String(20), nullable=False),
    Column("customer_reference", String(100), nullable=False),
    Column("notes", Text, nullable=False),
    Column("hold_reason", Text, nullable=False),
    Column("net_amount", AMOUNT, nullable=False),
    Column("tax_amount", AMOUNT, nullable=False),
    Column("gross_amount", AMOUNT, nullable=False),
    Column("invoiced_amount", AMOUNT, nullable=False),
    Column("uninvoiced_amount", AMOUNT, nullable=False),  # derived; kept for exposure queries
    Column("shipping_status", String(20), nullable=False),
    Column("invoicing_status", String(20), nullable=False),
    _version(), _created(),
)
# Covering for the credit check: a customer's confirmed, not yet invoiced amounts are read
# from the index alone, however many orders are open.
Index("ix_sales_orders_customer_state", sales_orders.c.customer_id, sales_orders.c.state,
      sales_orders.c.uninvoiced_amount)
Index("ix_sales_orders_state_date", sales_orders.c.state, sales_orders.c.order_date)
Index("ix_sales_orders_order_date", sales_orders.c.order_date)

order_lines = Table(
    "order_lines", metadata, _id(),
    Column("order_id", ForeignKey("sales_orders.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("description", String(500), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("unit", String(8), nullable=False),
    Column("unit_price", UNIT_PRICE, nullable=False),
    Column("discount_percent", PERCENT, nullable=False),
    Column("net_amount", AMOUNT, nullable=False),
    Column("vat_code", String(4), nullable=False),
    Column("vat_rate", PERCENT, nullable=False),
    Column("exemption_reason", String(200), nullable=False),
    Column("reserved_qty", QUANTITY, nullable=False),
    Column("shipped_qty", QUANTITY, nullable=False),
    Column("invoiced_qty", QUANTITY, nullable=False),
    Column("backorder_qty", QUANTITY, nullable=False),  # derived; kept for backorder queries
    UniqueConstraint("order_id", "line_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("reserved_qty >= 0 AND shipped_qty >= 0 AND invoiced_qty >= 0",
                    name="quantities_not_negative"),
    CheckConstraint("reserved_qty + shipped_qty <= quantity", name="not_beyond_ordered"),
    CheckConstraint("invoiced_qty <= quantity", name="invoiced_within_ordered"),
)
Index("ix_order_lines_order", order_lines.c.order_id)
# Only lines still waiting for stock are indexed (see OPEN_ITEM for the literal zero): the
# lines served at once, nearly all of them, cost the index nothing.
BACKORDERED_LINE = order_lines.c.backorder_qty > literal_column("0")
Index("ix_order_lines_backorder", order_lines.c.product_id, order_lines.c.backorder_qty,
      sqlite_where=BACKORDERED_LINE, postgresql_where=BACKORDERED_LINE)

shipments = Table(
    "shipments", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("order_id", ForeignKey("sales_orders.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("picked_on", Date, nullable=True),
    Column("packed_on", Date, nullable=True),
    Column("shipped_on", Date, nullable=True),
    Column("delivered_on", Date, nullable=True),
    Column("carrier", String(100), nullable=False),
    Column("tracking_number", String(100), nullable=False),
    Column("packages", Integer, nullable=False),
    # The warehouse's delivery route when the shipment was created; it keeps it.
    Column("route", String(16), nullable=False, server_default="pick_pack_ship"),
    _version(), _created(),
    CheckConstraint(DELIVERY_ROUTES.format(column="route"), name="known_route"),
)
Index("ix_shipments_order", shipments.c.order_id)
Index("ix_shipments_state", shipments.c.state, shipments.c.created_on)

shipment_lines = Table(
    "shipment_lines", metadata, _id(),
    Column("shipment_id", ForeignKey("shipments.id"), nullable=False),
    Column("order_line_id", ForeignKey("order_lines.id"), nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("description", String(500), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)
Index("ix_shipment_lines_shipment", shipment_lines.c.shipment_id)

invoices = Table(
    "invoices", metadata, _id(),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("number", String(32), nullable=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("fx_rate", FX_RATE, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("delivery_date", Date, nullable=True),
    Column("due_date", Date, nullable=True),
    Column("order_id", ForeignKey("sales_orders.id"), nullable=True),
    Column("order_number", String(32), nullable=False),
    Column("order_reference", String(100), nullable=False),
    Column("buyer_reference", String(100), nullable=False),
    Column("shipment_id", ForeignKey("shipments.id"), nullable=True),
    Column("corrects_invoice_id", ForeignKey("invoices.id"), nullable=True),
    Column("corrects_number", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("seller", JSON, nullable=False),
    Column("buyer", JSON, nullable=False),
    Column("payment_means_code", String(4), nullable=False),
    Column("payee_iban", String(34), nullable=False),
    Column("remittance_reference", String(40), nullable=False),
    Column("payment_terms_code", String(32), nullable=False),
    Column("payment_terms_text", String(300), nullable=False),
    Column("discount_percent", PERCENT, nullable=False),
    Column("discount_until", Date, nullable=True),
    Column("discount_amount", AMOUNT, nullable=False),
    Column("net_amount", AMOUNT, nullable=False),
    Column("tax_amount", AMOUNT, nullable=False),
    Column("gross_amount", AMOUNT, nullable=False),
    Column("tax_amount_company", AMOUNT, nullable=False),
    Column("gross_amount_company", AMOUNT, nullable=False),
    Column("installments", JSON, nullable=False),
    _version(), _created(),
    UniqueConstraint("company_id", "number"),
    CheckConstraint("state = 'draft' OR number IS NOT NULL", name="posted_has_number"),
)
Index("ix_invoices_customer_date", invoices.c.customer_id, invoices.c.issue_date)
Index("ix_invoices_issue_date", invoices.c.issue_date)
Index("ix_invoices_order", invoices.c.order_id)
# Partial indexes: only the few rows that have a value pay for the index on insert.
Index("ix_invoices_corrects", invoices.c.corrects_invoice_id,
      sqlite_where=invoices.c.corrects_invoice_id.is_not(None),
      postgresql_where=invoices.c.corrects_invoice_id.is_not(None))
Index("ix_invoices_remittance_reference", invoices.c.remittance_reference)

invoice_lines = Table(
    "invoice_lines", metadata, _id(),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("order_line_id", ForeignKey("order_lines.id"), nullable=True),
    Column("corrects_line_id", ForeignKey("invoice_lines.id"), nullable=True),
    Column("product_id", ForeignKey("products.id"), nullable=True),
    Column("sku", String(64), nullable=False),
    Column("description", String(500), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("unit", String(8), nullable=False),
    Column("unit_price", UNIT_PRICE, nullable=False),
    Column("discount_percent", PERCENT, nullable=False),
    Column("net_amount", AMOUNT, nullable=False),
    Column("vat_code", String(4), nullable=False),
    Column("vat_rate", PERCENT, nullable=False),
    Column("exemption_reason", String(200), nullable=False),
    UniqueConstraint("invoice_id", "line_no"),
)
Index("ix_invoice_lines_corrects", invoice_lines.c.corrects_line_id,
      sqlite_where=invoice_lines.c.corrects_line_id.is_not(None),
      postgresql_where=invoice_lines.c.corrects_line_id.is_not(None))

invoice_taxes = Table(
    "invoice_taxes", metadata, _id(),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("vat_code", String(4), nullable=False),
    Column("vat_rate", PERCENT, nullable=False),
    Column("taxable_amount", AMOUNT, nullable=False),
    Column("tax_amount", AMOUNT, nullable=False),
    Column("taxable_amount_company", AMOUNT, nullable=False),
    Column("tax_amount_company", AMOUNT, nullable=False),
    Column("exemption_reason", String(200), nullable=False),
)
Index("ix_invoice_taxes_invoice", invoice_taxes.c.invoice_id)

open_items = Table(
    "open_items", metadata, _id(),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("number", String(32), nullable=False),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("residual", AMOUNT, nullable=False),
    Column("amount_company", AMOUNT, nullable=False),
    Column("residual_company", AMOUNT, nullable=False),
    Column("paid", AMOUNT, nullable=False),
    Column("credited", AMOUNT, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("final_due_date", Date, nullable=False),
    Column("installments", JSON, nullable=False),
    _version(),
    # Allocations can never over-apply an invoice or a credit note.
    CheckConstraint("residual >= 0 AND residual <= amount", name="residual_within_amount"),
)
Index("ix_open_items_customer", open_items.c.customer_id, open_items.c.kind,
      open_items.c.due_date)
Index("ix_open_items_company_due", open_items.c.company_id, open_items.c.due_date)
# Still open: written with a literal zero, so that a query saying so can use the partial
# indexes below on either database (PostgreSQL's generic plans cannot prove their condition
# from a bound parameter). The credit check, aging and matching then read only what is open,
# however long the paid history grows.
OPEN_ITEM = open_items.c.residual > literal_column("0")
Index("ix_open_items_customer_open", open_items.c.customer_id, open_items.c.kind,
      open_items.c.due_date, open_items.c.residual,
      sqlite_where=OPEN_ITEM, postgresql_where=OPEN_ITEM)
Index("ix_open_items_company_open", open_items.c.company_id, open_items.c.kind,
      open_items.c.due_date, open_items.c.residual_company,
      sqlite_where=OPEN_ITEM, postgresql_where=OPEN_ITEM)

# Each instalment of an open item as its own due amount (written once, with the item): what
# is still owed of it is `residual - later` clamped to 0..amount, so aging, overdue and the
# credit check sum what is actually due in one grouped query.
open_item_installments = Table(
    "open_item_installments", metadata,
    Column("open_item_id", ForeignKey("open_items.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("due_date", Date, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("amount_company", AMOUNT, nullable=False),
    Column("later", AMOUNT, nullable=False),
    Column("later_company", AMOUNT, nullable=False),
)

payments = Table(
    "payments", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("method", String(20), nullable=False),
    Column("reference", String(300), nullable=False),
    Column("payer_name", String(200), nullable=False),
    Column("payer_iban", String(34), nullable=False),
    Column("fx_rate", FX_RATE, nullable=False),
    Column("amount_company", AMOUNT, nullable=False),
    Column("unapplied", AMOUNT, nullable=False),
    Column("unapplied_company", AMOUNT, nullable=False),
    Column("state", String(16), nullable=False),
    _version(), _created(),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("unapplied >= 0 AND unapplied <= amount", name="unapplied_within_amount"),
)
Index("ix_payments_customer", payments.c.customer_id, payments.c.received_on)
UNAPPLIED_PAYMENT = payments.c.unapplied > literal_column("0")  # see OPEN_ITEM
Index("ix_payments_customer_unapplied", payments.c.customer_id, payments.c.unapplied,
      sqlite_where=UNAPPLIED_PAYMENT, postgresql_where=UNAPPLIED_PAYMENT)
Index("ix_payments_received_on", payments.c.received_on)

allocations = Table(
    "allocations", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("invoice_number", String(32), nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("credit_note_id", ForeignKey("invoices.id"), nullable=True),
    Column("source_number", String(32), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("source_company", AMOUNT, nullable=False),
    Column("target_company", AMOUNT, nullable=False),
    Column("allocated_on", Date, nullable=False),
    Column("reversed_on", Date, nullable=True),
    _version(), _created(),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
)
Index("ix_allocations_invoice", allocations.c.invoice_id)
Index("ix_allocations_payment", allocations.c.payment_id)
Index("ix_allocations_credit_note", allocations.c.credit_note_id)

journal_entries = Table(
    "journal_entries", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("entry_date", Date, nullable=False),
    Column("source_type", String(20), nullable=False),
    Column("source_id", Integer, nullable=True),
    Column("memo", String(300), nullable=False),
    Column("reverses_entry_id", ForeignKey("journal_entries.id"), nullable=True),
    _created(),
)
Index("ix_journal_entries_source", journal_entries.c.source_type, journal_entries.c.source_id)
Index("ix_journal_entries_date", journal_entries.c.company_id, journal_entries.c.entry_date)

journal_lines = Table(
    "journal_lines", metadata, _id(),
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=False),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("account", String(16), nullable=False),
    Column("debit", AMOUNT, nullable=False),
    Column("credit", AMOUNT, nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("amount_currency", AMOUNT, nullable=False),
    CheckConstraint("debit >= 0 AND credit >= 0", name="sides_not_negative"),
    CheckConstraint("debit = 0 OR credit = 0", name="one_side"),
)
Index("ix_journal_lines_entry", journal_lines.c.entry_id)
# No index by account: the trial balance and the ledger check sum every line of a company,
# which a scan of the table does faster than an index walk with a row lookup per line
# (bench/trial_balance.py), and each posting would otherwise write one index page per account.

event_log = Table(
    "event_log", metadata, _id(),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Integer, nullable=False),
    Column("event", String(64), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("data", JSON, nullable=False),
)
Index("ix_event_log_object", event_log.c.object_type, event_log.c.object_id)

outbox = Table(
    "outbox", metadata, _id(),
    Column("topic", String(64), nullable=False),
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("available_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
)
Index("ix_outbox_pending", outbox.c.available_at, sqlite_where=outbox.c.delivered_at.is_(None),
      postgresql_where=outbox.c.delivered_at.is_(None))

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    _created(),
)


# -- security: users, roles, tokens, sessions, audit trail, approvals, GDPR ------------------
# (issue 3; migration 0002_users_roles_audit)

users = Table(
    "users", metadata, _id(),
    Column("username", String(150), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=True),  # argon2id; NULL: token-only user
    Column("role", String(20), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),  # portal users
    Column("disabled", Boolean, nullable=False, server_default="0"),
    _version(), _created(),
    CheckConstraint("(role = 'customer') = (customer_id IS NOT NULL)",
                    name="customer_role_has_customer"),
)

api_tokens = Table(
    "api_tokens", metadata, _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the secret
    Column("prefix", String(16), nullable=False),  # shown in lists to recognise a token
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    _version(), _created(),
)
Index("ix_api_tokens_user", api_tokens.c.user_id)

web_sessions = Table(
    "web_sessions", metadata,
    Column("session_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    _created(),
)

login_failures = Table(
    "login_failures", metadata,
    Column("key", String(300), primary_key=True),  # username|client address
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
)

# Append-only (PostgreSQL: the app role gets INSERT/SELECT only, see `o2c db grant-app-role`).
audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # the chain's order
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor", String(150), nullable=False),
    Column("role", String(20), nullable=False),
    Column("request_id", String(100), nullable=True),
    Column("command", String(64), nullable=False),
    Column("object_type", String(32), nullable=True),
    Column("object_id", Integer, nullable=True),
    Column("changes", JSON, nullable=False),
    Column("reason", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_object", audit_log.c.object_type, audit_log.c.object_id)

# The head of the chain: one row, locked by each writer so records chain in commit order.
audit_chain_head = Table(
    "audit_chain_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Personal values of audited changes: outside the hash, so GDPR erasure can pseudonymise them.
audit_personal_data = Table(
    "audit_personal_data", metadata, _id(),
    Column("audit_seq", ForeignKey("audit_log.seq"), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)
Index("ix_audit_personal_data_object", audit_personal_data.c.object_type,
      audit_personal_data.c.object_id)

approval_requests = Table(
    "approval_requests", metadata, _id(),
    Column("kind", String(20), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("amount", AMOUNT, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("reason", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("requested_by", String(150), nullable=False),
    Column("decided_by", String(150), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decision_reason", Text, nullable=False, server_default=""),
    Column("result_id", Integer, nullable=True),
    _version(), _created(),
    CheckConstraint("decided_by IS NULL OR decided_by <> requested_by",
                    name="four_eyes"),
)
Index("ix_approval_requests_state", approval_requests.c.state)

gdpr_erasures = Table(
    "gdpr_erasures", metadata, _id(),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, unique=True),
    Column("country", String(2), nullable=False),
    Column("reason", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("retention_until", Date, nullable=False),
    Column("requested_by", String(150), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=False),
    Column("purged_at", UtcDateTime(), nullable=True),
)


# -- bank statements and cash application (issue #5) -----------------------------------------

bank_accounts = Table(
    "bank_accounts", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("iban", String(34), nullable=False, unique=True),  # or the bank's account id
    Column("currency", String(3), nullable=False),
    Column("name", String(200), nullable=False),
    _created(),
)

bank_files = Table(
    "bank_files", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("bank_account_id", ForeignKey("bank_accounts.id"), nullable=False),
    Column("filename", String(300), nullable=False),
    Column("format", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),  # the raw file, as received
    Column("lines_imported", Integer, nullable=False),
    Column("lines_skipped", Integer, nullable=False),
    _created(),
)
Index("ix_bank_files_sha256", bank_files.c.sha256)

bank_statements = Table(
    "bank_statements", metadata, _id(),
    Column("file_id", ForeignKey("bank_files.id"), nullable=False),
    Column("bank_account_id", ForeignKey("bank_accounts.id"), nullable=False),
    Column("statement_ref", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening_balance", AMOUNT, nullable=True),
    Column("closing_balance", AMOUNT, nullable=True),
    Column("from_date", Date, nullable=True),
    Column("to_date", Date, nullable=True),
)
Index("ix_bank_statements_file", bank_statements.c.file_id)

bank_lines = Table(
    "bank_lines", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("bank_account_id", ForeignKey("bank_accounts.id"), nullable=False),
    Column("file_id", ForeignKey("bank_files.id"), nullable=False),
    Column("statement_id", ForeignKey("bank_statements.id"), nullable=False),
    Column("location", String(200), nullable=False),  # line number or XPath in the file
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date, nullable=True),
    Column("amount", AMOUNT, nullable=False),  # signed: + money in
    Column("currency", String(3), nullable=False),
    Column("bank_reference", String(100), nullable=False),
    Column("entry_reference", String(100), nullable=False),
    Column("end_to_end_id", String(100), nullable=False),
    Column("counterparty_name", String(200), nullable=False),
    Column("counterparty_iban", String(34), nullable=False),
    Column("remittance", Text, nullable=False),
    Column("structured_reference", String(100), nullable=False),
    Column("transaction_code", String(40), nullable=False),
    Column("dedup_key", String(40), nullable=False, unique=True),
    Column("ultimate_debtor", String(200), nullable=False, server_default=""),
    # the amount the payer sent in another currency, when the bank says (camt InstdAmt)
    Column("instructed_amount", AMOUNT, nullable=True),
    Column("instructed_currency", String(3), nullable=False, server_default=""),
    # unmatched -> proposed -> applied; rejected and unmatched lines can be matched again
    Column("status", String(16), nullable=False),
    Column("kind", String(20), nullable=False, server_default=""),
    Column("score", AMOUNT, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("proposal", JSON, nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=True),  # fee or write-off
    Column("applied_on", Date, nullable=True),
    _version(),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
)
Index("ix_bank_lines_status", bank_lines.c.company_id, bank_lines.c.status,
      bank_lines.c.booking_date)
Index("ix_bank_lines_file", bank_lines.c.file_id)
Index("ix_bank_lines_payment", bank_lines.c.payment_id,
      sqlite_where=bank_lines.c.payment_id.is_not(None),
      postgresql_where=bank_lines.c.payment_id.is_not(None))

bank_payer_accounts = Table(
    "bank_payer_accounts", metadata, _id(),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    UniqueConstraint("company_id", "iban"),
    # how the company knows it: master data (given), history (past payments), learned
    # (an applied bank line)
    Column("source", String(16), nullable=False, server_default="learned"),
)
Index("ix_bank_payer_accounts_customer", bank_payer_accounts.c.customer_id)

# A customer group: the parent pays for its subsidiaries (one level).
customer_groups = Table(
    "customer_groups", metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("parent_id", ForeignKey("customers.id"), nullable=False),
    CheckConstraint("parent_id <> customer_id", name="not_own_parent"),
)
Index("ix_customer_groups_parent", customer_groups.c.parent_id)


# -- invoice documents and e-invoicing (issue 6) ---------------------------------------------

customer_document_settings = Table(
    "customer_document_settings", metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("format", String(16), nullable=False),
    Column("peppol_id", String(100), nullable=False, server_default=""),
    Column("codice_destinatario", String(7), nullable=False, server_default=""),
    Column("pec", String(200), nullable=False, server_default=""),
    Column("public_administration", Boolean, nullable=False),
    Column("delivery_email", String(200), nullable=False, server_default=""),
    Column("attach_xml", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

invoice_deliveries = Table(
    "invoice_deliveries", metadata, _id(),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("outbox_id", ForeignKey("outbox.id"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("recipient", String(200), nullable=False, server_default=""),
    Column("formats", String(64), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("message_id", String(200), nullable=False, server_default=""),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("invoice_id", "channel"),
    CheckConstraint("status IN ('retrying', 'sent', 'failed', 'skipped')",
                    name="delivery_status"),
)

# How often each master data table has changed (SQLite: bumped by triggers on every write).
# The write path caches master data rows stamped with these counters (master_data_cache.py).
master_data_generations = Table(
    "master_data_generations", metadata,
    Column("table_name", String(40), primary_key=True),
    Column("generation", BigInteger, nullable=False),
)

# -- background jobs (issue 19) ---------------------------------------------------------------
# The jobs themselves are procrastinate's tables (PostgreSQL; migration 0015). o2c keeps the
# error of each failed attempt (procrastinate keeps none) and the chunks of large runs.

job_errors = Table(
    "job_errors", metadata, _id(),
    Column("job_id", BigInteger, nullable=False),
    Column("task", String(100), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)
Index("ix_job_errors_job", job_errors.c.job_id)

job_runs = Table(
    "job_runs", metadata, _id(),
    Column("kind", String(60), nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

job_run_chunks = Table(
    "job_run_chunks", metadata,
    Column("run_id", ForeignKey("job_runs.id"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("items", JSON, nullable=False),
    Column("done_at", UtcDateTime(), nullable=True),
    Column("result", JSON, nullable=True),
)
