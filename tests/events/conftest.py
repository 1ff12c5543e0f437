"""Shared data for the events, web events and containers tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.security import issue_api_token
from smartcomm.models import Category, Classifier, Customer, Product
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE
from tests.factories import make_user

TESTS = Actor("api", None, "tests")


def make_customer(session: Session, external_id: str = "C-1", **values: object) -> Customer:
    customer, _ = customer_service.upsert(session, TESTS, CustomerIn(external_id=external_id, **values))
    session.flush()
    return customer


def make_product(
    session: Session, sku: str, name: str, price: str, category: tuple[str, str] | None = None
) -> Product:
    classifier = session.scalars(select(Classifier).where(Classifier.code == SYSTEM_CLASSIFIER_CODE)).one()
    category_id = None
    if category is not None:
        node = Category(classifier_id=classifier.id, code=category[0], name=category[1])
        session.add(node)
        session.flush()
        category_id = node.id
    product = Product(
        classifier_id=classifier.id,
        sku=sku,
        name=name,
        price=Decimal(price),
        category_id=category_id,
        custom={},
    )
    session.add(product)
    session.flush()
    return product


@pytest.fixture
def api_headers(session: Session) -> dict[str, str]:
    user, _ = make_user(session, role="api", full_name="Shop backend")
    token, _ = issue_api_token(user.id, user.session_version)
    return {"Authorization": f"Bearer {token}"}
