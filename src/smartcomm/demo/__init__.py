"""Realistic, deterministic demo data for a retail loyalty programme, written in bulk.

`generate(session, DemoOptions(customers=10_000, seed=1))` fills an empty base with stores, a
catalogue, customers, two years of receipts with seasonal rhythm, events, site behaviour, containers
and subscriptions. The same seed, size and as-of date always give the same data.
"""

from smartcomm.demo.generator import DemoOptions, DemoSummary, NotEmpty, generate
from smartcomm.demo.progress import Progress

__all__ = ["DemoOptions", "DemoSummary", "NotEmpty", "Progress", "generate"]
