"""The budget every render runs within: time, output, loop iterations, calls, sizes of values.

Every part of a message gets a fresh `Budget`, kept in the render's state (personalization.runtime)
while it runs, so that the guards the sandbox puts into loops, calls, buffers and operators can charge
it without being handed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import BudgetExceeded


@dataclass(frozen=True, slots=True)
class RenderLimits:
    max_seconds: float = 1.0  # wall clock of one part's render, checked in loops and calls
    max_output: int = 1_000_000  # characters of one rendered part
    max_buffered: int = 8_000_000  # characters produced in macros, blocks and `set` blocks together
    max_iterations: int = 100_000  # loop iterations of one render, all loops together
    max_calls: int = 100_000  # function and macro calls of one render
    max_depth: int = 64  # macros (and recursive loops) calling each other
    max_range: int = 10_000  # items of one range()
    max_string: int = 1_000_000  # characters of one string made by an operator or passed to a call
    max_items: int = 100_000  # items of one list made by an operator
    max_int_bits: int = 14_000  # about 4,200 decimal digits (Python's own printing limit is 4,300)
    max_width: int = 1_000  # width and padding arguments of filters and % formats


DEFAULT_LIMITS = RenderLimits()


class Budget:
    """What one render has spent so far."""

    __slots__ = ("buffered", "calls", "deadline", "depth", "iterations", "limits")

    def __init__(self, limits: RenderLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds
        self.iterations = 0
        self.calls = 0
        self.depth = 0
        self.buffered = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(
                lazy("the template took longer than %(seconds)s s to render"),
                "time_limit",
                seconds=f"{self.limits.max_seconds:g}",
            )

    def iteration(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise self._too_many_iterations()
        if not self.iterations & 63:
            self.check_time()

    def iterations_at_once(self, count: int) -> None:
        """Charge a short loop's iterations before it starts (cheaper than one call per item)."""
        self.iterations += count
        if self.iterations > self.limits.max_iterations:
            raise self._too_many_iterations()
        self.check_time()

    def _too_many_iterations(self) -> BudgetExceeded:
        return BudgetExceeded(
            lazy("the loops ran more than %(limit)s times"),
            "loop_limit",
            limit=f"{self.limits.max_iterations:,}",
        )

    def call(self) -> None:
        self.calls += 1
        if self.calls > self.limits.max_calls:
            raise BudgetExceeded(
                lazy("more than %(limit)s calls"), "call_limit", limit=f"{self.limits.max_calls:,}"
            )
        if not self.calls & 63:
            self.check_time()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise BudgetExceeded(
                lazy("macros nested more than %(limit)s deep (a recursion without end?)"),
                "recursion_limit",
                limit=self.limits.max_depth,
            )

    def leave(self) -> None:
        self.depth -= 1

    def buffer(self, characters: int) -> None:
        self.buffered += characters
        if self.buffered > self.limits.max_buffered:
            raise BudgetExceeded(
                lazy("macros and blocks produced more than %(limit)s characters"),
                "output_limit",
                limit=f"{self.limits.max_buffered:,}",
            )
