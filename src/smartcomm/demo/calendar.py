"""Shopping intensity per day over the last three years: seasons, holidays, the weekly rhythm, growth.

Days are numbered from the first day of the history; the last two years are the purchase window.
Picking a day is a binary search in the cumulative intensity, so a customer's purchases follow the
season wherever their own window starts.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

HISTORY_DAYS = 3 * 365
PURCHASE_DAYS = 2 * 365

# fmt: off
# Retail traffic by month: the December peak, the summer dip, a quiet January.
MONTH_FACTOR = {1: 0.82, 2: 0.88, 3: 1.0, 4: 0.96, 5: 0.95, 6: 0.86, 7: 0.8, 8: 0.88, 9: 0.98, 10: 1.0,
                11: 1.08, 12: 1.45}
# Monday .. Sunday: Friday evening and Saturday are the busiest.
WEEKDAY_FACTOR = (0.86, 0.88, 0.92, 0.96, 1.12, 1.22, 1.04)
# Local opening hours of the stores, and the online store's round-the-clock evening-heavy day.
STORE_HOURS = {9: 0.5, 10: 0.8, 11: 1.0, 12: 1.2, 13: 1.25, 14: 1.1, 15: 1.0, 16: 1.05, 17: 1.3, 18: 1.6,
               19: 1.7, 20: 1.4, 21: 0.7}
ONLINE_HOURS = {0: 0.3, 1: 0.15, 2: 0.08, 3: 0.05, 4: 0.05, 5: 0.08, 6: 0.2, 7: 0.45, 8: 0.7, 9: 0.9, 10: 1.0,
                11: 1.05, 12: 1.15, 13: 1.15, 14: 1.05, 15: 1.0, 16: 1.0, 17: 1.05, 18: 1.15, 19: 1.3,
                20: 1.5, 21: 1.6, 22: 1.3, 23: 0.7}
# fmt: on


def holiday_factor(day: date) -> float:
    """Gift seasons and the New Year holidays, which change traffic far beyond the month's average."""
    month, dom = day.month, day.day
    if month == 12:
        return 1.35 if 20 <= dom <= 30 else 0.9 if dom == 31 else 1.0
    if month == 1:
        return 0.35 if dom == 1 else 0.6 if dom == 2 else 0.9 if dom <= 8 else 1.0
    if (month == 2 and dom in (13, 14, 20, 21, 22)) or (month == 3 and 5 <= dom <= 7):
        return 1.35
    if month == 8 and dom >= 20:  # back to school
        return 1.15
    if month == 11 and day.weekday() == 4 and dom + 7 > 30:  # the last Friday of November
        return 1.8
    return 1.0


class Calendar:
    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.first_date = as_of - timedelta(days=HISTORY_DAYS)
        self.days = HISTORY_DAYS
        self.purchase_start = HISTORY_DAYS - PURCHASE_DAYS
        dates = [self.first_date + timedelta(days=i) for i in range(HISTORY_DAYS)]
        self.month = [d.month for d in dates]
        epoch = datetime(self.first_date.year, self.first_date.month, self.first_date.day, tzinfo=UTC)
        first_midnight = int(epoch.timestamp())
        self.midnight = [first_midnight + i * 86400 for i in range(HISTORY_DAYS)]
        weights = [self._intensity(d, i) for i, d in enumerate(dates)]
        self.cumulative = [0.0, *accumulate(weights)]
        self._store_hours = _HourPicker(STORE_HOURS)
        self._online_hours = _HourPicker(ONLINE_HOURS)

    def _intensity(self, day: date, index: int) -> float:
        growth = 0.85 + 0.3 * index / HISTORY_DAYS  # the programme grows
        return MONTH_FACTOR[day.month] * WEEKDAY_FACTOR[day.weekday()] * holiday_factor(day) * growth

    def pick(self, rng: random.Random, first: int, last: int) -> int:
        """A day in [first, last], more likely where shopping is more intense."""
        low, high = self.cumulative[first], self.cumulative[last + 1]
        day = bisect_right(self.cumulative, low + rng.random() * (high - low)) - 1
        return min(max(day, first), last)

    def local_seconds(self, rng: random.Random, online: bool) -> int:
        """Seconds after local midnight of a purchase in a store (opening hours) or online."""
        return (self._online_hours if online else self._store_hours).pick(rng) * 3600 + int(
            rng.random() * 3600
        )

    def date_of(self, day: int) -> date:
        return self.first_date + timedelta(days=day)


class _HourPicker:
    def __init__(self, weights: dict[int, float]) -> None:
        self.hours = list(weights)
        self.cumulative = list(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> int:
        return self.hours[bisect_right(self.cumulative, rng.random() * self.total)]
