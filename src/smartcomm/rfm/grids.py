"""The RF, RM and FM grids of a calculation: 5 × 5 cells with counts, shares and value ranges."""

from __future__ import annotations

from dataclasses import dataclass

from smartcomm.models import RfmCalculation
from smartcomm.rfm.scoring import SCORES, ScoreRange, Thresholds

PAIRS = ("rf", "rm", "fm")


@dataclass(frozen=True)
class Axis:
    """One score of a letter with the values it covers (None when no customer got that score)."""

    letter: str
    score: int
    range: ScoreRange | None


@dataclass(frozen=True)
class GridCell:
    row: Axis
    column: Axis
    count: int
    share: float  # of the scored customers
    heat: float  # 0 for an empty cell … 1 for the biggest cell of the grid

    @property
    def query(self) -> str:
        """The cell as query parameters of its customer list."""
        return f"{self.row.letter}={self.row.score}&{self.column.letter}={self.column.score}"


@dataclass(frozen=True)
class Grid:
    key: str  # rf | rm | fm
    rows: list[Axis]  # 5 down to 1 of the first letter
    columns: list[Axis]  # 1 up to 5 of the second letter
    cells: list[list[GridCell]]  # by row, then by column


def grids_of(calculation: RfmCalculation) -> list[Grid]:
    """The three grids of a calculation, built from its cell counts and thresholds."""
    thresholds = Thresholds.from_json(calculation.thresholds)
    return [_grid(pair, calculation.cells or {}, thresholds, calculation.scored) for pair in PAIRS]


def _grid(pair: str, cells: dict[str, int], thresholds: Thresholds, scored: int) -> Grid:
    first, second = pair[0], pair[1]
    counts = _pair_counts(cells, "rfm".index(first), "rfm".index(second))
    biggest = max(counts.values(), default=0)
    rows = [_axis(thresholds, first, score) for score in reversed(SCORES)]
    columns = [_axis(thresholds, second, score) for score in SCORES]
    grid_cells = [
        [_cell(row, column, counts.get((row.score, column.score), 0), scored, biggest) for column in columns]
        for row in rows
    ]
    return Grid(pair, rows, columns, grid_cells)


def _pair_counts(cells: dict[str, int], first: int, second: int) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for key, count in cells.items():
        pair = (int(key[first]), int(key[second]))
        counts[pair] = counts.get(pair, 0) + count
    return counts


def _axis(thresholds: Thresholds, letter: str, score: int) -> Axis:
    return Axis(letter, score, thresholds.dimension(letter).range_of(score))


def _cell(row: Axis, column: Axis, count: int, scored: int, biggest: int) -> GridCell:
    share = count / scored if scored else 0.0
    heat = count / biggest if biggest else 0.0
    return GridCell(row, column, count, share, round(heat, 3))
