"""Full RFM calculations on a hand-made base: exact scores with ties, the period, the base segment,
thresholds, cells, Best and Lost, and the kept history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import CustomerRfm, RfmCalculation
from smartcomm.rfm.service import rfm_service
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import RfmSettings
from smartcomm.settings.service import settings_service
from tests.rfm.conftest import ACTOR, NOW, Shop, cells_by_customer


def ten_customers(shop: Shop) -> None:
    """Ten buyers of the period (ties in every letter) and four customers who are not scored.

    Score = 1 + floor(5 × customers strictly worse ÷ 10) = 1 + floor(worse ÷ 2).
    """
    shop.customer_with("A", (300, "100"), (400, "9000"))  # the 400-day-old receipt is outside the period
    shop.customer_with("B", (200, "100"))
    shop.customer_with("C", (10, "5000"))
    shop.customer_with("D", (10, "150"), (40, "150"))
    shop.customer_with("E", (50, "200"), (60, "100"))
    shop.customer_with("F", (5, "400"), (20, "300"), (30, "300"))
    shop.customer_with("G", (100, "1000"), (150, "500"), (364, "500"))
    shop.customer_with("H", (100, "10"), (101, "20"), (102, "20"))
    shop.customer_with("I", (1, "160"), (2, "160"), (3, "160"), (4, "160"), (5, "160"))
    shop.customer_with("J", *[(0.1 + day, "375") for day in range(8)])
    g_returned = shop.customer("G2")  # only a returned receipt: not a purchase
    shop.buy(g_returned, "700", days_ago=1, status="returned")
    shop.customer_with("K", (366, "800"))  # bought only before the period
    shop.customer("N")  # never bought


EXPECTED = {
    "A": "111", "B": "111",  # 300 and 200 days, 1 receipt, 100 each (M tie)
    "C": "315",  # 10 days (tie with D), 1 receipt, the biggest spender
    "D": "322", "E": "322",  # 2 receipts each, 300 each (M tie)
    "F": "434",
    "G": "234", "H": "231",  # 100 days each (R tie)
    "I": "553", "J": "555",  # F: 5 and 8 receipts; nobody gets F4
}  # fmt: skip


def test_scores_by_rank_with_ties_and_only_buyers_of_the_period(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    calculation = rfm_service.run(session, "manual")
    assert cells_by_customer(session) == EXPECTED
    assert (calculation.status, calculation.scored, calculation.period_days) == ("done", 10, 365)


def test_values_behind_the_scores(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    a = shop.customer("A")
    j = shop.customer("J")
    rows = {row.customer_id: row for row in session.scalars(select(CustomerRfm))}
    assert (rows[a.id].recency_days, rows[a.id].frequency, rows[a.id].monetary) == (300, 1, Decimal("100.00"))
    assert (rows[j.id].recency_days, rows[j.id].frequency, rows[j.id].monetary) == (0, 8, Decimal("3000.00"))


def test_thresholds_cells_best_and_lost(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    calculation = rfm_service.run(session, "manual")
    assert calculation.thresholds == {
        "r": [[1, 200, 300], [2, 100, 100], [3, 10, 50], [4, 5, 5], [5, 0, 1]],
        "f": [[1, 1, 1], [2, 2, 2], [3, 3, 3], [5, 5, 8]],
        "m": [[1, "50.00", "100.00"], [2, "300.00", "300.00"], [3, "800.00", "800.00"],
              [4, "1000.00", "2000.00"], [5, "3000.00", "5000.00"]],
    }  # fmt: skip
    cells = {"111": 2, "315": 1, "322": 2, "434": 1, "234": 1, "231": 1, "553": 1, "555": 1}
    assert calculation.cells == cells
    assert (calculation.best, calculation.lost) == (1, 2)


def test_the_period_includes_its_first_instant_and_not_the_one_before(session: Session, shop: Shop) -> None:
    settings_service.update(session, ACTOR, RfmSettings, {"period_days": 30})
    first = shop.customer("first")
    shop.buy(first, "10", at=NOW - timedelta(days=30))
    before = shop.customer("before")
    shop.buy(before, "10", at=NOW - timedelta(days=30, seconds=1))
    future = shop.customer("future")
    shop.buy(future, "10", at=NOW + timedelta(seconds=1))
    calculation = rfm_service.run(session, "manual")
    assert cells_by_customer(session) == {"first": "111"}
    assert calculation.period_days == 30
    assert session.scalar(select(CustomerRfm.recency_days)) == 30


def test_the_base_segment_limits_who_is_scored(session: Session, shop: Shop) -> None:
    people = (("msk-1", "Moscow", "100"), ("msk-2", "Moscow", "900"), ("kzn", "Kazan", "5000"))
    for name, city, amount in people:
        customer = shop.customer(name, city=city)
        shop.buy(customer, amount, days_ago=3)
    condition = {"metric": "profile.city", "operator": "eq", "value": "Moscow"}
    rules = SegmentRules.model_validate({"root": {"op": "and", "children": [condition]}})
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules))
    segment_service.build(session, segment.id, "manual")
    rfm_service.update_settings(session, ACTOR, {"base_segment_id": segment.id})

    calculation = rfm_service.run(session, "manual")
    # Quintiles within the two Moscow customers: the Kazan customer's 5,000 does not push them down.
    assert cells_by_customer(session) == {"msk-1": "111", "msk-2": "113"}
    assert (calculation.base_segment_id, calculation.scored) == (segment.id, 2)


def test_a_recalculation_replaces_scores_and_keeps_the_history(
    session: Session, shop: Shop, frozen: time_machine.Coordinates
) -> None:
    ten_customers(shop)
    first = rfm_service.run(session, "manual")
    frozen.shift(timedelta(days=250))  # A (300 days) and B (200 → 450 days) drop out of the period
    second = rfm_service.run(session, "schedule")
    assert set(cells_by_customer(session)) == {"C", "D", "E", "F", "G", "H", "I", "J"}
    assert session.scalar(select(func.count()).select_from(CustomerRfm).where(
        CustomerRfm.calculation_id == first.id)) == 0  # fmt: skip
    history = rfm_service.history(session)
    # G and H (350 days) are the lost ones now.
    assert [(c.id, c.scored, c.lost) for c in history] == [(first.id, 10, 2), (second.id, 8, 2)]
    assert session.scalar(select(func.count()).select_from(RfmCalculation)) == 2


def test_nobody_bought_in_the_period(session: Session, shop: Shop) -> None:
    shop.customer_with("old", (500, "10"))
    calculation = rfm_service.run(session, "manual")
    assert (calculation.status, calculation.scored, calculation.cells) == ("done", 0, {})
    assert (calculation.best, calculation.lost) == (0, 0)
    assert calculation.thresholds == {"r": [], "f": [], "m": []}
