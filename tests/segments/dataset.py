"""A random but reproducible data set for segment tests, written through the services like real data.

Times cluster around "now" and around midnight in Moscow (21:00 UTC) and Vladivostok (14:00 UTC), text
mixes cases, scripts and LIKE wildcards, and every metric family gets rows: receipts with returns and
cancellations, events with contexts, web behaviour, containers, subscriptions, an audience, a segment's
materialised membership, RFM scores, and the send ledger (mailings, messages, control groups).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.catalog.schemas import CategoryIn, ProductIn, StoreIn
from smartcomm.catalog.service import catalog_service
from smartcomm.containers.service import ItemChange
from smartcomm.containers.service import container_service as container_contents
from smartcomm.customers.schemas import ChannelPermissions, CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.containers import ContainerCreate
from smartcomm.datasettings.containers import container_service as container_settings
from smartcomm.datasettings.event_sources import EventSourceCreate, event_source_service
from smartcomm.datasettings.fields import FieldCreate, field_settings
from smartcomm.datasettings.mailing_categories import MailingCategoryCreate, mailing_category_service
from smartcomm.events.schemas import EventIn, WebEventIn
from smartcomm.events.service import event_service
from smartcomm.events.web_events import web_event_service
from smartcomm.models import (
    Audience,
    AudienceMember,
    Container,
    CustomerRfm,
    EventSource,
    PushToken,
    RfmCalculation,
    Segment,
    SegmentMembership,
    Subscription,
)
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.campaigns.report_data import write_campaigns
from tests.loyalty.data import write_bonus_data
from tests.orders.data import write_orders
from tests.segments.communications_data import write_ledger
from tests.segments.promo_poll_data import PromoPolls, write_promo_polls

ACTOR = Actor.system("tests")
ZONES = ("Europe/Moscow", "Asia/Vladivostok")
# Moments "now" can be: a month end, the eve of 1 March (already 1 March in Vladivostok), mid-November.
NOWS = (
    datetime(2026, 3, 31, 20, 30, tzinfo=UTC),
    datetime(2026, 2, 28, 14, 30, tzinfo=UTC),
    datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
)
# Times of day (UTC) next to midnight in Moscow, in Vladivostok and in UTC.
EDGE_TIMES = (
    time(20, 59, 59),
    time(21, 0),
    time(21, 0, 1),
    time(13, 59, 59),
    time(14, 0),
    time(23, 59, 59),
    time(0, 0),
)
CUSTOM_FIELDS = {
    "shoe_size": "integer",
    "score": "decimal",
    "vip": "boolean",
    "pet_name": "string",
    "anniversary": "date",
    "last_call": "datetime",
}
CATEGORIES = (  # code, parent
    ("food", None),
    ("dairy", "food"),
    ("cheese", "dairy"),
    ("bakery", "food"),
    ("home", None),
    ("kitchen", "home"),
)
PRODUCTS = {  # sku: category
    "MILK-1": "dairy",
    "BRIE-2": "cheese",
    "BREAD-3": "bakery",
    "FOOD-4": "food",
    "PAN-5": "kitchen",
    "HOME-6": "home",
    "LOOSE-7": None,
    "CAKE-8": "bakery",
}
UNKNOWN_SKU = "NOPE-9"
EVENT_NAMES = ("called_call_centre", "app_open", "Survey")
SECTIONS = ("promo_spring", "Promo_Spring", "faq")
NAMES = ("Ivan", "ivan", "IVAN", "Olga", "Ольга", "ольга", "Пётр", "Anna-Maria", "O'Brien", "100%", "a_b")
CITIES = ("Moscow", "moscow", "MOSCOW", "Kazan", "Москва", "Saint Petersburg", "St. Petersburg")
MONEY_POOL = ("100.00", "99.99", "100.01", "250.50", "0.01", "1000.00")


@dataclass
class DataSet:
    """What the rule generator needs to know: the moment, the zone and the real ids and codes."""

    now: datetime
    zone: str
    customer_ids: list[int] = field(default_factory=list)
    store_ids: list[int] = field(default_factory=list)
    category_ids: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    source_codes: dict[str, int] = field(default_factory=dict)
    container_codes: dict[str, int] = field(default_factory=dict)
    mailing_codes: dict[str, int] = field(default_factory=dict)
    audience_ids: list[int] = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)
    mailing_ids: list[int] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)
    contexts: list[tuple[str, Any]] = field(default_factory=list)
    promo_polls: PromoPolls = field(default_factory=PromoPolls)

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.zone)).date()


class Builder:
    def __init__(self, session: Session, rng: random.Random, now: datetime, zone: str) -> None:
        self.session = session
        self.rng = rng
        self.data = DataSet(now=now, zone=zone)

    # ---- random values

    def moment(self, before: int = 365, after: int = 365) -> datetime:
        """A UTC time within the span around now, often near now and near a midnight."""
        rng = self.rng
        near = rng.random() < 0.3
        offset = rng.randint(-3, 3) if near else rng.randint(-before, after)
        day = self.data.now.date() + timedelta(days=offset)
        if rng.random() < 0.6:
            at = rng.choice(EDGE_TIMES)
        else:
            at = time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        return datetime.combine(day, at, tzinfo=UTC)

    def day(self, before: int, after: int) -> date:
        return self.data.today + timedelta(days=self.rng.randint(-before, after))

    def maybe(self, value: Any, chance: float = 0.75) -> Any:
        return value if self.rng.random() < chance else None

    def money(self) -> Decimal:
        if self.rng.random() < 0.4:
            return Decimal(self.rng.choice(MONEY_POOL))
        return Decimal(self.rng.randint(1, 300_000)) / 100

    # ---- the data set

    def build(self) -> DataSet:
        settings_service.update(self.session, ACTOR, GeneralSettings, {"time_zone": self.data.zone})
        self.fields()
        self.catalogue()
        self.customers()
        self.push_tokens()
        self.subscriptions()
        self.receipts()
        self.events()
        self.web_events()
        self.containers()
        self.memberships()
        # Last: the ledger's random draws leave the data above as it was before it existed.
        self.data.mailing_ids = write_ledger(self.session, self.rng, self.data.customer_ids, self.moment)
        self.data.promo_polls = write_promo_polls(self.session, self.rng, self.data.customer_ids, self.moment)
        write_bonus_data(self.session, self.rng, self.data.customer_ids, self.data.today)
        write_orders(self.session, self.rng, self.data.customer_ids, self.moment)
        self.data.campaign_ids = write_campaigns(self.session, self.rng, self.data.customer_ids, self.moment)
        self.session.flush()
        return self.data

    def fields(self) -> None:
        for code, kind in CUSTOM_FIELDS.items():
            field_settings.create(
                self.session, ACTOR, FieldCreate(object="customer", code=code, name=code.title(), type=kind)
            )

    def catalogue(self) -> None:
        categories = [CategoryIn(code=code, name=code.title(), parent=parent) for code, parent in CATEGORIES]
        outcome = catalog_service.upsert_categories(self.session, ACTOR, categories)
        self.data.category_ids = {item.code: item.id for item in outcome.items}
        products = [
            ProductIn(sku=sku, name=sku.title(), category=category, price=Decimal("10.00"))
            for sku, category in PRODUCTS.items()
        ]
        made = catalog_service.upsert_products(self.session, ACTOR, products)
        self.data.product_ids = {item.sku: item.id for item in made.items}
        stores = [StoreIn(code=f"S{n}", name=f"Store {n}") for n in range(1, 4)]
        self.data.store_ids = [
            item.id for item in catalog_service.upsert_stores(self.session, ACTOR, stores).items
        ]

    def customers(self) -> None:
        count = self.rng.randint(30, 50)
        items = [self.customer(number) for number in range(count)]
        outcome = customer_service.upsert_batch(self.session, ACTOR, items)
        self.data.customer_ids = [item.id for item in outcome.items]

    def customer(self, number: int) -> CustomerIn:
        rng = self.rng
        return CustomerIn(
            external_id=f"C{number:03d}",
            first_name=self.maybe(rng.choice(NAMES)),
            last_name=self.maybe(rng.choice(NAMES)),
            middle_name=self.maybe(rng.choice(NAMES), 0.3),
            gender=self.maybe(rng.choice("mf")),
            birth_date=self.birth_date(),
            country=self.maybe(rng.choice(("Russia", "russia", "Kazakhstan"))),
            region=self.maybe(rng.choice(("Moscow region", "Primorye", "Tatarstan"))),
            city=self.maybe(rng.choice(CITIES)),
            # Few on purpose: checking a zone name scans the zone database.
            time_zone=rng.choice(ZONES) if number in (1, 2) else None,
            registered_at=self.maybe(self.moment(700, 10), 0.85),
            card_number=self.maybe(f"77{rng.randint(0, 99):02d}{number:04d}"),
            card_status=self.maybe(rng.choice(("active", "Active", "blocked"))),
            email=self.maybe(
                rng.choice((f"user{number}@Example.com", f"bad-address-{number}", f"u{number}@shop.ru"))
            ),
            phone=self.maybe(
                rng.choice(
                    (
                        f"+7 912 345-{number // 100:02d}-{number % 100:02d}",
                        f"8 495 123-45-{number % 100:02d}",
                        "12345",
                    )
                )
            ),
            permissions=ChannelPermissions(
                email=self.maybe(rng.random() < 0.7),
                sms=self.maybe(rng.random() < 0.7),
                viber=self.maybe(rng.random() < 0.5),
                push=self.maybe(rng.random() < 0.5),
            ),
            custom={code: value for code, value in self.custom_values().items() if value is not None},
        )

    def birth_date(self) -> date | None:
        rng = self.rng
        choice = rng.random()
        if choice < 0.15:
            return None
        if choice < 0.3:
            return date(rng.choice((1988, 1996, 2000, 2004)), 2, 29)
        if choice < 0.5:
            around = self.data.today + timedelta(days=rng.randint(-2, 2))
            year = rng.randint(1960, 2008)
            return (
                around.replace(year=year)
                if not (around.month == 2 and around.day == 29)
                else date(2000, 2, 29)
            )
        return date(rng.randint(1950, 2010), rng.randint(1, 12), rng.randint(1, 28))

    def custom_values(self) -> dict[str, Any]:
        rng = self.rng
        # Stored as ISO text: fractions of a second must not upset the comparison with a day's bounds.
        when = self.moment(200, 200).replace(microsecond=rng.choice((0, 0, 1, 500_000)))
        return {
            "shoe_size": self.maybe(rng.randint(-2, 46), 0.6),
            "score": self.maybe(rng.choice(("12.5", "12.50", "0.1", "-3.25", "1000", "7")), 0.6),
            "vip": self.maybe(rng.random() < 0.5, 0.6),
            "pet_name": self.maybe(rng.choice(("Rex", "rex", "Барсик", "Tom_cat")), 0.6),
            "anniversary": self.maybe(self.day(400, 400).isoformat(), 0.6),
            "last_call": self.maybe(
                rng.choice((when.isoformat(), when.astimezone(ZoneInfo("Europe/Moscow")).isoformat())), 0.6
            ),
        }

    def push_tokens(self) -> None:
        for customer_id in self.data.customer_ids:
            if self.rng.random() < 0.3:
                token = f"token-{customer_id}-{self.rng.randint(0, 10**6)}"
                self.session.add(PushToken(customer_id=customer_id, token=token, platform="android"))
                self.session.flush()
                if self.rng.random() < 0.4:  # the provider rejected it
                    customer_service.invalidate_push_token(self.session, token)

    def subscriptions(self) -> None:
        for code in ("promotions", "news"):
            made = mailing_category_service.create(
                self.session, ACTOR, MailingCategoryCreate(code=code, name=code.title())
            )
            self.data.mailing_codes[code] = made.id
        for customer_id in self.data.customer_ids:
            for category_id in self.data.mailing_codes.values():
                for channel in ("email", "sms", "viber", "push"):
                    if self.rng.random() < 0.4:
                        self.session.add(
                            Subscription(
                                customer_id=customer_id,
                                category_id=category_id,
                                channel=channel,
                                subscribed=self.rng.random() < 0.7,
                            )
                        )
        self.session.flush()

    def receipts(self) -> None:
        receipts = [
            self.receipt(customer_id, f"R{number}-{index}")
            for number, customer_id in enumerate(self.data.customer_ids)
            for index in range(self.rng.choice((0, 0, 1, 2, 3, 5)))
        ]
        if not receipts:
            return
        receipt_service.write(self.session, ACTOR, receipts)
        # Receipts sent again replace the stored ones: returns, cancellations, corrected totals.
        again = [
            r.model_copy(
                update={"status": self.rng.choice(("paid", "returned", "cancelled")), "total": self.money()}
            )
            for r in receipts
            if self.rng.random() < 0.1
        ]
        if again:
            receipt_service.write(self.session, ACTOR, again)
        # A product moved to another category keeps its earlier lines in the category of their day.
        moved = ProductIn(sku="BREAD-3", name="Bread", category=self.rng.choice(("kitchen", "cheese")))
        catalog_service.upsert_products(self.session, ACTOR, [moved])

    def receipt(self, customer_id: int, number: str) -> ReceiptIn:
        rng = self.rng
        skus = [*PRODUCTS, UNKNOWN_SKU]
        lines = [
            {"sku": rng.choice(skus), "price": str(self.money()), "quantity": rng.choice(("1", "2", "0.5"))}
            for _ in range(rng.randint(1, 3))
        ]
        status = rng.choices(("paid", "returned", "cancelled"), weights=(8, 1, 1))[0]
        total = str(self.money()) if rng.random() < 0.4 else None
        return ReceiptIn.model_validate(
            {
                "number": number,
                "store": rng.choice(("S1", "S2", "S3")),
                "customer_id": customer_id,
                "purchased_at": self.moment().isoformat(),
                "status": status,
                "total": total,
                "lines": lines,
            }
        )

    def events(self) -> None:
        rng = self.rng
        items: list[EventIn] = []
        for customer_id in [*self.data.customer_ids, None, None, None]:
            for _ in range(rng.choice((0, 1, 2, 4))):
                context = self.event_context()
                self.data.contexts.extend(context.items())
                items.append(
                    EventIn(
                        name=rng.choice(EVENT_NAMES),
                        customer_id=customer_id,
                        occurred_at=self.moment(),
                        context=context,
                    )
                )
        if items:
            event_service.record(self.session, ACTOR, items)

    def event_context(self) -> dict[str, Any]:
        rng = self.rng
        context: dict[str, Any] = {}
        if rng.random() < 0.7:
            context["topic"] = rng.choice(("Delivery", "delivery", "Returns", "Доставка"))
        if rng.random() < 0.5:
            context["score"] = rng.randint(1, 5)
        if rng.random() < 0.2:
            context["operator"] = rng.choice(("Anna", "BOB"))
        if rng.random() < 0.3:
            context["first_time"] = rng.random() < 0.5
        if rng.random() < 0.1:
            context["cart"] = {"items": rng.randint(1, 3)}
        return context

    def web_events(self) -> None:
        made = event_source_service.create(self.session, ACTOR, EventSourceCreate(code="app", name="App"))
        system = self.session.scalars(select(EventSource).where(EventSource.is_system)).one()
        self.data.source_codes = {system.code: system.id, made.code: made.id}
        items = [item for customer_id in self.data.customer_ids for item in self.behaviour(customer_id)]
        items.extend(self.anonymous_then_login())
        items.sort(key=lambda item: item.occurred_at or self.data.now)
        if items:
            web_event_service.record(self.session, ACTOR, items)

    def behaviour(self, customer_id: int) -> list[WebEventIn]:
        return [self.web_event(customer_id=customer_id) for _ in range(self.rng.choice((0, 0, 1, 3, 5)))]

    def web_event(self, **who: Any) -> WebEventIn:
        rng = self.rng
        kind = rng.choice(("visit", "visit", "product_view", "category_view", "section_view", "login"))
        extra: dict[str, Any] = {
            "product_view": {"sku": rng.choice(list(PRODUCTS))},
            "category_view": {"category": rng.choice([code for code, _ in CATEGORIES])},
            "section_view": {"section": rng.choice(SECTIONS)},
        }.get(kind, {})
        return WebEventIn.model_validate(
            {
                "kind": kind,
                "occurred_at": self.moment().isoformat(),
                "source": rng.choice(list(self.data.source_codes)),
                **who,
                **extra,
            }
        )

    def anonymous_then_login(self) -> list[WebEventIn]:
        """Visitors browse anonymously, then log in: their recent behaviour joins the customer."""
        items: list[WebEventIn] = []
        for number in range(self.rng.randint(0, 3)):
            visitor = f"visitor-{number}"
            items.extend(self.web_event(visitor_id=visitor) for _ in range(2))
            login = self.moment()
            items.append(
                WebEventIn(
                    kind="login",
                    visitor_id=visitor,
                    customer_id=self.rng.choice(self.data.customer_ids),
                    occurred_at=login,
                )
            )
        return items

    def containers(self) -> None:
        made = container_settings.create(
            self.session, ACTOR, ContainerCreate(code="gifts", name="Gift ideas")
        )
        cart = self.session.scalars(select(Container).where(Container.code == "cart")).one()
        self.data.container_codes = {"cart": cart.id, "gifts": made.id}
        for customer_id in self.data.customer_ids:
            for _ in range(self.rng.choice((0, 0, 0, 1, 2))):
                self.container_change(customer_id, self.rng.choice(list(self.data.container_codes.values())))

    def container_change(self, customer_id: int, container_id: int) -> None:
        rng = self.rng
        action = rng.choices(("add", "add", "remove", "clear", "set"), weights=(4, 2, 1, 1, 1))[0]
        products = rng.sample(list(self.data.product_ids.values()), rng.randint(1, 2))
        changes = [ItemChange(product_id=product) for product in products]
        container_contents.apply(self.session, customer_id, container_id, action, changes, self.moment(60, 5))

    def memberships(self) -> None:
        rng = self.rng
        ids = self.data.customer_ids
        audience = Audience(name="Loyal", member_count=0)
        old = Segment(name="Earlier", rules={"version": 1, "root": {"children": []}})
        calculation = RfmCalculation(trigger="manual", status="done", period_days=365)
        self.session.add_all([audience, old, calculation])
        self.session.flush()
        for customer_id in ids:
            if rng.random() < 0.3:
                self.session.add(AudienceMember(audience_id=audience.id, customer_id=customer_id))
            if rng.random() < 0.5:
                left = self.data.now - timedelta(days=3) if rng.random() < 0.4 else None
                self.session.add(
                    SegmentMembership(segment_id=old.id, customer_id=customer_id, exited_at=left)
                )
            if rng.random() < 0.6:
                self.session.add(self.rfm(customer_id, calculation.id))
        self.data.audience_ids = [audience.id]
        self.data.segment_ids = [old.id]

    def rfm(self, customer_id: int, calculation_id: int) -> CustomerRfm:
        rng = self.rng
        return CustomerRfm(
            customer_id=customer_id,
            calculation_id=calculation_id,
            r=rng.randint(1, 5),
            f=rng.randint(1, 5),
            m=rng.randint(1, 5),
            recency_days=rng.randint(0, 365),
            frequency=rng.randint(1, 20),
            monetary=self.money(),
        )


def build_dataset(session: Session, rng: random.Random, now: datetime, zone: str) -> DataSet:
    """Write a random data set (inside the caller's transaction) and describe it."""
    return Builder(session, rng, now, zone).build()
