"""A small base for the personalization tests, written through the services like real data.

Products with pictures and links; customers with custom fields, several receipts each and a cart;
one customer with nothing but a name. Project settings: Russian, Moscow, roubles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.catalog.schemas import ProductIn
from smartcomm.catalog.service import catalog_service
from smartcomm.containers.schemas import ContainerChangeIn
from smartcomm.containers.service import container_service
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.fields import FieldCreate, field_settings
from smartcomm.kit.time import utcnow
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

ACTOR = Actor("user", None, "Dana Designer <dana@example.com>")
PRODUCTS = (
    ("MUG-1", "Кружка «Утро»", "490.00"),
    ("CANDLE-1", "Свеча ароматическая", "890.00"),
    ("TEA-1", "Чай улун, 100 г", "650.00"),
    ("COFFEE-1", "Кофе в зёрнах, 1 кг", "1590.00"),
)


@dataclass
class TemplateShop:
    customers: dict[str, int] = field(default_factory=dict)


def build_template_shop(session: Session, *, customers: int = 3) -> TemplateShop:
    settings_service.update(
        session,
        ACTOR,
        GeneralSettings,
        {"default_language": "ru", "time_zone": "Europe/Moscow", "currency": "RUB", "company_name": "Уют"},
    )
    field_settings.create(
        session, ACTOR, FieldCreate(object="customer", code="shoe_size", name="Shoe size", type="integer")
    )
    catalog_service.upsert_products(
        session,
        ACTOR,
        [
            ProductIn(
                sku=sku,
                name=name,
                price=Decimal(price),
                url=f"https://shop.example/p/{sku.lower()}",
                image_url=f"https://shop.example/img/{sku.lower()}.jpg",
            )
            for sku, name, price in PRODUCTS
        ],
    )
    shop = TemplateShop()
    for number in range(1, customers + 1):
        shop.customers[f"C-{number}"] = _customer(session, number)
    shop.customers["EMPTY"] = customer_service.upsert(
        session, ACTOR, CustomerIn(external_id="EMPTY", first_name="Пётр")
    )[0].id
    session.flush()
    return shop


def _customer(session: Session, number: int) -> int:
    data = CustomerIn.model_validate(
        {
            "external_id": f"C-{number}",
            "first_name": "Мария",
            "last_name": f"Иванова-{number}",
            "email": f"maria{number}@example.com",
            "birth_date": date(1990, 1, number).isoformat(),
            "custom": {"shoe_size": 36 + number},
        }
    )
    customer = customer_service.upsert(session, ACTOR, data)[0]
    receipts = [
        _receipt(customer.id, f"C{number}-{n}", days=10 * n, sku=PRODUCTS[n % 4][0]) for n in range(1, 8)
    ]
    receipt_service.write(session, ACTOR, receipts)
    for sku in ("TEA-1", "MUG-1"):  # the mug last: it comes first in the cart
        change = ContainerChangeIn.model_validate({"action": "add", "items": [{"sku": sku}]})
        container_service.change(session, ACTOR, customer, "cart", change)
    return customer.id


def _receipt(customer_id: int, number: str, *, days: int, sku: str) -> ReceiptIn:
    return ReceiptIn.model_validate(
        {
            "number": number,
            "store": "MSK-1",
            "customer_id": customer_id,
            "purchased_at": (utcnow() - timedelta(days=days)).isoformat(),
            "lines": [{"sku": sku, "price": "100.00", "quantity": "2"}, {"sku": "TEA-1", "price": "650.00"}],
        }
    )
