"""The score rules: where the rank rule changes score, the ranges of a calculation, and placing one value.

A full calculation scores by rank (`1 + 5 × worse customers ÷ population`); between calculations a
customer with a new receipt is placed by the ranges the last calculation found, so the cell moves at once.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
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
class Population:
    """A full calculation worked out from every scored customer's values, before anything is written."""

    cutoffs: dict[str, list[int]]  # per letter, the values c₂…c₅ its scores change at (stored units)
    cells: Counter[tuple[int, int, int]]  # customers per (R, F, M) combination that has any
    thresholds: Thresholds

    @property
    def scored(self) -> int:
        return sum(self.cells.values())


def score_population(columns: Mapping[str, Sequence[int]], money: Callable[[int], Decimal]) -> Population:
    """Score every customer by the rank rule, from the values of each letter in the same customer order.

    M comes in stored minor units; `money` turns them into amounts for the thresholds.
    """
    positions = cutoff_positions(len(columns["r"]))
    letters = {letter: _score_letter(letter, columns[letter], positions, money) for letter in DIMENSIONS}
    cells = Counter(zip(*(letters[letter].scores for letter in DIMENSIONS), strict=True))
    return Population(
        cutoffs={letter: scored.cutoffs for letter, scored in letters.items()},
        cells=cells,
        thresholds=Thresholds(**{letter: scored.dimension for letter, scored in letters.items()}),
    )


@dataclass(frozen=True)
class _ScoredLetter:
    cutoffs: list[int]
    scores: list[int]  # in the order of the values
    dimension: Dimension


def _score_letter(
    letter: str, values: Sequence[int], positions: Sequence[int], money: Callable[[int], Decimal]
) -> _ScoredLetter:
    lower_is_better = letter == "r"
    sign = -1 if lower_is_better else 1
    # Keys order every letter from worse to better (fewer days since the last purchase is better).
    keys = [-value for value in values] if lower_is_better else list(values)
    ordered = sorted(keys)
    cut_keys = [ordered[position - 1] for position in positions]
    # 1 + the cutoffs strictly worse than the key, as write_scores counts them in SQL; the sentinel,
    # below every key, is the 1.
    bounds = [ordered[0] - 1, *cut_keys] if ordered else []
    scores = list(map(partial(bisect_left, bounds), keys))
    convert: Callable[[int], Value] = money if letter == "m" else int
    ranges = []
    for score, (first, last) in _spans(ordered, cut_keys):
        low, high = sorted((sign * first, sign * last))
        ranges.append(ScoreRange(score, convert(low), convert(high)))
    return _ScoredLetter([sign * key for key in cut_keys], scores, Dimension(letter, tuple(ranges)))


def _spans(ordered: Sequence[int], cut_keys: Sequence[int]) -> list[tuple[int, tuple[int, int]]]:
    """Each score given, with its lowest and highest key: a score s ≥ 2 starts after the last key equal
    to its cutoff (keys strictly better than it), so each score is one run of the ordered keys."""
    starts = [0, *(bisect_right(ordered, key) for key in cut_keys), len(ordered)]
    return [
        (score, (ordered[start], ordered[end - 1]))
        for score, (start, end) in enumerate(itertools.pairwise(starts), start=1)
        if start < end
    ]


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
