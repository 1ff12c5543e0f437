"""The score rules on their own: the rank rule, its cutoff form, and placing one value by thresholds."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.models import Money
from smartcomm.models import CustomerRfm
from smartcomm.rfm.scoring import Dimension, ScoreRange, cutoff_positions, score_population
from smartcomm.rfm.service import rfm_service
from tests.rfm.conftest import Shop


def rank_rule(values: list[int], lower_is_better: bool = False) -> list[int]:
    """The rule as written: 1 + ⌊5 × (customers strictly worse) ÷ N⌋."""
    worse = (lambda a, b: a > b) if lower_is_better else (lambda a, b: a < b)
    return [1 + 5 * sum(worse(other, value) for other in values) // len(values) for value in values]


def cutoff_rule(values: list[int], lower_is_better: bool = False) -> list[int]:
    ordered = sorted(values, reverse=lower_is_better)  # worst first
    cutoffs = [ordered[position - 1] for position in cutoff_positions(len(values))]
    beats = (lambda v, c: v < c) if lower_is_better else (lambda v, c: v > c)
    return [1 + sum(beats(value, cut) for cut in cutoffs) for value in values]


@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=60), st.booleans())
def test_the_cutoff_form_gives_exactly_the_rank_rule(values: list[int], lower_is_better: bool) -> None:
    assert cutoff_rule(values, lower_is_better) == rank_rule(values, lower_is_better)


@st.composite
def three_columns(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    """R, F and M values of one population, full of ties."""
    size = draw(st.integers(min_value=1, max_value=40))
    column = st.lists(st.integers(min_value=0, max_value=12), min_size=size, max_size=size)
    return draw(column), draw(column), draw(column)


@given(three_columns())
def test_a_whole_population_is_scored_by_the_rank_rule(columns: tuple[list[int], ...]) -> None:
    recency, frequency, monetary = columns
    population = score_population({"r": recency, "f": frequency, "m": monetary}, Money.from_units)

    expected = list(
        zip(rank_rule(recency, lower_is_better=True), rank_rule(frequency), rank_rule(monetary), strict=True)
    )
    assert population.cells == Counter(expected)
    assert population.scored == len(recency)
    for letter, values, scores in (
        ("r", recency, [cell[0] for cell in expected]),
        ("f", frequency, [cell[1] for cell in expected]),
        ("m", [Money.from_units(value) for value in monetary], [cell[2] for cell in expected]),
    ):
        held = {
            score: [v for v, s in zip(values, scores, strict=True) if s == score] for score in set(scores)
        }
        ranges = population.thresholds.dimension(letter).ranges
        assert [(r.score, r.low, r.high) for r in ranges] == [
            (score, min(held[score]), max(held[score])) for score in sorted(held)
        ]


def test_cutoff_positions() -> None:
    assert cutoff_positions(10) == [2, 4, 6, 8]
    assert cutoff_positions(2) == [1, 1, 2, 2]
    assert cutoff_positions(1) == [1, 1, 1, 1]
    assert cutoff_positions(0) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_scores_follow_the_rank_rule_on_a_base_full_of_ties(
    session: Session, shop: Shop, seed: int
) -> None:
    chance = random.Random(seed)
    for number in range(chance.randint(7, 31)):
        customer = shop.customer(f"C{number}")
        for _ in range(chance.choice([1, 1, 2, 3, 5])):
            shop.buy(
                customer, chance.choice(["100", "250", "250", "990"]), days_ago=chance.choice([1, 5, 5, 40])
            )
    rfm_service.run(session, "manual")
    rows = session.scalars(select(CustomerRfm).order_by(CustomerRfm.customer_id)).all()
    assert [row.r for row in rows] == rank_rule([row.recency_days for row in rows], lower_is_better=True)
    assert [row.f for row in rows] == rank_rule([row.frequency for row in rows])
    assert [row.m for row in rows] == rank_rule([int(row.monetary * 100) for row in rows])


MONEY = Dimension(
    "m",
    (
        ScoreRange(1, Decimal("50"), Decimal("100")),
        ScoreRange(2, Decimal("300"), Decimal("300")),
        ScoreRange(4, Decimal("1000"), Decimal("2000")),
    ),
)
DAYS = Dimension("r", (ScoreRange(1, 200, 300), ScoreRange(3, 10, 50), ScoreRange(5, 0, 1)))


@pytest.mark.parametrize(
    ("dimension", "value", "score"),
    [
        (MONEY, Decimal("75"), 1),  # inside M1
        (MONEY, Decimal("10"), 1),  # below every range
        (MONEY, Decimal("200"), 1),  # between M1 and M2: the worse
        (MONEY, Decimal("300"), 2),
        (MONEY, Decimal("999.99"), 2),  # between M2 and M4 (nobody got M3)
        (MONEY, Decimal("2000"), 4),  # the top of the best range there is
        (MONEY, Decimal("2000.01"), 5),  # beyond every range
        (DAYS, 0, 5),
        (DAYS, 7, 3),  # between R5 (0–1 days) and R3 (10–50): the worse
        (DAYS, 50, 3),
        (DAYS, 120, 1),
        (DAYS, 400, 1),
    ],
)
def test_placing_one_value_by_the_ranges(dimension: Dimension, value: int | Decimal, score: int) -> None:
    assert dimension.score(value) == score
