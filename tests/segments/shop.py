"""A small shop for the segment page, API, plan and browser tests, written through the services.

Six customers bought dairy products (a subcategory of food) at different times; some subscribe to the
"promotions" e-mails; one is in the target audience "Do not disturb". The segment "bought dairy at least
twice in the last 90 days AND subscribed to promotions by e-mail AND not in Do not disturb" selects exactly
Anna Orlova and Dina Petrova.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.audit.actor import Actor
from smartcomm.catalog.schemas import CategoryIn, ProductIn
from smartcomm.catalog.service import catalog_service
from smartcomm.customers.schemas import CustomerIn, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.mailing_categories import MailingCategoryCreate, mailing_category_service
from smartcomm.kit.time import utcnow
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.segments.rules import SegmentRules

ACTOR = Actor("user", None, "Mila Marketer <mila@example.com>")

# external id, last name, first name, e-mail, days ago of each dairy purchase, subscriptions, in the audience
PEOPLE: tuple[tuple[str, str, str, str, tuple[int, ...], dict[str, str], bool], ...] = (
    ("C-1", "Orlova", "Anna", "anna@example.com", (3, 40), {"email": "Y"}, False),
    ("C-2", "Sokolov", "Boris", "boris@example.com", (5, 10), {"email": "Y"}, True),
    ("C-3", "Volkova", "Vera", "vera@example.com", (7,), {"email": "Y"}, False),
    ("C-4", "Gromov", "Gleb", "gleb@example.com", (20, 200), {"email": "Y"}, False),
    ("C-5", "Petrova", "Dina", "dina@example.com", (1, 30, 89), {"email": "Y", "sms": "Y"}, False),
    ("C-6", "Egorov", "Egor", "egor@example.com", (2, 60), {"email": "N", "sms": "Y"}, False),
)
MATCHING = {"C-1", "C-5"}


@dataclass
class Shop:
    food_id: int
    dairy_id: int
    category_id: int  # the mailing category "promotions"
    audience_id: int
    customers: dict[str, int] = field(default_factory=dict)

    def rules(self) -> dict[str, Any]:
        """Bought dairy ≥ 2 times in the last 90 days AND subscribed by e-mail AND NOT in the audience."""
        return {
            "version": 1,
            "root": {
                "type": "group",
                "op": "and",
                "children": [
                    {
                        "metric": "purchases.category_count",
                        "operator": "gte",
                        "value": 2,
                        "params": {
                            "category": self.dairy_id,
                            "period": {"kind": "last", "n": 90, "unit": "days"},
                        },
                    },
                    {
                        "metric": "contacts.subscribed",
                        "operator": "is_true",
                        "params": {"category": str(self.category_id), "channel": "email"},
                    },
                    {
                        "metric": "audiences.member",
                        "operator": "is_true",
                        "params": {"audience": self.audience_id},
                        "negate": True,
                    },
                ],
            },
        }

    def segment_rules(self) -> SegmentRules:
        return SegmentRules.model_validate(self.rules())


def build_shop(session: Session) -> Shop:
    categories = [
        CategoryIn(code="food", name="Food"),
        CategoryIn(code="dairy", name="Dairy", parent="food"),
        CategoryIn(code="bakery", name="Bakery", parent="food"),
    ]
    made = {
        item.code: item.id for item in catalog_service.upsert_categories(session, ACTOR, categories).items
    }
    products = [
        ProductIn(sku="MILK-1", name="Milk 3.2%", category="dairy", price=Decimal("89.90")),
        ProductIn(sku="BREAD-1", name="Rye bread", category="bakery", price=Decimal("45.00")),
    ]
    catalog_service.upsert_products(session, ACTOR, products)
    category = mailing_category_service.create(
        session, ACTOR, MailingCategoryCreate(code="promotions", name="Promotions")
    )
    audience = audience_service.create(session, ACTOR, AudienceIn(name="Do not disturb"))
    shop = Shop(
        food_id=made["food"], dairy_id=made["dairy"], category_id=category.id, audience_id=audience.id
    )
    for person in PEOPLE:
        _person(session, shop, *person)
    audience_service.add_members(
        session, ACTOR, audience.id, MembersIn(external_ids=[p[0] for p in PEOPLE if p[6]])
    )
    session.flush()
    return shop


def _person(
    session: Session,
    shop: Shop,
    external_id: str,
    last_name: str,
    first_name: str,
    email: str,
    days_ago: tuple[int, ...],
    subscriptions: dict[str, str],
    _blocked: bool,
) -> None:
    data = CustomerIn(
        external_id=external_id, last_name=last_name, first_name=first_name, email=email, city="Moscow"
    )
    customer = customer_service.upsert(session, ACTOR, data)[0]
    shop.customers[external_id] = customer.id
    receipts = [_receipt(customer.id, f"{external_id}-{n}", days) for n, days in enumerate(days_ago)]
    receipts.append(_receipt(customer.id, f"{external_id}-bread", 4, sku="BREAD-1", price="45.00"))
    receipt_service.write(session, ACTOR, receipts)
    customer_service.set_subscriptions(
        session,
        ACTOR,
        customer,
        SubscriptionsIn.model_validate({"categories": {"promotions": subscriptions}}),
    )


def _receipt(
    customer_id: int, number: str, days_ago: int, sku: str = "MILK-1", price: str = "89.90"
) -> ReceiptIn:
    return ReceiptIn.model_validate(
        {
            "number": number,
            "store": "S1",
            "customer_id": customer_id,
            "purchased_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
            "lines": [{"sku": sku, "price": price, "quantity": "2"}],
        }
    )
