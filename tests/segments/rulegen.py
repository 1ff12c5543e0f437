"""Random rule trees over a data set's real ids, with values taken from the data (exact boundaries)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from hypothesis import strategies as st

from smartcomm.segments.rules import SegmentRules
from tests.orders.data import STATUS_CODES
from tests.segments.dataset import CUSTOM_FIELDS, EVENT_NAMES, NAMES, SECTIONS, DataSet
from tests.segments.oracle import (
    CHOICE,
    DATE,
    DATETIME,
    INTEGER,
    METRICS,
    MONEY,
    NUMBER,
    OPERATORS,
    TEXT,
    VALUELESS,
    Oracle,
)

# The parameters of each metric (docs/segments.md); "!" marks a required one.
PARAMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "purchases.count",
            "purchases.amount",
            "purchases.average",
            "purchases.first_date",
            "purchases.last_date",
        ),
        ("period", "store"),
    ),
    "purchases.product_count": ("product!", "period"),
    "purchases.product_amount": ("product!", "period"),
    "purchases.category_count": ("category!", "period"),
    "purchases.category_amount": ("category!", "period"),
    "events.count": ("event!", "period", "context"),
    "events.days_since_last": ("event!", "context"),
    "web.visits": ("period", "source"),
    "web.product_views": ("product", "period", "source"),
    "web.category_views": ("category", "period", "source"),
    "web.section_views": ("section", "period", "source"),
    "containers.items": ("container!",),
    "containers.has_product": ("container!", "product!"),
    "containers.has_category": ("container!", "category!"),
    "containers.days_since_change": ("container!",),
    "contacts.subscribed": ("mailing_category!", "channel!"),
    "audiences.member": ("audience!",),
    "segments.member": ("segment!",),
    "communications.received": ("mailing!",),
    "communications.opened": ("mailing!",),
    "communications.clicked": ("mailing!",),
    "communications.count": ("channel", "period"),
    "communications.days_since_last": ("channel",),
    "communications.control_group": ("mailing!",),
    "campaigns.received": ("campaign", "period"),
    "campaigns.opened": ("campaign", "period"),
    "campaigns.clicked": ("campaign", "period"),
    "campaigns.entered": ("campaign", "period"),
    "campaigns.in_progress": ("campaign",),
    "promocodes.issued_count": ("group", "period"),
    "promocodes.issued_from_group": ("group!", "period"),
    "promocodes.redeemed": ("group", "period"),
    "polls.took": ("poll!", "period"),
    "polls.chose": ("poll!", "question!", "row", "options!", "period"),
    "orders.count": ("period",),
    "orders.amount": ("period",),
    "orders.general_status": ("status!", "period"),
    "orders.delivery_status": ("status!", "period"),
    "orders.payment_status": ("status!", "period"),
    "orders.product_count": ("product!", "period"),
    "orders.category_count": ("category!", "period"),
    "bonuses.expiring": ("days!",),
}
# A question of the data sets' polls with its options, and the matrix rows (none for other questions).
POLL_CHOICES = (
    ("q1", ("a1", "a2"), ()),
    ("q2", ("b1", "b2", "b3"), ()),
    ("q3", ("m1", "m2"), ("r1", "r2")),
)
ALL_KEYS = sorted([*METRICS, *(f"custom.{code}" for code in CUSTOM_FIELDS)])
STEPS = {INTEGER: Decimal(1), MONEY: Decimal("0.01"), "": Decimal("0.05")}


class Chooser(Protocol):
    def pick(self, options: Sequence[Any]) -> Any: ...

    def integer(self, low: int, high: int) -> int: ...


class HypothesisChooser:
    """Choices drawn by hypothesis (`st.data()`), so a failing example can be replayed."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def pick(self, options: Sequence[Any]) -> Any:
        return self.data.draw(st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return int(self.data.draw(st.integers(low, high)))


class RandomChooser:
    """Choices from a seeded generator, for sweeps over every metric and operator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class RuleDrawer:
    """Draws conditions and trees over a data set; values come from what the oracle sees in the data."""

    def __init__(self, chooser: Chooser, dataset: DataSet, oracle: Oracle) -> None:
        self.chooser = chooser
        self.dataset = dataset
        self.oracle = oracle

    def pick(self, options: Any) -> Any:
        return self.chooser.pick(list(options))

    def integer(self, low: int, high: int) -> int:
        return self.chooser.integer(low, high)

    def boolean(self) -> bool:
        return bool(self.pick((False, True)))

    # ---- trees

    def rules(self) -> SegmentRules:
        return SegmentRules.model_validate({"version": 1, "root": self.group(1)})

    def group(self, depth: int) -> dict[str, Any]:
        children = [self.node(depth) for _ in range(self.integer(0, 3))]
        return {
            "type": "group",
            "op": self.pick(("and", "or")),
            "negate": self.boolean(),
            "children": children,
        }

    def node(self, depth: int) -> dict[str, Any]:
        if depth < 3 and self.integer(0, 3) == 0:
            return self.group(depth + 1)
        return self.condition()

    # ---- conditions

    def condition(self, key: str | None = None, operator: str | None = None) -> dict[str, Any]:
        key = key or self.pick(ALL_KEYS)
        metric = self.oracle.metric(key)
        params = self.params(key)
        operator = operator or self.pick(OPERATORS[metric.kind])
        condition: dict[str, Any] = {
            "metric": key,
            "operator": operator,
            "params": params,
            "negate": self.boolean(),
        }
        if operator not in VALUELESS:
            # In id order: the same data set must offer the same values on every replay of an example.
            actual = [self.oracle.value(key, params, cid) for cid in sorted(self.oracle.facts.customers)]
            condition["value"] = self.value(
                metric.kind, metric.parse, operator, [a for a in actual if a is not None]
            )
        return condition

    def params(self, key: str) -> dict[str, Any]:
        if key == "polls.chose":
            return self.poll_choice()
        params: dict[str, Any] = {}
        for spec in PARAMS.get(key, ()):
            name = spec.rstrip("!")
            if spec.endswith("!") or self.boolean():
                params[name if name != "mailing_category" else "category"] = self.param(name)
        return params

    def param(self, name: str) -> Any:
        ds = self.dataset
        pickers = {
            "period": self.period,
            "store": lambda: self.pick(ds.store_ids),
            "product": lambda: self.pick([*ds.product_ids.values(), *ds.product_ids]),
            "category": lambda: self.pick(ds.category_ids.values()),
            "event": lambda: self.pick(EVENT_NAMES),
            "context": self.context,
            "source": lambda: self.pick([*ds.source_codes.values(), *ds.source_codes]),
            "section": lambda: self.pick(SECTIONS),
            "container": lambda: self.pick([*ds.container_codes.values(), *ds.container_codes]),
            "mailing_category": lambda: self.pick([*ds.mailing_codes.values(), *ds.mailing_codes]),
            "channel": lambda: self.pick(("email", "sms", "viber", "push")),
            "audience": lambda: self.pick(ds.audience_ids),
            "segment": lambda: self.pick(ds.segment_ids),
            "mailing": lambda: self.pick([*ds.mailing_ids, str(ds.mailing_ids[0])]),
            "campaign": lambda: self.pick([*ds.campaign_ids, str(ds.campaign_ids[0])]),
            "group": lambda: self.pick([*ds.promo_polls.groups, *ds.promo_polls.groups.values()]),
            "poll": lambda: self.pick([*ds.promo_polls.polls, *ds.promo_polls.polls.values()]),
            "status": self.status_codes,
            "days": lambda: self.pick((0, 1, "3", 7, " 8", 30, 400)),
        }
        return pickers[name]()

    def status_codes(self) -> Any:
        """One or two order status codes, as a list or as text with a comma."""
        codes = sorted({self.pick(STATUS_CODES) for _ in range(self.integer(1, 2))})
        return codes if self.boolean() else ",".join(codes)

    def poll_choice(self) -> dict[str, Any]:
        """A question of one poll, a row when it is a matrix (sometimes), and some of its options."""
        question, options, rows = self.pick(POLL_CHOICES)
        chosen = sorted({self.pick(options) for _ in range(self.integer(1, 2))})
        params: dict[str, Any] = {
            "poll": self.param("poll"),
            "question": question,
            "options": chosen if self.boolean() else ",".join(chosen),
        }
        if rows and self.boolean():
            params["row"] = self.pick(rows)
        if self.boolean():
            params["period"] = self.period()
        return params

    def period(self) -> dict[str, Any]:
        kind = self.pick(("all", "last", "last", "between"))
        if kind == "all":
            return {"kind": "all"}
        if kind == "last":
            unit = self.pick(("days", "months"))
            n = self.pick((1, 2, 7, 30, 90, 365, 400) if unit == "days" else (1, 2, 3, 12, 13))
            return {"kind": "last", "n": n, "unit": unit}
        start, end = sorted(self.near_today(400) for _ in range(2))
        return {"kind": "between", "start": start.isoformat(), "end": end.isoformat()}

    def near_today(self, span: int) -> date:
        return self.dataset.today + timedelta(days=self.integer(-span, span))

    def context(self) -> Any:
        pairs = self.dataset.contexts or [("topic", "Delivery")]
        chosen = [self.pick(pairs) for _ in range(self.integer(1, 2))]
        filters = [{"key": key, "value": self.recase(str(value))} for key, value in chosen]
        return filters[0] if len(filters) == 1 and self.boolean() else filters

    # ---- values

    def value(self, kind: str, parse: str, operator: str, actual: list[Any]) -> Any:
        if kind == NUMBER:
            return self.numbers(parse, operator, actual)
        if kind in (DATE, DATETIME):
            days = [self.oracle.day_of(a) if kind == DATETIME else a for a in actual]
            return self.dates(operator, days)
        if kind == CHOICE:
            return self.pick((["m"], ["f"], ["m", "f"], ["f", "m"]))
        assert kind == TEXT
        return self.texts(operator, [str(a) for a in actual])

    def numbers(self, parse: str, operator: str, actual: list[Any]) -> Any:
        if operator == "between":
            return [self.number(parse, actual) for _ in range(2)]
        return self.number(parse, actual)

    def number(self, parse: str, actual: list[Any]) -> Any:
        step = STEPS[parse]
        if actual and self.integer(0, 4) > 0:
            base = Decimal(self.pick(actual)) + step * self.integer(-1, 1)
        else:
            base = Decimal(self.integer(-1, 5))
        if parse == INTEGER:
            return int(base)
        if parse == MONEY:
            return str(base.quantize(Decimal("0.01")))
        return self.pick((str(base), float(base)))

    def dates(self, operator: str, days: list[date]) -> Any:
        if operator in ("in_last", "not_in_last"):
            unit = self.pick(("days", "months"))
            if unit == "days" and days and self.boolean():
                n = (self.dataset.today - self.pick(days)).days + 1 + self.integer(-1, 1)
            else:
                n = self.integer(1, 400 if unit == "days" else 14)
            return {"n": max(n, 1), "unit": unit}
        if operator == "between":
            return [self.day(days).isoformat() for _ in range(2)]
        return self.day(days).isoformat()

    def day(self, days: list[date]) -> date:
        if days and self.integer(0, 3) > 0:
            return self.pick(days) + timedelta(days=self.integer(-1, 1))
        return self.near_today(30)

    def texts(self, operator: str, actual: list[str]) -> Any:
        if operator in ("in", "not_in"):
            return [self.text(actual) for _ in range(self.integer(1, 3))]
        value = self.text(actual)
        if operator in ("contains", "not_contains", "starts_with") and len(value) > 1:
            start = 0 if operator == "starts_with" else self.integer(0, len(value) - 1)
            end = self.integer(start + 1, len(value))
            value = value[start:end]
        return value

    def text(self, actual: list[str]) -> str:
        if actual and self.integer(0, 3) > 0:
            return self.recase(self.pick(actual))
        return self.pick((*NAMES, "%", "_", "Moscow", "x"))

    def recase(self, text: str) -> str:
        return self.pick((text, text.lower(), text.upper()))
