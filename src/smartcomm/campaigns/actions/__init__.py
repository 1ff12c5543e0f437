"""The actions of campaign graphs; importing this package registers every one of them."""

from smartcomm.campaigns.actions import (  # noqa: F401 (registers the kinds)
    ab_test,
    control,
    customers,
    flow,
    limits,
    messages,
    staff,
)
