"""The score rules: where the rank rule changes score, the ranges of a calculation, and placing one value.

A full calculation scores by rank (`1 + 5 × worse customers ÷ population`); between calculations a
customer with a new receipt is placed by the ranges the last calculation found, so the cell moves at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SCORES = (1, 2, 3, 4, 5)
DIMENSIONS = ("r", "f", "m")
SECONDS_PER_DAY = 86_400

Value = int | Decimal


@dataclass(frozen=True)
class ScoreRange:
    """The lowest and highest value one score covers."""

    score: int
    low: Value
    high: Value


@dataclass(frozen=True)
class Dimension:
    """The ranges of one letter; R is better when lower (fewer days), F and M when higher."""

    letter: str
    ranges: tuple[ScoreRange, ...]

    @property
    def lower_is_better(self) -> bool:
        return self.letter == "r"

    def range_of(self, score: int) -> ScoreRange | None:
        return next((item for item in self.ranges if item.score == score), None)

    def score(self, value: Value) -> int:
        """The score whose range holds `value`; between two ranges the worse one; past either end 5 or 1."""
        if not self.ranges:
            return 1
        key = self._key(value)
        if key > max(self._key_range(item)[1] for item in self.ranges):
            return 5
        reached = [item.score for item in self.ranges if self._key_range(item)[0] <= key]
        return max(reached, default=1)

    def _key(self, value: Value) -> Value:
        # Orders values from worse to better whatever the letter.
        return -value if self.lower_is_better else value

    def _key_range(self, item: ScoreRange) -> tuple[Value, Value]:
        if self.lower_is_better:
            return -item.high, -item.low
        return item.low, item.high


@dataclass(frozen=True)
class Thresholds:
    r: Dimension
    f: Dimension
    m: Dimension

    def dimension(self, letter: str) -> Dimension:
        return {"r": self.r, "f": self.f, "m": self.m}[letter]

    def to_json(self) -> dict[str, list[list[Any]]]:
        """Stored as {"r": [[score, low, high], …], …}; money as text so it stays exact."""
        return {
            d.letter: [[i.score, _json_value(i.low), _json_value(i.high)] for i in d.ranges]
            for d in (self.r, self.f, self.m)
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Thresholds:
        data = data or {}
        parts = {
            letter: Dimension(letter, tuple(_range(letter, item) for item in data.get(letter, [])))
            for letter in DIMENSIONS
        }
        return cls(**parts)


@dataclass(frozen=True)
class CellSummary:
    """One R-F-M combination of a calculation: how many customers and the values they hold."""

    r: int
    f: int
    m: int
    count: int
    recency: tuple[int, int]
    frequency: tuple[int, int]
    monetary: tuple[Decimal, Decimal]


def thresholds_of(cells: Iterable[CellSummary]) -> Thresholds:
    """Every score's lowest and highest value, per letter, from the cells of a calculation."""
    found: dict[str, dict[int, tuple[Value, Value]]] = {letter: {} for letter in DIMENSIONS}
    for cell in cells:
        for letter, score, (low, high) in (
            ("r", cell.r, cell.recency),
            ("f", cell.f, cell.frequency),
            ("m", cell.m, cell.monetary),
        ):
            known = found[letter].get(score)
            found[letter][score] = (low, high) if known is None else (min(known[0], low), max(known[1], high))
    return Thresholds(
        **{
            letter: Dimension(letter, tuple(ScoreRange(s, *found[letter][s]) for s in sorted(found[letter])))
            for letter in DIMENSIONS
        }
    )


def cutoff_positions(population: int) -> list[int]:
    """Where the rank rule changes score, as 1-based positions of the population ordered worst first.

    The rule: score = 1 + ⌊5 × W ÷ N⌋, W = customers strictly worse, N = population (so ties, having
    the same W, share a score). Score ≥ s exactly when W ≥ kₛ = ⌈(s − 1) × N ÷ 5⌉, and W ≥ k exactly
    when the k-th worst value is strictly worse than the customer's. So with cₛ the value at position kₛ,
    a customer's score is 1 + the number of c₂…c₅ strictly worse than the customer's value: the same
    result as ranking everyone, for four values read from one sorted column per letter.
    """
    if population <= 0:
        return []  # nobody to score
    return [-(-(score - 1) * population // 5) for score in SCORES[1:]]


def _json_value(value: Value) -> int | str:
    return str(value) if isinstance(value, Decimal) else int(value)


def _range(letter: str, item: list[Any]) -> ScoreRange:
    convert = Decimal if letter == "m" else int
    return ScoreRange(int(item[0]), convert(item[1]), convert(item[2]))
