"""Bonus data and points for tests: loyalty accounts and expiring portions written straight into the
tables (random ones for the segment data sets, around their "today")."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import BonusExpiration, LoyaltyAccount

AMOUNTS = ("100.00", "99.99", "100.01", "250.50", "0.01", "500.00")


def give_bonuses(
    session: Session,
    customer_id: int,
    balance: Decimal | str | None = None,
    portions: Sequence[tuple[Decimal | str, date]] = (),
    points: int = 0,
) -> None:
    """A loyalty account (when there is anything to keep in it) and the expiring portions."""
    if balance is not None or points or portions:
        balance_value = None if balance is None else Decimal(balance)
        account = LoyaltyAccount(
            customer_id=customer_id,
            bonus_balance=balance_value,
            bonus_updated_at=utcnow(),
            points_balance=points,
        )
        session.add(account)
    for amount, day in portions:
        session.add(BonusExpiration(customer_id=customer_id, amount=Decimal(amount), expires_on=day))
    session.flush()


def write_bonus_data(session: Session, rng: random.Random, customer_ids: Sequence[int], today: date) -> None:
    """About two customers in three get an account (a balance, sometimes none, and points, sometimes
    negative) and up to three portions expiring from a week ago to 40 days ahead, on shared days."""
    for customer_id in customer_ids:
        if rng.random() < 0.35:
            continue
        balance = rng.choice((None, *AMOUNTS, str(rng.randint(0, 99_999) / 100)))
        points = rng.choice((0, 0, 10, 50, -20, rng.randint(1, 500)))
        portions = [
            (rng.choice(AMOUNTS), today + timedelta(days=rng.choice((-7, -1, 0, 1, 3, 7, 8, 30, 40))))
            for _ in range(rng.randint(0, 3))
        ]
        give_bonuses(session, customer_id, balance, portions, points)
