"""The triggers of campaign graphs; importing this package registers every one of them."""

from smartcomm.campaigns.triggers import (  # noqa: F401 (importing registers the kinds)
    absence,
    catalogue,
    chaining,
    customers,
    dates,
    events,
    orders,
    polls,
    purchases,
    segments,
    site,
)
