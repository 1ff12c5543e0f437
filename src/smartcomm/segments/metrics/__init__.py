"""The metric registry with every metric family registered (importing this module registers them)."""

from smartcomm.segments.metrics import (
    behaviour,
    bonuses,
    campaigns,
    communications,
    contacts,
    membership,
    orders,
    polls,
    profile,
    promocodes,
    purchases,
)
from smartcomm.segments.metrics.base import CompileContext, Metric, MetricError, ValueType, registry

__all__ = [
    "CompileContext",
    "Metric",
    "MetricError",
    "ValueType",
    "behaviour",
    "bonuses",
    "campaigns",
    "communications",
    "contacts",
    "membership",
    "orders",
    "polls",
    "profile",
    "promocodes",
    "purchases",
    "registry",
]
