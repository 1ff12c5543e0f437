"""Rules for containers: the one write path of their contents (API and tracker) and reading them back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.lookups import ProductLookup
from smartcomm.containers.repository import ContainerRepository
from smartcomm.containers.schemas import ContainerAction, ContainerChangeIn, ContainerItemOut, ContainerOut
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Container, ContainerItem, ContainerState, Customer

ONE = Decimal("1")


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One product of a container change; `quantity` None means the action's default."""

    product_id: int
    quantity: Decimal | None = None
    price: Decimal | None = None


def container_change(
    customer_id: int, code: str, action: ContainerAction, changes: Sequence[ItemChange], at: datetime
) -> dict[str, Any]:
    """One change of a customer's container as the `container.changed` event carries it."""
    items = [
        {"product_id": c.product_id, "quantity": None if c.quantity is None else str(c.quantity)}
        for c in changes
    ]
    return {
        "customer_id": customer_id,
        "container": code,
        "action": action,
        "items": items,
        "occurred_at": at.isoformat(),
    }


class ContainerService:
    def change(
        self, session: Session, actor: Actor, customer: Customer, code: str, data: ContainerChangeIn
    ) -> ContainerOut:
        """Add, remove or set products of one of the customer's containers, or clear it."""
        container = self._container(session, code)
        changes = self._resolve(session, data)
        before = self._contents(session, customer.id, container.id)
        now = utcnow()
        self.apply(session, customer.id, container.id, data.action, changes, now)
        entry = container_change(customer.id, code, data.action, changes, now)
        publish(session, "container.changed", customer_id=customer.id, payload={"changes": [entry]})
        after = self._contents(session, customer.id, container.id)
        if before != after:
            audit_service.record(
                session,
                actor,
                object_type="customer",
                object_id=customer.id,
                action="update",
                changes={f"containers.{code}": [before, after]},
                object_label=customer.full_name,
            )
        return next(item for item in self.for_customer(session, customer.id) if item.code == code)

    def apply(
        self,
        session: Session,
        customer_id: int,
        container_id: int,
        action: ContainerAction,
        changes: Sequence[ItemChange],
        at: datetime,
    ) -> None:
        """Change one customer's container and stamp the time of the change (API and tracker alike; the
        caller publishes `container.changed`)."""
        repository = ContainerRepository(session)
        if action == "clear":
            repository.clear(customer_id, container_id)
            remaining = 0
        else:
            items = {item.product_id: item for item in repository.items(customer_id, container_id)}
            for change in changes:
                self._apply_one(session, items, (customer_id, container_id), action, change, at)
            remaining = len(items)
        session.flush()
        self._stamp(session, customer_id, container_id, remaining, at)

    def for_customer(self, session: Session, customer_id: int) -> list[ContainerOut]:
        """The customer's containers with their products and the time of the last change."""
        repository = ContainerRepository(session)
        items: dict[int, list[ContainerItemOut]] = defaultdict(list)
        for item, product in repository.items_of(customer_id):
            price = item.price if item.price is not None else product.price
            items[item.container_id].append(
                ContainerItemOut(
                    sku=product.sku,
                    name=product.name,
                    price=price,
                    quantity=item.quantity,
                    added_at=item.added_at,
                )
            )
        return [
            ContainerOut(
                code=container.code,
                name=container.name,
                changed_at=state.changed_at,
                item_count=state.item_count,
                items=items[container.id],
            )
            for state, container in repository.states_of(customer_id)
        ]

    def _apply_one(
        self,
        session: Session,
        items: dict[int, ContainerItem],
        owner: tuple[int, int],
        action: ContainerAction,
        change: ItemChange,
        at: datetime,
    ) -> None:
        item = items.get(change.product_id)
        if action == "remove" and item is not None:
            left = Decimal("0") if change.quantity is None else item.quantity - change.quantity
            self._set_quantity(session, items, item, left)
        elif action in ("add", "set"):
            if item is None:
                item = ContainerItem(
                    customer_id=owner[0],
                    container_id=owner[1],
                    product_id=change.product_id,
                    quantity=Decimal("0"),
                    added_at=at,
                )
                session.add(item)
                items[change.product_id] = item
            if change.price is not None:
                item.price = change.price
            if action == "add":
                quantity = item.quantity + (change.quantity or ONE)
            else:
                quantity = ONE if change.quantity is None else change.quantity
            self._set_quantity(session, items, item, quantity)

    @staticmethod
    def _set_quantity(
        session: Session, items: dict[int, ContainerItem], item: ContainerItem, quantity: Decimal
    ) -> None:
        if quantity > 0:
            item.quantity = quantity
            return
        del items[item.product_id]
        if item in session.new:
            session.expunge(item)
        else:
            session.delete(item)

    @staticmethod
    def _stamp(session: Session, customer_id: int, container_id: int, item_count: int, at: datetime) -> None:
        state = ContainerRepository(session).state(customer_id, container_id)
        if state is None:
            session.add(
                ContainerState(
                    customer_id=customer_id, container_id=container_id, changed_at=at, item_count=item_count
                )
            )
        else:
            # Tracker events may arrive late: the stamp never goes back in time.
            state.changed_at = max(state.changed_at, at)
            state.item_count = item_count
        session.flush()

    @staticmethod
    def _container(session: Session, code: str) -> Container:
        container = ContainerRepository(session).by_code(code)
        if container is None:
            raise NotFound("Container", code)
        return container

    @staticmethod
    def _resolve(session: Session, data: ContainerChangeIn) -> list[ItemChange]:
        if data.action != "clear" and not data.items:
            raise InvalidInput.for_field("items", "give at least one product")
        products = ProductLookup(session).resolve([item.sku for item in data.items])
        errors = [
            FieldError(f"items[{index}].sku", "no product with this SKU in the main catalogue", "unknown")
            for index, item in enumerate(data.items)
            if products[item.sku][0] is None
        ]
        if errors:
            raise InvalidInput(f"{len(errors)} unknown product(s); nothing was changed", errors)
        return [
            ItemChange(product_id=product_id, quantity=item.quantity, price=item.price)
            for item in data.items
            if (product_id := products[item.sku][0]) is not None
        ]

    @staticmethod
    def _contents(session: Session, customer_id: int, container_id: int) -> dict[str, str]:
        pairs = ContainerRepository(session).items_with_sku(customer_id, container_id)
        return {
            sku: format(item.quantity.normalize(), "f")
            for item, sku in sorted(pairs, key=lambda pair: pair[1])
        }


container_service = ContainerService()
