"""Products, warehouses and stock; VAT and exchange rates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import Filters
from o2c.api.deps import Bus, Conn, Paging
from o2c.api.routes import location, router
from o2c.api.schemas.common import Id, IdFilter, Page
from o2c.api.schemas.masterdata import (
    AdjustStockIn,
    ExchangeRateIn,
    ExchangeRateOut,
    ProductDetailOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ReceiveStockIn,
    StockOut,
    VatRateIn,
    VatRateOut,
    WarehouseIn,
    WarehouseOut,
    WarehousePatch,
)
from o2c.domain import commands as c

products = router("products")


def present_product(conn: Connection, product_id: int) -> ProductDetailOut:
    return ProductDetailOut.model_validate(queries.product(conn, product_id))


@products.post("/products", status_code=201, response_model=ProductDetailOut)
def create_product(body: ProductIn, bus: Bus) -> JSONResponse:
    return bus.run(body.command(), present_product, payload=body, status_code=201,
                   location=location("products"))


@products.get("/products", response_model=Page[ProductOut])
def list_products(
    conn: Conn, page: Paging, company_id: IdFilter = None,
    q: Annotated[str | None, Query(max_length=200, description="SKU or name contains")] = None,
    active: bool | None = None,
) -> dict[str, Any]:
    extra = {} if active is None else {"active": active}
    return queries.list_products(conn, Filters(company_id=company_id, q=q, extra=extra),
                                 page).as_dict()


@products.get("/products/{product_id}", response_model=ProductDetailOut)
def get_product(product_id: Id, conn: Conn) -> dict[str, Any]:
    """The product with its stock in every warehouse."""
    return queries.product(conn, product_id)


@products.patch("/products/{product_id}", response_model=ProductDetailOut)
def update_product(product_id: Id, body: ProductPatch, bus: Bus) -> JSONResponse:
    return bus.run(c.UpdateProduct(product_id, body.changes()), present_product, payload=body)


warehouses = router("warehouses")


def present_warehouse(conn: Connection, warehouse_id: int) -> WarehouseOut:
    return WarehouseOut.model_validate(queries.warehouse(conn, warehouse_id))


@warehouses.post("/warehouses", status_code=201, response_model=WarehouseOut)
def create_warehouse(body: WarehouseIn, bus: Bus) -> JSONResponse:
    return bus.run(body.command(), present_warehouse, payload=body, status_code=201,
                   location=location("warehouses"))


@warehouses.patch("/warehouses/{warehouse_id}", response_model=WarehouseOut)
def update_warehouse(warehouse_id: Id, body: WarehousePatch, bus: Bus) -> JSONResponse:
    """Rename, move or change the delivery route; shipments already created keep theirs."""
    return bus.run(c.UpdateWarehouse(warehouse_id, body.changes()), present_warehouse,
                   payload=body)


@warehouses.get("/warehouses", response_model=Page[WarehouseOut])
def list_warehouses(conn: Conn, page: Paging) -> dict[str, Any]:
    return queries.list_warehouses(conn, page).as_dict()


@warehouses.get("/warehouses/{warehouse_id}", response_model=WarehouseOut)
def get_warehouse(warehouse_id: Id, conn: Conn) -> dict[str, Any]:
    return queries.warehouse(conn, warehouse_id)


stock = router("stock")


def present_stock(conn: Connection, level_id: int) -> StockOut:
    return StockOut.model_validate(queries.stock_level(conn, level_id))


@stock.get("/stock", response_model=Page[StockOut])
def list_stock(
    conn: Conn, page: Paging, product_id: IdFilter = None, warehouse_id: IdFilter = None,
    q: Annotated[str | None, Query(max_length=200, description="SKU or name contains")] = None,
) -> dict[str, Any]:
    extra = {"product_id": product_id, "warehouse_id": warehouse_id}
    return queries.list_stock(conn, Filters(q=q, extra=extra), page).as_dict()


@stock.post("/stock/receive", response_model=StockOut)
def receive_stock(body: ReceiveStockIn, bus: Bus) -> JSONResponse:
    """Goods in. Orders waiting for the product get it reserved at once, oldest first."""
    return bus.run(body.command(), present_stock, payload=body)


@stock.post("/stock/adjust", response_model=StockOut)
def adjust_stock(body: AdjustStockIn, bus: Bus) -> JSONResponse:
    """Correct on-hand stock by `delta`, or set it to what a stock count found."""
    return bus.run(body.command(), present_stock, payload=body)


rates = router("rates")


@rates.post("/vat-rates", status_code=201, response_model=VatRateOut)
def create_vat_rate(body: VatRateIn, bus: Bus) -> JSONResponse:
    """A new rate; the open-ended rate it replaces ends the day before it starts."""
    def present(conn: Connection, rate_id: int) -> VatRateOut:
        return VatRateOut.model_validate(queries.vat_rate(conn, rate_id))

    return bus.run(body.command(), present, payload=body, status_code=201)


@rates.get("/vat-rates", response_model=Page[VatRateOut])
def list_vat_rates(conn: Conn, page: Paging) -> dict[str, Any]:
    return queries.list_vat_rates(conn, page).as_dict()


@rates.post("/exchange-rates", status_code=201, response_model=ExchangeRateOut)
def set_exchange_rate(body: ExchangeRateIn, bus: Bus) -> JSONResponse:
    """The rate for a day (replacing one already set for that day)."""
    def present(conn: Connection, rate_id: int) -> ExchangeRateOut:
        return ExchangeRateOut.model_validate(queries.exchange_rate(conn, rate_id))

    return bus.run(body.command(), present, payload=body, status_code=201)


@rates.get("/exchange-rates", response_model=Page[ExchangeRateOut])
def list_exchange_rates(conn: Conn, page: Paging) -> dict[str, Any]:
    return queries.list_exchange_rates(conn, page).as_dict()
