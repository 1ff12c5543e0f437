"""Expiring bonuses: the trigger's query (`loyalty.repository.expiring_bonuses`) against a plain-Python
reading on random data, and the segment metrics — bonus balance, bonuses expiring within N days, points
balance — on hand-made data, kept current when bonus data arrive."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.loyalty.repository import expiring_bonuses
from smartcomm.models import BonusExpiration
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.delivery.helpers import make_customer
from tests.loyalty.conftest import ACTOR
from tests.loyalty.data import give_bonuses
from tests.segments.oracle import Oracle
from tests.segments.test_builds import current_members, rules

TODAY = date(2027, 3, 31)
NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
AMOUNTS = [Decimal(a) for a in ("0.01", "10.00", "99.99", "100.00", "100.01", "250.50", "500.00")]
PYTHON = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
}


def expected(
    portions: list[BonusExpiration],
    on_or_before: date,
    comparator: str,
    amount: Decimal,
    not_before: date | None,
) -> set[tuple[int, Decimal, date]]:
    """The document's reading: per customer, the portions in the range, added up, compared."""
    by_customer: dict[int, list[BonusExpiration]] = defaultdict(list)
    for p in portions:
        if p.expires_on <= on_or_before and (not_before is None or p.expires_on >= not_before):
            by_customer[p.customer_id].append(p)
    found = set()
    for customer_id, mine in by_customer.items():
        total = sum((p.amount for p in mine), Decimal("0"))
        if PYTHON[comparator](total, amount):
            found.add((customer_id, total, min(p.expires_on for p in mine)))
    return found


def test_the_expiring_query_agrees_with_python_on_random_data(session: Session) -> None:
    rng = random.Random(20261206)
    portions = []
    for _ in range(40):
        customer_id = make_customer(session).id
        for _ in range(rng.randint(0, 4)):
            day = TODAY + timedelta(days=rng.randint(-10, 40))
            portions.append(
                BonusExpiration(customer_id=customer_id, amount=rng.choice(AMOUNTS), expires_on=day)
            )
    session.add_all(portions)
    session.flush()
    for _ in range(120):
        on_or_before = TODAY + timedelta(days=rng.randint(-12, 45))
        comparator = rng.choice([*PYTHON, "gte", "lt"])
        amount = rng.choice([*AMOUNTS, Decimal("0"), Decimal("200.51"), Decimal("600.01")])
        not_before = rng.choice([None, TODAY, TODAY - timedelta(days=3)])
        statement = expiring_bonuses(session, on_or_before, comparator, amount, not_before=not_before)
        symbol = {"gte": ">=", "lt": "<"}.get(comparator, comparator)
        assert {tuple(row) for row in session.execute(statement)} == expected(
            portions, on_or_before, symbol, amount, not_before
        ), (on_or_before, comparator, amount, not_before)


def test_an_unknown_comparator_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown comparator"):
        expiring_bonuses(session, TODAY, "≈", Decimal("1"))


# ---------------------------------------------------------------- segment metrics

EVERYONE = {"anna", "boris", "vera", "gleb"}


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    """Anna: 1000 bonuses, 50 expiring in 3 days and 30 in 10 days, 40 points. Boris: no bonus data. Vera:
    a balance of 0, 20 bonuses that expired yesterday and 70 expiring today, -5 points. Gleb: points only."""
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Europe/Moscow"})
    ids = {name: make_customer(session, external_id=name).id for name in sorted(EVERYONE)}
    give_bonuses(
        session,
        ids["anna"],
        "1000",
        [("50", TODAY + timedelta(days=3)), ("30", TODAY + timedelta(days=10))],
        40,
    )
    give_bonuses(session, ids["vera"], "0", [("20", TODAY - timedelta(days=1)), ("70", TODAY)], -5)
    give_bonuses(session, ids["gleb"], None, (), 12)
    return ids


def selected(
    session: Session, people: dict[str, int], metric: str, operator: str, value: Any = None, **params: Any
) -> set[str]:
    condition: dict[str, Any] = {"metric": metric, "operator": operator, "params": params}
    if value is not None:
        condition["value"] = value
    tree = SegmentRules.model_validate({"root": {"children": [condition]}})
    found = set(session.scalars(compile_rules(tree, segment_service.context(session, NOW))))
    assert found == Oracle.load(session, NOW, "Europe/Moscow").matching(tree)
    names = {v: k for k, v in people.items()}
    return {names[customer_id] for customer_id in found}


@pytest.mark.parametrize(
    ("operator", "value", "expected_names"),
    [
        ("gt", "0", {"anna"}),
        ("eq", 0, {"vera"}),
        ("empty", None, {"boris", "gleb"}),  # never sent a balance: not a balance of 0
        ("between", ["0", "1000"], {"anna", "vera"}),
    ],
)
def test_bonus_balance(
    session: Session, people: dict[str, int], operator: str, value: Any, expected_names: set[str]
) -> None:
    assert selected(session, people, "bonuses.balance", operator, value) == expected_names


@pytest.mark.parametrize(
    ("days", "operator", "value", "expected_names"),
    [
        ("0", "gt", "0", {"vera"}),  # today only; what expired yesterday is gone
        (3, "eq", "50", {"anna"}),
        ("7", "gte", "50", {"anna", "vera"}),
        (10, "eq", "80", {"anna"}),
        (30, "lt", "60", {"boris", "gleb"}),  # nothing expiring counts as 0
    ],
)
def test_bonuses_expiring_within_days(
    session: Session, people: dict[str, int], days: Any, operator: str, value: Any, expected_names: set[str]
) -> None:
    assert selected(session, people, "bonuses.expiring", operator, value, days=days) == expected_names


def test_the_days_must_be_a_whole_number(session: Session, people: dict[str, int]) -> None:
    for days in ("soon", "-1", "99999", ""):
        with pytest.raises(InvalidInput) as refused:
            selected(session, people, "bonuses.expiring", "gt", "0", days=days)
        assert "days" in refused.value.errors[0].message


def test_points_balance(session: Session, people: dict[str, int]) -> None:
    assert selected(session, people, "bonuses.points_balance", "gt", 10) == {"anna", "gleb"}
    assert selected(session, people, "bonuses.points_balance", "lt", 0) == {"vera"}
    assert selected(session, people, "bonuses.points_balance", "eq", 0) == {"boris"}


def test_a_segment_follows_bonus_data_as_they_arrive(session: Session) -> None:
    rich = {"metric": "bonuses.balance", "operator": "gte", "value": "500"}
    customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-1"))
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Rich", rules=rules(rich)))
    segment_service.build(session, segment.id, "manual")
    session.commit()
    assert current_members(session, segment.id) == set()

    customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-1", bonus_balance=Decimal("600")))
    session.commit()  # bonus.changed: the segments subscriber moves the customer in
    assert current_members(session, segment.id) == {"C-1"}
