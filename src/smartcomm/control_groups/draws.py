"""The order a global control group is drawn in: a keyed hash of the customer id that SQLite and
PostgreSQL compute identically, so the draw runs as one INSERT … SELECT and the same seed always draws the
same customers.

Neither database has a hash function the other shares, so the key is built from integer arithmetic both
do exactly: alternating affine and squaring steps modulo the prime 2^31 − 1, with constants taken from
the seed's SHA-256. Every intermediate product stays below 2^62, inside a signed 64-bit integer on both
(SQLite would silently turn an overflow into a float). Ties — rare — are broken by the customer id.

Shares are kept per stratum: of a stratum of n customers, round(n × share) with the smallest keys, the
rounding done in integers (half up) so both databases agree; the share is the percentage, or the cap
divided by the base when the percentage would exceed the cap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, cast, extract, func, literal_column

from smartcomm.models import Customer

PRIME = 2**31 - 1
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"))
OLDEST_BAND = "55+"


@dataclass(frozen=True)
class Share:
    """round(n × numerator / denominator) customers of a stratum of n."""

    numerator: int
    denominator: int

    @classmethod
    def of(cls, percent: float, cap: int | None, base: int) -> Share:
        basis_points = round(percent * 100)
        if cap is not None and base and cap * 10_000 < base * basis_points:
            return cls(cap, base)
        return cls(basis_points, 10_000)

    def of_stratum(self, size: int) -> int:
        return (2 * size * self.numerator + self.denominator) // (2 * self.denominator)


def constants(seed: int) -> tuple[int, ...]:
    """Six constants in [1, PRIME) fixed by the seed."""
    digest = hashlib.sha256(f"global-control:{seed}".encode("ascii")).digest()
    return tuple(int.from_bytes(digest[i * 4 : i * 4 + 4], "big") % (PRIME - 1) + 1 for i in range(6))


def draw_key(seed: int, customer_id: int) -> int:
    """The customer's place in the seed's draw (smaller: drawn first), as the databases compute it."""
    a, c0, c1, b, c2, c3 = constants(seed)
    x = ((customer_id % PRIME) * a + c0) % PRIME
    x = (x * x + c1) % PRIME
    x = (x * b + c2) % PRIME
    return (x * x + c3) % PRIME


def draw_key_sql(seed: int, customer_id: Any) -> ColumnElement[int]:
    """`draw_key` as an SQL expression of a customer-id column (the constants are our own integers)."""
    a, c0, c1, b, c2, c3 = (literal_column(str(value), BigInteger) for value in constants(seed))
    prime = literal_column(str(PRIME), BigInteger)
    x = ((cast(customer_id, BigInteger) % prime) * a + c0) % prime
    x = (x * x + c1) % prime
    x = (x * b + c2) % prime
    return (x * x + c3) % prime


# --- strata ---------------------------------------------------------------------------------------------


def stratum_sql(name: str, today: date) -> ColumnElement[Any]:
    """The SQL value of a stratification field: texts compared case- and space-insensitively, the age band
    from the birth date, buyer or not, the year of registration."""
    if name == "age_band":
        return _age_band_sql(today)
    if name == "buyer":
        return case((Customer.receipt_count > 0, 1), else_=0)
    if name == "registration_year":
        return extract("year", Customer.registered_at)
    column = {
        "gender": Customer.gender,
        "city": Customer.city,
        "region": Customer.region,
        "card_status": Customer.card_status,
    }[name]
    return func.nullif(func.lower(func.trim(column)), "")


def _age_band_sql(today: date) -> ColumnElement[Any]:
    # Younger than N years ⟺ born after the day N years ago: plain date comparisons, the same everywhere.
    whens = [(Customer.birth_date > years_before(today, limit), band) for limit, band in AGE_BANDS]
    return case((Customer.birth_date.is_(None), None), *whens, else_=OLDEST_BAND)


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def age_band(born: date | None, today: date) -> str | None:
    """The age band as `stratum_sql` computes it (for checks and the profile)."""
    if born is None:
        return None
    return next((band for limit, band in AGE_BANDS if born > years_before(today, limit)), OLDEST_BAND)
