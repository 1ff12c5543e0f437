"""Trigger campaigns: graphs of a trigger and actions, walked by a durable journey engine."""

# Whatever imports campaigns (the app's pages and API, the worker's jobs) tells attribution the rules of
# the campaigns' messages.
from smartcomm.campaigns import attribution_rules as _attribution_rules  # noqa: F401 (registers the rules)
