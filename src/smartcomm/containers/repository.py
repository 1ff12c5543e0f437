"""SQL of containers and their per-customer contents."""

from __future__ import annotations

from sqlalchemy import delete, select

from smartcomm.kit.repository import Repository
from smartcomm.models import Container, ContainerItem, ContainerState, Product


class ContainerRepository(Repository[Container]):
    model = Container

    def by_code(self, code: str) -> Container | None:
        return self.session.scalar(select(Container).where(Container.code == code))

    def ids_by_code(self) -> dict[str, int]:
        return dict(self.session.execute(select(Container.code, Container.id)).all())

    def items(self, customer_id: int, container_id: int) -> list[ContainerItem]:
        statement = select(ContainerItem).where(
            ContainerItem.customer_id == customer_id, ContainerItem.container_id == container_id
        )
        return list(self.session.scalars(statement))

    def items_with_sku(self, customer_id: int, container_id: int) -> list[tuple[ContainerItem, str]]:
        statement = (
            select(ContainerItem, Product.sku)
            .join(Product, Product.id == ContainerItem.product_id)
            .where(ContainerItem.customer_id == customer_id, ContainerItem.container_id == container_id)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def clear(self, customer_id: int, container_id: int) -> None:
        self.session.execute(
            delete(ContainerItem).where(
                ContainerItem.customer_id == customer_id, ContainerItem.container_id == container_id
            )
        )

    def state(self, customer_id: int, container_id: int) -> ContainerState | None:
        return self.session.get(ContainerState, (customer_id, container_id))

    def states_of(self, customer_id: int) -> list[tuple[ContainerState, Container]]:
        statement = (
            select(ContainerState, Container)
            .join(Container, Container.id == ContainerState.container_id)
            .where(ContainerState.customer_id == customer_id)
            .order_by(Container.is_system.desc(), Container.name)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def items_of(self, customer_id: int) -> list[tuple[ContainerItem, Product]]:
        statement = (
            select(ContainerItem, Product)
            .join(Product, Product.id == ContainerItem.product_id)
            .where(ContainerItem.customer_id == customer_id)
            .order_by(ContainerItem.added_at, Product.sku)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]
