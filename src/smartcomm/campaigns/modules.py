"""Which optional modules of the product are switched on (a node that needs one is refused without it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

ALWAYS = frozenset({"tracker", "loyalty"})


def switched_on(session: Session) -> frozenset[str]:
    modules = set(ALWAYS)
    if _orders_enabled(session):
        modules.add("orders")
    return frozenset(modules)


def _orders_enabled(session: Session) -> bool:
    from smartcomm.orders.service import order_service

    return order_service.enabled(session)
