"""The bonus data the demo's loyalty system sends: every card holder's balance, and for a few hundred of them
the bonuses about to expire.

The balance is what the receipts say: the bonuses earned on the paid receipts of the last year less those
spent (older ones expired), never below zero, written for the whole base in one statement as the nightly
export of the loyalty system would bring it (sent at 03:00 of the project's day). About three customers in
a hundred with a balance of 300 or more have one or two portions expiring in the next two months; a third
of those portions expire within a week, so the "bonus expected expiration" trigger and the profile's
orange and red days have something to show.

The address of the loyalty system (Settings → General) is left empty: accrual requests made by campaigns
wait until one is configured (see docs/loyalty.md).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.demo.commerce_repository import CommerceRepository
from smartcomm.loyalty.repository import LoyaltyRepository

EXPIRING_SHARE = 0.03  # of the customers with a balance of at least MINIMUM
MINIMUM = Decimal("300")
WITHIN_WEEK = 0.35  # of the portions


def add_bonuses(session: Session, today: date, seed: int) -> tuple[int, int]:
    """Write the balances and the expiring portions; returns (balances, portions)."""
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    repository = CommerceRepository(session)
    balances = repository.write_balances(midnight, midnight)
    rng = random.Random(f"{seed}:bonuses")  # noqa: S311 (demo data, not secrets)
    portions = _portions(repository.balances_at_least(MINIMUM), today, rng)
    rows = [{"customer_id": id_, "amount": amount, "expires_on": day} for id_, amount, day in portions]
    LoyaltyRepository(session).replace_portions(sorted({id_ for id_, _, _ in portions}), rows)
    return balances, len(rows)


def _portions(
    candidates: list[tuple[int, Decimal]], today: date, rng: random.Random
) -> list[tuple[int, Decimal, date]]:
    """(customer id, amount, expiry day): one or two portions of the balance of a few customers."""
    chosen = [pair for pair in candidates if rng.random() < EXPIRING_SHARE]
    found: list[tuple[int, Decimal, date]] = []
    for customer_id, balance in chosen:
        left = balance
        for _ in range(2 if rng.random() < 0.25 else 1):
            amount = (left * Decimal(rng.uniform(0.2, 0.6))).quantize(Decimal("1"))
            if amount <= 0:
                break
            found.append((customer_id, amount, _day(today, rng)))
            left -= amount
    return found


def _day(today: date, rng: random.Random) -> date:
    """Within a week for a third of the portions (the last day included), else in the next two months."""
    if rng.random() < WITHIN_WEEK:
        return today + timedelta(days=rng.randint(0, 7))
    return today + timedelta(days=rng.randint(8, 60))
