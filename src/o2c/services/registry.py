"""Which function handles each command, and which policies each event triggers."""

from __future__ import annotations

from o2c.domain import commands as c
from o2c.services import fulfilment, inventory, invoicing, masterdata, orders, payments
from o2c.services.bus import Handler, Policy

HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateCompany: masterdata.create_company,
    c.CreatePaymentTerms: masterdata.create_payment_terms,
    c.CreateCustomer: masterdata.create_customer,
    c.UpdateCustomer: masterdata.update_customer,
    c.CreateProduct: masterdata.create_product,
    c.UpdateProduct: masterdata.update_product,
    c.CreateWarehouse: masterdata.create_warehouse,
    c.UpdateWarehouse: masterdata.update_warehouse,
    c.SetVatRate: masterdata.set_vat_rate,
    c.SetExchangeRate: masterdata.set_exchange_rate,
    c.ReceiveStock: inventory.receive_stock,
    c.AdjustStock: inventory.adjust_stock,
    c.ReserveBackorders: inventory.reserve_backorders,
    c.CreateOrder: orders.create_order,
    c.ConfirmOrder: orders.confirm_order,
    c.ReleaseOrder: orders.release_order,
    c.RejectOrder: orders.reject_order,
    c.CancelOrder: orders.cancel_order,
    c.PickShipment: fulfilment.pick_shipment,
    c.PackShipment: fulfilment.pack_shipment,
    c.ShipShipment: fulfilment.ship_shipment,
    c.DeliverShipment: fulfilment.deliver_shipment,
    c.CancelShipment: fulfilment.cancel_shipment,
    c.CreateCreditNote: invoicing.create_credit_note,
    c.RecordPayment: payments.record_payment,
    c.AllocatePayment: payments.allocate_payment,
    c.ApplyCreditNote: payments.apply_credit_note,
    c.Unallocate: payments.unallocate_payment,
    c.ReversePayment: payments.reverse_payment,
}

# In-transaction policies, in the order they run.
POLICIES: dict[str, list[Policy]] = {
    "order.confirmed": [invoicing.on_order_confirmed],
    "stock.received": [inventory.on_stock_received],
    "shipment.shipped": [invoicing.on_shipment_shipped],
    "invoice.posted": [invoicing.on_credit_note_posted],
}

# -- security (issue 3): users, tokens, approvals, write-offs, GDPR; dual-control guards ----
from o2c.services import access  # noqa: E402

HANDLERS.update(access.HANDLERS)
GUARDS = access.GUARDS
# -- bank statements and cash application (issue #5) ------------------------------------------
from o2c.services import bank  # noqa: E402

HANDLERS.update({
    c.AddBankAccount: bank.add_bank_account,
    c.ImportBankFile: bank.import_bank_file,
    c.MatchBankLines: bank.match_bank_lines,
    c.ApplyBankLines: bank.apply_bank_lines,
    c.RejectBankProposal: bank.reject_bank_proposal,
    c.SplitBankLine: bank.split_bank_line,
    c.UnmatchBankLine: bank.unmatch_bank_line,
    c.RegisterPayerAccounts: bank.register_payer_accounts,
    c.ImportPayerAccountsFromHistory: bank.import_payer_accounts_from_history,
    c.SetCustomerParent: bank.set_customer_parent,
})

# -- invoice documents and e-invoicing (issue 6) ---------------------------------------------
from o2c.domain.einvoice import SetDocumentPreferences  # noqa: E402
from o2c.services import documents  # noqa: E402

HANDLERS[SetDocumentPreferences] = documents.set_document_preferences

# -- background jobs (issue 19): retry or cancel a job from the failed-jobs view --------------
from o2c.services import jobs  # noqa: E402

HANDLERS.update({
    c.RetryJob: jobs.retry_job,
    c.CancelJob: jobs.cancel_job,
    c.PlanDeliveryRun: jobs.plan_delivery_run,
})
