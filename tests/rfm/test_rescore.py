"""Per-customer rescoring after new receipts: the customer moves by the latest calculation's ranges."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import CustomerRfm
from smartcomm.rfm.service import rfm_service
from tests.rfm.conftest import Shop, cells_by_customer
from tests.rfm.test_calculation import EXPECTED, ten_customers


def test_a_new_receipt_moves_the_customer_to_another_cell(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    calculation = rfm_service.run(session, "manual")
    b = shop.customer("B")
    shop.buy(b, "2000", days_ago=0)
    rfm_service.rescore_customers(session, [b.id])
    # 0 days → R5; 2 receipts → F2; 2,100 lies between M4 (up to 2,000) and M5 (from 3,000) → the lower, M4.
    assert cells_by_customer(session) == EXPECTED | {"B": "524"}
    row = session.scalar(select(CustomerRfm).where(CustomerRfm.customer_id == b.id))
    assert row is not None
    assert (row.recency_days, row.frequency, str(row.monetary)) == (0, 2, "2100.00")
    assert row.calculation_id == calculation.id


def test_a_first_purchase_scores_a_new_customer_beyond_the_extremes(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    newcomer = shop.customer("NEW")
    shop.buy(newcomer, "10000", days_ago=0)
    rfm_service.rescore_customers(session, [newcomer.id])
    # More than the biggest M5 amount (5,000) → M5.
    assert cells_by_customer(session)["NEW"] == "515"


def test_time_moves_a_customer_down_and_then_out(
    session: Session, shop: Shop, frozen: time_machine.Coordinates
) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    a = shop.customer("A")
    frozen.shift(timedelta(days=30))
    rfm_service.rescore_customers(session, [a.id])
    assert cells_by_customer(session)["A"] == "111"  # 330 days: beyond the oldest R1 value, still R1
    frozen.shift(timedelta(days=40))
    rfm_service.rescore_customers(session, [a.id])
    assert "A" not in cells_by_customer(session)  # 370 days: no purchase in the period, not scored


def test_nothing_to_score_against_before_the_first_calculation(session: Session, shop: Shop) -> None:
    customer = shop.customer_with("early", (1, "100"))
    rfm_service.rescore_customers(session, [customer.id])
    assert cells_by_customer(session) == {}


def test_other_customers_are_left_alone(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    c = shop.customer("C")
    shop.buy(c, "1", days_ago=0)
    rfm_service.rescore_customers(session, [c.id])
    assert cells_by_customer(session) == EXPECTED | {"C": "525"}  # 0 days, two receipts, 5,001
