"""Rows the data-settings tests need around them (customers, products, subscriptions, container items)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import AuditEntry, Classifier, ContainerItem, Customer, Product, Subscription
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE

ACTOR = Actor("user", None, "Tess Tester <tess@example.com>")
_numbers = itertools.count(1)


def add_customer(session: Session, custom: dict[str, Any] | None = None) -> Customer:
    customer = Customer(external_id=f"C-{next(_numbers)}", custom=custom or {})
    session.add(customer)
    session.flush()
    return customer


def system_classifier(session: Session) -> Classifier:
    return session.scalars(select(Classifier).where(Classifier.code == SYSTEM_CLASSIFIER_CODE)).one()


def add_product(session: Session, classifier_id: int | None = None) -> Product:
    number = next(_numbers)
    classifier = classifier_id or system_classifier(session).id
    product = Product(classifier_id=classifier, sku=f"SKU-{number}", name=f"Product {number}")
    session.add(product)
    session.flush()
    return product


def subscribe(
    session: Session, customer: Customer, category_id: int, channel: str, subscribed: bool = True
) -> None:
    session.add(
        Subscription(customer_id=customer.id, category_id=category_id, channel=channel, subscribed=subscribed)
    )
    session.flush()


def put_in_container(session: Session, customer: Customer, container_id: int, product: Product) -> None:
    session.add(ContainerItem(customer_id=customer.id, container_id=container_id, product_id=product.id))
    session.flush()


def audit_rows(session: Session, object_type: str) -> list[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id)
    return list(session.scalars(statement))


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
