"""A tracker purchase (`Order Completed`) turned into a receipt of the event source's online store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.catalog.repository import CatalogRepository
from smartcomm.kit.errors import FieldError, InvalidInput, location_to_path
from smartcomm.models import EventSource, Store
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service

# Receipt fields and the purchase properties they come from (Segment e-commerce spec v2).
PROPERTY_NAMES = {"number": "order_id", "total": "total", "discount": "discount", "lines": "products"}


def online_store_code(session: Session, source: EventSource) -> str:
    """The store of the source's purchases (code = source code), created as an online store when missing."""
    if CatalogRepository(session).store_by_code(source.code) is None:
        session.add(Store(code=source.code, name=source.name, is_online=True))
        session.flush()
    return source.code


def record_purchase(
    session: Session, store: str, customer_id: int, properties: dict[str, Any], at: datetime, where: str
) -> None:
    """Store the order as a receipt (idempotent by order id) through the receipt write path, so the
    customer's purchase aggregates are current at once."""
    number = properties.get("order_id", properties.get("orderId"))
    if number is None or str(number).strip() == "":
        raise InvalidInput.for_field(_path(where, ("properties", "order_id")), "required for a purchase")
    receipt = _receipt_in(store, customer_id, str(number), properties, at, where)
    records, errors = receipt_service.to_records(session, [receipt], path="receipts")
    if errors:
        raise InvalidInput("The purchase is not valid", errors)
    receipt_service.write_records(session, records)


def _receipt_in(
    store: str, customer_id: int, number: str, properties: dict[str, Any], at: datetime, where: str
) -> ReceiptIn:
    products = properties.get("products") or []
    lines = [_line(product) for product in products if isinstance(product, dict)]
    data = {
        "number": number,
        "store": store,
        "customer_id": customer_id,
        "purchased_at": at,
        "total": properties.get("total", properties.get("revenue")),
        "discount": properties.get("discount") or 0,
        "lines": lines,
    }
    try:
        return ReceiptIn.model_validate(data)
    except ValidationError as error:
        problems = [
            FieldError(
                _path(where, ("properties", *_property_location(e["loc"]))), str(e["msg"]), str(e["type"])
            )
            for e in error.errors()
        ]
        raise InvalidInput("The purchase is not valid", problems) from None


def _line(product: dict[str, Any]) -> dict[str, Any]:
    sku = product.get("sku") or product.get("product_id")
    return {
        "sku": None if sku is None else str(sku),
        "quantity": product.get("quantity", 1),
        "price": product.get("price"),
    }


def _property_location(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    if not location:
        return ()
    first = location[0]
    return (PROPERTY_NAMES.get(str(first), str(first)), *location[1:])


def _path(where: str, location: tuple[int | str, ...]) -> str:
    inner = location_to_path(location)
    return f"{where}.{inner}" if where else inner
