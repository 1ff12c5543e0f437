"""The demo's orders and bonus data: online purchases placed as orders with their lines and a status story in
three dimensions (the latest still open), and the balances and expiring bonuses of the loyalty system."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.models import (
    BonusExpiration,
    Customer,
    LoyaltyAccount,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Receipt,
    ReceiptLine,
    Store,
)
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.service import order_service
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.demo.conftest import AS_OF, count, make_demo

MIDNIGHT = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(OrderStatus.id, OrderStatus.code)).all())


def test_online_purchases_are_orders_with_the_receipts_lines(session: Session) -> None:
    make_demo(session, customers=300)

    assert order_service.enabled(session)
    orders = session.scalars(select(Order).order_by(Order.id)).all()
    online = count(session, Receipt, Receipt.store_id == _online(session))
    assert 40 <= len(orders) <= online
    receipts = {r.number.split("-", 1)[1]: r for r in session.scalars(select(Receipt))}
    for order in orders:
        receipt = receipts[order.number.removeprefix("W-")]
        assert order.customer_id == receipt.customer_id and order.store_id == receipt.store_id
        assert utc(order.created_at) < utc(receipt.purchased_at)  # placed, then paid
        assert _lines(session, OrderLine, order.id) == _lines(session, ReceiptLine, receipt.id)
        lines_total = sum((amount for _, amount in _lines(session, OrderLine, order.id)), Decimal("0"))
        assert order.total == lines_total + order.delivery_cost
        assert order.bonus_part == receipt.bonus_spent and order.cash_part == order.total - order.bonus_part


def test_each_order_tells_its_status_story_and_the_latest_are_still_open(session: Session) -> None:
    make_demo(session, customers=300)

    names = codes(session)
    history: dict[int, list[OrderStatusChange]] = defaultdict(list)
    statement = select(OrderStatusChange).order_by(OrderStatusChange.changed_at, OrderStatusChange.id)
    for change in session.scalars(statement):
        history[change.order_id].append(change)
    orders = session.scalars(select(Order)).all()
    for order in orders:
        changes = history[order.id]
        assert utc(changes[0].changed_at) == utc(order.created_at) and changes[0].to_code == "new"
        assert all(utc(change.changed_at) < MIDNIGHT for change in changes)
        assert utc(order.updated_at) == utc(changes[-1].changed_at)
        for dimension in DIMENSIONS:
            steps = [change for change in changes if change.dimension == dimension]
            chain = [None, *(c.to_code for c in steps)][: len(steps)]
            assert [c.from_code for c in steps] == chain  # each change starts where the last one ended
            status = getattr(order, f"{dimension}_status_id")
            assert names.get(status) == (steps[-1].to_code if steps else None)
    general = [names[order.general_status_id or 0] for order in orders]
    assert general.count("completed") > 0.8 * len(orders) and "cancelled" in general
    assert {"new", "confirmed", "in_progress"} & set(general)  # the latest are under way
    delivery = {names[order.delivery_status_id or 0] for order in orders if order.delivery_status_id}
    assert {"delivered", "shipped"} <= delivery or {"delivered", "assembling"} <= delivery
    cancelled = [o for o in orders if names[o.general_status_id or 0] == "cancelled"]
    assert cancelled and not any(order.in_analytics for order in cancelled)


def test_the_loyalty_system_sent_balances_and_a_few_expiring_bonuses(session: Session) -> None:
    make_demo(session, customers=400)

    accounts = dict(session.execute(select(LoyaltyAccount.customer_id, LoyaltyAccount.bonus_balance)).all())
    holders = set(session.scalars(select(Customer.id).where(Customer.card_status == "active")))
    assert set(accounts) == holders and len(holders) > 0.8 * count(session, Customer)
    for customer_id in sorted(holders)[:40]:
        assert accounts[customer_id] == max(Decimal("0"), _net_bonuses(session, customer_id))
    portions = session.scalars(select(BonusExpiration)).all()
    assert 3 <= len({p.customer_id for p in portions}) <= 0.1 * len(holders)
    assert any(p.expires_on <= AS_OF + timedelta(days=7) for p in portions)
    assert all(AS_OF <= p.expires_on <= AS_OF + timedelta(days=60) for p in portions)
    for customer_id in {p.customer_id for p in portions}:
        total = sum((p.amount for p in portions if p.customer_id == customer_id), Decimal("0"))
        assert 0 < total <= (accounts[customer_id] or 0)
    # No address of the loyalty system: accrual requests wait until one is configured.
    assert settings_service.read(session, DeliverySettings).webhook_url is None


def _online(session: Session) -> int:
    return int(session.scalars(select(Store.id).where(Store.code == ONLINE_STORE_CODE)).one())


def _lines(
    session: Session, model: type[OrderLine] | type[ReceiptLine], owner: int
) -> list[tuple[str, Decimal]]:
    key = OrderLine.order_id if model is OrderLine else ReceiptLine.receipt_id
    statement = select(model.sku, model.amount).where(key == owner).order_by(model.position)
    return [(str(sku), Decimal(amount)) for sku, amount in session.execute(statement)]


def _net_bonuses(session: Session, customer_id: int) -> Decimal:
    """Earned less spent on the paid receipts of the year before the history's end."""
    statement = select(Receipt.bonus_earned, Receipt.bonus_spent).where(
        Receipt.customer_id == customer_id,
        Receipt.status == "paid",
        Receipt.purchased_at >= MIDNIGHT - timedelta(days=365),
        Receipt.purchased_at < MIDNIGHT,
    )
    return sum((earned - spent for earned, spent in session.execute(statement)), Decimal("0"))
