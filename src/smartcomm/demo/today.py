"""What the demo base did today, up to the moment the demo is made: the customers' behaviour is generated
up to midnight, so the last hours before the product starts are told here.

- Carts abandoned now: a few site visitors came back a few hours ago, put a product into their cart
  again and left (a visit, a product view and a cart change, in a session of their own). Their carts
  are abandoned once the inactivity time has passed, so the profile shows them and the "Abandoned
  cart" campaign's next look enters them.
- Views without a cart: a few others looked at products a few hours ago and put nothing into the cart
  (what the "lost view" triggers look for).
- Birthdays today: at least a few customers with an e-mail address have their birthday today (in the
  project's time zone), so the birthday campaign's look of the day greets someone.

The same seed chooses the same customers; the moments follow the present.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.demo.behaviour import SITE
from smartcomm.demo.campaign_repository import CampaignDemoRepository
from smartcomm.demo.repository import DemoRepository
from smartcomm.demo.site_repository import SiteDemoRepository

SEED = "smartcomm-demo-today"
CARTS = (3, 25, 400)  # at least, at most, one per this many customers
VIEWERS = (3, 15, 600)
BIRTHDAYS = 5  # at least this many customers with an e-mail address have their birthday today
QUIET_HOURS = 10  # the chosen customers bought nothing for this long


@dataclass(frozen=True)
class Today:
    carts: list[int]  # the customers whose carts were abandoned a few hours ago
    viewers: list[int]
    birthdays: list[int]


def add_today(session: Session, now: datetime, today: date) -> Today:
    """Tell the last hours: carts abandoned a few hours ago, views without a cart, birthdays today."""
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    site = _Site(session, now, rng)
    customers = DemoRepository(session).customer_count()
    carts = site.abandon(_how_many(customers, CARTS))
    viewers = site.view(_how_many(customers, VIEWERS))
    return Today(carts, viewers, _birthdays(session, today, rng))


def _how_many(customers: int, plan: tuple[int, int, int]) -> int:
    least, most, per = plan
    return max(least, min(most, customers // per))


class _Site:
    def __init__(self, session: Session, now: datetime, rng: random.Random) -> None:
        self.repository = SiteDemoRepository(session)
        self.demo = DemoRepository(session)
        self.now, self.rng = now, rng
        self.cart_id = self.demo.container_ids()["cart"]
        self.source_id = self.demo.system_source_id()

    def abandon(self, count: int) -> list[int]:
        """Customers who put a product into their cart again 1.5 to 6.5 hours ago and left."""
        found = self.repository.shoppers_with_cart(self.cart_id, self.now - timedelta(hours=QUIET_HOURS))
        chosen = sorted(self.rng.sample(found, min(count, len(found))))
        newest = self.repository.newest_item([customer for customer, _ in chosen], self.cart_id)
        products = self.repository.products(sorted(set(newest.values())))
        for customer_id, visitor in chosen:
            product = newest.get(customer_id)
            if product is None:
                continue
            added = self.now - timedelta(minutes=self.rng.randint(90, 390))
            self.repository.touch_cart(customer_id, self.cart_id, product, added)
            kinds = [("visit", None), ("product_view", product), ("container_change", product)]
            self._session(customer_id, visitor, added, kinds, products)
        return [customer for customer, _ in chosen]

    def view(self, count: int) -> list[int]:
        """Customers with an empty cart who looked at a product or two 1 to 5 hours ago."""
        found = self.repository.shoppers_without_cart(self.cart_id, self.now - timedelta(hours=QUIET_HOURS))
        chosen = sorted(self.rng.sample(found, min(count, len(found))))
        catalogue = self.repository.product_ids()
        if not catalogue:
            return []
        picks = {customer: self.rng.sample(catalogue, min(2, len(catalogue))) for customer, _ in chosen}
        products = self.repository.products(sorted({p for pair in picks.values() for p in pair}))
        for customer_id, visitor in chosen:
            viewed = picks[customer_id][: self.rng.randint(1, 2)]
            last = self.now - timedelta(minutes=self.rng.randint(60, 300))
            kinds: list[tuple[str, int | None]] = [("visit", None), *(("product_view", p) for p in viewed)]
            self._session(customer_id, visitor, last, kinds, products)
        return [customer for customer, _ in chosen]

    def _session(
        self,
        customer_id: int,
        visitor: str,
        last: datetime,
        kinds: list[tuple[str, int | None]],
        products: dict[int, tuple[str, str, Any, int | None]],
    ) -> None:
        moments = [last - timedelta(minutes=2 * (len(kinds) - 1 - i)) for i in range(len(kinds))]
        events = [
            self._event(kind, at, visitor, customer_id, product, products)
            for (kind, product), at in zip(kinds, moments, strict=True)
        ]
        row = {
            "key": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "visitor_id": visitor,
            "customer_id": customer_id,
            "source_id": self.source_id,
            "started_at": moments[0],
            "last_event_at": moments[-1],
            "event_count": len(events),
        }
        self.repository.add_session(row, events)

    def _event(
        self,
        kind: str,
        at: datetime,
        visitor: str,
        customer_id: int,
        product_id: int | None,
        products: dict[int, tuple[str, str, Any, int | None]],
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "kind": kind,
            "occurred_at": at,
            "visitor_id": visitor,
            "customer_id": customer_id,
            "source_id": self.source_id,
            "url": f"{SITE}/",
            "snapshot": {},
            "context": {},
        }
        if product_id is not None and product_id in products:
            sku, name, price, category_id = products[product_id]
            event |= {
                "product_id": product_id,
                "category_id": category_id,
                "url": f"{SITE}/product/{sku}",
                "snapshot": {"sku": sku, "name": name, "price": str(price)},
            }
            if kind == "container_change":
                event |= {"container_code": "cart", "container_action": "add", "quantity": 1.0}
        return event


def _birthdays(session: Session, today: date, rng: random.Random) -> list[int]:
    """The customers with an e-mail address whose birthday is today: the ones there are, and birth dates
    moved to today for a few more when there are fewer than BIRTHDAYS."""
    repository = CampaignDemoRepository(session)
    people = repository.reachable_birth_dates()
    born_today = [id_ for id_, born in people if born is not None and _same_day(born, today)]
    others = [(id_, born) for id_, born in people if born is not None and not _same_day(born, today)]
    missing = max(0, BIRTHDAYS - len(born_today))
    moved = sorted(rng.sample(others, min(missing, len(others))))
    repository.set_birth_dates([(id_, _on_day(born, today)) for id_, born in moved])
    return sorted(born_today + [id_ for id_, _ in moved])


def _same_day(born: date, today: date) -> bool:
    return (born.month, born.day) == (today.month, today.day)


def _on_day(born: date, today: date) -> date:
    """The birth date moved to today's day and month (a leap year's 29 February keeps a leap year)."""
    year = born.year
    while True:
        try:
            return date(year, today.month, today.day)
        except ValueError:
            year -= 1
