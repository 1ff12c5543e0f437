"""Settings → Containers: kinds of per-customer product lists (cart, favourites, wishlist, …)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import distinct, func, select
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
from smartcomm.kit.repository import Repository
from smartcomm.models import Container, ContainerItem

OBJECT_TYPE = "container"
AUDITED = ("code", "name", "description")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None


class ContainerCreate(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    description: Description = None


class ContainerUpdate(BaseModel):
    name: Name
    description: Description = None


class ContainerRepository(Repository[Container]):
    model = Container

    def with_holder_counts(self) -> list[tuple[Container, int]]:
        """Containers with the number of customers holding at least one item in each."""
        holders = (
            select(
                ContainerItem.container_id, func.count(distinct(ContainerItem.customer_id)).label("holders")
            )
            .group_by(ContainerItem.container_id)
            .subquery()
        )
        statement = (
            select(Container, func.coalesce(holders.c.holders, 0))
            .outerjoin(holders, holders.c.container_id == Container.id)
            .order_by(Container.is_system.desc(), Container.name, Container.id)
        )
        return [(container, int(count)) for container, count in self.session.execute(statement)]

    def by_code(self, code: str) -> Container | None:
        return self.session.scalar(select(Container).where(Container.code == code))

    def holder_count(self, container_id: int) -> int:
        statement = select(func.count(distinct(ContainerItem.customer_id))).where(
            ContainerItem.container_id == container_id
        )
        return int(self.session.scalar(statement) or 0)


def _label(container: Container) -> str:
    return f"{container.name} ({container.code})"


class ContainerService:
    def overview(self, session: Session) -> list[tuple[Container, int]]:
        """Every container with the number of customers holding items in it, the system one first."""
        return ContainerRepository(session).with_holder_counts()

    def get(self, session: Session, container_id: int) -> Container:
        container = ContainerRepository(session).get(container_id)
        if container is None:
            raise NotFound("Container", container_id)
        return container

    def holder_count(self, session: Session, container_id: int) -> int:
        return ContainerRepository(session).holder_count(container_id)

    def create(self, session: Session, actor: Actor, data: ContainerCreate) -> Container:
        """Add a container; the tracker and the API refer to it by code."""
        repository = ContainerRepository(session)
        code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
        if repository.by_code(code) is not None:
            raise duplicate_code(lazy("A container with this code already exists"))
        container = repository.add(
            Container(code=code, name=data.name, description=data.description or None, is_system=False)
        )
        changes = diff({}, snapshot(container, AUDITED))
        record(session, actor, OBJECT_TYPE, container.id, "create", changes, _label(container))
        return container

    def update(self, session: Session, actor: Actor, container_id: int, data: ContainerUpdate) -> Container:
        """Change the name and description of a container."""
        container = self.get(session, container_id)
        before = snapshot(container, AUDITED)
        container.name = data.name
        container.description = data.description or None
        session.flush()
        changes = diff(before, snapshot(container, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, container.id, "update", changes, _label(container))
        return container

    def delete(self, session: Session, actor: Actor, container_id: int) -> None:
        """Delete a container and the items customers hold in it (the cart always stays)."""
        repository = ContainerRepository(session)
        container = self.get(session, container_id)
        if container.is_system:
            raise Conflict("The system container cannot be deleted")
        holders = repository.holder_count(container.id)
        changes = diff(snapshot(container, AUDITED), {}) | {"customers_holding_items": [holders, 0]}
        record(session, actor, OBJECT_TYPE, container.id, "delete", changes, _label(container))
        repository.delete(container)


container_service = ContainerService()
