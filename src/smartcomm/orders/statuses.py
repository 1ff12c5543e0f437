"""Settings → Order statuses: the dictionary of each status dimension (general, delivery, payment).

A status's code is what the API and imports send. A status some order is in cannot be deleted; turning
its "include in analytics" flag recomputes which of its orders count in the segment builder's metrics.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import diff
from smartcomm.datasettings.common import (
    INTEGRATION_CODE,
    INTEGRATION_CODE_RULE,
    check_code,
    duplicate_code,
    record,
    snapshot,
)
from smartcomm.kit.errors import Conflict, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.models import OrderStatus
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.repository import StatusRepository
from smartcomm.orders.schemas import OrderStatusIn, OrderStatusUpdate

OBJECT_TYPE = "order_status"
AUDITED = ("dimension", "code", "name", "include_in_analytics", "is_final", "position")
DUPLICATE = lazy("A status of this dimension with this code already exists")
IN_USE = lazy("Orders are in this status, so it cannot be deleted. Move them to another status first.")


def _label(status: OrderStatus) -> str:
    return f"{status.name} ({status.dimension}: {status.code})"


class OrderStatusService:
    def overview(self, session: Session) -> dict[str, list[tuple[OrderStatus, int]]]:
        """Each dimension's statuses in their order, with the number of orders in each now."""
        repository = StatusRepository(session)
        usage = repository.usage()
        grouped: dict[str, list[tuple[OrderStatus, int]]] = {dimension: [] for dimension in DIMENSIONS}
        for status in repository.all():
            grouped.setdefault(status.dimension, []).append((status, usage.get(status.id, 0)))
        return grouped

    def get(self, session: Session, status_id: int) -> OrderStatus:
        status = StatusRepository(session).get(status_id)
        if status is None:
            raise NotFound("Order status", status_id)
        return status

    def orders_in(self, session: Session, status: OrderStatus) -> int:
        """How many orders are in the status now."""
        return StatusRepository(session).in_use(status)

    def create(self, session: Session, actor: Actor, data: OrderStatusIn) -> OrderStatus:
        """Add a status at the end of its dimension."""
        repository = StatusRepository(session)
        code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
        if repository.by_code(data.dimension, code) is not None:
            raise duplicate_code(DUPLICATE)
        status = repository.add(
            OrderStatus(
                dimension=data.dimension,
                code=code,
                name=data.name.strip(),
                include_in_analytics=data.include_in_analytics,
                is_final=data.is_final,
                position=repository.next_position(data.dimension),
            )
        )
        changes = diff({}, snapshot(status, AUDITED))
        record(session, actor, OBJECT_TYPE, status.id, "create", changes, _label(status))
        return status

    def update(self, session: Session, actor: Actor, status_id: int, data: OrderStatusUpdate) -> OrderStatus:
        """Change what was given; orders refer to the status by id, so a new code touches none of them."""
        repository = StatusRepository(session)
        status = self.get(session, status_id)
        before = snapshot(status, AUDITED)
        if data.code is not None:
            code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
            if repository.by_code(status.dimension, code, other_than=status.id) is not None:
                raise duplicate_code(DUPLICATE)
            status.code = code
        for name in ("name", "include_in_analytics", "is_final", "position"):
            value = getattr(data, name)
            if value is not None:
                setattr(status, name, value.strip() if isinstance(value, str) else value)
        session.flush()
        if status.include_in_analytics != before["include_in_analytics"]:
            repository.refresh_analytics(status.id)
        changes = diff(before, snapshot(status, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, status.id, "update", changes, _label(status))
        return status

    def delete(self, session: Session, actor: Actor, status_id: int) -> None:
        """Delete a status no order is in."""
        repository = StatusRepository(session)
        status = self.get(session, status_id)
        if self.orders_in(session, status):
            raise Conflict(IN_USE)
        changes = diff(snapshot(status, AUDITED), {})
        record(session, actor, OBJECT_TYPE, status.id, "delete", changes, _label(status))
        repository.delete(status)


order_status_service = OrderStatusService()
