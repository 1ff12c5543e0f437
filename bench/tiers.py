"""Data tiers of the benchmarks (see the performance targets): the demo base each figure runs against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    name: str
    customers: int
    receipts_per_customer: float
    import_receipts: int  # receipts in the D1 import file (about three rows each)
    http_seconds: float  # length of one HTTP load run (D2, D3)
    mailing_recipients: int = 100_000  # recipients of the M1 mass e-mail
    snapshot_members: int = 1_000_000  # members of the segment M2 snapshots into the ledger


TIERS = {
    "XS": Tier("XS", 10_000, 10, 50_000, 10, mailing_recipients=20_000, snapshot_members=100_000),
    "S": Tier("S", 1_000_000, 10, 1_000_000, 15),
    "M": Tier("M", 10_000_000, 10, 1_000_000, 15),
}
