"""Bonus data arriving as customer data (API upserts and batches, the customers import): the balance and
the expiring portions are stored, and `bonus.changed` names the customers whose data changed.

Every customer the data name gets `bonus_updated_at` (when the loyalty system last sent them), changed
or not; portions are replaced as a whole, and only rewritten for customers whose portions differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.outbox import publish
from smartcomm.loyalty.repository import LoyaltyRepository, Portions
from smartcomm.loyalty.schemas import BonusUpdate, ExpiringBonusIn

BONUS_CHANGED = "bonus.changed"


def bonus_update(
    fields_sent: set[str], balance: Decimal | None, expiring: list[ExpiringBonusIn] | None
) -> BonusUpdate:
    """The bonus part of a customer sent through the API (`bonus_balance`, `expiring_bonuses`)."""
    portions = None
    if "expiring_bonuses" in fields_sent:
        portions = tuple((item.amount, item.expires_on) for item in expiring or [])
    return BonusUpdate("bonus_balance" in fields_sent, balance, portions)


def merged_bonus(earlier: BonusUpdate | None, later: BonusUpdate) -> BonusUpdate:
    """Two updates of one customer in one batch, applied in order: what the later sent wins."""
    if earlier is None:
        return later
    balance_sent = earlier.balance_sent or later.balance_sent
    balance = later.balance if later.balance_sent else earlier.balance
    expiring = later.expiring if later.expiring is not None else earlier.expiring
    return BonusUpdate(balance_sent, balance, expiring)


Changes = dict[int, dict[str, list[Any]]]


def apply_bonus_data(session: Session, updates: Mapping[int, BonusUpdate], now: datetime) -> Changes:
    """Store what was sent for these customers (by id); returns, for each customer whose bonus data
    changed, what changed ({"bonus_balance": [before, after], "expiring_bonuses": [before, after]}, for
    the action history); one `bonus.changed` event names them."""
    sent = {customer_id: update for customer_id, update in updates.items() if not update.is_empty}
    if not sent:
        return {}
    repository = LoyaltyRepository(session)
    ids = sorted(sent)
    balances, portions = repository.bonus_balances(ids), repository.portions(ids)
    changes: Changes = {}
    for id_ in ids:
        found = _changes(sent[id_], balances.get(id_), portions.get(id_, []))
        if found:
            changes[id_] = found
    _save_balances(repository, sent, now)
    replaced = [id_ for id_, found in changes.items() if "expiring_bonuses" in found]
    repository.replace_portions(replaced, [row for id_ in replaced for row in _portion_rows(id_, sent[id_])])
    _publish(session, sorted(changes))
    return changes


def _changes(update: BonusUpdate, balance: Decimal | None, stored: Portions) -> dict[str, list[Any]]:
    """What the update changes for one customer, as text for the history (amounts as decimal strings)."""
    found: dict[str, list[Any]] = {}
    if update.balance_sent and balance != update.balance:
        found["bonus_balance"] = [_text(balance), _text(update.balance)]
    if update.expiring is not None:
        given = sorted((day, amount) for amount, day in update.expiring)
        if given != stored:
            found["expiring_bonuses"] = [_portions_text(stored), _portions_text(given)]
    return found


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _portions_text(portions: Portions) -> list[str]:
    return [f"{amount:.2f} {day.isoformat()}" for day, amount in portions]


def _save_balances(repository: LoyaltyRepository, sent: Mapping[int, BonusUpdate], now: datetime) -> None:
    with_balance = [
        {"customer_id": id_, "bonus_balance": update.balance, "bonus_updated_at": now}
        for id_, update in sent.items()
        if update.balance_sent
    ]
    without = [
        {"customer_id": id_, "bonus_updated_at": now}
        for id_, update in sent.items()
        if not update.balance_sent
    ]
    repository.save_balances(with_balance, with_balance=True)
    repository.save_balances(without, with_balance=False)


def _portion_rows(customer_id: int, update: BonusUpdate) -> list[dict[str, Any]]:
    return [
        {"customer_id": customer_id, "amount": amount, "expires_on": day}
        for amount, day in update.expiring or ()
    ]


def _publish(session: Session, changed: list[int]) -> None:
    if changed:  # one event for the batch, whatever its size
        publish(session, BONUS_CHANGED, customer_ids=changed)
