"""The test customer: a fictional recipient with every field filled, for previews and test sends.

It is made in memory for each preview and never stored, so it can never appear in the customer list,
a segment, a count or a report. Its custom fields follow Settings → Fields (a sample value of each
field's type); its receipts and containers show real products of the catalogue when there are any,
so a preview looks like a real message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.models import FieldDefinition, Product
from smartcomm.personalization.context import RenderContext, base_variables, render_settings
from smartcomm.personalization.context_repository import ContextRepository
from smartcomm.personalization.views import (
    ClientView,
    ContainerView,
    LineView,
    ProductView,
    ReceiptView,
    RfmView,
    age_on,
)
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

TEST_EXTERNAL_ID = "TEST-0001"
PEOPLE = {
    "ru": {
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "last_name": "Смирнова",
        "country": "Россия",
        "region": "Москва",
        "city": "Москва",
        "store": "Магазин на Тверской",
        "text": "Пример значения",
    },
    "en": {
        "first_name": "Emma",
        "middle_name": "Grace",
        "last_name": "Johnson",
        "country": "United Kingdom",
        "region": "England",
        "city": "London",
        "store": "Oxford Street store",
        "text": "Sample value",
    },
}
FICTIONAL_PRODUCTS = (
    ("SKU-1001", "Ceramic mug", Decimal("490.00")),
    ("SKU-1002", "Scented candle", Decimal("890.00")),
    ("SKU-1003", "Linen napkins, set of 4", Decimal("1290.00")),
    ("SKU-1004", "Coffee beans, 1 kg", Decimal("1590.00")),
)


def sample_customer_context(session: Session, extra: Mapping[str, Any] | None = None) -> RenderContext:
    """The context of the test customer, in the project's language and formats."""
    general = settings_service.read(session, GeneralSettings)
    shared = base_variables(general, extra)
    repository = ContextRepository(session)
    products = _products(repository.sample_products(6))
    people = PEOPLE.get(general.default_language, PEOPLE["en"])
    variables = {
        "client": _client(people, repository.custom_fields(), shared["today"], general.time_zone),
        "receipts": _receipts(people, products, shared["now"]),
        "containers": {
            c.code: ContainerView(c.code, c.name, products[:3], shared["now"])
            for c in repository.containers()
        },
    }
    return RenderContext(None, shared | variables, render_settings(general))


def _products(rows: list[Product]) -> list[ProductView]:
    if rows:
        return [ProductView(p.sku, p.name, p.price, p.image_url, p.url, Decimal(1)) for p in rows]
    return [
        ProductView(sku, name, price, None, f"https://shop.example/products/{sku.lower()}", Decimal(1))
        for sku, name, price in FICTIONAL_PRODUCTS
    ]


def _client(people: dict[str, str], fields: list[FieldDefinition], today: date, time_zone: str) -> ClientView:
    birth_date = date(today.year - 34, 5, 17)
    now = datetime.now(UTC)
    values = {
        "id": 0,
        "external_id": TEST_EXTERNAL_ID,
        "first_name": people["first_name"],
        "last_name": people["last_name"],
        "middle_name": people["middle_name"],
        "full_name": f"{people['last_name']} {people['first_name']} {people['middle_name']}",
        "gender": "f",
        "birth_date": birth_date,
        "age": age_on(birth_date, today),
        "email": "test@test.com",
        "phone": "+79161234567",
        "country": people["country"],
        "region": people["region"],
        "city": people["city"],
        "time_zone": time_zone,
        "registered_at": now - timedelta(days=730),
        "card_number": "2775000012345",
        "card_status": "active",
        "receipt_count": 24,
        "total_amount": Decimal("48250.00"),
        "average_receipt": Decimal("2010.42"),
        "first_purchase_at": now - timedelta(days=700),
        "last_purchase_at": now - timedelta(days=3),
    }
    custom = {field.code: _sample_value(field.type, people["text"], today) for field in fields}
    return ClientView(values, custom, RfmView(5, 4, 5, 3, 24, Decimal("48250.00")))


def _sample_value(kind: str, text: str, today: date) -> Any:
    samples: dict[str, Any] = {
        "string": text,
        "integer": 42,
        "decimal": Decimal("12.50"),
        "boolean": True,
        "date": date(today.year, 6, 1),
        "datetime": datetime(today.year, 6, 1, 12, 0, tzinfo=UTC),
    }
    return samples.get(kind, text)


def _receipts(people: dict[str, str], products: list[ProductView], now: datetime) -> list[ReceiptView]:
    receipts = []
    for number, days_ago in enumerate((3, 17), start=1):
        chosen = products[number - 1 : number + 2] or products[:3]
        lines = [_line(position, product) for position, product in enumerate(chosen, start=1)]
        total = sum((line.amount for line in lines), Decimal(0))
        receipts.append(
            ReceiptView(
                number=f"TEST-{number:04d}",
                purchased_at=now - timedelta(days=days_ago),
                status="paid",
                total=total,
                discount=Decimal(0),
                bonus_earned=(total / 20).quantize(Decimal("0.01")),
                bonus_spent=Decimal(0),
                item_count=Decimal(len(lines)),
                store=people["store"],
                lines=lines,
            )
        )
    return receipts


def _line(position: int, product: ProductView) -> LineView:
    price = product.price or Decimal("100.00")
    return LineView(
        sku=product.sku,
        name=product.name,
        quantity=Decimal(1),
        price=price,
        amount=price,
        discount=Decimal(0),
        image=product.image,
        link=product.link,
        position=position,
    )
