"""Companies, payment terms and customers (with their credit position)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import Filters
from o2c.api.deps import Bus, Conn, Paging, Today
from o2c.api.routes import PREFIX, location, router
from o2c.api.schemas.common import Day, Id, IdFilter, Page
from o2c.api.schemas.masterdata import (
    CompanyIn,
    CompanyOut,
    CustomerDetailOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    PaymentTermsIn,
    PaymentTermsOut,
)
from o2c.domain import commands as c

companies = router("companies")


@companies.post("/companies", status_code=201, response_model=CompanyOut)
def create_company(body: CompanyIn, bus: Bus) -> JSONResponse:
    """Create a selling company (with its chart of accounts)."""
    return bus.run(body.command(), present_company, payload=body, status_code=201,
                   location=location("companies"))


def present_company(conn: Connection, company_id: int) -> CompanyOut:
    return CompanyOut.model_validate(queries.company(conn, company_id))


@companies.get("/companies", response_model=Page[CompanyOut])
def list_companies(conn: Conn, page: Paging) -> dict[str, Any]:
    return queries.list_companies(conn, page).as_dict()


@companies.get("/companies/{company_id}", response_model=CompanyOut)
def get_company(company_id: Id, conn: Conn) -> dict[str, Any]:
    return queries.company(conn, company_id)


terms = router("payment terms")


@terms.post("/payment-terms", status_code=201, response_model=PaymentTermsOut)
def create_payment_terms(body: PaymentTermsIn, bus: Bus) -> JSONResponse:
    def present(conn: Connection, _id: int) -> PaymentTermsOut:
        return PaymentTermsOut.model_validate(queries.payment_terms(conn, body.code))

    return bus.run(body.command(), present, payload=body, status_code=201,
                   location=lambda b: f"{PREFIX}/payment-terms/{b['code']}")


@terms.get("/payment-terms", response_model=Page[PaymentTermsOut])
def list_payment_terms(conn: Conn, page: Paging) -> dict[str, Any]:
    return queries.list_payment_terms(conn, page).as_dict()


@terms.get("/payment-terms/{code}", response_model=PaymentTermsOut)
def get_payment_terms(code: Annotated[str, Path(max_length=32)], conn: Conn) -> dict[str, Any]:
    return queries.payment_terms(conn, code)


customers = router("customers")


@customers.post("/customers", status_code=201, response_model=CustomerDetailOut)
def create_customer(body: CustomerIn, bus: Bus, today: Today) -> JSONResponse:
    def present(conn: Connection, customer_id: int) -> CustomerDetailOut:
        return CustomerDetailOut.model_validate(queries.customer(conn, customer_id, today))

    return bus.run(body.command(), present, payload=body, status_code=201,
                   location=location("customers"))


@customers.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    conn: Conn, page: Paging,
    company_id: IdFilter = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="name, code or VAT id contains")] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
) -> dict[str, Any]:
    filters = Filters(company_id=company_id, q=q, extra={"country": country})
    return queries.list_customers(conn, filters, page).as_dict()


@customers.get("/customers/{customer_id}", response_model=CustomerDetailOut)
def get_customer(customer_id: Id, conn: Conn, today: Today,
                 as_of: Annotated[Day | None, Query(description="date of the credit "
                                                     "position; today when omitted")] = None,
                 ) -> dict[str, Any]:
    return queries.customer(conn, customer_id, as_of or today)


@customers.patch("/customers/{customer_id}", response_model=CustomerDetailOut)
def update_customer(customer_id: Id, body: CustomerPatch, bus: Bus,
                    today: Today) -> JSONResponse:
    """Change master data; only the fields sent change (`credit_limit: null` removes it)."""
    def present(conn: Connection, _id: int) -> CustomerDetailOut:
        return CustomerDetailOut.model_validate(queries.customer(conn, customer_id, today))

    return bus.run(c.UpdateCustomer(customer_id, body.changes()), present, payload=body)
