"""Orders over the API (the optional module: 409 while it is turned off): create or replace by number,
status changes per dimension with their history, a customer's orders, and the status dictionary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import NO_NUL_PATTERN, PageNumber, PathId
from smartcomm.models import OrderStatus
from smartcomm.orders.schemas import (
    Dimension,
    OrderBatchIn,
    OrderBatchOut,
    OrderIn,
    OrderOut,
    OrderStatusIn,
    OrderStatusOut,
    OrderStatusUpdate,
    StatusChangeIn,
)
from smartcomm.orders.service import order_service
from smartcomm.orders.statuses import order_status_service

router = APIRouter(tags=["orders"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
Number = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL_PATTERN, description="The order's number")
]
# Every orders endpoint answers 409 while the module is turned off.
OFF = error_responses(409)
ORDER_ERRORS = error_responses(404, 409)


@router.post("/orders", response_model=OrderBatchOut, responses=OFF)
def write_order(session: DbSession, principal: Writer, body: OrderIn) -> OrderBatchOut:
    """Store an order; the same number sent again replaces it (its lines too) instead of adding one."""
    order_service.require_enabled(session)
    return order_service.write_one(session, principal.actor, body)


@router.post("/orders/batch", response_model=OrderBatchOut, responses=OFF)
def write_orders(session: DbSession, principal: Writer, body: OrderBatchIn) -> OrderBatchOut:
    """Store up to 1,000 orders; one invalid item rejects the whole batch (`orders[2].lines[0].price`)."""
    order_service.require_enabled(session)
    return order_service.write(session, principal.actor, body.orders)


@router.get("/orders/{number}", response_model=OrderOut, responses=ORDER_ERRORS)
def get_order(session: DbSession, _: Reader, number: Number) -> OrderOut:
    """An order with its lines and the history of its statuses."""
    order_service.require_enabled(session)
    return order_service.describe(session, number)


@router.patch("/orders/{number}/status", response_model=OrderOut, responses=ORDER_ERRORS)
def change_status(session: DbSession, principal: Writer, number: Number, body: StatusChangeIn) -> OrderOut:
    """Move one status dimension of an order (`general`, `delivery` or `payment`) to the status `code`."""
    order_service.require_enabled(session)
    order_service.change_status(session, principal.actor, number, body.dimension, body.code)
    return order_service.describe(session, number)


@router.post("/orders/{number}/cancel", response_model=OrderOut, responses=ORDER_ERRORS)
def cancel_order(session: DbSession, principal: Writer, number: Number) -> OrderOut:
    """Give the order the general status `cancelled`."""
    order_service.require_enabled(session)
    order_service.cancel(session, principal.actor, number)
    return order_service.describe(session, number)


@router.get("/customers/{external_id}/orders", response_model=PageOut[OrderOut], responses=ORDER_ERRORS)
def customer_orders(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 25
) -> PageOut[OrderOut]:
    """The customer's orders, newest first, with their lines."""
    order_service.require_enabled(session)
    customer = customer_service.get_by_external_id(session, external_id)
    found = order_service.for_customer(session, customer.id, PageParams(page=page, size=size))
    return PageOut[OrderOut].of(found, OrderOut)


# --- the status dictionary (usable while the module is off, to prepare it)


@router.get("/order-statuses", response_model=list[OrderStatusOut])
def list_statuses(
    session: DbSession, _: Reader, dimension: Annotated[Dimension | None, Query()] = None
) -> list[OrderStatusOut]:
    """Every status of each dimension (or of one), in the dimension's order, with its orders now."""
    return [
        OrderStatusOut.model_validate(found).model_copy(update={"orders": orders})
        for wanted, rows in order_status_service.overview(session).items()
        if dimension in (None, wanted)
        for found, orders in rows
    ]


@router.post(
    "/order-statuses",
    response_model=OrderStatusOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def create_status(session: DbSession, principal: Writer, body: OrderStatusIn) -> OrderStatusOut:
    """Add a status at the end of its dimension; its code must be new in the dimension."""
    return _status_out(session, order_status_service.create(session, principal.actor, body))


@router.patch("/order-statuses/{status_id}", response_model=OrderStatusOut, responses=ORDER_ERRORS)
def update_status(
    session: DbSession, principal: Writer, status_id: PathId, body: OrderStatusUpdate
) -> OrderStatusOut:
    """Rename a status, change its code, its flags or its place; orders keep it whatever the code."""
    return _status_out(session, order_status_service.update(session, principal.actor, status_id, body))


@router.delete("/order-statuses/{status_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ORDER_ERRORS)
def delete_status(session: DbSession, principal: Writer, status_id: PathId) -> Response:
    """Delete a status; refused (409) while an order is in it."""
    order_status_service.delete(session, principal.actor, status_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _status_out(session: DbSession, found: OrderStatus) -> OrderStatusOut:
    orders = order_status_service.orders_in(session, found)
    return OrderStatusOut.model_validate(found).model_copy(update={"orders": orders})
