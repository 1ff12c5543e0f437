"""A small base for the dashboard with every figure worked out by hand: seven customers, receipts at known
moments (one on a month's boundary in the project time zone, Moscow), RFM calculations and attributed
receipts across channels. "Now" is 20 November 2026, noon UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.customers.repository import CustomerRepository
from smartcomm.models import AttributedReceipt, Customer, Receipt, RfmCalculation
from tests.attribution.helpers import make_customer, make_message, make_receipt

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def attribute(session: Session, receipt: Receipt, channel: str, credited: bool) -> None:
    customer = session.get(Customer, receipt.customer_id)
    assert customer is not None
    message = make_message(session, customer, channel=channel)
    session.add(
        AttributedReceipt(
            receipt_id=receipt.id, message_id=message.id, customer_id=customer.id, source_kind="mailing",
            source_id=1, channel=channel, touched_at=receipt.purchased_at, purchased_at=receipt.purchased_at,
            amount=receipt.total, credited=credited,
        )
    )  # fmt: skip
    session.flush()


def calculation(session: Session, started_at: datetime, best: int, lost: int, status: str = "done") -> None:
    session.add(
        RfmCalculation(trigger="schedule", status=status, started_at=started_at, finished_at=started_at,
                       period_days=365, best=best, lost=lost)
    )  # fmt: skip
    session.flush()


def base(session: Session) -> dict[str, Any]:
    """A: Oct 5 (50) and Nov 10 (100, credited to an e-mail; an SMS touched it too, uncredited).
    B: 31 Oct 22:30 UTC (1 Nov in Moscow, 200, credited to an SMS). C: Sep 15 (30), Sep 16 (70; a Viber
    touch, uncredited). D: May 1 (500, before every period). E: never bought. F: Oct 10 returned (80),
    Oct 20 paid (60)."""
    people = {name: make_customer(session) for name in "ABCDEF"}
    receipts = {
        "A1": make_receipt(session, people["A"], utc(2026, 10, 5, 9), "50.00"),
        "A2": make_receipt(session, people["A"], utc(2026, 11, 10, 9), "100.00"),
        "B1": make_receipt(session, people["B"], utc(2026, 10, 31, 22, 30), "200.00"),
        "C1": make_receipt(session, people["C"], utc(2026, 9, 15, 9), "30.00"),
        "C2": make_receipt(session, people["C"], utc(2026, 9, 16, 9), "70.00"),
        "D1": make_receipt(session, people["D"], utc(2026, 5, 1, 9), "500.00"),
        "F0": make_receipt(session, people["F"], utc(2026, 10, 10, 9), "80.00", status="returned"),
        "F1": make_receipt(session, people["F"], utc(2026, 10, 20, 10), "60.00"),
    }
    attribute(session, receipts["A2"], "email", credited=True)
    attribute(session, receipts["A2"], "sms", credited=False)
    attribute(session, receipts["B1"], "sms", credited=True)
    attribute(session, receipts["C2"], "viber", credited=False)
    calculation(session, utc(2026, 8, 20, 3), best=9, lost=9)  # before the period
    calculation(session, utc(2026, 9, 5, 3), best=3, lost=4)
    calculation(session, utc(2026, 9, 25, 3), best=5, lost=2)  # September's last
    calculation(session, utc(2026, 10, 15, 3), best=8, lost=8, status="failed")  # no figures for October
    calculation(session, utc(2026, 11, 2, 3), best=7, lost=1)
    # The per-customer aggregates the receipt writer keeps, which the segment conditions read.
    CustomerRepository(session).refresh_aggregates([person.id for person in people.values()])
    return {"people": people, "receipts": receipts}
