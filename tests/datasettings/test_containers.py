"""Settings → Containers: holders per container, the protected cart, deleting with items."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.datasettings.containers import ContainerCreate, ContainerUpdate, container_service
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import Container, ContainerItem
from smartcomm.models.containers import CART_CODE
from tests.datasettings.helpers import ACTOR, add_customer, add_product, audit_rows, count, put_in_container


def by_code(session: Session) -> dict[str, tuple[Container, int]]:
    return {
        container.code: (container, holders) for container, holders in container_service.overview(session)
    }


def test_overview_counts_customers_holding_items_the_cart_first(session: Session) -> None:
    cart = by_code(session)[CART_CODE][0]
    anna, boris = add_customer(session), add_customer(session)
    for product in (add_product(session), add_product(session)):
        put_in_container(session, anna, cart.id, product)
    put_in_container(session, boris, cart.id, add_product(session))

    overview = container_service.overview(session)

    assert (overview[0][0].code, overview[0][1]) == (CART_CODE, 2)
    assert {c.code: n for c, n in overview[1:]} == {"favourites": 0, "notify_on_arrival": 0, "wishlist": 0}


def test_create_edit_and_code_rules(session: Session) -> None:
    compare = container_service.create(session, ACTOR, ContainerCreate(code="compare", name="Compare"))
    container_service.update(
        session, ACTOR, compare.id, ContainerUpdate(name="Compare list", description="Side by side")
    )
    assert (compare.code, compare.name, compare.description) == ("compare", "Compare list", "Side by side")

    with pytest.raises(Conflict) as taken:
        container_service.create(session, ACTOR, ContainerCreate(code="wishlist", name="Again"))
    with pytest.raises(InvalidInput) as malformed:
        container_service.create(session, ACTOR, ContainerCreate(code="wish list", name="Again"))
    assert taken.value.errors[0].field == malformed.value.errors[0].field == "code"
    assert count(session, Container) == 5
    assert [e.action for e in audit_rows(session, "container")] == ["create", "update"]


def test_the_cart_cannot_be_deleted_and_another_container_goes_with_its_items(session: Session) -> None:
    containers = by_code(session)
    with pytest.raises(Conflict, match="cannot be deleted"):
        container_service.delete(session, ACTOR, containers[CART_CODE][0].id)
    wishlist = containers["wishlist"][0]
    put_in_container(session, add_customer(session), wishlist.id, add_product(session))

    container_service.delete(session, ACTOR, wishlist.id)

    session.expire_all()
    assert session.get(Container, wishlist.id) is None
    assert count(session, ContainerItem) == 0
    entry = audit_rows(session, "container")[-1]
    assert (entry.action, entry.changes["customers_holding_items"]) == ("delete", [1, 0])
