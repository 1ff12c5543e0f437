"""Everything a customer does besides buying: app opens, calls, bonus redemptions, reviews, site visits
with their sessions, carts and wishlists, push devices and mailing subscriptions."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smartcomm.demo.people import Shopper, Weighted
from smartcomm.demo.shop import Row, ShopProduct

EVENT_COLUMNS = (
    "id",
    "customer_id",
    "name",
    "occurred_at",
    "source_id",
    "context",
    "message_id",
    "received_at",
)
PUSH_TOKEN_COLUMNS = (
    "id",
    "customer_id",
    "token",
    "platform",
    "app",
    "device_id",
    "is_valid",
    "created_at",
    "updated_at",
)
VISITOR_COLUMNS = ("id", "customer_id", "first_seen_at", "last_seen_at", "identified_at")
SESSION_COLUMNS = (
    "id",
    "key",
    "visitor_id",
    "customer_id",
    "source_id",
    "started_at",
    "last_event_at",
    "event_count",
)
WEB_EVENT_COLUMNS = (
    "id",
    "kind",
    "occurred_at",
    "visitor_id",
    "customer_id",
    "session_id",
    "source_id",
    "product_id",
    "category_id",
    "section",
    "container_code",
    "container_action",
    "quantity",
    "url",
    "snapshot",
    "context",
    "message_id",
)
CONTAINER_STATE_COLUMNS = ("customer_id", "container_id", "changed_at", "item_count")
CONTAINER_ITEM_COLUMNS = ("customer_id", "container_id", "product_id", "quantity", "price", "added_at")
SUBSCRIPTION_COLUMNS = ("customer_id", "category_id", "channel", "subscribed", "updated_at")

DAY = 86400
SITE = "https://shop.example.ru"
APP_ID = "ru.example.shop"
CALL_TOPICS = (
    "Баланс бонусов",
    "Замена карты",
    "Возврат товара",
    "Жалоба на обслуживание",
    "Вопрос по акции",
    "Изменение контактов",
)
REFERRERS = ("yandex", "google", "email", "vk", "direct", "sms")
# (channel, category code, share of eligible customers in the category, share of them subscribed)
SUBSCRIPTION_PLAN = (
    ("email", "news", 0.7, 0.9),
    ("email", "promotions", 0.8, 0.9),
    ("email", "personal_offers", 0.5, 0.9),
    ("sms", "promotions", 0.6, 0.85),
    ("sms", "personal_offers", 0.4, 0.85),
    ("viber", "promotions", 0.3, 0.85),
    ("push", "news", 0.6, 0.92),
    ("push", "promotions", 0.6, 0.92),
    ("push", "personal_offers", 0.6, 0.92),
)


@dataclass(frozen=True)
class Products:
    """What behaviour needs to know of the catalogue: popular products per department and their snapshots."""

    popular: Sequence[Weighted]  # of ShopProduct, per department
    snapshots: dict[int, str]  # product id -> JSON snapshot
    category_snapshots: dict[int, tuple[str, str]]  # category id -> (code, JSON snapshot)


@dataclass
class Ids:
    """Next free id per table with generated ids, local to the block of customers being made (the
    writer adds the ids of the blocks before it)."""

    events: int = 0
    push_tokens: int = 0
    web_sessions: int = 0
    web_events: int = 0


class Behaviour:
    def __init__(
        self,
        rng: random.Random,
        now: int,
        stamp: Callable[[int], Any],
        catalogue: Products,
        source_id: int,
        containers: dict[str, int],
        categories: dict[str, int],
        departments: Weighted,
    ) -> None:
        self.rng = rng
        self.now = now
        self.stamp = stamp
        self.catalogue = catalogue
        self.source_id = source_id
        self.containers = containers
        self.categories = categories
        self.departments = departments
        self.ids = Ids()
        self.app_contexts = [
            json.dumps({"platform": p, "app_version": v})
            for p in ("android", "ios")
            for v in ("5.12.0", "5.13.1", "6.0.2")
        ]
        self.referrers = [json.dumps({"utm_source": r}) for r in REFERRERS]
        self.ratings = Weighted({5: 50, 4: 30, 3: 10, 2: 5, 1: 5})

    def of(self, shopper: Shopper, rows: dict[str, list[Row]]) -> None:
        """Append this customer's behaviour to the batches, table by table."""
        self._events(shopper, rows["events"])
        if shopper.app_user:
            self._push_tokens(shopper, rows["push_tokens"])
        if shopper.web_user:
            self._site(shopper, rows)
            self._containers(shopper, rows["container_states"], rows["container_items"])
        self._subscriptions(shopper, rows["subscriptions"])

    def _moment(self, since: int, days: int) -> int:
        """A random second in the last `days` days, not before `since`."""
        low = max(since, self.now - days * DAY)
        return self.now - 1 if low >= self.now else low + int(self.rng.random() * (self.now - low))

    def _event(
        self,
        rows: list[Row],
        shopper: Shopper,
        name: str,
        seconds: int,
        context: str,
        source: int | None = None,
    ) -> None:
        stamp = self.stamp(seconds)
        rows.append((self.ids.events, shopper.id, name, stamp, source, context, None, stamp))
        self.ids.events += 1

    def _events(self, shopper: Shopper, rows: list[Row]) -> None:
        rng = self.rng
        if shopper.app_user:
            for _ in range(min(int(rng.expovariate(1 / 6)), 40)):
                moment = self._moment(shopper.registered, 120)
                self._event(rows, shopper, "app_open", moment, rng.choice(self.app_contexts), self.source_id)
        if rng.random() < 0.05:
            for _ in range(rng.randint(1, 2)):
                context = json.dumps({"topic": rng.choice(CALL_TOPICS), "resolved": rng.random() < 0.85})
                self._event(
                    rows, shopper, "call_center_contact", self._moment(shopper.registered, 730), context
                )
        for seconds, number, spent in shopper.redemptions:
            context = json.dumps({"receipt": number, "amount": f"{spent // 100}.{spent % 100:02d}"})
            self._event(rows, shopper, "bonus_redeemed", seconds, context)
        if shopper.paid_count and rng.random() < 0.03:
            moment = shopper.paid_last + rng.randint(1, 7) * DAY
            if moment < self.now:
                product = self._product(shopper)
                context = json.dumps({"sku": product.sku, "rating": self.ratings.pick(rng)})
                self._event(rows, shopper, "product_review", moment, context, self.source_id)

    def _product(self, shopper: Shopper) -> ShopProduct:
        rng = self.rng
        department = shopper.favourite if rng.random() < 0.6 else self.departments.pick(rng)
        product: ShopProduct = self.catalogue.popular[department].pick(rng)
        return product

    def _push_tokens(self, shopper: Shopper, rows: list[Row]) -> None:
        rng = self.rng
        for _ in range(2 if rng.random() < 0.1 else 1):
            platform = "android" if rng.random() < 0.68 else "ios"
            created = self.stamp(self._moment(shopper.registered, 400))
            token = f"{rng.getrandbits(256):064x}"
            device = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            rows.append(
                (
                    self.ids.push_tokens,
                    shopper.id,
                    token,
                    platform,
                    APP_ID,
                    device,
                    rng.random() < 0.95,
                    created,
                    created,
                )
            )
            self.ids.push_tokens += 1

    def _site(self, shopper: Shopper, rows: dict[str, list[Row]]) -> None:
        rng = self.rng
        for _ in range(2 if rng.random() < 0.15 else 1):
            visitor = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            spans = [self._session(shopper, visitor, rows) for _ in range(rng.randint(1, 6))]
            first, last = min(s[0] for s in spans), max(s[1] for s in spans)
            rows["visitors"].append(
                (visitor, shopper.id, self.stamp(first), self.stamp(last), self.stamp(first))
            )

    def _session(self, shopper: Shopper, visitor: str, rows: dict[str, list[Row]]) -> tuple[int, int]:
        rng = self.rng
        session_id = self.ids.web_sessions
        self.ids.web_sessions += 1
        events = rows["web_events"]
        before = len(events)
        start = moment = self._moment(shopper.registered, 180)
        self._web_event(
            events, "visit", moment, visitor, shopper, session_id, None, rng.choice(self.referrers)
        )
        if rng.random() < 0.3:
            moment += _between(rng, 5, 60)
            self._web_event(events, "login", moment, visitor, shopper, session_id, None)
        for _ in range(_between(rng, 1, 5)):
            moment += _between(rng, 15, 240)
            roll = rng.random()
            kind = "category_view" if roll < 0.25 else "product_view" if roll < 0.82 else "container_change"
            self._web_event(events, kind, moment, visitor, shopper, session_id, self._product(shopper))
        if rng.random() < 0.08:
            moment += _between(rng, 30, 300)
            self._web_event(events, "order_complete", moment, visitor, shopper, session_id, None)
        key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        rows["web_sessions"].append(
            (
                session_id,
                key,
                visitor,
                shopper.id,
                self.source_id,
                self.stamp(start),
                self.stamp(moment),
                len(events) - before,
            )
        )
        return start, moment

    def _web_event(
        self,
        rows: list[Row],
        kind: str,
        seconds: int,
        visitor: str,
        shopper: Shopper,
        session_id: int,
        product: ShopProduct | None,
        context: str = "{}",
    ) -> None:
        product_id = category_id = container = action = quantity = None
        url, snapshot = f"{SITE}/", "{}"
        if product is not None and kind == "category_view":
            category_id = product.category_id
            code, snapshot = self.catalogue.category_snapshots[category_id]
            url = f"{SITE}/catalog/{code}"
        elif product is not None:
            product_id, category_id = product.id, product.category_id
            snapshot, url = self.catalogue.snapshots[product.id], f"{SITE}/product/{product.sku}"
            if kind == "container_change":
                container, action, quantity = "cart", "add", 1.0
        rows.append(
            (
                self.ids.web_events,
                kind,
                self.stamp(seconds),
                visitor,
                shopper.id,
                session_id,
                self.source_id,
                product_id,
                category_id,
                None,
                container,
                action,
                quantity,
                url,
                snapshot,
                context,
                None,
            )
        )
        self.ids.web_events += 1

    def _containers(self, shopper: Shopper, states: list[Row], items: list[Row]) -> None:
        rng = self.rng
        for code, share, most, days in (
            ("cart", 0.28, 4, 30),
            ("wishlist", 0.15, 6, 180),
            ("favourites", 0.1, 5, 365),
        ):
            if rng.random() >= share:
                continue
            chosen = {
                product.id: product
                for product in (self._product(shopper) for _ in range(rng.randint(1, most)))
            }
            added = [self._moment(shopper.registered, days) for _ in chosen]
            container = self.containers[code]
            for moment, product in zip(added, chosen.values(), strict=True):
                items.append((shopper.id, container, product.id, 1000, product.price, self.stamp(moment)))
            states.append((shopper.id, container, self.stamp(max(added)), len(chosen)))

    def _subscriptions(self, shopper: Shopper, rows: list[Row]) -> None:
        rng = self.rng
        eligible = {
            "email": shopper.email_ok,
            "sms": shopper.mobile,
            "viber": shopper.mobile,
            "push": shopper.app_user,
        }
        for channel, category, share, subscribed in SUBSCRIPTION_PLAN:
            if eligible[channel] and rng.random() < share:
                changed = self.stamp(self._moment(shopper.registered, 1095))
                rows.append(
                    (shopper.id, self.categories[category], channel, rng.random() < subscribed, changed)
                )


def _between(rng: random.Random, low: int, high: int) -> int:
    """randint's result range, at a fraction of its cost (it sits in the innermost loops)."""
    return low + int(rng.random() * (high - low + 1))
