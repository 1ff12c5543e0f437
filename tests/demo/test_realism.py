"""The demo base looks like a real loyalty programme: seasons, one-time buyers, flawed contacts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.models import Customer, Event, Receipt, Store
from tests.demo.conftest import count, make_demo


def receipts_between(session: Session, start: datetime, end: datetime) -> int:
    return count(session, Receipt, Receipt.purchased_at >= start, Receipt.purchased_at < end)


def test_december_outsells_july_and_saturday_outsells_monday(session: Session) -> None:
    make_demo(session, customers=300)

    december = receipts_between(session, datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    july = receipts_between(session, datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC))
    assert december > 1.3 * july
    weekdays = [moment.weekday() for moment in session.scalars(select(Receipt.purchased_at))]
    assert weekdays.count(5) > 1.15 * weekdays.count(0)


def test_a_long_tail_of_one_time_buyers_and_a_loyal_core(session: Session) -> None:
    make_demo(session, customers=300)

    counts = list(session.scalars(select(Customer.receipt_count).where(Customer.receipt_count > 0)))
    one_time_share = sum(1 for value in counts if value == 1) / len(counts)
    assert 0.3 <= one_time_share <= 0.5
    assert max(counts) >= 40  # someone buys about weekly
    assert count(session, Customer, Customer.receipt_count == 0) > 0


def test_contacts_are_stored_as_the_normaliser_would_store_them(session: Session) -> None:
    make_demo(session, customers=250)
    customers = session.scalars(select(Customer)).all()

    for customer in customers:
        if customer.email is not None:
            email = normalize_email(customer.email)
            assert (email.value, email.valid) == (customer.email, customer.email_valid), customer.email
        if customer.phone is not None:
            phone = normalize_phone(customer.phone)
            assert phone.valid == customer.phone_valid, customer.phone
            if phone.valid:
                assert (phone.value, phone.type) == (customer.phone, customer.phone_type)
    kinds = {(c.email is None, c.email_valid) for c in customers}
    assert kinds == {(True, False), (False, True), (False, False)}  # missing, valid and broken e-mails
    assert {c.phone_type for c in customers} == {"mobile", "landline", None}
    assert sum(c.allow_email for c in customers) > 0.85 * len(customers)
    latin = sum(1 for c in customers if c.first_name and c.first_name.isascii())
    assert 0 < latin < 0.15 * len(customers)


def test_customers_buy_mostly_in_their_home_city_and_online(session: Session) -> None:
    make_demo(session, customers=200)

    rows = session.execute(
        select(Customer.city, Store.city, Store.is_online)
        .join(Receipt, Receipt.customer_id == Customer.id)
        .join(Store, Store.id == Receipt.store_id)
    ).all()
    at_home = sum(1 for customer_city, store_city, online in rows if online or customer_city == store_city)
    assert at_home == len(rows)
    assert 0.05 < sum(1 for row in rows if row.is_online) / len(rows) < 0.4


def test_bonus_redemptions_are_events_of_the_receipt(session: Session) -> None:
    make_demo(session, customers=250)

    redeemed = session.execute(
        select(Receipt.number, Receipt.bonus_spent, Receipt.purchased_at).where(Receipt.bonus_spent > 0)
    ).all()
    events = session.scalars(select(Event).where(Event.name == "bonus_redeemed")).all()
    assert redeemed and len(events) == len(redeemed)
    by_number = {event.context["receipt"]: event for event in events}
    for number, spent, purchased_at in redeemed:
        assert by_number[number].context["amount"] == f"{spent:.2f}"
        assert by_number[number].occurred_at == purchased_at
