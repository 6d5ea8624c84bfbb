"""Who may call what: every API operation (the route name, which is also its OpenAPI
operationId) maps to the roles allowed. One table, one line per operation; an operation with
no line is refused to everybody (and tests/e2e/test_permissions.py fails).

Portal customers (role `customer`) are tied to one customer account: the operations in
PORTAL_OBJECTS name the path parameter whose object must belong to that account (otherwise
404, as if it did not exist); list operations are scoped to the account by the routes'
`Scope` dependency, down in the queries.
"""

from __future__ import annotations

from o2c.domain.access import STAFF, Role

ADMIN, SALES, WAREHOUSE = Role.ADMIN, Role.SALES, Role.WAREHOUSE
AR, CREDIT, COLLECTOR = Role.AR_CLERK, Role.CREDIT_MANAGER, Role.COLLECTOR
CONTROLLER, AUDITOR, CUSTOMER = Role.CONTROLLER, Role.AUDITOR, Role.CUSTOMER

Roles = frozenset[Role]


def roles(*allowed: Role | frozenset[Role]) -> Roles:
    found: set[Role] = set()
    for item in allowed:
        found |= item if isinstance(item, frozenset) else {item}
    return frozenset(found)


STAFF_READ = roles(STAFF)  # every staff role reads, the auditor included
PORTAL_READ = roles(STAFF, CUSTOMER)  # and portal customers, scoped to their account
FINANCE_READ = roles(ADMIN, AR, CREDIT, COLLECTOR, CONTROLLER, AUDITOR)
AUDIT_READ = roles(ADMIN, CONTROLLER, AUDITOR)

PUBLIC = frozenset({"health", "login", "logout", "login_form", "login_submit",
                    "logout_submit",
                    # operations (issue 19): probes and the scrape, no credentials
                    "health_live", "health_ready", "metrics_endpoint",
                    "favicon"})  # browsers ask for /favicon.ico before signing in

PERMISSIONS: dict[str, Roles] = {
    # master data
    "create_company": roles(ADMIN),
    "list_companies": STAFF_READ,
    "get_company": STAFF_READ,
    "create_payment_terms": roles(ADMIN, CONTROLLER),
    "list_payment_terms": STAFF_READ,
    "get_payment_terms": STAFF_READ,
    "create_customer": roles(ADMIN, SALES, CREDIT),
    "list_customers": STAFF_READ,
    "get_customer": PORTAL_READ,
    "update_customer": roles(ADMIN, SALES, CREDIT),  # credit fields: credit manager (service)
    "create_product": roles(ADMIN, SALES),
    "list_products": PORTAL_READ,
    "get_product": PORTAL_READ,
    "update_product": roles(ADMIN, SALES),
    "create_warehouse": roles(ADMIN, WAREHOUSE),
    "update_warehouse": roles(ADMIN, WAREHOUSE),
    "list_warehouses": STAFF_READ,
    "get_warehouse": STAFF_READ,
    "list_stock": STAFF_READ,
    "receive_stock": roles(ADMIN, WAREHOUSE),
    "adjust_stock": roles(ADMIN, WAREHOUSE),
    "create_vat_rate": roles(ADMIN, CONTROLLER),
    "list_vat_rates": STAFF_READ,
    "set_exchange_rate": roles(ADMIN, CONTROLLER, AR),
    "list_exchange_rates": STAFF_READ,
    # orders and credit
    "create_order": roles(ADMIN, SALES, CUSTOMER),
    "list_orders": PORTAL_READ,
    "get_order": PORTAL_READ,
    "confirm_order": roles(ADMIN, SALES),
    "release_order": roles(ADMIN, CREDIT),
    "reject_order": roles(ADMIN, CREDIT),
    "cancel_order": roles(ADMIN, SALES, CUSTOMER),
    "reserve_backorders": roles(ADMIN, SALES, WAREHOUSE),
    # shipping
    "list_shipments": PORTAL_READ,
    "get_shipment": PORTAL_READ,
    "pick_shipment": roles(ADMIN, WAREHOUSE),
    "pack_shipment": roles(ADMIN, WAREHOUSE),
    "ship_shipment": roles(ADMIN, WAREHOUSE),
    "deliver_shipment": roles(ADMIN, WAREHOUSE),
    "cancel_shipment": roles(ADMIN, WAREHOUSE),
    # invoices, payments, cash application
    "list_invoices": PORTAL_READ,
    "get_invoice": PORTAL_READ,
    "create_credit_note": roles(ADMIN, AR, CONTROLLER),  # above the threshold: approval
    "apply_credit_note": roles(ADMIN, AR),
    "record_payment": roles(ADMIN, AR),
    "list_payments": PORTAL_READ,
    "get_payment": PORTAL_READ,
    "allocate_payment": roles(ADMIN, AR),
    "reverse_payment": roles(ADMIN, AR),
    "list_allocations": PORTAL_READ,
    "get_allocation": PORTAL_READ,
    "unallocate": roles(ADMIN, AR),
    # ledger and events
    "list_events": STAFF_READ,
    "trial_balance": roles(ADMIN, CONTROLLER, AUDITOR, AR),
    "verify_ledger": roles(ADMIN, CONTROLLER, AUDITOR),
    "journal_entries": roles(ADMIN, CONTROLLER, AUDITOR, AR),
    "company_events": STAFF_READ,
    "customer_events": STAFF_READ,
    "product_events": STAFF_READ,
    "warehouse_events": STAFF_READ,
    "order_events": STAFF_READ,
    "shipment_events": STAFF_READ,
    "invoice_events": STAFF_READ,
    "payment_events": STAFF_READ,
    "allocation_events": STAFF_READ,
    # security: who am I, users, tokens
    "whoami": PORTAL_READ,
    "create_user": roles(ADMIN),
    "list_users": roles(ADMIN, AUDITOR),
    "disable_user": roles(ADMIN),
    "create_token": roles(STAFF),  # for the caller only (o2c.services.access.create_token)
    "list_tokens": roles(ADMIN, AUDITOR),
    "revoke_token": roles(ADMIN),
    # dual control: requests by one person, decisions by another (kind rules: services)
    "request_approval": roles(ADMIN, SALES, CREDIT, AR, COLLECTOR, CONTROLLER),
    "request_write_off": roles(AR, COLLECTOR, CONTROLLER, ADMIN),
    "list_approvals": roles(ADMIN, CREDIT, CONTROLLER, AUDITOR, AR, COLLECTOR, SALES),
    "get_approval": roles(ADMIN, CREDIT, CONTROLLER, AUDITOR, AR, COLLECTOR, SALES),
    "approve_request": roles(CREDIT, CONTROLLER),  # write-offs and credit notes: controller
    "reject_request": roles(CREDIT, CONTROLLER),
    # audit trail and GDPR
    "list_audit": AUDIT_READ,
    "verify_audit": AUDIT_READ,
    "gdpr_export": roles(ADMIN),
    "gdpr_erase": roles(ADMIN),
    "gdpr_purge": roles(ADMIN),
    # bank statements and cash application
    "add_account": roles(ADMIN, CONTROLLER),
    "list_accounts": FINANCE_READ,
    "import_statement": roles(ADMIN, AR),
    "list_lines": FINANCE_READ,
    "get_line": FINANCE_READ,
    "match": roles(ADMIN, AR),
    "accept": roles(ADMIN, AR),
    "reject": roles(ADMIN, AR),
    "split": roles(ADMIN, AR),
    "unmatch": roles(ADMIN, AR),
    "list_payer_accounts": FINANCE_READ,
    "register_payer_accounts": roles(ADMIN, AR),
    "import_payer_history": roles(ADMIN, AR),
    "set_customer_group": roles(ADMIN, AR, CREDIT),
    # invoice documents and e-invoices (portal customers: their own invoices only)
    "get_invoice_document": PORTAL_READ,
    "get_document_settings": STAFF_READ,
    "put_document_settings": roles(ADMIN, SALES, AR),
    "list_invoice_deliveries": STAFF_READ,
    # reports
    "dashboard": roles(ADMIN, SALES, AR, CREDIT, COLLECTOR, CONTROLLER, AUDITOR),
    # web back-office pages (o2c.web): reads as the API's, each action as its operation
    "web_dashboard": roles(ADMIN, SALES, AR, CREDIT, COLLECTOR, CONTROLLER, AUDITOR),
    "web_orders": STAFF_READ,
    "web_order": STAFF_READ,
    "web_new_order": roles(ADMIN, SALES),
    "web_create_order": roles(ADMIN, SALES),
    "web_preview_order": roles(ADMIN, SALES),  # reads only: prices, VAT, credit position
    "web_order_action": roles(ADMIN, SALES),  # per action: confirm/cancel_order
    "web_credit_holds": STAFF_READ,
    "web_credit_decision": roles(ADMIN, CREDIT),  # per decision: release/reject_order
    "web_warehouse": STAFF_READ,
    "web_shipment": STAFF_READ,
    "web_shipment_step": roles(ADMIN, WAREHOUSE),  # per step: pick/pack/ship/deliver
    "web_invoices": STAFF_READ,
    "web_invoice": STAFF_READ,
    "web_invoice_document": STAFF_READ,
    "web_create_credit_note": roles(ADMIN, AR, CONTROLLER),
    "web_payments": STAFF_READ,
    "web_new_payment": roles(ADMIN, AR),
    "web_preview_payment": roles(ADMIN, AR),
    "web_record_payment": roles(ADMIN, AR),
    "web_customers": STAFF_READ,
    "web_customer": STAFF_READ,
    "web_customer_options": STAFF_READ,
    "web_journal": roles(ADMIN, CONTROLLER, AUDITOR, AR),  # as journal_entries
    "web_trial_balance": roles(ADMIN, CONTROLLER, AUDITOR, AR),  # as trial_balance
    "web_aged_receivables": FINANCE_READ,
    "web_customer_ledger": FINANCE_READ,
    "web_new_customer": roles(ADMIN, SALES, CREDIT),  # as create_customer
    "web_create_customer": roles(ADMIN, SALES, CREDIT),
    "web_edit_customer": roles(ADMIN, SALES, CREDIT),  # as update_customer
    "web_update_customer": roles(ADMIN, SALES, CREDIT),  # credit fields: the service decides
    "web_request_credit_limit": roles(ADMIN, SALES, CREDIT),  # and request_approval
    "web_customer_documents": roles(ADMIN, SALES, AR),  # as put_document_settings
    "web_products": STAFF_READ,
    "web_new_product": roles(ADMIN, SALES),  # as create_product
    "web_create_product": roles(ADMIN, SALES),
    "web_edit_product": roles(ADMIN, SALES),  # as update_product
    "web_update_product": roles(ADMIN, SALES),
    "web_warehouses": STAFF_READ,
    "web_new_warehouse": roles(ADMIN, WAREHOUSE),  # as create_warehouse
    "web_create_warehouse": roles(ADMIN, WAREHOUSE),
    "web_edit_warehouse": roles(ADMIN, WAREHOUSE),  # as update_warehouse
    "web_update_warehouse": roles(ADMIN, WAREHOUSE),

    # bank statements, cash application, payments and approvals pages (issue #18)
    "web_bank": FINANCE_READ,
    "web_bank_upload": roles(ADMIN, AR),  # as import_statement
    "web_bank_match": roles(ADMIN, AR),  # as match (and accept, to apply at once)
    "web_bank_lines": FINANCE_READ,
    "web_bank_line": FINANCE_READ,
    "web_bank_line_action": roles(ADMIN, AR),  # per action: accept/reject/split/unmatch
    "web_payment": STAFF_READ,
    "web_allocate_payment": roles(ADMIN, AR),
    "web_reverse_payment": roles(ADMIN, AR),
    "web_unallocate": roles(ADMIN, AR),
    "web_customer_credit": STAFF_READ,
    "web_apply_credit": roles(ADMIN, AR),  # per source: allocate_payment/apply_credit_note
    "web_request_write_off": roles(AR, COLLECTOR, CONTROLLER, ADMIN),
    "web_request_credit_note": roles(ADMIN, AR, CONTROLLER),  # as web_create_credit_note
    "web_approvals": roles(ADMIN, CREDIT, CONTROLLER, AUDITOR, AR, COLLECTOR, SALES),
    "web_decide_approval": roles(CREDIT, CONTROLLER),  # per kind: APPROVERS
    # customer portal pages: the account's own documents only (checked per object too)
    "portal_home": roles(CUSTOMER),
    "portal_orders": roles(CUSTOMER),
    "portal_order": roles(CUSTOMER),
    "portal_new_order": roles(CUSTOMER),
    "portal_create_order": roles(CUSTOMER),
    "portal_invoices": roles(CUSTOMER),
    "portal_invoice": roles(CUSTOMER),
    "portal_invoice_document": roles(CUSTOMER),
    "portal_payments": roles(CUSTOMER),
    "portal_statement": roles(CUSTOMER),
    # background jobs (issue 19): the failed-jobs view, in the API and the back-office
    "list_jobs": roles(ADMIN, CONTROLLER, AUDITOR),
    "retry_job": roles(ADMIN),
    "cancel_job": roles(ADMIN),
    "list_job_runs": roles(ADMIN, CONTROLLER, AUDITOR),
    "plan_delivery_run": roles(ADMIN),
    "web_jobs": roles(ADMIN, CONTROLLER, AUDITOR),
    "web_job_action": roles(ADMIN),  # per action: retry_job / cancel_job
}

# Operations on one object of a customer: (object type, path parameter). A portal customer
# gets 404 for an object of another customer.
PORTAL_OBJECTS: dict[str, tuple[str, str]] = {
    "get_customer": ("customer", "customer_id"),
    "get_order": ("order", "order_id"),
    "cancel_order": ("order", "order_id"),
    "get_shipment": ("shipment", "shipment_id"),
    "get_invoice": ("invoice", "invoice_id"),
    "get_invoice_document": ("invoice", "invoice_id"),
    "portal_order": ("order", "order_id"),
    "portal_invoice": ("invoice", "invoice_id"),
    "portal_invoice_document": ("invoice", "invoice_id"),
    "get_payment": ("payment", "payment_id"),
    "get_allocation": ("allocation", "allocation_id"),
}


# What portal customers may call that is not about one customer's objects. Any other operation
# granted to them must be in PORTAL_OBJECTS or be a list with the routes' `Scope` dependency
# (a parameter named `scope`); otherwise it is refused (fail closed).
PORTAL_UNSCOPED = frozenset({"whoami", "list_products", "get_product", "create_order",
                             # portal pages read the account of the signed-in user itself
                             # (o2c.web.routes.portal.customer_of), never one from the request
                             "portal_home", "portal_orders", "portal_new_order",
                             "portal_create_order", "portal_invoices", "portal_payments",
                             "portal_statement"})


# Fields of a request body that only some of the roles allowed to call the operation may set
# ("lines[].unit_price": unit_price on any line). A field not named here may be set by every
# role the operation allows. Sending a field the role may not set is refused (403) whatever
# its value; the services hold the same rules for the other edges (web, CLI).
PRICES_AND_DATES = roles(STAFF)  # what a portal customer may not choose on its own order
CREDIT_TERMS = roles(ADMIN, CREDIT)  # o2c.services.access.CREDIT_ROLES

FIELD_PERMISSIONS: dict[str, dict[str, Roles]] = {
    "create_order": {
        "order_date": PRICES_AND_DATES, "warehouse_id": PRICES_AND_DATES,
        "lines[].unit_price": PRICES_AND_DATES, "lines[].discount_percent": PRICES_AND_DATES,
        "lines[].description": PRICES_AND_DATES,  # what the invoice says was sold
    },
    "create_customer": {"credit_limit": CREDIT_TERMS, "credit_blocked": CREDIT_TERMS,
                        "overdue_hold_days": CREDIT_TERMS},
    "update_customer": {"credit_limit": CREDIT_TERMS, "credit_blocked": CREDIT_TERMS,
                        "overdue_hold_days": CREDIT_TERMS},
}


def allowed(operation: str, role: Role) -> bool:
    return role in PERMISSIONS.get(operation, frozenset())


def refused_fields(operation: str, role: Role, body: dict[str, object]) -> list[str]:
    """The fields of `body` (as field paths) that `role` may not set in `operation`."""
    refused = []
    for path, permitted in FIELD_PERMISSIONS.get(operation, {}).items():
        if role in permitted:
            continue
        refused += _present(body, path.split("."))
    return sorted(refused)


def _present(value: object, steps: list[str], where: str = "") -> list[str]:
    """Where the field at `steps` is present in `value` ("lines[]" walks every line)."""
    if not steps or not isinstance(value, dict):
        return []
    step, rest = steps[0], steps[1:]
    name = step.removesuffix("[]")
    if name not in value:
        return []
    here = f"{where}.{name}" if where else name
    if not rest:
        return [here]
    if step.endswith("[]"):
        items = value[name]
        if not isinstance(items, list):
            return []
        found = []
        for index, item in enumerate(items):
            found += _present(item, rest, f"{here}[{index}]")
        return found
    return _present(value[name], rest, here)
